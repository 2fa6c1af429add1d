//! Memoization with a time-to-live.
//!
//! - [`PersistentHash`]: a canonical, portable encoding of argument values, the
//!   source of every cache key (derive it with `#[derive(PersistentHash)]`).
//! - [`Cache`]: a typed, concurrent, bounded in-memory cache with per-entry TTLs,
//!   single-flight loading (`get_with` and friends) and exact counters.
//! - [`codec`]: serializers (MessagePack, JSON, your own) and the checked envelope
//!   that guards every stored byte.
#![deny(missing_docs)]

pub mod clock;
pub mod codec;
pub mod hash;

pub use cache_macros::PersistentHash;
pub use hash::{Digest, HashSink, MemKey, PersistentHash, persistent_digest};
