//! A typed cache over one namespace of a cache file.

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cache_core::codec::{Codec, MessagePack, Serializer};
use cache_core::{CacheInfo, Digest, PersistentHash, StorageKey};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{DiskBackend, DiskError};

/// A typed, persistent cache: values of type `V` under keys of type `K`, in
/// the namespace `namespace` of a [`DiskBackend`]'s file.
///
/// - Keys are 256-bit blake3 digests (derive-key mode, `cache_core`'s key
///   context) over the namespace, the version and the key's
///   [`PersistentHash`] encoding: equal keys give equal digests in every
///   process, so a value stored by one run is found by the next.
/// - Values are serialized with `S` (MessagePack by default) inside the
///   checked envelope; a value that does not decode (damaged, or stored with
///   another type) is a miss, counted in `decode_errors`.
/// - Writes are transactions of the file ([`insert_many`](Self::insert_many)
///   is one for all its entries), durable as the backend says.
/// - Give it a namespace of its own: [`clear`](Self::clear) and
///   [`len`](Self::len) cover the whole namespace.
///
/// ```
/// use std::time::Duration;
/// use cache_disk::{DiskBackend, DiskCache};
/// # let dir = std::env::temp_dir().join(format!("cache-disk-doc-typed-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
///
/// let disk = DiskBackend::open(dir.join("thumbnails.cache"))?;
/// let thumbnails: DiskCache<str, Vec<u8>> =
///     DiskCache::new(&disk, "thumbnails").ttl(Duration::from_secs(86_400));
/// thumbnails.insert("cat.png", &vec![1, 2, 3])?;
/// assert_eq!(thumbnails.get("cat.png")?, Some(vec![1, 2, 3]));
/// let made = thumbnails.get_or_insert_with("dog.png", || vec![4, 5]);
/// assert_eq!(made, vec![4, 5]);
/// assert_eq!(thumbnails.len()?, 2);
/// assert_eq!(thumbnails.info().hits, 1);
/// # drop((thumbnails, disk));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), cache_disk::DiskError>(())
/// ```
pub struct DiskCache<K: ?Sized, V, S: Serializer = MessagePack> {
    backend: DiskBackend,
    namespace: String,
    version: u32,
    /// The key hasher after the namespace and the version: cloned per key.
    key_prefix: blake3::Hasher,
    ttl: Option<Duration>,
    schema_id: u64,
    codec: Codec<S>,
    counts: Counts,
    _types: PhantomData<fn(&K) -> V>,
}

#[derive(Default)]
struct Counts {
    hits: AtomicU64,
    misses: AtomicU64,
    computations: AtomicU64,
    backend_errors: AtomicU64,
    decode_errors: AtomicU64,
}

