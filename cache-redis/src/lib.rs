//! A Redis and Redis Cluster backend for `cache-core`'s `#[ttl_cache]`.
//!
//! ```no_run
//! use std::sync::LazyLock;
//! use cache_core::ttl_cache;
//! use cache_redis::RedisBackend;
//!
//! // A cheap handle: every function naming it shares its connections.
//! static REDIS: LazyLock<RedisBackend> = LazyLock::new(|| {
//!     RedisBackend::builder("redis://127.0.0.1:6379/").prefix("app").build().unwrap()
//! });
//!
//! #[derive(serde::Serialize, serde::Deserialize, Clone)]
//! struct Profile { name: String }
//!
//! #[ttl_cache(ttl = 300, backend = REDIS.clone())]
//! fn profile(id: u64) -> Profile {
//!     Profile { name: format!("user {id}") }
//! }
//! ```
//!
//! For a cluster, name any of its nodes:
//! `RedisBackend::cluster(["redis://10.0.0.1:7000/", "redis://10.0.0.2:7000/"])`,
//! then the same builder methods.
//!
//! - Keys: `<prefix>:<identity>:v<version, 10 digits>:<64 hex digits of blake3>`.
//!   The fixed-width tail lets `cache_clear` match exactly one cache's keys: an
//!   identity that is a prefix of another (`ns`, `ns2`, `a::f`, `a::f::g`) or that
//!   contains glob characters (`*`, `?`, `[`) never matches another's keys. Keys
//!   carry no hash tag, so a cache spreads over every slot of a cluster.
//! - Values: the checked envelope of `cache-core` (MessagePack by default).
//! - Writes: one `SET key value PX ms`; a TTL under 1 ms stores nothing.
//! - Failures are misses (fail-open): every call has a time budget
//!   ([`RedisBackendBuilder::op_timeout`], default 250 ms), and after
//!   [`RedisBackendBuilder::breaker_threshold`] consecutive failures a circuit
//!   breaker refuses calls for [`RedisBackendBuilder::breaker_cooldown`] without
//!   touching the network, so an outage does not add a timeout to every call.
//!   [`RedisBackend::breaker_opens`] counts its openings.
//! - Connections are lazy (the process starts while Redis is down) and re-made
//!   after an error, so a restarted server is picked up. Async calls share one
//!   multiplexed connection ([`redis::aio::ConnectionManager`], or the cluster's
//!   multiplexed [`redis::cluster_async::ClusterConnection`]); sync calls share
//!   one blocking connection.
//! - `cache_clear` and `current_size` walk the keyspace with `SCAN … MATCH`
//!   (every batch, until the cursor returns to 0; on a cluster, on every
//!   master): O(keys in the database), so `current_size` is for dashboards and
//!   tests, not for a hot path.
//! - URLs: `redis://[user[:password]@]host:port[/db]`; with the `tls` feature,
//!   `rediss://` and `RedisBackendBuilder::tls_root_cert`. `Debug` output and
//!   error messages never contain the password.
#![deny(missing_docs)]

mod breaker;
mod counters;
mod lock;
mod map;
mod text;
mod tier;

use std::fmt;
use std::future::Future;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use cache_core::codec::MacKey;
use cache_core::{BackendError, BoxFuture, Lookup, StorageBackend, StorageKey};
use parking_lot::Mutex;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterClientBuilder, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Client, Cmd, Connection, ConnectionInfo, FromRedisValue, IntoConnectionInfo, Value};

use crate::breaker::Breaker;
pub use crate::counters::SharedCounters;
use crate::counters::{Connect, Pending};
pub use crate::lock::{LockError, LockGuard, RedisLock};
pub use crate::map::{MapError, RedisMap};
use crate::text::{glob_escape, password_of, redact};
use crate::tier::Tier;
/// The `redis` crate this backend is built on, re-exported: build the
/// [`redis::Pipeline`] that [`RedisMap::add_get`] and friends add commands to
/// (or any other `redis` value) from here, and its version always matches,
/// without a `redis` dependency of your own.
pub use redis;

const NAME: &str = "redis";

/// Keys asked for per `SCAN` step ([`scan_step`]).
pub const SCAN_COUNT: u64 = 1000;

/// One step of a key walk: `SCAN cursor MATCH pattern COUNT 1000`, the
/// command this crate's `cache_info`/`cache_clear` walks send, for tools that
/// walk the same keys the same way (e.g. `cache-cli`).
pub fn scan_step(cursor: u64, pattern: &str) -> Cmd {
    let mut cmd = Cmd::new();
    cmd.arg("SCAN")
        .arg(cursor)
        .arg("MATCH")
        .arg(pattern)
        .arg("COUNT")
        .arg(SCAN_COUNT);
    cmd
}

/// A configuration error found by [`RedisBackendBuilder::build`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisConfigError {
    /// A URL could not be parsed (the message never contains the password).
    #[error("invalid Redis URL: {0}")]
    Url(String),
    /// A cluster was given no node.
    #[error("a Redis Cluster needs at least one node URL")]
    NoNodes,
    /// A background thread (the local tier's subscriber) could not start.
    #[error("cannot start a cache-redis thread: {0}")]
    Thread(String),
}

/// Builds a [`RedisBackend`]. Nothing connects until the first call.
#[derive(Clone)]
pub struct RedisBackendBuilder {
    nodes: Vec<String>,
    cluster: bool,
    prefix: String,
    op_timeout: Duration,
    breaker_threshold: u32,
    breaker_cooldown: Duration,
    shared_counters: Option<Duration>,
    mac_key: Option<MacKey>,
    local_tier: Option<(usize, Duration)>,
    fleet_lease: Duration,
    fleet_poll: Duration,
    #[cfg(feature = "tls")]
    tls_root_cert: Option<Vec<u8>>,
}

