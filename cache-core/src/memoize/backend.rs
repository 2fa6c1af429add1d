//! Where a cached function keeps its results: the in-memory engine, or a
//! byte-oriented store (Redis, a file) behind [`StorageBackend`].

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use crate::clock::Clock;
use crate::codec::MacKey;
use crate::hash::Digest;
use crate::observability::Observed;
use crate::stats::CacheInfo;
#[cfg(feature = "metrics")]
use crate::stats::Counts;

/// A boxed, sendable future, the return type of [`StorageBackend`]'s async methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A failed or timed-out backend operation. Cached functions treat it as a miss
/// (the body runs, its value is returned) and count it in
/// [`CacheInfo::backend_errors`].
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The operation did not finish within its time budget.
    #[error("{backend}: {operation} timed out after {after:?}")]
    Timeout {
        /// The backend's name.
        backend: &'static str,
        /// What was attempted (`"get"`, `"set"`, `"clear"`, ...).
        operation: &'static str,
        /// The budget that ran out.
        after: Duration,
    },
    /// The backend refused the call without trying (for example an open circuit
    /// breaker during an outage).
    #[error("{backend}: unavailable ({reason})")]
    Unavailable {
        /// The backend's name.
        backend: &'static str,
        /// Why.
        reason: String,
    },
    /// The backend reported an error.
    #[error("{backend}: {operation} failed: {source}")]
    Failed {
        /// The backend's name.
        backend: &'static str,
        /// What was attempted.
        operation: &'static str,
        /// The backend's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

/// The address of one stored result.
///
/// `digest` is blake3 (derive-key mode) over the namespace, the version, the
/// argument types when `typed`, and the arguments' [`PersistentHash`] encoding
/// (decision 1), so equal calls give equal keys in every process.
///
/// [`PersistentHash`]: crate::PersistentHash
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StorageKey<'a> {
    /// The cache's identity: `module_path::function`, or its `identifier`.
    pub namespace: &'a str,
    /// The cache's `version`; bumping it invalidates every stored result.
    pub version: u32,
    /// The key of this call.
    pub digest: Digest,
}

/// A backend's local tier, as [`StorageBackend::local_tier`] reports it: the
/// cached function then keeps decoded values in memory in front of the store
/// (typed, keyed like the memory backend), valid while the generation stays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTier {
    /// Bumped by every invalidation the backend hears of (a `cache_clear`
    /// anywhere): copies kept under another generation are stale.
    pub generation: u64,
    /// How long a copy may be kept.
    pub ttl: Duration,
    /// How many copies a cached function may keep.
    pub max_entries: usize,
}

/// A local tier's state, shared by a backend (which changes it) and the
/// cached functions in front of it (which read it on every call, with one
/// atomic load, instead of calling [`StorageBackend::local_tier`]): whether
/// copies may be kept now, and their generation.
#[derive(Debug)]
pub struct TierState {
    /// The generation, with [`UNSUBSCRIBED`](Self::UNSUBSCRIBED) set while
    /// no copy may be kept.
    word: std::sync::atomic::AtomicU64,
    ttl: Duration,
    max_entries: usize,
}

impl TierState {
    /// The bit of `word` that says no copy may be kept.
    const UNSUBSCRIBED: u64 = 1 << 63;

    /// A tier keeping at most `max_entries` copies per function for `ttl`;
    /// no copy may be kept until [`set_keeping`](Self::set_keeping)`(true)`.
    pub fn new(max_entries: usize, ttl: Duration) -> Self {
        Self {
            word: std::sync::atomic::AtomicU64::new(Self::UNSUBSCRIBED),
            ttl,
            max_entries: max_entries.max(1),
        }
    }

    /// The tier as a cached function uses it now: `None` while no copy may
    /// be kept.
    #[inline]
    pub fn current(&self) -> Option<LocalTier> {
        let word = self.word.load(std::sync::atomic::Ordering::Acquire);
        (word & Self::UNSUBSCRIBED == 0).then_some(LocalTier {
            generation: word,
            ttl: self.ttl,
            max_entries: self.max_entries,
        })
    }

    /// The current generation, `None` while no copy may be kept: the hit
    /// path's form of [`current`](Self::current).
    #[inline(always)]
    pub(crate) fn keeping_generation(&self) -> Option<u64> {
        let word = self.word.load(std::sync::atomic::Ordering::Acquire);
        (word & Self::UNSUBSCRIBED == 0).then_some(word)
    }

