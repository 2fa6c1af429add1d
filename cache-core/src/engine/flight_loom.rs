//! R19: a loom model check of single-flight. Run it with `scripts/loom`.
//!
//! The real `flight.rs` is compiled here a second time, with loom's `Arc` and
//! `Mutex` as its `super::sync` (under `cfg(loom)` event-listener switches its
//! own atomics and parking to loom's by itself), and each scenario runs under
//! every interleaving loom explores within a small preemption bound. A lost
//! wake-up shows as a deadlock: every thread blocked, which loom fails. Each
//! scenario also checks what every caller got.
//!
//! Why a second copy rather than the engine's own `flight` module: the engine
//! keeps flights in `std::sync::Arc` (`Slot`'s flight, `load.rs`), so switching
//! `flight.rs` to loom's types crate-wide would not build; the copy leaves every
//! other file as it is. The engine itself still builds under `cfg(loom)` (its
//! other tests are not run then: its `Event` would need a loom model).
//!
//! The map slot and the leader guard of `load.rs` are modelled by [`Map`] and
//! [`Leader`] (the `scc` index cannot run under loom): a `Mutex<Slot>` stands in
//! for the key's bucket lock, and claim, complete and abandon take it exactly
//! where `load.rs` does.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

/// What `flight.rs` gets as `super::sync` in this copy.
mod sync {
    pub(crate) use loom::sync::atomic::AtomicBool;
    pub(crate) use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
}

/// The real `flight.rs`, loaded a second time on purpose (see the module docs).
/// Its reentrancy helpers (`ActiveScope`, `Scoped`, `is_active`) are per-thread
/// bookkeeping, not shared state: not modelled, so unused here.
#[allow(dead_code, clippy::duplicate_mod)]
#[path = "flight.rs"]
mod flight;

use flight::{Flight, Outcome};
use sync::{Arc, Mutex};

/// Preemptions per execution unless `LOOM_MAX_PREEMPTIONS` sets another bound:
/// enough for a waiter to be preempted between its listener, its state check
/// and its sleep while the leader settles, and small enough that the whole
/// check takes seconds.
const PREEMPTIONS: usize = 2;

/// Runs `f` under every interleaving within the preemption bound.
fn check(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound.get_or_insert(PREEMPTIONS);
    builder.check(f);
}

/// What a waiter got: the value, or `None` when the flight was abandoned.
fn value(outcome: Outcome<u32>) -> Option<u32> {
    match outcome {
        Outcome::Value(value) => Some(value),
        Outcome::Abandoned => None,
    }
}

/// Polls `future` once, with a waker that does nothing.
fn poll<F: Future>(future: Pin<&mut F>) -> Option<F::Output> {
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// Polls `future` once and drops it: a caller cancelled mid-wait (a timeout,
/// a `select!` branch not taken).
fn poll_once<F: Future>(future: F) -> Option<F::Output> {
    poll(pin!(future))
}

/// Spawns a thread that waits (blocking) on `flight`.
fn spawn_waiter(flight: &Arc<Flight<u32>>) -> thread::JoinHandle<Option<u32>> {
    let flight = Arc::clone(flight);
    thread::spawn(move || value(flight.wait()))
}

#[test]
fn loom_finish_wakes_two_sync_waiters() {
    check(|| {
        let flight = Flight::new();
        let waiter = spawn_waiter(&flight);
        let leader = {
            let flight = Arc::clone(&flight);
            thread::spawn(move || flight.finish(7))
        };
        assert_eq!(value(flight.wait()), Some(7));
        assert_eq!(waiter.join().unwrap(), Some(7));
        leader.join().unwrap();
    });
}

#[test]
fn loom_abandon_wakes_every_waiter() {
    check(|| {
        let flight = Flight::<u32>::new();
        let waiter = spawn_waiter(&flight);
        let leader = {
            let flight = Arc::clone(&flight);
            thread::spawn(move || flight.abandon())
        };
        assert_eq!(value(flight.wait()), None);
        assert_eq!(waiter.join().unwrap(), None);
        leader.join().unwrap();
    });
}

#[test]
fn loom_async_and_sync_waiters_get_the_value() {
    check(|| {
        let flight = Flight::new();
        let waiter = spawn_waiter(&flight);
        let leader = {
            let flight = Arc::clone(&flight);
            thread::spawn(move || flight.finish(7))
        };
        assert_eq!(value(block_on(flight.wait_async())), Some(7));
        assert_eq!(waiter.join().unwrap(), Some(7));
        leader.join().unwrap();
    });
}

/// A waiter that marked the flight as waited for and then dropped its wait
/// must not cost the other waiter its wake-up (nor itself, when it waits again).
#[test]
fn loom_cancelled_async_waiter_loses_no_wakeup() {
    check(|| {
        let flight = Flight::new();
        let leader = {
            let flight = Arc::clone(&flight);
            thread::spawn(move || flight.finish(7))
        };
        let cancelled = {
            let flight = Arc::clone(&flight);
            thread::spawn(move || {
                if let Some(outcome) = poll_once(flight.wait_async()) {
                    assert_eq!(value(outcome), Some(7));
                }
                value(flight.wait())
            })
        };
        assert_eq!(value(flight.wait()), Some(7));
        assert_eq!(cancelled.join().unwrap(), Some(7));
        leader.join().unwrap();
    });
}

/// The error a model body returns.
#[derive(Debug, PartialEq)]
struct Failed;

/// One key's map slot, as the engine's `Slot`.
enum Slot {
    Empty,
    Loading(Arc<Flight<u32>>),
    Ready(u32),
}

/// What claiming the slot gave, as `load.rs`'s `Claim`.
enum Claim {
    Hit(u32),
    Wait(Arc<Flight<u32>>),
    Lead(Arc<Flight<u32>>),
}

/// One key of the engine's map, and how many bodies ran for it.
struct Map {
    slot: Mutex<Slot>,
    bodies: AtomicUsize,
    /// Waits that ended without a value (the flight was abandoned).
    retries: AtomicUsize,
    /// Whether the first body to run fails (its leader abandons the flight).
    fail_first: bool,
}

/// `load.rs`'s `Leader`: abandons the flight unless completed, so a panic,
/// an error and a dropped future all take this `Drop`.
struct Leader<'a> {
    map: &'a Map,
    flight: Arc<Flight<u32>>,
    live: bool,
}

