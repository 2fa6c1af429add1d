//! The registry of caches (`cache_core::observability::caches`) and
//! `CacheInfo`'s one-line `Display`: what is listed, once, with which counts,
//! how it serializes, and that it keeps nothing alive.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod observability_support;

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use cache_core::observability::{self, CacheEntry, CacheKind};
use cache_core::{Cache, CacheInfo, ttl_cache};
use cache_tests::wait_until;
use observability_support::{ObsStore, STORE_NAME};

fn entry(name: &str) -> Option<CacheEntry> {
    observability::caches().into_iter().find(|e| e.name == name)
}

fn entries_named(name: &str) -> Vec<CacheEntry> {
    observability::caches()
        .into_iter()
        .filter(|e| e.name == name)
        .collect()
}

// ---- Display ------------------------------------------------------------------

/// The line names every field with its own value (distinct values, so a
/// swapped field shows).
#[test]
fn cache_info_display_is_one_line_naming_every_field() {
    let mut info = CacheInfo::default();
    info.hits = 3;
    info.misses = 1;
    info.computations = 2;
    info.evictions = 4;
    info.expirations = 5;
    info.reentrant_bypass = 6;
    info.backend_errors = 7;
    info.decode_errors = 8;
    info.current_size = 9;
    info.max_entries = 100;
    assert_eq!(
        info.to_string(),
        "hits 3, misses 1, hit ratio 75.0%, computations 2, size 9/100, evictions 4, \
         expirations 5, backend errors 7, decode errors 8, reentrant bypasses 6"
    );
}

/// Before any lookup the ratio is not a number to read; an unbounded cache
/// (a `DiskCache` without a bound reports `u64::MAX`) says so.
#[test]
fn cache_info_display_says_na_before_lookups_and_unbounded_without_a_bound() {
    let mut info = CacheInfo::default();
    info.max_entries = u64::MAX;
    assert_eq!(
        info.to_string(),
        "hits 0, misses 0, hit ratio n/a, computations 0, size 0/unbounded, evictions 0, \
         expirations 0, backend errors 0, decode errors 0, reentrant bypasses 0"
    );
}

/// The line of a live cache, after known traffic.
#[test]
fn cache_info_display_of_a_cache_after_traffic() {
    let cache: Cache<u64, u64> = Cache::builder().max_entries(10).build();
    for key in 1..=3 {
        cache.get_or_insert_with(key, || key * 10);
    }
    cache.get(&1);
    cache.get(&1);
    cache.get(&9);
    assert_eq!(
        cache.info().to_string(),
        "hits 2, misses 4, hit ratio 33.3%, computations 3, size 3/10, evictions 0, \
         expirations 0, backend errors 0, decode errors 0, reentrant bypasses 0"
    );
}

// ---- what is listed -------------------------------------------------------------

#[ttl_cache(ttl = 30, max_entries = 500)]
fn registry_square(x: u64) -> u64 {
    x * x
}

#[ttl_cache]
fn registry_never_called(x: u64) -> u64 {
    x
}

/// A used function is listed under its identity with its settings and the
/// counts of its calls; one never called is not (its settings are evaluated
/// on first use).
#[test]
fn registry_lists_a_used_function_with_its_settings_and_counts() {
    registry_square(2);
    registry_square(2);
    registry_square(3);
    let identity = registry_square::cache_parameters().identifier;
    let listed = entry(&identity).unwrap();
    assert_eq!(listed.kind, CacheKind::Function);
    assert_eq!(listed.backend, "memory");
    assert_eq!(listed.ttl, Some(Duration::from_secs(30)));
    assert_eq!(listed.max_entries, 500);
    assert_eq!(listed.info, registry_square::cache_info());
    assert_eq!(
        (
            listed.info.hits,
            listed.info.misses,
            listed.info.current_size
        ),
        (1, 2, 2)
    );
    assert!((listed.hit_ratio - 1.0 / 3.0).abs() < 1e-12);
    let unused = format!("{}::registry_never_called", module_path!());
    assert!(
        entry(&unused).is_none(),
        "{unused} listed before its first call"
    );
}

#[ttl_cache(identifier = "obs-shared-memory")]
fn shared_double(x: u64) -> u64 {
    x * 2
}

#[ttl_cache(identifier = "obs-shared-memory")]
fn shared_triple(x: u64) -> u64 {
    x * 3
}

/// Functions sharing an identifier are one cache: listed once, with the
/// counts of both.
#[test]
fn registry_lists_a_shared_identifier_once() {
    shared_double(1);
    shared_double(1);
    shared_triple(1); // the same key in the same cache: a hit on double's value
    let listed = entries_named("obs-shared-memory");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0].info.hits, listed[0].info.misses), (2, 1));
}