impl RedisBackendBuilder {
    fn new(nodes: Vec<String>, cluster: bool) -> Self {
        Self {
            nodes,
            cluster,
            prefix: "cache".into(),
            op_timeout: Duration::from_millis(250),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(1),
            shared_counters: None,
            mac_key: None,
            local_tier: None,
            fleet_lease: Duration::from_secs(10),
            fleet_poll: Duration::from_millis(20),
            #[cfg(feature = "tls")]
            tls_root_cert: None,
        }
    }

    /// Keeps hit and miss counts of every cache in Redis as well, summed over
    /// all the processes that use it: read them with
    /// [`RedisBackend::shared_counters`]. Calls only count locally; a
    /// background thread adds the counts to the hash `<prefix>:<identity>:counters`
    /// (`HINCRBY`) every `flush_every`, so the call path gains no round trip.
    /// The counts of a process's last interval are lost if it exits without
    /// [`RedisBackend::flush_counters`]. Off by default: `cache_info()`
    /// counts per process.
    #[must_use]
    pub fn shared_counters(mut self, flush_every: Duration) -> Self {
        self.shared_counters = Some(flush_every);
        self
    }

    /// Prepends `prefix` (default `"cache"`) to every key.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The time budget of one Redis call, connecting included (default 250 ms).
    #[must_use]
    pub fn op_timeout(mut self, timeout: Duration) -> Self {
        self.op_timeout = timeout;
        self
    }

    /// Consecutive failures that open the circuit breaker (default 5).
    #[must_use]
    pub fn breaker_threshold(mut self, failures: u32) -> Self {
        self.breaker_threshold = failures.max(1);
        self
    }

    /// How long an open breaker refuses calls before one is let through to
    /// test the server (default 1 s).
    #[must_use]
    pub fn breaker_cooldown(mut self, cooldown: Duration) -> Self {
        self.breaker_cooldown = cooldown;
        self
    }

    /// Signs every stored value with a keyed MAC (keyed blake3, bound to the
    /// entry's key) and refuses values that do not carry a valid one: whoever
    /// can write to Redis without the key cannot plant results, nor copy a
    /// value from one key to another. A refused value is a counted
    /// `decode_errors` miss, recomputed and overwritten. Every process sharing
    /// the cache needs the same key.
    #[must_use]
    pub fn mac_key(mut self, key: impl Into<MacKey>) -> Self {
        self.mac_key = Some(key.into());
        self
    }

    /// Lets each `#[ttl_cache]` function on this backend keep decoded copies
    /// of up to `max_entries` values it read or wrote, each for at most `ttl`
    /// (and never longer than the function's own TTL), and serve hits from
    /// them without a round trip (a two-tier cache: memory, then Redis).
    /// `cache_clear` in any process makes the copies stale in every process
    /// promptly (all copies of this backend: the invalidation is not per
    /// cache): it is published on
    /// `<prefix>:invalidate`, which each process with a local tier follows on
    /// one subscriber connection. While that subscription is not in place
    /// (Redis down, reconnecting) nothing is kept locally. A value another
    /// process overwrites (after expiry) can be served from a copy for up to
    /// `ttl`: choose it as the staleness you accept.
    #[must_use]
    pub fn local_tier(mut self, max_entries: usize, ttl: Duration) -> Self {
        self.local_tier = Some((max_entries, ttl));
        self
    }

    /// For functions with `single_flight = fleet`: how long the process that
    /// computes a missing value holds its lease (default 10 s). Others wait
    /// for its value while the lease lives; if the holder dies, the lease
    /// expires and one of them computes. Set it above the longest computation:
    /// a computation that outlives its lease may run twice.
    #[must_use]
    pub fn fleet_lease(mut self, lease: Duration) -> Self {
        self.fleet_lease = lease.max(Duration::from_millis(1));
        self
    }

    /// For functions with `single_flight = fleet`: how often a waiting process
    /// looks for the value or the lease again (default 20 ms).
    #[must_use]
    pub fn fleet_poll(mut self, poll: Duration) -> Self {
        self.fleet_poll = poll.max(Duration::from_millis(1));
        self
    }

    /// Trusts the certificate authority in `pem` for `rediss://` connections
    /// (instead of the system's trust store), for servers with a private CA.
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls_root_cert(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls_root_cert = Some(pem.into());
        self
    }

    /// A client for one node, with the TLS settings.
    fn plain_client(&self, url: &str) -> redis::RedisResult<Client> {
        let info = connection_info(url)?;
        #[cfg(feature = "tls")]
        if let Some(pem) = &self.tls_root_cert {
            return Client::build_with_tls(
                info,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                },
            );
        }
        Client::open(info)
    }

    /// The backend. Validates the URLs; does not connect.
    ///
    /// # Errors
    ///
    /// [`RedisConfigError::Url`] when a URL is not a valid Redis URL,
    /// [`RedisConfigError::NoNodes`] for a cluster without nodes.
    pub fn build(self) -> Result<RedisBackend, RedisConfigError> {
        let secrets: Vec<String> = self.nodes.iter().filter_map(|u| password_of(u)).collect();
        let invalid =
            |e: redis::RedisError| RedisConfigError::Url(redact(&e.to_string(), &secrets));
        let conn = if self.cluster {
            if self.nodes.is_empty() {
                return Err(RedisConfigError::NoNodes);
            }
            let infos = self
                .nodes
                .iter()
                .map(|url| connection_info(url))
                .collect::<Result<Vec<_>, _>>()
                .map_err(invalid)?;
            let builder = ClusterClientBuilder::new(infos)
                .connection_timeout(self.op_timeout)
                .response_timeout(self.op_timeout)
                .retries(1)
                .min_retry_wait(1)
                .max_retry_wait(self.op_timeout.as_millis().try_into().unwrap_or(u64::MAX));
            #[cfg(feature = "tls")]
            let builder = match &self.tls_root_cert {
                Some(pem) => builder.certs(redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.clone()),
                }),
                None => builder,
            };
            Conn::Cluster {
                shared: Arc::new(ClusterShared {
                    client: builder.build().map_err(invalid)?,
                    bridge_conn: OnceLock::new(),
                }),
                bridge: OnceLock::new(),
                async_conn: PerRuntime::default(),
            }
        } else {
            let [url] = self.nodes.as_slice() else {
                return Err(RedisConfigError::NoNodes);
            };
            Conn::Single {
                client: self.plain_client(url).map_err(invalid)?,
                sync_conn: Mutex::new(None),
                async_conn: PerRuntime::default(),
            }
        };
        let tier = match (self.local_tier, self.nodes.first()) {
            (Some((max_entries, ttl)), Some(url)) => {
                let tier = Arc::new(Tier::new(max_entries, ttl));
                // Cluster nodes relay PUBLISH to every node: one plain
                // connection to any of them hears every invalidation.
                let client = self.plain_client(url).map_err(invalid)?;
                let timeout = self.op_timeout;
                tier::start_subscriber(
                    &tier,
                    invalidation_channel(&self.prefix),
                    Box::new(move || client.get_connection_with_timeout(timeout)),
                )
                .map_err(|e| RedisConfigError::Thread(e.to_string()))?;
                Some(tier)
            }
            _ => None,
        };
        let breaker = Breaker::new(self.breaker_threshold, self.breaker_cooldown, &self.prefix);
        Ok(RedisBackend {
            inner: Arc::new(Inner {
                tier,
                fleet_lease: self.fleet_lease,
                fleet_poll: self.fleet_poll,
                conn,
                display_urls: self.nodes.iter().map(|u| redact_url(u)).collect(),
                secrets,
                prefix: self.prefix,
                op_timeout: self.op_timeout,
                breaker,
                counters: self.shared_counters.map(|every| SharedState {
                    pending: Arc::default(),
                    every,
                    flusher: std::sync::Once::new(),
                }),
                mac_key: self.mac_key,
            }),
        })
    }
}

