//! The background sweep: expired entries are reclaimed even when nobody reads them.
//!
//! One thread per process (started with the first cache) wakes every
//! [`SWEEP_INTERVAL`] and runs a bounded sweep step on every live cache, so a
//! full pass over a cache takes a few rounds and no round stalls on a big cache.
//! Caches are held weakly: dropping a cache unregisters it.

use std::hash::Hash;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Once, Weak};
use std::time::Duration;

use super::{RINGS, Store};

/// How often the sweep runs.
pub const SWEEP_INTERVAL: Duration = Duration::from_millis(250);
/// Ring items a sweep step visits per cache at least (more for big caches: a
/// quarter of the cache, so a full pass takes about four rounds).
const MIN_STEP: usize = 4096;

/// Ring items a round walks: a quarter of them, so every item is seen about
/// once a second. Sized by the items, not by the live entries: under churn with
/// a short TTL the items of expired entries outnumber the live ones, and a
/// budget sized by the live entries would let them pile up without bound.
fn round_budget(ring_items: usize) -> usize {
    MIN_STEP.max(ring_items / 4)
}

/// A round's walk over the eviction rings, whose lengths `lens` are given in walk
/// order (from the sweep cursor on): the budget to pass to `sweep_step`, and
/// how many rings it walks whole, which is how far the cursor must move for the
/// next round to start at the first ring not walked whole.
///
/// `sweep_step` walks the rings from the cursor on and spends its budget on the
/// first ones, but moves the cursor by one per ring *visited*, all `RINGS` of
/// them, so on its own the start never changes: rounds would walk the same few
/// rings and never reach the others, whose items of expired entries then pile
/// up (R12's soak: 88,000 items for 6,000 entries after 20 s of churn, growing).
/// The first ring is always walked whole, so a round makes progress even when
/// one ring holds more than the budget.
fn plan_walk(budget: usize, lens: &[usize]) -> (usize, usize) {
    let budget = budget.max(lens.first().copied().unwrap_or(0));
    let mut spent = 0;
    let whole = lens
        .iter()
        .take_while(|&&len| {
            spent += len;
            spent <= budget
        })
        .count();
    (budget, whole)
}

trait Sweep: Send + Sync {
    fn sweep_round(&self);
}

impl<K, V> Sweep for Store<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn sweep_round(&self) {
        let start = self.sweep_cursor.load(Ordering::Relaxed);
        let lens: Vec<usize> = (0..RINGS)
            .map(|i| self.rings[(start + i) & (RINGS - 1)].len())
            .collect();
        let (budget, whole) = plan_walk(round_budget(lens.iter().sum()), &lens);
        self.sweep_step(budget);
        // Past the rings walked whole (`sweep_step` itself moved the cursor by
        // `RINGS`, a whole turn): the next round starts where this one stopped.
        self.sweep_cursor.fetch_add(whole, Ordering::Relaxed);
        for ring in &self.rings {
            ring.shrink();
        }
    }
}

struct Registry {
    caches: Vec<Weak<dyn Sweep>>,
    rounds: u64,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    caches: Vec::new(),
    rounds: 0,
});
static ROUND_DONE: Condvar = Condvar::new();
static START: Once = Once::new();

/// Held by the background thread while it runs a round: a test that sweeps
/// by hand and counts what it removed holds it too
/// ([`pause_background_sweep`]), so that no round runs meanwhile.
static SWEEPING: Mutex<()> = Mutex::new(());

/// Keeps the background sweep from running a round until dropped (waiting
/// for a round in progress to finish).
#[cfg(test)]
pub(crate) fn pause_background_sweep() -> MutexGuard<'static, ()> {
    SWEEPING.lock().unwrap_or_else(|e| e.into_inner())
}

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn register<K, V>(store: &Arc<Store<K, V>>)
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    let weak: Weak<dyn Sweep> = Arc::downgrade(store) as Weak<dyn Sweep>;
    registry().caches.push(weak);
    START.call_once(|| {
        // Without the thread (thread limit reached) expired entries are still
        // removed on read, on eviction and by `Cache::sweep`.
        let _ = std::thread::Builder::new()
            .name("cache-core-sweep".into())
            .spawn(run);
    });
}

fn run() {
    loop {
        std::thread::sleep(SWEEP_INTERVAL);
        // Taken before the caches are: a paused sweep holds no cache alive.
        let sweeping = SWEEPING.lock().unwrap_or_else(|e| e.into_inner());
        let caches: Vec<Arc<dyn Sweep>> = {
            let mut registry = registry();
            registry.caches.retain(|weak| weak.strong_count() > 0);
            registry.caches.iter().filter_map(Weak::upgrade).collect()
        };
        for cache in &caches {
            cache.sweep_round();
        }
        drop(sweeping);
        // Dropping the last handle of a cache here (not under the lock) is fine.
        drop(caches);
        release_retired();
        registry().rounds += 1;
        ROUND_DONE.notify_all();
    }
}

/// Drops what this round retired before the thread sleeps: the values of the
/// entries it removed wait in this thread's epoch bags, which only this thread
/// empties, and would otherwise outlive their entries by a whole interval. Each
/// attempt advances the epoch once every thread reading the map has moved on,
/// so a few attempts, yielding between them, free them; bounded, in case a
/// reader holds on.
fn release_retired() {
    for _ in 0..RELEASE_ATTEMPTS {
        let guard = scc::Guard::new();
        if !guard.has_garbage() {
            return;
        }
        guard.accelerate();
        drop(guard);
        std::thread::yield_now();
    }
}