impl Leader<'_> {
    /// `Store::complete`: under the lock, sees whether anyone joined and fills
    /// its own slot; outside it, hands the value to the waiters if any joined
    /// (else settles without it). A slot replaced or removed meanwhile is left
    /// as it is, and the flight settles as `load.rs`'s `settle` does.
    fn complete(mut self, value: u32) {
        self.live = false;
        let handed = {
            let mut slot = self.map.slot.lock().unwrap();
            if matches!(&*slot, Slot::Loading(f) if Arc::ptr_eq(f, &self.flight)) {
                let joined = self.flight.joined();
                *slot = Slot::Ready(value);
                Some(joined)
            } else {
                None
            }
        };
        if handed.unwrap_or_else(|| self.flight.joined()) {
            self.flight.finish(value);
        } else {
            self.flight.abandon();
        }
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if self.live {
            {
                let mut slot = self.map.slot.lock().unwrap();
                if matches!(&*slot, Slot::Loading(f) if Arc::ptr_eq(f, &self.flight)) {
                    *slot = Slot::Empty;
                }
            }
            self.flight.abandon();
        }
    }
}

impl Map {
    fn new(fail_first: bool) -> Arc<Self> {
        Arc::new(Self {
            slot: Mutex::new(Slot::Empty),
            bodies: AtomicUsize::new(0),
            retries: AtomicUsize::new(0),
            fail_first,
        })
    }

    /// `Store::claim`: under the slot's lock, a value, someone's flight, or ours.
    fn claim(&self) -> Claim {
        let mut slot = self.slot.lock().unwrap();
        match &*slot {
            Slot::Ready(value) => Claim::Hit(*value),
            Slot::Loading(flight) => {
                flight.join();
                Claim::Wait(Arc::clone(flight))
            }
            Slot::Empty => {
                let flight = Flight::new();
                *slot = Slot::Loading(Arc::clone(&flight));
                Claim::Lead(flight)
            }
        }
    }

    fn leader(&self, flight: Arc<Flight<u32>>) -> Leader<'_> {
        Leader {
            map: self,
            flight,
            live: true,
        }
    }

    /// A computation: 42, or `Failed` if it is the first and `fail_first`.
    fn body(&self) -> Result<u32, Failed> {
        let first = self.bodies.fetch_add(1, Ordering::SeqCst) == 0;
        if first && self.fail_first {
            Err(Failed)
        } else {
            Ok(42)
        }
    }

    /// `Store::load` (without the reentrancy bypass).
    fn load(&self, init: impl FnOnce() -> Result<u32, Failed>) -> Result<u32, Failed> {
        loop {
            match self.claim() {
                Claim::Hit(value) => return Ok(value),
                Claim::Wait(flight) => {
                    if let Outcome::Value(value) = flight.wait() {
                        return Ok(value);
                    }
                    self.retries.fetch_add(1, Ordering::SeqCst);
                }
                Claim::Lead(flight) => {
                    let leader = self.leader(flight);
                    let result = init();
                    if let Ok(value) = &result {
                        leader.complete(*value);
                    }
                    return result;
                }
            }
        }
    }

    /// `Store::load_async` (without the reentrancy bypass).
    async fn load_async(
        &self,
        init: impl Future<Output = Result<u32, Failed>>,
    ) -> Result<u32, Failed> {
        loop {
            match self.claim() {
                Claim::Hit(value) => return Ok(value),
                Claim::Wait(flight) => {
                    if let Outcome::Value(value) = flight.wait_async().await {
                        return Ok(value);
                    }
                    self.retries.fetch_add(1, Ordering::SeqCst);
                }
                Claim::Lead(flight) => {
                    let leader = self.leader(flight);
                    let result = init.await;
                    if let Ok(value) = &result {
                        leader.complete(*value);
                    }
                    return result;
                }
            }
        }
    }

    /// `Store::clear`: empties the slot, a computation's included.
    fn clear(&self) {
        *self.slot.lock().unwrap() = Slot::Empty;
    }

    fn stored(&self) -> Option<u32> {
        match &*self.slot.lock().unwrap() {
            Slot::Ready(value) => Some(*value),
            Slot::Empty | Slot::Loading(_) => None,
        }
    }
}

