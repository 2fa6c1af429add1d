//! Counters that are cheap to bump and exact when read.
//!
//! Every thread that touches a cache gets a process-wide *slot* index, and each
//! cache keeps one cache-line-sized stripe of counters per slot. A slot has a
//! single writer (its thread), so bumping is a plain load and store on a line no
//! other core writes: no lock prefix, no cache-line bouncing (design decision 2).
//! Reading sums every stripe, which is exact. Slots are recycled when a thread
//! exits; threads beyond the stripe count share an overflow stripe bumped with
//! atomic adds, which is still exact.

use std::cell::Cell;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[cfg(any(feature = "tracing", feature = "metrics"))]
use crate::observability::Label;
use crate::observability::Name;

/// The counters a cache keeps. Their meaning is part of the API (see [`CacheInfo`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Counter {
    Hits = 0,
    Misses = 1,
    Computations = 2,
    Evictions = 3,
    Expirations = 4,
    ReentrantBypass = 5,
    BackendErrors = 6,
    DecodeErrors = 7,
}

const COUNTERS: usize = 8;
const STRIPES: usize = 64;

#[repr(align(64))]
#[derive(Default)]
struct Stripe([AtomicU64; COUNTERS]);

impl Stripe {
    fn load(&self, counter: usize) -> u64 {
        self.0[counter].load(Ordering::Relaxed)
    }
}

/// A set of striped counters for one cache.
pub(crate) struct Stats {
    stripes: Box<[Stripe]>,
    overflow: Stripe,
    /// Subtracted from the sums: `reset` records the current totals here instead
    /// of writing to stripes owned by other threads.
    baseline: Mutex<[u64; COUNTERS]>,
    /// The cache's name in events and metrics; unset for caches that are not
    /// observed (an unnamed `Cache`, the storage runtime's own flights).
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    label: std::sync::OnceLock<Label>,
}

impl Counter {
    /// Whether the `metrics` feature records this counter as it rises: the
    /// counters that rise only off the hit path, on a miss or a failure, where
    /// the user's body or a backend call costs far more than a metrics update.
    /// Hits and the others are published from the striped sums instead
    /// ([`publish_metrics`](crate::observability::publish_metrics)). A
    /// constant at every call site, so the test folds away where it is false.
    #[cfg(feature = "metrics")]
    #[inline(always)]
    const fn recorded_inline(self) -> bool {
        matches!(
            self,
            Counter::Misses
                | Counter::Computations
                | Counter::BackendErrors
                | Counter::DecodeErrors
        )
    }
}

impl Stats {
    pub(crate) fn new() -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| Stripe::default()).collect(),
            overflow: Stripe::default(),
            baseline: Mutex::new([0; COUNTERS]),
            #[cfg(any(feature = "tracing", feature = "metrics"))]
            label: std::sync::OnceLock::new(),
        }
    }

    /// Names these counters' cache in events and metrics (the first call
    /// wins). Without the `tracing` and `metrics` features nothing is kept.
    pub(crate) fn set_label(&self, name: &Name, backend: &'static str) {
        #[cfg(any(feature = "tracing", feature = "metrics"))]
        if self.label.get().is_none() {
            let _ = self.label.set(Label::new(name, backend));
        }
        #[cfg(not(any(feature = "tracing", feature = "metrics")))]
        let _ = (name, backend);
    }

    /// The name of these counters' cache, if it has one.
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    #[inline]
    pub(crate) fn label(&self) -> Option<&Label> {
        self.label.get()
    }

    /// Adds one to `counter`.
    #[inline]
    pub(crate) fn bump(&self, counter: Counter) {
        self.add(counter, 1);
    }

    /// Adds `n` to `counter`.
    #[inline]
    pub(crate) fn add(&self, counter: Counter, n: u64) {
        let index = counter as usize;
        match self.stripes.get(slot::current()) {
            Some(stripe) => {
                // Single writer per stripe: a plain read-modify-write is exact.
                let cell = &stripe.0[index];
                cell.store(
                    cell.load(Ordering::Relaxed).wrapping_add(n),
                    Ordering::Relaxed,
                );
            }
            None => {
                self.overflow.0[index].fetch_add(n, Ordering::Relaxed);
            }
        }
        #[cfg(feature = "metrics")]
        if counter.recorded_inline() {
            self.record_inline(counter, n);
        }
    }

    /// The `metrics` side of a counter that is recorded as it rises.
    #[cfg(feature = "metrics")]
    #[cold]
    #[inline(never)]
    fn record_inline(&self, counter: Counter, n: u64) {
        if let Some(label) = self.label.get() {
            crate::observability::metrics::record(label, counter, n);
        }
    }

    fn totals(&self) -> [u64; COUNTERS] {
        let mut totals = [0u64; COUNTERS];
        for (i, total) in totals.iter_mut().enumerate() {
            let striped = self.stripes.iter().map(|s| s.load(i));
            *total = striped.fold(self.overflow.load(i), u64::wrapping_add);
        }
        totals
    }

    /// The current value of every counter.
    pub(crate) fn snapshot(&self) -> Counts {
        let totals = self.totals();
        let baseline = *self.baseline.lock().unwrap_or_else(|e| e.into_inner());
        Counts::from_totals(totals, baseline)
    }

    /// Every counter since the cache was made, clears ignored: these only
    /// ever rise, as metrics counters must.
    #[cfg(feature = "metrics")]
    pub(crate) fn lifetime(&self) -> Counts {
        Counts::from_totals(self.totals(), [0; COUNTERS])
    }

    /// Sets every counter back to zero.
    pub(crate) fn reset(&self) {
        let mut baseline = self.baseline.lock().unwrap_or_else(|e| e.into_inner());
        *baseline = self.totals();
    }
}

