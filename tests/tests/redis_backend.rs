//! `#[ttl_cache]` on a real `redis-server` (started per test on a free loopback
//! port): keys, TTLs, hits, clear, corrupt values, fail-open and reconnect.
#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;

use cache_core::ttl_cache;
use cache_redis::RedisBackend;
use cache_tests::redis_server::{RedisServer, free_port};
use cache_tests::wait_until;

static URL: OnceLock<String> = OnceLock::new();
static REDIS: LazyLock<Arc<RedisBackend>> = LazyLock::new(|| {
    Arc::new(
        RedisBackend::builder(URL.get().expect("test sets URL first").clone())
            .prefix("t")
            .op_timeout(Duration::from_millis(500))
            .breaker_threshold(3)
            .breaker_cooldown(Duration::from_millis(50))
            .build()
            .expect("valid URL"),
    )
});

fn server() -> Option<RedisServer> {
    let server = RedisServer::start()?;
    URL.set(server.url()).expect("one server per test process");
    Some(server)
}

static CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(ttl = 30, backend = REDIS.clone())]
fn square(x: u64) -> u64 {
    CALLS.fetch_add(1, Ordering::SeqCst);
    x * x
}

fn keys(server: &RedisServer, pattern: &str) -> Vec<String> {
    let reply = server.command(&format!("KEYS {pattern}"));
    reply
        .lines()
        .filter(|line| !line.starts_with('*') && !line.starts_with('$'))
        .map(str::to_owned)
        .collect()
}

/// Two calls: one miss then a hit read from Redis; the key has the documented
/// shape and a millisecond TTL within the cache's (R14); clear empties it.
#[test]
fn sync_calls_hit_redis_with_px_ttl_and_clear() {
    let Some(server) = server() else { return };
    assert_eq!(square(7), 49);
    assert_eq!(square(7), 49);
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    let info = square::cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
    assert_eq!(info.backend_errors, 0);
    let stored = keys(&server, "t:*");
    assert_eq!(stored.len(), 1, "{stored:?}");
    let key = &stored[0];
    let prefix = "t:redis_backend::square:v0000000000:";
    assert!(key.starts_with(prefix), "{key}");
    assert_eq!(key.len(), prefix.len() + 64);
    let pttl: i64 = server
        .command(&format!("PTTL {key}"))
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap();
    assert!(pttl > 0 && pttl <= 30_000, "PTTL {pttl}");
    assert!(server.command(&format!("GET {key}")).contains("TTLC"));
    square::cache_clear();
    assert_eq!(square::cache_info().current_size, 0);
    assert!(keys(&server, "t:*").is_empty());
    assert_eq!(square(7), 49);
    assert_eq!(CALLS.load(Ordering::SeqCst), 2);
}

static ASYNC_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(ttl = 30, backend = REDIS.clone())]
async fn label(x: u64) -> Result<String, String> {
    ASYNC_CALLS.fetch_add(1, Ordering::SeqCst);
    if x == 0 {
        return Err("zero".into());
    }
    Ok(format!("label-{x}"))
}

/// The async path uses the multiplexed connection: a hit after a miss, errors
/// never stored, clear and size from async code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_calls_hit_redis_and_never_store_errors() {
    let Some(_server) = server() else { return };
    assert_eq!(label(3).await.unwrap(), "label-3");
    assert_eq!(label(3).await.unwrap(), "label-3");
    assert!(label(0).await.is_err());
    assert!(label(0).await.is_err());
    assert_eq!(ASYNC_CALLS.load(Ordering::SeqCst), 3);
    let info = label::cache_info();
    assert_eq!(
        (info.hits, info.current_size, info.backend_errors),
        (1, 1, 0)
    );
    label::cache_clear();
    assert_eq!(label::cache_info().current_size, 0);
}

#[ttl_cache(identifier = "ns", backend = REDIS.clone())]
fn in_ns(x: u64) -> u64 {
    x
}

#[ttl_cache(identifier = "ns2", backend = REDIS.clone())]
fn in_ns2(x: u64) -> u64 {
    x
}

