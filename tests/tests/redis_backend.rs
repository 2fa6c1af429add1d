//! `#[ttl_cache]` on a real `redis-server` (started per test on a free loopback
//! port, persistence off): the whole Redis suite of `redis_suite/`, plus what
//! only a single server has (database indexes, TLS).
#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used)]

use cache_redis::{RedisBackend, RedisBackendBuilder};
use cache_tests::redis_server::Topology;

const TOPOLOGY: Topology = Topology::Single;

fn builder(urls: &[String]) -> RedisBackendBuilder {
    assert_eq!(urls.len(), 1, "a single server has one URL: {urls:?}");
    RedisBackend::builder(urls[0].clone())
}

#[path = "redis_suite/mod.rs"]
mod suite;

mod single_only {
    use cache_core::ttl_cache;
    use cache_tests::redis_server::RedisServer;

    use super::suite::{REDIS, URLS, clean, counts};

    #[ttl_cache(ttl = 60, backend = REDIS.clone())]
    fn in_db3(x: u64) -> u64 {
        x + 3
    }

    /// The URL's database index is the one used: keys land in db 3, and size
    /// and clear look there.
    #[test]
    fn url_database_index_is_used() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        URLS.set(vec![format!("redis://127.0.0.1:{}/3", server.port())])
            .unwrap();
        assert_eq!(in_db3(1), 4);
        assert_eq!(in_db3(1), 4);
        assert_eq!(counts(in_db3::cache_info()), clean(1, 1, 1, 1));
        let dbsize = |db: &str| {
            let mut conn = server.connect();
            conn.call(&["SELECT", db]).unwrap().expect_ok();
            conn.call(&["DBSIZE"]).unwrap().int()
        };
        assert_eq!((dbsize("0"), dbsize("3")), (0, 1));
        in_db3::cache_clear();
        assert_eq!((dbsize("0"), dbsize("3")), (0, 0));
    }
}

/// `rediss://` to a TLS-only `redis-server` whose certificate is signed by a
/// private CA made here with the `openssl` CLI (R18: TLS where the local server
/// supports it). Built with `--features tls`.
#[cfg(feature = "tls")]
mod tls {
    use std::path::Path;
    use std::process::Command;
    use std::sync::{Arc, LazyLock, OnceLock};
    use std::time::Duration;

    use cache_core::ttl_cache;
    use cache_redis::RedisBackend;
    use cache_tests::redis_server::{RedisServer, TempDir, redis_available};

    use super::suite::{clean, counts};

    /// The server's URL and the CA certificate (PEM).
    static TLS: OnceLock<(String, Vec<u8>)> = OnceLock::new();

    static TRUSTING: LazyLock<Arc<RedisBackend>> = LazyLock::new(|| {
        let (url, ca) = TLS.get().expect("the test sets TLS first");
        Arc::new(
            RedisBackend::builder(url.clone())
                .tls_root_cert(ca.clone())
                .prefix("t")
                .op_timeout(Duration::from_secs(2))
                .build()
                .expect("valid URL"),
        )
    });

    /// The same server without the private CA: the certificate is not trusted.
    static UNTRUSTING: LazyLock<Arc<RedisBackend>> = LazyLock::new(|| {
        let (url, _) = TLS.get().expect("the test sets TLS first");
        Arc::new(
            RedisBackend::builder(url.clone())
                .prefix("t")
                .op_timeout(Duration::from_secs(2))
                .build()
                .expect("valid URL"),
        )
    });

    #[ttl_cache(ttl = 60, backend = TRUSTING.clone())]
    fn over_tls(x: u64) -> u64 {
        x + 10
    }

    #[ttl_cache(ttl = 60, backend = UNTRUSTING.clone())]
    fn over_untrusted_tls(x: u64) -> u64 {
        x + 20
    }

    fn openssl(dir: &Path, args: &[&str]) {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// A CA, and a server certificate for IP 127.0.0.1 signed by it.
    fn make_certificates(dir: &Path) {
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
        let mut ca = vec!["req", "-x509", "-nodes", "-days", "2"];
        ca.extend(ec);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/CN=cache-tests CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(dir, &ca);
        let mut csr = vec!["req", "-new", "-nodes"];
        csr.extend(ec);
        csr.extend([
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]);
        openssl(dir, &csr);
        std::fs::write(
            dir.join("server.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
        )
        .unwrap();
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-out",
                "server.crt",
                "-extfile",
                "server.ext",
            ],
        );
    }

    /// With the private CA trusted, the cache works over TLS (hit after miss,
    /// size, clear); without it the handshake fails and calls fail open.
    #[test]
    fn rediss_with_a_private_ca() {
        if !redis_available(false) {
            return;
        }
        if Command::new("openssl").arg("version").output().is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but the openssl CLI is missing"
            );
            eprintln!("SKIPPED: no openssl CLI");
            return;
        }
        let dir = TempDir::new("tls");
        make_certificates(dir.path());
        let file = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
        let server = RedisServer::start_tls(&[
            "--tls-cert-file",
            &file("server.crt"),
            "--tls-key-file",
            &file("server.key"),
            "--tls-ca-cert-file",
            &file("ca.crt"),
            "--tls-auth-clients",
            "no",
        ])
        .expect("redis-server is installed");
        let ca = std::fs::read(dir.path().join("ca.crt")).unwrap();
        TLS.set((format!("rediss://127.0.0.1:{}/", server.port()), ca))
            .unwrap();

        assert_eq!(over_tls(1), 11);
        assert_eq!(over_tls(1), 11);
        assert_eq!(counts(over_tls::cache_info()), clean(1, 1, 1, 1));
        over_tls::cache_clear();
        assert_eq!(counts(over_tls::cache_info()), clean(0, 0, 0, 0));

        assert_eq!(over_untrusted_tls(1), 21);
        assert_eq!(over_untrusted_tls(1), 21);
        let info = over_untrusted_tls::cache_info();
        assert_eq!((info.hits, info.computations), (0, 2));
        assert!(info.backend_errors >= 2, "{info:?}");
        cache_tests::figures::record(
            "R18",
            "redis_backend::tls::rediss_with_a_private_ca",
            serde_json::json!({
                "trusted_ca_hits": 1,
                "untrusted_ca_backend_errors": info.backend_errors,
                "untrusted_ca_hits": info.hits,
            }),
        );
    }
}
