//! The runtime behind `#[ttl_cache]`: one [`CachedFn`] per cached function.
//!
//! The macro keeps the function's signature and routes its body through the
//! function's `CachedFn` (a `static`), which the wrapper handle exposes:
//! `price::cache_info()`, `Portfolio::value_cache().cache_clear()`, ...
//!
//! In memory, results are stored as typed values in the engine behind
//! [`Cache`](crate::Cache), keyed by the arguments' [`MemKey`]. With a
//! [`StorageBackend`] they are serialized into the checked envelope and keyed by
//! a blake3 [`Digest`](crate::Digest) (see [`StorageKey`]).

mod backend;
mod storage;
mod ttl;

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

pub use backend::{
    Backend, BackendError, BoxFuture, IntoBackend, LocalTier, Lookup, MemoryBackend,
    StorageBackend, StorageKey, TierState,
};
pub use ttl::IntoTtl;

use crate::engine::{Config, Store};
use crate::hash::{HashSink, MemKey, MemKeyBuilder, PersistentHash};
use crate::observability::{self, CacheKind, KeyRef, Name, Observed, Registration};
use crate::stats::{CacheInfo, Counter};
use backend::{ErasedStore, Namespace, Settings, TypedStore};

/// The TTL of `#[ttl_cache]` when no `ttl` is given: 60 seconds.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);

/// The settings of a cached function, as `cache_parameters()` reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheParameters {
    /// Time to live of each result; `None`: results never expire.
    pub ttl: Option<Duration>,
    /// The bound on stored results (in-memory backend).
    pub max_entries: usize,
    /// The cache's identity: the `identifier` option, or `module_path::function`.
    pub identifier: String,
    /// The `version` option (part of every persistent key).
    pub version: u32,
    /// Whether argument types take part in the key.
    pub typed: bool,
    /// `"memory"`, or the storage backend's name.
    pub backend: &'static str,
    /// The serializer of stored values; `"none"` in memory, where values are
    /// kept as they are.
    pub serializer: &'static str,
    /// Whether concurrent misses on one key run the body once.
    pub single_flight: bool,
    /// Whether that holds across processes too (`single_flight = fleet`, on a
    /// storage backend with leases).
    pub fleet_single_flight: bool,
    /// Whether `None` results are cached.
    pub cache_none: bool,
    /// Whether a storage backend's read error is returned to the caller
    /// (`fail_closed`) instead of being a counted miss.
    pub fail_closed: bool,
}

/// What `#[ttl_cache]` writes down about a function. Not for direct use.
#[doc(hidden)]
pub struct SiteSpec {
    pub identity: &'static str,
    pub shared: bool,
    pub version: u32,
    pub typed: bool,
    pub single_flight: bool,
    pub fleet: bool,
    pub cache_none: bool,
    pub fail_closed: bool,
    pub ttl: fn() -> Option<Duration>,
    pub max_entries: fn() -> usize,
    pub backend: Option<fn() -> Backend>,
    pub serializer: fn() -> &'static str,
}

/// The cache of one `#[ttl_cache]` function: its counters, its entries and its
/// settings. Every cached function has one; reach it through the function's
/// wrapper (`price::cache()`, `Type::method_cache()`).
///
/// ```
/// use cache_core::ttl_cache;
///
/// #[ttl_cache(ttl = 30)]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// square(3);
/// square(3);
/// let cache: &cache_core::CachedFn = square::cache();
/// assert_eq!((cache.cache_info().hits, cache.cache_info().misses), (1, 1));
/// cache.cache_clear();
/// assert_eq!(cache.cache_info().current_size, 0);
/// ```
pub struct CachedFn {
    spec: SiteSpec,
    state: OnceLock<State>,
    /// The in-memory store of the first value type used (the only one, except
    /// for a method of a generic impl whose return type names the impl's
    /// parameters). Kept here, not in the state, so that a hit finds it with
    /// one load and one type comparison.
    first: OnceLock<TypedStore>,
}

/// Settings evaluated on first use, and where the results live.
struct State {
    ttl: Option<Duration>,
    max_entries: usize,
    backend_name: &'static str,
    place: Place,
}

