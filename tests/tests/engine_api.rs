//! The standalone cache's API, at parity with Pyot's `PtrCache` / default dicts
//! and `poche`: plain map operations, the eager, lazy, async and fallible
//! loading forms, reference-keeping with `Arc` values, batched reads and
//! writes, default maps, and the counters.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use cache_core::clock::Clock;
use cache_core::{Cache, DefaultMap, Expiry};
use cache_tests::{Gate, wait_until};

const SEC: Duration = Duration::from_secs(1);

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Map basics: get, insert (overwrite), remove, contains_key, len, is_empty,
/// with borrowed lookups (`&str` for `String` keys).
#[test]
fn api_map_operations() {
    let cache: Cache<String, u32> = Cache::new();
    assert!(cache.is_empty());
    assert_eq!(cache.get("a"), None);
    cache.insert("a".to_string(), 1);
    cache.insert("b".to_string(), 2);
    assert_eq!(cache.get("a"), Some(1));
    assert!(cache.contains_key("b"));
    assert!(!cache.contains_key("c"));
    assert_eq!(cache.len(), 2);
    cache.insert("a".to_string(), 10);
    assert_eq!(cache.get("a"), Some(10), "insert overwrites");
    assert_eq!(cache.len(), 2, "an overwrite is not a new entry");
    assert_eq!(cache.remove("a"), Some(10));
    assert_eq!(cache.remove("a"), None);
    assert_eq!(cache.len(), 1);
    assert!(!cache.is_empty());
    assert_eq!(cache.max_entries(), cache_core::DEFAULT_MAX_ENTRIES);
    assert_eq!(cache.ttl(), None);
}

/// Removing an expired entry returns nothing (poche: expired = missing) and
/// counts an expiration.
#[test]
fn api_remove_of_an_expired_entry_returns_none() {
    let (clock, time) = Clock::mock();
    let cache: Cache<u32, u32> = Cache::builder().ttl(SEC).clock(clock).build();
    cache.insert(1, 1);
    time.advance(SEC);
    assert_eq!(cache.remove(&1), None);
    assert_eq!(cache.info().expirations, 1);
}

/// `iter`, `keys` and `values` list the live entries, `iter` with the remaining
/// TTL of each (`None` for entries that never expire).
#[test]
fn api_iter_keys_values_list_live_entries_with_remaining_ttl() {
    let (clock, time) = Clock::mock();
    let cache: Cache<u32, &str> = Cache::builder().ttl(10 * SEC).clock(clock).build();
    cache.insert_many([(1, "one"), (2, "two")]);
    cache.insert_with_expiry(3, "three", Expiry::Never);
    cache.insert_with_ttl(4, "four", SEC);
    time.advance(2 * SEC);
    let mut entries: Vec<_> = cache.iter().collect();
    entries.sort_unstable();
    assert_eq!(
        entries,
        vec![
            (1, "one", Some(8 * SEC)),
            (2, "two", Some(8 * SEC)),
            (3, "three", None)
        ]
    );
    let mut keys = cache.keys();
    keys.sort_unstable();
    assert_eq!(keys, vec![1, 2, 3]);
    let mut values = cache.values();
    values.sort_unstable();
    assert_eq!(values, vec!["one", "three", "two"]);
}

/// `get_or_insert` is the eager form: it stores the given value on a miss and
/// returns the stored one on a hit.
#[test]
fn api_get_or_insert_is_eager() {
    let cache: Cache<u32, u32> = Cache::new();
    assert_eq!(cache.get_or_insert(1, 10), 10);
    assert_eq!(
        cache.get_or_insert(1, 20),
        10,
        "a hit keeps the stored value"
    );
    assert_eq!(cache.get(&1), Some(10));
}

