//! Shared helpers for the workspace tests: gates and bounded waits, so tests are
//! deterministic and a bug makes a test fail instead of hang.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod figures;
pub mod redis_server;

use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long a test may wait for a condition before it fails (never reached when
/// the engine works; it only keeps a bug from hanging the suite).
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Calls `nudge` (yielding after each) until `done` holds or `limit` passed;
/// returns whether it holds. For values whose drop the engine defers until no
/// reader of the map can still be reading them: the waiting thread's own map
/// operations (the `nudge`) let its epoch collector drop what it retired.
pub fn settle(done: impl Fn() -> bool, mut nudge: impl FnMut(), limit: Duration) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() >= limit {
            return false;
        }
        nudge();
        thread::yield_now();
    }
    true
}

/// A latch the test opens. Waiting is bounded so a bug cannot hang the suite.
pub struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Default for Gate {
    fn default() -> Self {
        Self::new()
    }
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Self {
        Self {
            open: Mutex::new(false),
            opened: Condvar::new(),
        }
    }

    /// Opens the gate for every waiter, present and future.
    pub fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    /// Blocks until the gate is open; panics after three [`DEADLINE`]s.
    pub fn wait(&self) {
        let guard = self.open.lock().unwrap();
        let (guard, _) = self
            .opened
            .wait_timeout_while(guard, DEADLINE * 3, |open| !*open)
            .unwrap();
        assert!(*guard, "gate was not opened in time");
    }
}

/// Polls `condition` (yielding the CPU in between) until it holds or
/// [`DEADLINE`] passes; returns whether it held.
pub fn wait_until(mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        if condition() {
            return true;
        }
        thread::yield_now();
    }
    condition()
}

/// Polls `condition` every `interval` until it holds or [`DEADLINE`] passes;
/// returns whether it held. For conditions that cost a round trip (a Redis
/// query), where [`wait_until`]'s tight loop would only burn CPU and sockets.
pub fn wait_until_every(interval: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        if condition() {
            return true;
        }
        thread::sleep(interval);
    }
    condition()
}

/// Polls `condition` (yielding to the runtime in between) until it holds or the
/// real-time [`DEADLINE`] passes; returns whether it held.
pub async fn wait_until_async(mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        if condition() {
            return true;
        }
        tokio::task::yield_now().await;
    }
    condition()
}

/// The results of `tasks`, in order; panics if one panicked or if they are not
/// all done within [`DEADLINE`] (a lost wake-up must fail, not hang).
pub async fn join_within_deadline<T>(
    tasks: impl IntoIterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let joined = tokio::time::timeout(DEADLINE, async {
        let mut values = Vec::new();
        for task in tasks {
            values.push(task.await.expect("task panicked"));
        }
        values
    });
    joined.await.expect("tasks still pending at the deadline")
}

/// A multi-thread tokio runtime with two workers and every driver enabled.
///
/// # Panics
///
/// When the runtime cannot be built.
pub fn multi_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}
