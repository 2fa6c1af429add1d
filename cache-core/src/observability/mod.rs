//! Seeing what the caches do: a registry of every cache in the process, and,
//! behind cargo features, `tracing` events and `metrics` counters.
//!
//! # The registry (always on)
//!
//! [`caches`] lists every cache of the process with its settings and its
//! [`CacheInfo`], ready for serde (an admin endpoint serves it as JSON; see
//! `examples/admin_http.rs`):
//!
//! - every `#[ttl_cache]` function, once it has been called (or its
//!   `cache_info()` / `cache_parameters()` read): its settings are evaluated
//!   on first use. Functions sharing an `identifier` are one cache and one
//!   entry.
//! - every [`Cache`](crate::Cache) given a name with
//!   [`CacheBuilder::name`](crate::CacheBuilder::name). Unnamed caches are not
//!   listed (nor traced, nor measured): name the ones you want to see.
//!
//! A cache registers itself once, when it is made; nothing happens on a
//! lookup. The registry holds weak references: a dropped `Cache` leaves it.
//!
//! ```
//! use cache_core::{Cache, observability, ttl_cache};
//!
//! #[ttl_cache(ttl = 60)]
//! fn square(x: u64) -> u64 {
//!     x * x
//! }
//!
//! square(4);
//! let sessions: Cache<u64, String> = Cache::builder().name("sessions").build();
//! sessions.insert(1, "alice".into());
//!
//! let names: Vec<String> = observability::caches().into_iter().map(|c| c.name).collect();
//! assert!(names.iter().any(|name| name.ends_with("::square")));
//! assert!(names.contains(&"sessions".to_string()));
//! let json = serde_json::to_string(&observability::caches()).unwrap();
//! assert!(json.contains(r#""name":"sessions""#));
//! ```
//!
//! # `tracing` (feature `tracing`)
//!
//! Events and spans carry the cache's name (`cache`: the function's identity or
//! the `Cache`'s name) and a key digest (`key`: 16 hex digits), never an
//! argument, a key or a value. For a storage backend the digest is the start of
//! the stored key's blake3 digest (the tail of the Redis key or the disk
//! entry); in memory it is a blake3 digest of the in-memory key, stable within
//! the process.
//!
//! | what | kind, level | name / message | fields |
//! |---|---|---|---|
//! | a miss (a lookup that found no live value) | event, `DEBUG` | `cache miss` | `cache`, `key` |
//! | a computation (the body or producer runs) | span, `DEBUG` | `cache_compute` | `cache`, `key` |
//! | a storage backend call failed or timed out | event, `WARN` (`DEBUG` when the backend refused it without trying: an open circuit breaker, a closed file) | `cache backend error` | `cache`, `key` (when the call had one), `backend`, `operation`, `error` |
//! | a stored value did not decode, or a value could not be encoded | event, `WARN` | `cache decode error` | `cache`, `key`, `backend`, `reason` |
//!
//! `error` is the backend's own message (Redis errors with any password
//! removed, disk errors naming the file); `reason` is one of a fixed set of
//! phrases, never the decoder's message (which can quote the stored bytes).
//! The user's code inside the body runs inside `cache_compute`, so its own
//! events are attributed to the computation. Misses of a plain
//! [`Cache::get`](crate::Cache::get) are counted but not traced: no
//! computation follows them. Only named caches and `#[ttl_cache]` functions
//! emit anything; hits never do.
//!
//! cache-redis and cache-disk forward this feature (their own `tracing`
//! feature turns it on) and add their own events: the Redis circuit breaker
//! opening (`WARN`) and closing (`INFO`), the local tier's subscription, shared
//! counter flushes; how a cache file was opened, and `DiskCache`'s misses,
//! computations and errors, with the fields above.
//!
//! # `metrics` (feature `metrics`)
//!
//! Through the [`metrics`](https://docs.rs/metrics) facade, labelled `cache`
//! with the cache's name (the module `metric` lists the names):
//!
//! - recorded as they happen, off the hit path: misses, computations, backend
//!   errors, decode errors, and a histogram of the latency of every storage
//!   backend call (labels `backend` and `operation` too);
//! - published by `publish_metrics()` from the exact counters the caches
//!   already keep: hits, evictions, expirations, reentrant bypasses, and the
//!   gauges of the size and the bound. A hit therefore costs nothing more with
//!   the feature on: call `publish_metrics` before each scrape or on a timer.
//!
//! A miss asks the installed recorder for its two counters (a few tens of
//! nanoseconds with no recorder, with keys built once per cache; nothing is
//! allocated). cache-redis and cache-disk forward the feature; cache-redis
//! adds `cache_redis_breaker_openings` (label `prefix`).
//!
//! Counters only ever rise: `cache_clear` resets [`CacheInfo`], not the metrics.
//! Install the recorder before the caches are used: counts made before it are
//! not recorded (hits are, since they are published from the caches' own
//! counters).
//!
//! [`CacheInfo`]: crate::CacheInfo