impl fmt::Debug for RedisBackendBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let urls: Vec<String> = self.nodes.iter().map(|u| redact_url(u)).collect();
        f.debug_struct("RedisBackendBuilder")
            .field("urls", &urls)
            .field("cluster", &self.cluster)
            .field("prefix", &self.prefix)
            .field("op_timeout", &self.op_timeout)
            .field("breaker_threshold", &self.breaker_threshold)
            .field("breaker_cooldown", &self.breaker_cooldown)
            .finish_non_exhaustive()
    }
}

/// One server or a cluster, each with a blocking and a multiplexed connection.
#[allow(
    clippy::large_enum_variant,
    reason = "one per backend, built once; boxing would add a pointer chase to every call"
)]
enum Conn {
    Single {
        client: Client,
        sync_conn: Mutex<Option<Connection>>,
        async_conn: PerRuntime<ConnectionManager>,
    },
    Cluster {
        shared: Arc<ClusterShared>,
        /// Runs the sync calls (see [`Bridge`]); started by the first one.
        bridge: OnceLock<Bridge>,
        /// The multiplexed connections of async callers, one per runtime.
        async_conn: PerRuntime<ClusterConnection>,
    },
}

/// What the bridge thread's tasks need of a cluster backend.
struct ClusterShared {
    client: ClusterClient,
    /// The multiplexed connection of sync callers, driven by the bridge runtime.
    bridge_conn: OnceLock<ClusterConnection>,
}

impl ClusterShared {
    /// A new multiplexed connection whose driver runs on the current runtime
    /// (connecting happens in the background: this never blocks).
    fn connect(&self, budget: Duration) -> ClusterConnection {
        let config = ClusterConfig::new()
            .set_connection_timeout(budget)
            .set_response_timeout(budget);
        self.client.get_pending_async_connection_with_config(config)
    }
}

/// How many runtimes' connections a backend keeps (the oldest goes first).
const RUNTIMES_KEPT: usize = 8;

/// Multiplexed connections, one per tokio runtime that used the backend. A
/// connection's driver task lives on the runtime that made it and dies with
/// it, so a connection made on a runtime that has since been dropped (a test's
/// runtime, a short-lived `block_on`) must not serve another. Reads are
/// lock-free (`arc-swap`).
struct PerRuntime<C> {
    conns: arc_swap::ArcSwap<Vec<(tokio::runtime::Id, C)>>,
}

impl<C> Default for PerRuntime<C> {
    fn default() -> Self {
        Self {
            conns: arc_swap::ArcSwap::from_pointee(Vec::new()),
        }
    }
}

impl<C: Clone> PerRuntime<C> {
    /// The current runtime's connection, made by `make` on first use. `None`
    /// outside a tokio runtime.
    fn get_or_make<E>(&self, make: impl FnOnce() -> Result<C, E>) -> Option<Result<C, E>> {
        let id = tokio::runtime::Handle::try_current().ok()?.id();
        if let Some((_, conn)) = self.conns.load().iter().find(|(of, _)| *of == id) {
            return Some(Ok(conn.clone()));
        }
        let made = match make() {
            Ok(made) => made,
            Err(error) => return Some(Err(error)),
        };
        self.conns.rcu(|conns| {
            let mut kept: Vec<(tokio::runtime::Id, C)> =
                conns.iter().filter(|(of, _)| *of != id).cloned().collect();
            if kept.len() >= RUNTIMES_KEPT {
                kept.remove(0);
            }
            kept.push((id, made.clone()));
            kept
        });
        Some(Ok(made))
    }
}

/// A private current-thread runtime on its own thread that runs the sync
/// calls of a cluster backend on a multiplexed connection, so each has a hard
/// deadline (redis-rs's blocking cluster connection retries and refreshes its
/// slot map with a timeout per step, not per call). The thread ends when the
/// backend is dropped.
struct Bridge {
    jobs: tokio::sync::mpsc::UnboundedSender<BoxFuture<'static, ()>>,
}

impl Bridge {
    fn start() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (jobs, mut queue) = tokio::sync::mpsc::unbounded_channel::<BoxFuture<'static, ()>>();
        std::thread::Builder::new()
            .name("cache-redis-cluster".into())
            .spawn(move || {
                runtime.block_on(async move {
                    while let Some(job) = queue.recv().await {
                        tokio::spawn(job);
                    }
                });
            })?;
        Ok(Self { jobs })
    }
}