enum Place {
    Memory {
        backend: MemoryBackend,
        namespace: Arc<Namespace>,
    },
    Storage(Arc<storage::Stored>),
}

impl CachedFn {
    #[doc(hidden)]
    pub const fn new(spec: SiteSpec) -> Self {
        Self {
            spec,
            state: OnceLock::new(),
            first: OnceLock::new(),
        }
    }

    /// Counters and size (see [`CacheInfo`]). For a cache shared through an
    /// `identifier`, the whole shared cache.
    pub fn cache_info(&self) -> CacheInfo {
        let state = self.state();
        match &state.place {
            Place::Memory { namespace, .. } => namespace.info(state.max_entries as u64),
            Place::Storage(stored) => stored.info(),
        }
    }

    /// Removes every result and resets the counters. For a backend that can fail
    /// (Redis, disk) a failure is counted in [`CacheInfo::backend_errors`]; use
    /// [`try_cache_clear`](Self::try_cache_clear) to see it.
    pub fn cache_clear(&self) {
        let _ = self.try_cache_clear();
    }

    /// [`cache_clear`](Self::cache_clear), returning the backend's error.
    ///
    /// # Errors
    ///
    /// The [`BackendError`] of a storage backend that could not remove the
    /// entries (the counters are reset anyway).
    pub fn try_cache_clear(&self) -> Result<(), BackendError> {
        match &self.state().place {
            Place::Memory { namespace, .. } => {
                namespace.clear();
                Ok(())
            }
            Place::Storage(stored) => stored.clear(),
        }
    }

    /// The function's settings.
    pub fn cache_parameters(&self) -> CacheParameters {
        let state = self.state();
        CacheParameters {
            ttl: state.ttl,
            max_entries: state.max_entries,
            identifier: self.spec.identity.to_owned(),
            version: self.spec.version,
            typed: self.spec.typed,
            backend: state.backend_name,
            serializer: match state.place {
                Place::Memory { .. } => "none",
                Place::Storage(_) => (self.spec.serializer)(),
            },
            single_flight: self.spec.single_flight,
            fleet_single_flight: self.spec.fleet,
            cache_none: self.spec.cache_none,
            fail_closed: self.spec.fail_closed,
        }
    }

    #[inline]
    fn state(&self) -> &State {
        match self.state.get() {
            Some(state) => state,
            None => self.init(),
        }
    }

    #[cold]
    fn init(&self) -> &State {
        self.state.get_or_init(|| {
            let spec = &self.spec;
            let backend = spec
                .backend
                .map_or_else(|| Backend::Memory(MemoryBackend::default()), |make| make());
            let backend_name = backend.name();
            let settings = ((spec.ttl)(), (spec.max_entries)());
            let registration = |(ttl, max_entries): Settings, one_store_per_name| Registration {
                name: Name::Static(spec.identity),
                kind: CacheKind::Function,
                backend: backend_name,
                ttl,
                max_entries: max_entries as u64,
                one_store_per_name,
            };
            let (place, (ttl, max_entries)) = match backend {
                Backend::Memory(memory) => {
                    let (namespace, created) = if spec.shared {
                        memory.namespace(&format!("{}@{}", spec.identity, spec.version), settings)
                    } else {
                        (Arc::new(Namespace::new(settings)), true)
                    };
                    let settings = namespace.settings;
                    if created {
                        // A shared cache is listed once, by the function that made it.
                        let source = Arc::downgrade(&namespace) as Weak<dyn Observed>;
                        observability::register(registration(settings, false), source);
                    }
                    let place = Place::Memory {
                        backend: memory,
                        namespace,
                    };
                    (place, settings)
                }
                Backend::Storage(storage) => {
                    let stored = Arc::new(storage::Stored::new(storage, spec.identity, settings.1));
                    let source = Arc::downgrade(&stored) as Weak<dyn Observed>;
                    observability::register(registration(settings, true), source);
                    (Place::Storage(stored), settings)
                }
            };
            State {
                ttl,
                max_entries,
                backend_name,
                place,
            }
        })
    }