#[cfg(feature = "metrics")]
pub(crate) mod metrics;
mod registry;
#[cfg(feature = "tracing")]
mod trace;

use std::fmt;
use std::sync::Arc;

#[cfg(feature = "metrics")]
pub use metrics::{describe_metrics, metric, publish_metrics};
pub use registry::{CacheEntry, CacheKind, caches};
pub(crate) use registry::{Observed, Registration, register};

use crate::hash::Digest;
use crate::stats::Stats;

/// A cache's name: a function's identity (static), or a `Cache`'s name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Name {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Name {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Static(name) => name,
            Self::Shared(name) => name,
        }
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a cache is called in events and metrics, kept with its counters.
#[cfg(any(feature = "tracing", feature = "metrics"))]
#[derive(Debug)]
pub(crate) struct Label {
    pub(crate) name: Name,
    /// `"memory"`, or the storage backend's name.
    pub(crate) backend: &'static str,
    /// The metrics keys of the counters recorded as they rise.
    #[cfg(feature = "metrics")]
    pub(crate) metric_keys: metrics::InlineKeys,
}

#[cfg(any(feature = "tracing", feature = "metrics"))]
impl Label {
    pub(crate) fn new(name: &Name, backend: &'static str) -> Self {
        Self {
            name: name.clone(),
            backend,
            #[cfg(feature = "metrics")]
            metric_keys: metrics::InlineKeys::new(name),
        }
    }
}

