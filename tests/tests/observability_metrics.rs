//! The `metrics` feature, read through metrics-util's `DebuggingRecorder`:
//! misses, computations, backend and decode errors are recorded as they
//! happen; hits and the other counters only when `publish_metrics` reads the
//! caches' own counters (so a hit costs nothing more); backend calls are timed.
//!
//! Run with `--features metrics` (or `observability`).
#![cfg(feature = "metrics")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod observability_support;

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use cache_core::clock::Clock;
use cache_core::observability::{self, metric, publish_metrics};
use cache_core::{Cache, ttl_cache};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use observability_support::{Failing, ObsStore, STORE_NAME};

/// Runs `f` with a fresh recorder as this thread's; returns what it took.
fn recorded(f: impl FnOnce()) -> Snapshotter {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, f);
    snapshotter
}

/// What a snapshot holds, found by name and labels. Counters in a snapshot
/// are what was added since the previous snapshot (published counters: the
/// value last published, if published since).
struct Seen(Vec<Metric>);

/// A metric's name, labels and value.
type Metric = (String, Vec<(String, String)>, DebugValue);

impl Seen {
    fn of(snapshotter: &Snapshotter) -> Self {
        Seen(
            snapshotter
                .snapshot()
                .into_vec()
                .into_iter()
                .map(|(key, _, _, value)| {
                    let labels = key
                        .key()
                        .labels()
                        .map(|l| (l.key().to_owned(), l.value().to_owned()))
                        .collect();
                    (key.key().name().to_owned(), labels, value)
                })
                .collect(),
        )
    }

    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<&DebugValue> {
        self.0
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|(_, _, value)| value)
    }

    fn counter(&self, name: &str, cache: &str) -> Option<u64> {
        match self.find(name, &[("cache", cache)])? {
            DebugValue::Counter(n) => Some(*n),
            other => panic!("{name} is not a counter: {other:?}"),
        }
    }

    fn gauge(&self, name: &str, cache: &str) -> Option<f64> {
        match self.find(name, &[("cache", cache)])? {
            DebugValue::Gauge(v) => Some(v.into_inner()),
            other => panic!("{name} is not a gauge: {other:?}"),
        }
    }

    fn histogram_len(&self, cache: &str, operation: &str) -> usize {
        let labels = [
            ("cache", cache),
            ("backend", STORE_NAME),
            ("operation", operation),
        ];
        match self.find(metric::BACKEND_CALL_SECONDS, &labels) {
            Some(DebugValue::Histogram(values)) => values.len(),
            Some(other) => panic!("not a histogram: {other:?}"),
            None => 0,
        }
    }

    fn mentions(&self, cache: &str) -> bool {
        self.0
            .iter()
            .any(|(_, labels, _)| labels.iter().any(|(_, v)| v == cache))
    }
}

/// Misses and computations are recorded as they happen; a hit is not
/// recorded at all until `publish_metrics` reads it from the cache, with
/// the size and the bound.
#[test]
fn misses_are_recorded_inline_and_hits_only_when_published() {
    let cache: Cache<u64, u64> = Cache::builder().name("obs-metrics").max_entries(10).build();
    let snapshotter = recorded(|| {
        for key in 1..=3 {
            cache.get_or_insert_with(key, || key);
        }
        cache.get(&1);
        cache.get(&2);
        cache.get(&9); // a plain miss: counted, nothing computed
    });
    let before = Seen::of(&snapshotter);
    assert_eq!(before.counter(metric::MISSES, "obs-metrics"), Some(4));
    assert_eq!(before.counter(metric::COMPUTATIONS, "obs-metrics"), Some(3));
    assert_eq!(
        before.counter(metric::HITS, "obs-metrics"),
        None,
        "a hit touched the recorder"
    );

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, publish_metrics);
    let published = Seen::of(&snapshotter);
    assert_eq!(published.counter(metric::HITS, "obs-metrics"), Some(2));
    assert_eq!(published.counter(metric::EVICTIONS, "obs-metrics"), Some(0));
    assert_eq!(published.gauge(metric::ENTRIES, "obs-metrics"), Some(3.0));
    assert_eq!(
        published.gauge(metric::MAX_ENTRIES, "obs-metrics"),
        Some(10.0)
    );
    assert_eq!(
        published.counter(metric::MISSES, "obs-metrics"),
        None,
        "misses are not published (they are recorded inline)"
    );
}

/// Published counters count since the cache was made: `clear` resets
/// `CacheInfo`, not the metrics, which must never fall.
#[test]
fn published_counters_survive_a_clear() {
    let cache: Cache<u64, u64> = Cache::builder().name("obs-cleared").build();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        cache.insert(1, 1);
        cache.get(&1);
        cache.get(&1);
        publish_metrics();
        assert_eq!(
            Seen::of(&snapshotter).counter(metric::HITS, "obs-cleared"),
            Some(2)
        );
        cache.clear();
        assert_eq!(cache.info().hits, 0);
        cache.insert(1, 1);
        cache.get(&1);
        publish_metrics();
    });
    assert_eq!(
        Seen::of(&snapshotter).counter(metric::HITS, "obs-cleared"),
        Some(3)
    );
}