/// `get_or_insert_with` is lazy: its closure runs on a miss only.
#[test]
fn api_get_or_insert_with_runs_the_closure_only_on_a_miss() {
    let cache: Cache<u32, u32> = Cache::new();
    let calls = AtomicUsize::new(0);
    let init = || {
        calls.fetch_add(1, Ordering::SeqCst);
        5
    };
    assert_eq!(cache.get_or_insert_with(1, init), 5);
    assert_eq!(cache.get_or_insert_with(1, init), 5);
    assert_eq!(
        cache.get_or_insert_with(1, || panic!("closure called on a hit")),
        5
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// `get_or_insert_with_async` does not poll its future on a hit.
#[test]
fn api_get_or_insert_with_async_does_not_poll_on_a_hit() {
    current_thread_runtime().block_on(async {
        let cache: Cache<u32, u32> = Cache::new();
        let polled = AtomicBool::new(false);
        assert_eq!(cache.get_or_insert_with_async(1, async { 7 }).await, 7);
        let value = cache
            .get_or_insert_with_async(1, async {
                polled.store(true, Ordering::SeqCst);
                8
            })
            .await;
        assert_eq!(value, 7);
        assert!(
            !polled.load(Ordering::SeqCst),
            "the future was polled on a hit"
        );
        assert_eq!(
            cache
                .get_or_insert_with_async(1, async { panic!("polled on a hit") })
                .await,
            7
        );
        let fallible =
            cache.try_get_or_insert_with_async::<()>(1, async { panic!("polled on a hit") });
        assert_eq!(fallible.await, Ok(7));
    });
}

/// Errors are never cached: two failing calls run two computations and store
/// nothing; a later `Ok` is stored and then hit.
#[test]
fn api_try_get_or_insert_with_does_not_store_errors() {
    let cache: Cache<u32, u32> = Cache::new();
    assert_eq!(
        cache.try_get_or_insert_with(1, || Err::<u32, &str>("down")),
        Err("down")
    );
    assert_eq!(
        cache.try_get_or_insert_with(1, || Err::<u32, &str>("down")),
        Err("down")
    );
    assert_eq!(cache.info().computations, 2);
    assert_eq!(cache.len(), 0);
    assert!(!cache.contains_key(&1));
    assert_eq!(
        cache.try_get_or_insert_with(1, || Ok::<u32, &str>(3)),
        Ok(3)
    );
    assert_eq!(
        cache.try_get_or_insert_with(1, || Err::<u32, &str>("not called")),
        Ok(3)
    );
    assert_eq!(cache.info().computations, 3);
    assert_eq!(cache.len(), 1);
}

/// The async fallible form does not store errors either.
#[test]
fn api_try_get_or_insert_with_async_does_not_store_errors() {
    current_thread_runtime().block_on(async {
        let cache: Cache<u32, u32> = Cache::new();
        for _ in 0..2 {
            let failed =
                cache.try_get_or_insert_with_async(1, async { Err::<u32, String>("down".into()) });
            assert_eq!(failed.await, Err("down".to_string()));
        }
        assert_eq!(cache.info().computations, 2);
        assert_eq!(cache.len(), 0);
        assert_eq!(
            cache
                .try_get_or_insert_with_async(1, async { Ok::<u32, String>(4) })
                .await,
            Ok(4)
        );
        assert_eq!(cache.get(&1), Some(4));
    });
}

/// A leader whose fallible body fails while others wait gives the error to its
/// caller only; one waiter takes over and its value is stored.
#[test]
fn api_failing_leader_hands_over_to_one_waiter() {
    let cache: Cache<u32, u32> = Cache::new();
    let gate = Gate::new();
    let started = AtomicBool::new(false);
    let waiter_bodies = AtomicUsize::new(0);
    thread::scope(|s| {
        let leader = s.spawn(|| {
            cache.try_get_or_insert_with(1, || {
                started.store(true, Ordering::SeqCst);
                gate.wait();
                Err::<u32, &str>("down")
            })
        });
        let led = wait_until(|| started.load(Ordering::SeqCst));
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    cache.try_get_or_insert_with(1, || {
                        waiter_bodies.fetch_add(1, Ordering::SeqCst);
                        Ok::<u32, &str>(6)
                    })
                })
            })
            .collect();
        let all_missed = wait_until(|| cache.info().misses == 5);
        gate.open();
        assert!(led && all_missed);
        assert_eq!(leader.join().unwrap(), Err("down"));
        for waiter in waiters {
            assert_eq!(waiter.join().unwrap(), Ok(6));
        }
    });
    assert_eq!(waiter_bodies.load(Ordering::SeqCst), 1);
    assert_eq!(cache.get(&1), Some(6));
}

