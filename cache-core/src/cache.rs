//! The standalone cache: a typed, concurrent, bounded map with time-to-live.

use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Weak};
use std::time::Duration;

use scc::Equivalent;

use crate::clock::Clock;
use crate::engine::{Config, Store};
use crate::observability::{self, CacheKind, Name, Observed, Registration};
use crate::stats::CacheInfo;

/// The bound on stored entries when none is given: 10,000.
pub const DEFAULT_MAX_ENTRIES: usize = 10_000;

/// When an entry expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Expiry {
    /// Never: the entry stays until removed, cleared or evicted.
    Never,
    /// After this time to live.
    After(Duration),
}

impl Expiry {
    fn ttl(self) -> Option<Duration> {
        match self {
            Expiry::Never => None,
            Expiry::After(ttl) => Some(ttl),
        }
    }
}

impl From<Duration> for Expiry {
    fn from(ttl: Duration) -> Self {
        Expiry::After(ttl)
    }
}

/// A concurrent in-memory cache with time-to-live, a bound, and single-flight loading.
///
/// - Entries expire after the cache's TTL ([`CacheBuilder::ttl`]) or their own
///   ([`insert_with_expiry`](Cache::insert_with_expiry)); expired entries are never
///   returned, are removed when read, and are swept in the background.
/// - The cache holds at most `max_entries` entries (default
///   [`DEFAULT_MAX_ENTRIES`]); inserting past it evicts expired entries first, then
///   by S3-FIFO (keys called once go before keys called again; see the
///   [guide](crate::guide)). Inserting never fails.
/// - [`get_or_insert_with`](Cache::get_or_insert_with) and its async and fallible
///   forms run the producer once per key, however many callers miss together.
/// - Values are cloned out on every read. Store `Arc<V>` to share one value without
///   copying it (reference-keeping, like Pyot's `PtrCache`): a read is then one
///   reference-count increment.
///
/// Cloning a `Cache` gives another handle to the same cache.
///
/// ```
/// use std::time::Duration;
/// use cache_core::Cache;
///
/// let cache: Cache<String, u64> = Cache::builder().ttl(Duration::from_secs(60)).max_entries(1_000).build();
/// cache.insert("a".to_string(), 1);
/// assert_eq!(cache.get("a"), Some(1));
/// let v = cache.get_or_insert_with("b".to_string(), || 2);
/// assert_eq!(v, 2);
/// assert_eq!(cache.len(), 2);
/// ```
pub struct Cache<K, V> {
    store: Arc<Store<K, V>>,
    /// The name given with [`CacheBuilder::name`].
    name: Option<Arc<str>>,
}

impl<K, V> Clone for Cache<K, V> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            name: self.name.clone(),
        }
    }
}

impl<K, V> fmt::Debug for Cache<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("name", &self.name)
            .field("ttl", &self.store.config.ttl)
            .field("max_entries", &self.store.config.max_entries)
            .field("stats", &self.store.stats)
            .finish_non_exhaustive()
    }
}