    /// The in-memory store for values of type `V`; `None` for a storage backend.
    #[inline(always)]
    fn memory_store<K, V>(&self) -> Option<StoreRef<'_, K, V>>
    where
        K: Eq + std::hash::Hash + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        // The hit path: the first store is set (only ever for the in-memory
        // backend) and of this type.
        if let Some(store) = self.first.get().and_then(TypedStore::get::<Store<K, V>>) {
            return Some(StoreRef::First(store));
        }
        self.memory_store_slow()
    }

    /// [`memory_store`](Self::memory_store) on first use, or for a value type
    /// other than the first.
    #[cold]
    #[inline(never)]
    fn memory_store_slow<K, V>(&self) -> Option<StoreRef<'_, K, V>>
    where
        K: Eq + std::hash::Hash + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        let state = self.state();
        let Place::Memory { backend, namespace } = &state.place else {
            return None;
        };
        let make = || {
            namespace.store(|| {
                let store = Store::<K, V>::new(Config {
                    ttl: state.ttl,
                    max_entries: state.max_entries,
                    clock: backend.clock.clone(),
                });
                store
                    .stats
                    .set_label(&Name::Static(self.spec.identity), "memory");
                store
            })
        };
        let typed = self.first.get_or_init(make);
        if let Some(store) = typed.get::<Store<K, V>>() {
            // Borrowed: a hit touches no reference count.
            return Some(StoreRef::First(store));
        }
        make()
            .any
            .downcast::<Store<K, V>>()
            .ok()
            .map(StoreRef::Other)
    }

    // ---- keys -------------------------------------------------------------

    /// A key builder for the in-memory backend. `typed` is the site's `typed`
    /// option, passed as a literal so that the key's layout is known at compile
    /// time and the key is built in registers.
    #[doc(hidden)]
    #[inline(always)]
    pub fn mem_key(&self, typed: bool) -> ArgSink<MemKeyBuilder> {
        ArgSink {
            sink: MemKeyBuilder::new(),
            typed,
        }
    }

    /// A key builder for a function with a `backend` option: the in-memory
    /// key, built in registers as [`mem_key`](Self::mem_key) builds it, and the
    /// storage digest only if the encoding outgrows an inline key (otherwise
    /// it is derived from the inline encoding on a storage call). Which of the
    /// two a long key needs is decided then, off the usual path.
    #[doc(hidden)]
    #[inline(always)]
    pub fn site_key(&self, typed: bool) -> ArgSink<SiteKeyBuilder<'_>> {
        ArgSink {
            sink: SiteKeyBuilder {
                site: self,
                mem: MemKeyBuilder::new(),
                spill: None,
            },
            typed,
        }
    }

    // ---- calls, in memory -------------------------------------------------

    /// Runs a sync body through the in-memory cache.
    #[doc(hidden)]
    #[inline(always)]
    pub fn memo<M, R>(&self, key: MemKey, body: impl FnOnce() -> R) -> R
    where
        M: Outcome<R>,
    {
        match self.memory_store::<MemKey, M::Stored>() {
            Some(store) => {
                if let Some(stored) = store.hit(&key) {
                    return M::join(stored);
                }
                memo_miss::<M, R>(&store, self.spec.single_flight, key, body)
            }
            // Unreachable: `memo` is emitted only for the in-memory backend.
            None => body(),
        }
    }

    /// The in-memory hit of an async call, counted, or `None`. The macro
    /// returns it from the function's own `poll`, and awaits
    /// [`memo_async_miss`](Self::memo_async_miss) only on `None`: a hit that
    /// went through a ready future instead was moved through several of the
    /// futures' stack slots, and took 1.5-1.7x a sync hit's time (stalled
    /// 16-byte reloads of values just stored, sampled with perf) for 1.1x its
    /// instructions.
    #[doc(hidden)]
    #[inline(always)]
    pub fn memo_async_hit<M, R>(&self, key: &MemKey) -> Option<R>
    where
        M: Outcome<R>,
    {
        let store = self.memory_store::<MemKey, M::Stored>()?;
        store.hit(key).map(M::join)
    }

    /// The rest of an async call once [`memo_async_hit`](Self::memo_async_hit)
    /// found nothing: a miss (the body runs, single-flight unless disabled).
    /// Boxed, so that the function's future stays the size of its arguments
    /// whatever the miss holds.
    #[doc(hidden)]
    pub fn memo_async_miss<M, R, F>(
        &self,
        key: MemKey,
        body: F,
    ) -> std::pin::Pin<Box<impl Future<Output = R>>>
    where
        M: Outcome<R>,
        F: Future<Output = R>,
    {
        Box::pin(self.memo_async_rest::<M, R, F>(key, body))
    }

    /// [`memo_async_miss`](Self::memo_async_miss), unboxed.
    async fn memo_async_rest<M, R, F>(&self, key: MemKey, body: F) -> R
    where
        M: Outcome<R>,
        F: Future<Output = R>,
    {
        match self.memory_store::<MemKey, M::Stored>() {
            Some(store) => {
                memo_miss_async::<M, R, F>(&store, self.spec.single_flight, key, body).await
            }
            // Unreachable: the macro emits these calls only for the in-memory backend.
            None => body.await,
        }
    }
}

