//! Loading on a miss: single-flight for sync and async callers.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use scc::hash_index::Entry as MapEntry;

use super::flight::{self, ActiveScope, Flight, Outcome, Scoped};
use super::{Retired, Slot, Store, ring_index};
use crate::observability::{self, KeyRef};
use crate::stats::Counter;

/// What claiming a key's slot gave.
enum Claim<V> {
    /// A live value appeared since the first look.
    Hit(V),
    /// Another caller is computing: wait for it.
    Wait(Arc<Flight<V>>),
    /// We are the leader: compute and then [`Store::complete`].
    Lead(Arc<Flight<V>>),
}

/// Abandons the flight unless the leader completed it: a panic (in the body,
/// or in a `Clone` or `Hash` of the user's while the value is stored), a
/// cancelled future or an error all hand the key over to one waiter.
struct Leader<'a, K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    store: &'a Store<K, V>,
    key: Option<&'a K>,
    flight: Arc<Flight<V>>,
}

impl<K, V> Leader<'_, K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn complete(mut self, value: &V) {
        if let Some(key) = self.key {
            self.store.complete(key, &self.flight, value);
        }
        // Completed: the guard stands down only now, so that a panic inside
        // `complete` still abandons the flight.
        self.key = None;
    }
}

impl<K, V> Drop for Leader<'_, K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let flight = &self.flight;
            self.store
                .map
                .remove_if_sync(key, |slot| slot.unlink_if_loading(flight));
            flight.abandon();
        }
    }
}

/// A copy of the leader's value for its flight's waiters, if any joined. Ask
/// once the map no longer names the flight (its slot was filled, replaced or
/// removed), or under the key's bucket lock: callers join only there, so the
/// answer is final. Without waiters no copy is made, and none is left in the
/// flight: a replaced slot keeps its handle until the map reuses the slot,
/// and the value would live, beyond the cache's bound, as long.
fn copy_for_waiters<V: Clone>(flight: &Flight<V>, value: &V) -> Option<V> {
    flight.joined().then(|| value.clone())
}

/// Hands the waiters their copy, or wakes them without a value.
fn settle<V: Clone>(flight: &Flight<V>, copy: Option<V>) {
    match copy {
        Some(copy) => flight.finish(copy),
        None => flight.abandon(),
    }
}

