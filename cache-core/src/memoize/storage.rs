//! Cached functions on a [`StorageBackend`]: serialized values in the checked
//! envelope, failures as counted misses, single-flight within the process.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::backend::Namespace;
use super::backend::TypedStore;
use super::{BackendError, LocalTier, Lookup};
use super::{CachedFn, Outcome, Place, SiteKey, StorageBackend, StorageKey};
use crate::codec::{Codec, MacKey, Serializer, schema_id_of};
use crate::engine::{Config, Store};
use crate::hash::{Digest, MemKey, PersistentHash};
use crate::observability::{self, DecodeFailure, ErrorText, KeyRef, Name, Observed};
use crate::stats::{CacheInfo, Counter, Stats};
use std::sync::OnceLock;

/// A local store, borrowed (the first) or shared.
enum LocalRef<'a, V> {
    First(&'a Store<MemKey, (u64, V)>),
    Other(Arc<Store<MemKey, (u64, V)>>),
}

impl<V> std::ops::Deref for LocalRef<'_, V> {
    type Target = Store<MemKey, (u64, V)>;

    fn deref(&self) -> &Self::Target {
        match self {
            Self::First(store) => store,
            Self::Other(store) => store,
        }
    }
}

/// What fleet-wide single-flight found: a value another process stored, or
/// the go-ahead to compute (with the lease to give back, if one was taken).
enum Led<V> {
    Found(V),
    Lease(Option<u64>),
}

/// The bound of the flight store (it holds only computations in progress).
const FLIGHT_SLOTS: usize = 4_096;

/// The storage side of a cached function.
pub(super) struct Stored {
    backend: Arc<dyn StorageBackend>,
    /// The function's identity: the stored namespace.
    identity: &'static str,
    /// The bound reported by `cache_info`.
    max_entries: u64,
    stats: Stats,
    /// In-process single-flight: one `Store<Digest, V>` per value type with a
    /// zero TTL, which stores nothing and so holds only flights in progress.
    flights: Namespace,
    /// Decoded copies in front of the backend when it has a local tier: one
    /// `Store<MemKey, (generation, V)>` per value type.
    local: Namespace,
    /// The first (usually only) of them, borrowed on hits.
    local_first: OnceLock<TypedStore>,
    /// Whether the backend has a local tier (keys are built for it).
    tiered: bool,
    /// The tier's shared state, read on every call, when the backend
    /// offers it (otherwise `backend.local_tier()` is called).
    tier_state: Option<Arc<super::TierState>>,
    /// Whether the backend wants every lookup's outcome (`record`).
    records: bool,
}

/// The MAC key of one entry: `mac_key` keyed-hashed over the entry's storage
/// key, so that a MAC binds the value to the key it is stored under.
fn entry_mac_key(mac_key: &MacKey, key: &StorageKey<'_>) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new_keyed(mac_key.as_bytes());
    key.namespace.persistent_hash(&mut hasher);
    key.version.persistent_hash(&mut hasher);
    hasher.update(key.digest.as_bytes());
    *hasher.finalize().as_bytes()
}

impl Stored {
    pub(super) fn new(
        backend: Arc<dyn StorageBackend>,
        identity: &'static str,
        max_entries: usize,
    ) -> Self {
        let tiered = backend.has_local_tier();
        let tier_state = backend.tier_state();
        let records = backend.records_lookups();
        let stats = Stats::new();
        stats.set_label(&Name::Static(identity), backend.name());
        Self {
            records,
            backend,
            identity,
            max_entries: max_entries as u64,
            stats,
            flights: Namespace::new((Some(Duration::ZERO), FLIGHT_SLOTS)),
            tiered,
            tier_state,
            local: Namespace::new((None, 0)),
            local_first: OnceLock::new(),
        }
    }

    /// Tells the backend a lookup's outcome, if it keeps counters.
    #[inline]
    fn record(&self, namespace: &str, outcome: Lookup) {
        if self.records {
            self.backend.record(namespace, outcome);
        }
    }

    /// Whether keys should be built for the local tier (in-memory key first).
    pub(super) fn has_local_tier(&self) -> bool {
        self.tiered
    }