/// A clone of the shared multiplexed connection.
pub(crate) enum AsyncConn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl AsyncConn {
    async fn query<T: FromRedisValue>(self, cmd: &Cmd) -> redis::RedisResult<T> {
        match self {
            Self::Single(mut conn) => cmd.query_async(&mut conn).await,
            Self::Cluster(mut conn) => cmd.query_async(&mut conn).await,
        }
    }
}

/// Results of `#[ttl_cache]` functions stored in Redis or a Redis Cluster.
///
/// A cheap handle: clones share the connections, the breaker and the counters.
/// Plug it in with `backend = …` naming a `RedisBackend` (or an
/// `Arc<RedisBackend>`), typically a `static` `LazyLock`, so that every
/// function shares one backend:
/// `#[ttl_cache(backend = REDIS.clone())]`.
#[derive(Clone)]
pub struct RedisBackend {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Conn,
    display_urls: Vec<String>,
    /// Passwords of the URLs, scrubbed from every error message.
    secrets: Vec<String>,
    prefix: String,
    op_timeout: Duration,
    breaker: Breaker,
    counters: Option<SharedState>,
    mac_key: Option<MacKey>,
    /// The local copies (`local_tier`).
    tier: Option<Arc<Tier>>,
    fleet_lease: Duration,
    fleet_poll: Duration,
}

impl cache_core::IntoBackend for RedisBackend {
    fn into_backend(self) -> cache_core::Backend {
        cache_core::Backend::Storage(Arc::new(self))
    }
}

/// The shared-counters option of a backend.
struct SharedState {
    pending: Arc<Pending>,
    every: Duration,
    /// Starts the flusher thread on the first lookup.
    flusher: std::sync::Once,
}

impl fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBackend")
            .field("urls", &self.inner.display_urls)
            .field("cluster", &matches!(self.inner.conn, Conn::Cluster { .. }))
            .field("prefix", &self.inner.prefix)
            .field("op_timeout", &self.inner.op_timeout)
            .field("breaker_opens", &self.inner.breaker.opens())
            .finish_non_exhaustive()
    }
}

impl RedisBackend {
    /// A builder for the server at `url` (`redis://[user:password@]host:port/db`).
    pub fn builder(url: impl Into<String>) -> RedisBackendBuilder {
        RedisBackendBuilder::new(vec![url.into()], false)
    }

