//! Single-flight: one computation per key, the other callers wait for its value.
//!
//! A [`Flight`] lives in the map (in the key's slot, until the leader fills the
//! slot with its value) while its leader computes.
//! Sync waiters sleep on a condition variable under the state's lock, and the
//! leader wakes them all with one call; async waiters register a listener
//! *before* reading the state. Either way no wake-up is lost.
//! A leader that panics, is cancelled (its future dropped) or returns an error
//! abandons the flight: the slot is removed, every waiter wakes, and they race to
//! lead a new flight (one wins, the others wait on it). Nothing is poisoned, and
//! no lock is held while the leader runs its body.
//!
//! Recursion on the same key is detected with a per-thread stack of the flights
//! whose bodies are running (for async bodies: being polled) on this thread; a
//! caller that would wait on one of them runs its body directly instead.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use event_listener::Event;

// std's in the engine; loom's when `flight_loom` compiles this file again for
// the model check (see `sync`).
use super::sync::{Arc, AtomicBool, Condvar, Mutex, MutexGuard};
use std::sync::atomic::Ordering;

/// The outcome a waiter sees.
pub(crate) enum Outcome<V> {
    /// The leader's value.
    Value(V),
    /// The leader gave up (panic, cancellation, error, or the cache was cleared);
    /// the waiter should try again, possibly as the new leader.
    Abandoned,
}

enum State<V> {
    Running,
    Done(V),
    Abandoned,
}

/// A flight's state and who waits for it: a leader no one waited for
/// settles without notifying (the common, uncontended miss).
struct Inner<V> {
    state: State<V>,
    /// An async waiter listens on `event`.
    waited: bool,
    /// A sync waiter sleeps on `settled`.
    parked: bool,
}

/// One in-progress computation.
pub(crate) struct Flight<V> {
    state: Mutex<Inner<V>>,
    /// Wakes async waiters.
    event: Event,
    /// Wakes sync waiters, all with one call: each then takes the state lock
    /// once (event-listener would wake them one by one, each then taking its
    /// list's lock again to listen and to unlisten).
    settled: Condvar,
    /// Whether a caller found this flight in the map and will wait for it
    /// ([`Flight::join`]). Set and read under the key's bucket lock, so once
    /// the map no longer names the flight it is final: the leader then knows
    /// exactly whether anyone needs its value.
    joined: AtomicBool,
}

impl<V: Clone> Flight<V> {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(Inner {
                state: State::Running,
                waited: false,
                parked: false,
            }),
            event: Event::new(),
            settled: Condvar::new(),
            joined: AtomicBool::new(false),
        })
    }

    /// Marks the flight as waited for. Call it holding the key's bucket lock,
    /// as the caller takes its handle from the map.
    pub(crate) fn join(&self) {
        self.joined.store(true, Ordering::Relaxed);
    }

    /// Whether a caller joined the flight. Final once the map no longer names
    /// it (its slot was filled, replaced or removed), as joins happen under
    /// the bucket lock while it does.
    pub(crate) fn joined(&self) -> bool {
        self.joined.load(Ordering::Relaxed)
    }

    fn state(&self) -> MutexGuard<'_, Inner<V>> {
        // The lock is never held across user code, so poisoning cannot carry
        // meaning here; recover the guard.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn settle(&self, next: State<V>) {
        let mut state = self.state();
        if let State::Running = state.state {
            state.state = next;
        }
        let (waited, parked) = (state.waited, state.parked);
        drop(state);
        // A sync waiter marks the flight and sleeps on `settled` under this
        // lock; an async one marks it (under this lock) after it made its
        // listener: either each saw the outcome, or it is woken here.
        if parked {
            self.settled.notify_all();
        }
        if waited {
            self.event.notify(usize::MAX);
        }
    }

    /// Publishes the value to every waiter.
    pub(crate) fn finish(&self, value: V) {
        self.settle(State::Done(value));
    }

    /// Wakes every waiter without a value.
    pub(crate) fn abandon(&self) {
        self.settle(State::Abandoned);
    }

    /// The outcome, or `None` while running (the flight is then marked as
    /// waited for: the caller must have made its listener already).
    fn poll_state(&self) -> Option<Outcome<V>> {
        let mut state = self.state();
        match &state.state {
            State::Running => {
                state.waited = true;
                None
            }
            State::Done(value) => Some(Outcome::Value(value.clone())),
            State::Abandoned => Some(Outcome::Abandoned),
        }
    }

    /// Blocks the calling thread until the flight settles.
    pub(crate) fn wait(&self) -> Outcome<V> {
        let mut state = self.state();
        loop {
            match &state.state {
                State::Running => {
                    state.parked = true;
                    state = self.settled.wait(state).unwrap_or_else(|e| e.into_inner());
                }
                State::Done(value) => return Outcome::Value(value.clone()),
                State::Abandoned => return Outcome::Abandoned,
            }
        }
    }

    /// Waits, without blocking the executor, until the flight settles.
    pub(crate) async fn wait_async(&self) -> Outcome<V> {
        loop {
            let listener = self.event.listen();
            if let Some(outcome) = self.poll_state() {
                return outcome;
            }
            listener.await;
        }
    }

    /// An address that identifies this flight for reentrancy checks: where it
    /// lives in its `Arc` (what `Arc::as_ptr` gives). `&self`, not
    /// `self: &Arc<Self>`: loom's `Arc` cannot be a method receiver.
    pub(crate) fn id(&self) -> usize {
        std::ptr::from_ref(self) as *const () as usize
    }
}

thread_local! {
    /// Flights whose bodies are running on this thread right now, innermost last.
    static ACTIVE: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Whether the calling thread is inside the body of the flight `id`.
pub(crate) fn is_active(id: usize) -> bool {
    ACTIVE
        .try_with(|a| a.borrow().contains(&id))
        .unwrap_or(false)
}

/// Marks the flight `id` active on this thread until dropped.
pub(crate) struct ActiveScope(usize);

impl ActiveScope {
    pub(crate) fn enter(id: usize) -> Self {
        let _ = ACTIVE.try_with(|a| a.borrow_mut().push(id));
        ActiveScope(id)
    }
}

impl Drop for ActiveScope {
    fn drop(&mut self) {
        let _ = ACTIVE.try_with(|a| {
            let mut active = a.borrow_mut();
            if let Some(pos) = active.iter().rposition(|&id| id == self.0) {
                active.remove(pos);
            }
        });
    }
}

pin_project_lite::pin_project! {
    /// A future that marks its flight active on the polling thread during each poll,
    /// so an inner call on the same key (polled inside this poll) is recognized.
    /// The inner future stays in place (no box: an async leader's future is the
    /// size of the user's body and the backend call, moved once more per miss).
    pub(crate) struct Scoped<F> {
        id: usize,
        #[pin]
        inner: F,
    }
}

impl<F> Scoped<F> {
    pub(crate) fn new(id: usize, inner: F) -> Self {
        Self { id, inner }
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _scope = ActiveScope::enter(*this.id);
        this.inner.poll(cx)
    }
}