    /// Whether copies may be kept from now on (for Redis: while the
    /// invalidation subscription is in place).
    pub fn set_keeping(&self, keeping: bool) {
        use std::sync::atomic::Ordering;
        if keeping {
            self.word.fetch_and(!Self::UNSUBSCRIBED, Ordering::AcqRel);
        } else {
            self.word.fetch_or(Self::UNSUBSCRIBED, Ordering::AcqRel);
        }
    }

    /// Makes every copy kept so far stale (a new generation).
    pub fn invalidate(&self) {
        // The generation counts in the low 63 bits; it would take 2^63
        // invalidations to reach the flag.
        self.word.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// The outcome of one lookup, as [`StorageBackend::record`] is told it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lookup {
    /// A stored value was found and decoded.
    Hit,
    /// Nothing usable was stored (absent, undecodable or unreadable): the body ran.
    Miss,
}

/// A byte store that cached functions can keep their results in (Redis, a file).
///
/// Values arrive already serialized and wrapped in the checked envelope; the
/// backend stores bytes and honours the TTL. Every method may fail: callers turn
/// errors into misses. The async methods default to calling the sync ones, which
/// suits stores whose calls never block for long; network backends override them.
pub trait StorageBackend: Send + Sync + 'static {
    /// A short name shown by `cache_parameters()` and in errors (`"redis"`).
    fn name(&self) -> &'static str;

    /// The stored bytes of `key`, if any (expired entries are absent).
    ///
    /// # Errors
    ///
    /// A [`BackendError`] when the store cannot be read.
    fn get(&self, key: &StorageKey<'_>) -> Result<Option<Vec<u8>>, BackendError>;

    /// Stores `value` under `key` for `ttl` (`None`: no expiry), atomically.
    ///
    /// # Errors
    ///
    /// A [`BackendError`] when the store cannot be written.
    fn set(
        &self,
        key: &StorageKey<'_>,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<(), BackendError>;

    /// Removes every entry of `namespace`, whatever its version.
    ///
    /// # Errors
    ///
    /// A [`BackendError`] when the entries cannot be removed.
    fn clear(&self, namespace: &str) -> Result<(), BackendError>;

    /// The number of live entries of `namespace`.
    ///
    /// # Errors
    ///
    /// A [`BackendError`] when the store cannot be read.
    fn len(&self, namespace: &str) -> Result<u64, BackendError>;

    /// The backend's local tier, when it has one and can keep copies right now
    /// (for Redis: while its invalidation subscription is in place). Called on
    /// every call when [`tier_state`](Self::tier_state) is `None`: it must be
    /// cheap. The default: the tier state's [`current`](TierState::current).
    fn local_tier(&self) -> Option<LocalTier> {
        self.tier_state().and_then(|state| state.current())
    }

    /// The backend's local tier as shared state, which cached functions read
    /// on every call (one atomic load) in place of calling
    /// [`local_tier`](Self::local_tier). A backend with a tier implements
    /// this (or, for a tier it cannot share, `local_tier` and
    /// `has_local_tier`). The default: none.
    fn tier_state(&self) -> Option<std::sync::Arc<TierState>> {
        None
    }

    /// Whether this backend is configured with a local tier at all (whether
    /// or not it can keep copies right now). Keys are then built for it. The
    /// default: whether it has a [`tier_state`](Self::tier_state).
    fn has_local_tier(&self) -> bool {
        self.tier_state().is_some()
    }

    /// Told the outcome of every lookup of `namespace` by this process, after
    /// the value was decoded (a decode error is a miss), for backends that keep
    /// counters of their own (Redis's shared counters). Called on the call
    /// path: it must not block. The default does nothing.
    fn record(&self, namespace: &str, outcome: Lookup) {
        let _ = (namespace, outcome);
    }

    /// Whether [`record`](Self::record) does anything: asked once, when a
    /// cached function first uses the backend, so that a backend without
    /// counters costs no call per lookup. The default: `false`; a backend
    /// that implements `record` must return `true`.
    fn records_lookups(&self) -> bool {
        false
    }

    /// Fleet-wide single-flight (`single_flight = fleet`): tries to take the
    /// lease to compute `key`, across every process sharing the store.
    /// `Ok(Some(token))` when taken (hand the token to
    /// [`release_lease`](Self::release_lease)), `Ok(None)` while another
    /// process holds it. A lease expires by itself, so a holder that dies
    /// hands over. The default, for stores without leases, always grants one.
    ///
    /// # Errors
    ///
    /// A [`BackendError`] when the store cannot be reached (callers compute).
    fn try_lease(&self, key: &StorageKey<'_>) -> Result<Option<u64>, BackendError> {
        let _ = key;
        Ok(Some(0))
    }

    /// Gives back a lease taken by [`try_lease`](Self::try_lease), if it is
    /// still ours. The default does nothing.
    ///
    /// # Errors
    ///
    /// A [`BackendError`] when the store cannot be reached (the lease then
    /// expires by itself).
    fn release_lease(&self, key: &StorageKey<'_>, token: u64) -> Result<(), BackendError> {
        let _ = (key, token);
        Ok(())
    }

    /// How long a caller that found the lease taken waits before looking
    /// again. The default: 20 ms.
    fn lease_poll(&self) -> Duration {
        Duration::from_millis(20)
    }

    /// Waits [`lease_poll`](Self::lease_poll) without blocking the executor
    /// (a backend whose [`try_lease`](Self::try_lease) can answer `None` must
    /// provide it with its runtime's timer). The default returns at once.
    fn lease_wait_async(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }

    /// The async form of [`try_lease`](Self::try_lease).
    fn try_lease_async<'a>(
        &'a self,
        key: &'a StorageKey<'a>,
    ) -> BoxFuture<'a, Result<Option<u64>, BackendError>> {
        Box::pin(std::future::ready(self.try_lease(key)))
    }

