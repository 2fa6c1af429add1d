//! CLOCK rings and expiry heaps: the order in which entries are considered for
//! eviction and sweeping.
//!
//! Each stored entry has an item `(key, id)` in the ring its key hashes to. The
//! eviction hand pops items from the front: an item whose entry is gone or was
//! replaced (different id) is dropped; an entry read since the hand last passed
//! (its `accessed` bit is set) gets a second chance at the back; otherwise it is
//! the victim. That is CLOCK, the classic approximation of LRU.
//!
//! Entries that expire also have an item in the ring's expiry heap, ordered by
//! expiry: eviction takes an expired entry from the top of the heap before it asks
//! the CLOCK hand, and the sweep pops expired items, so both cost O(expired).
//!
//! Rings only hold keys; entries stay in the lock-free map, so readers never touch
//! a ring. No map lock is ever taken while a ring is locked.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Mutex, MutexGuard};

use crate::clock::{NEVER, Nanos};

pub(crate) struct Ring<K> {
    queue: Mutex<Queue<K>>,
    /// The expiry at the top of the heap (`NEVER` when empty), published after
    /// every change so eviction can skip rings with nothing expired without locking.
    soonest: AtomicU64,
    next_id: AtomicU64,
}

pub(crate) struct Queue<K> {
    /// CLOCK order.
    pub(crate) items: VecDeque<(K, u64)>,
    /// Entries by expiry, soonest on top.
    pub(crate) expiry: BinaryHeap<Reverse<Expiring<K>>>,
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
    pub(crate) fn new() -> Self {
        Self {
            queue: Mutex::new(Queue {
                items: VecDeque::new(),
                expiry: BinaryHeap::new(),
            }),
            soonest: AtomicU64::new(NEVER),
            next_id: AtomicU64::new(0),
        }
    }

    /// Runs `f` on the locked queue, then publishes the soonest expiry.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Queue<K>) -> R) -> R {
        let mut queue = self.lock();
        let result = f(&mut queue);
        let soonest = queue.expiry.peek().map_or(NEVER, |Reverse(top)| top.at);
        self.soonest.store(soonest, AtomicOrdering::Relaxed);
        result
    }

    fn lock(&self) -> MutexGuard<'_, Queue<K>> {
        // No user code runs under this lock; a poisoned lock holds a valid queue.
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

    /// Registers the entry `id` of `key`. Called after the entry is visible in the
    /// map (and while its bucket is still locked), so no sweep or eviction hand can
    /// see the item before its entry and drop it as stale.
    pub(crate) fn push(&self, key: &K, id: u64, expires_at: Nanos) {
        self.with(|queue| {
            queue.items.push_back((key.clone(), id));
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

    pub(crate) fn len(&self) -> usize {
        self.lock().items.len()
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
        let mut queue = self.lock();
        let (len, capacity) = (queue.items.len(), queue.items.capacity());
        if should_shrink(len, capacity) {
            queue.items.shrink_to(2 * len);
        }
        let (len, capacity) = (queue.expiry.len(), queue.expiry.capacity());
        if should_shrink(len, capacity) {
            queue.expiry.shrink_to(2 * len);
        }
    }
}

/// Capacity (items) below which a ring's collections are left alone: small
/// enough not to matter, and it spares the small caches' rings reallocating.
const KEEP_CAPACITY: usize = 1024;

fn should_shrink(len: usize, capacity: usize) -> bool {
    capacity > KEEP_CAPACITY && capacity / 4 > len
}

impl<K: Clone> Queue<K> {
    pub(crate) fn track_expiry(&mut self, key: &K, id: u64, at: Nanos) {
        if at != NEVER {
            self.expiry.push(Reverse(Expiring {
                at,
                id,
                key: key.clone(),
            }));
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