impl fmt::Debug for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.snapshot().fmt(f)
    }
}

/// The counter values of a cache at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) hits: u64,
    pub(crate) misses: u64,
    pub(crate) computations: u64,
    pub(crate) evictions: u64,
    pub(crate) expirations: u64,
    pub(crate) reentrant_bypass: u64,
    pub(crate) backend_errors: u64,
    pub(crate) decode_errors: u64,
}

impl Counts {
    fn from_totals(totals: [u64; COUNTERS], baseline: [u64; COUNTERS]) -> Self {
        let get = |c: Counter| totals[c as usize].wrapping_sub(baseline[c as usize]);
        Self {
            hits: get(Counter::Hits),
            misses: get(Counter::Misses),
            computations: get(Counter::Computations),
            evictions: get(Counter::Evictions),
            expirations: get(Counter::Expirations),
            reentrant_bypass: get(Counter::ReentrantBypass),
            backend_errors: get(Counter::BackendErrors),
            decode_errors: get(Counter::DecodeErrors),
        }
    }

    /// Adds `other`'s counts to these.
    #[cfg(feature = "metrics")]
    pub(crate) fn absorb(&mut self, other: &Counts) {
        self.hits += other.hits;
        self.misses += other.misses;
        self.computations += other.computations;
        self.evictions += other.evictions;
        self.expirations += other.expirations;
        self.reentrant_bypass += other.reentrant_bypass;
        self.backend_errors += other.backend_errors;
        self.decode_errors += other.decode_errors;
    }
}

/// A snapshot of a cache's counters and size.
///
/// Every counter is exact at the moment it is read. Counters count since the
/// cache was created or last cleared.
///
/// `Display` writes it on one line, every field named; serde writes each field
/// under its own name (the registry's JSON,
/// [`observability::caches`](crate::observability::caches), holds it).
///
/// ```
/// use cache_core::Cache;
///
/// let cache: Cache<u64, u64> = Cache::builder().max_entries(100).build();
/// cache.get_or_insert_with(1, || 10);
/// cache.get(&1);
/// assert_eq!(
///     cache.info().to_string(),
///     "hits 1, misses 1, hit ratio 50.0%, computations 1, size 1/100, evictions 0, \
///      expirations 0, backend errors 0, decode errors 0, reentrant bypasses 0"
/// );
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct CacheInfo {
    /// Lookups that found a live value.
    pub hits: u64,
    /// Lookups that found no live value (including callers that then waited for
    /// another caller's computation of the same key).
    pub misses: u64,
    /// Producer or function bodies run to fill the cache.
    pub computations: u64,
    /// Live entries removed to respect `max_entries`.
    pub evictions: u64,
    /// Expired entries removed (on read, by the sweep, or before an eviction).
    pub expirations: u64,
    /// Calls that found their own key being computed by themselves further up
    /// the stack (recursion on the same key) and ran the body without dedup
    /// instead of deadlocking.
    pub reentrant_bypass: u64,
    /// Backend (Redis, disk, ...) calls that failed or timed out; each was
    /// treated as a miss (the body ran and its value was returned).
    pub backend_errors: u64,
    /// Stored values that could not be decoded (corrupt, truncated, other type);
    /// each was treated as a miss and overwritten.
    pub decode_errors: u64,
    /// Live (unexpired) entries.
    pub current_size: u64,
    /// The bound on stored entries.
    pub max_entries: u64,
}

impl CacheInfo {
    pub(crate) fn from_counts(counts: Counts, current_size: u64, max_entries: u64) -> Self {
        Self {
            hits: counts.hits,
            misses: counts.misses,
            computations: counts.computations,
            evictions: counts.evictions,
            expirations: counts.expirations,
            reentrant_bypass: counts.reentrant_bypass,
            backend_errors: counts.backend_errors,
            decode_errors: counts.decode_errors,
            current_size,
            max_entries,
        }
    }

