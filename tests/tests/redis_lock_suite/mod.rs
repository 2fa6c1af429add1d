//! The Redis lock suite, run once per topology: `redis_lock.rs` includes it for
//! one `redis-server`, `redis_lock_cluster.rs` for a 3-master Redis Cluster. The
//! including file defines `TOPOLOGY` and `builder(urls)`.
//!
//! Every test starts its own deployment (nextest runs each test in its own
//! process). Waits are bounded ([`DEADLINE`]); the only fixed sleeps are the
//! ones that let a lock's own `timeout` pass.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use cache_redis::{LockError, RedisBackend};
use cache_tests::redis_server::{Redis, Topology};
use cache_tests::{DEADLINE, multi_thread_runtime, wait_until_every};

use super::{TOPOLOGY, builder};

/// The node URLs of this test's deployment.
static URLS: OnceLock<Vec<String>> = OnceLock::new();

/// Starts this test's deployment and records its URLs.
fn start() -> Option<Redis> {
    let redis = Redis::start(TOPOLOGY)?;
    URLS.set(redis.urls())
        .expect("one deployment per test process");
    Some(redis)
}

/// A new backend (its own connections: a separate client), prefix `t`.
fn backend() -> RedisBackend {
    builder(URLS.get().expect("the test starts Redis first"))
        .prefix("t")
        .op_timeout(Duration::from_secs(2))
        .build()
        .expect("valid URLs")
}

fn key(name: &str) -> String {
    format!("t:lock:{name}")
}

/// Threads of separate clients take turns: never two inside at once, and a
/// non-atomic read-modify-write counter loses no update.
#[test]
fn mutual_exclusion_threads() {
    let Some(redis) = start() else { return };
    const THREADS: u64 = 4;
    const ROUNDS: u64 = 10;
    let inside = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(THREADS as usize));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (inside, counter, barrier) = (inside.clone(), counter.clone(), barrier.clone());
            thread::spawn(move || {
                let lock = backend()
                    .lock("counter")
                    .sleep(Duration::from_millis(2))
                    .blocking_timeout(DEADLINE);
                barrier.wait();
                for _ in 0..ROUNDS {
                    lock.with(|| {
                        assert!(!inside.swap(true, Ordering::SeqCst), "two holders at once");
                        let read = counter.load(Ordering::SeqCst);
                        thread::sleep(Duration::from_millis(1));
                        counter.store(read + 1, Ordering::SeqCst);
                        inside.store(false, Ordering::SeqCst);
                    })
                    .expect("acquired within the deadline");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("no overlap, no error");
    }
    assert_eq!(counter.load(Ordering::SeqCst), THREADS * ROUNDS);
    assert!(
        !redis.exists(&key("counter")),
        "released after the last round"
    );
}

/// The same with tasks on a multi-thread runtime and `with_lock_async`.
#[test]
fn mutual_exclusion_tasks() {
    let Some(redis) = start() else { return };
    const TASKS: u64 = 6;
    const ROUNDS: u64 = 8;
    let inside = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let redis_backend = backend();
    multi_thread_runtime().block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let (inside, counter) = (inside.clone(), counter.clone());
                let lock = redis_backend
                    .lock("counter")
                    .sleep(Duration::from_millis(2))
                    .blocking_timeout(DEADLINE);
                tokio::spawn(async move {
                    for _ in 0..ROUNDS {
                        lock.with_async(async {
                            assert!(!inside.swap(true, Ordering::SeqCst), "two holders at once");
                            let read = counter.load(Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(1)).await;
                            counter.store(read + 1, Ordering::SeqCst);
                            inside.store(false, Ordering::SeqCst);
                        })
                        .await
                        .expect("acquired within the deadline");
                    }
                })
            })
            .collect();
        cache_tests::join_within_deadline(tasks).await;
    });
    assert_eq!(counter.load(Ordering::SeqCst), TASKS * ROUNDS);
    assert!(!redis.exists(&key("counter")));
}

/// `SET … NX PX timeout`: the key holds the guard's token with a TTL in
/// (0, timeout]; a second `try_acquire` gets nothing.
#[test]
fn acquire_sets_px_and_excludes() {
    let Some(redis) = start() else { return };
    let lock = backend().lock("px").timeout(Duration::from_secs(2));
    let guard = lock.try_acquire().unwrap().expect("free lock");
    let pttl = redis.pttl(&key("px"));
    assert!(pttl > 0 && pttl <= 2000, "PTTL {pttl}");
    assert!(guard.is_held().unwrap());
    assert!(lock.is_locked().unwrap());
    let token = redis.get(&key("px")).expect("the key exists");
    assert_eq!(token.len(), 32, "128 random bits as hex");
    assert!(backend().lock("px").try_acquire().unwrap().is_none());
    // A second guard of the same process has another token.
    let other = backend().lock("px2").try_acquire().unwrap().expect("free");
    assert_ne!(redis.get(&key("px2")), Some(token));
    guard.release().unwrap();
    other.release().unwrap();
    assert!(!redis.exists(&key("px")));
    assert!(!lock.is_locked().unwrap());
}