#[ttl_cache(identifier = "n*", backend = REDIS.clone())]
fn in_glob(x: u64) -> u64 {
    x
}

#[ttl_cache(identifier = "n?[s]", backend = REDIS.clone())]
fn in_glob2(x: u64) -> u64 {
    x
}

/// `cache_clear` removes every key of its cache, over many SCAN batches, and
/// none of caches whose identity it prefixes or glob-matches.
#[test]
fn clear_removes_all_of_one_namespace_and_nothing_else() {
    let Some(server) = server() else { return };
    for x in 0..2_500 {
        in_ns(x);
    }
    for x in 0..10 {
        in_ns2(x);
        in_glob(x);
        in_glob2(x);
    }
    assert_eq!(in_ns::cache_info().current_size, 2_500);
    in_glob::cache_clear();
    in_glob2::cache_clear();
    assert_eq!(in_ns::cache_info().current_size, 2_500);
    assert_eq!(in_ns2::cache_info().current_size, 10);
    assert_eq!(in_glob::cache_info().current_size, 0);
    in_ns::cache_clear();
    assert_eq!(in_ns::cache_info().current_size, 0);
    assert_eq!(in_ns2::cache_info().current_size, 10);
    assert_eq!(keys(&server, "t:ns:*").len(), 0);
}

static CORRUPT_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(backend = REDIS.clone())]
fn corruptible(x: u64) -> u64 {
    CORRUPT_CALLS.fetch_add(1, Ordering::SeqCst);
    x + 1
}

/// A corrupt stored value is a counted miss: the body runs, the value is
/// returned and overwritten, and the next call hits (R10).
#[test]
fn corrupt_values_are_counted_misses_and_overwritten() {
    let Some(server) = server() else { return };
    assert_eq!(corruptible(1), 2);
    let key = keys(&server, "t:*").pop().unwrap();
    for garbage in ["garbage", "TTLC", "\"\""] {
        assert!(
            server
                .command(&format!("SET {key} {garbage}"))
                .starts_with("+OK")
        );
        assert_eq!(corruptible(1), 2);
    }
    assert_eq!(corruptible(1), 2);
    let info = corruptible::cache_info();
    assert_eq!(info.decode_errors, 3);
    assert_eq!(CORRUPT_CALLS.load(Ordering::SeqCst), 4);
    assert_eq!(info.hits, 1);
}

static OUTAGE_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(backend = REDIS.clone())]
fn during_outage(x: u64) -> u64 {
    OUTAGE_CALLS.fetch_add(1, Ordering::SeqCst);
    x * 3
}

/// Fail-open: with the server killed every call still returns its value and
/// counts a backend error; after a restart on the same port the backend
/// reconnects and hits again (R7, R8).
#[test]
fn killed_server_fails_open_and_restart_reconnects() {
    let Some(server) = server() else { return };
    let port = server.port();
    assert_eq!(during_outage(2), 6);
    server.kill();
    for _ in 0..10 {
        assert_eq!(during_outage(2), 6);
    }
    let info = during_outage::cache_info();
    assert!(info.backend_errors >= 10, "{info:?}");
    assert_eq!(OUTAGE_CALLS.load(Ordering::SeqCst), 11);
    let restarted = RedisServer::start_on(port);
    assert!(
        wait_until(|| {
            during_outage(5);
            keys(&restarted, "t:*").len() == 1
        }),
        "the backend never wrote to the restarted server"
    );
    let before = during_outage::cache_info().hits;
    during_outage(5);
    assert_eq!(during_outage::cache_info().hits, before + 1);
}

/// The backend is built while nothing listens (lazy connect): calls fail open,
/// and once a server appears on that port the cache works.
#[test]
fn backend_starts_while_redis_is_down() {
    if RedisServer::start().is_none() {
        return;
    }
    let port = free_port();
    URL.set(format!("redis://127.0.0.1:{port}/")).unwrap();
    assert_eq!(during_outage(4), 12);
    assert!(during_outage::cache_info().backend_errors >= 1);
    let server = RedisServer::start_on(port);
    assert!(wait_until(|| {
        during_outage(4);
        keys(&server, "t:*").len() == 1
    }));
}
