//! A typed map stored in Redis under a prefix, read and written in batches
//! (Pyot's `RedisDefaultDict`): [`RedisMap`].

use std::fmt::{self, Display};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use cache_core::codec::{Codec, CodecError, MessagePack};
use cache_core::{BackendError, BoxFuture, StorageBackend};
use redis::cluster_routing::Slot;
use redis::{Cmd, Pipeline, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{AsyncConn, RedisBackend};

/// What can go wrong with a [`RedisMap`] call. A value that is stored but
/// cannot be decoded (corrupt, truncated, written for another type) is not an
/// error: it is a miss, counted by [`RedisMap::decode_errors`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// Redis could not be reached or answered with an error (including a
    /// timeout of the backend's time budget or an open circuit breaker).
    #[error("redis map `{map}`: {source}")]
    Backend {
        /// The map's name.
        map: String,
        /// The backend's error (its message never contains a password).
        #[source]
        source: BackendError,
    },
    /// A value could not be serialized (or is larger than the envelope allows).
    #[error("redis map `{map}`: cannot encode the value of `{key}`: {source}")]
    Encode {
        /// The map's name.
        map: String,
        /// The Redis key the value was meant for.
        key: String,
        /// The codec's error.
        #[source]
        source: CodecError,
    },
    /// Redis answered with a reply of an unexpected shape (for
    /// [`RedisMap::decode`]: not the reply of the map's own command), or a
    /// command of a pipeline failed.
    #[error("redis map `{map}`: unexpected reply to {operation}: {reply}")]
    Reply {
        /// The map's name.
        map: String,
        /// The command that got the reply.
        operation: &'static str,
        /// The reply, shortened.
        reply: String,
    },
    /// `get_or_default`/`get_many_or_default` on a map built without
    /// [`RedisMap::with_default`] or [`RedisMap::with_default_async`].
    #[error("redis map `{map}` has no default producer (see `with_default`)")]
    NoDefault {
        /// The map's name.
        map: String,
    },
    /// A sync `get_or_default`/`get_many_or_default` on a map whose producer
    /// is async: use the `_async` forms.
    #[error(
        "redis map `{map}` has an async default producer: use `get_or_default_async` \
         or `get_many_or_default_async`"
    )]
    AsyncDefault {
        /// The map's name.
        map: String,
    },
}

