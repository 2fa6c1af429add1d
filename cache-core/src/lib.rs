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
#![deny(missing_docs)]

mod cache;
pub mod clock;
pub mod codec;
mod default_map;
mod engine;
pub mod hash;
mod stats;

/// The background sweep of expired entries.
pub mod maintenance {
    pub use crate::engine::maintenance::{SWEEP_INTERVAL, wait_for_sweep_rounds};
}

pub use cache::{Cache, CacheBuilder, DEFAULT_MAX_ENTRIES, Expiry};
pub use cache_macros::PersistentHash;
pub use default_map::{AsyncDefaultMap, DefaultMap};
pub use hash::{Digest, HashSink, MemKey, PersistentHash, persistent_digest};
pub use scc::Equivalent;
pub use stats::CacheInfo;
