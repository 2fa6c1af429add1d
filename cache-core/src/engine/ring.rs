//! Eviction rings and expiry heaps: the order in which entries are considered for
//! eviction and sweeping.
//!
//! The policy is S3-FIFO (Yang et al., SOSP 2023), which quick_cache also
//! follows: each stored entry has an item `(key, id)` in one of two queues of
//! the ring its key hashes to.
//!
//! - `small` takes new entries, in insertion order. Its hand pops the oldest: an
//!   entry read since it was stored (its `accessed` bit is set) moves to `main`;
//!   otherwise it is the victim, and its key's hash is remembered in the ring's
//!   `ghost` queue (hashes only, no values).
//! - `main` takes the entries read while in `small`, and new entries whose key is
//!   a ghost (evicted recently, wanted again). Its hand is CLOCK: an entry read
//!   since the hand last passed gets a second chance at the back.
//!
//! The engine evicts from `small` while it holds more than a tenth of the bound,
//! from `main` otherwise. Keys read once and never again (most of a skewed
//! workload's tail) leave through `small` without displacing the entries that
//! are read again, which is what TinyLFU's frequency admission buys moka, with no
//! write on the hit path beyond the `accessed` bit. An item whose entry is gone or
//! was replaced (different id) is dropped wherever a hand meets it.
//!
//! Entries that expire also have an item in the ring's expiry heap, ordered by
//! expiry: eviction takes an expired entry from the top of the heap before it asks
//! the queues' hands, and the sweep pops expired items, so both cost O(expired).
//!
//! Rings only hold keys; entries stay in the lock-free map, so readers never touch
//! a ring. No map lock is ever taken while a ring is locked.

use std::cmp::{Ordering, Reverse};
use std::collections::HashSet;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Mutex, MutexGuard};

use crate::clock::{NEVER, Nanos};

type Hasher = foldhash::fast::RandomState;

pub(crate) struct Ring<K> {
    queue: Mutex<Queue<K>>,
    /// The expiry at the top of the heap (`NEVER` when empty), published after
    /// every change so eviction can skip rings with nothing expired without locking.
    soonest: AtomicU64,
    /// The length of `small`, published like `soonest`.
    small_len: AtomicUsize,
    next_id: AtomicU64,
}

pub(crate) struct Queue<K> {
    /// New entries, oldest first (S3-FIFO's small queue).
    pub(crate) small: VecDeque<(K, u64)>,
    /// Entries read while in `small`, and re-admitted ghosts: CLOCK order.
    pub(crate) main: VecDeque<(K, u64)>,
    /// Entries by expiry, soonest on top.
    pub(crate) expiry: BinaryHeap<Reverse<Expiring<K>>>,
    /// Hashes of the keys `small` evicted lately.
    pub(crate) ghost: Ghost,
}

/// A bounded FIFO set of key hashes: the keys evicted from `small` lately. A
/// key stored again while its hash is here goes straight to `main`. Its memory
/// is taken whole at the first eviction and given back by `clear`.
pub(crate) struct Ghost {
    order: VecDeque<u64>,
    members: HashSet<u64, Hasher>,
    capacity: usize,
}

impl Ghost {
    fn new(capacity: usize) -> Self {
        Self {
            order: VecDeque::new(),
            members: HashSet::with_hasher(Hasher::default()),
            capacity,
        }
    }

