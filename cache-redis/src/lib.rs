//! A Redis backend for `cache-core`'s `#[ttl_cache]`.
//!
//! ```no_run
//! use std::sync::{Arc, LazyLock};
//! use cache_core::ttl_cache;
//! use cache_redis::RedisBackend;
//!
//! static REDIS: LazyLock<Arc<RedisBackend>> = LazyLock::new(|| {
//!     Arc::new(RedisBackend::builder("redis://127.0.0.1:6379/").prefix("app").build().unwrap())
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
//! - Keys: `<prefix>:<identity>:v<version, 10 digits>:<64 hex digits of blake3>`.
//!   The fixed-width tail lets `cache_clear` match exactly one cache's keys: an
//!   identity that is a prefix of another (`ns`, `ns2`, `a::f`, `a::f::g`) or that
//!   contains glob characters (`*`, `?`, `[`) never matches another's keys.
//! - Values: the checked envelope of `cache-core` (MessagePack by default).
//! - Writes: one `SET key value PX ms`; a TTL under 1 ms stores nothing.
//! - Failures are misses (fail-open): every call has a time budget
//!   ([`RedisBackendBuilder::op_timeout`], default 250 ms), and after
//!   [`RedisBackendBuilder::breaker_threshold`] consecutive failures a circuit
//!   breaker refuses calls for [`RedisBackendBuilder::breaker_cooldown`] without
//!   touching the network, so an outage does not add a timeout to every call.
//! - Connections are lazy (the process starts while Redis is down) and re-made
//!   after an error, so a restarted server is picked up. Async calls share one
//!   multiplexed connection ([`redis::aio::ConnectionManager`]); sync calls share
//!   one blocking connection.
//! - `cache_clear` and `current_size` walk the keyspace with `SCAN … MATCH`
//!   (every batch, until the cursor returns to 0): O(keys in the database).

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use cache_core::{BackendError, BoxFuture, StorageBackend, StorageKey};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Cmd, Connection, IntoConnectionInfo};

const NAME: &str = "redis";

/// A configuration error found by [`RedisBackendBuilder::build`].
#[derive(Debug, thiserror::Error)]
pub enum RedisConfigError {
    /// The URL could not be parsed (the message never contains the password).
    #[error("invalid Redis URL: {0}")]
    Url(String),
}

/// Builds a [`RedisBackend`]. Nothing connects until the first call.
#[derive(Clone)]
pub struct RedisBackendBuilder {
    url: String,
    prefix: String,
    op_timeout: Duration,
    breaker_threshold: u32,
    breaker_cooldown: Duration,
}

impl RedisBackendBuilder {
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

    /// The backend. Validates the URL; does not connect.
    ///
    /// # Errors
    ///
    /// [`RedisConfigError::Url`] when the URL is not a valid Redis URL.
    pub fn build(self) -> Result<RedisBackend, RedisConfigError> {
        let info = self
            .url
            .as_str()
            .into_connection_info()
            .map_err(|e| RedisConfigError::Url(redact(&e.to_string(), &self.url)))?;
        let client = Client::open(info)
            .map_err(|e| RedisConfigError::Url(redact(&e.to_string(), &self.url)))?;
        Ok(RedisBackend {
            client,
            display_url: redact_url(&self.url),
            prefix: self.prefix,
            op_timeout: self.op_timeout,
            sync_conn: Mutex::new(None),
            async_conn: OnceLock::new(),
            breaker: Breaker::new(self.breaker_threshold, self.breaker_cooldown),
        })
    }
}

impl fmt::Debug for RedisBackendBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBackendBuilder")
            .field("url", &redact_url(&self.url))
            .field("prefix", &self.prefix)
            .field("op_timeout", &self.op_timeout)
            .finish_non_exhaustive()
    }
}

/// Results of `#[ttl_cache]` functions stored in Redis. Plug it in with
/// `backend = …` naming an `Arc<RedisBackend>` (for example in a `LazyLock`).
pub struct RedisBackend {
    client: Client,
    display_url: String,
    prefix: String,
    op_timeout: Duration,
    sync_conn: Mutex<Option<Connection>>,
    async_conn: OnceLock<ConnectionManager>,
    breaker: Breaker,
}