    /// A builder for a Redis Cluster reached through any of `nodes` (URLs as for
    /// [`builder`](Self::builder); the rest of the cluster is discovered).
    pub fn cluster<I>(nodes: I) -> RedisBackendBuilder
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        RedisBackendBuilder::new(nodes.into_iter().map(Into::into).collect(), true)
    }

    /// The hit and miss counts of the cache `namespace` (its identity) summed
    /// over every process, this one's unflushed counts included. Needs
    /// [`RedisBackendBuilder::shared_counters`]; without it, zeros.
    ///
    /// # Errors
    ///
    /// A [`BackendError`] when Redis cannot be read.
    pub fn shared_counters(&self, namespace: &str) -> Result<SharedCounters, BackendError> {
        let Some(state) = &self.inner.counters else {
            return Ok(SharedCounters::default());
        };
        let mut cmd = Cmd::new();
        cmd.arg("HMGET")
            .arg(self.counter_key(namespace))
            .arg("hits")
            .arg("misses");
        let _exclusive = state.pending.exclusive();
        let (hits, misses): (Option<u64>, Option<u64>) = self.query_sync("counters", cmd)?;
        let local = state.pending.of(namespace);
        Ok(SharedCounters {
            hits: hits.unwrap_or(0).saturating_add(local.hits),
            misses: misses.unwrap_or(0).saturating_add(local.misses),
        })
    }

    /// Adds this process's pending counts to Redis now (the background thread
    /// does it every interval; call this before a process exits).
    ///
    /// # Errors
    ///
    /// A [`BackendError`] when Redis cannot be written; the counts are kept
    /// for the next flush.
    pub fn flush_counters(&self) -> Result<(), BackendError> {
        let Some(state) = &self.inner.counters else {
            return Ok(());
        };
        let prefix = self.inner.prefix.clone();
        let mut conn = self.counter_connect()().map_err(|e| self.failed("counters", &e))?;
        state
            .pending
            .flush(conn.as_mut(), &move |ns| counter_key(&prefix, ns))
            .map_err(|e| self.failed("counters", &e))
    }

    /// The lease key of one entry (fleet-wide single-flight). It never
    /// matches the namespace's `SCAN` pattern.
    fn lease_key(&self, key: &StorageKey<'_>) -> String {
        format!(
            "{}:{}:lease:{}",
            self.inner.prefix,
            key.namespace,
            key.digest.to_hex()
        )
    }

    /// A fresh random token and `SET lease token NX PX <fleet_lease>`.
    fn lease_cmd(&self, key: &StorageKey<'_>) -> Result<(u64, Cmd), BackendError> {
        let token = getrandom::u64().map_err(|e| BackendError::Failed {
            backend: NAME,
            operation: "lease",
            source: format!("no random bytes from the OS: {e}").into(),
        })?;
        let ms = u64::try_from(self.inner.fleet_lease.as_millis()).unwrap_or(u64::MAX);
        let mut cmd = Cmd::new();
        cmd.arg("SET")
            .arg(self.lease_key(key))
            .arg(token)
            .arg("NX")
            .arg("PX")
            .arg(ms.max(1));
        Ok((token, cmd))
    }

    /// Deletes the lease only if it still holds `token`.
    fn release_cmd(&self, key: &StorageKey<'_>, token: u64) -> Cmd {
        let mut cmd = Cmd::new();
        cmd.arg("EVAL")
            .arg("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end")
            .arg(1)
            .arg(self.lease_key(key))
            .arg(token);
        cmd
    }

    fn counter_key(&self, namespace: &str) -> String {
        counter_key(&self.inner.prefix, namespace)
    }

    /// Makes blocking connections for counter flushes, outside the call path.
    fn counter_connect(&self) -> Connect {
        let timeout = self.inner.op_timeout;
        match &self.inner.conn {
            Conn::Single { client, .. } => {
                let client = client.clone();
                Box::new(move || {
                    let conn = client.get_connection_with_timeout(timeout)?;
                    conn.set_read_timeout(Some(timeout))?;
                    conn.set_write_timeout(Some(timeout))?;
                    Ok(Box::new(conn) as Box<dyn redis::ConnectionLike + Send>)
                })
            }
            Conn::Cluster { shared, .. } => {
                let client = shared.client.clone();
                Box::new(move || {
                    let conn = client.get_connection()?;
                    conn.set_read_timeout(Some(timeout))?;
                    conn.set_write_timeout(Some(timeout))?;
                    Ok(Box::new(conn) as Box<dyn redis::ConnectionLike + Send>)
                })
            }
        }
    }

    /// The key prefix (for `RedisMap`).
    pub(crate) fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// Whether this is a cluster backend (for `RedisMap`).
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self.inner.conn, Conn::Cluster { .. })
    }

    /// How many times the circuit breaker has opened since the backend was built.
    pub fn breaker_opens(&self) -> u64 {
        self.inner.breaker.opens()
    }

    /// The key of one stored result: `{prefix}:{namespace}:v{version:010}:{digest
    /// in hex}`. Built on every call, in one allocation of the exact size
    /// (through `format!` it took about 2,400 instructions a call, a quarter
    /// of what redis-rs spends on a whole `GET`).
    pub fn key(&self, key: &StorageKey<'_>) -> String {
        let prefix = &self.inner.prefix;
        let mut out = String::with_capacity(prefix.len() + key.namespace.len() + 14 + 64);
        out.push_str(prefix);
        out.push(':');
        out.push_str(key.namespace);
        out.push_str(":v");
        push_version(&mut out, key.version);
        out.push(':');
        key.digest.push_hex(&mut out);
        out
    }

    /// The `SCAN MATCH` pattern of every key of `namespace`, whatever its version.
    pub fn namespace_pattern(&self, namespace: &str) -> String {
        self.entries_pattern(&glob_escape(namespace), "??????????")
    }

    /// The `SCAN MATCH` pattern of stored results whose identity and version
    /// match the glob texts `namespace` and `version` (already escaped).
    fn entries_pattern(&self, namespace: &str, version: &str) -> String {
        format!(
            "{}:{namespace}:v{version}:{}",
            glob_escape(&self.inner.prefix),
            "?".repeat(64)
        )
    }

    /// Passes every batch of keys of stored results under this backend's
    /// prefix (every cache, every version: keys as [`key`](Self::key) makes
    /// them) to `each`, walking the keyspace with `SCAN` as `cache_clear`
    /// does (on a cluster, on every master). Returns how many keys it saw.
    /// `SCAN`'s guarantees hold: a key present throughout is seen, a key
    /// written or deleted meanwhile may or may not be, and one may be seen
    /// twice if the server resizes its table during the walk. For operators'
    /// tools (`cache-cli list`); O(keys in the database).
    ///
    /// # Errors
    ///
    /// A [`BackendError`] when Redis cannot be read, or the first error of `each`.
    pub fn scan_entries(
        &self,
        mut each: impl FnMut(&[String]) -> Result<(), BackendError>,
    ) -> Result<u64, BackendError> {
        let pattern = self.entries_pattern("*", "??????????");
        self.scan_sync("scan", &pattern, false, &mut each)
    }

    /// What `cache_clear` of the cache `namespace` does, from a process that
    /// need not run the cached function (an operator's tool, `cache-cli
    /// clear`): deletes its stored results, of `version` only or of every
    /// version; tells every process with a local tier on this prefix to drop
    /// its copies (`PUBLISH` on `<prefix>:invalidate`, whether or not this
    /// backend has a local tier); and, when every version goes, deletes its
    /// shared counters. A cache whose identity merely starts with
    /// `namespace` (`ns2` for `ns`, `a::f::g` for `a::f`) is never touched.
    /// Returns how many keys of stored results were removed.
    ///
    /// # Errors
    ///
    /// A [`BackendError`] when Redis cannot be reached; keys unlinked before
    /// the failure stay deleted.
    pub fn clear_cache(&self, namespace: &str, version: Option<u32>) -> Result<u64, BackendError> {
        let pattern = match version {
            None => self.namespace_pattern(namespace),
            Some(version) => {
                self.entries_pattern(&glob_escape(namespace), &format!("{version:010}"))
            }
        };
        let removed = self.scan_sync("clear", &pattern, true, &mut |_| Ok(()))?;
        let message = match &self.inner.tier {
            Some(tier) => {
                tier.invalidate();
                tier.message(namespace)
            }
            // Any origin but a tier's own makes that tier drop its copies.
            None => format!("{:016x}:{namespace}", 0),
        };
        let mut cmd = Cmd::new();
        cmd.arg("PUBLISH")
            .arg(invalidation_channel(&self.inner.prefix))
            .arg(message);
        self.query_sync::<i64>("clear", cmd)?;
        if version.is_none() {
            if let Some(state) = &self.inner.counters {
                state.pending.forget(namespace);
            }
            let mut cmd = Cmd::new();
            cmd.arg("DEL").arg(self.counter_key(namespace));
            self.query_sync::<()>("clear", cmd)?;
        }
        Ok(removed)
    }

    /// Runs one Redis command on this backend's connection (on a cluster,
    /// routed by the command's key, or to any node for a keyless one), within
    /// the time budget and behind the breaker, like every call of the
    /// backend. For operators' tools that inspect stored results
    /// (`cache-cli inspect`: `PTTL`, `STRLEN`, `MEMORY USAGE`).
    ///
    /// # Errors
    ///
    /// A [`BackendError`] when Redis cannot be reached or answers with an
    /// error; its message never contains the password.
    pub fn command<T: FromRedisValue + Send + 'static>(&self, cmd: Cmd) -> Result<T, BackendError> {
        self.query_sync("command", cmd)
    }

    /// One command for a sync caller: on the shared blocking connection of a
    /// single server, or through the bridge on a cluster.
    fn query_sync<T: FromRedisValue + Send + 'static>(
        &self,
        operation: &'static str,
        cmd: Cmd,
    ) -> Result<T, BackendError> {
        match &self.inner.conn {
            Conn::Single { .. } => self.with_single(operation, |conn| cmd.query(conn)),
            Conn::Cluster { .. } => self.with_bridge(operation, move |mut conn| async move {
                cmd.query_async(&mut conn).await
            }),
        }
    }

    /// Runs `f` on the single server's blocking connection (connecting first if
    /// needed), behind the breaker. The whole call, waiting for the connection
    /// included, fits in the time budget. After an error the connection is
    /// dropped so the next call reconnects.
    pub(crate) fn with_single<T>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&mut Connection) -> redis::RedisResult<T>,
    ) -> Result<T, BackendError> {
        let Conn::Single {
            client, sync_conn, ..
        } = &self.inner.conn
        else {
            return Err(unavailable("not a single-server backend"));
        };
        self.inner.breaker.admit()?;
        let start = Instant::now();
        let Some(mut guard) = sync_conn.try_lock_for(self.inner.op_timeout) else {
            return Err(self.timed_out(operation));
        };
        let remaining = self.inner.op_timeout.saturating_sub(start.elapsed());
        if remaining.is_zero() {
            return Err(self.timed_out(operation));
        }
        // Most calls get the lock at once; one that waited has less time left.
        let shortened = remaining
            < self
                .inner
                .op_timeout
                .saturating_sub(self.inner.op_timeout / 8);
        let result = (|| {
            if guard.is_none() {
                let conn = client.get_connection_with_timeout(remaining)?;
                conn.set_read_timeout(Some(self.inner.op_timeout))?;
                conn.set_write_timeout(Some(self.inner.op_timeout))?;
                *guard = Some(conn);
            }
            let Some(conn) = guard.as_mut() else {
                return Err(redis::RedisError::from((
                    redis::ErrorKind::Client,
                    "no connection",
                )));
            };
            if shortened {
                conn.set_read_timeout(Some(remaining))?;
                conn.set_write_timeout(Some(remaining))?;
            }
            let result = f(conn);
            if shortened && result.is_ok() {
                conn.set_read_timeout(Some(self.inner.op_timeout))?;
                conn.set_write_timeout(Some(self.inner.op_timeout))?;
            }
            result
        })();
        if result.is_err() {
            *guard = None;
        }
        drop(guard);
        self.settle(operation, result)
    }

    /// Runs `f` for a sync caller on the cluster bridge's multiplexed
    /// connection, behind the breaker, waiting at most the time budget.
    pub(crate) fn with_bridge<T, F, Fut>(
        &self,
        operation: &'static str,
        f: F,
    ) -> Result<T, BackendError>
    where
        T: Send + 'static,
        F: FnOnce(ClusterConnection) -> Fut + Send + 'static,
        Fut: Future<Output = redis::RedisResult<T>> + Send + 'static,
    {
        let Conn::Cluster { shared, bridge, .. } = &self.inner.conn else {
            return Err(unavailable("not a cluster backend"));
        };
        self.inner.breaker.admit()?;
        let bridge = match bridge.get() {
            Some(bridge) => bridge,
            None => {
                let started = Bridge::start().map_err(|e| {
                    unavailable(&format!("cannot start the cluster I/O thread: {e}"))
                })?;
                bridge.get_or_init(|| started)
            }
        };
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        let shared = Arc::clone(shared);
        let budget = self.inner.op_timeout;
        let job: BoxFuture<'static, ()> = Box::pin(async move {
            let conn = shared
                .bridge_conn
                .get_or_init(|| shared.connect(budget))
                .clone();
            let result = tokio::time::timeout(budget, f(conn)).await;
            let _ = reply.send(result);
        });
        if bridge.jobs.send(job).is_err() {
            return Err(unavailable("the cluster I/O thread has stopped"));
        }
        match answer.recv_timeout(budget) {
            Ok(Ok(result)) => self.settle(operation, result),
            Ok(Err(_)) | Err(RecvTimeoutError::Timeout) => Err(self.timed_out(operation)),
            Err(RecvTimeoutError::Disconnected) => {
                self.inner.breaker.failure();
                Err(unavailable("the cluster I/O thread has stopped"))
            }
        }
    }

    /// A timeout, counted by the breaker.
    fn timed_out(&self, operation: &'static str) -> BackendError {
        self.inner.breaker.failure();
        BackendError::Timeout {
            backend: NAME,
            operation,
            after: self.inner.op_timeout,
        }
    }

    /// One command on the shared multiplexed connection, behind the breaker and
    /// within the time budget (connecting included).
    async fn query_async<T: FromRedisValue>(
        &self,
        operation: &'static str,
        cmd: Cmd,
    ) -> Result<T, BackendError> {
        self.with_async(operation, |conn| async move { conn.query(&cmd).await })
            .await
    }

    /// Runs `f` on the shared multiplexed connection of the current runtime,
    /// behind the breaker and within the time budget (connecting included).
    pub(crate) async fn with_async<T, F, Fut>(
        &self,
        operation: &'static str,
        f: F,
    ) -> Result<T, BackendError>
    where
        F: FnOnce(AsyncConn) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        self.inner.breaker.admit()?;
        let budget = self.inner.op_timeout;
        let conn = match &self.inner.conn {
            Conn::Single {
                client, async_conn, ..
            } => async_conn
                .get_or_make(|| {
                    // No response timeout of redis-rs's own: every command on
                    // this connection runs under the budget below (this
                    // function's), and redis-rs's would only be a second
                    // timer per call (it does not reconnect either: a timed-out
                    // response is not an unrecoverable error to redis-rs).
                    let config = ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(budget))
                        .set_response_timeout(None)
                        .set_number_of_retries(1);
                    client.get_connection_manager_lazy(config)
                })
                .map(|made| self.settle(operation, made).map(AsyncConn::Single)),
            Conn::Cluster {
                shared, async_conn, ..
            } => async_conn
                .get_or_make(|| Ok::<_, redis::RedisError>(shared.connect(budget)))
                .map(|made| self.settle(operation, made).map(AsyncConn::Cluster)),
        };
        let Some(conn) = conn else {
            return Err(unavailable("async calls need a tokio runtime"));
        };
        let conn = conn?;
        match tokio::time::timeout(self.inner.op_timeout, f(conn)).await {
            Ok(result) => self.settle(operation, result),
            Err(_) => Err(self.timed_out(operation)),
        }
    }

    /// Records the outcome with the breaker and turns a Redis error into a
    /// [`BackendError`] whose message never contains a password.
    fn settle<T>(
        &self,
        operation: &'static str,
        result: redis::RedisResult<T>,
    ) -> Result<T, BackendError> {
        match result {
            Ok(value) => {
                self.inner.breaker.success();
                Ok(value)
            }
            Err(error) => Err(self.failed(operation, &error)),
        }
    }

    /// A Redis error, counted by the breaker, without any password in its message.
    fn failed(&self, operation: &'static str, error: &redis::RedisError) -> BackendError {
        self.inner.breaker.failure();
        BackendError::Failed {
            backend: NAME,
            operation,
            source: redact(&error.to_string(), &self.inner.secrets).into(),
        }
    }

    /// Passes every batch of keys matching `pattern` to `each`, and with
    /// `delete` unlinks them: `SCAN` until the cursor returns to 0, on the
    /// server or on every master of the cluster. Each round trip has the time
    /// budget. Returns the keys seen, or with `delete` the keys `UNLINK`
    /// removed (a key `SCAN` returned twice, or that expired meanwhile, is
    /// not counted).
    fn scan_sync(
        &self,
        operation: &'static str,
        pattern: &str,
        delete: bool,
        each: &mut dyn FnMut(&[String]) -> Result<(), BackendError>,
    ) -> Result<u64, BackendError> {
        let scan = |cursor: u64| scan_step(cursor, pattern);
        let mut count = 0u64;
        if let Conn::Single { .. } = self.inner.conn {
            let mut cursor = 0u64;
            loop {
                let (next, keys): (u64, Vec<String>) =
                    self.with_single(operation, |conn| scan(cursor).query(conn))?;
                each(&keys)?;
                if !delete {
                    count += keys.len() as u64;
                } else if !keys.is_empty() {
                    count += self.with_single(operation, |conn| {
                        Cmd::new().arg("UNLINK").arg(keys).query::<u64>(conn)
                    })?;
                }
                if next == 0 {
                    return Ok(count);
                }
                cursor = next;
            }
        }
        let slots: Value = self.with_bridge(operation, |mut conn| async move {
            let mut cmd = Cmd::new();
            cmd.arg("CLUSTER").arg("SLOTS");
            conn.route_command(cmd, RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random))
                .await
        })?;
        let masters = masters(slots).map_err(|e| self.failed(operation, &e))?;
        for (host, port) in masters {
            let node = move || SingleNodeRoutingInfo::ByAddress {
                host: host.clone(),
                port,
            };
            let mut cursor = 0u64;
            loop {
                let (cmd, route) = (scan(cursor), node());
                let (next, keys): (u64, Vec<String>) =
                    self.with_bridge(operation, move |mut conn| async move {
                        let reply = conn
                            .route_command(cmd, RoutingInfo::SingleNode(route))
                            .await?;
                        Ok(FromRedisValue::from_redis_value(reply)?)
                    })?;
                each(&keys)?;
                if !delete {
                    count += keys.len() as u64;
                } else if !keys.is_empty() {
                    // Keys of one node live in many slots: one UNLINK each, in
                    // one pipeline to that node.
                    let mut pipe = redis::pipe();
                    for key in &keys {
                        pipe.cmd("UNLINK").arg(key);
                    }
                    let (route, n) = (node(), keys.len());
                    count += self.with_bridge(operation, move |mut conn| async move {
                        let mut removed = 0u64;
                        for reply in conn.route_pipeline(pipe, 0, n, route).await? {
                            removed += u64::from_redis_value(reply)?;
                        }
                        Ok(removed)
                    })?;
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(count)
    }
}

/// `(host, port)` of every master of the cluster, from a `CLUSTER SLOTS` reply.
fn masters(reply: Value) -> redis::RedisResult<Vec<(String, u16)>> {
    let malformed =
        || redis::RedisError::from((redis::ErrorKind::Parse, "malformed CLUSTER SLOTS reply"));
    let Value::Array(ranges) = reply else {
        return Err(malformed());
    };
    let mut masters: Vec<(String, u16)> = Vec::new();
    for range in ranges {
        let Value::Array(fields) = range else {
            return Err(malformed());
        };
        let Some(Value::Array(master)) = fields.get(2) else {
            return Err(malformed());
        };
        let (host, port) = match (master.first(), master.get(1)) {
            (Some(host), Some(Value::Int(port))) => (
                String::from_redis_value_ref(host)?,
                u16::try_from(*port).map_err(|_| malformed())?,
            ),
            _ => return Err(malformed()),
        };
        if !masters.contains(&(host.clone(), port)) {
            masters.push((host, port));
        }
    }
    Ok(masters)
}

/// The parsed URL, told not to send `CLIENT SETINFO` on connect (one round
/// trip fewer, and nothing an ACL-restricted user may be refused).
fn connection_info(url: &str) -> redis::RedisResult<ConnectionInfo> {
    let info = url.into_connection_info()?;
    let settings = info.redis_settings().clone().set_skip_set_lib_name();
    Ok(info.set_redis_settings(settings))
}

/// `url` with its password, if it has one, replaced by `***`
/// (`redis://user:***@host:6379/`): how this crate shows URLs in `Debug`
/// output, for tools that print the URL they were given.
pub fn redact_url(url: &str) -> String {
    text::redact_url(url)
}

fn unavailable(reason: &str) -> BackendError {
    BackendError::Unavailable {
        backend: NAME,
        reason: reason.into(),
    }
}

/// `SET key value [PX ms]`; `None` for a TTL under 1 ms (nothing is stored).
fn set_cmd(key: String, value: &[u8], ttl: Option<Duration>) -> Option<Cmd> {
    let mut cmd = Cmd::new();
    cmd.arg("SET").arg(key).arg(value);
    if let Some(ttl) = ttl {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        if ms == 0 {
            return None;
        }
        cmd.arg("PX").arg(ms);
    }
    Some(cmd)
}

/// The channel on which `cache_clear` tells every local tier of `prefix`.
fn invalidation_channel(prefix: &str) -> String {
    format!("{prefix}:invalidate")
}

/// The hash of the shared counters of `namespace`. It never matches the
/// namespace's `SCAN` pattern (no version, no digest).
fn counter_key(prefix: &str, namespace: &str) -> String {
    format!("{prefix}:{namespace}:counters")
}

/// Appends `version` as ten decimal digits, zero-padded (`{:010}`: a `u32`
/// has at most ten), so that keys of one namespace sort and match by position.
/// Written out by hand: `write!` with `{:010}` costs about 650 instructions a
/// call here (its padding goes one `write_char` at a time), 3 % of a Redis hit
/// on the client (scripts/gate).
fn push_version(out: &mut String, version: u32) {
    let mut digits = [b'0'; 10];
    let mut rest = version;
    for digit in digits.iter_mut().rev() {
        // `rest % 10` is below 10: the cast cannot truncate.
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out.extend(digits.iter().map(|&d| char::from(d)));
}

fn get_cmd(key: String) -> Cmd {
    let mut cmd = Cmd::new();
    cmd.arg("GET").arg(key);
    cmd
}

impl StorageBackend for RedisBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn get(&self, key: &StorageKey<'_>) -> Result<Option<Vec<u8>>, BackendError> {
        self.query_sync("get", get_cmd(self.key(key)))
    }

    fn set(
        &self,
        key: &StorageKey<'_>,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<(), BackendError> {
        let Some(cmd) = set_cmd(self.key(key), value, ttl) else {
            return Ok(());
        };
        self.query_sync("set", cmd)
    }

    fn clear(&self, namespace: &str) -> Result<(), BackendError> {
        self.scan_sync(
            "clear",
            &self.namespace_pattern(namespace),
            true,
            &mut |_| Ok(()),
        )?;
        if let Some(tier) = &self.inner.tier {
            tier.invalidate();
            let mut cmd = Cmd::new();
            cmd.arg("PUBLISH")
                .arg(invalidation_channel(&self.inner.prefix))
                .arg(tier.message(namespace));
            self.query_sync::<i64>("clear", cmd)?;
        }
        if let Some(state) = &self.inner.counters {
            state.pending.forget(namespace);
            let mut cmd = Cmd::new();
            cmd.arg("DEL").arg(self.counter_key(namespace));
            self.query_sync::<()>("clear", cmd)?;
        }
        Ok(())
    }

    fn mac_key(&self) -> Option<MacKey> {
        self.inner.mac_key.clone()
    }

    fn tier_state(&self) -> Option<Arc<cache_core::TierState>> {
        self.inner.tier.as_ref().map(|tier| tier.state())
    }

    fn try_lease(&self, key: &StorageKey<'_>) -> Result<Option<u64>, BackendError> {
        let (token, cmd) = self.lease_cmd(key)?;
        let taken: Option<String> = self.query_sync("lease", cmd)?;
        Ok(taken.map(|_| token))
    }

    fn release_lease(&self, key: &StorageKey<'_>, token: u64) -> Result<(), BackendError> {
        self.query_sync::<i64>("lease", self.release_cmd(key, token))
            .map(drop)
    }

    fn lease_poll(&self) -> Duration {
        self.inner.fleet_poll
    }

    fn lease_wait_async(&self) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(self.inner.fleet_poll))
    }

    fn try_lease_async<'a>(
        &'a self,
        key: &'a StorageKey<'a>,
    ) -> BoxFuture<'a, Result<Option<u64>, BackendError>> {
        Box::pin(async move {
            let (token, cmd) = self.lease_cmd(key)?;
            let taken: Option<String> = self.query_async("lease", cmd).await?;
            Ok(taken.map(|_| token))
        })
    }

    fn release_lease_async<'a>(
        &'a self,
        key: &'a StorageKey<'a>,
        token: u64,
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move {
            self.query_async::<i64>("lease", self.release_cmd(key, token))
                .await
                .map(drop)
        })
    }

    fn records_lookups(&self) -> bool {
        self.inner.counters.is_some()
    }

    fn record(&self, namespace: &str, outcome: Lookup) {
        let Some(state) = &self.inner.counters else {
            return;
        };
        state.pending.record(namespace, outcome == Lookup::Hit);
        state.flusher.call_once(|| {
            let prefix = self.inner.prefix.clone();
            // Without the thread, counts still reach Redis by flush_counters.
            let _ = counters::start_flusher(
                &state.pending,
                state.every,
                self.counter_connect(),
                Box::new(move |ns| counter_key(&prefix, ns)),
            );
        });
    }

    fn len(&self, namespace: &str) -> Result<u64, BackendError> {
        self.scan_sync(
            "len",
            &self.namespace_pattern(namespace),
            false,
            &mut |_| Ok(()),
        )
    }

    fn get_async<'a>(
        &'a self,
        key: &'a StorageKey<'a>,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, BackendError>> {
        let cmd = get_cmd(self.key(key));
        Box::pin(self.query_async("get", cmd))
    }

    fn set_async<'a>(
        &'a self,
        key: &'a StorageKey<'a>,
        value: &'a [u8],
        ttl: Option<Duration>,
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        let cmd = set_cmd(self.key(key), value, ttl);
        Box::pin(async move {
            match cmd {
                Some(cmd) => self.query_async("set", cmd).await,
                None => Ok(()),
            }
        })
    }
}

#[cfg(test)]
mod tests;