/// Reference-keeping (Pyot `PtrCache`): with `Arc` values every read returns the
/// very same allocation, not a copy.
#[test]
fn api_arc_values_are_shared_not_copied() {
    let cache: Cache<u32, Arc<Vec<u8>>> = Cache::new();
    let original = Arc::new(vec![1, 2, 3]);
    cache.insert(1, Arc::clone(&original));
    let read = cache.get(&1).unwrap();
    assert!(Arc::ptr_eq(&read, &original));
    let loaded = cache.get_or_insert_with(2, || Arc::new(vec![4]));
    assert!(Arc::ptr_eq(&loaded, &cache.get(&2).unwrap()));
    assert!(Arc::ptr_eq(
        &cache.get_or_insert_with(1, || Arc::new(vec![])),
        &original
    ));
    let listed = cache.values();
    assert!(listed.iter().any(|v| Arc::ptr_eq(v, &original)));
    drop(listed);
    // The cache holds one reference; `read` and `original` the others.
    assert_eq!(Arc::strong_count(&original), 3);
}

/// Batched forms: `get_many` returns values in key order (`None` for misses),
/// `insert_many` stores every pair.
#[test]
fn api_get_many_and_insert_many() {
    let cache: Cache<String, u32> = Cache::new();
    cache.insert_many((0..5).map(|i| (format!("k{i}"), i)));
    assert_eq!(cache.len(), 5);
    let got = cache.get_many(["k3", "missing", "k0"]);
    assert_eq!(got, vec![Some(3), None, Some(0)]);
    let info = cache.info();
    assert_eq!((info.hits, info.misses), (2, 1));
}

/// The default map produces each missing key once and stores it.
#[test]
fn api_default_map_produces_once_per_key() {
    let produced = AtomicUsize::new(0);
    let map = DefaultMap::new(Cache::new(), |word: &String| {
        produced.fetch_add(1, Ordering::SeqCst);
        word.len()
    });
    assert_eq!(map.get("four".to_string()), 4);
    assert_eq!(map.get("four".to_string()), 4);
    assert_eq!(
        map.get_many(["a".to_string(), "four".to_string(), "bb".to_string()]),
        vec![1, 4, 2]
    );
    assert_eq!(produced.load(Ordering::SeqCst), 3);
    assert_eq!(map.cache().len(), 3);
}

