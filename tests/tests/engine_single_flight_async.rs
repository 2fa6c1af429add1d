//! R2, R3 (async), R5, R6 (async): single-flight of the in-memory engine for
//! async callers. One body per key across a thousand tasks, keys load in
//! parallel, a cancelled leader hands over to one waiter, and an async body that
//! recurses on its own key bypasses dedup instead of waiting on itself.
//!
//! Deterministic: gates are opened once the cache's counters show every task
//! has missed, R5/R6 run on tokio's paused clock, and every test is wrapped in a
//! timeout so a lost wake-up fails instead of hanging.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cache_core::{AsyncDefaultMap, Cache};
use cache_tests::figures::record;
use cache_tests::{DEADLINE, join_within_deadline, multi_thread_runtime, wait_until_async};
use serde_json::json;
use tokio::sync::Notify;

/// R2: 1,000 tasks on a multi-thread runtime missing one cold key run the body
/// once, and none is left pending (no lost wake-up).
#[test]
fn r2_thousand_tasks_on_one_cold_key_run_the_body_once() {
    const TASKS: usize = 1_000;
    const PENDING_BOUND: Duration = Duration::from_secs(5);
    multi_thread_runtime().block_on(async {
        let cache: Cache<u64, u64> = Cache::new();
        let gate = Arc::new(Notify::new());
        let bodies = Arc::new(AtomicUsize::new(0));

        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let (cache, gate, bodies) = (cache.clone(), Arc::clone(&gate), Arc::clone(&bodies));
                tokio::spawn(async move {
                    cache
                        .get_or_insert_with_async(9, async {
                            bodies.fetch_add(1, Ordering::SeqCst);
                            // Held until every task has missed (a stored permit if
                            // the gate opens before the leader gets here).
                            gate.notified().await;
                            77
                        })
                        .await
                })
            })
            .collect();

        // Tasks count their miss before they wait.
        let all_missed = wait_until_async(|| cache.info().misses == TASKS as u64).await;
        gate.notify_one();
        assert!(
            all_missed,
            "only {} of {TASKS} tasks missed",
            cache.info().misses
        );

        // R2's bound: every task is done within 5 s of the gate opening.
        let opened = Instant::now();
        let values = tokio::time::timeout(PENDING_BOUND, join_within_deadline(tasks))
            .await
            .expect("tasks still pending 5 s after the gate opened");
        let join = opened.elapsed();

        assert_eq!(
            bodies.load(Ordering::SeqCst),
            1,
            "the body ran more than once"
        );
        assert_eq!(cache.info().computations, 1);
        assert!(values.iter().all(|&v| v == 77));
        assert_eq!(cache.len(), 1);
        let hits = cache.info().hits;
        assert_eq!(
            cache
                .get_or_insert_with_async(9, async { panic!("recomputed") })
                .await,
            77
        );
        assert_eq!(cache.info().hits, hits + 1);
        record(
            "R2",
            "engine_single_flight_async::r2_thousand_tasks_on_one_cold_key_run_the_body_once",
            json!({
                "tasks": TASKS,
                "computations": cache.info().computations,
                "misses": TASKS,
                "pending": TASKS - values.len(),
                "gate_to_all_done_ms": join.as_secs_f64() * 1e3,
                "bound_ms": PENDING_BOUND.as_millis(),
            }),
        );
    });
}

/// R3 (async): 100 cold keys × 10 tasks with a 50 ms body finish in well under
/// 3 × 50 ms: no global or bucket lock, and waiting tasks do not block workers.
#[test]
fn r3_cold_keys_load_in_parallel_async() {
    const KEYS: u64 = 100;
    const CALLERS_PER_KEY: u64 = 10;
    const BODY: Duration = Duration::from_millis(50);
    const BOUND: Duration = Duration::from_millis(150);

    multi_thread_runtime().block_on(async {
        let cache: Cache<u64, u64> = Cache::new();
        let bodies = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let tasks: Vec<_> = (0..KEYS * CALLERS_PER_KEY)
            .map(|i| {
                let (cache, bodies) = (cache.clone(), Arc::clone(&bodies));
                let key = i % KEYS;
                tokio::spawn(async move {
                    let value = cache
                        .get_or_insert_with_async(key, async {
                            bodies.fetch_add(1, Ordering::SeqCst);
                            // Real time on purpose: the test measures that keys overlap.
                            tokio::time::sleep(BODY).await;
                            key * 3
                        })
                        .await;
                    assert_eq!(value, key * 3);
                })
            })
            .collect();
        join_within_deadline(tasks).await;
        let elapsed = start.elapsed();

        eprintln!(
            "r3 async: {} tasks over {KEYS} keys took {elapsed:?}",
            KEYS * CALLERS_PER_KEY
        );
        assert_eq!(bodies.load(Ordering::SeqCst), KEYS as usize);
        assert_eq!(cache.info().computations, KEYS);
        assert_eq!(cache.len(), KEYS as usize);
        assert!(
            elapsed < BOUND,
            "took {elapsed:?}: keys serialized (bound {BOUND:?})"
        );
        record(
            "R3",
            "engine_single_flight_async::r3_cold_keys_load_in_parallel_async",
            json!({
                "tasks": KEYS * CALLERS_PER_KEY,
                "keys": KEYS,
                "computations": cache.info().computations,
                "body_ms": BODY.as_millis(),
                "wall_ms": elapsed.as_secs_f64() * 1e3,
                "bound_ms": BOUND.as_millis(),
            }),
        );
    });
}

