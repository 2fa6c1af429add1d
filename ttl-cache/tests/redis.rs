//! `ttl_cache::redis` (feature `redis`): a Redis-backed `#[ttl_cache]` function
//! on a private `redis-server` (a free loopback port, persistence off), written
//! with `ttl_cache::` paths only.
#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use cache_tests::redis_server::RedisServer;
use ttl_cache::redis::RedisBackend;
use ttl_cache::ttl_cache;

/// The server's URL, set by the test before the backend is first used.
static URL: OnceLock<String> = OnceLock::new();

static REDIS: LazyLock<RedisBackend> = LazyLock::new(|| {
    RedisBackend::builder(URL.get().expect("the test sets URL first").clone())
        .prefix("facade")
        .op_timeout(Duration::from_secs(2))
        .build()
        .expect("a valid URL")
});

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Profile {
    id: u64,
    name: String,
}

#[ttl_cache(ttl = 60, backend = REDIS.clone())]
fn profile(id: u64) -> Profile {
    RUNS.fetch_add(1, Ordering::SeqCst);
    Profile {
        id,
        name: format!("user {id}"),
    }
}

#[test]
fn redis_backed_fn_stores_in_the_server() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    URL.set(server.url()).unwrap();
    let expected = Profile {
        id: 7,
        name: "user 7".to_owned(),
    };
    assert_eq!(profile(7), expected);
    assert_eq!(profile(7), expected);
    assert_eq!(RUNS.load(Ordering::SeqCst), 1, "the second call is a hit");

    // The value lives in the server, under the backend's prefix, with the TTL.
    let keys = server.exec(&["KEYS", "facade:*"]).strings();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let pttl = server.exec(&["PTTL", keys[0].as_str()]).int();
    assert!((1..=60_000).contains(&pttl), "PTTL {pttl}");
    let info = profile::cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
    assert_eq!(profile::cache_parameters().backend, "redis");

    // Clearing deletes it from the server; the next call computes again.
    profile::cache_clear();
    assert_eq!(server.exec(&["DBSIZE"]).int(), 0);
    assert_eq!(profile(7), expected);
    assert_eq!(RUNS.load(Ordering::SeqCst), 2);
    assert_eq!(server.exec(&["DBSIZE"]).int(), 1);

    // A RedisMap's pipeline helpers take a `redis::Pipeline`: the facade
    // re-exports the redis crate, so no `redis` dependency of one's own (this
    // crate has none) is needed to build one of the matching version.
    use ttl_cache::redis::{RedisMap, redis};
    let names: RedisMap<u64, String> = RedisMap::new(&REDIS, "names");
    let mut pipe = redis::pipe();
    names.add_set(&mut pipe, &1, &"ada".to_owned()).unwrap();
    names.add_get(&mut pipe, &1);
    let mut conn = redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let replies: Vec<redis::Value> = pipe.query(&mut conn).unwrap();
    assert_eq!(
        names.decode(&1, &replies[1]).unwrap(),
        Some("ada".to_owned())
    );
    assert_eq!(names.get(&1).unwrap(), Some("ada".to_owned()));
}