/// Attempts of [`release_retired`]: a few microseconds each.
const RELEASE_ATTEMPTS: usize = 64;

/// Blocks until the background sweep has completed `rounds` full rounds counted
/// from now, or `timeout` passed. Returns whether it did.
///
/// For tests that need to see the background sweep act: advance a mock clock,
/// then wait for two rounds (the first may have started before the advance).
pub fn wait_for_sweep_rounds(rounds: u64, timeout: Duration) -> bool {
    let registry = registry();
    let target = registry.rounds + rounds;
    let (registry, _) = ROUND_DONE
        .wait_timeout_while(registry, timeout, |r| r.rounds < target)
        .unwrap_or_else(|e| e.into_inner());
    registry.rounds >= target
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Sweep, pause_background_sweep, plan_walk};
    use crate::clock::Clock;
    use crate::engine::{Config, RINGS, Store};

    /// A store holding 100,000 entries that have just expired (1 ms TTL, the
    /// mock clock 2 ms later), none swept yet.
    fn expired_burst() -> std::sync::Arc<Store<u64, u64>> {
        let (clock, time) = Clock::mock();
        let store = Store::<u64, u64>::new(Config {
            ttl: Some(Duration::from_millis(1)),
            max_entries: 1_000_000,
            clock,
        });
        for k in 0..100_000 {
            store.insert(k, k, Some(Duration::from_millis(1)));
        }
        time.advance(Duration::from_millis(2));
        store
    }

    #[test]
    fn rounds_drop_the_items_of_expired_entries_however_few_entries_live() {
        let _paused = pause_background_sweep();
        let store = expired_burst();
        // The first round removes the expired entries (expiry heaps); their
        // ring items remain until rounds walk them.
        store.sweep_round();
        assert_eq!(store.len(), 0);
        // Each round walks a quarter of the items (at least MIN_STEP): 100,000
        // stale items are gone within a dozen rounds (3 s of background sweep).
        // A budget sized by the live entries (none) walks MIN_STEP a round and
        // leaves about half of them.
        for _ in 0..11 {
            store.sweep_round();
        }
        assert_eq!(store.ring_items(), 0, "stale ring items left behind");
    }

    /// Items of expired entries are dropped from every ring, not only from the
    /// rings a round happens to start with, when live entries hold the front of
    /// every ring (the sweep walks each ring from its front and puts the items
    /// of live entries back there). Rounds that always start at the same ring
    /// walk the same few rings over and over: about 21,000 of the 100,000 stale
    /// items are then left for good (R12's soak grew by such items).
    #[test]
    fn rounds_reach_every_ring_when_live_entries_hold_the_front() {
        let _paused = pause_background_sweep();
        let (clock, time) = Clock::mock();
        let store = Store::<u64, u64>::new(Config {
            ttl: None,
            max_entries: 1_000_000,
            clock,
        });
        for k in 0..16_000 {
            store.insert(k, k, None);
        }
        for k in 16_000..116_000 {
            store.insert(k, k, Some(Duration::from_millis(1)));
        }
        time.advance(Duration::from_millis(2));
        // Rounds cover a quarter of the items each: about four rings at first,
        // one at the end, so the sixteen rings take nine or ten rounds (seen);
        // sixteen leave a margin (4 s of background sweep).
        for _ in 0..16 {
            store.sweep_round();
        }
        assert_eq!(store.len(), 16_000);
        assert_eq!(store.ring_items(), 16_000, "stale ring items left behind");
    }

    #[test]
    fn a_walk_covers_the_rings_the_budget_allows_and_at_least_the_first() {
        assert_eq!(plan_walk(100, &[30, 30, 30, 30]), (100, 3));
        assert_eq!(plan_walk(120, &[30, 30, 30, 30]), (120, 4));
        // A first ring over the budget is walked whole all the same.
        assert_eq!(plan_walk(10, &[50, 5, 5]), (50, 1));
        assert_eq!(plan_walk(4096, &[0; 16]), (4096, 16));
        assert_eq!(plan_walk(4096, &[]), (4096, 0));
    }

    /// Rings give back the memory of the items they dropped: after a burst of
    /// 100,000 expired entries is swept, their items' capacity is gone too (a
    /// `VecDeque` and a `BinaryHeap` keep the capacity of their peak: over
    /// 100,000 item slots and as many heap slots here without the shrink).
    #[test]
    fn rounds_give_back_the_capacity_of_dropped_items() {
        let _paused = pause_background_sweep();
        let store = expired_burst();
        for _ in 0..16 {
            store.sweep_round();
        }
        assert_eq!(store.ring_items(), 0);
        let (items, heap) = store.rings.iter().fold((0, 0), |(items, heap), ring| {
            ring.with(|q| {
                let slots = q.small.capacity() + q.main.capacity();
                (items + slots, heap + q.expiry.capacity())
            })
        });
        // Rings under KEEP_CAPACITY are left as they are.
        let kept = 2 * RINGS * 1024;
        assert!(items <= kept, "{items} item slots kept for no items");
        assert!(heap <= kept, "{heap} heap slots kept for no items");
    }
}
