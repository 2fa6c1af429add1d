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

trait Sweep: Send + Sync {
    fn sweep_round(&self);
}

impl<K, V> Sweep for Store<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn sweep_round(&self) {
        let stored = self.stored.load(std::sync::atomic::Ordering::Relaxed);
        self.sweep_step(MIN_STEP.max(usize::try_from(stored).unwrap_or(0) / 4));
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