impl fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBackend")
            .field("url", &self.display_url)
            .field("prefix", &self.prefix)
            .field("op_timeout", &self.op_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisBackend {
    /// A builder for the server at `url` (`redis://[user:password@]host:port/db`).
    pub fn builder(url: impl Into<String>) -> RedisBackendBuilder {
        RedisBackendBuilder {
            url: url.into(),
            prefix: "cache".into(),
            op_timeout: Duration::from_millis(250),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(1),
        }
    }

    /// The key of one stored result.
    pub fn key(&self, key: &StorageKey<'_>) -> String {
        format!(
            "{}:{}:v{:010}:{}",
            self.prefix,
            key.namespace,
            key.version,
            key.digest.to_hex()
        )
    }

    /// The `SCAN MATCH` pattern of every key of `namespace`, whatever its version.
    pub fn namespace_pattern(&self, namespace: &str) -> String {
        format!(
            "{}:{}:v??????????:{}",
            glob_escape(&self.prefix),
            glob_escape(namespace),
            "?".repeat(64)
        )
    }

    /// Runs `f` on the shared blocking connection, connecting first if needed,
    /// with the breaker and the time budget; a failed connection is dropped so
    /// the next call reconnects.
    fn with_sync<T>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&mut Connection) -> redis::RedisResult<T>,
    ) -> Result<T, BackendError> {
        self.breaker.admit()?;
        let mut guard = self.sync_conn.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            let conn = self
                .client
                .get_connection_with_timeout(self.op_timeout)
                .and_then(|conn| {
                    conn.set_read_timeout(Some(self.op_timeout))?;
                    conn.set_write_timeout(Some(self.op_timeout))?;
                    Ok(conn)
                })
                .map_err(|e| self.failed(operation, e))?;
            *guard = Some(conn);
        }
        let Some(conn) = guard.as_mut() else {
            return Err(self.unavailable("no connection"));
        };
        match f(conn) {
            Ok(value) => {
                self.breaker.success();
                Ok(value)
            }
            Err(error) => {
                *guard = None;
                Err(self.failed(operation, error))
            }
        }
    }

    /// The async form of [`with_sync`](Self::with_sync), on the multiplexed connection.
    async fn with_async<T, F, Fut>(&self, operation: &'static str, f: F) -> Result<T, BackendError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        self.breaker.admit()?;
        let conn = match self.async_conn.get() {
            Some(conn) => conn.clone(),
            None => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.op_timeout))
                    .set_response_timeout(Some(self.op_timeout))
                    .set_number_of_retries(1);
                let conn = self
                    .client
                    .get_connection_manager_lazy(config)
                    .map_err(|e| self.failed(operation, e))?;
                self.async_conn.get_or_init(|| conn).clone()
            }
        };
        match tokio::time::timeout(self.op_timeout, f(conn)).await {
            Ok(Ok(value)) => {
                self.breaker.success();
                Ok(value)
            }
            Ok(Err(error)) => Err(self.failed(operation, error)),
            Err(_) => {
                self.breaker.failure();
                Err(BackendError::Timeout {
                    backend: NAME,
                    operation,
                    after: self.op_timeout,
                })
            }
        }
    }

    fn failed(&self, operation: &'static str, error: redis::RedisError) -> BackendError {
        self.breaker.failure();
        let message = redact(&error.to_string(), &self.display_url);
        BackendError::Failed {
            backend: NAME,
            operation,
            source: message.into(),
        }
    }

    fn unavailable(&self, reason: &str) -> BackendError {
        BackendError::Unavailable {
            backend: NAME,
            reason: reason.into(),
        }
    }

    /// Every key of `namespace`, batch by batch until the cursor returns to 0.
    fn scan_sync(
        &self,
        namespace: &str,
        mut each: impl FnMut(&mut Connection, Vec<String>) -> redis::RedisResult<()>,
    ) -> Result<(), BackendError> {
        let pattern = self.namespace_pattern(namespace);
        self.with_sync("scan", |conn| {
            let mut cursor: u64 = 0;
            loop {
                let (next, keys): (u64, Vec<String>) = Cmd::new()
                    .arg("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1000)
                    .query(conn)?;
                each(conn, keys)?;
                if next == 0 {
                    return Ok(());
                }
                cursor = next;
            }
        })
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

impl StorageBackend for RedisBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn get(&self, key: &StorageKey<'_>) -> Result<Option<Vec<u8>>, BackendError> {
        let key = self.key(key);
        self.with_sync("get", |conn| Cmd::new().arg("GET").arg(&key).query(conn))
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
        self.with_sync("set", |conn| cmd.query(conn))
    }

    fn clear(&self, namespace: &str) -> Result<(), BackendError> {
        self.scan_sync(namespace, |conn, keys| {
            if keys.is_empty() {
                return Ok(());
            }
            Cmd::new().arg("UNLINK").arg(keys).query::<()>(conn)
        })
    }

    fn len(&self, namespace: &str) -> Result<u64, BackendError> {
        let mut count = 0u64;
        self.scan_sync(namespace, |_, keys| {
            count += keys.len() as u64;
            Ok(())
        })?;
        Ok(count)
    }

    fn get_async<'a>(
        &'a self,
        key: &'a StorageKey<'a>,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, BackendError>> {
        let key = self.key(key);
        Box::pin(self.with_async("get", move |mut conn| async move {
            Cmd::new().arg("GET").arg(&key).query_async(&mut conn).await
        }))
    }

    fn set_async<'a>(
        &'a self,
        key: &'a StorageKey<'a>,
        value: &'a [u8],
        ttl: Option<Duration>,
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        let cmd = set_cmd(self.key(key), value, ttl);
        Box::pin(async move {
            let Some(cmd) = cmd else {
                return Ok(());
            };
            self.with_async("set", move |mut conn| async move {
                cmd.query_async(&mut conn).await
            })
            .await
        })
    }
}