/// The producer of missing values.
enum Producer<K, V> {
    Sync(Arc<dyn Fn(&K) -> V + Send + Sync>),
    Async(Arc<dyn Fn(K) -> BoxFuture<'static, V> + Send + Sync>),
}

impl<K, V> Clone for Producer<K, V> {
    fn clone(&self) -> Self {
        match self {
            Self::Sync(f) => Self::Sync(Arc::clone(f)),
            Self::Async(f) => Self::Async(Arc::clone(f)),
        }
    }
}

/// A typed map stored in Redis (or a Redis Cluster) through a
/// [`RedisBackend`]: keys `<prefix>:<name>:<key>` (the key's `Display` form,
/// readable with `redis-cli`), values in `cache-core`'s checked envelope
/// (MessagePack), each written with `SET … PX <ttl>`.
///
/// ```no_run
/// use std::time::Duration;
/// use cache_redis::{RedisBackend, RedisMap};
///
/// let redis = RedisBackend::builder("redis://127.0.0.1:6379/").prefix("app").build()?;
/// let names: RedisMap<u64, String> =
///     RedisMap::new(&redis, "names").ttl(Duration::from_secs(600));
/// names.set(&1, &"ada".to_string())?;
/// names.set_many(&[(2, "bob".to_string()), (3, "cy".to_string())])?;
/// // One MGET (on a cluster: one per hash slot, sent together).
/// assert_eq!(
///     names.get_many(&[1, 2, 4])?,
///     vec![Some("ada".to_string()), Some("bob".to_string()), None]
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// - `K: Display` rather than `PersistentHash`: the key in Redis is the
///   key's text (`app:names:42`), so a map is readable and usable from other
///   tools and languages. Two keys with the same text are the same entry, and
///   a map name containing `:` can meet another map's keys (`a` + `b:c` and
///   `a:b` + `c`): give maps names without `:`.
/// - `None`, `()` and every other value are stored as real values, so they are
///   hits; a missing key is `None` from [`get`](Self::get) (for a map of
///   `Option<T>`, `get` returns `Some(None)` for a stored `None`).
/// - A stored value that does not decode (corrupt, written for another value
///   type, wrong MAC when the backend has a
///   [`mac_key`](crate::RedisBackendBuilder::mac_key)) is a miss, counted by
///   [`decode_errors`](Self::decode_errors).
/// - Every call uses the backend's connections, time budget and circuit
///   breaker; failures are [`MapError`]s (a map is a store, not a cache: it
///   does not fail open).
/// - On a cluster, keys carry no hash tag and spread over the slots:
///   [`get_many`](Self::get_many) sends one `MGET`, which the cluster
///   connection splits per slot; [`set_many`](Self::set_many) groups the keys
///   per slot itself (`Slot::for_key`) and sends one pipeline per slot, all at
///   once.
pub struct RedisMap<K, V> {
    backend: RedisBackend,
    name: Arc<str>,
    /// `<prefix>:<name>:`
    key_prefix: Arc<str>,
    /// In whole milliseconds, at least 1; `None`: no expiry.
    ttl_ms: Option<u64>,
    codec: Codec<MessagePack>,
    decode_errors: Arc<AtomicU64>,
    default: Option<Producer<K, V>>,
    _types: PhantomData<fn(&K) -> V>,
}

impl<K, V> Clone for RedisMap<K, V> {
    fn clone(&self) -> Self {
        Self {
            backend: self.backend.clone(),
            name: Arc::clone(&self.name),
            key_prefix: Arc::clone(&self.key_prefix),
            ttl_ms: self.ttl_ms,
            codec: self.codec.clone(),
            decode_errors: Arc::clone(&self.decode_errors),
            default: self.default.clone(),
            _types: PhantomData,
        }
    }
}

impl<K, V> fmt::Debug for RedisMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisMap")
            .field("name", &self.name)
            .field("key_prefix", &self.key_prefix)
            .field("ttl_ms", &self.ttl_ms)
            .field(
                "default",
                &self.default.as_ref().map(|p| match p {
                    Producer::Sync(_) => "sync",
                    Producer::Async(_) => "async",
                }),
            )
            .field("decode_errors", &self.decode_errors.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// One request to Redis: a command, or a pipeline whose commands share one
/// slot on a cluster.
enum Request {
    Cmd(Cmd),
    Pipe(Pipeline),
}

impl Request {
    fn query_sync(&self, conn: &mut redis::Connection) -> redis::RedisResult<Value> {
        match self {
            Self::Cmd(cmd) => cmd.query(conn),
            Self::Pipe(pipe) => pipe.query(conn),
        }
    }
}

/// Sends every request at once on the multiplexed connection `conn` (one per
/// clone) and returns their replies in order.
async fn run_all<C>(conn: C, requests: Vec<Request>) -> redis::RedisResult<Vec<Value>>
where
    C: redis::aio::ConnectionLike + Clone + Send,
{
    let futures = requests.into_iter().map(|request| {
        let mut conn = conn.clone();
        async move {
            match request {
                Request::Cmd(cmd) => cmd.query_async::<Value>(&mut conn).await,
                Request::Pipe(pipe) => pipe.query_async::<Value>(&mut conn).await,
            }
        }
    });
    join_all(futures.collect()).await.into_iter().collect()
}

/// Polls every future until all are ready; their outputs in order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// A reply for an error message: its debug form, shortened.
fn describe(reply: &Value) -> String {
    let mut text = format!("{reply:?}");
    if text.len() > 120 {
        let mut end = 120;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

impl<K, V> RedisMap<K, V>
where
    K: Display,
    V: Serialize + DeserializeOwned,
{
    /// The map `name` of `backend`: keys `<backend prefix>:<name>:<key>`, no
    /// expiry (see [`ttl`](Self::ttl)), no default producer. Cheap: the map
    /// shares the backend's connections.
    pub fn new(backend: &RedisBackend, name: impl Into<String>) -> Self {
        let name: String = name.into();
        Self {
            key_prefix: format!("{}:{}:", backend.prefix(), name).into(),
            name: name.into(),
            backend: backend.clone(),
            ttl_ms: None,
            codec: Codec::new(MessagePack, cache_core::codec::schema_id_of::<V>()),
            decode_errors: Arc::new(AtomicU64::new(0)),
            default: None,
            _types: PhantomData,
        }
    }

    /// Every write sets this time to live (`SET … PX`), rounded down to whole
    /// milliseconds and at least 1 ms.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl_ms = Some(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1));
        self
    }

    /// Missing keys read by [`get_or_default`](Self::get_or_default) and
    /// [`get_many_or_default`](Self::get_many_or_default) (and their async
    /// forms) get `produce(&key)`, which is stored and returned.
    #[must_use]
    pub fn with_default<F>(mut self, produce: F) -> Self
    where
        F: Fn(&K) -> V + Send + Sync + 'static,
    {
        self.default = Some(Producer::Sync(Arc::new(produce)));
        self
    }

    /// Like [`with_default`](Self::with_default) with an async producer, which
    /// gets the key by value: `.with_default_async(|id: u64| async move { … })`.
    /// Only the `_async` forms can run it; the producers of several missing
    /// keys run concurrently.
    #[must_use]
    pub fn with_default_async<F, Fut>(mut self, produce: F) -> Self
    where
        F: Fn(K) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = V> + Send + 'static,
    {
        self.default = Some(Producer::Async(Arc::new(move |key| {
            Box::pin(produce(key)) as BoxFuture<'static, V>
        })));
        self
    }

    /// The map's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Redis key of `key`: `<prefix>:<name>:<key>`.
    pub fn key(&self, key: &K) -> String {
        format!("{}{key}", self.key_prefix)
    }

    /// How many stored values failed to decode (and were read as misses)
    /// since the map was made, over all its clones.
    pub fn decode_errors(&self) -> u64 {
        self.decode_errors.load(Ordering::Relaxed)
    }

    /// The codec of the value stored under `redis_key`: with a MAC key bound
    /// to that key when the backend signs its values.
    fn codec_for(&self, redis_key: &str) -> Codec<MessagePack> {
        match self.backend.mac_key() {
            Some(mac_key) => {
                let mut hasher = blake3::Hasher::new_keyed(mac_key.as_bytes());
                hasher.update(b"cache-redis map\0");
                hasher.update(redis_key.as_bytes());
                self.codec
                    .clone()
                    .with_mac_key(*hasher.finalize().as_bytes())
            }
            None => self.codec.clone(),
        }
    }

    fn backend_error(&self, source: BackendError) -> MapError {
        MapError::Backend {
            map: self.name.to_string(),
            source,
        }
    }

    fn reply_error(&self, operation: &'static str, reply: &Value) -> MapError {
        MapError::Reply {
            map: self.name.to_string(),
            operation,
            reply: describe(reply),
        }
    }

    /// `SET key envelope [PX ttl]` for `key`.
    fn set_cmd(&self, key: &K, value: &V) -> Result<(String, Cmd), MapError> {
        let redis_key = self.key(key);
        let bytes = self
            .codec_for(&redis_key)
            .encode_value(value)
            .map_err(|source| MapError::Encode {
                map: self.name.to_string(),
                key: redis_key.clone(),
                source,
            })?;
        let mut cmd = Cmd::new();
        cmd.arg("SET").arg(&redis_key).arg(bytes);
        if let Some(ms) = self.ttl_ms {
            cmd.arg("PX").arg(ms);
        }
        Ok((redis_key, cmd))
    }

    /// The value in a `GET` reply for `redis_key`: `None` for nil, and for a
    /// value that does not decode (counted).
    fn decode_reply(
        &self,
        operation: &'static str,
        redis_key: &str,
        reply: &Value,
    ) -> Result<Option<V>, MapError> {
        let bytes: &[u8] = match reply {
            Value::Nil => return Ok(None),
            Value::BulkString(bytes) => bytes,
            Value::SimpleString(text) => text.as_bytes(),
            other => return Err(self.reply_error(operation, other)),
        };
        match self.codec_for(redis_key).decode_value(bytes) {
            Ok(value) => Ok(Some(value)),
            Err(_) => {
                self.decode_errors.fetch_add(1, Ordering::Relaxed);
                Ok(None)
            }
        }
    }

    /// The requests of `set_many`: one pipeline, or on a cluster one per slot.
    fn set_requests(&self, entries: &[(&K, &V)]) -> Result<Vec<Request>, MapError> {
        let mut groups: Vec<(Option<Slot>, Pipeline)> = Vec::new();
        let cluster = self.backend.is_cluster();
        for (key, value) in entries {
            let (redis_key, cmd) = self.set_cmd(key, value)?;
            let slot = cluster.then(|| Slot::for_key(redis_key.as_bytes()));
            match groups.iter_mut().find(|(of, _)| *of == slot) {
                Some((_, pipe)) => {
                    pipe.add_command(cmd);
                }
                None => {
                    let mut pipe = redis::pipe();
                    pipe.add_command(cmd);
                    groups.push((slot, pipe));
                }
            }
        }
        Ok(groups
            .into_iter()
            .map(|(_, pipe)| Request::Pipe(pipe))
            .collect())
    }

    /// Checks the replies of pipelines of `SET`s.
    fn check_pipelines(&self, operation: &'static str, replies: &[Value]) -> Result<(), MapError> {
        for reply in replies {
            let Value::Array(items) = reply else {
                return Err(self.reply_error(operation, reply));
            };
            if let Some(bad) = items.iter().find(|item| !matches!(item, Value::Okay)) {
                return Err(self.reply_error(operation, bad));
            }
        }
        Ok(())
    }

    fn mget_cmd(keys: &[String]) -> Cmd {
        let mut cmd = Cmd::new();
        cmd.arg("MGET").arg(keys);
        cmd
    }

    /// Decodes an `MGET` reply for `redis_keys`.
    fn decode_mget(
        &self,
        redis_keys: &[String],
        reply: &Value,
    ) -> Result<Vec<Option<V>>, MapError> {
        let Value::Array(items) = reply else {
            return Err(self.reply_error("get_many", reply));
        };
        if items.len() != redis_keys.len() {
            return Err(self.reply_error("get_many", reply));
        }
        redis_keys
            .iter()
            .zip(items)
            .map(|(key, item)| self.decode_reply("get_many", key, item))
            .collect()
    }

    // ---------------------------------------------------------------- sync

    /// Runs `requests` for a sync caller: on the single server's blocking
    /// connection (one after the other: they are one request in practice),
    /// or all at once through the cluster bridge.
    fn exec(
        &self,
        operation: &'static str,
        requests: Vec<Request>,
    ) -> Result<Vec<Value>, MapError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let result = if self.backend.is_cluster() {
            self.backend
                .with_bridge(operation, move |conn| run_all(conn, requests))
        } else {
            self.backend.with_single(operation, |conn| {
                requests.iter().map(|r| r.query_sync(conn)).collect()
            })
        };
        result.map_err(|e| self.backend_error(e))
    }

    /// The value of `key` (`GET`); `None` when it is missing or does not decode.
    ///
    /// # Errors
    ///
    /// [`MapError::Backend`] when Redis cannot be read.
    pub fn get(&self, key: &K) -> Result<Option<V>, MapError> {
        let redis_key = self.key(key);
        let mut cmd = Cmd::new();
        cmd.arg("GET").arg(&redis_key);
        let replies = self.exec("map get", vec![Request::Cmd(cmd)])?;
        self.decode_reply("get", &redis_key, &replies[0])
    }

    /// Stores `value` under `key` (`SET … PX ttl`).
    ///
    /// # Errors
    ///
    /// [`MapError::Encode`] when the value cannot be serialized,
    /// [`MapError::Backend`] when Redis cannot be written.
    pub fn set(&self, key: &K, value: &V) -> Result<(), MapError> {
        let (_, cmd) = self.set_cmd(key, value)?;
        let replies = self.exec("map set", vec![Request::Cmd(cmd)])?;
        match &replies[0] {
            Value::Okay => Ok(()),
            other => Err(self.reply_error("set", other)),
        }
    }

    /// Removes `key` (`DEL`); whether it existed.
    ///
    /// # Errors
    ///
    /// [`MapError::Backend`] when Redis cannot be written.
    pub fn remove(&self, key: &K) -> Result<bool, MapError> {
        let replies = self.exec("map remove", vec![Request::Cmd(self.del_cmd(key))])?;
        match &replies[0] {
            Value::Int(n) => Ok(*n > 0),
            other => Err(self.reply_error("remove", other)),
        }
    }

    fn del_cmd(&self, key: &K) -> Cmd {
        let mut cmd = Cmd::new();
        cmd.arg("DEL").arg(self.key(key));
        cmd
    }

    /// The values of `keys`, in order, in one round trip: one `MGET` (on a
    /// cluster, the connection splits it per slot and sends the parts at once).
    ///
    /// # Errors
    ///
    /// [`MapError::Backend`] when Redis cannot be read.
    pub fn get_many(&self, keys: &[K]) -> Result<Vec<Option<V>>, MapError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let redis_keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        let replies = self.exec(
            "map get_many",
            vec![Request::Cmd(Self::mget_cmd(&redis_keys))],
        )?;
        self.decode_mget(&redis_keys, &replies[0])
    }

    /// Stores every `(key, value)` in one pipeline of `SET … PX` (on a
    /// cluster, one pipeline per slot, sent at once).
    ///
    /// # Errors
    ///
    /// [`MapError::Encode`] (before anything is written) when a value cannot
    /// be serialized, [`MapError::Backend`] when Redis cannot be written (some
    /// entries may have been stored).
    pub fn set_many(&self, entries: &[(K, V)]) -> Result<(), MapError> {
        let entries: Vec<(&K, &V)> = entries.iter().map(|(k, v)| (k, v)).collect();
        self.set_entries(&entries)
    }

    fn set_entries(&self, entries: &[(&K, &V)]) -> Result<(), MapError> {
        let requests = self.set_requests(entries)?;
        let replies = self.exec("map set_many", requests)?;
        self.check_pipelines("set_many", &replies)
    }

    /// The value of `key`; when it is missing, the default producer's value,
    /// which is stored first.
    ///
    /// # Errors
    ///
    /// [`MapError::NoDefault`] without a producer, [`MapError::AsyncDefault`]
    /// with an async one, and the errors of [`get`](Self::get) and
    /// [`set`](Self::set).
    pub fn get_or_default(&self, key: &K) -> Result<V, MapError> {
        let produce = self.sync_producer()?;
        if let Some(value) = self.get(key)? {
            return Ok(value);
        }
        let value = produce(key);
        self.set(key, &value)?;
        Ok(value)
    }

    /// The values of `keys`, in order, read in one round trip; the missing ones
    /// are produced and stored in one more (one pipeline).
    ///
    /// # Errors
    ///
    /// As [`get_or_default`](Self::get_or_default).
    pub fn get_many_or_default(&self, keys: &[K]) -> Result<Vec<V>, MapError> {
        let produce = self.sync_producer()?;
        let found = self.get_many(keys)?;
        let produced: Vec<(usize, V)> = found
            .iter()
            .enumerate()
            .filter(|(_, value)| value.is_none())
            .map(|(i, _)| (i, produce(&keys[i])))
            .collect();
        let entries: Vec<(&K, &V)> = produced.iter().map(|(i, v)| (&keys[*i], v)).collect();
        self.set_entries(&entries)?;
        Ok(Self::merge(found, produced))
    }

    fn sync_producer(&self) -> Result<&(dyn Fn(&K) -> V + Send + Sync), MapError> {
        match &self.default {
            Some(Producer::Sync(f)) => Ok(f.as_ref()),
            Some(Producer::Async(_)) => Err(MapError::AsyncDefault {
                map: self.name.to_string(),
            }),
            None => Err(MapError::NoDefault {
                map: self.name.to_string(),
            }),
        }
    }

    /// `found` with its holes filled from `produced` (indexes in order).
    fn merge(found: Vec<Option<V>>, produced: Vec<(usize, V)>) -> Vec<V> {
        let mut produced = produced.into_iter().peekable();
        found
            .into_iter()
            .enumerate()
            .filter_map(|(i, value)| match value {
                Some(value) => Some(value),
                None => match produced.peek() {
                    Some((at, _)) if *at == i => produced.next().map(|(_, v)| v),
                    _ => None,
                },
            })
            .collect()
    }

    // ---------------------------------------------------------- pipelines

    /// Adds `GET <key>` to `pipe` (a pipeline of the re-exported
    /// [`redis`](crate::redis) crate: `cache_redis::redis::pipe()`); decode its
    /// reply with [`decode`](Self::decode). On a cluster, a pipeline must stay within one
    /// slot (give related keys a hash tag, e.g. a map name like `{user42}`).
    pub fn add_get(&self, pipe: &mut Pipeline, key: &K) {
        pipe.cmd("GET").arg(self.key(key));
    }

    /// Adds `SET <key> <envelope> [PX ttl]` to `pipe` (its reply is `OK`).
    ///
    /// # Errors
    ///
    /// [`MapError::Encode`] when the value cannot be serialized (nothing is added).
    pub fn add_set(&self, pipe: &mut Pipeline, key: &K, value: &V) -> Result<(), MapError> {
        let (_, cmd) = self.set_cmd(key, value)?;
        pipe.add_command(cmd);
        Ok(())
    }

    /// Adds `DEL <key>` to `pipe` (its reply is the number of keys removed).
    pub fn add_remove(&self, pipe: &mut Pipeline, key: &K) {
        pipe.add_command(self.del_cmd(key));
    }

    /// The value in the reply to an [`add_get`](Self::add_get) of `key`:
    /// `None` when it was missing or does not decode (counted).
    ///
    /// # Errors
    ///
    /// [`MapError::Reply`] when `reply` is not a `GET` reply (for example an
    /// error reply).
    pub fn decode(&self, key: &K, reply: &Value) -> Result<Option<V>, MapError> {
        self.decode_reply("decode", &self.key(key), reply)
    }
}

// ------------------------------------------------------------------ async

impl<K, V> RedisMap<K, V>
where
    K: Display + Clone + Send + Sync,
    V: Serialize + DeserializeOwned + Send,
{
    /// Runs `requests` on the current runtime's multiplexed connection, all at once.
    async fn exec_async(
        &self,
        operation: &'static str,
        requests: Vec<Request>,
    ) -> Result<Vec<Value>, MapError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        self.backend
            .with_async(operation, |conn| async move {
                match conn {
                    AsyncConn::Single(conn) => run_all(conn, requests).await,
                    AsyncConn::Cluster(conn) => run_all(conn, requests).await,
                }
            })
            .await
            .map_err(|e| self.backend_error(e))
    }

