//! Distributed locks on Redis: see [`RedisLock`] (the documentation, local
//! locks included, lives there since this module is private).

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

use cache_core::BackendError;
use redis::{Cmd, Value};

use crate::RedisBackend;

/// Deletes the key if it still holds our token: `1` if deleted, `0` otherwise.
const RELEASE: &str = "\
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0";

/// Adds `ARGV[2]` ms to the key's remaining time if it still holds our token.
const EXTEND: &str = "\
if redis.call('get', KEYS[1]) ~= ARGV[1] then
    return 0
end
local left = redis.call('pttl', KEYS[1])
if left < 0 then
    left = 0
end
redis.call('pexpire', KEYS[1], left + tonumber(ARGV[2]))
return 1";

/// Sets the key's remaining time to `ARGV[2]` ms if it still holds our token.
const RENEW: &str = "\
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0";

/// Why a lock operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// The lock was held by someone else for the whole blocking timeout (or,
    /// for `try_acquire`, at the one attempt). Nothing ran under the lock.
    #[error("lock `{name}`: not acquired within {waited:?} (held by another owner)")]
    Timeout {
        /// The lock's name.
        name: String,
        /// How long the caller waited.
        waited: Duration,
    },
    /// The lock is no longer ours: it expired (and may have been taken by
    /// another owner, whose key was left untouched).
    #[error("lock `{name}`: not held by this owner (it expired, and may have been taken since)")]
    NotOwner {
        /// The lock's name.
        name: String,
    },
    /// Redis could not be reached, answered with an error, or exceeded the
    /// backend's time budget.
    #[error("lock: {0}")]
    Backend(#[from] BackendError),
    /// The operating system gave no random bytes for the lock's token.
    #[error("lock `{name}`: no random token: {reason}")]
    Entropy {
        /// The lock's name.
        name: String,
        /// The OS error.
        reason: String,
    },
}

impl RedisBackend {
    /// The distributed lock `name` (key `<prefix>:lock:<name>`), with the
    /// default settings: `timeout` 5 s, `sleep` 20 ms, `blocking_timeout` 10 s.
    /// Building it touches nothing; see [`RedisLock`].
    pub fn lock(&self, name: impl Into<String>) -> RedisLock {
        let name = name.into();
        RedisLock {
            backend: self.clone(),
            key: format!("{}:lock:{}", self.inner.prefix, name),
            name,
            timeout: RedisLock::DEFAULT_TIMEOUT,
            sleep: RedisLock::DEFAULT_SLEEP,
            blocking_timeout: RedisLock::DEFAULT_BLOCKING_TIMEOUT,
        }
    }

    /// Runs `critical` while holding the lock `name` (default settings) and
    /// releases it afterwards, even if `critical` panics.
    ///
    /// # Errors
    ///
    /// [`LockError::Timeout`] when the lock stayed taken for 10 s: `critical`
    /// did **not** run. [`LockError::Backend`] when Redis failed before
    /// `critical` ran. [`LockError::NotOwner`] when `critical` ran but the lock
    /// had expired before its release (the result is then lost: raise
    /// `timeout` with [`RedisBackend::lock`] and [`RedisLock::with`]).
    pub fn with_lock<T>(
        &self,
        name: impl Into<String>,
        critical: impl FnOnce() -> T,
    ) -> Result<T, LockError> {
        self.lock(name).with(critical)
    }

    /// [`with_lock`](Self::with_lock) for async code: awaits `critical` while
    /// holding the lock `name`.
    ///
    /// # Errors
    ///
    /// As [`with_lock`](Self::with_lock).
    pub async fn with_lock_async<F: Future>(
        &self,
        name: impl Into<String>,
        critical: F,
    ) -> Result<F::Output, LockError> {
        self.lock(name).with_async(critical).await
    }
}