/// The default map's producer runs once when 8 threads read the same missing key
/// together.
#[test]
fn api_default_map_produces_once_under_concurrency() {
    let produced = AtomicUsize::new(0);
    let gate = Gate::new();
    let map = DefaultMap::new(Cache::new(), |n: &u64| {
        produced.fetch_add(1, Ordering::SeqCst);
        gate.wait();
        n * 2
    });
    let values: Vec<u64> = thread::scope(|s| {
        let readers: Vec<_> = (0..8).map(|_| s.spawn(|| map.get(21))).collect();
        let all_missed = wait_until(|| map.cache().info().misses == 8);
        gate.open();
        assert!(all_missed);
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(values, vec![42; 8]);
    assert_eq!(produced.load(Ordering::SeqCst), 1);
    assert_eq!(map.cache().info().computations, 1);
}

/// Counters: a miss then a hit on one key counts 1 miss, 1 hit, 1 computation
/// and a size of 1.
#[test]
fn api_counters_after_a_miss_and_a_hit() {
    let cache: Cache<u32, u32> = Cache::new();
    cache.get_or_insert_with(1, || 1);
    cache.get_or_insert_with(1, || 1);
    let info = cache.info();
    assert_eq!(
        (info.hits, info.misses, info.computations, info.current_size),
        (1, 1, 1, 1)
    );
    assert!((info.hit_ratio() - 0.5).abs() < f64::EPSILON);
}

/// `clear` empties the cache and resets every counter.
#[test]
fn api_clear_resets_counters_and_size() {
    let (clock, time) = Clock::mock();
    let cache: Cache<u32, u32> = Cache::builder()
        .max_entries(2)
        .ttl(SEC)
        .clock(clock)
        .build();
    for k in 0..4 {
        cache.get_or_insert_with(k, || k);
    }
    cache.get(&3);
    time.advance(SEC);
    cache.get(&3);
    assert_ne!(cache.info().evictions, 0);
    cache.clear();
    assert_eq!(cache.len(), 0);
    assert!(cache.is_empty());
    let info = cache.info();
    assert_eq!(
        (
            info.hits,
            info.misses,
            info.computations,
            info.evictions,
            info.expirations,
            info.current_size
        ),
        (0, 0, 0, 0, 0, 0)
    );
    assert_eq!(info.max_entries, 2);
    // The cache is usable after a clear, and the bound still holds.
    for k in 0..4 {
        cache.insert(k, k);
    }
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.info().evictions, 2);
}

/// A `clear` while a value is being computed: the computing caller and its
/// waiters get the value, but it is not stored.
#[test]
fn api_clear_during_a_computation_returns_the_value_but_does_not_store_it() {
    let cache: Cache<u32, u32> = Cache::new();
    let gate = Gate::new();
    let started = AtomicBool::new(false);
    thread::scope(|s| {
        let leader = s.spawn(|| {
            cache.get_or_insert_with(1, || {
                started.store(true, Ordering::SeqCst);
                gate.wait();
                11
            })
        });
        let led = wait_until(|| started.load(Ordering::SeqCst));
        let waiter = s.spawn(|| {
            cache.get_or_insert_with(1, || panic!("the waiter should get the leader's value"))
        });
        let waiting = wait_until(|| cache.info().misses == 2);
        cache.clear();
        gate.open();
        assert!(led && waiting);
        assert_eq!(leader.join().unwrap(), 11);
        assert_eq!(waiter.join().unwrap(), 11);
    });
    assert_eq!(cache.len(), 0, "a value computed across a clear was stored");
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.get_or_insert_with(1, || 12), 12);
}

/// An `insert` while a value is being computed wins: the computed value goes to
/// its callers but does not overwrite the inserted one.
#[test]
fn api_insert_during_a_computation_wins() {
    let cache: Cache<u32, u32> = Cache::new();
    let gate = Gate::new();
    let started = AtomicBool::new(false);
    thread::scope(|s| {
        let leader = s.spawn(|| {
            cache.get_or_insert_with(1, || {
                started.store(true, Ordering::SeqCst);
                gate.wait();
                11
            })
        });
        let led = wait_until(|| started.load(Ordering::SeqCst));
        cache.insert(1, 99);
        gate.open();
        assert!(led);
        assert_eq!(leader.join().unwrap(), 11);
    });
    assert_eq!(cache.get(&1), Some(99));
    assert_eq!(cache.len(), 1);
}

/// Clones are handles to one cache; `Debug` shows the settings and counters.
#[test]
fn api_clones_share_one_cache() {
    let cache: Cache<u32, u32> = Cache::builder().ttl(SEC).max_entries(7).build();
    let other = cache.clone();
    other.insert(1, 1);
    assert_eq!(cache.get(&1), Some(1));
    assert_eq!(cache.info().hits, 1);
    let shown = format!("{cache:?}");
    assert!(shown.contains("max_entries: 7"), "{shown}");
    let default: Cache<u32, u32> = Cache::default();
    assert_eq!(default.max_entries(), cache_core::DEFAULT_MAX_ENTRIES);
    assert_eq!(Cache::<u32, u32>::with_ttl(SEC).ttl(), Some(SEC));
}

/// `get_or_insert_with_async`'s future holds its hit path only: the miss
/// (single-flight, the producer) is boxed when a call misses, so a hit never
/// creates or moves it. Unboxed, this future was 192 bytes here (more with
/// a larger producer or key).
#[test]
fn get_or_insert_with_async_future_is_the_size_of_its_hit_not_its_miss() {
    let cache: Cache<u64, String> = Cache::builder().max_entries(10).build();
    let size = std::mem::size_of_val(&cache.get_or_insert_with_async(1, async { String::new() }));
    assert!(
        size <= 96,
        "get_or_insert_with_async's future is {size} bytes"
    );
}
