//! The in-memory engine behind [`Cache`](crate::Cache) and `#[ttl_cache]`.
//!
//! - Values live in a lock-free-read hash index (`scc::HashIndex`, chosen by
//!   benchmark: on this kind of machine it reads in ~8.7 ns on one thread and
//!   *scales* to two, where DashMap's reader counts bounce between cores and it
//!   gets slower). A hit is one lookup, one relaxed load of the recent time, and a
//!   clone of the value: it writes no shared memory (the `accessed` bit is written
//!   only when it is not already set).
//! - Misses go through single-flight ([`flight`]): the key's slot holds the
//!   in-progress computation, so one body runs per key while other keys proceed.
//! - The bound and the sweep use eviction rings ([`ring`]: S3-FIFO, a small FIFO
//!   queue for new entries, a CLOCK queue for those read again, and a ghost
//!   queue of keys evicted lately) and run on insert and in the background
//!   ([`maintenance`]).

pub(crate) mod flight;
#[cfg(all(test, loom))]
mod flight_loom;
mod load;
pub(crate) mod maintenance;
mod ring;
mod sync;

use std::cell::UnsafeCell;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;
use std::mem::{MaybeUninit, needs_drop};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use scc::hash_index::Entry as MapEntry;
use scc::{Equivalent, HashIndex};

use crate::clock::{Clock, Nanos};
use crate::stats::{CacheInfo, Counter, Stats};
use flight::Flight;
use ring::Ring;

/// Number of eviction rings; a power of two.
const RINGS: usize = 16;
/// The map's minimum capacity in a store with a zero TTL (scc makes it 128
/// slots: about 9 KB for a u64 store). 16 (32 slots) cost an async Redis hit
/// about 400 instructions more in scripts/gate (19.5k against 19.1k).
const FLIGHT_CAPACITY: usize = 64;
/// Ring items the sweep's walk checks per hold of a ring lock, at least (see
/// [`Store::walk`]).
const WALK_CHUNK: usize = 1024;

type Hasher = foldhash::fast::RandomState;

/// A stored value and its bookkeeping, in a key's [`Slot`].
///
/// A slot's entry is *ready* once its fields hold a value: from the start for
/// an `insert`, from the leader's [`Slot::fill`] for a computed value. Lock-free
/// readers reach an entry only through [`Slot::entry`], which hands it out only
/// when ready, so every method here reads initialized fields.
///
/// The map frees a removed entry only when a later insert needs its slot, long
/// after the removal, so the engine does not leave the value to it: whoever
/// unlinks an entry moves the value out ([`Entry::retire`]) and drops it as soon
/// as no reader can still see it ([`Retired`]). Evicted values thus go within an
/// epoch, and at rest the values alive are exactly the entries' (R12); while
/// a reader holds the epoch back, those evicted meanwhile wait for it.
pub(crate) struct Entry<V> {
    /// Initialized before `ready` is set, never changed after.
    value: UnsafeCell<MaybeUninit<V>>,
    /// Written before `ready` is set, never changed after (atomics only so
    /// that a loading slot can be filled through a shared reference).
    expires_at: AtomicU64,
    id: AtomicU64,
    /// Set, with release ordering, once the fields above are written.
    ready: AtomicBool,
    accessed: AtomicBool,
    /// Set when the value has been moved out by [`Entry::retire`]: the map's own
    /// drop of the entry then leaves it alone.
    retired: AtomicBool,
}

// SAFETY: readers on any thread share `&V` (they clone it), and the value may be
// dropped on another thread than the one that stored it: with `V: Send + Sync`
// that is sound. The cell is written only before `ready` is published (at
// creation, or in `Slot::fill` under the bucket lock, when no reader can reach
// the value) and moved out only under the bucket lock (`retire`).
unsafe impl<V: Send + Sync> Sync for Entry<V> {}

impl<V> Entry<V> {
    fn empty() -> Self {
        Self {
            value: UnsafeCell::new(MaybeUninit::uninit()),
            expires_at: AtomicU64::new(0),
            id: AtomicU64::new(0),
            ready: AtomicBool::new(false),
            accessed: AtomicBool::new(false),
            retired: AtomicBool::new(false),
        }
    }

    fn new(value: V, expires_at: Nanos, id: u64) -> Self {
        Self {
            value: UnsafeCell::new(MaybeUninit::new(value)),
            expires_at: AtomicU64::new(expires_at),
            id: AtomicU64::new(id),
            ready: AtomicBool::new(true),
            accessed: AtomicBool::new(false),
            retired: AtomicBool::new(false),
        }
    }

    #[inline(always)]
    pub(crate) fn value(&self) -> &V {
        // SAFETY: an entry is reached only through `Slot::entry`, once ready: the
        // value is initialized and no longer written. `retire` leaves its bytes
        // in place (readers may still be cloning them).
        unsafe { (*self.value.get()).assume_init_ref() }
    }

    #[inline(always)]
    pub(crate) fn expires_at(&self) -> Nanos {
        self.expires_at.load(Ordering::Relaxed)
    }

    #[inline(always)]
    fn id(&self) -> u64 {
        self.id.load(Ordering::Relaxed)
    }

    /// Moves the value out into `retired`, which drops it once every reader that
    /// may still be reading this entry has finished.
    ///
    /// Call it only while holding the entry's bucket lock, in the map operation
    /// that unlinks the entry (a `remove_if_sync` condition that then returns
    /// true, a `retain_sync` predicate that then returns false, or just before an
    /// `OccupiedEntry::update`), so that it runs once per entry.
    fn retire(&self, retired: &mut Retired<V>)
    where
        V: Send + 'static,
    {
        if !needs_drop::<V>() {
            return;
        }
        debug_assert!(!self.retired.load(Ordering::Relaxed));
        // SAFETY: the entry is ready (reached through `Slot::entry`), so the value
        // is initialized. The bytes stay where they are, valid, until the map
        // drops the entry; readers that found the entry before it was unlinked
        // may still be cloning them, which only reads. The copy taken here
        // becomes the value's one owner: `retired` is set first, so the map's
        // drop of the entry will not drop it again, and this runs once per entry
        // (the caller holds the bucket lock and unlinks the entry in the same
        // operation). The copy is dropped only through `Retired`, after the
        // unlink, once every guard that could still reach the entry is gone.
        self.retired.store(true, Ordering::Release);
        retired
            .0
            .push(unsafe { std::ptr::read(self.value.get()).assume_init() });
    }

    #[inline]
    pub(crate) fn is_live(&self, now: Nanos) -> bool {
        now < self.expires_at()
    }