/// A distributed lock on Redis, named and configured; acquire it to get a
/// [`LockGuard`]. Made by [`RedisBackend::lock`]; a cheap clone.
///
/// # Protocol
///
/// [`RedisBackend::lock`] names a lock; its key is `<prefix>:lock:<name>`, one
/// key, so it works the same on a single server and on a cluster (the key
/// lives on the master that owns its slot).
///
/// - Acquire: `SET key token NX PX timeout`, retried every
///   [`sleep`](RedisLock::sleep) (default 20 ms) until
///   [`blocking_timeout`](RedisLock::blocking_timeout) (default 10 s) has passed.
///   The token is 128 random bits from the OS (`getrandom`), so no two holders
///   ever share one.
/// - The key expires after [`timeout`](RedisLock::timeout) (default 5 s): a
///   holder that crashes or hangs does not keep the lock forever. A holder that
///   needs longer calls [`LockGuard::extend`] or [`LockGuard::renew`].
/// - Release, extend and renew are Lua scripts (`EVAL`) that act only if the
///   key still holds our token: a holder whose lock expired and was taken by
///   someone else gets [`LockError::NotOwner`], and the other holder's key is
///   left alone.
/// - When the lock cannot be had within the blocking timeout the caller gets
///   [`LockError::Timeout`]; [`RedisLock::with`] and [`RedisBackend::with_lock`]
///   then do **not** run the critical section (the Python original ran it
///   unlocked).
/// - A failing Redis call (down, breaker open, over the backend's
///   [`op_timeout`](crate::RedisBackendBuilder::op_timeout)) is returned at once
///   as [`LockError::Backend`]; a lock is never fail-open. A `SET` that timed
///   out on our side may still have landed: that key then expires after
///   `timeout`.
/// - The calls go through the backend's connections, time budget and circuit
///   breaker. The scripts are sent with `EVAL` (not `EVALSHA`): they are a few
///   hundred bytes, Redis caches them by digest anyway, and it avoids a
///   `NOSCRIPT` round trip (and loading on every master of a cluster).
///
/// # Releasing: the guard
///
/// A [`LockGuard`] releases the lock when dropped, or explicitly with
/// [`LockGuard::release`] (sync) / [`LockGuard::release_async`] (async), which
/// also report [`LockError::NotOwner`].
///
/// `Drop` cannot `.await`, so what it does depends on how the guard was made:
///
/// - a guard from [`RedisLock::acquire`] / [`RedisLock::try_acquire`] (sync)
///   releases before `drop` returns (one blocking round trip, at most the
///   backend's `op_timeout`), like a `std::sync::MutexGuard`;
/// - a guard from [`RedisLock::acquire_async`] / [`RedisLock::try_acquire_async`]
///   dropped inside a tokio runtime spawns the release on that runtime and
///   returns at once (it never blocks a worker thread); the key is deleted
///   shortly after. Call [`LockGuard::release_async`] to know it is done. If
///   the runtime shuts down first, the key expires after `timeout`. Dropped
///   outside any runtime, it releases synchronously.
///
/// ```no_run
/// use std::time::Duration;
/// use cache_redis::{LockError, RedisBackend};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let redis = RedisBackend::builder("redis://127.0.0.1:6379/").prefix("app").build()?;
///
/// // Runs the closure only while holding the lock.
/// match redis.with_lock("nightly-report", || 42) {
///     Ok(value) => assert_eq!(value, 42),
///     Err(LockError::Timeout { .. }) => { /* someone else is running it */ }
///     Err(other) => return Err(other.into()),
/// }
///
/// // Or hold a guard, with other settings.
/// let guard = redis
///     .lock("rebuild-index")
///     .timeout(Duration::from_secs(30))
///     .blocking_timeout(Duration::from_secs(1))
///     .acquire()?;
/// guard.extend(Duration::from_secs(30))?; // a long job asks for more time
/// guard.release()?; // or just drop it
/// # Ok(())
/// # }
/// ```
///
/// # Local awaitable locks: use `tokio::sync::Mutex`
///
/// An in-process lock that async code awaits, that sync code releases by
/// dropping its guard, and whose cancelled acquisition never leaks a held lock
/// (Pyot's `SealLock`) is exactly [`tokio::sync::Mutex`], so this crate does
/// not add one:
///
/// - [`Mutex::lock`](tokio::sync::Mutex::lock) (or
///   [`lock_owned`](tokio::sync::Mutex::lock_owned) for a `'static`
///   [`OwnedMutexGuard`](tokio::sync::OwnedMutexGuard)) is awaitable and fair
///   (FIFO);
/// - a `lock()` future dropped before it completes (a `timeout`, a `select!`
///   branch that lost, an aborted task) never holds the lock: tokio documents
///   the method as cancel safe, and the permit it may have been handed is given
///   back to the next waiter;
/// - the guard's `Drop` is synchronous, so sync code (a callback, a thread the
///   guard was moved to, a `Drop` impl) releases it; no runtime is needed for
///   that. [`blocking_lock`](tokio::sync::Mutex::blocking_lock) takes it from
///   sync code outside a runtime.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tokio::sync::Mutex;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let lock = Arc::new(Mutex::new(()));
/// let held = Arc::clone(&lock).lock_owned().await;
///
/// // A waiter that gives up: its dropped future holds nothing.
/// let gave_up = tokio::time::timeout(Duration::from_millis(10), lock.lock()).await;
/// assert!(gave_up.is_err());
///
/// // Released from sync code: a plain thread drops the guard.
/// std::thread::spawn(move || drop(held)).join().unwrap();
/// assert!(lock.try_lock().is_ok());
/// # }
/// ```
#[derive(Clone)]
pub struct RedisLock {
    backend: RedisBackend,
    name: String,
    key: String,
    timeout: Duration,
    sleep: Duration,
    blocking_timeout: Duration,
}