/// A memory store: the site's usual one (borrowed), or another value type's.
enum StoreRef<'a, K, V> {
    First(&'a Store<K, V>),
    Other(Arc<Store<K, V>>),
}

impl<K, V> std::ops::Deref for StoreRef<'_, K, V> {
    type Target = Store<K, V>;

    #[inline]
    fn deref(&self) -> &Store<K, V> {
        match self {
            Self::First(store) => store,
            Self::Other(store) => store,
        }
    }
}

/// A sync miss on a memory store (the hit was counted by the caller's look):
/// single-flight unless disabled.
#[inline(never)]
fn memo_miss<M, R>(
    store: &Store<MemKey, M::Stored>,
    single_flight: bool,
    key: MemKey,
    body: impl FnOnce() -> R,
) -> R
where
    M: Outcome<R>,
{
    if single_flight {
        return match store.load(key, || M::split(body())) {
            Ok(stored) => M::join(stored),
            Err(unstored) => unstored,
        };
    }
    store.stats.bump(Counter::Misses);
    observability::miss(&store.stats, KeyRef::Hashed(&key));
    store.stats.bump(Counter::Computations);
    let result = {
        let _computing = observability::computing(&store.stats, KeyRef::Hashed(&key));
        body()
    };
    match M::split(result) {
        Ok(stored) => {
            store.insert(key, stored.clone(), store.config.ttl);
            M::join(stored)
        }
        Err(unstored) => unstored,
    }
}

/// The async form of [`memo_miss`].
async fn memo_miss_async<M, R, F>(
    store: &Store<MemKey, M::Stored>,
    single_flight: bool,
    key: MemKey,
    body: F,
) -> R
where
    M: Outcome<R>,
    F: Future<Output = R>,
{
    if single_flight {
        let body = move || async move { M::split(body.await) };
        return match store.load_async(key, body).await {
            Ok(stored) => M::join(stored),
            Err(unstored) => unstored,
        };
    }
    store.stats.bump(Counter::Misses);
    observability::miss(&store.stats, KeyRef::Hashed(&key));
    store.stats.bump(Counter::Computations);
    let result = observability::compute_in_span(&store.stats, KeyRef::Hashed(&key), body).await;
    match M::split(result) {
        Ok(stored) => {
            store.insert(key, stored.clone(), store.config.ttl);
            M::join(stored)
        }
        Err(unstored) => unstored,
    }
}

impl fmt::Debug for CachedFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedFn")
            .field("identifier", &self.spec.identity)
            .field("version", &self.spec.version)
            .finish_non_exhaustive()
    }
}

impl<K, V> ErasedStore for Store<K, V>
where
    K: Eq + std::hash::Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn clear(&self) {
        Store::clear(self);
    }

    fn info(&self) -> CacheInfo {
        Store::info(self)
    }

    #[cfg(feature = "metrics")]
    fn lifetime(&self) -> (crate::stats::Counts, u64) {
        (self.stats.lifetime(), self.len() as u64)
    }
}

