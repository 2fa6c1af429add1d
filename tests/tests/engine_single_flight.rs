//! R1, R3 (sync), R4, R6 (sync): single-flight of the in-memory engine for
//! blocking callers. One body per key however many callers miss together, other
//! keys never wait, a panicking leader hands over to one waiter, and recursion on
//! the same key bypasses dedup instead of deadlocking.
//!
//! Deterministic: callers are released by gates the test opens once the cache's
//! own counters show every caller has missed; every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use cache_core::Cache;
use cache_tests::figures::record;
use cache_tests::{DEADLINE, Gate, wait_until};
use serde_json::json;

/// Runs `f` on its own thread and fails if it does not finish in time (a
/// deadlock then fails the test instead of hanging it).
fn finishes_in_time<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(DEADLINE)
        .expect("did not finish in time: deadlock?")
}

/// R1: 64 threads missing one cold key together must run the body once and all
/// get its value, leaving no in-flight entry behind.
#[test]
fn r1_sixty_four_threads_on_one_cold_key_run_the_body_once() {
    const CALLERS: usize = 64;
    let cache: Cache<u64, u64> = Cache::new();
    let gate = Gate::new();
    let bodies = AtomicUsize::new(0);

    let values: Vec<u64> = thread::scope(|s| {
        let callers: Vec<_> = (0..CALLERS)
            .map(|_| {
                s.spawn(|| {
                    cache.get_or_insert_with(7, || {
                        bodies.fetch_add(1, Ordering::SeqCst);
                        // Blocks until every other caller has missed and is waiting.
                        gate.wait();
                        4242
                    })
                })
            })
            .collect();
        // Waiters count their miss before they wait.
        let all_missed = wait_until(|| cache.info().misses == CALLERS as u64);
        gate.open();
        assert!(
            all_missed,
            "only {} of {CALLERS} callers missed",
            cache.info().misses
        );
        callers.into_iter().map(|c| c.join().unwrap()).collect()
    });

    assert_eq!(
        bodies.load(Ordering::SeqCst),
        1,
        "the body ran more than once"
    );
    assert_eq!(cache.info().computations, 1);
    assert_eq!(values.len(), CALLERS);
    assert!(
        values.iter().all(|&v| v == 4242),
        "callers got different values: {values:?}"
    );
    // No in-flight entry left: one live entry, and the next call is a plain hit.
    assert_eq!(cache.len(), 1);
    let hits = cache.info().hits;
    assert_eq!(
        cache.get_or_insert_with(7, || panic!("recomputed after the flight")),
        4242
    );
    assert_eq!(cache.info().hits, hits + 1);
    assert_eq!(cache.info().computations, 1);
    let info = cache.info();
    record(
        "R1",
        "engine_single_flight::r1_sixty_four_threads_on_one_cold_key_run_the_body_once",
        json!({
            "callers": CALLERS,
            "computations": info.computations,
            "misses": info.misses,
            "distinct_values": values.iter().collect::<std::collections::HashSet<_>>().len(),
            "entries_after": cache.len(),
        }),
    );
}

/// R3 (sync): 100 cold keys × 10 callers with a 50 ms body must finish in well
/// under 2 × 50 ms: keys never serialize behind a global or bucket lock.
#[test]
fn r3_cold_keys_load_in_parallel_sync() {
    const KEYS: u64 = 100;
    const CALLERS_PER_KEY: u64 = 10;
    const BODY: Duration = Duration::from_millis(50);
    const BOUND: Duration = Duration::from_millis(250);

    let cache: Cache<u64, u64> = Cache::new();
    let callers = (KEYS * CALLERS_PER_KEY) as usize;
    let start_line = Barrier::new(callers + 1);
    let bodies = AtomicUsize::new(0);

    let elapsed = thread::scope(|s| {
        let handles: Vec<_> = (0..KEYS * CALLERS_PER_KEY)
            .map(|i| {
                let (cache, start_line, bodies) = (&cache, &start_line, &bodies);
                s.spawn(move || {
                    let key = i % KEYS;
                    start_line.wait();
                    let released = Instant::now();
                    let value = cache.get_or_insert_with(key, || {
                        bodies.fetch_add(1, Ordering::SeqCst);
                        // Real sleep on purpose: the test measures that keys overlap.
                        thread::sleep(BODY);
                        key * 3
                    });
                    assert_eq!(value, key * 3);
                    (released, Instant::now())
                })
            })
            .collect();
        start_line.wait();
        // From the first caller released to the last one done, as the callers
        // saw it: the main thread may be descheduled after the barrier, so its
        // own clock could start late (and once read 40 ms for a 50 ms body).
        let spans: Vec<(Instant, Instant)> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        let first = spans.iter().map(|s| s.0).min().unwrap();
        let last = spans.iter().map(|s| s.1).max().unwrap();
        last - first
    });
    assert!(elapsed >= BODY, "{elapsed:?} is shorter than one body");

    eprintln!("r3 sync: {callers} callers over {KEYS} keys took {elapsed:?}");
    assert_eq!(bodies.load(Ordering::SeqCst), KEYS as usize);
    assert_eq!(cache.info().computations, KEYS);
    assert_eq!(cache.len(), KEYS as usize);
    assert!(
        elapsed < BOUND,
        "took {elapsed:?}: keys serialized (bound {BOUND:?})"
    );
    record(
        "R3",
        "engine_single_flight::r3_cold_keys_load_in_parallel_sync",
        json!({
            "callers": callers,
            "keys": KEYS,
            "computations": cache.info().computations,
            "body_ms": BODY.as_millis(),
            "wall_ms": elapsed.as_secs_f64() * 1e3,
            "bound_ms": BOUND.as_millis(),
        }),
    );
}