    /// [`get`](Self::get) for async callers.
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get).
    pub async fn get_async(&self, key: &K) -> Result<Option<V>, MapError> {
        let redis_key = self.key(key);
        let mut cmd = Cmd::new();
        cmd.arg("GET").arg(&redis_key);
        let replies = self.exec_async("map get", vec![Request::Cmd(cmd)]).await?;
        self.decode_reply("get", &redis_key, &replies[0])
    }

    /// [`set`](Self::set) for async callers.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set).
    pub async fn set_async(&self, key: &K, value: &V) -> Result<(), MapError> {
        let (_, cmd) = self.set_cmd(key, value)?;
        let replies = self.exec_async("map set", vec![Request::Cmd(cmd)]).await?;
        match &replies[0] {
            Value::Okay => Ok(()),
            other => Err(self.reply_error("set", other)),
        }
    }

    /// [`remove`](Self::remove) for async callers.
    ///
    /// # Errors
    ///
    /// As [`remove`](Self::remove).
    pub async fn remove_async(&self, key: &K) -> Result<bool, MapError> {
        let replies = self
            .exec_async("map remove", vec![Request::Cmd(self.del_cmd(key))])
            .await?;
        match &replies[0] {
            Value::Int(n) => Ok(*n > 0),
            other => Err(self.reply_error("remove", other)),
        }
    }

    /// [`get_many`](Self::get_many) for async callers.
    ///
    /// # Errors
    ///
    /// As [`get_many`](Self::get_many).
    pub async fn get_many_async(&self, keys: &[K]) -> Result<Vec<Option<V>>, MapError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let redis_keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        let replies = self
            .exec_async(
                "map get_many",
                vec![Request::Cmd(Self::mget_cmd(&redis_keys))],
            )
            .await?;
        self.decode_mget(&redis_keys, &replies[0])
    }

    /// [`set_many`](Self::set_many) for async callers.
    ///
    /// # Errors
    ///
    /// As [`set_many`](Self::set_many).
    pub async fn set_many_async(&self, entries: &[(K, V)]) -> Result<(), MapError> {
        let entries: Vec<(&K, &V)> = entries.iter().map(|(k, v)| (k, v)).collect();
        self.set_entries_async(&entries).await
    }

    async fn set_entries_async(&self, entries: &[(&K, &V)]) -> Result<(), MapError> {
        let requests = self.set_requests(entries)?;
        let replies = self.exec_async("map set_many", requests).await?;
        self.check_pipelines("set_many", &replies)
    }

    /// Runs the producer (sync or async) for `key`.
    async fn produce(&self, key: &K) -> Result<V, MapError> {
        match &self.default {
            Some(Producer::Sync(f)) => Ok(f(key)),
            Some(Producer::Async(f)) => Ok(f(key.clone()).await),
            None => Err(MapError::NoDefault {
                map: self.name.to_string(),
            }),
        }
    }

    /// [`get_or_default`](Self::get_or_default) for async callers; runs a sync
    /// or an async producer.
    ///
    /// # Errors
    ///
    /// [`MapError::NoDefault`] without a producer, and the errors of
    /// [`get`](Self::get) and [`set`](Self::set).
    pub async fn get_or_default_async(&self, key: &K) -> Result<V, MapError> {
        if self.default.is_none() {
            return Err(MapError::NoDefault {
                map: self.name.to_string(),
            });
        }
        if let Some(value) = self.get_async(key).await? {
            return Ok(value);
        }
        let value = self.produce(key).await?;
        self.set_async(key, &value).await?;
        Ok(value)
    }

    /// [`get_many_or_default`](Self::get_many_or_default) for async callers;
    /// the producers of the missing keys run concurrently.
    ///
    /// # Errors
    ///
    /// As [`get_or_default_async`](Self::get_or_default_async).
    pub async fn get_many_or_default_async(&self, keys: &[K]) -> Result<Vec<V>, MapError> {
        if self.default.is_none() {
            return Err(MapError::NoDefault {
                map: self.name.to_string(),
            });
        }
        let found = self.get_many_async(keys).await?;
        let missing: Vec<usize> = found
            .iter()
            .enumerate()
            .filter(|(_, value)| value.is_none())
            .map(|(i, _)| i)
            .collect();
        let values = join_all(missing.iter().map(|i| self.produce(&keys[*i])).collect()).await;
        let mut produced = Vec::with_capacity(missing.len());
        for (i, value) in missing.into_iter().zip(values) {
            produced.push((i, value?));
        }
        let entries: Vec<(&K, &V)> = produced.iter().map(|(i, v)| (&keys[*i], v)).collect();
        self.set_entries_async(&entries).await?;
        Ok(Self::merge(found, produced))
    }
}