impl<K, V> Store<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Takes the slot of `key`: a live value, someone's flight, or a new flight of ours.
    fn claim(&self, key: &K) -> Claim<V> {
        let now = self.config.clock.recent();
        match self.map.entry_sync(key.clone()) {
            MapEntry::Occupied(mut occupied) => match occupied.get().entry() {
                Some(entry) if entry.is_live(now) => Claim::Hit(entry.value().clone()),
                Some(expired) => {
                    let flight = Flight::new();
                    let mut retired = Retired::new();
                    expired.retire(&mut retired);
                    occupied.update(Slot::loading(Arc::clone(&flight)));
                    self.stored
                        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                    self.stats.bump(Counter::Expirations);
                    Claim::Lead(flight)
                }
                None => match Slot::flight(&occupied) {
                    Some(flight) => {
                        flight.join();
                        Claim::Wait(flight)
                    }
                    // A slot lets go of its flight only when it is filled, so
                    // this does not happen; were it to, the slot is ours to fill.
                    None => {
                        debug_assert!(false, "a slot neither filled nor loading");
                        let flight = Flight::new();
                        occupied.update(Slot::loading(Arc::clone(&flight)));
                        Claim::Lead(flight)
                    }
                },
            },
            MapEntry::Vacant(vacant) => {
                let flight = Flight::new();
                vacant.insert_entry(Slot::loading(Arc::clone(&flight)));
                Claim::Lead(flight)
            }
        }
    }

    /// Stores a copy of the leader's value in its own slot (unless the slot was
    /// removed or replaced meanwhile: a `clear` or `insert` during the
    /// computation wins) and hands copies to the waiters, if any.
    fn complete(&self, key: &K, flight: &Arc<Flight<V>>, value: &V) {
        if self.config.ttl.is_some_and(|ttl| ttl.is_zero()) {
            // A zero TTL stores nothing: the flight only shares the value with
            // its waiters (the storage backends' in-process single-flight), and
            // a leader that had none copies nothing.
            self.map
                .remove_if_sync(key, |slot| slot.unlink_if_loading(flight));
            settle(flight, copy_for_waiters(flight, value));
            return;
        }
        let expires_at = self.config.clock.expiry_after(self.config.ttl);
        let hash = self.ring_hash(key);
        let ring = ring_index(hash);
        // The slot's copy is made before the bucket lock: a user `Clone` runs
        // under it only when a waiter needs a copy too.
        let copy = value.clone();
        let mut stored = None;
        let for_waiters = if let MapEntry::Occupied(occupied) = self.map.entry_sync(key.clone())
            && occupied.get().is_loading(flight)
        {
            // Callers join the flight only in `claim`, under this bucket lock,
            // and none can once the slot is filled. Their copy is taken before
            // the fill, so that a panicking `Clone` leaves the slot loading,
            // for the leader's guard to remove (and the entry count untouched).
            let for_waiters = copy_for_waiters(flight, value);
            let id = self.rings[ring].allocate_id();
            // The slot is filled in place (it lets go of the flight), not
            // replaced: one slot per computed key.
            if Slot::fill(&occupied, copy, expires_at, id) {
                self.rings[ring].push(occupied.key(), hash, id, expires_at);
                stored = Some(id);
            }
            for_waiters
        } else {
            // The slot was removed or replaced meanwhile: no one can join now.
            copy_for_waiters(flight, value)
        };
        settle(flight, for_waiters);
        if let Some(id) = stored {
            self.added_one(ring, id);
        }
    }

    fn leader<'a>(&'a self, key: &'a K, flight: Arc<Flight<V>>) -> Leader<'a, K, V> {
        self.stats.bump(Counter::Computations);
        Leader {
            store: self,
            key: Some(key),
            flight,
        }
    }

    /// The value of `key`, computed by `init` on a miss, once per key however many
    /// callers miss together. An `Err` is returned to this caller and not stored;
    /// a waiting caller then computes in its turn.
    #[inline]
    pub(crate) fn try_get_with<E>(
        &self,
        key: K,
        init: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        match self.hit(&key) {
            Some(value) => Ok(value),
            None => self.load(key, init),
        }
    }

    /// The miss path, out of line so the hit path stays small.
    #[inline(never)]
    pub(crate) fn load<E>(&self, key: K, init: impl FnOnce() -> Result<V, E>) -> Result<V, E> {
        self.stats.bump(Counter::Misses);
        observability::miss(&self.stats, KeyRef::Hashed(&key));
        loop {
            match self.claim(&key) {
                Claim::Hit(value) => return Ok(value),
                Claim::Wait(flight) if flight::is_active(flight.id()) => {
                    return self.bypass(&key, init);
                }
                Claim::Wait(flight) => {
                    if let Outcome::Value(value) = flight.wait() {
                        return Ok(value);
                    }
                }
                Claim::Lead(flight) => {
                    let leader = self.leader(&key, flight);
                    let result = {
                        let _computing =
                            observability::computing(&self.stats, KeyRef::Hashed(&key));
                        let _scope = ActiveScope::enter(leader.flight.id());
                        init()
                    };
                    if let Ok(value) = &result {
                        leader.complete(value);
                    }
                    return result;
                }
            }
        }
    }

    /// The async miss path, for a caller whose hit check
    /// ([`hit`](Self::hit)) found nothing: `init` is polled only by a leader,
    /// and waiters wait without blocking the executor. `init` makes the
    /// computation's future, called only by a leader (or a reentrant bypass):
    /// the caller's future is then made in its final place instead of being
    /// held here, unpolled, beside the copy that runs.
    pub(crate) async fn load_async<E, F>(&self, key: K, init: impl FnOnce() -> F) -> Result<V, E>
    where
        F: Future<Output = Result<V, E>>,
    {
        self.stats.bump(Counter::Misses);
        observability::miss(&self.stats, KeyRef::Hashed(&key));
        loop {
            match self.claim(&key) {
                Claim::Hit(value) => return Ok(value),
                Claim::Wait(flight) if flight::is_active(flight.id()) => {
                    self.stats.bump(Counter::ReentrantBypass);
                    self.stats.bump(Counter::Computations);
                    return observability::compute_in_span(
                        &self.stats,
                        KeyRef::Hashed(&key),
                        init(),
                    )
                    .await;
                }
                Claim::Wait(flight) => {
                    if let Outcome::Value(value) = flight.wait_async().await {
                        return Ok(value);
                    }
                }
                Claim::Lead(flight) => {
                    let leader = self.leader(&key, flight);
                    let result = Scoped::new(
                        leader.flight.id(),
                        observability::compute_in_span(&self.stats, KeyRef::Hashed(&key), init()),
                    )
                    .await;
                    if let Ok(value) = &result {
                        leader.complete(value);
                    }
                    return result;
                }
            }
        }
    }

    /// Counts and returns a hit; a miss is left to the caller to count.
    #[inline(always)]
    pub(crate) fn hit(&self, key: &K) -> Option<V> {
        match self.peek(key) {
            super::Found::Hit(value) => {
                self.stats.bump(Counter::Hits);
                Some(value)
            }
            _ => None,
        }
    }

    /// Recursion on a key this thread is computing: run the body without dedup.
    fn bypass<E>(&self, key: &K, init: impl FnOnce() -> Result<V, E>) -> Result<V, E> {
        self.stats.bump(Counter::ReentrantBypass);
        self.stats.bump(Counter::Computations);
        let _computing = observability::computing(&self.stats, KeyRef::Hashed(key));
        init()
    }
}