    /// Remembers `hash`, forgetting the oldest beyond the capacity. A hash
    /// already here keeps its place.
    pub(crate) fn remember(&mut self, hash: u64) {
        if self.capacity == 0 {
            return;
        }
        if self.order.capacity() == 0 {
            // The whole capacity at once, at the ring's first eviction: the
            // memory then stays flat while the ghosts fill, instead of stepping
            // up with each doubling for as long as a bound's worth of keys
            // takes to be evicted (R12's soak saw those steps late in its churn).
            // A ring evicts only once the cache holds its bound, so this is in
            // proportion to what the cache already holds. The set gets room for
            // twice its ghosts: the removals leave tombstones, and a table more
            // than half full of live hashes grows where one at most half full
            // is cleaned in place; filled from empty, it reaches that size anyway.
            self.order.reserve_exact(self.capacity + 1);
            self.members.reserve(2 * self.capacity + 2);
        }
        if !self.members.insert(hash) {
            return;
        }
        self.order.push_back(hash);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.members.remove(&old);
            }
        }
    }

    /// Whether `hash` was here; forgets it. (Its place in `order` stays until
    /// it comes out at the front; if the hash was remembered again meanwhile,
    /// that forgets the newer one early, which costs a key one trip through
    /// `small`, nothing more.)
    fn take(&mut self, hash: u64) -> bool {
        !self.members.is_empty() && self.members.remove(&hash)
    }

    /// Forgets every hash and gives back the memory.
    pub(crate) fn clear(&mut self) {
        self.order = VecDeque::new();
        self.members = HashSet::with_hasher(Hasher::default());
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.members.len()
    }

    /// The capacities of the order and of the set.
    #[cfg(test)]
    pub(crate) fn reserved(&self) -> (usize, usize) {
        (self.order.capacity(), self.members.capacity())
    }
}

/// An expiry-heap item. Invariant: every entry with a finite expiry has an item
/// with the entry's id at or before its expiry; an item popped for a live entry
/// that now expires later is pushed back at the new expiry.
pub(crate) struct Expiring<K> {
    pub(crate) at: Nanos,
    pub(crate) id: u64,
    pub(crate) key: K,
}

impl<K> PartialEq for Expiring<K> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.id) == (other.at, other.id)
    }
}

impl<K> Eq for Expiring<K> {}

impl<K> PartialOrd for Expiring<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for Expiring<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.id).cmp(&(other.at, other.id))
    }
}

impl<K: Clone> Ring<K> {
    /// A ring whose ghost queue remembers up to `ghost_capacity` hashes.
    pub(crate) fn new(ghost_capacity: usize) -> Self {
        Self {
            queue: Mutex::new(Queue {
                small: VecDeque::new(),
                main: VecDeque::new(),
                expiry: BinaryHeap::new(),
                ghost: Ghost::new(ghost_capacity),
            }),
            soonest: AtomicU64::new(NEVER),
            small_len: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
        }
    }