/// Consecutive-failure circuit breaker: open for `cooldown` after `threshold`
/// failures in a row; then one call at a time is let through until one succeeds.
struct Breaker {
    threshold: u32,
    cooldown: Duration,
    failures: AtomicU32,
    /// Nanoseconds since `epoch` until which calls are refused.
    open_until: AtomicU64,
    epoch: Instant,
}

impl Breaker {
    fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold,
            cooldown,
            failures: AtomicU32::new(0),
            open_until: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn admit(&self) -> Result<(), BackendError> {
        let until = self.open_until.load(Ordering::Acquire);
        if until == 0 {
            return Ok(());
        }
        let now = self.now();
        if now < until {
            return Err(BackendError::Unavailable {
                backend: NAME,
                reason: "circuit breaker open after repeated failures".into(),
            });
        }
        // Half-open: let this caller try; others wait for a new cooldown.
        let next = now.saturating_add(u64::try_from(self.cooldown.as_nanos()).unwrap_or(u64::MAX));
        match self
            .open_until
            .compare_exchange(until, next, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Ok(()),
            Err(_) => Err(BackendError::Unavailable {
                backend: NAME,
                reason: "circuit breaker open after repeated failures".into(),
            }),
        }
    }

    fn success(&self) {
        self.failures.store(0, Ordering::Relaxed);
        self.open_until.store(0, Ordering::Release);
    }

    fn failure(&self) {
        let failures = self
            .failures
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        if failures >= self.threshold {
            let until = self
                .now()
                .saturating_add(u64::try_from(self.cooldown.as_nanos()).unwrap_or(u64::MAX))
                .max(1);
            self.open_until.store(until, Ordering::Release);
        }
    }
}

/// `*`, `?`, `[`, `]` and `\` escaped for a `MATCH` pattern.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The URL with its password replaced by `***`.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            if userinfo.contains(':') {
                format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
            } else {
                url.to_owned()
            }
        }
        _ => url.to_owned(),
    }
}

/// `message` with any occurrence of `url`'s password removed.
fn redact(message: &str, url: &str) -> String {
    let password = url
        .find("://")
        .zip(url.rfind('@'))
        .and_then(|(scheme, at)| url.get(scheme + 3..at))
        .and_then(|userinfo| userinfo.split_once(':').map(|(_, password)| password))
        .filter(|password| !password.is_empty() && *password != "***");
    match password {
        Some(password) => message.replace(password, "***"),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_errors_never_show_the_password() {
        assert_eq!(
            redact_url("redis://app:s3cret@127.0.0.1:6379/2"),
            "redis://app:***@127.0.0.1:6379/2"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379/"),
            "redis://127.0.0.1:6379/"
        );
        assert_eq!(
            redact("auth s3cret failed", "redis://app:s3cret@h/"),
            "auth *** failed"
        );
        let backend = RedisBackend::builder("redis://app:s3cret@127.0.0.1:1/")
            .build()
            .unwrap();
        assert!(!format!("{backend:?}").contains("s3cret"));
        let builder = RedisBackend::builder("redis://app:s3cret@127.0.0.1:1/");
        assert!(!format!("{builder:?}").contains("s3cret"));
    }

    #[test]
    fn namespace_patterns_match_only_their_own_keys() {
        let backend = RedisBackend::builder("redis://127.0.0.1:1/")
            .prefix("p")
            .build()
            .unwrap();
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
        let pattern = backend.namespace_pattern("ns");
        assert!(pattern.starts_with("p:ns:v??????????:"));
        assert_eq!(pattern.len(), "p:ns:v??????????:".len() + 64);
    }

    #[test]
    fn ttls_under_a_millisecond_store_nothing() {
        assert!(set_cmd("k".into(), b"v", Some(Duration::from_micros(999))).is_none());
        assert!(set_cmd("k".into(), b"v", Some(Duration::from_millis(1))).is_some());
        assert!(set_cmd("k".into(), b"v", None).is_some());
    }
}
