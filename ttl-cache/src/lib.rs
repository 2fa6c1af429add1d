//! Memoization with a time-to-live, in one crate: `#[ttl_cache]` on functions,
//! methods and `async fn`s, a typed concurrent [`Cache`], [`PersistentHash`]
//! keys, and optional Redis and file backends behind features.
//!
//! ```
//! use ttl_cache::{PersistentHash, ttl_cache};
//!
//! #[derive(PersistentHash)] // arguments are keyed by their PersistentHash encoding
//! struct Quote {
//!     symbol: String,
//!     day: u32,
//! }
//!
//! #[ttl_cache(ttl = 30, max_entries = 1_000)]
//! fn price(quote: &Quote) -> f64 {
//!     quote.symbol.len() as f64 * f64::from(quote.day) // runs on a miss only
//! }
//!
//! let acme = Quote { symbol: "ACME".into(), day: 3 };
//! assert_eq!(price(&acme), 12.0); // a miss: the body runs
//! assert_eq!(price(&acme), 12.0); // a hit
//! assert_eq!(price::cache_info().hits, 1);
//! ```
//!
//! Depend on this crate alone: the macros find it by itself (their expansion
//! names `::ttl_cache`, or the name a `package = "ttl-cache"` rename gives it).
//! The crate root is the whole of `cache-core`: the macros (their guide with
//! every option is [`ttl_cache`](macro@ttl_cache)), [`Cache`], [`DefaultMap`],
//! [`PersistentHash`], [`codec`], [`clock`] and the storage backend traits.
//!
//! # Features
//!
//! | feature | what it adds | extra dependencies |
//! |---|---|---|
//! | *(none; `default = []`)* | the in-memory cache, `#[ttl_cache]`, [`Cache`], [`PersistentHash`], [`codec`] | no tokio, no network, no storage crates |
//! | `redis` | `ttl_cache::redis`: `RedisBackend` (Redis and Redis Cluster), `RedisLock`, `RedisMap`, a local tier, shared counters | `redis`, `tokio` |
//! | `tls` | `redis` plus `rediss://` URLs and `RedisBackendBuilder::tls_root_cert` | `rustls` (ring) |
//! | `disk` | `ttl_cache::disk`: `DiskBackend` (a crash-safe file, redb) and `DiskCache` | `redb` |
//!
//! `async fn`s work with every feature set: the in-memory cache needs no
//! runtime of its own, so any executor drives them.
#![deny(missing_docs)]

pub use runtime::*;

/// What the macros' expansions name. Not a public API: it may change in any
/// release.
#[doc(hidden)]
pub use runtime::__private;

/// The Redis and Redis Cluster backend (feature `redis`): `cache-redis`'s API.
///
/// ```no_run
/// use std::sync::LazyLock;
/// use ttl_cache::redis::RedisBackend;
/// use ttl_cache::ttl_cache;
///
/// // A cheap handle: every function naming it shares its connections.
/// static REDIS: LazyLock<RedisBackend> = LazyLock::new(|| {
///     RedisBackend::builder("redis://127.0.0.1:6379/").prefix("app").build().unwrap()
/// });
///
/// #[ttl_cache(ttl = 300, backend = REDIS.clone())]
/// fn greeting(id: u64) -> String {
///     format!("hello, user {id}")
/// }
/// ```
///
/// The backend's behaviour (keys, failures as misses, the circuit breaker,
/// clusters, TLS with the `tls` feature) is described on [`RedisBackend`](cache_redis::RedisBackend)
/// and in the documentation of `cache-redis`.
#[cfg(feature = "redis")]
pub mod redis {
    pub use cache_redis::*;
}

/// A crash-safe cache in one file (feature `disk`): `cache-disk`'s API.
///
/// ```no_run
/// use std::sync::LazyLock;
/// use ttl_cache::disk::DiskBackend;
/// use ttl_cache::ttl_cache;
///
/// // A cheap handle: every function naming it shares the open file.
/// static DISK: LazyLock<DiskBackend> = LazyLock::new(|| {
///     DiskBackend::builder("app.cache").open().expect("the cache file")
/// });
///
/// #[ttl_cache(ttl = 3600, backend = DISK.clone())]
/// fn squares(n: u64) -> Vec<u64> {
///     (0..n).map(|i| i * i).collect()
/// }
/// ```
///
/// What it guarantees (atomic, durable, self-recovering, checked records) is
/// described on [`DiskBackend`](cache_disk::DiskBackend) and in the
/// documentation of `cache-disk`.
#[cfg(feature = "disk")]
pub mod disk {
    pub use cache_disk::*;
}
