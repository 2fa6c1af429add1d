//! The facade as a user who depends on `ttl-cache` alone sees it: every path
//! here starts with `ttl_cache::`. This package depends on cache-core under
//! another name (`runtime`), so `::cache_core` does not resolve here: these
//! tests compile only because the macros take the runtime crate's path from
//! the caller's manifest (`::ttl_cache` here) instead of naming `::cache_core`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ttl_cache::{Cache, PersistentHash, persistent_digest, ttl_cache};

/// (hits, misses, computations, current size) of a cache.
fn counts(info: ttl_cache::CacheInfo) -> (u64, u64, u64, u64) {
    (info.hits, info.misses, info.computations, info.current_size)
}

static SQUARE_RUNS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(ttl = 30, max_entries = 100)]
fn square(x: u64) -> u64 {
    SQUARE_RUNS.fetch_add(1, Ordering::SeqCst);
    x * x
}

#[test]
fn sync_fn_is_cached() {
    assert_eq!(square(7), 49);
    assert_eq!(square(7), 49);
    assert_eq!(square(8), 64);
    assert_eq!(SQUARE_RUNS.load(Ordering::SeqCst), 2);
    assert_eq!(counts(square::cache_info()), (1, 2, 2, 2));
    let params: ttl_cache::CacheParameters = square::cache_parameters();
    assert_eq!(params.ttl, Some(Duration::from_secs(30)));
    assert_eq!(params.max_entries, 100);
    square::cache_clear();
    assert_eq!(counts(square::cache_info()), (0, 0, 0, 0));
    assert_eq!(square(7), 49);
    assert_eq!(SQUARE_RUNS.load(Ordering::SeqCst), 3);
}

static GREET_RUNS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
async fn greet(name: &str) -> String {
    GREET_RUNS.fetch_add(1, Ordering::SeqCst);
    tokio::task::yield_now().await;
    format!("hello, {name}")
}

#[tokio::test]
async fn async_fn_is_cached() {
    assert_eq!(greet("ada").await, "hello, ada");
    assert_eq!(greet("ada").await, "hello, ada");
    assert_eq!(GREET_RUNS.load(Ordering::SeqCst), 1);
    assert_eq!(counts(greet::cache_info()), (1, 1, 1, 1));
    assert_eq!(
        greet::cache_parameters().ttl,
        Some(ttl_cache::DEFAULT_TTL),
        "no `ttl` means the default"
    );
}

struct Rates {
    base: f64,
    lookups: AtomicUsize,
}

impl Rates {
    #[ttl_cache(skip(self), result)]
    fn rate(&self, currency: &str) -> Result<f64, String> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        match currency {
            "EUR" => Ok(self.base * 1.08),
            other => Err(format!("unknown currency {other}")),
        }
    }
}

#[test]
fn method_is_cached_and_errors_are_not() {
    let rates = Rates {
        base: 1.0,
        lookups: AtomicUsize::new(0),
    };
    assert_eq!(rates.rate("EUR"), Ok(1.08));
    assert_eq!(rates.rate("EUR"), Ok(1.08));
    assert!(rates.rate("XXX").is_err());
    assert!(rates.rate("XXX").is_err());
    // One run for EUR, two for the error, which is never stored.
    assert_eq!(rates.lookups.load(Ordering::SeqCst), 3);
    let cache: &'static ttl_cache::CachedFn = Rates::rate_cache();
    assert_eq!(counts(cache.cache_info()), (1, 3, 3, 1));
}

#[derive(PersistentHash)]
struct Query<T> {
    table: String,
    filter: T,
    /// Never read: it is there to show a skipped field is not part of the key.
    #[allow(dead_code)]
    #[persistent_hash(skip)]
    trace_id: u64,
}

#[derive(PersistentHash)]
enum Filter {
    All,
    Id(u64),
    Range { from: u64, to: u64 },
}

static QUERY_RUNS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
fn rows(query: &Query<Filter>) -> usize {
    QUERY_RUNS.fetch_add(1, Ordering::SeqCst);
    match query.filter {
        Filter::All => 100,
        Filter::Id(_) => 1,
        Filter::Range { from, to } => usize::try_from(to - from).unwrap(),
    }
}

#[test]
fn derived_persistent_hash_keys_the_cache() {
    let query = |filter, trace_id| Query {
        table: "users".to_owned(),
        filter,
        trace_id,
    };
    assert_eq!(rows(&query(Filter::Range { from: 5, to: 9 }, 1)), 4);
    // A skipped field is not part of the key: a hit.
    assert_eq!(rows(&query(Filter::Range { from: 5, to: 9 }, 2)), 4);
    assert_eq!(rows(&query(Filter::Id(3), 1)), 1);
    assert_eq!(rows(&query(Filter::All, 1)), 100);
    assert_eq!(QUERY_RUNS.load(Ordering::SeqCst), 3);
    assert_eq!(counts(rows::cache_info()), (1, 3, 3, 3));

    // The derived encoding distinguishes variants and field values, and its
    // generic parameter got its `PersistentHash` bound through the facade.
    let digest = |filter| persistent_digest(&query(filter, 0));
    assert_ne!(digest(Filter::Id(3)), digest(Filter::Id(4)));
    assert_ne!(digest(Filter::All), digest(Filter::Id(0)));
    assert_eq!(digest(Filter::Id(3)), digest(Filter::Id(3)));
}

#[test]
fn standalone_cache_through_the_facade() {
    let cache: Cache<String, u64> = Cache::builder()
        .max_entries(10)
        .ttl(Duration::from_secs(60))
        .build();
    let mut loads = 0;
    for _ in 0..3 {
        let value = cache.get_or_insert_with("k".to_owned(), || {
            loads += 1;
            7
        });
        assert_eq!(value, 7);
    }
    assert_eq!(loads, 1);
    assert_eq!(cache.get("k"), Some(7));
}