impl fmt::Debug for RedisLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLock")
            .field("key", &self.key)
            .field("timeout", &self.timeout)
            .field("sleep", &self.sleep)
            .field("blocking_timeout", &self.blocking_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisLock {
    /// The default [`timeout`](Self::timeout): 5 s.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
    /// The default [`sleep`](Self::sleep): 20 ms.
    pub const DEFAULT_SLEEP: Duration = Duration::from_millis(20);
    /// The default [`blocking_timeout`](Self::blocking_timeout): 10 s.
    pub const DEFAULT_BLOCKING_TIMEOUT: Duration = Duration::from_secs(10);

    /// How long the lock lives unless released, extended or renewed (the key's
    /// `PX`; rounded down to whole milliseconds, at least 1 ms).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long to wait between two attempts while the lock is taken.
    #[must_use]
    pub fn sleep(mut self, sleep: Duration) -> Self {
        self.sleep = sleep;
        self
    }

    /// How long [`acquire`](Self::acquire) keeps trying before
    /// [`LockError::Timeout`]. Zero: one attempt.
    #[must_use]
    pub fn blocking_timeout(mut self, blocking_timeout: Duration) -> Self {
        self.blocking_timeout = blocking_timeout;
        self
    }

    /// The lock's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The lock's Redis key, `<prefix>:lock:<name>`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Takes the lock, retrying every `sleep` for up to `blocking_timeout`;
    /// blocks the calling thread. The guard releases it when dropped.
    ///
    /// # Errors
    ///
    /// [`LockError::Timeout`] when it stayed taken; [`LockError::Backend`] when
    /// a Redis call failed.
    pub fn acquire(&self) -> Result<LockGuard, LockError> {
        let token = self.token()?;
        let start = Instant::now();
        loop {
            if self
                .backend
                .query_sync::<Value>("lock", self.set_cmd(&token))?
                != Value::Nil
            {
                return Ok(self.guard(token, false));
            }
            let waited = start.elapsed();
            if waited >= self.blocking_timeout {
                return Err(self.timed_out(waited));
            }
            std::thread::sleep(self.sleep.min(self.blocking_timeout - waited));
        }
    }

    /// [`acquire`](Self::acquire) for async code: waits with
    /// `tokio::time::sleep`, never blocking the runtime. Cancel safe as far as
    /// this process goes: dropping the future between attempts holds nothing;
    /// dropped during the `SET` round trip, a key that landed expires after
    /// `timeout`.
    ///
    /// # Errors
    ///
    /// As [`acquire`](Self::acquire).
    pub async fn acquire_async(&self) -> Result<LockGuard, LockError> {
        let token = self.token()?;
        let start = Instant::now();
        loop {
            let reply: Value = self
                .backend
                .query_async("lock", self.set_cmd(&token))
                .await?;
            if reply != Value::Nil {
                return Ok(self.guard(token, true));
            }
            let waited = start.elapsed();
            if waited >= self.blocking_timeout {
                return Err(self.timed_out(waited));
            }
            tokio::time::sleep(self.sleep.min(self.blocking_timeout - waited)).await;
        }
    }

    /// One attempt, without waiting: `Ok(None)` when the lock is taken.
    ///
    /// # Errors
    ///
    /// [`LockError::Backend`] when the Redis call failed.
    pub fn try_acquire(&self) -> Result<Option<LockGuard>, LockError> {
        let token = self.token()?;
        let reply: Value = self.backend.query_sync("lock", self.set_cmd(&token))?;
        Ok((reply != Value::Nil).then(|| self.guard(token, false)))
    }

    /// [`try_acquire`](Self::try_acquire) for async code.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    pub async fn try_acquire_async(&self) -> Result<Option<LockGuard>, LockError> {
        let token = self.token()?;
        let reply: Value = self
            .backend
            .query_async("lock", self.set_cmd(&token))
            .await?;
        Ok((reply != Value::Nil).then(|| self.guard(token, true)))
    }

    /// Whether anyone holds the lock now (`EXISTS`).
    ///
    /// # Errors
    ///
    /// [`LockError::Backend`] when the Redis call failed.
    pub fn is_locked(&self) -> Result<bool, LockError> {
        let mut cmd = Cmd::new();
        cmd.arg("EXISTS").arg(&self.key);
        Ok(self.backend.query_sync::<i64>("lock", cmd)? == 1)
    }

    /// Runs `critical` while holding the lock and releases it afterwards (also
    /// when `critical` panics: the guard is dropped while unwinding).
    ///
    /// # Errors
    ///
    /// [`LockError::Timeout`] when the lock stayed taken: `critical` did
    /// **not** run. [`LockError::Backend`] when Redis failed before it ran.
    /// [`LockError::NotOwner`] when it ran but the lock had expired before the
    /// release (its result is dropped: the section was not exclusive).
    pub fn with<T>(&self, critical: impl FnOnce() -> T) -> Result<T, LockError> {
        let guard = self.acquire()?;
        let value = critical();
        guard.release()?;
        Ok(value)
    }

    /// [`with`](Self::with) for async code: awaits `critical` while holding
    /// the lock. If the returned future is dropped midway, the guard's `Drop`
    /// releases the lock.
    ///
    /// # Errors
    ///
    /// As [`with`](Self::with).
    pub async fn with_async<F: Future>(&self, critical: F) -> Result<F::Output, LockError> {
        let guard = self.acquire_async().await?;
        let value = critical.await;
        guard.release_async().await?;
        Ok(value)
    }

    fn set_cmd(&self, token: &str) -> Cmd {
        let mut cmd = Cmd::new();
        cmd.arg("SET")
            .arg(&self.key)
            .arg(token)
            .arg("NX")
            .arg("PX")
            .arg(millis(self.timeout));
        cmd
    }

    /// 128 random bits, as 32 hex digits.
    fn token(&self) -> Result<String, LockError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| LockError::Entropy {
            name: self.name.clone(),
            reason: e.to_string(),
        })?;
        Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    fn guard(&self, token: String, from_async: bool) -> LockGuard {
        LockGuard {
            lock: self.clone(),
            token,
            from_async,
            released: false,
        }
    }

    fn timed_out(&self, waited: Duration) -> LockError {
        LockError::Timeout {
            name: self.name.clone(),
            waited,
        }
    }
}