impl<K, V> Default for Cache<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> Cache<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A cache whose entries never expire unless inserted with a TTL, bounded at
    /// [`DEFAULT_MAX_ENTRIES`].
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A cache whose entries expire after `ttl`, bounded at [`DEFAULT_MAX_ENTRIES`].
    pub fn with_ttl(ttl: Duration) -> Self {
        Self::builder().ttl(ttl).build()
    }

    /// A builder for the TTL, the bound and the clock.
    pub fn builder() -> CacheBuilder<K, V> {
        CacheBuilder::new()
    }

    /// The live value of `key`.
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        self.store.get(key)
    }

    /// The live value of `key` and its remaining time to live (`None`: never expires).
    /// Counts nothing.
    pub fn get_with_ttl<Q>(&self, key: &Q) -> Option<(V, Option<Duration>)>
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        self.store.get_with_ttl(key)
    }

    /// Whether `key` has a live value. Counts nothing.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        self.store.contains(key)
    }

    /// Stores `value` with the cache's TTL.
    pub fn insert(&self, key: K, value: V) {
        self.store.insert(key, value, self.store.config.ttl);
    }

    /// Stores `value` with its own time to live.
    pub fn insert_with_ttl(&self, key: K, value: V, ttl: Duration) {
        self.store.insert(key, value, Some(ttl));
    }

    /// Stores `value` with its own expiry ([`Expiry::Never`] keeps it until removed
    /// or evicted).
    pub fn insert_with_expiry(&self, key: K, value: V, expiry: Expiry) {
        self.store.insert(key, value, expiry.ttl());
    }

    /// Removes `key`, returning its value if it was live.
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Equivalent<K> + Hash + ?Sized,
    {
        self.store.remove(key)
    }

    /// Removes every entry and resets the counters. Computations in progress still
    /// return their values to their callers, but do not store them.
    pub fn clear(&self) {
        self.store.clear();
    }

    /// The number of live (unexpired) entries. Exact; O(entries).
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether there are no live entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A snapshot of the live entries with their remaining time to live
    /// (`None`: never expires), in no particular order.
    pub fn iter(&self) -> std::vec::IntoIter<(K, V, Option<Duration>)> {
        let mut entries = Vec::new();
        self.store
            .for_each_live(|k, v, ttl| entries.push((k.clone(), v.clone(), ttl)));
        entries.into_iter()
    }

    /// The keys of the live entries, in no particular order.
    pub fn keys(&self) -> Vec<K> {
        let mut keys = Vec::new();
        self.store.for_each_live(|k, _, _| keys.push(k.clone()));
        keys
    }

    /// The values of the live entries, in no particular order.
    pub fn values(&self) -> Vec<V> {
        let mut values = Vec::new();
        self.store.for_each_live(|_, v, _| values.push(v.clone()));
        values
    }

    /// The live value of `key`, or `value` after storing it (eager form: the value
    /// is built by the caller whether or not it is needed).
    pub fn get_or_insert(&self, key: K, value: V) -> V {
        self.get_or_insert_with(key, move || value)
    }

    /// The live value of `key`, or the result of `init`, which runs only on a miss
    /// and only once per key when several callers miss together (the others wait
    /// for its value). If `init` panics, the panic reaches this caller only and one
    /// waiting caller runs its own `init`.
    pub fn get_or_insert_with(&self, key: K, init: impl FnOnce() -> V) -> V {
        match self
            .store
            .try_get_with(key, || Ok::<V, std::convert::Infallible>(init()))
        {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// Like [`get_or_insert_with`](Cache::get_or_insert_with) for a fallible
    /// producer: an `Err` is returned to this caller and never stored (a caller
    /// waiting on the same key then runs its own `init`).
    pub fn try_get_or_insert_with<E>(
        &self,
        key: K,
        init: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        self.store.try_get_with(key, init)
    }

    /// The async form of [`get_or_insert_with`](Cache::get_or_insert_with). `init`
    /// is not polled on a hit; waiting callers do not block the executor, and no
    /// lock is held across an `.await`. If the leading caller is cancelled, a
    /// waiting caller takes over with its own `init`.
    pub async fn get_or_insert_with_async(&self, key: K, init: impl Future<Output = V>) -> V {
        // A hit returns from this `poll` (not through an awaited ready future,
        // which moved the value through more stack slots, at 1.5x the time);
        // the miss is boxed, so this future stays the size of its arguments.
        if let Some(value) = self.store.hit(&key) {
            return value;
        }
        let init = move || async move { Ok::<V, std::convert::Infallible>(init.await) };
        match Box::pin(self.store.load_async(key, init)).await {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// The async form of [`try_get_or_insert_with`](Cache::try_get_or_insert_with).
    pub async fn try_get_or_insert_with_async<E>(
        &self,
        key: K,
        init: impl Future<Output = Result<V, E>>,
    ) -> Result<V, E> {
        if let Some(value) = self.store.hit(&key) {
            return Ok(value);
        }
        Box::pin(self.store.load_async(key, move || init)).await
    }

    /// The live values of several keys, in order.
    pub fn get_many<'q, Q>(&self, keys: impl IntoIterator<Item = &'q Q>) -> Vec<Option<V>>
    where
        Q: Equivalent<K> + Hash + ?Sized + 'q,
    {
        keys.into_iter().map(|key| self.store.get(key)).collect()
    }

    /// Stores several entries with the cache's TTL.
    pub fn insert_many(&self, entries: impl IntoIterator<Item = (K, V)>) {
        for (key, value) in entries {
            self.insert(key, value);
        }
    }

    /// Removes every expired entry now, without waiting for the background sweep.
    /// Returns how many were removed.
    pub fn sweep(&self) -> usize {
        self.store.sweep_all()
    }

    /// Counters (hits, misses, computations, evictions, expirations, …) and the
    /// live size.
    pub fn info(&self) -> CacheInfo {
        self.store.info()
    }

    /// The cache's time to live (`None`: entries never expire by default).
    pub fn ttl(&self) -> Option<Duration> {
        self.store.config.ttl
    }

    /// The bound on stored entries.
    pub fn max_entries(&self) -> usize {
        self.store.config.max_entries
    }

    /// The name given with [`CacheBuilder::name`], if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl<K, V> Observed for Store<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn info(&self) -> CacheInfo {
        Store::info(self)
    }

    #[cfg(feature = "metrics")]
    fn lifetime(&self) -> (crate::stats::Counts, Option<u64>) {
        (self.stats.lifetime(), Some(self.len() as u64))
    }
}

/// Builds a [`Cache`].
#[must_use]
pub struct CacheBuilder<K, V> {
    config: Config,
    name: Option<Arc<str>>,
    _types: std::marker::PhantomData<fn() -> (K, V)>,
}

impl<K, V> fmt::Debug for CacheBuilder<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("config", &self.config)
            .field("name", &self.name)
            .finish()
    }
}

