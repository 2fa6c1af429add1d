//! The `metrics` integration (feature `metrics`).
//!
//! Counters that rise only off the hit path are recorded as they rise (from
//! the one place every counter goes through, `Stats::add`, where the test is
//! a constant folded away for hits); the others are published from the exact
//! striped sums by [`publish_metrics`]. Each recording asks the recorder
//! installed at that moment (a handle kept from before the recorder was
//! installed would record nothing), with a key built once per cache, so that
//! it allocates and hashes nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use ::metrics::{Key, Label as MetricLabel, Level, Metadata, SharedString, Unit};

use super::{Label, Name};
use crate::stats::{Counter, Counts};

/// The names of the metrics, each labelled `cache` with the cache's name.
pub mod metric {
    /// Counter: lookups that found a live value (published).
    pub const HITS: &str = "cache_hits";
    /// Counter: lookups that found no live value (recorded as they happen).
    pub const MISSES: &str = "cache_misses";
    /// Counter: bodies or producers run to fill the cache (recorded as they happen).
    pub const COMPUTATIONS: &str = "cache_computations";
    /// Counter: storage backend calls that failed or timed out (recorded as they happen).
    pub const BACKEND_ERRORS: &str = "cache_backend_errors";
    /// Counter: stored values that did not decode, or values that could not
    /// be encoded (recorded as they happen).
    pub const DECODE_ERRORS: &str = "cache_decode_errors";
    /// Counter: live entries removed to respect the bound (published).
    pub const EVICTIONS: &str = "cache_evictions";
    /// Counter: expired entries removed (published).
    pub const EXPIRATIONS: &str = "cache_expirations";
    /// Counter: recursive calls on a key being computed, run without dedup (published).
    pub const REENTRANT_BYPASSES: &str = "cache_reentrant_bypasses";
    /// Gauge: live entries of an in-memory cache (published; not for storage
    /// backends, whose size costs a walk of the store).
    pub const ENTRIES: &str = "cache_entries";
    /// Gauge: the bound on entries (published).
    pub const MAX_ENTRIES: &str = "cache_max_entries";
    /// Histogram, seconds: the latency of each storage backend call, also
    /// labelled `backend` (`"redis"`, `"disk"`, ...) and `operation` (`"get"`,
    /// `"set"`, `"lease"`, `"len"`, `"clear"`).
    pub const BACKEND_CALL_SECONDS: &str = "cache_backend_call_seconds";
}

fn cache_label(name: &Name) -> MetricLabel {
    let value = match name {
        Name::Static(name) => SharedString::const_str(name),
        Name::Shared(name) => SharedString::from(std::sync::Arc::clone(name)),
    };
    MetricLabel::new("cache", value)
}

/// What the recordings of this crate tell a recorder about themselves.
static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// The keys of one cache's counters that are recorded as they rise.
#[derive(Debug)]
pub(crate) struct InlineKeys {
    misses: Key,
    computations: Key,
    backend_errors: Key,
    decode_errors: Key,
}

impl InlineKeys {
    pub(crate) fn new(name: &Name) -> Self {
        let key = |metric: &'static str| Key::from_parts(metric, vec![cache_label(name)]);
        Self {
            misses: key(metric::MISSES),
            computations: key(metric::COMPUTATIONS),
            backend_errors: key(metric::BACKEND_ERRORS),
            decode_errors: key(metric::DECODE_ERRORS),
        }
    }
}

/// Records `n` more of a counter recorded as it rises.
pub(crate) fn record(label: &Label, counter: Counter, n: u64) {
    let keys = &label.metric_keys;
    let key = match counter {
        Counter::Misses => &keys.misses,
        Counter::Computations => &keys.computations,
        Counter::BackendErrors => &keys.backend_errors,
        Counter::DecodeErrors => &keys.decode_errors,
        // Published, never recorded inline (see `Counter::recorded_inline`).
        _ => return,
    };
    ::metrics::with_recorder(|recorder| recorder.register_counter(key, &METADATA).increment(n));
}