/// A holder that never releases loses the lock after `timeout`: another client
/// acquires it (bounded wait), and the first guard is no longer held.
#[test]
fn expiry_lets_another_acquire() {
    let Some(redis) = start() else { return };
    let first = backend()
        .lock("expiring")
        .timeout(Duration::from_millis(200))
        .acquire()
        .unwrap();
    let start = Instant::now();
    let second = backend()
        .lock("expiring")
        .sleep(Duration::from_millis(10))
        .blocking_timeout(DEADLINE)
        .acquire()
        .expect("acquired once the first expired");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(100),
        "waited only {waited:?}"
    );
    assert!(!first.is_held().unwrap());
    assert!(second.is_held().unwrap());
    assert!(
        redis.pttl(&key("expiring")) > 200,
        "the second's 5 s timeout"
    );
    drop(first); // not ours: the second's key stays
    assert!(second.is_held().unwrap());
}

/// A taken lock: `acquire` gives up after `blocking_timeout` with
/// `LockError::Timeout`, and `with` / `with_lock_async` do not run the section.
#[test]
fn blocking_timeout_is_an_error_and_the_section_does_not_run() {
    let Some(_redis) = start() else { return };
    let holder = backend()
        .lock("busy")
        .timeout(DEADLINE * 2)
        .acquire()
        .unwrap();
    let contender = backend()
        .lock("busy")
        .sleep(Duration::from_millis(20))
        .blocking_timeout(Duration::from_millis(150));
    let ran = AtomicBool::new(false);
    let start = Instant::now();
    let result = contender.with(|| ran.store(true, Ordering::SeqCst));
    let elapsed = start.elapsed();
    match result {
        Err(LockError::Timeout { name, waited }) => {
            assert_eq!(name, "busy");
            assert!(waited >= Duration::from_millis(150), "{waited:?}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert!(
        !ran.load(Ordering::SeqCst),
        "the critical section ran unlocked"
    );
    let message = contender.acquire().unwrap_err().to_string();
    assert!(
        message.contains("busy") && message.contains("not acquired"),
        "{message}"
    );

    let other = backend();
    let ran_async = AtomicBool::new(false);
    let result = multi_thread_runtime().block_on(async {
        other
            .lock("busy")
            .blocking_timeout(Duration::from_millis(100))
            .with_async(async { ran_async.store(true, Ordering::SeqCst) })
            .await
    });
    assert!(
        matches!(result, Err(LockError::Timeout { .. })),
        "{result:?}"
    );
    assert!(!ran_async.load(Ordering::SeqCst));
    // Zero blocking timeout: one attempt.
    let once = backend()
        .lock("busy")
        .blocking_timeout(Duration::ZERO)
        .acquire();
    assert!(matches!(once, Err(LockError::Timeout { .. })));
    assert!(holder.is_held().unwrap(), "the holder was never disturbed");
    holder.release().unwrap();
    assert_eq!(backend().with_lock("busy", || 7).unwrap(), 7);
}

/// A lock that expired and was taken by another client: releasing, extending
/// or renewing it is `NotOwner`, and the new holder's key is untouched.
#[test]
fn release_of_an_expired_and_retaken_lock_is_not_owner() {
    let Some(redis) = start() else { return };
    let stale = backend()
        .lock("retaken")
        .timeout(Duration::from_millis(150))
        .acquire()
        .unwrap();
    assert!(
        wait_until_every(Duration::from_millis(10), || !redis.exists(&key("retaken"))),
        "the first lock expired"
    );
    let fresh = backend()
        .lock("retaken")
        .blocking_timeout(Duration::ZERO)
        .acquire()
        .unwrap();
    let token = redis.get(&key("retaken")).expect("the new holder's key");
    let pttl = redis.pttl(&key("retaken"));
    assert!(matches!(
        stale.extend(Duration::from_secs(60)),
        Err(LockError::NotOwner { .. })
    ));
    assert!(matches!(stale.renew(), Err(LockError::NotOwner { .. })));
    match stale.release() {
        Err(LockError::NotOwner { name }) => assert_eq!(name, "retaken"),
        other => panic!("expected NotOwner, got {other:?}"),
    }
    assert_eq!(redis.get(&key("retaken")), Some(token));
    let after = redis.pttl(&key("retaken"));
    assert!(
        after > 0 && after <= pttl,
        "TTL untouched: {after} after {pttl}"
    );
    assert!(fresh.is_held().unwrap());
    fresh.release().unwrap();
}

/// `extend` adds time (the holder keeps it past its original timeout);
/// `renew` resets it to the full timeout.
#[test]
fn extend_and_renew_keep_it_past_the_timeout() {
    let Some(redis) = start() else { return };
    let guard = backend()
        .lock("long")
        .timeout(Duration::from_millis(300))
        .acquire()
        .unwrap();
    guard.extend(Duration::from_secs(3)).unwrap();
    let pttl = redis.pttl(&key("long"));
    assert!(pttl > 3000 && pttl <= 3300, "PTTL {pttl}");
    thread::sleep(Duration::from_millis(400)); // past the original 300 ms
    assert!(guard.is_held().unwrap());
    assert!(backend().lock("long").try_acquire().unwrap().is_none());
    guard.renew().unwrap();
    let pttl = redis.pttl(&key("long"));
    assert!(pttl > 0 && pttl <= 300, "renewed to the timeout: {pttl}");
    multi_thread_runtime().block_on(async {
        guard.extend_async(Duration::from_secs(2)).await.unwrap();
        assert!(redis.pttl(&key("long")) > 2000);
        guard.renew_async().await.unwrap();
        assert!(redis.pttl(&key("long")) <= 300);
        assert!(guard.is_held_async().await.unwrap());
        guard.release_async().await.unwrap();
    });
    assert!(!redis.exists(&key("long")));
}

/// A sync guard releases before `drop` returns, also while unwinding out of
/// `with`.
#[test]
fn sync_guard_drop_releases() {
    let Some(redis) = start() else { return };
    let lock = backend().lock("dropped");
    let guard = lock.acquire().unwrap();
    assert!(redis.exists(&key("dropped")));
    drop(guard);
    assert!(!redis.exists(&key("dropped")), "released by Drop");
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        lock.with(|| panic!("the critical section fails")).unwrap();
    }));
    assert!(panicked.is_err());
    assert!(!redis.exists(&key("dropped")), "released while unwinding");
}

