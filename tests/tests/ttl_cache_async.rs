//! `#[ttl_cache]` on `async fn`s: counters, `Result`, single-flight across
//! tasks, `Send` futures, hits that never poll the body, cancellation of the
//! computing caller, and async methods.
//!
//! Deterministic: gates are opened once the cache's own counters show every
//! task has missed, futures are polled by hand where an exact interleaving
//! matters, and every wait is bounded so a lost wake-up fails instead of hanging.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::Poll;

use cache_core::clock::{Clock, MockClock};
use cache_core::{MemoryBackend, PersistentHash, ttl_cache};
use cache_tests::{DEADLINE, join_within_deadline, wait_until};
use tokio::sync::Semaphore;

/// Polls `future` exactly once and reports whether it finished.
async fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> bool {
    let mut future = future;
    std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx).is_ready())).await
}

fn assert_send<T: Send>(value: T) -> T {
    value
}

// ---- counters --------------------------------------------------------------

static DOUBLE_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
async fn double(x: u64) -> u64 {
    DOUBLE_CALLS.fetch_add(1, Ordering::SeqCst);
    tokio::task::yield_now().await;
    x * 2
}

/// The async form keeps the sync contract: a miss computes, a repeat is a hit.
#[tokio::test]
async fn async_second_call_is_a_hit() {
    assert_eq!(double(21).await, 42);
    assert_eq!(double(21).await, 42);
    let info = double::cache_info();
    assert_eq!(
        (info.hits, info.misses, info.computations, info.current_size),
        (1, 1, 1, 1)
    );
    assert_eq!(DOUBLE_CALLS.load(Ordering::SeqCst), 1);
}

#[ttl_cache]
async fn half(x: u64) -> Result<u64, String> {
    tokio::task::yield_now().await;
    if x.is_multiple_of(2) {
        Ok(x / 2)
    } else {
        Err(format!("{x} is odd"))
    }
}

/// Async errors are as transient as sync ones: only `Ok` may be stored.
#[tokio::test]
async fn async_result_caches_only_ok() {
    assert!(half(3).await.is_err());
    assert!(half(3).await.is_err());
    let info = half::cache_info();
    assert_eq!(
        (info.computations, info.current_size),
        (2, 0),
        "an Err was cached"
    );
    assert_eq!(half(10).await, Ok(5));
    assert_eq!(half(10).await, Ok(5));
    let info = half::cache_info();
    assert_eq!((info.computations, info.hits, info.current_size), (3, 1, 1));
}

// ---- polling ----------------------------------------------------------------

static ONCE_POLLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
async fn polled_once(x: u64) -> u64 {
    let polls = ONCE_POLLS.fetch_add(1, Ordering::SeqCst);
    assert_eq!(polls, 0, "the body of a cached value was polled again");
    x + 1
}

/// A hit must return the stored value without polling the body's future (the
/// body may have side effects or be expensive to start).
#[tokio::test]
async fn async_hit_never_polls_the_body() {
    assert_eq!(polled_once(1).await, 2);
    assert_eq!(polled_once(1).await, 2);
    assert_eq!(polled_once(1).await, 2);
    assert_eq!(ONCE_POLLS.load(Ordering::SeqCst), 1);
    assert_eq!(polled_once::cache_info().hits, 2);
}

#[ttl_cache]
async fn sendable(x: u64) -> String {
    tokio::task::yield_now().await;
    format!("value {x}")
}

/// A cached `async fn` must stay spawnable on a multi-thread runtime: the
/// cache's machinery must not make the future `!Send`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_cached_future_is_send() {
    let miss = tokio::spawn(assert_send(sendable(5))).await.unwrap();
    let hit = tokio::spawn(assert_send(sendable(5))).await.unwrap();
    assert_eq!(miss, "value 5");
    assert_eq!(hit, "value 5");
    let info = sendable::cache_info();
    assert_eq!((info.hits, info.computations), (1, 1));
}

// ---- single-flight -------------------------------------------------------------

const TASKS: usize = 32;

/// An async gate: closed (no permits) until the test adds one, which every
/// passer hands back, so once open it stays open.
static SLOW_GATE: Semaphore = Semaphore::const_new(0);
static SLOW_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
async fn slow(x: u64) -> u64 {
    SLOW_CALLS.fetch_add(1, Ordering::SeqCst);
    // Held until every task has missed.
    drop(SLOW_GATE.acquire().await.unwrap());
    x * 3
}

/// Concurrent async misses on one cold key must poll one body and hand its value
/// to every task, without blocking the executor while they wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn async_concurrent_callers_on_one_cold_key_compute_once() {
    let tasks: Vec<_> = (0..TASKS).map(|_| tokio::spawn(slow(11))).collect();
    // Tasks count their miss before they wait; the test thread is not a worker,
    // so blocking it here does not stall them.
    let all_missed = wait_until(|| slow::cache_info().misses == TASKS as u64);
    SLOW_GATE.add_permits(1);
    assert!(
        all_missed,
        "only {} of {TASKS} tasks missed",
        slow::cache_info().misses
    );
    let values = join_within_deadline(tasks).await;
    assert_eq!(values, vec![33; TASKS]);
    assert_eq!(
        SLOW_CALLS.load(Ordering::SeqCst),
        1,
        "the body ran more than once"
    );
    let info = slow::cache_info();
    assert_eq!((info.computations, info.current_size), (1, 1));
}

// ---- cancellation -----------------------------------------------------------------

static CANCEL_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
async fn cancellable(x: u64) -> u64 {
    if CANCEL_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
        // The first body never finishes: its caller is dropped mid-computation.
        std::future::pending::<()>().await;
    }
    x + 1_000
}