/// R5: a leader cancelled by a timeout (10 ms, body 50 ms) while 8 tasks wait
/// must not hang them: exactly one waiter takes over and all 8 get its value.
#[tokio::test(start_paused = true)]
async fn r5_cancelled_leader_hands_over_to_one_waiter() {
    const WAITERS: usize = 8;
    const CANCEL_AFTER: Duration = Duration::from_millis(10);
    const BODY: Duration = Duration::from_millis(50);
    // The cancellation plus one new body, and the timer's 1 ms rounding of each:
    // a waiter that waited out the cancelled body too would take 100 ms.
    const TAKEOVER_BOUND: Duration = Duration::from_millis(62);
    let cache: Cache<u64, u64> = Cache::new();
    let waiter_bodies = Arc::new(AtomicUsize::new(0));
    // Paused time: this clock reads the runtime's virtual time.
    let start = tokio::time::Instant::now();

    let leader = tokio::spawn({
        let cache = cache.clone();
        async move {
            tokio::time::timeout(
                CANCEL_AFTER,
                cache.get_or_insert_with_async(5, async {
                    tokio::time::sleep(BODY).await;
                    1
                }),
            )
            .await
        }
    });
    // The leader owns the key before any waiter arrives.
    assert!(
        wait_until_async(|| cache.info().computations == 1).await,
        "the leader never started"
    );

    let waiters: Vec<_> = (0..WAITERS)
        .map(|_| {
            let (cache, bodies) = (cache.clone(), Arc::clone(&waiter_bodies));
            tokio::spawn(async move {
                cache
                    .get_or_insert_with_async(5, async {
                        bodies.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(BODY).await;
                        2
                    })
                    .await
            })
        })
        .collect();
    assert!(wait_until_async(|| cache.info().misses == WAITERS as u64 + 1).await);

    // Paused time: the runtime jumps to the leader's 10 ms timeout as soon as every
    // task is idle, so the cancellation happens while all 8 wait.
    let (leader, values) = tokio::time::timeout(Duration::from_secs(5), async {
        let leader = leader.await.unwrap();
        let mut values = Vec::new();
        for waiter in waiters {
            values.push(waiter.await.unwrap());
        }
        (leader, values)
    })
    .await
    .expect("waiters hung after the leader was cancelled");
    let takeover = start.elapsed();

    assert!(
        leader.is_err(),
        "the leader should have been cancelled by its timeout"
    );
    assert_eq!(
        values,
        vec![2; WAITERS],
        "every waiter gets the new leader's value"
    );
    assert_eq!(
        waiter_bodies.load(Ordering::SeqCst),
        1,
        "more than one waiter took over"
    );
    assert_eq!(cache.info().computations, 2);
    assert_eq!(cache.get(&5), Some(2));
    assert!(
        takeover <= TAKEOVER_BOUND,
        "waiters done after {takeover:?} (bound {TAKEOVER_BOUND:?})"
    );
    record(
        "R5",
        "engine_single_flight_async::r5_cancelled_leader_hands_over_to_one_waiter",
        json!({
            "waiters": WAITERS,
            "computations": cache.info().computations,
            "takeover_bodies": waiter_bodies.load(Ordering::SeqCst),
            "cancel_after_ms": CANCEL_AFTER.as_millis(),
            "body_ms": BODY.as_millis(),
            "all_waiters_done_virtual_ms": takeover.as_secs_f64() * 1e3,
            "bound_virtual_ms": TAKEOVER_BOUND.as_millis(),
        }),
    );
}

/// R5 (errors): an async leader returning `Err` gives the error to its caller
/// only; a waiter takes over, and its `Ok` is stored.
#[tokio::test(start_paused = true)]
async fn r5_failing_async_leader_hands_over_to_one_waiter() {
    let cache: Cache<u64, u64> = Cache::new();
    let leader = tokio::spawn({
        let cache = cache.clone();
        async move {
            cache
                .try_get_or_insert_with_async(1, async {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    Err::<u64, &str>("backend down")
                })
                .await
        }
    });
    assert!(wait_until_async(|| cache.info().computations == 1).await);
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .try_get_or_insert_with_async(1, async { Ok::<u64, &str>(8) })
                    .await
            })
        })
        .collect();
    assert!(wait_until_async(|| cache.info().misses == 5).await);

    let (leader, values) = tokio::time::timeout(Duration::from_secs(5), async {
        let leader = leader.await.unwrap();
        let mut values = Vec::new();
        for waiter in waiters {
            values.push(waiter.await.unwrap());
        }
        (leader, values)
    })
    .await
    .expect("waiters hung after the leader failed");
    assert_eq!(leader, Err("backend down"));
    assert_eq!(values, vec![Ok(8); 4]);
    assert_eq!(cache.info().computations, 2);
    assert_eq!(cache.get(&1), Some(8));
}

