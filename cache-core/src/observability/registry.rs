//! The registry: every observed cache of the process, held weakly.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Name;
use crate::stats::CacheInfo;
#[cfg(feature = "metrics")]
use crate::stats::Counts;

/// What an entry of the registry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CacheKind {
    /// A `#[ttl_cache]` function, or the functions sharing an `identifier`.
    Function,
    /// A [`Cache`](crate::Cache) named with
    /// [`CacheBuilder::name`](crate::CacheBuilder::name).
    Cache,
}

/// One cache of the process, as [`caches`] lists it.
///
/// Serialized with serde as
/// `{"name":…,"kind":"function"|"cache","backend":…,"ttl_secs":…|null,"max_entries":…,"hit_ratio":…,"info":{…}}`
/// (`info` holds the [`CacheInfo`] fields by name).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CacheEntry {
    /// The function's identity (`module::function`, or its `identifier`), or
    /// the `Cache`'s name.
    pub name: String,
    /// A function or a `Cache`.
    pub kind: CacheKind,
    /// `"memory"`, or the storage backend's name (`"redis"`, `"disk"`, ...).
    pub backend: String,
    /// The time to live of an entry; `None`: entries never expire by default.
    /// In JSON, `ttl_secs`: seconds as a number, or `null`.
    #[serde(rename = "ttl_secs", with = "ttl_secs")]
    pub ttl: Option<Duration>,
    /// The bound on entries.
    pub max_entries: u64,
    /// [`CacheInfo::hit_ratio`] of `info`.
    pub hit_ratio: f64,
    /// The counters and the size, as [`CachedFn::cache_info`](crate::CachedFn::cache_info)
    /// or [`Cache::info`](crate::Cache::info) report them (a storage backend's
    /// size is read from the store: a `SCAN` for Redis).
    pub info: CacheInfo,
}

/// Every observed cache of the process, sorted by name: each `#[ttl_cache]`
/// function that has been used, and each named [`Cache`](crate::Cache) still
/// alive. Functions on a storage backend that share an `identifier` are one
/// entry, their counters summed.
///
/// Costs what reading each cache's info costs: the size of an in-memory
/// cache is counted by walking it, and a storage backend's is asked of the
/// store. Nothing is locked while the caches are read.
pub fn caches() -> Vec<CacheEntry> {
    let mut entries: Vec<CacheEntry> = Vec::new();
    for (registration, source) in live() {
        let info = source.info();
        let same = |entry: &&mut CacheEntry| {
            entry.kind == registration.kind
                && entry.name == registration.name.as_str()
                && entry.backend == registration.backend
        };
        if registration.one_store_per_name
            && let Some(entry) = entries.iter_mut().find(same)
        {
            // One stored namespace seen by several functions: their counters
            // add up, their sizes are the same store's.
            let size = entry.info.current_size.max(info.current_size);
            entry.info.absorb(&info);
            entry.info.current_size = size;
            entry.hit_ratio = entry.info.hit_ratio();
            continue;
        }
        entries.push(CacheEntry {
            name: registration.name.as_str().to_owned(),
            kind: registration.kind,
            backend: registration.backend.to_owned(),
            ttl: registration.ttl,
            max_entries: registration.max_entries,
            hit_ratio: info.hit_ratio(),
            info,
        });
    }
    entries.sort_by(|a, b| (&a.name, a.kind, &a.backend).cmp(&(&b.name, b.kind, &b.backend)));
    entries
}

/// A cache's entry in the registry, written once when it registers.
#[derive(Debug)]
pub(crate) struct Registration {
    pub(crate) name: Name,
    pub(crate) kind: CacheKind,
    pub(crate) backend: &'static str,
    pub(crate) ttl: Option<Duration>,
    pub(crate) max_entries: u64,
    /// Whether registrations of one name and backend are views of one store
    /// (functions sharing an `identifier` on a storage backend), listed once.
    pub(crate) one_store_per_name: bool,
}

/// What the registry reads from a cache.
pub(crate) trait Observed: Send + Sync {
    /// The counters and the size.
    fn info(&self) -> CacheInfo;

    /// Every counter since the cache was made (clears ignored), and the live
    /// size when it is known without asking a store.
    #[cfg(feature = "metrics")]
    fn lifetime(&self) -> (Counts, Option<u64>);
}

struct Registered {
    registration: Arc<Registration>,
    source: Weak<dyn Observed>,
}

static REGISTRY: Mutex<Vec<Registered>> = Mutex::new(Vec::new());

fn lock() -> MutexGuard<'static, Vec<Registered>> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Adds a cache, once, when it is made. Entries of dropped caches go.
pub(crate) fn register(registration: Registration, source: Weak<dyn Observed>) {
    let mut registered = lock();
    registered.retain(|r| r.source.strong_count() > 0);
    registered.push(Registered {
        registration: Arc::new(registration),
        source,
    });
}

/// The caches still alive, kept alive while the caller reads them (outside
/// the registry's lock).
pub(crate) fn live() -> Vec<(Arc<Registration>, Arc<dyn Observed>)> {
    let mut registered = lock();
    registered.retain(|r| r.source.strong_count() > 0);
    registered
        .iter()
        .filter_map(|r| Some((Arc::clone(&r.registration), r.source.upgrade()?)))
        .collect()
}

/// `Option<Duration>` as seconds (a number) or `null`.
mod ttl_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        ttl: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match ttl {
            Some(ttl) => serializer.serialize_some(&ttl.as_secs_f64()),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<f64>::deserialize(deserializer)?
            .map(|secs| Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom))
            .transpose()
    }
}