/// R4: a leader that panics while 8 callers wait must hand the key to exactly one
/// of them; the panic reaches the leader's caller only and nothing is poisoned.
#[test]
fn r4_panicking_leader_hands_over_to_one_waiter() {
    const WAITERS: usize = 8;
    let cache: Cache<u64, u64> = Cache::new();
    let gate = Gate::new();
    let leader_started = AtomicBool::new(false);
    let waiter_bodies = AtomicUsize::new(0);

    let (leader, waiters) = thread::scope(|s| {
        let leader = s.spawn(|| {
            cache.get_or_insert_with(1, || {
                leader_started.store(true, Ordering::SeqCst);
                gate.wait();
                panic!("leader body failed");
            })
        });
        // Only start the waiters once the leader owns the key.
        let led = wait_until(|| leader_started.load(Ordering::SeqCst));
        if !led {
            gate.open();
        }
        assert!(led, "the leader never started its body");
        let waiters: Vec<_> = (0..WAITERS)
            .map(|_| {
                s.spawn(|| {
                    cache.get_or_insert_with(1, || {
                        waiter_bodies.fetch_add(1, Ordering::SeqCst);
                        99
                    })
                })
            })
            .collect();
        let all_waiting = wait_until(|| cache.info().misses == WAITERS as u64 + 1);
        gate.open();
        assert!(all_waiting, "only {} callers missed", cache.info().misses);
        let leader = leader.join();
        let waiters: Vec<_> = waiters.into_iter().map(|w| w.join()).collect();
        (leader, waiters)
    });

    // The panic reached the leader's caller, with the leader's payload.
    let payload = leader.expect_err("the leader's caller did not see the panic");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"leader body failed"));
    // Every waiter got a value, from one new computation.
    for waiter in waiters {
        assert_eq!(waiter.expect("a waiter saw the leader's panic"), 99);
    }
    assert_eq!(
        waiter_bodies.load(Ordering::SeqCst),
        1,
        "more than one waiter took over"
    );
    assert_eq!(
        cache.info().computations,
        2,
        "the panicking body and exactly one new one"
    );

    // Nothing is poisoned: 10,000 later calls succeed as hits.
    let hits = cache.info().hits;
    for _ in 0..10_000 {
        assert_eq!(cache.get_or_insert_with(1, || panic!("recomputed")), 99);
    }
    assert_eq!(cache.info().hits, hits + 10_000);
    assert_eq!(cache.info().computations, 2);
    record(
        "R4",
        "engine_single_flight::r4_panicking_leader_hands_over_to_one_waiter",
        json!({
            "waiters": WAITERS,
            "panics_seen_by_waiters": 0,
            "computations": cache.info().computations,
            "takeover_bodies": waiter_bodies.load(Ordering::SeqCst),
            "later_calls": 10_000,
            "later_hits": cache.info().hits - hits,
        }),
    );
}