    #[inline]
    fn touch(&self) {
        // Read first: after the first hit the bit stays set and hits only read.
        if !self.accessed.load(Ordering::Relaxed) {
            self.accessed.store(true, Ordering::Relaxed);
        }
    }
}

impl<V> Drop for Entry<V> {
    fn drop(&mut self) {
        if *self.ready.get_mut() && !*self.retired.get_mut() {
            // SAFETY: the value was stored (`ready`) and not moved out
            // (`retired` is unset), and the map drops an entry once, after every
            // reader is gone: this is its drop.
            unsafe { self.value.get_mut().assume_init_drop() }
        }
    }
}

/// Epoch advances asked for after a retirement (see [`Retired`]'s drop): with
/// four, a thread alone frees its retired values before it returns.
const RETIRE_ADVANCES: usize = 4;

/// Values moved out of entries being unlinked ([`Entry::retire`]). Dropping it
/// hands them to the epoch collector the map's readers use: they are dropped
/// once every guard alive now is gone, that is once no reader can still be
/// cloning them. Declare it before the map operation that unlinks the entries,
/// so that it is dropped after.
pub(crate) struct Retired<V: Send + 'static>(Vec<V>);

impl<V: Send + 'static> Retired<V> {
    pub(crate) fn new() -> Self {
        Self(Vec::new())
    }
}

impl<V: Send + 'static> Drop for Retired<V> {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let values = std::mem::take(&mut self.0);
        scc::Guard::new().defer_execute(move || drop(values));
        // The collector advances the epoch once every 128 guards of a thread,
        // and frees a value after a few advances. Ask for the advances now; each
        // succeeds once every reader that was active has finished.
        for _ in 0..RETIRE_ADVANCES {
            scc::Guard::new().accelerate();
        }
    }
}

/// What a key maps to: its entry once stored and, while its value is being
/// computed, the computation.
///
/// An `insert` makes a ready slot; a miss makes a loading one, holding the
/// leader's flight, and the leader stores its value into that same slot
/// ([`Slot::fill`]). The map's updates are copy-on-write (a new slot, the old
/// one marked removed and freed only when a later insert needs its place), so
/// replacing the loading slot would make every computed key cost two slots and
/// leave one behind as garbage: under churn that garbage is what kept memory
/// growing (H7). The entry's `ready` flag sits in its padding, so a slot is no
/// larger than a value's entry and a flight's handle.
pub(crate) struct Slot<V> {
    entry: Entry<V>,
    /// The flight of a slot not yet filled; empty once filled.
    flight: FlightCell<V>,
}

impl<V> Slot<V> {
    /// A slot holding a value.
    fn ready(value: V, expires_at: Nanos, id: u64) -> Self {
        Self {
            entry: Entry::new(value, expires_at, id),
            flight: FlightCell::empty(),
        }
    }

    /// A slot waiting for `flight`'s value.
    fn loading(flight: Arc<Flight<V>>) -> Self {
        Self {
            entry: Entry::empty(),
            flight: FlightCell::new(flight),
        }
    }

    /// The stored entry, if the slot holds one (live or expired).
    #[inline(always)]
    fn entry(&self) -> Option<&Entry<V>> {
        self.entry
            .ready
            .load(Ordering::Acquire)
            .then_some(&self.entry)
    }

    /// Whether this is the slot of `flight` (and not yet filled). Only
    /// compares addresses; meaningful under the key's bucket lock.
    fn is_loading(&self, flight: &Arc<Flight<V>>) -> bool {
        self.flight.is(flight)
    }

    /// Lets go of the slot's flight handle, if any. Call it only under the
    /// key's bucket lock, when the slot is about to be unlinked or replaced:
    /// the map frees a slot it no longer links only when a later insert needs
    /// its place, and the handle, with the copy of the value that the flight's
    /// waiters got, would stay alive that long. The flight's leader holds a
    /// handle of its own while its slot is loading, so this never drops the
    /// flight itself under the lock.
    fn release_flight(&self) {
        // SAFETY: the caller holds the key's bucket lock.
        drop(unsafe { self.flight.take() });
    }

    /// Whether this is `flight`'s slot, not yet filled; if so, lets go of its
    /// handle ([`release_flight`](Self::release_flight)). For the condition of a
    /// `remove_if_sync` that unlinks the slot when it is the flight's (which
    /// runs under the key's bucket lock).
    fn unlink_if_loading(&self, flight: &Arc<Flight<V>>) -> bool {
        let loading = self.is_loading(flight);
        if loading {
            self.release_flight();
        }
        loading
    }

