//! R13: time-to-live of the in-memory engine, on a mock clock. Entries are hits
//! until the instant they expire and misses from then on; per-entry TTLs and
//! `Expiry::Never` are honoured; the remaining TTL is reported; `len` never
//! counts expired entries; expired entries are removed with no reads, by the
//! background sweep and by `Cache::sweep`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use cache_core::clock::Clock;
use cache_core::maintenance::wait_for_sweep_rounds;
use cache_core::{Cache, Expiry};
use cache_tests::figures::record;
use serde_json::json;

const SEC: Duration = Duration::from_secs(1);
const NANO: Duration = Duration::from_nanos(1);
const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// R13: an entry is a hit one nanosecond before its TTL and a miss at it, and
/// the miss removes it (counted as an expiration).
#[test]
fn r13_hit_just_before_expiry_miss_at_expiry() {
    let (clock, time) = Clock::mock();
    let cache: Cache<&str, u32> = Cache::builder().ttl(10 * SEC).clock(clock).build();
    cache.insert("k", 1);
    time.advance(10 * SEC - NANO);
    assert_eq!(cache.get(&"k"), Some(1), "expired early");
    assert!(cache.contains_key(&"k"));
    time.advance(NANO);
    assert_eq!(cache.get(&"k"), None, "served at its expiry instant");
    assert!(!cache.contains_key(&"k"));
    let info = cache.info();
    assert_eq!(
        (info.hits, info.misses, info.expirations, info.current_size),
        (1, 1, 1, 0)
    );
    record(
        "R13",
        "engine_ttl::r13_hit_just_before_expiry_miss_at_expiry",
        json!({
            "clock": "mock",
            "ttl_s": 10,
            "hit_at_ttl_minus_ns": info.hits,
            "miss_at_ttl": info.misses,
            "expirations": info.expirations,
        }),
    );
}

/// R13: an expired entry is recomputed by the loading forms, counting one
/// expiration and one computation; the fresh value gets a fresh TTL.
#[test]
fn r13_expired_entry_is_recomputed_with_a_fresh_ttl() {
    let (clock, time) = Clock::mock();
    let cache: Cache<u32, u32> = Cache::builder().ttl(10 * SEC).clock(clock).build();
    assert_eq!(cache.get_or_insert_with(1, || 1), 1);
    time.advance(10 * SEC);
    assert_eq!(cache.get_or_insert_with(1, || 2), 2);
    let info = cache.info();
    assert_eq!(
        (info.computations, info.expirations, info.misses),
        (2, 1, 2)
    );
    time.advance(10 * SEC - NANO);
    assert_eq!(
        cache.get_or_insert_with(1, || panic!("the fresh value expired early")),
        2
    );
}

/// R13: a per-entry TTL overrides the cache's, in both directions.
#[test]
fn r13_per_entry_ttl_overrides_the_cache_ttl() {
    let (clock, time) = Clock::mock();
    let cache: Cache<&str, u32> = Cache::builder().ttl(10 * SEC).clock(clock).build();
    cache.insert("default", 1);
    cache.insert_with_ttl("short", 2, SEC);
    cache.insert_with_ttl("long", 3, 100 * SEC);
    cache.insert_with_expiry("after", 4, Expiry::After(5 * SEC));
    time.advance(SEC);
    assert_eq!(cache.get(&"short"), None);
    assert_eq!(cache.get(&"after"), Some(4));
    time.advance(4 * SEC);
    assert_eq!(cache.get(&"after"), None);
    assert_eq!(cache.get(&"default"), Some(1));
    time.advance(5 * SEC);
    assert_eq!(cache.get(&"default"), None);
    assert_eq!(cache.get(&"long"), Some(3));
    time.advance(90 * SEC);
    assert_eq!(cache.get(&"long"), None);
}