/// Which results of a function are stored, and in what form. Chosen by the
/// macro from the return type (and `cache_none`). Not for direct use.
#[doc(hidden)]
pub trait Outcome<R> {
    /// What is stored.
    type Stored: Clone + Send + Sync + 'static;
    /// The part to store, or the whole result when it is not stored.
    fn split(result: R) -> Result<Self::Stored, R>;
    /// The result a stored value stands for.
    fn join(stored: Self::Stored) -> R;
    /// The result to return instead of computing when the backend cannot be
    /// read, or the error back for a counted miss (fail-open, the default).
    #[inline]
    fn refuse(error: BackendError) -> Result<R, BackendError> {
        Err(error)
    }
}

/// Every result is stored.
#[doc(hidden)]
pub struct Always;

impl<R: Clone + Send + Sync + 'static> Outcome<R> for Always {
    type Stored = R;
    #[inline]
    fn split(result: R) -> Result<R, R> {
        Ok(result)
    }
    #[inline]
    fn join(stored: R) -> R {
        stored
    }
}

/// `Ok` values are stored; errors never are.
#[doc(hidden)]
pub struct OkOnly;

impl<T: Clone + Send + Sync + 'static, E> Outcome<Result<T, E>> for OkOnly {
    type Stored = T;
    #[inline]
    fn split(result: Result<T, E>) -> Result<T, Result<T, E>> {
        result.map_err(Err)
    }
    #[inline]
    fn join(stored: T) -> Result<T, E> {
        Ok(stored)
    }
}

/// `Ok` values are stored; errors never are; a backend read error is returned
/// as `Err(E::from(error))` without running the body (`fail_closed`).
#[doc(hidden)]
pub struct OkOrRefuse;

impl<T: Clone + Send + Sync + 'static, E: From<BackendError>> Outcome<Result<T, E>> for OkOrRefuse {
    type Stored = T;
    #[inline]
    fn split(result: Result<T, E>) -> Result<T, Result<T, E>> {
        <OkOnly as Outcome<Result<T, E>>>::split(result)
    }
    #[inline]
    fn join(stored: T) -> Result<T, E> {
        <OkOnly as Outcome<Result<T, E>>>::join(stored)
    }
    #[inline]
    fn refuse(error: BackendError) -> Result<Result<T, E>, BackendError> {
        Ok(Err(E::from(error)))
    }
}

/// `Some` values are stored; `None` is not (`cache_none = false`).
#[doc(hidden)]
pub struct SomeOnly;

impl<T: Clone + Send + Sync + 'static> Outcome<Option<T>> for SomeOnly {
    type Stored = T;
    #[inline]
    fn split(result: Option<T>) -> Result<T, Option<T>> {
        result.ok_or(None)
    }
    #[inline]
    fn join(stored: T) -> Option<T> {
        Some(stored)
    }
}

/// Collects a call's arguments into a key, one argument at a time (no tuple
/// around them, so an argument without `PersistentHash` is reported on itself).
/// Not for direct use.
#[doc(hidden)]
pub struct ArgSink<S> {
    sink: S,
    typed: bool,
}

impl<S: HashSink> ArgSink<S> {
    /// Adds one argument (its type first, when the cache is `typed`).
    #[inline(always)]
    pub fn arg<T: PersistentHash + ?Sized>(&mut self, value: &T) {
        if self.typed {
            T::type_fingerprint(&mut self.sink);
        }
        value.persistent_hash(&mut self.sink);
    }
}

impl ArgSink<MemKeyBuilder> {
    /// The finished in-memory key.
    #[inline(always)]
    pub fn finish(self) -> MemKey {
        self.sink.finish()
    }
}

impl ArgSink<SiteKeyBuilder<'_>> {
    /// The finished key.
    #[inline(always)]
    pub fn finish(self) -> SiteKey {
        let SiteKeyBuilder { mem, spill, .. } = self.sink;
        match spill {
            None => SiteKey {
                mem: Some(mem.finish()),
                digest: None,
            },
            Some(spill) => finish_spilled(mem, spill),
        }
    }
}