/// Evictions and expirations are published too.
#[test]
fn evictions_and_expirations_are_published() {
    let (clock, time) = Clock::mock();
    let cache: Cache<u64, u64> = Cache::builder()
        .name("obs-bounded")
        .max_entries(1)
        .ttl(Duration::from_secs(10))
        .clock(clock)
        .build();
    cache.insert(1, 1);
    cache.insert(2, 2); // over the bound: one eviction
    time.advance(Duration::from_secs(11));
    // Swept here or by the background sweep, whichever comes first.
    cache.sweep();
    let info = cache.info();
    assert_eq!((info.evictions, info.expirations), (1, 1));
    let snapshotter = recorded(publish_metrics);
    let published = Seen::of(&snapshotter);
    assert_eq!(published.counter(metric::EVICTIONS, "obs-bounded"), Some(1));
    assert_eq!(
        published.counter(metric::EXPIRATIONS, "obs-bounded"),
        Some(1)
    );
    assert_eq!(published.gauge(metric::ENTRIES, "obs-bounded"), Some(0.0));
}

#[ttl_cache(ttl = 60)]
fn metered(x: u64) -> u64 {
    x
}

/// A cached function is measured under its identity.
#[test]
fn cached_functions_are_measured_under_their_identity() {
    let identity = metered::cache_parameters().identifier;
    let snapshotter = recorded(|| {
        metered(1);
        metered(1);
        metered(2);
        publish_metrics();
    });
    let seen = Seen::of(&snapshotter);
    assert_eq!(seen.counter(metric::MISSES, &identity), Some(2));
    assert_eq!(seen.counter(metric::COMPUTATIONS, &identity), Some(2));
    assert_eq!(seen.counter(metric::HITS, &identity), Some(1));
    assert_eq!(seen.gauge(metric::ENTRIES, &identity), Some(2.0));
    assert_eq!(seen.gauge(metric::MAX_ENTRIES, &identity), Some(10_000.0));
}

/// Unnamed caches record nothing, even on their slow paths.
#[test]
fn unnamed_caches_record_nothing() {
    let cache: Cache<u64, u64> = Cache::builder().max_entries(77).build();
    let snapshotter = recorded(|| {
        cache.get_or_insert_with(1, || 1);
        cache.get(&1);
        publish_metrics();
    });
    let seen = Seen::of(&snapshotter);
    assert!(
        seen.find(metric::MISSES, &[]).is_none() && seen.find(metric::COMPUTATIONS, &[]).is_none(),
        "{:?}",
        seen.0
    );
}

static STORE: LazyLock<Arc<ObsStore>> = LazyLock::new(ObsStore::new);

#[ttl_cache(ttl = 60, backend = STORE.clone())]
fn stored(x: u64) -> u64 {
    x + 1
}

/// Every call to a storage backend is timed under its operation; failures
/// and undecodable values are counted as they happen; a storage-backed
/// function publishes its hits but no size (it would walk the store).
#[test]
fn storage_calls_are_timed_and_their_failures_counted() {
    let identity = stored::cache_parameters().identifier;
    let snapshotter = recorded(|| {
        stored(1); // get (nothing), set
        stored(1); // get: a hit
        STORE.fail(Failing::Failed);
        stored(2); // get fails, set fails
        STORE.fail(Failing::No);
        STORE.overwrite(&identity, b"not an envelope");
        stored(1); // get: undecodable, set
        publish_metrics();
    });
    let seen = Seen::of(&snapshotter);
    assert_eq!(seen.histogram_len(&identity, "get"), 4);
    assert_eq!(seen.histogram_len(&identity, "set"), 3);
    assert_eq!(seen.counter(metric::BACKEND_ERRORS, &identity), Some(2));
    assert_eq!(seen.counter(metric::DECODE_ERRORS, &identity), Some(1));
    assert_eq!(seen.counter(metric::MISSES, &identity), Some(3));
    assert_eq!(seen.counter(metric::COMPUTATIONS, &identity), Some(3));
    assert_eq!(seen.counter(metric::HITS, &identity), Some(1));
    assert_eq!(seen.gauge(metric::ENTRIES, &identity), None);
    assert!(seen.mentions(&identity));
}

/// The Redis backend counts its circuit breaker's openings.
#[test]
fn redis_breaker_openings_are_counted() {
    let Some(server) = cache_tests::redis_server::RedisServer::start() else {
        return;
    };
    let backend = cache_redis::RedisBackend::builder(server.url())
        .prefix("obs-breaker-metrics")
        .op_timeout(Duration::from_millis(100))
        .breaker_threshold(1)
        .build()
        .unwrap();
    let key = cache_core::StorageKey {
        namespace: "obs",
        version: 0,
        digest: cache_core::Digest([9; 32]),
    };
    use cache_core::StorageBackend;
    let snapshotter = recorded(|| {
        let _paused = server.pause();
        assert!(backend.get(&key).is_err());
        assert!(backend.get(&key).is_err(), "refused: the breaker is open");
    });
    let seen = Seen::of(&snapshotter);
    let openings = seen.find(
        "cache_redis_breaker_openings",
        &[("prefix", "obs-breaker-metrics")],
    );
    assert!(
        matches!(openings, Some(DebugValue::Counter(1))),
        "{:?}",
        seen.0
    );
}

/// `describe_metrics` gives every metric a unit and a help text.
#[test]
fn every_metric_is_described() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        observability::describe_metrics();
        let cache: Cache<u64, u64> = Cache::builder().name("obs-described").build();
        cache.get_or_insert_with(1, || 1);
        cache.get(&1);
        publish_metrics();
    });
    let described: Vec<_> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().labels().any(|l| l.value() == "obs-described"))
        .collect();
    assert_eq!(described.len(), 8, "{described:?}");
    for (key, unit, help, _) in described {
        assert!(unit.is_some(), "{key:?} has no unit");
        assert!(help.is_some_and(|h| !h.is_empty()), "{key:?} has no help");
    }
}