/// R13: `Expiry::Never` entries, per entry or as the cache default, survive a
/// year of clock time (and `Duration::MAX` saturates rather than wrapping).
#[test]
fn r13_never_expiring_entries_survive_a_year() {
    let (clock, time) = Clock::mock();
    let cache: Cache<&str, u32> = Cache::builder().ttl(SEC).clock(clock).build();
    cache.insert_with_expiry("pinned", 1, Expiry::Never);
    cache.insert("fleeting", 2);
    time.advance(YEAR);
    assert_eq!(cache.get(&"pinned"), Some(1));
    assert_eq!(cache.get(&"fleeting"), None);
    assert_eq!(cache.get_with_ttl(&"pinned"), Some((1, None)));

    let (clock, time) = Clock::mock();
    let forever: Cache<&str, u32> = Cache::builder().expiry(Expiry::Never).clock(clock).build();
    assert_eq!(forever.ttl(), None);
    forever.insert("a", 1);
    assert_eq!(forever.get_or_insert_with("b", || 2), 2);
    time.advance(YEAR);
    assert_eq!(forever.get(&"a"), Some(1));
    assert_eq!(forever.get(&"b"), Some(2));
    assert_eq!(forever.len(), 2);
    assert_eq!(forever.sweep(), 0);
    // A TTL of centuries is "never" too: no overflow into the past.
    forever.insert_with_ttl("huge", 3, Duration::MAX);
    time.advance(YEAR);
    assert_eq!(forever.get(&"huge"), Some(3));
}

/// R13: `get_with_ttl` and `iter` report the remaining time to live.
#[test]
fn r13_remaining_ttl_is_reported() {
    let (clock, time) = Clock::mock();
    let cache: Cache<&str, u32> = Cache::builder().ttl(10 * SEC).clock(clock).build();
    cache.insert("a", 1);
    cache.insert_with_ttl("b", 2, 4 * SEC);
    cache.insert_with_expiry("c", 3, Expiry::Never);
    time.advance(3 * SEC);
    assert_eq!(cache.get_with_ttl(&"a"), Some((1, Some(7 * SEC))));
    assert_eq!(cache.get_with_ttl(&"b"), Some((2, Some(SEC))));
    assert_eq!(cache.get_with_ttl(&"c"), Some((3, None)));
    assert_eq!(cache.get_with_ttl(&"missing"), None);
    let mut listed: Vec<_> = cache.iter().collect();
    listed.sort();
    assert_eq!(
        listed,
        vec![("a", 1, Some(7 * SEC)), ("b", 2, Some(SEC)), ("c", 3, None)]
    );
    time.advance(SEC);
    assert_eq!(
        cache.get_with_ttl(&"b"),
        None,
        "an expired entry has no remaining TTL"
    );
    // get_with_ttl counts nothing.
    assert_eq!((cache.info().hits, cache.info().misses), (0, 0));
}

/// R13: `len`, `is_empty`, `iter`, `keys` and `values` exclude expired entries
/// exactly, before any read or sweep has removed them.
#[test]
fn r13_len_excludes_expired_entries_before_any_sweep() {
    let (clock, time) = Clock::mock();
    let cache: Cache<u32, u32> = Cache::builder().ttl(10 * SEC).clock(clock).build();
    for k in 0..10 {
        cache.insert_with_ttl(k, k, SEC);
    }
    for k in 10..15 {
        cache.insert(k, k);
    }
    assert_eq!(cache.len(), 15);
    time.advance(SEC);
    assert_eq!(cache.len(), 5);
    assert_eq!(cache.info().current_size, 5);
    assert_eq!(cache.iter().count(), 5);
    let mut keys = cache.keys();
    keys.sort_unstable();
    assert_eq!(keys, (10..15).collect::<Vec<_>>());
    assert_eq!(cache.values().len(), 5);
    time.advance(10 * SEC);
    assert_eq!(cache.len(), 0);
    assert!(cache.is_empty());
}

/// R13: expired entries nobody reads are removed by the background sweep.
#[test]
fn r13_background_sweep_removes_expired_entries_without_reads() {
    const N: u64 = 300;
    let (clock, time) = Clock::mock();
    let cache: Cache<u64, u64> = Cache::builder().ttl(SEC).clock(clock).build();
    for k in 0..N {
        cache.insert(k, k);
    }
    cache.insert_with_expiry(u64::MAX, 0, Expiry::Never);
    time.advance(2 * SEC);
    assert!(
        wait_for_sweep_rounds(2, Duration::from_secs(10)),
        "the background sweep did not run"
    );
    let info = cache.info();
    assert_eq!(
        info.expirations, N,
        "expired entries left unswept: {info:?}"
    );
    assert_eq!(cache.len(), 1);
    assert_eq!((info.hits, info.misses), (0, 0), "nothing was read");
    assert_eq!(
        cache.get(&u64::MAX),
        Some(0),
        "the sweep removed a live entry"
    );
    record(
        "R13",
        "engine_ttl::r13_background_sweep_removes_expired_entries_without_reads",
        json!({
            "clock": "mock",
            "expired_entries": N,
            "expirations_by_sweep": info.expirations,
            "reads_before_sweep": info.hits + info.misses,
            "live_entries_kept": cache.len(),
        }),
    );
}