/// Whole milliseconds, at least 1 (`PX 0` is an error).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// The `EVAL` of one of the scripts on the lock's key.
fn eval(script: &str, key: &str, token: &str, ms: Option<u64>) -> Cmd {
    let mut cmd = Cmd::new();
    cmd.arg("EVAL").arg(script).arg(1).arg(key).arg(token);
    if let Some(ms) = ms {
        cmd.arg(ms);
    }
    cmd
}

/// A held [`RedisLock`]; releases it when dropped (see the
/// [`RedisLock` documentation](RedisLock#releasing-the-guard) for how `Drop`
/// behaves in sync and async code).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard {
    lock: RedisLock,
    token: String,
    /// Made by an async acquire: `Drop` spawns the release instead of blocking.
    from_async: bool,
    released: bool,
}

impl fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("key", &self.lock.key)
            .field("from_async", &self.from_async)
            .finish_non_exhaustive()
    }
}

impl LockGuard {
    /// The lock's name.
    pub fn name(&self) -> &str {
        &self.lock.name
    }

    /// Whether the lock is still ours (the key holds our token).
    ///
    /// # Errors
    ///
    /// [`LockError::Backend`] when the Redis call failed.
    pub fn is_held(&self) -> Result<bool, LockError> {
        let reply: Option<String> = self.lock.backend.query_sync("lock", self.get_cmd())?;
        Ok(reply.as_deref() == Some(&self.token))
    }