/// Three callers miss together; the first body fails. Its caller gets the
/// error, the others retry (one leads again, the other waits on it or hits),
/// and exactly one more body runs.
#[test]
fn loom_abandoned_flight_is_retried_once() {
    check(|| {
        let map = Map::new(true);
        let callers: Vec<_> = (0..2)
            .map(|_| {
                let map = Arc::clone(&map);
                thread::spawn(move || map.load(|| map.body()))
            })
            .collect();
        let mut results = vec![map.load(|| map.body())];
        results.extend(callers.into_iter().map(|c| c.join().unwrap()));
        let failed = results.iter().filter(|r| r.is_err()).count();
        assert_eq!(failed, 1, "only the failing leader sees its error");
        assert!(results.iter().all(|r| matches!(r, Ok(42) | Err(Failed))));
        assert_eq!(map.bodies.load(Ordering::SeqCst), 2);
        assert_eq!(map.stored(), Some(42));
    });
}

/// A sync and an async caller miss together: one body, both get its value.
#[test]
fn loom_sync_and_async_callers_share_one_body() {
    check(|| {
        let map = Map::new(false);
        let sync_caller = {
            let map = Arc::clone(&map);
            thread::spawn(move || map.load(|| map.body()))
        };
        let got = block_on(map.load_async(async { map.body() }));
        assert_eq!(got, Ok(42));
        assert_eq!(sync_caller.join().unwrap(), Ok(42));
        assert_eq!(map.bodies.load(Ordering::SeqCst), 1);
        assert_eq!(map.stored(), Some(42));
    });
}

/// An async leader's future is dropped mid-body while a sync caller waits on
/// its flight, or is about to: the guard abandons, the waiter (or a late
/// caller) leads again, and an async caller after the drop gets that value.
#[test]
fn loom_dropped_leader_future_hands_over() {
    check(|| {
        let map = Map::new(false);
        let body = async {
            map.bodies.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<Result<u32, Failed>>().await
        };
        let mut leader = Box::pin(map.load_async(body));
        assert!(poll(leader.as_mut()).is_none(), "first caller leads");
        let waiter = {
            let map = Arc::clone(&map);
            thread::spawn(move || map.load(|| map.body()))
        };
        drop(leader);
        assert_eq!(block_on(map.load_async(async { map.body() })), Ok(42));
        assert_eq!(waiter.join().unwrap(), Ok(42));
        assert_eq!(map.bodies.load(Ordering::SeqCst), 2);
        assert_eq!(map.stored(), Some(42));
    });
}

/// An async caller is polled once and dropped, whichever role it got: as the
/// leader (its body never finishes) its guard abandons the flight, as a waiter
/// it just leaves. Either way the other caller gets a value and it is stored.
#[test]
fn loom_cancelled_async_caller_hands_over() {
    check(|| {
        let map = Map::new(false);
        let cancelled = {
            let map = Arc::clone(&map);
            thread::spawn(move || {
                let body = async {
                    map.bodies.fetch_add(1, Ordering::SeqCst);
                    std::future::pending::<Result<u32, Failed>>().await
                };
                assert!(poll_once(map.load_async(body)).is_none_or(|r| r == Ok(42)));
            })
        };
        assert_eq!(map.load(|| map.body()), Ok(42));
        cancelled.join().unwrap();
        assert_eq!(map.stored(), Some(42));
    });
}

/// The cache is cleared while a leader computes and another caller misses:
/// however they interleave, nobody waits forever and both callers get the
/// value; a second body runs only for a caller that found the slot emptied
/// (one that joined the first flight gets its value, even though the leader
/// then finds its slot gone).
#[test]
fn loom_clear_during_a_computation_hands_the_value_over() {
    check(|| {
        let map = Map::new(false);
        let caller = {
            let map = Arc::clone(&map);
            thread::spawn(move || map.load(|| map.body()))
        };
        let clearer = {
            let map = Arc::clone(&map);
            thread::spawn(move || map.clear())
        };
        assert_eq!(map.load(|| map.body()), Ok(42));
        clearer.join().unwrap();
        assert_eq!(caller.join().unwrap(), Ok(42));
        let bodies = map.bodies.load(Ordering::SeqCst);
        assert!((1..=2).contains(&bodies), "{bodies} bodies");
        assert_eq!(
            map.retries.load(Ordering::SeqCst),
            0,
            "a caller that joined the flight was sent to compute again"
        );
    });
}