    /// The flight computing the value of `occupied`'s slot, if it is not
    /// filled. The occupied entry holds the key's bucket lock.
    fn flight<K>(occupied: &MapOccupied<'_, K, V>) -> Option<Arc<Flight<V>>>
    where
        K: Eq + Hash + 'static,
    {
        // SAFETY: `occupied` holds the bucket lock.
        unsafe { occupied.get().flight.get() }
    }

    /// Stores the leader's value into its loading slot, `occupied`'s, and lets
    /// go of the flight: from here on a caller finds the entry, and no one can
    /// join the flight any more. Returns `false`, and stores nothing, if the
    /// slot already held an entry.
    fn fill<K>(occupied: &MapOccupied<'_, K, V>, value: V, expires_at: Nanos, id: u64) -> bool
    where
        K: Eq + Hash + 'static,
    {
        let slot = occupied.get();
        let entry = &slot.entry;
        if entry.ready.load(Ordering::Relaxed) {
            return false;
        }
        // SAFETY: the entry is not ready, so no reader reaches the value (they
        // read it only through `Slot::entry`, after `ready`), and `occupied` holds
        // the bucket lock, so no other writer runs: this is the one write. The
        // release store of `ready` below publishes it.
        unsafe { (*entry.value.get()).write(value) };
        entry.expires_at.store(expires_at, Ordering::Relaxed);
        entry.id.store(id, Ordering::Relaxed);
        entry.ready.store(true, Ordering::Release);
        // SAFETY: `occupied` holds the bucket lock.
        drop(unsafe { slot.flight.take() });
        true
    }
}

/// A key's slot with its bucket locked (what `entry_sync` gives).
type MapOccupied<'a, K, V> = scc::hash_index::OccupiedEntry<'a, K, Slot<V>, Hasher>;

/// The flight of a loading slot: one owned `Arc` kept as a raw pointer (null:
/// none), so that the leader can let go of it when its value fills the slot
/// (the map hands out slots by shared reference only). Every access but the
/// drop holds the key's bucket lock, so a handle is never cloned while
/// another thread releases it.
struct FlightCell<V> {
    ptr: AtomicPtr<Flight<V>>,
    /// Owns a handle: `Send` and `Sync` as the handle is.
    _owns: PhantomData<Arc<Flight<V>>>,
}

impl<V> FlightCell<V> {
    fn new(flight: Arc<Flight<V>>) -> Self {
        Self {
            ptr: AtomicPtr::new(Arc::into_raw(flight).cast_mut()),
            _owns: PhantomData,
        }
    }

    fn empty() -> Self {
        Self {
            ptr: AtomicPtr::new(std::ptr::null_mut()),
            _owns: PhantomData,
        }
    }

    /// Compares addresses only (no access to the flight).
    fn is(&self, flight: &Arc<Flight<V>>) -> bool {
        std::ptr::eq(self.ptr.load(Ordering::Relaxed), Arc::as_ptr(flight))
    }

    /// A new handle on the flight, if any.
    ///
    /// # Safety
    ///
    /// The caller holds the key's bucket lock (as every `take` does).
    unsafe fn get(&self) -> Option<Arc<Flight<V>>> {
        let ptr = self.ptr.load(Ordering::Relaxed);
        if ptr.is_null() {
            return None;
        }
        // SAFETY: a non-null pointer came from `Arc::into_raw` and the cell owns
        // that count; only `take` (under the same bucket lock as this call) or
        // the drop (with no other access) releases it, so it is alive here.
        unsafe {
            Arc::increment_strong_count(ptr);
            Some(Arc::from_raw(ptr))
        }
    }

    /// The cell's handle, leaving it empty.
    ///
    /// # Safety
    ///
    /// The caller holds the key's bucket lock (as every `get` does), or has
    /// the cell to itself.
    unsafe fn take(&self) -> Option<Arc<Flight<V>>> {
        let ptr = self.ptr.swap(std::ptr::null_mut(), Ordering::Relaxed);
        // SAFETY: a non-null pointer came from `Arc::into_raw`, and the swap
        // hands the cell's count to this one caller.
        (!ptr.is_null()).then(|| unsafe { Arc::from_raw(ptr) })
    }
}

impl<V> Drop for FlightCell<V> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no other access.
        drop(unsafe { self.take() });
    }
}

/// Settings fixed at construction.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) ttl: Option<Duration>,
    pub(crate) max_entries: usize,
    pub(crate) clock: Clock,
}

/// The engine: a concurrent, bounded map with expiry, eviction and single-flight.
pub(crate) struct Store<K, V> {
    map: HashIndex<K, Slot<V>, Hasher>,
    rings: Box<[Ring<K>]>,
    ring_hasher: Hasher,
    /// Filled slots in the map (entries), live or expired-but-not-yet-removed. Signed: a
    /// `clear` racing an insert may subtract before the insert adds.
    stored: AtomicIsize,
    /// Where the next sweep step starts.
    sweep_cursor: AtomicUsize,
    pub(crate) config: Config,
    pub(crate) stats: Stats,
}

/// What a read found.
enum Found<V> {
    Hit(V),
    Expired(u64),
    Absent,
}