/// R13: `Cache::sweep` removes every expired entry synchronously and reports
/// how many it removed.
#[test]
fn r13_sweep_removes_expired_entries_synchronously() {
    const N: u64 = 100;
    let (clock, time) = Clock::mock();
    let cache: Cache<u64, u64> = Cache::builder().ttl(SEC).clock(clock).build();
    for k in 0..N {
        cache.insert(k, k);
    }
    for k in N..N + 50 {
        cache.insert_with_ttl(k, k, 60 * SEC);
    }
    assert_eq!(cache.sweep(), 0, "nothing has expired yet");
    time.advance(2 * SEC);
    let swept = cache.sweep();
    // The background sweep may have taken some first; together they took all.
    assert!(swept as u64 <= N);
    assert_eq!(cache.info().expirations, N);
    assert_eq!(cache.sweep(), 0);
    assert_eq!(cache.len(), 50);
    assert_eq!(cache.info().evictions, 0);
}

/// A zero TTL stores an entry that is already expired: never served, not counted.
#[test]
fn r13_zero_ttl_entries_are_never_served() {
    let (clock, _time) = Clock::mock();
    let cache: Cache<u32, u32> = Cache::builder().clock(clock).build();
    cache.insert_with_ttl(1, 1, Duration::ZERO);
    assert_eq!(cache.len(), 0);
    assert!(!cache.contains_key(&1));
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.info().expirations, 1);
}

/// R13 + R1: callers missing an expired key together recompute it once (the
/// expired entry is replaced by one computation, not one per caller).
#[test]
fn r13_concurrent_misses_on_an_expired_key_recompute_once() {
    const CALLERS: u64 = 16;
    let (clock, time) = Clock::mock();
    let cache: Cache<u32, u32> = Cache::builder().ttl(SEC).clock(clock).build();
    cache.insert(1, 1);
    time.advance(SEC);
    let gate = (Mutex::new(false), Condvar::new());
    let bodies = AtomicUsize::new(0);
    let values: Vec<u32> = thread::scope(|s| {
        let callers: Vec<_> = (0..CALLERS)
            .map(|_| {
                s.spawn(|| {
                    cache.get_or_insert_with(1, || {
                        bodies.fetch_add(1, Ordering::SeqCst);
                        let open = gate.0.lock().unwrap();
                        let (open, _) = gate
                            .1
                            .wait_timeout_while(open, Duration::from_secs(30), |open| !*open)
                            .unwrap();
                        assert!(*open, "gate not opened");
                        2
                    })
                })
            })
            .collect();
        let start = Instant::now();
        while cache.info().misses < CALLERS && start.elapsed() < Duration::from_secs(10) {
            thread::yield_now();
        }
        let all_missed = cache.info().misses == CALLERS;
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        assert!(all_missed, "only {} callers missed", cache.info().misses);
        callers.into_iter().map(|c| c.join().unwrap()).collect()
    });
    assert_eq!(values, vec![2; CALLERS as usize]);
    assert_eq!(bodies.load(Ordering::SeqCst), 1);
    let info = cache.info();
    assert_eq!(
        (info.computations, info.expirations, info.current_size),
        (1, 1, 1)
    );
}

/// A zero TTL stores nothing: a computed value is returned (and shared with
/// concurrent waiters) but is never served afterwards, not even within the
/// clock's 1 ms tick.
#[test]
fn zero_ttl_loads_are_never_stored() {
    let cache: Cache<u64, u64> = Cache::builder().ttl(Duration::ZERO).build();
    let runs = AtomicUsize::new(0);
    for _ in 0..3 {
        let value = cache.get_or_insert_with(7, || {
            runs.fetch_add(1, Ordering::SeqCst);
            49
        });
        assert_eq!(value, 49);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert_eq!(cache.len(), 0);
    assert_eq!(cache.info().computations, 3);
}