fn fib(cache: &Cache<u64, u128>, n: u64) -> Pin<Box<dyn Future<Output = u128> + Send + '_>> {
    Box::pin(async move {
        cache
            .get_or_insert_with_async(n, async move {
                if n < 2 {
                    u128::from(n)
                } else {
                    fib(cache, n - 1).await + fib(cache, n - 2).await
                }
            })
            .await
    })
}

/// R6 (async): memoized async recursion on distinct keys completes with one body
/// per key.
#[tokio::test(start_paused = true)]
async fn r6_async_memoized_fib_90_computes_each_key_once() {
    let cache: Cache<u64, u128> = Cache::new();
    let value = tokio::time::timeout(Duration::from_secs(5), fib(&cache, 90))
        .await
        .expect("deadlock");
    assert_eq!(value, 2_880_067_194_370_816_120);
    assert_eq!(cache.info().computations, 91);
    assert_eq!(cache.info().reentrant_bypass, 0);
    record(
        "R6",
        "engine_single_flight_async::r6_async_memoized_fib_90_computes_each_key_once",
        json!({
            "computations": cache.info().computations,
            "hits": cache.info().hits,
            "reentrant_bypass": cache.info().reentrant_bypass,
        }),
    );
}

/// An async body that awaits (yields) before and after recursing on its own key.
async fn same_key(cache: &Cache<u64, u64>, level: u32) -> u64 {
    cache
        .get_or_insert_with_async(1, async move {
            tokio::task::yield_now().await;
            if level < 3 {
                let inner = Box::pin(same_key(cache, level + 1)).await;
                tokio::task::yield_now().await;
                inner + 1
            } else {
                10
            }
        })
        .await
}

/// R6 (async): an async body that recurses on its own key (across several polls)
/// bypasses dedup and counts it instead of waiting on its own flight forever.
#[tokio::test(start_paused = true)]
async fn r6_async_body_recursing_on_its_own_key_bypasses_instead_of_deadlocking() {
    let cache: Cache<u64, u64> = Cache::new();
    let value = tokio::time::timeout(Duration::from_secs(5), same_key(&cache, 0))
        .await
        .expect("deadlock");
    assert_eq!(value, 13);
    assert_eq!(cache.get(&1), Some(13));
    let info = cache.info();
    assert_eq!(info.reentrant_bypass, 3, "{info:?}");
    assert_eq!(info.computations, 4);
    record(
        "R6",
        "engine_single_flight_async::r6_async_body_recursing_on_its_own_key_bypasses_instead_of_deadlocking",
        json!({
            "depth": 3,
            "computations": info.computations,
            "reentrant_bypass": info.reentrant_bypass,
        }),
    );
}

/// R6 (async, multi-thread): the same-key bypass holds when the task moves
/// between worker threads while its body is pending.
#[test]
fn r6_async_same_key_recursion_on_multi_thread_runtime() {
    multi_thread_runtime().block_on(async {
        let cache: Cache<u64, u64> = Cache::new();
        let task = tokio::spawn({
            let cache = cache.clone();
            async move { same_key(&cache, 0).await }
        });
        let value = tokio::time::timeout(DEADLINE, task)
            .await
            .expect("deadlock")
            .unwrap();
        assert_eq!(value, 13);
        assert_eq!(cache.info().reentrant_bypass, 3);
    });
}

/// The async default map produces once per missing key, also when many tasks
/// ask for the same missing key together.
#[test]
fn async_default_map_produces_once_per_key_concurrently() {
    multi_thread_runtime().block_on(async {
        let produced = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Notify::new());
        let map = Arc::new(AsyncDefaultMap::new(Cache::new(), {
            let (produced, gate) = (Arc::clone(&produced), Arc::clone(&gate));
            move |word: &String| {
                let (produced, gate, len) = (Arc::clone(&produced), Arc::clone(&gate), word.len());
                async move {
                    produced.fetch_add(1, Ordering::SeqCst);
                    gate.notified().await;
                    len
                }
            }
        }));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let map = Arc::clone(&map);
                tokio::spawn(async move { map.get("missing".to_string()).await })
            })
            .collect();
        let all_missed = wait_until_async(|| map.cache().info().misses == 8).await;
        gate.notify_one();
        assert!(all_missed);
        let values = join_within_deadline(tasks).await;
        assert_eq!(values, vec![7; 8]);
        assert_eq!(produced.load(Ordering::SeqCst), 1);

        // Sequential reads of present and missing keys: one production per new key.
        gate.notify_one();
        let more = tokio::time::timeout(DEADLINE, async {
            let first = map.get("ab".to_string()).await;
            gate.notify_one();
            let rest = map
                .get_many(["ab".to_string(), "missing".to_string()])
                .await;
            (first, rest)
        })
        .await
        .expect("hung");
        assert_eq!(more, (2, vec![2, 7]));
        assert_eq!(produced.load(Ordering::SeqCst), 2);
        assert_eq!(map.cache().info().computations, 2);
    });
}