impl<K, V> Store<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub(crate) fn new(config: Config) -> Arc<Self> {
        config.clock.start();
        // S3-FIFO's ghost queue remembers as many keys as `main` holds: the
        // bound less the tenth `small` keeps.
        let ghost = (config.max_entries - small_share(config.max_entries)).div_ceil(RINGS);
        // A zero TTL stores nothing: the map holds only computations in
        // progress, usually none (a storage backend's in-process flights, or a
        // user's zero-TTL cache). scc frees an emptied array and allocates one
        // again for the next key; with a minimum capacity it keeps one, and a
        // flight does not pay for that (about 1,900 instructions a Redis read,
        // measured under callgrind). Slots unlinked since stay in the array
        // until an insert reuses their place, so each lets go of its flight
        // as it is unlinked (`Slot::release_flight`).
        let map = if config.ttl.is_some_and(|ttl| ttl.is_zero()) {
            HashIndex::with_capacity_and_hasher(FLIGHT_CAPACITY, Hasher::default())
        } else {
            HashIndex::with_hasher(Hasher::default())
        };
        let store = Arc::new(Self {
            map,
            rings: (0..RINGS).map(|_| Ring::new(ghost)).collect(),
            ring_hasher: Hasher::default(),
            stored: AtomicIsize::new(0),
            sweep_cursor: AtomicUsize::new(0),
            config,
            stats: Stats::new(),
        });
        maintenance::register(&store);
        store
    }

    /// The value of `key` if it is stored and live. Counts a hit or a miss.
    #[inline]
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        match self.peek(key) {
            Found::Hit(value) => {
                self.stats.bump(Counter::Hits);
                Some(value)
            }
            found => {
                if let Found::Expired(id) = found {
                    self.remove_expired(key, id);
                }
                self.stats.bump(Counter::Misses);
                None
            }
        }
    }

    /// The value of `key` if it is stored and live, counting nothing: for a
    /// caller that keeps its own counts (a storage backend's local tier).
    #[inline]
    pub(crate) fn get_uncounted<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        match self.peek(key) {
            Found::Hit(value) => Some(value),
            found => {
                if let Found::Expired(id) = found {
                    self.remove_expired(key, id);
                }
                None
            }
        }
    }

    /// Reads `key` without counting.
    #[inline(always)]
    fn peek<Q>(&self, key: &Q) -> Found<V>
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        let now = self.config.clock.recent();
        self.map
            .peek_with(&Lookup(key), |_, slot| match slot.entry() {
                Some(entry) if entry.is_live(now) => {
                    entry.touch();
                    Found::Hit(entry.value().clone())
                }
                Some(entry) => Found::Expired(entry.id()),
                None => Found::Absent,
            })
            .unwrap_or(Found::Absent)
    }

    /// Whether `key` holds a live value. Counts nothing.
    pub(crate) fn contains<Q>(&self, key: &Q) -> bool
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        let now = self.config.clock.recent();
        self.map
            .peek_with(key, |_, slot| slot.entry().is_some_and(|e| e.is_live(now)))
            .unwrap_or(false)
    }

    /// The value of `key` and its remaining time to live (`None`: never expires).
    pub(crate) fn get_with_ttl<Q>(&self, key: &Q) -> Option<(V, Option<Duration>)>
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        // Precise time: off the hit path, and the remaining TTL never exceeds the TTL.
        let now = self.config.clock.precise();
        self.map
            .peek_with(key, |_, slot| match slot.entry() {
                Some(entry) if entry.is_live(now) => {
                    Some((entry.value().clone(), remaining(entry.expires_at(), now)))
                }
                _ => None,
            })
            .flatten()
    }

    /// Stores `value` under `key` with `ttl` (`None`: never expires).
    pub(crate) fn insert(&self, key: K, value: V, ttl: Option<Duration>) {
        let expires_at = self.config.clock.expiry_after(ttl);
        let hash = self.ring_hash(&key);
        let ring = ring_index(hash);
        let entry = |id| Slot::ready(value, expires_at, id);
        let mut retired = Retired::new();
        // Ring locks are taken inside the map's bucket lock, never the other way round.
        let added = match self.map.entry_sync(key) {
            MapEntry::Occupied(mut occupied) => match occupied.get().entry() {
                Some(old) => {
                    // An overwrite keeps the entry's ring item: repeated overwrites of
                    // one key do not pile up copies of it.
                    let (id, old_expiry) = (old.id(), old.expires_at());
                    old.retire(&mut retired);
                    occupied.update(entry(id));
                    self.rings[ring].retime(occupied.key(), id, old_expiry, expires_at);
                    None
                }
                None => {
                    // The computation's value will not be stored (a leader only stores
                    // into its own slot); its waiters still get it.
                    // Publish the entry before its ring item: a sweep that sees the
                    // item must see the entry, or it would drop the item as stale.
                    let id = self.rings[ring].allocate_id();
                    occupied.get().release_flight();
                    occupied.update(entry(id));
                    self.rings[ring].push(occupied.key(), hash, id, expires_at);
                    Some(id)
                }
            },
            MapEntry::Vacant(vacant) => {
                let id = self.rings[ring].allocate_id();
                let occupied = vacant.insert_entry(entry(id));
                self.rings[ring].push(occupied.key(), hash, id, expires_at);
                Some(id)
            }
        };
        if let Some(id) = added {
            self.added_one(ring, id);
        }
    }

    /// Removes `key`; returns its value if it was live.
    pub(crate) fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        let now = self.config.clock.recent();
        let mut removed = None;
        let mut retired = Retired::new();
        let found = self.map.remove_if_sync(key, |slot| match slot.entry() {
            Some(entry) => {
                removed = Some(entry.is_live(now).then(|| entry.value().clone()));
                entry.retire(&mut retired);
                true
            }
            None => false,
        });
        if found {
            self.stored.fetch_sub(1, Ordering::Relaxed);
        }
        match removed {
            Some(Some(value)) => Some(value),
            Some(None) => {
                self.stats.bump(Counter::Expirations);
                None
            }
            None => None,
        }
    }

    /// Removes every entry, including computations in progress (their callers
    /// still get their values, which are then not stored), and resets the counters.
    pub(crate) fn clear(&self) {
        let mut removed: isize = 0;
        let mut retired = Retired::new();
        self.map.retain_sync(|_, slot| {
            match slot.entry() {
                Some(entry) => {
                    removed += 1;
                    entry.retire(&mut retired);
                }
                // The predicate runs under the key's bucket lock.
                None => slot.release_flight(),
            }
            false
        });
        self.stored.fetch_sub(removed, Ordering::Relaxed);
        // Ring items of removed entries are now stale; the sweep drops them. The
        // ghosts go now: their memory (up to 0.9x the bound in hashes) with them,
        // and keys stored after a clear start afresh.
        for ring in &self.rings {
            ring.with(|queue| queue.ghost.clear());
        }
        self.stats.reset();
    }

    /// Key hashes in every ring's ghost queue.
    #[cfg(test)]
    fn ghosts(&self) -> usize {
        self.rings
            .iter()
            .map(|ring| ring.with(|queue| queue.ghost.len()))
            .sum()
    }

    /// Live entries: exact, O(entries).
    pub(crate) fn len(&self) -> usize {
        let now = self.config.clock.recent();
        let mut live = 0;
        self.map.iter_sync(|_, slot| {
            if slot.entry().is_some_and(|e| e.is_live(now)) {
                live += 1;
            }
            true
        });
        live
    }

    /// Calls `f` on every live entry with its remaining time to live.
    pub(crate) fn for_each_live(&self, mut f: impl FnMut(&K, &V, Option<Duration>)) {
        let now = self.config.clock.precise();
        self.map.iter_sync(|key, slot| {
            if let Some(entry) = slot.entry()
                && entry.is_live(now)
            {
                f(key, entry.value(), remaining(entry.expires_at(), now));
            }
            true
        });
    }

    /// The counters and the live size.
    pub(crate) fn info(&self) -> CacheInfo {
        let counts = self.stats.snapshot();
        CacheInfo::from_counts(counts, self.len() as u64, self.config.max_entries as u64)
    }

    /// The hash that places `key` in a ring and names it in the ghost queues.
    pub(crate) fn ring_hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.ring_hasher.hash_one(key)
    }

    /// Whether more entries are stored than the bound allows.
    fn over_bound(&self) -> bool {
        let stored = self.stored.load(Ordering::Relaxed);
        usize::try_from(stored).is_ok_and(|stored| stored > self.config.max_entries)
    }

    /// Counts the entry `id` just stored in `ring`, and evicts if that passes
    /// the bound (never that entry itself: it is the one being made room for).
    fn added_one(&self, ring: usize, id: u64) {
        self.stored.fetch_add(1, Ordering::Relaxed);
        if self.over_bound() {
            self.enforce_bound(ring, id);
        }
    }

    /// Items in every ring's `small` queue (as last published).
    fn small_len(&self) -> usize {
        self.rings.iter().map(Ring::small_len).sum()
    }

    /// Removes `key` if it still holds the expired entry `id`.
    fn remove_expired<Q>(&self, key: &Q, id: u64) -> bool
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        let now = self.config.clock.recent();
        let mut retired = Retired::new();
        let removed = self.map.remove_if_sync(key, |slot| match slot.entry() {
            Some(e) if e.id() == id && !e.is_live(now) => {
                e.retire(&mut retired);
                true
            }
            _ => false,
        });
        if removed {
            self.stored.fetch_sub(1, Ordering::Relaxed);
            self.stats.bump(Counter::Expirations);
        }
        removed
    }

    /// Evicts until the bound holds or nothing is left to evict: expired entries
    /// first (from any ring), then S3-FIFO victims starting at ring `start`:
    /// from the `small` queues while they hold more than a tenth of the bound,
    /// from the `main` queues otherwise (each falls back on the other when it
    /// has no victim). `fresh` is the entry just stored in ring `start`, which
    /// is passed over unless nothing else can go.
    fn enforce_bound(&self, start: usize, fresh: u64) {
        let fresh = (start, fresh);
        while self.over_bound() {
            let now = self.config.clock.recent();
            let ring = |i: usize| (start + i) & (RINGS - 1);
            let expired = (0..RINGS).any(|i| {
                self.rings[ring(i)].may_have_expired(now) && self.evict_expired(ring(i), now)
            });
            if expired {
                continue;
            }
            let hands = if self.small_len() > small_share(self.config.max_entries) {
                [Hand::Small, Hand::Main]
            } else {
                [Hand::Main, Hand::Small]
            };
            let victim = |fresh| {
                hands
                    .into_iter()
                    .any(|hand| (0..RINGS).any(|i| self.evict(ring(i), hand, now, fresh)))
            };
            // The fresh entry goes too when nothing else can (a bound of zero).
            let evicted = victim(Some(fresh)) || victim(None);
            if !evicted {
                break;
            }
        }
    }

    /// Removes one expired entry of ring `ring`, if it has one.
    fn evict_expired(&self, ring: usize, now: Nanos) -> bool {
        loop {
            let candidate = self.rings[ring].with(|queue| {
                while let Some(item) = queue.pop_expired(now) {
                    if let Some(item) = self.resolve(queue, item, now) {
                        return Some(item);
                    }
                }
                None
            });
            let Some((key, id)) = candidate else {
                return false;
            };
            if self.remove_expired(&key, id) {
                return true;
            }
        }
    }

    /// Evicts the victim of `hand` in ring `ring`. Returns whether an entry was
    /// removed.
    fn evict(&self, ring: usize, hand: Hand, now: Nanos, fresh: Option<(usize, u64)>) -> bool {
        if hand == Hand::Small && self.rings[ring].small_len() == 0 {
            return false;
        }
        let fresh = fresh.and_then(|(fresh_ring, id)| (fresh_ring == ring).then_some(id));
        loop {
            let candidate = self.rings[ring].with(|queue| match hand {
                Hand::Small => self.small_hand(queue, now, fresh),
                Hand::Main => self.clock_hand(&mut queue.main, now, fresh),
            });
            let Some((key, id)) = candidate else {
                return false;
            };
            let mut was_live = false;
            let mut retired = Retired::new();
            let removed = self.map.remove_if_sync(&key, |slot| match slot.entry() {
                Some(e) if e.id() == id => {
                    was_live = e.is_live(now);
                    e.retire(&mut retired);
                    true
                }
                _ => false,
            });
            if removed {
                self.stored.fetch_sub(1, Ordering::Relaxed);
                let counter = if was_live {
                    Counter::Evictions
                } else {
                    Counter::Expirations
                };
                self.stats.bump(counter);
                return true;
            }
            // The entry changed under us; look again.
        }
    }

    /// Whether `key` still holds entry `id`.
    fn holds(&self, key: &K, id: u64) -> bool {
        self.map
            .peek_with(key, |_, slot| slot.entry().is_some_and(|e| e.id() == id))
            .unwrap_or(false)
    }

    /// What a popped expiry item means: the expired entry to remove, or nothing
    /// (the entry is gone or replaced; or, after an overwrite, it now expires
    /// later and the item is pushed back at the new expiry).
    fn resolve(
        &self,
        queue: &mut ring::Queue<K>,
        item: ring::Expiring<K>,
        now: Nanos,
    ) -> Option<(K, u64)> {
        let expiry = self
            .map
            .peek_with(&item.key, |_, slot| match slot.entry() {
                Some(e) if e.id() == item.id => Some(e.expires_at()),
                _ => None,
            })
            .flatten()?;
        if expiry <= now {
            return Some((item.key, item.id));
        }
        if expiry > item.at {
            queue.track_expiry(&item.key, item.id, expiry);
        }
        None
    }

    /// Advances `small`'s hand to a victim: entries read since they were stored
    /// move to `main`; the victim's key is remembered as a ghost (when it is
    /// live: an expired entry was not pushed out). Stops at the `fresh` entry:
    /// everything older has been seen.
    fn small_hand(
        &self,
        queue: &mut ring::Queue<K>,
        now: Nanos,
        fresh: Option<u64>,
    ) -> Option<(K, u64)> {
        for _ in 0..queue.small.len() {
            let (key, id) = queue.small.pop_front()?;
            if Some(id) == fresh {
                queue.small.push_back((key, id));
                return None;
            }
            match self.status(&key, id, now) {
                Status::Stale => {}
                Status::Accessed => ring::push_back(&mut queue.main, (key, id)),
                Status::Expired => return Some((key, id)),
                Status::Idle => {
                    queue.ghost.remember(self.ring_hash(&key));
                    return Some((key, id));
                }
            }
        }
        None
    }

    /// Advances the CLOCK hand of `items` to a victim, giving accessed entries
    /// (and the `fresh` one) a second chance.
    fn clock_hand(
        &self,
        items: &mut std::collections::VecDeque<(K, u64)>,
        now: Nanos,
        fresh: Option<u64>,
    ) -> Option<(K, u64)> {
        // Two passes at most: the first clears every accessed bit.
        let mut budget = items.len() * 2 + 1;
        while budget > 0 {
            budget -= 1;
            let (key, id) = items.pop_front()?;
            if Some(id) == fresh {
                items.push_back((key, id));
                continue;
            }
            match self.status(&key, id, now) {
                Status::Stale => {}
                Status::Accessed => items.push_back((key, id)),
                Status::Expired | Status::Idle => return Some((key, id)),
            }
        }
        None
    }

    /// The state of the entry a ring item refers to; clears its `accessed` bit.
    fn status(&self, key: &K, id: u64, now: Nanos) -> Status {
        self.map
            .peek_with(key, |_, slot| match slot.entry() {
                Some(e) if e.id() == id => {
                    if !e.is_live(now) {
                        Status::Expired
                    } else if e.accessed.swap(false, Ordering::Relaxed) {
                        Status::Accessed
                    } else {
                        Status::Idle
                    }
                }
                _ => Status::Stale,
            })
            .unwrap_or(Status::Stale)
    }

    /// One sweep step: removes every expired entry (popped from the expiry heaps,
    /// O(expired)), and walks up to `budget` ring items (`small`'s first, then
    /// `main`'s), starting where the last step stopped, to drop items of entries
    /// that are gone. Returns the number of entries removed.
    pub(crate) fn sweep_step(&self, budget: usize) -> usize {
        let now = self.config.clock.recent();
        let mut removed = 0;
        let mut left = budget;
        for _ in 0..RINGS {
            let ring = self.sweep_cursor.fetch_add(1, Ordering::Relaxed) & (RINGS - 1);
            let mut expired = Vec::new();
            self.rings[ring].with(|queue| {
                while let Some(item) = queue.pop_expired(now) {
                    expired.extend(self.resolve(queue, item, now));
                }
                // Overwrites leave superseded heap items behind; rebuild the heap
                // when they outnumber the live items.
                if queue.expiry.len() > 2 * (queue.small.len() + queue.main.len()) + 64 {
                    let heap = std::mem::take(&mut queue.expiry);
                    queue.expiry = heap
                        .into_iter()
                        .filter(|item| self.holds(&item.0.key, item.0.id))
                        .collect();
                }
            });
            left -= self.walk(ring, Hand::Small, left);
            left -= self.walk(ring, Hand::Main, left);
            let mut gone: Vec<u64> = expired
                .into_iter()
                .filter(|(key, id)| self.remove_expired(key, *id))
                .map(|(_, id)| id)
                .collect();
            if !gone.is_empty() {
                removed += gone.len();
                gone.sort_unstable();
                self.rings[ring].with(|queue| queue.drop_front_items(&gone));
            }
        }
        removed
    }

    /// Walks up to `budget` items of ring `ring`'s `hand` queue from its front,
    /// in place, dropping the items of entries that are gone. Returns the
    /// items walked.
    ///
    /// Items never leave their queue: each is checked and, when stale, removed
    /// under the ring lock, in chunks of at most a sixteenth of the queue (and
    /// at least [`WALK_CHUNK`]) so the lock is let go between them. An item
    /// taken out for the check would be out of the eviction hands' reach
    /// meanwhile, and a hand would evict the entries stored after it instead:
    /// on a loaded machine a descheduled sweep kept its batch out for
    /// milliseconds, and old entries outlived new ones.
    ///
    /// The check is the lock-free read the hands themselves make under the
    /// ring lock (`holds`): it never misses a present entry, even while the
    /// table resizes (scc moves an entry into the new array before it leaves
    /// the old one, and a read looks in the old array first, then in the new).
    /// Between chunks the hands may pop items or the queue may change
    /// otherwise; the walk then rechecks or skips a few items, which is
    /// harmless: an item is only ever removed in the lock hold that found it
    /// stale.
    fn walk(&self, ring: usize, hand: Hand, budget: usize) -> usize {
        let mut walked = 0;
        let mut at = 0;
        while walked < budget {
            let (seen, kept) = self.rings[ring].with(|queue| {
                let items = match hand {
                    Hand::Small => &mut queue.small,
                    Hand::Main => &mut queue.main,
                };
                let chunk = (items.len() / 16).max(WALK_CHUNK).min(budget - walked);
                ring::drop_stale(items, at, chunk, |(key, id)| self.holds(key, *id))
            });
            walked += seen;
            at += kept;
            if seen == 0 {
                break;
            }
        }
        walked
    }

    /// Sweeps every ring once: removes every expired entry and every stale item.
    pub(crate) fn sweep_all(&self) -> usize {
        self.sweep_step(self.ring_items())
    }

    /// Ring items in every ring: one per entry, plus those of entries gone
    /// since the sweep last walked them.
    pub(crate) fn ring_items(&self) -> usize {
        self.rings.iter().map(Ring::len).sum()
    }
}