    /// The async form of [`release_lease`](Self::release_lease).
    fn release_lease_async<'a>(
        &'a self,
        key: &'a StorageKey<'a>,
        token: u64,
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(std::future::ready(self.release_lease(key, token)))
    }

    /// The async form of [`get`](Self::get).
    fn get_async<'a>(
        &'a self,
        key: &'a StorageKey<'a>,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, BackendError>> {
        Box::pin(std::future::ready(self.get(key)))
    }

    /// The async form of [`set`](Self::set).
    fn set_async<'a>(
        &'a self,
        key: &'a StorageKey<'a>,
        value: &'a [u8],
        ttl: Option<Duration>,
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(std::future::ready(self.set(key, value, ttl)))
    }

    /// The key that signs and checks stored values, if the backend has one
    /// (see [`Codec::with_mac_key`](crate::codec::Codec::with_mac_key)). Each
    /// entry is signed with a key derived from this one and its storage key
    /// (namespace, version, digest), so a signed value copied to another key
    /// fails the check like a forged one.
    fn mac_key(&self) -> Option<MacKey> {
        None
    }
}

/// The in-memory engine as a backend: results are kept as typed values (no
/// serialization), bounded and swept like a [`Cache`](crate::Cache).
///
/// [`MemoryBackend::default`] is the process-wide default that `#[ttl_cache]`
/// uses without a `backend` option: functions naming the same `identifier`
/// share their cache through it. [`MemoryBackend::with_clock`] makes a separate
/// one (its own shared caches) that reads time from `clock`, for tests with a
/// [`MockClock`](crate::clock::MockClock); keep it in a `static` so every
/// function that names it sees the same one.
#[derive(Clone)]
pub struct MemoryBackend {
    pub(crate) clock: Clock,
    registry: Arc<Registry>,
}

impl MemoryBackend {
    /// A memory backend reading time from `clock`, with its own set of shared caches.
    pub fn with_clock(clock: Clock) -> Self {
        Self {
            clock,
            registry: Arc::default(),
        }
    }

    /// The shared cache named `name`, created on first use with `settings`
    /// (the TTL and the bound): the first function to touch a shared cache
    /// decides them. `true` with the one call that created it.
    pub(crate) fn namespace(&self, name: &str, settings: Settings) -> (Arc<Namespace>, bool) {
        let mut shared = self
            .registry
            .shared
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut created = false;
        let namespace = shared.entry(name.to_owned()).or_insert_with(|| {
            created = true;
            Arc::new(Namespace::new(settings))
        });
        (Arc::clone(namespace), created)
    }
}

impl Default for MemoryBackend {
    /// The process-wide default memory backend (system clock).
    fn default() -> Self {
        static GLOBAL: LazyLock<MemoryBackend> =
            LazyLock::new(|| MemoryBackend::with_clock(Clock::System));
        GLOBAL.clone()
    }
}

impl fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryBackend")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// The shared in-memory caches of one [`MemoryBackend`], by identity and version.
#[derive(Default)]
struct Registry {
    shared: Mutex<HashMap<String, Arc<Namespace>>>,
}

/// The TTL and the bound of an in-memory cache.
pub(crate) type Settings = (Option<Duration>, usize);

/// The stores of one in-memory cache: one per stored value type (functions
/// sharing an `identifier` usually return the same type and share one store).
pub(crate) struct Namespace {
    pub(crate) settings: Settings,
    stores: Mutex<Vec<TypedStore>>,
}

/// A store with its type erased twice: for downcasting, and for clear/info.
#[derive(Clone)]
pub(crate) struct TypedStore {
    pub(crate) type_id: TypeId,
    pub(crate) any: Arc<dyn Any + Send + Sync>,
    erased: Arc<dyn ErasedStore>,
}