#[cold]
fn finish_spilled(mem: MemKeyBuilder, spill: Spill) -> SiteKey {
    SiteKey {
        mem: spill.keep_mem.then(|| mem.finish()),
        digest: spill
            .digest
            .map(|hasher| crate::Digest(*hasher.finalize().as_bytes())),
    }
}

/// Builds the key of a function with a `backend` option (see
/// [`CachedFn::site_key`]). Not for direct use.
#[doc(hidden)]
pub struct SiteKeyBuilder<'a> {
    site: &'a CachedFn,
    mem: MemKeyBuilder,
    /// Set once the encoding no longer fits an inline key.
    spill: Option<Spill>,
}

/// What a key that outgrew the inline form still needs.
struct Spill {
    /// The storage digest, for a storage backend.
    digest: Option<Box<blake3::Hasher>>,
    /// Whether the in-memory key is used (memory backend, or a local tier).
    keep_mem: bool,
}

impl SiteKeyBuilder<'_> {
    /// Whether `n` more bytes still fit the inline key.
    #[inline(always)]
    fn fits(&self, n: usize) -> bool {
        self.spill.is_none()
            && self
                .mem
                .inline_len()
                .is_some_and(|len| len + n <= crate::hash::INLINE_KEY_CAP)
    }

    /// A tagged word that does not fit inline (or all of it after a spill).
    #[cold]
    #[inline(never)]
    fn spill_tagged_word(&mut self, tag: u8, word: u64) {
        self.write_tag(tag);
        self.write_u64(word);
    }

    /// Writes past the inline capacity: to the storage digest (started here
    /// from the inline encoding) and to the memory key, as the site needs.
    #[cold]
    #[inline(never)]
    fn write_spilled(&mut self, bytes: &[u8]) {
        let spill = match &mut self.spill {
            Some(spill) => spill,
            None => {
                let (digest, keep_mem) = match &self.site.state().place {
                    Place::Memory { .. } => (false, true),
                    Place::Storage(stored) => (true, stored.has_local_tier()),
                };
                let digest = digest.then(|| {
                    let spec = &self.site.spec;
                    let mut hasher = crate::hash::storage_key_hasher(spec.identity, spec.version);
                    self.mem.feed_inline(&mut hasher);
                    Box::new(hasher)
                });
                self.spill.insert(Spill { digest, keep_mem })
            }
        };
        if let Some(hasher) = &mut spill.digest {
            hasher.update(bytes);
        }
        if spill.keep_mem {
            self.mem.write(bytes);
        }
    }
}

impl HashSink for SiteKeyBuilder<'_> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        if self.fits(bytes.len()) {
            self.mem.write(bytes);
        } else {
            self.write_spilled(bytes);
        }
    }

    // Integers and lengths take the memory key's word path while they fit,
    // inlined into the site whatever the codegen units (out of line, the
    // builder goes through memory: store-forwarding stalls, +40 ns a hit).

    #[inline(always)]
    fn write_tag(&mut self, tag: u8) {
        if self.fits(1) {
            self.mem.write_tag(tag);
        } else {
            self.write_spilled(&[tag]);
        }
    }

    #[inline(always)]
    fn write_u64(&mut self, value: u64) {
        if self.fits(8) {
            self.mem.write_u64(value);
        } else {
            self.write_spilled(&value.to_le_bytes());
        }
    }

    #[inline(always)]
    fn write_tagged_word(&mut self, tag: u8, word: u64) {
        if self.fits(9) {
            self.mem.write_tagged_word(tag, word);
        } else {
            self.spill_tagged_word(tag, word);
        }
    }
}

/// The key of a function with a `backend` option. Not for direct use.
#[doc(hidden)]
pub struct SiteKey {
    /// The in-memory key; `None` only for a long key on a storage backend
    /// without a local tier, which has no use for it.
    mem: Option<MemKey>,
    /// The storage digest, when the encoding was too long to keep inline
    /// (otherwise derived from the inline encoding).
    digest: Option<crate::Digest>,
}
