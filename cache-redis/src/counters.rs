//! Hit and miss counters shared by every process that uses a cache: each
//! process adds up its lookups locally (no network on the call path) and a
//! background thread adds them to one Redis hash per cache, `HINCRBY`, at a
//! fixed interval.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use redis::{Cmd, ConnectionLike};

/// Hit and miss counts of one cache, summed over every process that uses it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SharedCounters {
    /// Lookups answered from Redis.
    pub hits: u64,
    /// Lookups that found nothing usable, so the body ran (or waited for a
    /// computation of this process).
    pub misses: u64,
}

impl SharedCounters {
    fn add(&mut self, other: Self) {
        self.hits = self.hits.saturating_add(other.hits);
        self.misses = self.misses.saturating_add(other.misses);
    }
}

/// Counts not yet added to Redis, by namespace.
#[derive(Default)]
pub(crate) struct Pending {
    counts: Mutex<HashMap<String, SharedCounters>>,
    /// Held for a whole flush, and by readers of Redis + local counts, so that
    /// counts on their way to Redis are seen exactly once.
    flushing: Mutex<()>,
}

impl Pending {
    pub(crate) fn record(&self, namespace: &str, hit: bool) {
        let mut counts = self.counts.lock();
        let entry = match counts.get_mut(namespace) {
            Some(entry) => entry,
            None => counts.entry(namespace.to_owned()).or_default(),
        };
        if hit {
            entry.hits += 1;
        } else {
            entry.misses += 1;
        }
    }

    /// This process's counts of `namespace` not yet in Redis.
    pub(crate) fn of(&self, namespace: &str) -> SharedCounters {
        self.counts
            .lock()
            .get(namespace)
            .copied()
            .unwrap_or_default()
    }

    /// Keeps flushes out while the caller reads Redis and [`of`](Self::of).
    pub(crate) fn exclusive(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.flushing.lock()
    }

    pub(crate) fn forget(&self, namespace: &str) {
        self.counts.lock().remove(namespace);
    }

    fn take(&self) -> HashMap<String, SharedCounters> {
        std::mem::take(&mut *self.counts.lock())
    }

    /// Puts back counts that could not be written.
    fn restore(&self, unsent: HashMap<String, SharedCounters>) {
        let mut counts = self.counts.lock();
        for (namespace, delta) in unsent {
            counts.entry(namespace).or_default().add(delta);
        }
    }

    /// Adds every pending count to Redis through `conn`, `counter_key` naming
    /// each namespace's hash. Counts that fail to be written are kept for the
    /// next flush.
    pub(crate) fn flush(
        &self,
        conn: &mut dyn ConnectionLike,
        counter_key: &dyn Fn(&str) -> String,
    ) -> redis::RedisResult<()> {
        let _flushing = self.flushing.lock();
        let mut unsent = self.take();
        let mut result = Ok(());
        let namespaces: Vec<String> = unsent.keys().cloned().collect();
        for namespace in namespaces {
            let Some(delta) = unsent.get(&namespace).copied() else {
                continue;
            };
            let key = counter_key(&namespace);
            let mut write = || -> redis::RedisResult<()> {
                if delta.hits > 0 {
                    Cmd::new()
                        .arg("HINCRBY")
                        .arg(&key)
                        .arg("hits")
                        .arg(delta.hits)
                        .query::<i64>(conn)?;
                }
                if delta.misses > 0 {
                    Cmd::new()
                        .arg("HINCRBY")
                        .arg(&key)
                        .arg("misses")
                        .arg(delta.misses)
                        .query::<i64>(conn)?;
                }
                Ok(())
            };
            match write() {
                Ok(()) => {
                    unsent.remove(&namespace);
                }
                Err(error) => {
                    // What was half written is not known; keeping it may count
                    // the hits twice, dropping it undercounts: keep (rare).
                    result = Err(error);
                    break;
                }
            }
        }
        self.restore(unsent);
        result
    }
}

/// Something that makes a blocking connection for the flusher thread.
pub(crate) type Connect =
    Box<dyn Fn() -> redis::RedisResult<Box<dyn ConnectionLike + Send>> + Send + Sync>;

/// Starts the thread that flushes `pending` every `every` until the backend
/// (the last strong reference to `pending`) is dropped.
pub(crate) fn start_flusher(
    pending: &Arc<Pending>,
    every: Duration,
    connect: Connect,
    counter_key: Box<dyn Fn(&str) -> String + Send>,
) -> std::io::Result<()> {
    let pending: Weak<Pending> = Arc::downgrade(pending);
    std::thread::Builder::new()
        .name("cache-redis-counters".into())
        .spawn(move || {
            let mut conn: Option<Box<dyn ConnectionLike + Send>> = None;
            loop {
                std::thread::sleep(every);
                let Some(pending) = pending.upgrade() else {
                    return;
                };
                if conn.is_none() {
                    conn = connect()
                        .inspect_err(|_error| {
                            #[cfg(feature = "tracing")]
                            tracing::warn!(
                                backend = crate::NAME,
                                kind = ?_error.kind(),
                                "redis shared counters not flushed (no connection): kept for \
                                 the next flush"
                            );
                        })
                        .ok();
                }
                if let Some(live) = conn.as_mut()
                    && let Err(error) = pending.flush(live.as_mut(), &*counter_key)
                {
                    #[cfg(feature = "tracing")]
                    tracing::warn!(
                        backend = crate::NAME,
                        kind = ?error.kind(),
                        "redis shared counters not flushed: kept for the next flush"
                    );
                    let _ = error;
                    conn = None;
                }
            }
        })
        .map(drop)
}