static STORE: LazyLock<Arc<ObsStore>> = LazyLock::new(ObsStore::new);

#[ttl_cache(identifier = "obs-shared-store", backend = STORE.clone())]
fn stored_double(x: u64) -> u64 {
    x * 2
}

#[ttl_cache(identifier = "obs-shared-store", backend = STORE.clone())]
fn stored_again(x: u64) -> u64 {
    x * 2
}

/// On a storage backend each function keeps its own counters over one stored
/// namespace: the entry sums the counters and reports the store's size once.
#[test]
fn registry_merges_functions_sharing_a_stored_namespace() {
    stored_double(1);
    stored_double(2);
    stored_again(1);
    let listed = entries_named("obs-shared-store");
    assert_eq!(listed.len(), 1, "{listed:?}");
    let listed = &listed[0];
    assert_eq!(listed.backend, STORE_NAME);
    assert_eq!(listed.ttl, Some(cache_core::DEFAULT_TTL));
    assert_eq!(
        (
            listed.info.hits,
            listed.info.misses,
            listed.info.computations
        ),
        (1, 2, 2)
    );
    assert_eq!(listed.info.current_size, 2);
}

/// Named caches are listed under their names; unnamed ones are not.
#[test]
fn registry_lists_named_caches_and_leaves_out_unnamed_ones() {
    let named: Cache<u64, u64> = Cache::builder()
        .name("obs-named")
        .ttl(Duration::from_millis(1_500))
        .max_entries(64)
        .build();
    let unnamed: Cache<u64, u64> = Cache::builder().max_entries(65).build();
    named.insert(1, 1);
    unnamed.insert(1, 1);
    let listed = entry("obs-named").unwrap();
    assert_eq!(listed.kind, CacheKind::Cache);
    assert_eq!(
        (listed.ttl, listed.max_entries),
        (Some(Duration::from_millis(1_500)), 64)
    );
    assert_eq!(listed.info.current_size, 1);
    assert!(
        observability::caches()
            .iter()
            .all(|e| e.kind != CacheKind::Cache || e.max_entries != 65),
        "an unnamed cache was listed"
    );
    assert_eq!(named.name(), Some("obs-named"));
    assert_eq!(unnamed.name(), None);
}

/// The registry holds caches weakly: a dropped cache leaves it, and its
/// values are freed (nothing in the registry keeps the store alive).
#[test]
fn registry_does_not_keep_dropped_caches_alive() {
    let value = Arc::new(7u64);
    let cache: Cache<u64, Arc<u64>> = Cache::builder().name("obs-dropped").build();
    cache.insert(1, Arc::clone(&value));
    let clone = cache.clone();
    assert!(entry("obs-dropped").is_some());
    drop(cache);
    assert!(entry("obs-dropped").is_some(), "a clone still holds it");
    drop(clone);
    // The background sweep may hold the store for the length of one round.
    assert!(wait_until(|| entry("obs-dropped").is_none()));
    assert!(
        wait_until(|| Arc::strong_count(&value) == 1),
        "the store was not freed"
    );
}

// ---- serde ----------------------------------------------------------------------

/// Entries serialize as documented (`ttl_secs` a number or `null`, `kind`
/// in snake case, `info` by field) and read back equal.
#[test]
fn registry_entries_serialize_to_documented_json_and_back() {
    let timed: Cache<u64, u64> = Cache::builder()
        .name("obs-json-timed")
        .ttl(Duration::from_millis(2_500))
        .max_entries(8)
        .build();
    let forever: Cache<u64, u64> = Cache::builder().name("obs-json-forever").build();
    timed.get_or_insert_with(1, || 1);
    timed.get(&1);
    forever.insert(1, 1);

    let timed_json = serde_json::to_value(entry("obs-json-timed").unwrap()).unwrap();
    assert_eq!(
        timed_json,
        serde_json::json!({
            "name": "obs-json-timed",
            "kind": "cache",
            "backend": "memory",
            "ttl_secs": 2.5,
            "max_entries": 8,
            "hit_ratio": 0.5,
            "info": {
                "hits": 1, "misses": 1, "computations": 1, "evictions": 0,
                "expirations": 0, "reentrant_bypass": 0, "backend_errors": 0,
                "decode_errors": 0, "current_size": 1, "max_entries": 8
            }
        })
    );
    let forever_json = serde_json::to_value(entry("obs-json-forever").unwrap()).unwrap();
    assert_eq!(forever_json["ttl_secs"], serde_json::Value::Null);

    let all = observability::caches();
    let text = serde_json::to_string(&all).unwrap();
    let back: Vec<CacheEntry> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, all);
    let negative = text.replace("\"ttl_secs\":2.5", "\"ttl_secs\":-1.0");
    assert!(serde_json::from_str::<Vec<CacheEntry>>(&negative).is_err());
}