/// Records the latency of one storage backend call.
pub(super) fn backend_call(label: &Label, operation: &'static str, elapsed: Duration) {
    let labels = vec![
        cache_label(&label.name),
        MetricLabel::from_static_parts("backend", label.backend),
        MetricLabel::from_static_parts("operation", operation),
    ];
    ::metrics::histogram!(metric::BACKEND_CALL_SECONDS, labels).record(elapsed.as_secs_f64());
}

/// Publishes the counters that are not recorded as they rise (hits,
/// evictions, expirations, reentrant bypasses) and the size gauges of every
/// cache in the [registry](super::caches), as absolute values read from the
/// caches' exact counters.
///
/// Call it before each scrape (or on a timer): a hit costs nothing more with
/// the `metrics` feature on because it is counted only by the cache, and read
/// here. Counters count since each cache was made and never fall, whatever
/// `cache_clear` does. Caches that share a name are summed. The size of an
/// in-memory cache is counted by walking it (O(entries)); storage-backed
/// functions publish no size (it would walk the store).
///
/// ```
/// use std::time::Duration;
/// use cache_core::{Cache, observability};
///
/// // Once, at start, after installing a recorder (an exporter):
/// observability::describe_metrics();
/// let sessions: Cache<u64, String> = Cache::builder().name("sessions").build();
/// sessions.insert(1, "alice".into());
/// sessions.get(&1);
/// // Before each scrape, or every few seconds from a thread of your own:
/// observability::publish_metrics();
/// ```
pub fn publish_metrics() {
    let mut merged: BTreeMap<Name, (Counts, Option<u64>, u64)> = BTreeMap::new();
    for (registration, source) in super::registry::live() {
        let (counts, size) = source.lifetime();
        let entry = merged
            .entry(registration.name.clone())
            .or_insert((Counts::default(), None, 0));
        entry.0.absorb(&counts);
        if let Some(size) = size {
            entry.1 = Some(entry.1.unwrap_or(0) + size);
        }
        entry.2 = entry.2.saturating_add(registration.max_entries);
    }
    for (name, (counts, size, max_entries)) in merged {
        let labels = [cache_label(&name)];
        let published = [
            (metric::HITS, counts.hits),
            (metric::EVICTIONS, counts.evictions),
            (metric::EXPIRATIONS, counts.expirations),
            (metric::REENTRANT_BYPASSES, counts.reentrant_bypass),
        ];
        for (metric, value) in published {
            ::metrics::counter!(metric, labels.iter()).absolute(value);
        }
        if let Some(size) = size {
            ::metrics::gauge!(metric::ENTRIES, labels.iter()).set(size as f64);
        }
        ::metrics::gauge!(metric::MAX_ENTRIES, labels.iter()).set(max_entries as f64);
    }
}

/// Describes every metric (help text and unit) to the installed recorder,
/// for exporters that show them (Prometheus `# HELP`). Call it once, after
/// installing the recorder.
pub fn describe_metrics() {
    use ::metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        metric::HITS,
        Unit::Count,
        "Lookups that found a live value."
    );
    describe_counter!(
        metric::MISSES,
        Unit::Count,
        "Lookups that found no live value."
    );
    describe_counter!(
        metric::COMPUTATIONS,
        Unit::Count,
        "Bodies or producers run to fill the cache."
    );
    describe_counter!(
        metric::BACKEND_ERRORS,
        Unit::Count,
        "Storage backend calls that failed or timed out (each a miss)."
    );
    describe_counter!(
        metric::DECODE_ERRORS,
        Unit::Count,
        "Stored values that did not decode, or values that could not be encoded."
    );
    describe_counter!(
        metric::EVICTIONS,
        Unit::Count,
        "Live entries removed to respect the bound."
    );
    describe_counter!(metric::EXPIRATIONS, Unit::Count, "Expired entries removed.");
    describe_counter!(
        metric::REENTRANT_BYPASSES,
        Unit::Count,
        "Recursive calls on a key being computed, run without dedup."
    );
    describe_gauge!(
        metric::ENTRIES,
        Unit::Count,
        "Live entries of an in-memory cache."
    );
    describe_gauge!(metric::MAX_ENTRIES, Unit::Count, "The bound on entries.");
    describe_histogram!(
        metric::BACKEND_CALL_SECONDS,
        Unit::Seconds,
        "Latency of each storage backend call."
    );
}