/// The key hasher of `namespace` and `version`, before the key itself.
fn key_prefix(namespace: &str, version: u32) -> blake3::Hasher {
    cache_core::hash::storage_key_hasher(namespace, version)
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A key as events name it: the first 16 hex digits of its digest (never the
/// key itself).
#[cfg(feature = "tracing")]
fn short(key: &StorageKey<'_>) -> String {
    let mut hex = key.digest.to_hex();
    hex.truncate(16);
    hex
}

impl<K, V> DiskCache<K, V>
where
    K: PersistentHash + ?Sized,
    V: Serialize + DeserializeOwned,
{
    /// A cache of the namespace `namespace` in `backend`'s file: version 0,
    /// no TTL (entries stay until removed, evicted or cleared), MessagePack.
    pub fn new(backend: &DiskBackend, namespace: impl Into<String>) -> Self {
        let namespace = namespace.into();
        Self {
            backend: backend.clone(),
            key_prefix: key_prefix(&namespace, 0),
            namespace,
            version: 0,
            ttl: None,
            schema_id: cache_core::codec::schema_id_of::<V>(),
            codec: Codec::new(MessagePack, cache_core::codec::schema_id_of::<V>()),
            counts: Counts::default(),
            _types: PhantomData,
        }
    }
}

impl<K, V, S> DiskCache<K, V, S>
where
    K: PersistentHash + ?Sized,
    V: Serialize + DeserializeOwned,
    S: Serializer,
{
    /// The TTL of [`insert`](Self::insert) and
    /// [`get_or_insert_with`](Self::get_or_insert_with).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// The version, part of every key: bumping it hides every entry stored
    /// with another (they stay counted in the namespace until evicted or
    /// cleared).
    #[must_use]
    pub fn version(mut self, version: u32) -> Self {
        self.version = version;
        self.key_prefix = key_prefix(&self.namespace, version);
        self
    }

    /// Serializes values with `serializer` instead.
    pub fn serializer<S2: Serializer>(self, serializer: S2) -> DiskCache<K, V, S2> {
        DiskCache {
            backend: self.backend,
            namespace: self.namespace,
            version: self.version,
            key_prefix: self.key_prefix,
            ttl: self.ttl,
            schema_id: self.schema_id,
            codec: Codec::new(serializer, self.schema_id),
            counts: self.counts,
            _types: PhantomData,
        }
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The backend (the file).
    pub fn backend(&self) -> &DiskBackend {
        &self.backend
    }

    /// The digest `key` is stored under.
    pub fn digest(&self, key: &K) -> Digest {
        let mut hasher = self.key_prefix.clone();
        key.persistent_hash(&mut hasher);
        Digest(*hasher.finalize().as_bytes())
    }

    fn key(&self, key: &K) -> StorageKey<'_> {
        StorageKey {
            namespace: &self.namespace,
            version: self.version,
            digest: self.digest(key),
        }
    }

    fn encode(&self, value: &V) -> Result<Vec<u8>, DiskError> {
        self.codec
            .encode_value(value)
            .map_err(|source| DiskError::Codec {
                path: self.backend.path().to_path_buf(),
                source,
            })
    }

    /// The value stored under `key`, counting the lookup; damaged or
    /// undecodable values are misses.
    fn lookup(&self, key: &StorageKey<'_>) -> Result<Option<V>, DiskError> {
        let found = match self.backend.get(key) {
            Ok(found) => found,
            Err(DiskError::Corrupt { .. }) => {
                bump(&self.counts.decode_errors);
                self.trace_decode_error(key, "record check failed: damaged entry");
                None
            }
            Err(error) => {
                bump(&self.counts.backend_errors);
                bump(&self.counts.misses);
                self.trace_backend_error(Some(key), "get", &error);
                return Err(error);
            }
        };
        let value = found.and_then(|bytes| match self.codec.decode_value(&bytes) {
            Ok(value) => Some(value),
            Err(error) => {
                bump(&self.counts.decode_errors);
                self.trace_decode_error(key, error.summary());
                None
            }
        });
        if value.is_some() {
            bump(&self.counts.hits);
        } else {
            bump(&self.counts.misses);
            #[cfg(feature = "tracing")]
            tracing::debug!(cache = %self.namespace, key = %short(key), "cache miss");
        }
        Ok(value)
    }

    /// A `WARN` event for a failed call to the file (feature `tracing`).
    fn trace_backend_error(
        &self,
        key: Option<&StorageKey<'_>>,
        operation: &'static str,
        error: &DiskError,
    ) {
        #[cfg(feature = "tracing")]
        match key {
            Some(key) => tracing::warn!(
                cache = %self.namespace,
                key = %short(key),
                backend = crate::NAME,
                operation,
                error = %error,
                "cache backend error"
            ),
            None => tracing::warn!(
                cache = %self.namespace,
                backend = crate::NAME,
                operation,
                error = %error,
                "cache backend error"
            ),
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (key, operation, error);
    }

    /// A `WARN` event for a value that did not decode or could not be
    /// encoded, with a fixed `reason` (feature `tracing`).
    fn trace_decode_error(&self, key: &StorageKey<'_>, reason: &'static str) {
        #[cfg(feature = "tracing")]
        tracing::warn!(
            cache = %self.namespace,
            key = %short(key),
            backend = crate::NAME,
            reason,
            "cache decode error"
        );
        #[cfg(not(feature = "tracing"))]
        let _ = (key, reason);
    }

    /// The live value of `key`, if any.
    ///
    /// # Errors
    ///
    /// When the file cannot be read. A damaged entry is not an error: it is
    /// a miss, counted in `decode_errors`.
    pub fn get(&self, key: &K) -> Result<Option<V>, DiskError> {
        self.lookup(&self.key(key))
    }

    /// Stores `value` under `key` with the cache's TTL.
    ///
    /// # Errors
    ///
    /// [`DiskError::Codec`] when the value cannot be serialized; otherwise as
    /// [`DiskBackend::set`].
    pub fn insert(&self, key: &K, value: &V) -> Result<(), DiskError> {
        self.put(&self.key(key), value, self.ttl)
    }

    /// Stores `value` under `key` for `ttl`.
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert).
    pub fn insert_with_ttl(&self, key: &K, value: &V, ttl: Duration) -> Result<(), DiskError> {
        self.put(&self.key(key), value, Some(ttl))
    }

    fn put(&self, key: &StorageKey<'_>, value: &V, ttl: Option<Duration>) -> Result<(), DiskError> {
        let bytes = self.encode(value)?;
        self.backend.set(key, &bytes, ttl).inspect_err(|error| {
            bump(&self.counts.backend_errors);
            self.trace_backend_error(Some(key), "set", error);
        })
    }

    /// Stores every `(key, value)` with the cache's TTL, in one transaction:
    /// after a crash, all are there or none is.
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert); nothing is stored then.
    pub fn insert_many<'a>(
        &self,
        entries: impl IntoIterator<Item = (&'a K, &'a V)>,
    ) -> Result<(), DiskError>
    where
        K: 'a,
        V: 'a,
    {
        let encoded = entries
            .into_iter()
            .map(|(key, value)| Ok((self.key(key), self.encode(value)?)))
            .collect::<Result<Vec<_>, DiskError>>()?;
        let items: Vec<(StorageKey<'_>, &[u8])> = encoded
            .iter()
            .map(|(key, bytes)| (*key, bytes.as_slice()))
            .collect();
        self.backend
            .set_many(&items, self.ttl)
            .inspect_err(|error| {
                bump(&self.counts.backend_errors);
                self.trace_backend_error(None, "set_many", error);
            })
    }

    /// Removes the entry of `key`; returns its value if it was live and decodes.
    ///
    /// # Errors
    ///
    /// When the file cannot be written.
    pub fn remove(&self, key: &K) -> Result<Option<V>, DiskError> {
        let key = self.key(key);
        let removed = self.backend.remove(&key).inspect_err(|error| {
            bump(&self.counts.backend_errors);
            self.trace_backend_error(Some(&key), "remove", error);
        })?;
        Ok(removed.and_then(|bytes| self.codec.decode_value(&bytes).ok()))
    }

    /// The value of `key`, or `init()`'s, stored with the cache's TTL.
    /// Never fails: a read error is a miss and a write error leaves the value
    /// unstored, each counted in `backend_errors`. Concurrent misses of one
    /// key each run `init` (no single-flight here; `#[ttl_cache]` has it).
    pub fn get_or_insert_with(&self, key: &K, init: impl FnOnce() -> V) -> V {
        let key = self.key(key);
        if let Ok(Some(value)) = self.lookup(&key) {
            return value;
        }
        bump(&self.counts.computations);
        let value = {
            #[cfg(feature = "tracing")]
            let _computing =
                tracing::debug_span!("cache_compute", cache = %self.namespace, key = %short(&key))
                    .entered();
            init()
        };
        // A failure is counted by `put`; a value that cannot be serialized
        // is returned unstored.
        if let Err(DiskError::Codec { .. }) = self.put(&key, &value, self.ttl) {
            bump(&self.counts.decode_errors);
            self.trace_decode_error(&key, "the value cannot be encoded by the serializer");
        }
        value
    }

    /// The live entries of the namespace (every version).
    ///
    /// # Errors
    ///
    /// When the file cannot be read.
    pub fn len(&self) -> Result<u64, DiskError> {
        self.backend.len(&self.namespace)
    }

    /// Whether the namespace has no live entry.
    ///
    /// # Errors
    ///
    /// When the file cannot be read.
    pub fn is_empty(&self) -> Result<bool, DiskError> {
        Ok(self.len()? == 0)
    }

    /// Removes every entry of the namespace (one transaction) and resets the
    /// counters.
    ///
    /// # Errors
    ///
    /// When the file cannot be written; nothing is removed then.
    pub fn clear(&self) -> Result<(), DiskError> {
        self.backend.clear(&self.namespace)?;
        for counter in [
            &self.counts.hits,
            &self.counts.misses,
            &self.counts.computations,
            &self.counts.backend_errors,
            &self.counts.decode_errors,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        Ok(())
    }

    /// This handle's counters, and the namespace's live entries as
    /// `current_size` (0, counted in `backend_errors`, if the file cannot be
    /// read). `max_entries` is the file's bound (`u64::MAX` if none).
    pub fn info(&self) -> CacheInfo {
        let current_size = self.len().unwrap_or_else(|error| {
            bump(&self.counts.backend_errors);
            self.trace_backend_error(None, "len", &error);
            0
        });
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut info = CacheInfo::default();
        info.hits = get(&self.counts.hits);
        info.misses = get(&self.counts.misses);
        info.computations = get(&self.counts.computations);
        info.backend_errors = get(&self.counts.backend_errors);
        info.decode_errors = get(&self.counts.decode_errors);
        info.current_size = current_size;
        info.max_entries = self.backend.max_entries().unwrap_or(u64::MAX);
        info
    }
}

impl<K, V, S> DiskCache<K, V, S>
where
    K: PersistentHash + ?Sized,
    V: Serialize + DeserializeOwned,
    S: Serializer + Clone,
{
    /// Checks values against `schema_id` (in the envelope) instead of the
    /// default, which is derived from `V`'s type name as `#[ttl_cache]` does.
    /// Set it when two programs share values of one type declared in each
    /// (the type names differ: `app::Item`, `tool::Item`), and change it when
    /// `V`'s serialized form changes.
    #[must_use]
    pub fn schema_id(mut self, schema_id: u64) -> Self {
        self.schema_id = schema_id;
        self.codec = Codec::new(self.codec.serializer().clone(), schema_id);
        self
    }
}

impl<K: ?Sized, V, S: Serializer + fmt::Debug> fmt::Debug for DiskCache<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiskCache")
            .field("path", &self.backend.path())
            .field("namespace", &self.namespace)
            .field("version", &self.version)
            .field("ttl", &self.ttl)
            .field("codec", &self.codec)
            .finish_non_exhaustive()
    }
}
