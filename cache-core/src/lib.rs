//! Memoization with a time-to-live.
//!
//! - [`PersistentHash`]: a canonical, portable encoding of argument values, the
//!   source of every cache key (derive it with `#[derive(PersistentHash)]`).
//! - [`Cache`]: a typed, concurrent, bounded in-memory cache with per-entry TTLs,
//!   single-flight loading ([`Cache::get_or_insert_with`] and friends) and exact
//!   counters ([`CacheInfo`]).
//! - [`DefaultMap`]: a map whose missing keys materialize from a producer.
//! - [`codec`]: serializers (MessagePack, JSON, your own) and the checked envelope
//!   that guards every stored byte.
//! - [`guide`]: every feature taught with examples that run; start here.
#![deny(missing_docs)]

mod cache;
pub mod clock;
pub mod codec;
mod default_map;
mod engine;
pub mod guide;
pub mod hash;
mod memoize;
pub mod observability;
mod stats;

/// The background sweep of expired entries.
pub mod maintenance {
    pub use crate::engine::maintenance::{SWEEP_INTERVAL, wait_for_sweep_rounds};
}

pub use cache::{Cache, CacheBuilder, DEFAULT_MAX_ENTRIES, Expiry};
pub use cache_macros::{PersistentHash, ttl_cache};
pub use default_map::{AsyncDefaultMap, DefaultMap};
pub use hash::{Digest, HashSink, MemKey, PersistentHash, persistent_digest};
pub use memoize::{
    Backend, BackendError, BoxFuture, CacheParameters, CachedFn, DEFAULT_TTL, IntoBackend, IntoTtl,
    LocalTier, Lookup, MemoryBackend, StorageBackend, StorageKey, TierState,
};
pub use scc::Equivalent;
pub use stats::CacheInfo;

/// What `#[ttl_cache]` expands to names only these paths. Not a public API: it
/// may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::cache::DEFAULT_MAX_ENTRIES;
    pub use crate::codec::{MessagePack, Serializer};
    pub use crate::hash::PersistentHash;
    pub use crate::memoize::CacheParameters;
    pub use crate::memoize::{
        Always, ArgSink, Backend, CachedFn, DEFAULT_TTL, IntoBackend, IntoTtl, OkOnly, OkOrRefuse,
        Outcome, SiteKey, SiteKeyBuilder, SiteSpec, SomeOnly,
    };
    pub use crate::stats::CacheInfo;
    pub use ::core::option::Option::{None, Some};
    pub use ::std::concat;
    pub use ::std::module_path;
    pub use ::std::time::Duration;
}