    /// Adds `other`'s counters and size to these (the bound is kept).
    pub(crate) fn absorb(&mut self, other: &CacheInfo) {
        self.hits += other.hits;
        self.misses += other.misses;
        self.computations += other.computations;
        self.evictions += other.evictions;
        self.expirations += other.expirations;
        self.reentrant_bypass += other.reentrant_bypass;
        self.backend_errors += other.backend_errors;
        self.decode_errors += other.decode_errors;
        self.current_size += other.current_size;
    }

    /// `hits / (hits + misses)`, or 0 when there were no lookups.
    pub fn hit_ratio(&self) -> f64 {
        let lookups = self.hits + self.misses;
        if lookups == 0 {
            0.0
        } else {
            self.hits as f64 / lookups as f64
        }
    }
}

/// One line, every field named: `hits 90, misses 10, hit ratio 90.0%,
/// computations 10, size 8/1000, evictions 0, expirations 2, backend errors 0,
/// decode errors 0, reentrant bypasses 0`. The hit ratio reads `n/a` before
/// the first lookup; an unbounded cache's size reads `8/unbounded`.
impl fmt::Display for CacheInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "hits {}, misses {}, hit ratio ", self.hits, self.misses)?;
        if self.hits == 0 && self.misses == 0 {
            f.write_str("n/a")?;
        } else {
            write!(f, "{:.1}%", self.hit_ratio() * 100.0)?;
        }
        write!(
            f,
            ", computations {}, size {}/",
            self.computations, self.current_size
        )?;
        if self.max_entries == u64::MAX {
            f.write_str("unbounded")?;
        } else {
            write!(f, "{}", self.max_entries)?;
        }
        write!(
            f,
            ", evictions {}, expirations {}, backend errors {}, decode errors {}, \
             reentrant bypasses {}",
            self.evictions,
            self.expirations,
            self.backend_errors,
            self.decode_errors,
            self.reentrant_bypass
        )
    }
}

/// Process-wide slot indices for the calling thread.
mod slot {
    use super::*;

    /// Not yet assigned.
    const UNASSIGNED: usize = usize::MAX;
    /// Released (thread exiting): the overflow stripe is used from now on.
    const RELEASED: usize = usize::MAX - 1;

    static FREE: Mutex<Pool> = Mutex::new(Pool {
        next: 0,
        free: Vec::new(),
    });

    struct Pool {
        next: usize,
        free: Vec<usize>,
    }

    thread_local! {
        static INDEX: Cell<usize> = const { Cell::new(UNASSIGNED) };
        static OWNER: Owner = const { Owner(Cell::new(UNASSIGNED)) };
    }

    /// Returns the slot to the pool when the thread exits.
    struct Owner(Cell<usize>);

    impl Drop for Owner {
        fn drop(&mut self) {
            let index = self.0.get();
            // Any later counter bump on this thread (from another thread-local's
            // destructor) goes to the shared overflow stripe, not the freed slot.
            let _ = INDEX.try_with(|i| i.set(RELEASED));
            if index < RELEASED {
                let mut pool = FREE.lock().unwrap_or_else(|e| e.into_inner());
                pool.free.push(index);
            }
        }
    }

    /// The calling thread's slot.
    #[inline]
    pub(super) fn current() -> usize {
        let index = INDEX.try_with(Cell::get).unwrap_or(RELEASED);
        if index != UNASSIGNED { index } else { assign() }
    }

    #[cold]
    fn assign() -> usize {
        let index = {
            let mut pool = FREE.lock().unwrap_or_else(|e| e.into_inner());
            match pool.free.pop() {
                Some(index) => index,
                None => {
                    pool.next += 1;
                    pool.next - 1
                }
            }
        };
        // If the owner cannot be registered (thread exiting) the slot is never
        // returned; use the overflow stripe rather than risk two writers.
        if OWNER.try_with(|o| o.0.set(index)).is_err() {
            return RELEASED;
        }
        INDEX.with(|i| i.set(index));
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn counts_are_exact_across_many_short_lived_threads() {
        let stats = Arc::new(Stats::new());
        // More threads than stripes, in waves, so slots are recycled and the
        // overflow stripe is used.
        for _ in 0..4 {
            let handles: Vec<_> = (0..100)
                .map(|_| {
                    let stats = Arc::clone(&stats);
                    std::thread::spawn(move || {
                        for _ in 0..1_000 {
                            stats.bump(Counter::Hits);
                        }
                        stats.add(Counter::Misses, 3);
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
        }
        let counts = stats.snapshot();
        assert_eq!(counts.hits, 400_000);
        assert_eq!(counts.misses, 1_200);
    }

    #[test]
    fn reset_zeroes_counts_without_touching_other_threads_stripes() {
        let stats = Stats::new();
        stats.bump(Counter::Evictions);
        stats.reset();
        assert_eq!(stats.snapshot(), Counts::default());
        stats.bump(Counter::Evictions);
        assert_eq!(stats.snapshot().evictions, 1);
    }
}
