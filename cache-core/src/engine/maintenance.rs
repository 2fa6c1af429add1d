//! The background sweep: expired entries are reclaimed even when nobody reads them.
//!
//! One thread per process (started with the first cache) wakes every
//! [`SWEEP_INTERVAL`] and runs a bounded sweep step on every live cache, so a
//! full pass over a cache takes a few rounds and no round stalls on a big cache.
//! Caches are held weakly: dropping a cache unregisters it.

use std::hash::Hash;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Once, Weak};
use std::time::Duration;

use super::Store;

/// How often the sweep runs.
pub const SWEEP_INTERVAL: Duration = Duration::from_millis(250);
/// Ring items a sweep step visits per cache at least (more for big caches: a
/// quarter of the cache, so a full pass takes about four rounds).
const MIN_STEP: usize = 4096;

/// CLOCK items a round walks: a quarter of them, so every item is seen about
/// once a second. Sized by the items, not by the live entries: under churn with
/// a short TTL the items of expired entries outnumber the live ones, and a
/// budget sized by the live entries would let them pile up without bound.
fn round_budget(ring_items: usize) -> usize {
    MIN_STEP.max(ring_items / 4)
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
        self.sweep_step(round_budget(self.ring_items()));
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
        let caches: Vec<Arc<dyn Sweep>> = {
            let mut registry = registry();
            registry.caches.retain(|weak| weak.strong_count() > 0);
            registry.caches.iter().filter_map(Weak::upgrade).collect()
        };
        for cache in &caches {
            cache.sweep_round();
        }
        // Dropping the last handle of a cache here (not under the lock) is fine.
        drop(caches);
        registry().rounds += 1;
        ROUND_DONE.notify_all();
    }
}

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

    use super::Sweep;
    use crate::clock::Clock;
    use crate::engine::{Config, Store};

    #[test]
    fn rounds_drop_the_items_of_expired_entries_however_few_entries_live() {
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
        // The first round removes the expired entries (expiry heaps); their
        // CLOCK items remain until rounds walk them.
        store.sweep_round();
        assert_eq!(store.len(), 0);
        // Each round walks a quarter of the items (at least MIN_STEP): 100,000
        // stale items are gone within a dozen rounds (3 s of background sweep).
        // A budget sized by the live entries (none) walks MIN_STEP a round and
        // leaves about half of them.
        for _ in 0..11 {
            store.sweep_round();
        }
        assert_eq!(store.ring_items(), 0, "stale CLOCK items left behind");
    }
}
