//! Maps whose missing keys materialize from a producer (Pyot's `MultiDefaultDict`).

use std::fmt;
use std::future::Future;
use std::hash::Hash;

use crate::Cache;

/// A cache in which reading a missing key produces, stores and returns its default.
///
/// The producer runs once per key even when several threads read the same missing
/// key together (single-flight). Entries follow the underlying cache's TTL and bound.
///
/// ```
/// use cache_core::{Cache, DefaultMap};
///
/// let lengths = DefaultMap::new(Cache::new(), |word: &String| word.len());
/// assert_eq!(lengths.get("four".to_string()), 4);
/// assert_eq!(lengths.get_many(["a".to_string(), "bb".to_string()]), vec![1, 2]);
/// assert_eq!(lengths.cache().info().computations, 3);
/// ```
pub struct DefaultMap<K, V, F> {
    cache: Cache<K, V>,
    produce: F,
}

impl<K, V, F> DefaultMap<K, V, F>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    F: Fn(&K) -> V,
{
    /// A default map over `cache` whose missing keys get `produce(&key)`.
    pub fn new(cache: Cache<K, V>, produce: F) -> Self {
        Self { cache, produce }
    }

    /// The value of `key`, produced and stored if it is missing.
    pub fn get(&self, key: K) -> V {
        let produce = &self.produce;
        let key_for_producer = key.clone();
        self.cache
            .get_or_insert_with(key, move || produce(&key_for_producer))
    }

    /// The values of several keys, in order; missing ones are produced.
    pub fn get_many(&self, keys: impl IntoIterator<Item = K>) -> Vec<V> {
        keys.into_iter().map(|key| self.get(key)).collect()
    }

    /// The underlying cache (for `insert`, `remove`, `info`, …).
    pub fn cache(&self) -> &Cache<K, V> {
        &self.cache
    }
}

impl<K, V, F> fmt::Debug for DefaultMap<K, V, F>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultMap")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

/// The async form of [`DefaultMap`]: the producer returns a future, polled only
/// for a missing key, by one caller per key; the others wait without blocking.
///
/// ```
/// use cache_core::{AsyncDefaultMap, Cache};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let squares = AsyncDefaultMap::new(Cache::new(), |n: &u64| {
///     let n = *n;
///     async move { n * n }
/// });
/// assert_eq!(squares.get(12).await, 144);
/// assert_eq!(squares.get_many([2, 3]).await, vec![4, 9]);
/// # });
/// ```
pub struct AsyncDefaultMap<K, V, F> {
    cache: Cache<K, V>,
    produce: F,
}

impl<K, V, F, Fut> AsyncDefaultMap<K, V, F>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    F: Fn(&K) -> Fut,
    Fut: Future<Output = V>,
{
    /// An async default map over `cache` whose missing keys get `produce(&key).await`.
    pub fn new(cache: Cache<K, V>, produce: F) -> Self {
        Self { cache, produce }
    }

    /// The value of `key`, produced and stored if it is missing.
    pub async fn get(&self, key: K) -> V {
        // The future is only created here; it is polled only on a miss.
        let init = (self.produce)(&key);
        self.cache.get_or_insert_with_async(key, init).await
    }

    /// The values of several keys, in order; missing ones are produced one after another.
    pub async fn get_many(&self, keys: impl IntoIterator<Item = K>) -> Vec<V> {
        let mut values = Vec::new();
        for key in keys {
            values.push(self.get(key).await);
        }
        values
    }

    /// The underlying cache.
    pub fn cache(&self) -> &Cache<K, V> {
        &self.cache
    }
}

impl<K, V, F> fmt::Debug for AsyncDefaultMap<K, V, F>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncDefaultMap")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}