impl<K, V> CacheBuilder<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn new() -> Self {
        Self {
            config: Config {
                ttl: None,
                max_entries: DEFAULT_MAX_ENTRIES,
                clock: Clock::System,
            },
            name: None,
            _types: std::marker::PhantomData,
        }
    }

    /// Entries expire `ttl` after they are stored (default: never).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.config.ttl = Some(ttl);
        self
    }

    /// The expiry of entries stored without one of their own.
    pub fn expiry(mut self, expiry: Expiry) -> Self {
        self.config.ttl = expiry.ttl();
        self
    }

    /// At most `max_entries` entries are kept (default [`DEFAULT_MAX_ENTRIES`]).
    /// `0` keeps nothing.
    pub fn max_entries(mut self, max_entries: usize) -> Self {
        self.config.max_entries = max_entries;
        self
    }

    /// The time source (default: the system clock; [`Clock::mock`] in tests).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.config.clock = clock;
        self
    }

    /// Names the cache, so that it is observed: listed by
    /// [`observability::caches`](crate::observability::caches), and, with the
    /// `tracing` and `metrics` features, traced and measured under this name.
    /// An unnamed cache is none of these. Names should be unique in the
    /// process: metrics of caches sharing a name add up.
    ///
    /// ```
    /// use cache_core::{Cache, observability};
    ///
    /// let sessions: Cache<u64, String> = Cache::builder().name("sessions").build();
    /// assert_eq!(sessions.name(), Some("sessions"));
    /// assert!(observability::caches().iter().any(|c| c.name == "sessions"));
    /// drop(sessions);
    /// assert!(!observability::caches().iter().any(|c| c.name == "sessions"));
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(Arc::from(name.into()));
        self
    }

    /// The cache.
    pub fn build(self) -> Cache<K, V> {
        let max_entries = self.config.max_entries as u64;
        let ttl = self.config.ttl;
        let store = Store::new(self.config);
        if let Some(name) = &self.name {
            let name = Name::Shared(Arc::clone(name));
            store.stats.set_label(&name, "memory");
            let registration = Registration {
                name,
                kind: CacheKind::Cache,
                backend: "memory",
                ttl,
                max_entries,
                one_store_per_name: false,
            };
            let source = Arc::downgrade(&store) as Weak<dyn Observed>;
            observability::register(registration, source);
        }
        Cache {
            store,
            name: self.name,
        }
    }
}