/// A key as the hit path looks it up: the same hash and equality, as a type
/// of its own, so the map's lookup is instantiated for the hit path alone.
/// (Shared with every other read of the key type, scc's lookup functions are
/// called from many places and compiled out of line: three calls per hit.)
struct Lookup<'a, Q: ?Sized>(&'a Q);

impl<Q: Hash + ?Sized> Hash for Lookup<'_, Q> {
    #[inline(always)]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl<K: ?Sized, Q: Equivalent<K> + ?Sized> Equivalent<K> for Lookup<'_, Q> {
    #[inline(always)]
    fn equivalent(&self, key: &K) -> bool {
        self.0.equivalent(key)
    }
}

/// Which queue of a ring an eviction hand walks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hand {
    Small,
    Main,
}

/// The ring of a key's [`Store::ring_hash`]: its high bits (the map uses the
/// low ones).
fn ring_index(hash: u64) -> usize {
    (hash >> 58) as usize & (RINGS - 1)
}

/// The part of the bound S3-FIFO gives the `small` queues: a tenth.
fn small_share(max_entries: usize) -> usize {
    max_entries / 10
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Stale,
    Expired,
    Accessed,
    Idle,
}

fn remaining(expires_at: Nanos, now: Nanos) -> Option<Duration> {
    (expires_at != crate::clock::NEVER)
        .then(|| Duration::from_nanos(expires_at.saturating_sub(now)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Config, RINGS, Store};
    use crate::clock::Clock;

    fn store(max_entries: usize) -> std::sync::Arc<Store<u64, u64>> {
        Store::new(Config {
            ttl: None,
            max_entries,
            clock: Clock::mock().0,
        })
    }

    /// An unbounded store with a TTL of one second on a mock clock.
    fn one_second_store() -> (
        std::sync::Arc<Store<u64, u64>>,
        std::sync::Arc<crate::clock::MockClock>,
    ) {
        let (clock, mock) = Clock::mock();
        let store = Store::new(Config {
            ttl: Some(Duration::from_secs(1)),
            max_entries: usize::MAX,
            clock,
        });
        (store, mock)
    }

    /// Where the map keeps `key`'s slot now.
    fn slot_address(store: &Store<u64, u64>, key: u64) -> Option<usize> {
        store
            .map
            .read_sync(&key, |_, slot| std::ptr::from_ref(slot) as usize)
    }

    /// A computed value fills the slot its flight was given, in place: a miss
    /// takes one slot of the map, not a second one for the value with the
    /// flight's left behind as garbage (H7).
    #[test]
    fn a_computed_value_fills_the_flights_slot() {
        let store = store(100);
        let mut loading = None;
        let value = store.try_get_with::<()>(7, || {
            loading = slot_address(&store, 7);
            Ok(70)
        });
        assert_eq!(value, Ok(70));
        assert!(loading.is_some(), "the flight has a slot while it runs");
        assert_eq!(
            slot_address(&store, 7),
            loading,
            "the value is in the same slot"
        );
        assert_eq!(store.get(&7), Some(70));
    }

    /// A slot costs no more than the enum of an entry or a flight it replaced:
    /// the `ready` flag sits in the entry's padding (the map's slots are read
    /// on every hit, and their size is most of a cache's memory).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_slot_is_an_entry_and_a_pointer() {
        assert_eq!(std::mem::size_of::<super::Slot<u64>>(), 40);
    }

    /// Once its value is stored, nothing in the map keeps the flight (or a
    /// copy of the value in it) alive.
    #[test]
    fn a_filled_slot_lets_go_of_its_flight() {
        let store = store(100);
        let flight_of = |store: &Store<u64, u64>| match store.map.entry_sync(7) {
            scc::hash_index::Entry::Occupied(occupied) => super::Slot::flight(&occupied),
            scc::hash_index::Entry::Vacant(_) => None,
        };
        let mut flight = None;
        store
            .try_get_with::<()>(7, || {
                flight = flight_of(&store).map(|f| std::sync::Arc::downgrade(&f));
                Ok(70)
            })
            .unwrap();
        let flight = flight.expect("the slot held the flight while it ran");
        assert_eq!(flight.strong_count(), 0, "the flight is gone");
        assert!(
            flight_of(&store).is_none(),
            "the filled slot names no flight"
        );
    }

    /// A slot that is unlinked or replaced instead of filled lets go of its
    /// flight then: the map frees such a slot only when an insert reuses its
    /// place (a zero-TTL store keeps its array at a minimum capacity, so that
    /// can be never), and the flight would hold the copy of the value its
    /// waiters got that long. Covers a zero-TTL store's completion and
    /// abandonment, and a `clear` and an `insert` during a computation.
    #[test]
    fn an_unlinked_or_replaced_slot_lets_go_of_its_flight() {
        /// Computes `key` on `store`, running `during` inside the body, and
        /// returns the result and the handles left on the body's flight.
        fn flight_handles_after(
            store: &Store<u64, u64>,
            key: u64,
            result: Result<u64, ()>,
            during: impl FnOnce(),
        ) -> (Result<u64, ()>, usize) {
            let mut seen = None;
            let got = store.try_get_with(key, || {
                seen = match store.map.entry_sync(key) {
                    scc::hash_index::Entry::Occupied(occupied) => {
                        super::Slot::flight(&occupied).map(|f| std::sync::Arc::downgrade(&f))
                    }
                    scc::hash_index::Entry::Vacant(_) => None,
                };
                during();
                result
            });
            let seen = seen.expect("the slot held the flight while it ran");
            (got, seen.strong_count())
        }
        let zero = Store::new(Config {
            ttl: Some(Duration::ZERO),
            max_entries: 100,
            clock: Clock::mock().0,
        });
        let (got, left) = flight_handles_after(&zero, 7, Ok(70), || {});
        assert_eq!(got, Ok(70));
        assert_eq!(left, 0, "completed: the flight is gone");

        let (got, left) = flight_handles_after(&zero, 8, Err(()), || {});
        assert_eq!(got, Err(()));
        assert_eq!(left, 0, "abandoned: the flight is gone");

        let kept = store(100);
        let (got, left) = flight_handles_after(&kept, 9, Ok(90), || kept.clear());
        assert_eq!(got, Ok(90));
        assert_eq!(left, 0, "cleared: the flight is gone");
        assert_eq!(
            kept.get(&9),
            None,
            "a value computed across a clear is not stored"
        );

        let (got, left) = flight_handles_after(&kept, 10, Ok(100), || kept.insert(10, 101, None));
        assert_eq!(got, Ok(100));
        assert_eq!(left, 0, "replaced: the flight is gone");
        assert_eq!(
            kept.get(&10),
            Some(101),
            "the insert during the computation wins"
        );
    }

    /// A value whose clone number `at` (counted from 1) panics.
    #[derive(Debug)]
    struct Bomb {
        clones: std::sync::Arc<std::sync::atomic::AtomicUsize>,
        at: usize,
    }

    impl Clone for Bomb {
        fn clone(&self) -> Self {
            let n = self
                .clones
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                + 1;
            assert_ne!(n, self.at, "clone {n} panics");
            Self {
                clones: std::sync::Arc::clone(&self.clones),
                at: self.at,
            }
        }
    }

    /// A leader whose value panics while it is handed to a waiter (the clone
    /// for the waiter, under the bucket lock, before the slot is filled) still
    /// abandons its flight: the waiter computes in its turn instead of waiting
    /// forever, and the entry count stays exact.
    #[test]
    fn a_panic_while_storing_hands_the_key_over() {
        let store: std::sync::Arc<Store<u64, Bomb>> = Store::new(Config {
            ttl: None,
            max_entries: 100,
            clock: Clock::mock().0,
        });
        let clones = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        // Clone 1: the slot's copy (before the bucket lock); clone 2: the
        // waiter's copy (under it).
        let bomb = Bomb {
            clones: std::sync::Arc::clone(&clones),
            at: 2,
        };
        let joined = |store: &Store<u64, Bomb>| match store.map.entry_sync(7) {
            scc::hash_index::Entry::Occupied(occupied) => {
                super::Slot::flight(&occupied).is_some_and(|f| f.joined())
            }
            scc::hash_index::Entry::Vacant(_) => false,
        };
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let leader = {
            let store = std::sync::Arc::clone(&store);
            std::thread::spawn(move || {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    store.try_get_with::<()>(7, || {
                        entered_tx.send(()).unwrap();
                        while !joined(&store) {
                            std::thread::yield_now();
                        }
                        Ok(bomb)
                    })
                }))
                .is_err()
            })
        };
        entered_rx.recv().unwrap();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let waiter = {
            let store = std::sync::Arc::clone(&store);
            let clones = std::sync::Arc::clone(&clones);
            std::thread::spawn(move || {
                let got = store.try_get_with::<()>(7, || {
                    Ok(Bomb {
                        clones,
                        at: usize::MAX,
                    })
                });
                done_tx.send(got.is_ok()).unwrap();
            })
        };
        assert!(leader.join().unwrap(), "the leader's store panicked");
        let got = done_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the waiter is left waiting on an abandoned key");
        assert!(got);
        waiter.join().unwrap();
        // The leader's value was never stored: the waiter's is the one entry,
        // and the count the bound is checked against says so.
        assert_eq!(store.len(), 1);
        assert_eq!(store.stored.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert_eq!(
            store.get_uncounted(&7).map(|b| b.at),
            Some(usize::MAX),
            "the waiter computed the stored value"
        );
    }

    /// The sweep drops the ring items of the entries it removes as expired
    /// right away, not when its walk next reaches them: under churn with one
    /// TTL the rings hold about the live entries (H7).
    #[test]
    fn the_sweep_drops_the_items_of_the_entries_it_expires() {
        let _paused = super::maintenance::pause_background_sweep();
        let (store, mock) = one_second_store();
        for k in 0..10_000 {
            store.try_get_with::<()>(k, || Ok(k)).unwrap();
        }
        mock.advance(Duration::from_secs(2));
        for k in 10_000..15_000 {
            store.try_get_with::<()>(k, || Ok(k)).unwrap();
        }
        // A step that walks no items: only the expiry heaps act.
        assert_eq!(store.sweep_step(0), 10_000);
        assert_eq!(store.len(), 5_000);
        assert_eq!(store.ring_items(), 5_000);
    }

    /// A key that runs a hook when it is hashed on the thread that set the
    /// hook: a window into what the engine holds while it checks that key.
    #[derive(Clone, PartialEq, Eq)]
    struct Hooked(u64);

    type Hook = (u64, Box<dyn FnOnce()>);

    thread_local! {
        static HOOK: std::cell::RefCell<Option<Hook>> = const { std::cell::RefCell::new(None) };
    }

    impl std::hash::Hash for Hooked {
        fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
            let hook = HOOK.with(|hook| {
                let mut hook = hook.borrow_mut();
                if hook.as_ref().is_some_and(|(key, _)| *key == self.0) {
                    hook.take()
                } else {
                    None
                }
            });
            if let Some((_, run)) = hook {
                run();
            }
            self.0.hash(state);
        }
    }

    /// While the sweep checks a ring's items, an eviction hand in that ring
    /// sees all of them or waits: the walk never takes items out of the
    /// queue. (It used to check a batch taken out of the ring; a hand then
    /// passed over the batch's old entries and evicted newer ones, and on a
    /// loaded machine a descheduled sweep kept a batch out for milliseconds.)
    /// The walk still drops the items of entries that are gone.
    #[test]
    fn the_walk_keeps_items_within_the_hands_reach() {
        let _paused = super::maintenance::pause_background_sweep();
        let store: std::sync::Arc<Store<Hooked, u64>> = Store::new(Config {
            ttl: None,
            max_entries: 1_000,
            clock: Clock::mock().0,
        });
        for k in 0..64 {
            store.insert(Hooked(k), k, None);
        }
        for k in (0..64).step_by(2) {
            assert_eq!(store.remove(&Hooked(k)), Some(k));
        }
        let probe = 1;
        let ring = super::ring_index(store.ring_hash(&Hooked(probe)));
        let items = store.rings[ring].len();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let (in_hook, in_store) = (seen.clone(), store.clone());
        HOOK.with(|hook| {
            *hook.borrow_mut() = Some((
                probe,
                Box::new(move || {
                    let visible =
                        in_store.rings[ring].try_with(|queue| queue.small.len() + queue.main.len());
                    *in_hook.lock().unwrap() = Some(visible);
                }),
            ));
        });
        store.sweep_all();
        let seen = seen.lock().unwrap().take();
        let Some(visible) = seen else {
            panic!("the walk never checked the probe's item");
        };
        if let Some(visible) = visible {
            assert_eq!(
                visible, items,
                "a hand could see only {visible} of the ring's {items} items while the walk checked them"
            );
        }
        assert_eq!(
            store.ring_items(),
            32,
            "the items of removed entries are dropped"
        );
        assert_eq!(store.len(), 32);
    }

    /// A ring's queues and expiry heap grow by a quarter when full, not by
    /// doubling: they keep their peak capacity, and a peak just past a power
    /// of two would otherwise hold twice the memory for good (H7).
    #[test]
    fn rings_grow_by_a_quarter() {
        let (store, _mock) = one_second_store();
        for k in 0..100_000 {
            store.insert(k, k, Some(Duration::from_secs(1)));
        }
        for (i, ring) in store.rings.iter().enumerate() {
            ring.with(|queue| {
                let (len, capacity) = (queue.small.len(), queue.small.capacity());
                assert!(
                    capacity <= len + len / 4 + 16,
                    "ring {i}: {len} items in {capacity}"
                );
                let (len, capacity) = (queue.expiry.len(), queue.expiry.capacity());
                assert!(
                    capacity <= len + len / 4 + 16,
                    "ring {i}: {len} expiries in {capacity}"
                );
            });
        }
    }

    /// The ghost queues hold at most what the main queues can (0.9x the bound,
    /// rounded up per ring), however many keys the small queues evict.
    #[test]
    fn ghosts_are_bounded_by_the_main_share() {
        let store = store(1_000);
        for k in 0..100_000 {
            store.insert(k, k, None);
        }
        let ghosts = store.ghosts();
        assert!(ghosts > 0, "evicted keys are remembered");
        assert!(
            ghosts <= 900usize.div_ceil(RINGS) * RINGS,
            "{ghosts} ghosts"
        );
    }

    /// A ring's ghost memory is taken whole at its first eviction and does not
    /// grow after, while its ghosts fill (R12's soak measures the heap's growth
    /// late in a churn, when the ghosts of a fresh cache are still filling).
    #[test]
    fn ghost_memory_is_taken_at_the_first_eviction() {
        let store = store(1_000);
        let reserved = |store: &Store<u64, u64>| -> Vec<(usize, usize)> {
            store
                .rings
                .iter()
                .map(|ring| ring.with(|queue| queue.ghost.reserved()))
                .collect()
        };
        for k in 0..2_000 {
            store.insert(k, k, None);
        }
        let first = reserved(&store);
        assert!(
            first.iter().all(|&(order, set)| order > 0 && set > 0),
            "{first:?}"
        );
        assert!(store.ghosts() < 1_000, "the ghosts are still filling");
        for k in 2_000..100_000 {
            store.insert(k, k, None);
        }
        // The set's reported capacity counts its room left, which tombstones
        // lower: it may drop below what was reserved, never rise above it.
        let after = reserved(&store);
        for (ring, (&(order, set), &(order_first, set_first))) in
            after.iter().zip(&first).enumerate()
        {
            assert_eq!(order, order_first, "ring {ring}: the order grew");
            assert!(
                set <= set_first,
                "ring {ring}: the set grew from {set_first} to {set}"
            );
        }
    }

    /// `clear` forgets the ghosts: a key stored after it is new again.
    #[test]
    fn clear_forgets_the_ghosts() {
        let store = store(100);
        for k in 0..1_000 {
            store.insert(k, k, None);
        }
        assert!(store.ghosts() > 0);
        store.clear();
        assert_eq!(store.ghosts(), 0);
    }
}