/// Dropping the computing caller's future must abandon its flight: the next
/// caller computes instead of waiting forever on a poisoned key.
#[tokio::test]
async fn dropped_leader_future_lets_next_caller_compute() {
    {
        let leader = pin!(cancellable(1));
        assert!(!poll_once(leader).await, "the first body cannot finish");
        assert_eq!(
            CANCEL_CALLS.load(Ordering::SeqCst),
            1,
            "the body was not started"
        );
    } // The leader's future is dropped here, mid-computation.
    let next = tokio::time::timeout(DEADLINE, cancellable(1))
        .await
        .expect("the key stayed claimed by the dropped leader");
    assert_eq!(next, 1_001);
    assert_eq!(cancellable(1).await, 1_001);
    assert_eq!(CANCEL_CALLS.load(Ordering::SeqCst), 2);
    let info = cancellable::cache_info();
    assert_eq!((info.computations, info.hits, info.current_size), (2, 1, 1));
}

static HANDOVER_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
async fn handed_over(x: u64) -> u64 {
    if HANDOVER_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
        std::future::pending::<()>().await;
    }
    x + 2_000
}

/// A caller already waiting on the flight when the leader is dropped must take
/// over and compute, not hang or fail.
#[tokio::test]
async fn waiter_takes_over_when_leader_future_is_dropped() {
    let mut leader = Box::pin(handed_over(2));
    assert!(!poll_once(leader.as_mut()).await);
    let mut waiter = pin!(handed_over(2));
    assert!(!poll_once(waiter.as_mut()).await, "the waiter did not wait");
    assert_eq!(
        HANDOVER_CALLS.load(Ordering::SeqCst),
        1,
        "the waiter computed"
    );
    assert_eq!(handed_over::cache_info().misses, 2);
    drop(leader);
    let value = tokio::time::timeout(DEADLINE, waiter)
        .await
        .expect("the waiter was not woken by the abandoned flight");
    assert_eq!(value, 2_002);
    assert_eq!(HANDOVER_CALLS.load(Ordering::SeqCst), 2);
    let info = handed_over::cache_info();
    assert_eq!((info.computations, info.current_size), (2, 1));
}

// ---- methods ----------------------------------------------------------------------

#[derive(PersistentHash)]
struct Client {
    region: String,
}

static FETCH_CALLS: AtomicUsize = AtomicUsize::new(0);

impl Client {
    #[ttl_cache]
    async fn fetch(&self, id: u64) -> String {
        FETCH_CALLS.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        format!("{}:{id}", self.region)
    }
}

/// An async method borrowing `&self` is cached per instance state and argument.
#[tokio::test]
async fn async_method_with_self_is_cached_per_instance() {
    let eu = Client {
        region: "eu".into(),
    };
    let us = Client {
        region: "us".into(),
    };
    assert_eq!(eu.fetch(1).await, "eu:1");
    assert_eq!(us.fetch(1).await, "us:1");
    assert_eq!(eu.fetch(1).await, "eu:1");
    assert_eq!(us.fetch(1).await, "us:1");
    assert_eq!(FETCH_CALLS.load(Ordering::SeqCst), 2);
    let info = Client::fetch_cache().cache_info();
    assert_eq!((info.misses, info.hits, info.current_size), (2, 2, 2));
}

// ---- backend = MemoryBackend ---------------------------------------------------

static ON_MEMORY: LazyLock<(MemoryBackend, Arc<MockClock>)> = LazyLock::new(|| {
    let (clock, time) = Clock::mock();
    (MemoryBackend::with_clock(clock), time)
});
static ON_MEMORY_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(ttl = 10, backend = ON_MEMORY.0.clone())]
async fn on_memory_backend(x: u64) -> String {
    ON_MEMORY_CALLS.fetch_add(1, Ordering::SeqCst);
    format!("v{x}")
}

/// An async fn whose backend is a `MemoryBackend` (its hits are served from
/// the function's own poll, not the boxed rest of the call): a hit is ready
/// at the first poll and counted once, the TTL runs on the backend's clock,
/// and `cache_clear` empties what the hits read.
#[tokio::test]
async fn async_fn_on_a_memory_backend_counts_hits_and_expires_on_its_clock() {
    assert_eq!(on_memory_backend(1).await, "v1");
    let mut hit = pin!(on_memory_backend(1));
    let first = std::future::poll_fn(|cx| Poll::Ready(hit.as_mut().poll(cx))).await;
    assert_eq!(
        first,
        Poll::Ready("v1".to_owned()),
        "a hit is ready at the first poll"
    );
    let info = on_memory_backend::cache_info();
    assert_eq!(
        (info.hits, info.misses, info.computations),
        (1, 1, 1),
        "{info:?}"
    );

    ON_MEMORY.1.advance(std::time::Duration::from_millis(9_999));
    assert_eq!(on_memory_backend(1).await, "v1");
    assert_eq!(
        on_memory_backend::cache_info().hits,
        2,
        "expired before its ttl"
    );
    ON_MEMORY.1.advance(std::time::Duration::from_millis(2));
    assert_eq!(on_memory_backend(1).await, "v1");
    let info = on_memory_backend::cache_info();
    assert_eq!(
        (info.hits, info.computations),
        (2, 2),
        "served after its ttl: {info:?}"
    );

    on_memory_backend::cache_clear();
    assert_eq!(on_memory_backend(1).await, "v1");
    assert_eq!(on_memory_backend(1).await, "v1");
    let info = on_memory_backend::cache_info();
    assert_eq!(ON_MEMORY_CALLS.load(Ordering::SeqCst), 3);
    assert_eq!(info.current_size, 1, "{info:?}");
}