    /// The local copies of values of type `V`, made on first use.
    #[inline]
    fn local_store<V: Clone + Send + Sync + 'static>(
        &self,
        tier: LocalTier,
    ) -> Option<LocalRef<'_, V>> {
        // The hit path: the first store, of this type.
        if let Some(store) = self
            .local_first
            .get()
            .and_then(TypedStore::get::<Store<MemKey, (u64, V)>>)
        {
            return Some(LocalRef::First(store));
        }
        self.local_store_slow(tier)
    }

    /// [`local_store`](Self::local_store) on first use, or for a value type
    /// other than the first.
    #[cold]
    #[inline(never)]
    fn local_store_slow<V: Clone + Send + Sync + 'static>(
        &self,
        tier: LocalTier,
    ) -> Option<LocalRef<'_, V>> {
        let make = || {
            self.local.store(|| {
                Store::<MemKey, (u64, V)>::new(Config {
                    ttl: Some(tier.ttl),
                    max_entries: tier.max_entries.max(1),
                    clock: crate::clock::Clock::System,
                })
            })
        };
        if let Some(store) = self
            .local_first
            .get_or_init(make)
            .get::<Store<MemKey, (u64, V)>>()
        {
            return Some(LocalRef::First(store));
        }
        make()
            .any
            .downcast::<Store<MemKey, (u64, V)>>()
            .ok()
            .map(LocalRef::Other)
    }

    /// A local copy of `key` kept under `tier`'s generation.
    #[inline]
    fn local_get<V: Clone + Send + Sync + 'static>(
        &self,
        key: &MemKey,
        tier: LocalTier,
    ) -> Option<V> {
        // Uncounted: the hit or miss is counted once, in the function's stats.
        let (generation, value) = self.local_store::<V>(tier)?.get_uncounted(key)?;
        (generation == tier.generation).then_some(value)
    }

    /// The local tier's hit path: a live copy of `key` kept under the
    /// current generation, counted. `None` for anything else (no copy, a
    /// stale one, none may be kept now, a backend without a shared
    /// [`TierState`](super::TierState), a value type other than the first):
    /// the caller then goes the slow way, which looks again
    /// ([`local_lookup`](Self::local_lookup)).
    #[inline(always)]
    fn local_fast<V: Clone + Send + Sync + 'static>(
        &self,
        key: &MemKey,
        identity: &str,
    ) -> Option<V> {
        let generation = self.tier_state.as_deref()?.keeping_generation()?;
        let store = self.local_first.get()?.get::<Store<MemKey, (u64, V)>>()?;
        // Uncounted: the hit or miss is counted once, in the function's stats.
        let (kept, value) = store.get_uncounted(key)?;
        if kept != generation {
            return None;
        }
        self.stats.bump(Counter::Hits);
        self.record(identity, Lookup::Hit);
        Some(value)
    }

    /// A local hit, counted; otherwise the tier to fill after the storage
    /// call (`None`: no copies may be kept now).
    #[inline]
    fn local_lookup<V: Clone + Send + Sync + 'static>(
        &self,
        key: &MemKey,
        identity: &str,
    ) -> Result<V, Option<LocalTier>> {
        let tier = match &self.tier_state {
            Some(state) => state.current(),
            None => self.backend.local_tier(),
        };
        if let Some(tier) = tier
            && let Some(value) = self.local_get::<V>(key, tier)
        {
            self.stats.bump(Counter::Hits);
            self.record(identity, Lookup::Hit);
            return Ok(value);
        }
        Err(tier)
    }

    /// Keeps a copy of a value just read or computed, under the generation
    /// seen before the storage call (so a value read before an invalidation
    /// is never kept after it), for the tier's TTL or the function's if
    /// shorter.
    fn local_put<V: Clone + Send + Sync + 'static>(
        &self,
        key: MemKey,
        tier: LocalTier,
        ttl: Option<Duration>,
        value: &V,
    ) {
        let ttl = ttl.map_or(tier.ttl, |ttl| ttl.min(tier.ttl));
        if let (false, Some(store)) = (ttl.is_zero(), self.local_store::<V>(tier)) {
            store.insert(key, (tier.generation, value.clone()), Some(ttl));
        }
    }

    pub(super) fn info(&self) -> CacheInfo {
        let len = observability::timed(&self.stats, "len", || self.backend.len(self.identity));
        let size = len.unwrap_or_else(|error| {
            self.failed(None, "len", &error);
            0
        });
        CacheInfo::from_counts(self.stats.snapshot(), size, self.max_entries)
    }

    pub(super) fn clear(&self) -> Result<(), BackendError> {
        let result =
            observability::timed(&self.stats, "clear", || self.backend.clear(self.identity));
        self.stats.reset();
        if let Err(error) = &result {
            self.failed(None, "clear", error);
        }
        result
    }

    /// Counts a failed backend call (and traces it).
    #[cold]
    fn failed(&self, key: Option<&Digest>, operation: &'static str, error: &BackendError) {
        self.stats.bump(Counter::BackendErrors);
        let unavailable = matches!(error, BackendError::Unavailable { .. });
        observability::backend_error(&self.stats, key, operation, error, unavailable);
    }

    /// Counts a value that did not decode or could not be encoded (and traces it).
    #[cold]
    fn undecodable(&self, key: &Digest, failure: DecodeFailure<'_>) {
        self.stats.bump(Counter::DecodeErrors);
        observability::decode_error(&self.stats, key, failure);
    }

    /// Counts a miss (and traces it).
    fn missed(&self, key: &StorageKey<'_>) {
        self.stats.bump(Counter::Misses);
        observability::miss(&self.stats, KeyRef::Digest(&key.digest));
        self.record(key.namespace, Lookup::Miss);
    }

    // ---- backend calls, timed by the `metrics` feature -------------------

    fn get(&self, key: &StorageKey<'_>) -> Result<Option<Vec<u8>>, BackendError> {
        observability::timed(&self.stats, "get", || self.backend.get(key))
    }

    async fn get_async(&self, key: &StorageKey<'_>) -> Result<Option<Vec<u8>>, BackendError> {
        observability::timed_async(&self.stats, "get", self.backend.get_async(key)).await
    }

    fn set(
        &self,
        key: &StorageKey<'_>,
        bytes: &[u8],
        ttl: Option<Duration>,
    ) -> Result<(), BackendError> {
        observability::timed(&self.stats, "set", || self.backend.set(key, bytes, ttl))
    }

    async fn set_async(
        &self,
        key: &StorageKey<'_>,
        bytes: &[u8],
        ttl: Option<Duration>,
    ) -> Result<(), BackendError> {
        observability::timed_async(&self.stats, "set", self.backend.set_async(key, bytes, ttl))
            .await
    }

    fn try_lease(&self, key: &StorageKey<'_>) -> Result<Option<u64>, BackendError> {
        observability::timed(&self.stats, "lease", || self.backend.try_lease(key))
    }

    async fn try_lease_async(&self, key: &StorageKey<'_>) -> Result<Option<u64>, BackendError> {
        observability::timed_async(&self.stats, "lease", self.backend.try_lease_async(key)).await
    }

    fn release_lease(&self, key: &StorageKey<'_>, token: u64) -> Result<(), BackendError> {
        observability::timed(&self.stats, "lease", || {
            self.backend.release_lease(key, token)
        })
    }

    async fn release_lease_async(
        &self,
        key: &StorageKey<'_>,
        token: u64,
    ) -> Result<(), BackendError> {
        let release = self.backend.release_lease_async(key, token);
        observability::timed_async(&self.stats, "lease", release).await
    }

    /// The codec of values of type `V` stored under `key`: with a MAC key
    /// bound to `key` when the backend signs its values.
    fn codec<V, S: Serializer + Default>(&self, key: &StorageKey<'_>) -> Codec<S> {
        let codec = Codec::new(S::default(), schema_id_of::<V>());
        match self.backend.mac_key() {
            Some(mac_key) => codec.with_mac_key(entry_mac_key(&mac_key, key)),
            None => codec,
        }
    }

    fn flight_store<V: Clone + Send + Sync + 'static>(&self) -> Option<Arc<Store<Digest, V>>> {
        let typed = self.flights.store(|| {
            Store::<Digest, V>::new(Config {
                ttl: Some(Duration::ZERO),
                max_entries: FLIGHT_SLOTS,
                clock: crate::clock::Clock::System,
            })
        });
        typed.any.downcast::<Store<Digest, V>>().ok()
    }

    /// The decoded value read from `key`; failures are counted misses.
    fn decode<V: DeserializeOwned, S: Serializer>(
        &self,
        codec: &Codec<S>,
        key: &StorageKey<'_>,
        read: Result<Option<Vec<u8>>, BackendError>,
    ) -> Option<V> {
        match read {
            Ok(Some(bytes)) => match codec.decode_value(&bytes) {
                Ok(value) => Some(value),
                Err(error) => {
                    self.undecodable(&key.digest, DecodeFailure::Decode(&error));
                    None
                }
            },
            Ok(None) => None,
            Err(error) => {
                self.failed(Some(&key.digest), "get", &error);
                None
            }
        }
    }

    fn encode<V: Serialize, S: Serializer>(
        &self,
        codec: &Codec<S>,
        key: &StorageKey<'_>,
        value: &V,
    ) -> Option<Vec<u8>> {
        match codec.encode_value(value) {
            Ok(bytes) => Some(bytes),
            Err(_) => {
                // A value the serializer cannot represent is returned, not stored.
                self.undecodable(&key.digest, DecodeFailure::Encode);
                None
            }
        }
    }

    fn count_write(
        &self,
        key: &StorageKey<'_>,
        operation: &'static str,
        written: Result<(), BackendError>,
    ) {
        if let Err(error) = written {
            self.failed(Some(&key.digest), operation, &error);
        }
    }

    /// A failed read, when the function is `fail_closed`: `Err` with the result
    /// to return (the error), counted. Otherwise the read as it was.
    fn refuse<M: Outcome<R>, R>(
        &self,
        key: &StorageKey<'_>,
        read: Result<Option<Vec<u8>>, BackendError>,
    ) -> Result<Result<Option<Vec<u8>>, BackendError>, R> {
        match read {
            Err(error) => {
                // `M::refuse` takes the error: keep its text for the event.
                let text = ErrorText::of(&error);
                let unavailable = matches!(error, BackendError::Unavailable { .. });
                match M::refuse(error) {
                    Ok(refused) => {
                        self.stats.bump(Counter::BackendErrors);
                        let key = Some(&key.digest);
                        observability::backend_error(&self.stats, key, "get", &text, unavailable);
                        Err(refused)
                    }
                    Err(error) => Ok(Err(error)),
                }
            }
            read => Ok(read),
        }
    }

    /// Read, else compute and write. `Err` carries a result that is not stored.
    fn lookup<M, S, R>(
        &self,
        key: &StorageKey<'_>,
        ttl: Option<Duration>,
        fleet: bool,
        body: impl FnOnce() -> R,
    ) -> Result<M::Stored, R>
    where
        M: Outcome<R>,
        M::Stored: Serialize + DeserializeOwned,
        S: Serializer + Default,
    {
        let codec = self.codec::<M::Stored, S>(key);
        let read = self.refuse::<M, R>(key, self.get(key))?;
        if let Some(value) = self.decode(&codec, key, read) {
            self.stats.bump(Counter::Hits);
            self.record(key.namespace, Lookup::Hit);
            return Ok(value);
        }
        self.missed(key);
        let lease = if fleet {
            match self.lead_fleet(&codec, key) {
                Led::Found(value) => return Ok(value),
                Led::Lease(token) => token,
            }
        } else {
            None
        };
        self.stats.bump(Counter::Computations);
        let result = {
            let _computing = observability::computing(&self.stats, KeyRef::Digest(&key.digest));
            body()
        };
        let outcome = M::split(result);
        if let Ok(stored) = &outcome
            && let Some(bytes) = self.encode(&codec, key, stored)
        {
            self.count_write(key, "set", self.set(key, &bytes, ttl));
        }
        if let Some(token) = lease {
            self.count_write(key, "lease", self.release_lease(key, token));
        }
        outcome
    }

    /// Fleet-wide single-flight, sync: waits while another process holds the
    /// lease of `key`, then returns the value it stored, or the lease when
    /// this process is to compute (`None` when the store could not be asked:
    /// compute anyway, fail-open). A new lease holder reads once more before
    /// computing, so a value stored just before is not computed twice.
    fn lead_fleet<V: DeserializeOwned, S: Serializer>(
        &self,
        codec: &Codec<S>,
        key: &StorageKey<'_>,
    ) -> Led<V> {
        loop {
            match self.try_lease(key) {
                Ok(Some(token)) => {
                    return match self.decode(codec, key, self.get(key)) {
                        Some(value) => {
                            self.count_write(key, "lease", self.release_lease(key, token));
                            Led::Found(value)
                        }
                        None => Led::Lease(Some(token)),
                    };
                }
                Ok(None) => {
                    std::thread::sleep(self.backend.lease_poll());
                    if let Some(value) = self.decode(codec, key, self.get(key)) {
                        return Led::Found(value);
                    }
                }
                Err(error) => {
                    self.failed(Some(&key.digest), "lease", &error);
                    return Led::Lease(None);
                }
            }
        }
    }

    /// The async form of [`lead_fleet`](Self::lead_fleet): waits with the
    /// runtime's timer.
    async fn lead_fleet_async<V: DeserializeOwned, S: Serializer>(
        &self,
        codec: &Codec<S>,
        key: &StorageKey<'_>,
    ) -> Led<V> {
        loop {
            match self.try_lease_async(key).await {
                Ok(Some(token)) => {
                    let read = self.get_async(key).await;
                    return match self.decode(codec, key, read) {
                        Some(value) => {
                            let released = self.release_lease_async(key, token).await;
                            self.count_write(key, "lease", released);
                            Led::Found(value)
                        }
                        None => Led::Lease(Some(token)),
                    };
                }
                Ok(None) => {
                    self.backend.lease_wait_async().await;
                    let read = self.get_async(key).await;
                    if let Some(value) = self.decode(codec, key, read) {
                        return Led::Found(value);
                    }
                }
                Err(error) => {
                    self.failed(Some(&key.digest), "lease", &error);
                    return Led::Lease(None);
                }
            }
        }
    }

    /// The async form of [`lookup`](Self::lookup).
    async fn lookup_async<M, S, R, F>(
        &self,
        key: &StorageKey<'_>,
        ttl: Option<Duration>,
        fleet: bool,
        body: F,
    ) -> Result<M::Stored, R>
    where
        M: Outcome<R>,
        M::Stored: Serialize + DeserializeOwned,
        S: Serializer + Default,
        F: Future<Output = R>,
    {
        let codec = self.codec::<M::Stored, S>(key);
        let read = self.refuse::<M, R>(key, self.get_async(key).await)?;
        if let Some(value) = self.decode(&codec, key, read) {
            self.stats.bump(Counter::Hits);
            self.record(key.namespace, Lookup::Hit);
            return Ok(value);
        }
        self.missed(key);
        let lease = if fleet {
            match self.lead_fleet_async(&codec, key).await {
                Led::Found(value) => return Ok(value),
                Led::Lease(token) => token,
            }
        } else {
            None
        };
        self.stats.bump(Counter::Computations);
        let body = observability::compute_in_span(&self.stats, KeyRef::Digest(&key.digest), body);
        let outcome = M::split(body.await);
        if let Ok(stored) = &outcome
            && let Some(bytes) = self.encode(&codec, key, stored)
        {
            let written = self.set_async(key, &bytes, ttl).await;
            self.count_write(key, "set", written);
        }
        if let Some(token) = lease {
            let released = self.release_lease_async(key, token).await;
            self.count_write(key, "lease", released);
        }
        outcome
    }
}

