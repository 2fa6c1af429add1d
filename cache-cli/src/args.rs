//! The command line, parsed by clap's derive.

use std::time::Duration;

use cache_redis::{RedisBackend, RedisBackendBuilder};
use clap::{Args, Parser, Subcommand};

use crate::error::CliError;

/// The environment variable read when `--url` is not given (a password then
/// stays out of the shell history and the process list).
pub const URL_ENV: &str = "CACHE_REDIS_URL";

/// List, inspect and clear the Redis-backed caches of `#[ttl_cache]`
/// (stored by cache-redis's `RedisBackend`).
#[derive(Debug, Parser)]
#[command(name = "cache-cli", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every cache under the prefix: its entries, their memory and the
    /// versions present.
    List(ListArgs),
    /// The keys of one cache's stored results (the first `--limit`, in key
    /// order), to pass to `inspect`.
    Keys(KeysArgs),
    /// One stored result (or any string key): its TTL, its size and its
    /// memory.
    Inspect(InspectArgs),
    /// Deletes one cache's stored results (of one version, or of all) and
    /// tells every local tier to drop its copies, as `cache_clear` does.
    Clear(ClearArgs),
}

/// Where the caches are, and how to answer: the options of every subcommand.
#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// Redis URL: `redis://[user[:password]@]host[:port][/db]`,
    /// `rediss://...` (TLS, with the `tls` feature) or
    /// `redis+unix:///path/to/redis.sock`; with `--cluster`, a node of the
    /// cluster (repeat for more seed nodes).
    #[arg(
        long = "url",
        value_name = "URL",
        env = URL_ENV,
        hide_env_values = true,
        required = true
    )]
    pub urls: Vec<String>,
    /// The URLs name nodes of a Redis Cluster (every master is scanned).
    #[arg(long)]
    pub cluster: bool,
    /// The key prefix of the caches: exactly what the application's backend
    /// was built with (`RedisBackendBuilder::prefix`; `cache` when it set
    /// none). Under another prefix nothing is found.
    #[arg(long, default_value = "cache")]
    pub prefix: String,
    /// The time budget of each round trip to Redis (`500ms`, `5s`, ...).
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Prints JSON on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// Trusts the certificate authority in this PEM file for `rediss://`
    /// URLs (instead of the system's trust store).
    #[cfg(feature = "tls")]
    #[arg(long, value_name = "PEM")]
    pub tls_root_cert: Option<std::path::PathBuf>,
}

impl Connection {
    /// The backend these options describe. It validates the URLs; it does
    /// not connect (the first command does).
    ///
    /// # Errors
    ///
    /// [`CliError::SeveralUrls`] for several URLs without `--cluster`,
    /// [`CliError::BadUrl`] for a URL that is not a Redis URL (shown with
    /// its password as `***`).
    pub fn backend(&self) -> Result<RedisBackend, CliError> {
        for url in &self.urls {
            check_url(url)?;
        }
        let builder = if self.cluster {
            RedisBackend::cluster(self.urls.iter().cloned())
        } else {
            match self.urls.as_slice() {
                [url] => RedisBackend::builder(url.clone()),
                urls => return Err(CliError::SeveralUrls { count: urls.len() }),
            }
        };
        self.finish(builder)
    }

    /// A backend on one node of the cluster, `host:port` (a master named by
    /// `CLUSTER SLOTS`), with the first URL's scheme, credentials and
    /// database: the way to `SCAN` that node alone.
    ///
    /// # Errors
    ///
    /// [`CliError::BadUrl`] when the first URL cannot take that host.
    pub fn node_backend(&self, host: &str, port: u16) -> Result<RedisBackend, CliError> {
        let seed = self.urls.first().map(String::as_str).unwrap_or_default();
        let bad = |reason: &str| CliError::BadUrl {
            url: cache_redis::redact_url(seed),
            reason: Some(format!(
                "cannot address the cluster node {host}:{port}: {reason}"
            )),
        };
        let mut url = redis::parse_redis_url(seed).ok_or_else(|| bad("not a Redis URL"))?;
        // An IPv6 address goes in brackets.
        let host_text = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        url.set_host(Some(&host_text))
            .map_err(|error| bad(&error.to_string()))?;
        url.set_port(Some(port))
            .map_err(|()| bad("the URL takes no port"))?;
        self.finish(RedisBackend::builder(url.to_string()))
    }

    /// `builder` with this connection's TLS root, prefix and time budget.
    fn finish(&self, builder: RedisBackendBuilder) -> Result<RedisBackend, CliError> {
        let builder = self.with_tls(builder)?;
        Ok(builder
            .prefix(self.prefix.clone())
            .op_timeout(self.timeout)
            .build()?)
    }

    /// The server (or the first node) as it may be shown: its password as `***`.
    pub fn display_url(&self) -> String {
        self.urls
            .first()
            .map(|url| cache_redis::redact_url(url))
            .unwrap_or_default()
    }

    /// `error` of this connection's server, as a [`CliError::Redis`].
    pub fn redis_error(&self, error: cache_core::BackendError) -> CliError {
        CliError::Redis {
            url: self.display_url(),
            source: error,
        }
    }

    #[cfg(feature = "tls")]
    fn with_tls(&self, builder: RedisBackendBuilder) -> Result<RedisBackendBuilder, CliError> {
        let Some(path) = &self.tls_root_cert else {
            return Ok(builder);
        };
        let pem = std::fs::read(path).map_err(|source| CliError::TlsRootCert {
            path: path.clone(),
            source,
        })?;
        Ok(builder.tls_root_cert(pem))
    }