/// An async guard: `release_async` is immediate; a dropped guard (and a
/// cancelled `with_async`) releases on the runtime without blocking it.
#[test]
fn async_guard_drop_releases() {
    let Some(redis) = start() else { return };
    let redis_backend = backend();
    let gone =
        |name: &str| wait_until_every(Duration::from_millis(5), || !redis.exists(&key(name)));
    let runtime = multi_thread_runtime();
    runtime.block_on(async {
        let lock = redis_backend.lock("async");
        let guard = lock.acquire_async().await.unwrap();
        assert!(guard.is_held_async().await.unwrap());
        guard.release_async().await.unwrap();
        assert!(!redis.exists(&key("async")));

        let guard = lock.acquire_async().await.unwrap();
        drop(guard);
        // The release was spawned: the next acquire (retrying) gets it.
        let again = lock
            .clone()
            .blocking_timeout(DEADLINE)
            .sleep(Duration::from_millis(5))
            .acquire_async()
            .await
            .unwrap();
        drop(again);
    });
    assert!(gone("async"));
    // A critical section cancelled while holding the lock.
    runtime.block_on(async {
        let entered = Arc::new(tokio::sync::Notify::new());
        let lock = redis_backend.lock("cancelled");
        let task = {
            let entered = entered.clone();
            tokio::spawn(async move {
                lock.with_async(async {
                    entered.notify_one();
                    std::future::pending::<()>().await;
                })
                .await
            })
        };
        tokio::time::timeout(DEADLINE, entered.notified())
            .await
            .unwrap();
        assert!(redis.exists(&key("cancelled")));
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    });
    assert!(gone("cancelled"), "the aborted holder's guard released it");
    // Dropped outside any runtime: released synchronously.
    let guard = runtime
        .block_on(redis_backend.lock("outside").acquire_async())
        .unwrap();
    drop(guard);
    assert!(!redis.exists(&key("outside")));
}

/// Another process holds the lock: this one cannot take it until the other
/// releases, then can.
#[test]
fn two_processes_contend() {
    let Some(redis) = start() else { return };
    let topology = match TOPOLOGY {
        Topology::Single => "single",
        Topology::Cluster => "cluster",
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_lock-probe"))
        .arg(topology)
        .arg("shared")
        .args(URLS.get().unwrap())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn lock-probe");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next_line = move || {
        lines
            .next()
            .expect("lock-probe printed a line")
            .expect("readable")
    };
    assert_eq!(next_line(), "acquired");
    assert!(redis.exists(&key("shared")));
    let lock = backend().lock("shared").sleep(Duration::from_millis(5));
    assert!(lock.try_acquire().unwrap().is_none());
    let refused = lock
        .clone()
        .blocking_timeout(Duration::from_millis(100))
        .acquire();
    assert!(matches!(refused, Err(LockError::Timeout { .. })));
    // Tell it to release; our acquire (already waiting) gets it next.
    let waiter = thread::spawn(move || lock.blocking_timeout(DEADLINE).acquire());
    writeln!(child.stdin.take().unwrap(), "release").unwrap();
    assert_eq!(next_line(), "released");
    let guard = waiter
        .join()
        .unwrap()
        .expect("acquired after the other released");
    assert!(guard.is_held().unwrap());
    let status = child.wait().unwrap();
    assert!(status.success(), "lock-probe: {status}");
    guard.release().unwrap();
}