impl Observed for Stored {
    fn info(&self) -> CacheInfo {
        Stored::info(self)
    }

    #[cfg(feature = "metrics")]
    fn lifetime(&self) -> (crate::stats::Counts, Option<u64>) {
        (self.stats.lifetime(), None)
    }
}

impl CachedFn {
    fn storage_key(&self, digest: Digest) -> StorageKey<'static> {
        StorageKey {
            namespace: self.spec.identity,
            version: self.spec.version,
            digest,
        }
    }

    /// Runs a sync body through whichever backend this function uses. A hit
    /// of the local tier is served here, inline; everything else out of line.
    #[doc(hidden)]
    #[inline(always)]
    pub fn stored<M, S, R>(&self, key: SiteKey, body: impl FnOnce() -> R) -> R
    where
        M: Outcome<R>,
        M::Stored: Serialize + DeserializeOwned,
        S: Serializer + Default,
    {
        if let Some(value) = self.tier_hit::<M::Stored>(&key) {
            return M::join(value);
        }
        self.stored_slow::<M, S, R>(key, body)
    }

    /// The storage and the key of a local tier lookup, when the function is
    /// set up and its backend has a tier.
    #[inline(always)]
    fn tiered<'a>(&'a self, key: &'a SiteKey) -> Option<(&'a Stored, &'a MemKey)> {
        match (self.state.get(), &key.mem) {
            (
                Some(super::State {
                    place: Place::Storage(stored),
                    ..
                }),
                Some(mem),
            ) if stored.has_local_tier() => Some((stored, mem)),
            _ => None,
        }
    }

    /// The local tier's hit, counted; `None` otherwise (the slow path looks
    /// again).
    #[inline(always)]
    fn tier_hit<V: Clone + Send + Sync + 'static>(&self, key: &SiteKey) -> Option<V> {
        let (stored, mem) = self.tiered(key)?;
        stored.local_fast::<V>(mem, self.spec.identity)
    }

    /// [`stored`](Self::stored) past the local tier's hit.
    #[inline(never)]
    fn stored_slow<M, S, R>(&self, key: SiteKey, body: impl FnOnce() -> R) -> R
    where
        M: Outcome<R>,
        M::Stored: Serialize + DeserializeOwned,
        S: Serializer + Default,
    {
        let state = self.state();
        let stored = match (&state.place, key.mem) {
            (Place::Memory { .. }, Some(mem)) => return self.memo::<M, R>(mem, body),
            (Place::Storage(stored), _) => stored,
            // A key is built for the place it is used with.
            (Place::Memory { .. }, None) => return body(),
        };
        let tier = match self.local_miss::<M::Stored>(&key) {
            Ok(value) => return M::join(value),
            Err(tier) => tier,
        };
        let Some(digest) = self.storage_digest(&key) else {
            return body();
        };
        let result = self.through_storage::<M, S, R>(stored, state.ttl, digest, body);
        if let (Ok(value), Some((mem, tier))) = (&result, tier) {
            stored.local_put(mem, tier, state.ttl, value);
        }
        result.map_or_else(|unstored| unstored, M::join)
    }

    /// The local tier to fill after the storage call, with the key to fill it
    /// under, from a lookup made now: before the storage call, so a value
    /// read there is kept under the generation seen before it. `Ok`: a hit
    /// after all (the caller's fast look found none, or could not look).
    fn local_miss<V: Clone + Send + Sync + 'static>(
        &self,
        key: &SiteKey,
    ) -> Result<V, Option<(MemKey, LocalTier)>> {
        let Some((stored, mem)) = self.tiered(key) else {
            return Err(None);
        };
        stored
            .local_lookup::<V>(mem, self.spec.identity)
            .map_err(|tier| tier.map(|tier| (*mem, tier)))
    }

    /// The storage digest of a key: computed alongside when the encoding
    /// spilled, otherwise derived from the inline encoding (so a function
    /// with a local tier and one without share stored entries).
    fn storage_digest(&self, key: &SiteKey) -> Option<Digest> {
        key.digest.or_else(|| {
            key.mem.map(|mem| {
                crate::hash::storage_digest(self.spec.identity, self.spec.version, mem.as_bytes())
            })
        })
    }

    /// A sync call through the storage backend, with in-process single-flight.
    /// `Err` carries a result that is not stored.
    fn through_storage<M, S, R>(
        &self,
        stored: &Stored,
        ttl: Option<Duration>,
        digest: Digest,
        body: impl FnOnce() -> R,
    ) -> Result<M::Stored, R>
    where
        M: Outcome<R>,
        M::Stored: Serialize + DeserializeOwned,
        S: Serializer + Default,
    {
        let key = self.storage_key(digest);
        let lookup = || stored.lookup::<M, S, R>(&key, ttl, self.spec.fleet, body);
        let flights = self
            .spec
            .single_flight
            .then(|| stored.flight_store::<M::Stored>())
            .flatten();
        match flights {
            Some(flights) => {
                let mut led = false;
                // Straight to the miss path: a flight store keeps no values
                // (zero TTL), so a hit check could only ever miss.
                let result = flights.load(digest, || {
                    led = true;
                    lookup()
                });
                if !led {
                    // Waited for another caller's computation.
                    stored.missed(&key);
                }
                result
            }
            None => lookup(),
        }
    }

    /// The hit of an async call that needs no I/O, counted, or `None`: the
    /// local tier's, or the memory store's when the backend is a
    /// [`MemoryBackend`](crate::MemoryBackend). As for
    /// [`memo_async_hit`](Self::memo_async_hit), the macro returns it from the
    /// function's own `poll`, so such a hit boxes nothing (the boxed
    /// [`stored_async_miss`](Self::stored_async_miss) is for the rest).
    #[doc(hidden)]
    #[inline(always)]
    pub fn stored_async_hit<M, R>(&self, key: &SiteKey) -> Option<R>
    where
        M: Outcome<R>,
        M::Stored: Serialize + DeserializeOwned,
    {
        if let Some(value) = self.tier_hit::<M::Stored>(key) {
            return Some(M::join(value));
        }
        match (self.state.get(), &key.mem) {
            (
                Some(super::State {
                    place: Place::Memory { .. },
                    ..
                }),
                Some(mem),
            ) => self.memory_place_hit::<M, R>(mem),
            _ => None,
        }
    }

    /// [`memo_async_hit`](Self::memo_async_hit) for a function whose backend
    /// is a `MemoryBackend`. Out of line: the usual storage function's `poll`
    /// (whose time follows what is inlined into it, see the integer key
    /// writers) carries only the call.
    #[inline(never)]
    fn memory_place_hit<M, R>(&self, mem: &MemKey) -> Option<R>
    where
        M: Outcome<R>,
    {
        self.memo_async_hit::<M, R>(mem)
    }

    /// The rest of an async call through whichever backend this function uses,
    /// once [`stored_async_hit`](Self::stored_async_hit) found nothing. Boxed,
    /// as [`memo_async_miss`](Self::memo_async_miss) is.
    #[doc(hidden)]
    pub fn stored_async_miss<M, S, R, F>(
        &self,
        key: SiteKey,
        body: F,
    ) -> std::pin::Pin<Box<impl Future<Output = R>>>
    where
        M: Outcome<R>,
        M::Stored: Serialize + DeserializeOwned,
        S: Serializer + Default,
        F: Future<Output = R>,
    {
        Box::pin(self.stored_slow_async::<M, S, R, F>(key, body))
    }

    /// The async form of [`stored_slow`](Self::stored_slow).
    async fn stored_slow_async<M, S, R, F>(&self, key: SiteKey, body: F) -> R
    where
        M: Outcome<R>,
        M::Stored: Serialize + DeserializeOwned,
        S: Serializer + Default,
        F: Future<Output = R>,
    {
        let state = self.state();
        let stored = match (&state.place, key.mem) {
            (Place::Memory { .. }, Some(mem)) => {
                if let Some(value) = self.memo_async_hit::<M, R>(&mem) {
                    return value;
                }
                return self.memo_async_rest::<M, R, F>(mem, body).await;
            }
            (Place::Storage(stored), _) => stored,
            (Place::Memory { .. }, None) => return body.await,
        };
        let tier = match self.local_miss::<M::Stored>(&key) {
            Ok(value) => return M::join(value),
            Err(tier) => tier,
        };
        let Some(digest) = self.storage_digest(&key) else {
            return body.await;
        };
        let result = self
            .through_storage_async::<M, S, R, F>(stored, state.ttl, digest, body)
            .await;
        if let (Ok(value), Some((mem, tier))) = (&result, tier) {
            stored.local_put(mem, tier, state.ttl, value);
        }
        result.map_or_else(|unstored| unstored, M::join)
    }

    /// The async form of [`through_storage`](Self::through_storage).
    async fn through_storage_async<M, S, R, F>(
        &self,
        stored: &Stored,
        ttl: Option<Duration>,
        digest: Digest,
        body: F,
    ) -> Result<M::Stored, R>
    where
        M: Outcome<R>,
        M::Stored: Serialize + DeserializeOwned,
        S: Serializer + Default,
        F: Future<Output = R>,
    {
        let key = self.storage_key(digest);
        let fleet = self.spec.fleet;
        let flights = self
            .spec
            .single_flight
            .then(|| stored.flight_store::<M::Stored>())
            .flatten();
        // The lookup's future is made where it is awaited, never held beside
        // it: each copy held across an await point would add its size (the
        // body's, plus the backend calls') to this future, which a miss boxes.
        match flights {
            Some(flights) => {
                let mut led = false;
                // Straight to the miss path, as in `through_storage`, and
                // unboxed: this future is already the boxed rest of the call.
                let result = flights
                    .load_async(digest, || {
                        led = true;
                        stored.lookup_async::<M, S, R, F>(&key, ttl, fleet, body)
                    })
                    .await;
                if !led {
                    stored.missed(&key);
                }
                result
            }
            None => {
                stored
                    .lookup_async::<M, S, R, F>(&key, ttl, fleet, body)
                    .await
            }
        }
    }
}