    #[cfg(not(feature = "tls"))]
    #[allow(
        clippy::unnecessary_wraps,
        reason = "the same signature as with the `tls` feature"
    )]
    fn with_tls(&self, builder: RedisBackendBuilder) -> Result<RedisBackendBuilder, CliError> {
        Ok(builder)
    }
}

/// What a URL must look like, for the message of [`CliError::BadUrl`].
pub const URL_FORMS: &str = if cfg!(feature = "tls") {
    "redis://[user[:password]@]host[:port][/db], \
     rediss://[user[:password]@]host[:port][/db] (TLS) or \
     redis+unix:///path/to/redis.sock[?db=N]; \
     a Redis Cluster takes --cluster and one --url per seed node"
} else {
    "redis://[user[:password]@]host[:port][/db] or \
     redis+unix:///path/to/redis.sock[?db=N] \
     (rediss:// needs cache-cli built with the `tls` feature); \
     a Redis Cluster takes --cluster and one --url per seed node"
};

/// `url` parsed as the backend will parse it, or [`CliError::BadUrl`]
/// naming it (password as `***`) and what was expected.
fn check_url(url: &str) -> Result<(), CliError> {
    let Err(error) = redis::IntoConnectionInfo::into_connection_info(url) else {
        return Ok(());
    };
    // redis's text is `<what> - InvalidClientConfig`; "did not parse" says
    // nothing that the message does not.
    let text = error.to_string();
    let what = text.split(" - ").next().unwrap_or_default();
    // (Its texts name no part of the URL: the password cannot show.)
    let reason = (!what.is_empty() && what != "Redis URL did not parse").then(|| what.to_owned());
    Err(CliError::BadUrl {
        url: cache_redis::redact_url(url),
        reason,
    })
}

/// `cache-cli list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Where the caches are.
    #[command(flatten)]
    pub connection: Connection,
    /// How many keys of each cache get a `MEMORY USAGE` round trip: `all`,
    /// or a number (0: none). Past it, the cache's memory is estimated from
    /// the keys measured and shown as sampled.
    #[arg(long, value_name = "N|all", default_value = "1000", value_parser = parse_memory_keys)]
    pub memory_keys: MemoryKeys,
}

/// How many keys of a cache `list` measures (`--memory-keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryKeys {
    /// Every key: the memory is the exact sum.
    All,
    /// At most this many keys per cache.
    AtMost(u64),
}

impl MemoryKeys {
    /// Whether a cache of which `measured` keys were measured gets one more.
    pub fn allows(self, measured: u64) -> bool {
        match self {
            Self::All => true,
            Self::AtMost(limit) => measured < limit,
        }
    }
}

fn parse_memory_keys(text: &str) -> Result<MemoryKeys, String> {
    if text.eq_ignore_ascii_case("all") {
        return Ok(MemoryKeys::All);
    }
    text.parse()
        .map(MemoryKeys::AtMost)
        .map_err(|_| format!("expected a number of keys or `all`, got `{text}`"))
}

/// `cache-cli inspect`: a key, or an identity and a digest.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Where the caches are.
    #[command(flatten)]
    pub connection: Connection,
    /// The key, `<prefix>:<identity>:v<version, 10 digits>:<digest>`.
    #[arg(
        required_unless_present = "identity",
        conflicts_with_all = ["identity", "digest", "cache_version"]
    )]
    pub key: Option<String>,
    /// The cache's identity (`module::function`, or its `identifier`), with
    /// `--digest` instead of KEY.
    #[arg(long, requires = "digest")]
    pub identity: Option<String>,
    /// The call's digest: 64 hex digits (the key's last part).
    #[arg(long, requires = "identity", value_parser = parse_digest)]
    pub digest: Option<cache_core::Digest>,
    /// The cache's version (`#[ttl_cache(version = N)]`), with
    /// `--identity` (default 0).
    #[arg(long = "cache-version", value_name = "N", requires = "identity")]
    pub cache_version: Option<u32>,
}

fn parse_digest(text: &str) -> Result<cache_core::Digest, String> {
    blake3::Hash::from_hex(text)
        .map(|hash| cache_core::Digest(*hash.as_bytes()))
        .map_err(|_| format!("expected 64 hex digits, got `{text}`"))
}

/// `cache-cli clear`.
#[derive(Debug, Args)]
pub struct ClearArgs {
    /// Where the caches are.
    #[command(flatten)]
    pub connection: Connection,
    /// The cache's identity (`module::function`, or its `identifier`),
    /// exactly: `ns` never clears `ns2`, nor `a::f` `a::f::g`.
    pub identity: String,
    /// Clears only the results stored under this cache version
    /// (`#[ttl_cache(version = N)]`).
    #[arg(long = "cache-version", value_name = "N")]
    pub cache_version: Option<u32>,
}

/// `cache-cli keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// Where the caches are.
    #[command(flatten)]
    pub connection: Connection,
    /// The cache's identity (`module::function`, or its `identifier`),
    /// exactly, as `list` shows it.
    pub identity: String,
    /// Only the results stored under this cache version
    /// (`#[ttl_cache(version = N)]`).
    #[arg(long = "cache-version", value_name = "N")]
    pub cache_version: Option<u32>,
    /// How many keys to print at most (the first in key order: lowest
    /// version first); every key is counted.
    #[arg(long, value_name = "N", default_value = "20")]
    pub limit: usize,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn memory_keys_accept_all_or_a_number() {
        assert_eq!(parse_memory_keys("all"), Ok(MemoryKeys::All));
        assert_eq!(parse_memory_keys("12"), Ok(MemoryKeys::AtMost(12)));
        assert!(parse_memory_keys("-1").is_err());
        assert!(MemoryKeys::AtMost(2).allows(1));
        assert!(!MemoryKeys::AtMost(2).allows(2));
        assert!(!MemoryKeys::AtMost(0).allows(0));
    }
}