impl TypedStore {
    pub(crate) fn new<S: ErasedStore + Any + Send + Sync>(store: Arc<S>) -> Self {
        Self {
            type_id: TypeId::of::<S>(),
            any: Arc::clone(&store) as Arc<dyn Any + Send + Sync>,
            erased: store,
        }
    }

    /// The store, if it is of type `S`: one comparison with a constant, no call
    /// through `dyn Any` (the hit path of every cached function runs this).
    #[inline(always)]
    pub(crate) fn get<S: Any>(&self) -> Option<&S> {
        if self.type_id != TypeId::of::<S>() {
            return None;
        }
        let ptr = Arc::as_ptr(&self.any).cast::<S>();
        // SAFETY: `type_id` is the `TypeId` of the `S` in `any` (both set by
        // `new` from one `Arc<S>`), so the data pointer is a valid `*const S`;
        // the `Arc` in `self` keeps it alive for the returned borrow.
        Some(unsafe { &*ptr })
    }
}

/// What a namespace does with all its stores at once.
pub(crate) trait ErasedStore: Send + Sync {
    fn clear(&self);
    fn info(&self) -> CacheInfo;
    /// Every counter since the store was made, and its live entries.
    #[cfg(feature = "metrics")]
    fn lifetime(&self) -> (Counts, u64);
}

impl Namespace {
    pub(crate) fn new(settings: Settings) -> Self {
        Self {
            settings,
            stores: Mutex::default(),
        }
    }

    /// The store of type `S`, made by `make` if there is none yet.
    pub(crate) fn store<S>(&self, make: impl FnOnce() -> Arc<S>) -> TypedStore
    where
        S: ErasedStore + Any + Send + Sync,
    {
        let mut stores = self.stores.lock().unwrap_or_else(|e| e.into_inner());
        let type_id = TypeId::of::<S>();
        if let Some(found) = stores.iter().find(|s| s.type_id == type_id) {
            return found.clone();
        }
        let typed = TypedStore::new(make());
        stores.push(typed.clone());
        typed
    }

    /// Empties every store and resets its counters.
    pub(crate) fn clear(&self) {
        for store in self.snapshot() {
            store.erased.clear();
        }
    }

    /// The counters and sizes of every store, summed.
    pub(crate) fn info(&self, max_entries: u64) -> CacheInfo {
        let mut total = CacheInfo {
            max_entries,
            ..CacheInfo::default()
        };
        for store in self.snapshot() {
            total.absorb(&store.erased.info());
        }
        total
    }

    fn snapshot(&self) -> Vec<TypedStore> {
        self.stores
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Observed for Namespace {
    fn info(&self) -> CacheInfo {
        Namespace::info(self, self.settings.1 as u64)
    }

    #[cfg(feature = "metrics")]
    fn lifetime(&self) -> (Counts, Option<u64>) {
        let mut counts = Counts::default();
        let mut size = 0;
        for store in self.snapshot() {
            let (store_counts, store_size) = store.erased.lifetime();
            counts.absorb(&store_counts);
            size += store_size;
        }
        (counts, Some(size))
    }
}

/// Where a cached function keeps its results. Built by [`IntoBackend`] from what
/// the `backend = …` option names.
#[derive(Clone)]
pub enum Backend {
    /// The in-memory engine.
    Memory(MemoryBackend),
    /// A byte store.
    Storage(Arc<dyn StorageBackend>),
}

impl Backend {
    /// The backend's name: `"memory"`, or the storage backend's own.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Memory(_) => "memory",
            Self::Storage(storage) => storage.name(),
        }
    }
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Memory(memory) => memory.fmt(f),
            Self::Storage(storage) => write!(f, "Storage({})", storage.name()),
        }
    }
}

/// Anything the `backend = …` option of `#[ttl_cache]` accepts.
pub trait IntoBackend {
    /// The backend.
    fn into_backend(self) -> Backend;
}

impl IntoBackend for Backend {
    fn into_backend(self) -> Backend {
        self
    }
}

impl IntoBackend for MemoryBackend {
    fn into_backend(self) -> Backend {
        Backend::Memory(self)
    }
}

impl IntoBackend for &MemoryBackend {
    fn into_backend(self) -> Backend {
        Backend::Memory(self.clone())
    }
}

impl<S: StorageBackend> IntoBackend for Arc<S> {
    fn into_backend(self) -> Backend {
        Backend::Storage(self)
    }
}

impl IntoBackend for Arc<dyn StorageBackend> {
    fn into_backend(self) -> Backend {
        Backend::Storage(self)
    }
}