    /// [`is_held`](Self::is_held) for async code.
    ///
    /// # Errors
    ///
    /// As [`is_held`](Self::is_held).
    pub async fn is_held_async(&self) -> Result<bool, LockError> {
        let reply: Option<String> = self
            .lock
            .backend
            .query_async("lock", self.get_cmd())
            .await?;
        Ok(reply.as_deref() == Some(&self.token))
    }

    /// Adds `by` to the lock's remaining time, if it is still ours.
    ///
    /// # Errors
    ///
    /// [`LockError::NotOwner`] when it expired (nothing is changed);
    /// [`LockError::Backend`] when the Redis call failed.
    pub fn extend(&self, by: Duration) -> Result<(), LockError> {
        self.sync_script(EXTEND, Some(millis(by)))
    }

    /// [`extend`](Self::extend) for async code.
    ///
    /// # Errors
    ///
    /// As [`extend`](Self::extend).
    pub async fn extend_async(&self, by: Duration) -> Result<(), LockError> {
        self.async_script(EXTEND, Some(millis(by))).await
    }

    /// Resets the lock's remaining time to its full `timeout`, if it is still
    /// ours (a heartbeat for long holders).
    ///
    /// # Errors
    ///
    /// As [`extend`](Self::extend).
    pub fn renew(&self) -> Result<(), LockError> {
        self.sync_script(RENEW, Some(millis(self.lock.timeout)))
    }

    /// [`renew`](Self::renew) for async code.
    ///
    /// # Errors
    ///
    /// As [`extend`](Self::extend).
    pub async fn renew_async(&self) -> Result<(), LockError> {
        self.async_script(RENEW, Some(millis(self.lock.timeout)))
            .await
    }

    /// Releases the lock now (blocking round trip).
    ///
    /// # Errors
    ///
    /// [`LockError::NotOwner`] when it had expired: whoever holds it now keeps
    /// it. [`LockError::Backend`] when the Redis call failed (the key then
    /// expires after `timeout`).
    pub fn release(mut self) -> Result<(), LockError> {
        self.released = true;
        self.sync_script(RELEASE, None)
    }

    /// [`release`](Self::release) for async code.
    ///
    /// # Errors
    ///
    /// As [`release`](Self::release).
    pub async fn release_async(mut self) -> Result<(), LockError> {
        self.released = true;
        self.async_script(RELEASE, None).await
    }

    fn get_cmd(&self) -> Cmd {
        let mut cmd = Cmd::new();
        cmd.arg("GET").arg(&self.lock.key);
        cmd
    }

    fn sync_script(&self, script: &str, ms: Option<u64>) -> Result<(), LockError> {
        let cmd = eval(script, &self.lock.key, &self.token, ms);
        let done: i64 = self.lock.backend.query_sync("lock", cmd)?;
        self.owned(done)
    }

    async fn async_script(&self, script: &str, ms: Option<u64>) -> Result<(), LockError> {
        let cmd = eval(script, &self.lock.key, &self.token, ms);
        let done: i64 = self.lock.backend.query_async("lock", cmd).await?;
        self.owned(done)
    }

    fn owned(&self, done: i64) -> Result<(), LockError> {
        if done == 1 {
            Ok(())
        } else {
            Err(LockError::NotOwner {
                name: self.lock.name.clone(),
            })
        }
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        // Errors are dropped: an unreleased key expires after `timeout`.
        if self.from_async
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let backend = self.lock.backend.clone();
            let cmd = eval(RELEASE, &self.lock.key, &self.token, None);
            runtime.spawn(async move {
                let _ = backend.query_async::<i64>("lock", cmd).await;
            });
            return;
        }
        let _ = self.sync_script(RELEASE, None);
    }
}