    /// Runs `f` on the locked queue, then publishes the soonest expiry and the
    /// length of `small`.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Queue<K>) -> R) -> R {
        let mut queue = self.lock();
        let result = f(&mut queue);
        let soonest = queue.expiry.peek().map_or(NEVER, |Reverse(top)| top.at);
        self.soonest.store(soonest, AtomicOrdering::Relaxed);
        self.small_len
            .store(queue.small.len(), AtomicOrdering::Relaxed);
        result
    }

    /// Runs `f` on the queue if its lock is free now; `None` if it is held
    /// (by this thread too): what an eviction hand could see at this moment.
    #[cfg(test)]
    pub(crate) fn try_with<R>(&self, f: impl FnOnce(&Queue<K>) -> R) -> Option<R> {
        match self.queue.try_lock() {
            Ok(queue) => Some(f(&queue)),
            Err(std::sync::TryLockError::Poisoned(queue)) => Some(f(&queue.into_inner())),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// The length of `small` as last published (no lock).
    pub(crate) fn small_len(&self) -> usize {
        self.small_len.load(AtomicOrdering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, Queue<K>> {
        // Under this lock keys are only hashed, compared and cloned (the map
        // requires those not to panic); a poisoned lock holds a valid queue.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether an entry of this ring may have expired by `now`.
    pub(crate) fn may_have_expired(&self, now: Nanos) -> bool {
        self.soonest.load(AtomicOrdering::Relaxed) <= now
    }

    /// A fresh entry id.
    pub(crate) fn allocate_id(&self) -> u64 {
        self.next_id.fetch_add(1, AtomicOrdering::Relaxed)
    }

    /// Registers the entry `id` of `key`, whose hash is `hash`: in `main` if the
    /// key is a ghost, in `small` otherwise. Called after the entry is visible in
    /// the map (and while its bucket is still locked), so no sweep or eviction
    /// hand can see the item before its entry and drop it as stale.
    pub(crate) fn push(&self, key: &K, hash: u64, id: u64, expires_at: Nanos) {
        self.with(|queue| {
            let item = (key.clone(), id);
            let items = if queue.ghost.take(hash) {
                &mut queue.main
            } else {
                &mut queue.small
            };
            push_back(items, item);
            queue.track_expiry(key, id, expires_at);
        });
    }

    /// An overwrite of entry `id` changed its expiry from `old` to `new`. The
    /// entry keeps its ring item; its heap item is kept too unless the new expiry
    /// is earlier (a later one is picked up when the old item pops).
    pub(crate) fn retime(&self, key: &K, id: u64, old: Nanos, new: Nanos) {
        if new < old {
            self.with(|queue| queue.track_expiry(key, id, new));
        }
    }

    /// Items in both queues.
    pub(crate) fn len(&self) -> usize {
        let queue = self.lock();
        queue.small.len() + queue.main.len()
    }

    /// Gives back the memory of items gone since the ring's peak. A `VecDeque`
    /// and a `BinaryHeap` keep the capacity of their peak, so one burst of
    /// items (a sweep delayed by a busy machine lets the items of expired
    /// entries pile up for seconds) would hold its memory for good, and each
    /// new peak would raise it: R12's soak saw the rings' capacity step up and
    /// never down. Shrinks a collection to twice its length once it uses less
    /// than a quarter of its capacity, so memory follows the items with
    /// hysteresis (regrowing after a shrink takes a doubling of the items).
    pub(crate) fn shrink(&self) {
        let mut guard = self.lock();
        let queue = &mut *guard;
        for items in [&mut queue.small, &mut queue.main] {
            let (len, capacity) = (items.len(), items.capacity());
            if should_shrink(len, capacity) {
                items.shrink_to(2 * len);
            }
        }
        let (len, capacity) = (queue.expiry.len(), queue.expiry.capacity());
        if should_shrink(len, capacity) {
            queue.expiry.shrink_to(2 * len);
        }
        // The ghosts keep their capacity (see `Ghost::remember`); `clear` frees it.
    }
}

/// Capacity (items) below which a ring's collections are left alone: small
/// enough not to matter, and it spares the small caches' rings reallocating.
const KEEP_CAPACITY: usize = 1024;

/// Appends `item`, growing a full queue by a quarter (see [`growth`]).
pub(crate) fn push_back<T>(items: &mut VecDeque<T>, item: T) {
    items.reserve_exact(growth(items.len(), items.capacity()));
    items.push_back(item);
}

/// Checks up to `chunk` items of `items` from position `from` on, keeping
/// those `live` accepts, in their order, and dropping the others. Returns the
/// items checked and the items kept (the position after the last kept one is
/// `from` plus that).
pub(crate) fn drop_stale<T>(
    items: &mut VecDeque<T>,
    from: usize,
    chunk: usize,
    mut live: impl FnMut(&T) -> bool,
) -> (usize, usize) {
    let end = from.saturating_add(chunk).min(items.len());
    if from >= end {
        return (0, 0);
    }
    // Live items move down over the stale ones (every position in
    // `kept..read` holds a stale item), so the stale ones end up in
    // `kept..end`, removed at once.
    let mut kept = from;
    for read in from..end {
        if live(&items[read]) {
            items.swap(kept, read);
            kept += 1;
        }
    }
    items.drain(kept..end);
    (end - from, kept - from)
}

/// Items to add before a push to a queue or heap of `len` items in
/// `capacity`: none while it has room, a quarter more when it is full, not
/// the double that `push` would take. Queues and heaps keep the capacity of
/// their peak, and under churn with a TTL their length moves by a fraction
/// around the live entries (the sweep removes expired ones in rounds): a
/// peak just past a power of two would otherwise double the memory they
/// hold for good (H7). Still geometric, so pushes stay O(1) amortized.
fn growth(len: usize, capacity: usize) -> usize {
    if len < capacity {
        0
    } else {
        (capacity / 4).max(16)
    }
}

fn should_shrink(len: usize, capacity: usize) -> bool {
    capacity > KEEP_CAPACITY && capacity / 4 > len
}

impl<K: Clone> Queue<K> {
    pub(crate) fn track_expiry(&mut self, key: &K, id: u64, at: Nanos) {
        if at != NEVER {
            self.expiry
                .reserve_exact(growth(self.expiry.len(), self.expiry.capacity()));
            self.expiry.push(Reverse(Expiring {
                at,
                id,
                key: key.clone(),
            }));
        }
    }

    /// Drops the items at the front of `small` and of `main` whose entries are
    /// among `gone` (ids, sorted), stopping at the first item of an entry not
    /// in it. The sweep calls it with the entries it just removed as expired:
    /// under one TTL those are the oldest, so their items lead the queues, and
    /// dropping them here keeps the queues at about the live entries instead of
    /// waiting for the walk to reach them (up to a second later, by when a
    /// churn of short-lived keys has piled up another TTL's worth of items and
    /// the queues have doubled their capacity; H7). Items left behind (other
    /// TTLs, entries removed otherwise) are the walk's, as before.
    pub(crate) fn drop_front_items(&mut self, gone: &[u64]) {
        for items in [&mut self.small, &mut self.main] {
            while items
                .front()
                .is_some_and(|(_, id)| gone.binary_search(id).is_ok())
            {
                items.pop_front();
            }
        }
    }

    /// Pops the soonest heap item if it expired by `now`.
    pub(crate) fn pop_expired(&mut self, now: Nanos) -> Option<Expiring<K>> {
        match self.expiry.peek() {
            Some(Reverse(top)) if top.at <= now => self.expiry.pop().map(|Reverse(item)| item),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    /// The walk's step keeps the live items in their order and drops the
    /// stale ones, only within its chunk.
    #[test]
    fn drop_stale_keeps_the_live_items_in_order() {
        let mut items: VecDeque<u64> = (0..20).collect();
        // Odd items are stale; check positions 4..14.
        let (seen, kept) = super::drop_stale(&mut items, 4, 10, |i| i % 2 == 0);
        assert_eq!((seen, kept), (10, 5));
        let expected: Vec<u64> = (0..4)
            .chain((4..14).filter(|i| i % 2 == 0))
            .chain(14..20)
            .collect();
        assert_eq!(items.iter().copied().collect::<Vec<_>>(), expected);
        // Past the end: nothing to check.
        assert_eq!(super::drop_stale(&mut items, 15, 10, |_| false), (0, 0));
        // A chunk cut short by the end, every item stale.
        assert_eq!(super::drop_stale(&mut items, 10, 10, |_| false), (5, 0));
        assert_eq!(items.len(), 10);
        // A deque whose items wrap around its buffer.
        let mut wrapped: VecDeque<u64> = VecDeque::with_capacity(8);
        wrapped.extend(0..6);
        wrapped.drain(..4);
        wrapped.extend(6..12);
        assert_eq!(
            super::drop_stale(&mut wrapped, 1, 6, |i| i % 3 != 0),
            (6, 4)
        );
        assert_eq!(
            wrapped.iter().copied().collect::<Vec<_>>(),
            vec![4, 5, 7, 8, 10, 11]
        );
    }

    /// Queues grow by a quarter when full.
    #[test]
    fn queues_grow_by_a_quarter() {
        let mut back = VecDeque::new();
        for i in 0..100_000u64 {
            super::push_back(&mut back, i);
            let len = back.len();
            assert!(
                back.capacity() <= len + len / 4 + 16,
                "{len} in {}",
                back.capacity()
            );
        }
    }
}