/// R4 (same thread): after a body panics and the panic is caught, the key is not
/// stuck in flight; the next call on the same thread computes and stores it.
#[test]
fn r4_caught_panic_leaves_the_key_usable() {
    let cache: Cache<u64, u64> = Cache::new();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        cache.get_or_insert_with(3, || panic!("boom"))
    }));
    assert!(caught.is_err());
    assert_eq!(cache.len(), 0, "a panicking body must not store anything");
    let value = finishes_in_time({
        let cache = cache.clone();
        move || cache.get_or_insert_with(3, || 30)
    });
    assert_eq!(value, 30);
    assert_eq!(cache.get(&3), Some(30));
    assert_eq!(cache.info().computations, 2);
}

fn fib(cache: &Cache<u64, u128>, n: u64) -> u128 {
    cache.get_or_insert_with(n, || {
        if n < 2 {
            u128::from(n)
        } else {
            fib(cache, n - 1) + fib(cache, n - 2)
        }
    })
}

/// R6: memoized recursion on distinct keys completes with one body per key (the
/// outer keys' in-flight slots must not block the inner ones).
#[test]
fn r6_memoized_fib_90_computes_each_key_once() {
    let (value, info) = finishes_in_time(|| {
        let cache: Cache<u64, u128> = Cache::new();
        let value = fib(&cache, 90);
        (value, cache.info())
    });
    assert_eq!(value, 2_880_067_194_370_816_120);
    assert_eq!(info.computations, 91);
    assert_eq!(info.reentrant_bypass, 0);
    record(
        "R6",
        "engine_single_flight::r6_memoized_fib_90_computes_each_key_once",
        json!({
            "computations": info.computations,
            "hits": info.hits,
            "reentrant_bypass": info.reentrant_bypass,
        }),
    );
}

/// R6: a body that calls itself with the same key must bypass dedup (and count
/// it) instead of waiting on its own flight forever.
#[test]
fn r6_body_recursing_on_its_own_key_bypasses_instead_of_deadlocking() {
    let (value, stored, info) = finishes_in_time(|| {
        let cache: Cache<u64, u64> = Cache::new();
        let value = cache.get_or_insert_with(1, || cache.get_or_insert_with(1, || 10) + 1);
        (value, cache.get(&1), cache.info())
    });
    assert_eq!(value, 11);
    assert_eq!(stored, Some(11), "the outer body's value is the one stored");
    assert!(info.reentrant_bypass >= 1, "bypass not counted: {info:?}");
    assert_eq!(info.computations, 2);
}

/// R6: the same-key bypass also works through the fallible form and several
/// levels deep.
#[test]
fn r6_deep_same_key_recursion_through_try_form_completes() {
    fn depth(cache: &Cache<&'static str, u32>, level: u32) -> Result<u32, String> {
        cache.try_get_or_insert_with("k", || {
            if level == 5 {
                Ok(0)
            } else {
                Ok(depth(cache, level + 1)? + 1)
            }
        })
    }
    let (value, info) = finishes_in_time(|| {
        let cache: Cache<&'static str, u32> = Cache::new();
        (depth(&cache, 0), cache.info())
    });
    assert_eq!(value, Ok(5));
    assert_eq!(info.reentrant_bypass, 5);
    assert_eq!(info.computations, 6);
    record(
        "R6",
        "engine_single_flight::r6_deep_same_key_recursion_through_try_form_completes",
        json!({
            "depth": 5,
            "computations": info.computations,
            "reentrant_bypass": info.reentrant_bypass,
        }),
    );
}

/// Single-flight is per key: a caller of another key is not held up by an
/// in-flight computation that is blocked.
#[test]
fn other_keys_do_not_wait_for_a_blocked_flight() {
    let cache: Cache<u64, u64> = Cache::new();
    let gate = Gate::new();
    let started = AtomicBool::new(false);
    thread::scope(|s| {
        let blocked = s.spawn(|| {
            cache.get_or_insert_with(1, || {
                started.store(true, Ordering::SeqCst);
                gate.wait();
                1
            })
        });
        let led = wait_until(|| started.load(Ordering::SeqCst));
        // While key 1 is stuck in its body, key 2 loads, is read and removed.
        let other = led.then(|| {
            let cache = cache.clone();
            finishes_in_time(move || {
                let v = cache.get_or_insert_with(2, || 2);
                (v, cache.get(&2), cache.remove(&2), cache.len())
            })
        });
        gate.open();
        assert!(led, "the blocked leader never started");
        assert_eq!(
            other,
            Some((2, Some(2), Some(2), 0)),
            "key 2 waited for key 1"
        );
        assert_eq!(blocked.join().unwrap(), 1);
    });
}