/// A key as events name it: digested only when a subscriber records it.
#[derive(Clone, Copy)]
pub(crate) enum KeyRef<'a> {
    /// A storage digest, already computed.
    Digest(&'a Digest),
    /// An in-memory key, digested from its `Hash` stream.
    Hashed(&'a dyn HashKey),
}

/// A key that can be digested for an event.
pub(crate) trait HashKey {
    /// The first 8 bytes of a blake3 digest of the key's `Hash` stream.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    fn short_digest(&self) -> [u8; 8];
}

impl<K: std::hash::Hash + ?Sized> HashKey for K {
    fn short_digest(&self) -> [u8; 8] {
        /// Feeds a `Hash` stream to blake3.
        struct Feed(blake3::Hasher);
        impl std::hash::Hasher for Feed {
            fn write(&mut self, bytes: &[u8]) {
                self.0.update(bytes);
            }
            fn finish(&self) -> u64 {
                0
            }
        }
        let mut feed = Feed(blake3::Hasher::new_derive_key(
            "cache-core 2025 observability key digest",
        ));
        self.hash(&mut feed);
        let mut short = [0u8; 8];
        short.copy_from_slice(&feed.0.finalize().as_bytes()[..8]);
        short
    }
}

impl fmt::Display for KeyRef<'_> {
    /// 16 hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes: [u8; 8] = match self {
            Self::Digest(digest) => {
                let mut short = [0u8; 8];
                short.copy_from_slice(&digest.as_bytes()[..8]);
                short
            }
            Self::Hashed(key) => key.short_digest(),
        };
        for b in bytes {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

// ---- hooks: what the runtime calls; each is empty without its feature ----------

/// A counted miss (a `DEBUG` event).
#[inline(always)]
pub(crate) fn miss(stats: &Stats, key: KeyRef<'_>) {
    #[cfg(feature = "tracing")]
    if let Some(label) = stats.label() {
        trace::miss(label, key);
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (stats, key);
}

/// The span of a computation, entered until the guard drops.
#[must_use]
pub(crate) struct Computing {
    #[cfg(feature = "tracing")]
    _entered: Option<tracing::span::EnteredSpan>,
}

/// Enters the span of a computation (sync bodies).
#[inline(always)]
pub(crate) fn computing(stats: &Stats, key: KeyRef<'_>) -> Computing {
    #[cfg(feature = "tracing")]
    {
        Computing {
            _entered: stats
                .label()
                .map(|label| trace::compute_span(label, key).entered()),
        }
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = (stats, key);
        Computing {}
    }
}

/// `body` inside the span of a computation (async bodies).
#[inline(always)]
pub(crate) fn compute_in_span<F: std::future::Future>(
    stats: &Stats,
    key: KeyRef<'_>,
    body: F,
) -> impl std::future::Future<Output = F::Output> {
    #[cfg(feature = "tracing")]
    {
        use tracing::Instrument;
        let span = stats
            .label()
            .map_or_else(tracing::Span::none, |label| trace::compute_span(label, key));
        body.instrument(span)
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = (stats, key);
        body
    }
}

/// A storage backend call failed: a `WARN` event, or `DEBUG` when the backend
/// refused the call without trying (`unavailable`: an open circuit breaker,
/// a closed file), whose cause the backend reports once itself. `error`: the
/// [`BackendError`](crate::BackendError), or its [`ErrorText`].
#[cold]
pub(crate) fn backend_error(
    stats: &Stats,
    key: Option<&Digest>,
    operation: &'static str,
    error: &dyn fmt::Display,
    unavailable: bool,
) {
    #[cfg(feature = "tracing")]
    if let Some(label) = stats.label() {
        let key = key.map(KeyRef::Digest);
        trace::backend_error(label, key, operation, error, unavailable);
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (stats, key, operation, error, unavailable);
}

/// A backend error's message, kept for an event when the error itself is
/// handed on; empty without the `tracing` feature.
pub(crate) struct ErrorText {
    #[cfg(feature = "tracing")]
    text: String,
}

impl ErrorText {
    #[inline]
    pub(crate) fn of(error: &crate::BackendError) -> Self {
        #[cfg(feature = "tracing")]
        {
            Self {
                text: error.to_string(),
            }
        }
        #[cfg(not(feature = "tracing"))]
        {
            let _ = error;
            Self {}
        }
    }
}

impl fmt::Display for ErrorText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(feature = "tracing")]
        {
            f.write_str(&self.text)
        }
        #[cfg(not(feature = "tracing"))]
        {
            let _ = f;
            Ok(())
        }
    }
}

/// Why a value was not decoded or not encoded, in a fixed phrase.
#[derive(Clone, Copy, Debug)]
pub(crate) enum DecodeFailure<'a> {
    Decode(#[cfg_attr(not(feature = "tracing"), allow(dead_code))] &'a crate::codec::CodecError),
    Encode,
}

/// A stored value did not decode, or a value could not be encoded (a `WARN`
/// event).
#[cold]
pub(crate) fn decode_error(stats: &Stats, key: &Digest, failure: DecodeFailure<'_>) {
    #[cfg(feature = "tracing")]
    if let Some(label) = stats.label() {
        trace::decode_error(label, KeyRef::Digest(key), failure);
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (stats, key, failure);
}

/// `call`, a storage backend call, timed into the latency histogram.
#[inline]
pub(crate) fn timed<T>(stats: &Stats, operation: &'static str, call: impl FnOnce() -> T) -> T {
    #[cfg(feature = "metrics")]
    {
        let start = std::time::Instant::now();
        let result = call();
        if let Some(label) = stats.label() {
            metrics::backend_call(label, operation, start.elapsed());
        }
        result
    }
    #[cfg(not(feature = "metrics"))]
    {
        let _ = (stats, operation);
        call()
    }
}

/// The async form of [`timed`].
#[inline]
pub(crate) async fn timed_async<T>(
    stats: &Stats,
    operation: &'static str,
    call: impl std::future::Future<Output = T>,
) -> T {
    #[cfg(feature = "metrics")]
    {
        let start = std::time::Instant::now();
        let result = call.await;
        if let Some(label) = stats.label() {
            metrics::backend_call(label, operation, start.elapsed());
        }
        result
    }
    #[cfg(not(feature = "metrics"))]
    {
        let _ = (stats, operation);
        call.await
    }
}
