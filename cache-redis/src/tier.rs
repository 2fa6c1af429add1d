//! The local tier: an in-process copy of recently read or written values in
//! front of Redis, invalidated in every process when one clears a cache.
//!
//! A `cache_clear` deletes the cache's keys in Redis, drops this process's
//! local copies of that cache, and `PUBLISH`es the cache's identity on
//! `<prefix>:invalidate`. Every process with a local tier on that prefix keeps
//! one subscriber connection (a background thread) and drops its copies when
//! the message arrives. When a subscriber (re)connects it drops all its copies,
//! since it may have missed messages while it was away.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use cache_core::{Cache, Digest};

/// One local copy: the cache identity it belongs to, and the stored bytes.
#[derive(Clone)]
pub(crate) struct Copy {
    namespace: Arc<str>,
    bytes: Arc<[u8]>,
}

/// The local copies of one backend.
pub(crate) struct Tier {
    /// By digest, which is unique across caches: it hashes the identity and
    /// version along with the arguments.
    copies: Cache<Digest, Copy>,
    ttl: Duration,
    /// Bumped by every invalidation: a value read from Redis before one is
    /// not kept after it.
    generation: AtomicU64,
    /// Whether the subscriber is listening: without it, nothing is kept (a
    /// clear elsewhere could not reach this process).
    subscribed: AtomicBool,
    /// Random id of this tier, at the head of every message it publishes.
    origin: u64,
    max_entries: usize,
}

impl Tier {
    pub(crate) fn new(max_entries: usize, ttl: Duration) -> Self {
        // Tells this tier's own messages apart (it has already applied them).
        let origin = getrandom::u64().unwrap_or_else(|_| {
            u64::from(std::process::id()) << 32
                ^ std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| u64::from(d.subsec_nanos()))
        });
        Self {
            origin,
            max_entries: max_entries.max(1),
            copies: Cache::builder()
                .max_entries(max_entries.max(1))
                .ttl(ttl)
                .build(),
            ttl,
            generation: AtomicU64::new(0),
            subscribed: AtomicBool::new(false),
        }
    }

    /// What cached functions need to keep decoded copies in front of this
    /// backend: `None` while not subscribed (nothing may be kept then).
    pub(crate) fn local(&self) -> Option<cache_core::LocalTier> {
        self.subscribed
            .load(Ordering::Acquire)
            .then(|| cache_core::LocalTier {
                generation: self.generation(),
                ttl: self.ttl,
                max_entries: self.max_entries,
            })
    }

    /// The invalidation count, to pass to [`put`](Self::put) for a value read
    /// now.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn get(&self, digest: &Digest) -> Option<Vec<u8>> {
        self.copies.get(digest).map(|copy| copy.bytes.to_vec())
    }

    /// Keeps `bytes` for the local TTL, or `ttl` when that is shorter, unless
    /// an invalidation happened since `generation` was read.
    pub(crate) fn put(
        &self,
        generation: u64,
        namespace: &str,
        digest: Digest,
        bytes: &[u8],
        ttl: Option<Duration>,
    ) {
        let ttl = ttl.map_or(self.ttl, |ttl| ttl.min(self.ttl));
        if ttl.is_zero()
            || self.generation() != generation
            || !self.subscribed.load(Ordering::Acquire)
        {
            return;
        }
        let copy = Copy {
            namespace: Arc::from(namespace),
            bytes: Arc::from(bytes),
        };
        self.copies.insert_with_ttl(digest, copy, ttl);
    }

    /// Drops every copy of `namespace`: O(local copies).
    pub(crate) fn invalidate(&self, namespace: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        for (digest, copy, _) in self.copies.iter() {
            if &*copy.namespace == namespace {
                self.copies.remove(&digest);
            }
        }
    }

    /// The message that tells every other tier to drop `namespace`:
    /// `<origin, 16 hex digits>:<namespace>`.
    pub(crate) fn message(&self, namespace: &str) -> String {
        format!("{:016x}:{namespace}", self.origin)
    }

    /// Applies a message from the channel, unless it is this tier's own.
    fn receive(&self, message: &str) {
        match message.split_once(':') {
            Some((origin, _)) if u64::from_str_radix(origin, 16) == Ok(self.origin) => {}
            Some((_, namespace)) => self.invalidate(namespace),
            // Not ours to read: drop everything rather than keep a stale copy.
            None => self.invalidate_all(),
        }
    }

    pub(crate) fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.copies.clear();
    }
}

/// Makes the subscriber's blocking connection.
pub(crate) type Subscribe = Box<dyn Fn() -> redis::RedisResult<redis::Connection> + Send + Sync>;

/// Starts the thread that listens on `channel` and drops the copies of each
/// identity published there, until the backend (the last strong reference to
/// `tier`) is dropped. It connects in the background; copies kept before its
/// subscription is in place are dropped when it is, so none misses a clear.
pub(crate) fn start_subscriber(
    tier: &Arc<Tier>,
    channel: String,
    connect: Subscribe,
) -> std::io::Result<()> {
    let tier: Weak<Tier> = Arc::downgrade(tier);
    std::thread::Builder::new()
        .name("cache-redis-invalidate".into())
        .spawn(move || {
            loop {
                let Some(live) = tier.upgrade() else {
                    return;
                };
                let listened = listen(&live, &channel, &connect);
                drop(live);
                if listened.is_err() {
                    // Reconnect soon, without spinning while Redis is down.
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        })
        .map(drop)
}

/// Subscribes and applies invalidations until the connection fails or the
/// backend is gone (checked every second).
fn listen(tier: &Arc<Tier>, channel: &str, connect: &Subscribe) -> redis::RedisResult<()> {
    let mut conn = connect()?;
    conn.set_read_timeout(Some(Duration::from_secs(1)))?;
    let mut pubsub = conn.as_pubsub();
    pubsub.subscribe(channel)?;
    // Messages published while no subscription was in place are lost: start
    // from nothing.
    tier.subscribed.store(true, Ordering::Release);
    tier.invalidate_all();
    let result = loop {
        match pubsub.get_message() {
            Ok(message) => match message.get_payload::<String>() {
                Ok(text) => tier.receive(&text),
                Err(_) => tier.invalidate_all(),
            },
            Err(error) if error.is_timeout() => {
                if Arc::strong_count(tier) <= 1 {
                    break Ok(());
                }
            }
            Err(error) => break Err(error),
        }
    };
    tier.subscribed.store(false, Ordering::Release);
    // Unsubscribed, a clear elsewhere cannot reach these copies.
    tier.invalidate_all();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier_with(namespace: &str) -> Tier {
        let tier = Tier::new(10, Duration::from_secs(60));
        tier.subscribed.store(true, Ordering::Release);
        tier.put(tier.generation(), namespace, Digest([1; 32]), b"v", None);
        tier
    }

    #[test]
    fn own_messages_are_skipped_others_applied_garbage_drops_all() {
        let tier = tier_with("ns");
        tier.receive(&tier.message("ns"));
        assert!(tier.get(&Digest([1; 32])).is_some(), "its own message");
        tier.receive("0123456789abcdef:other");
        assert!(tier.get(&Digest([1; 32])).is_some(), "another namespace");
        tier.receive("0123456789abcdef:ns");
        assert!(tier.get(&Digest([1; 32])).is_none(), "another tier's clear");

        let tier = tier_with("ns");
        tier.receive("no separator");
        assert!(tier.get(&Digest([1; 32])).is_none(), "unreadable: drop all");
    }

    #[test]
    fn nothing_is_kept_unsubscribed_or_after_an_invalidation() {
        let tier = Tier::new(10, Duration::from_secs(60));
        tier.put(tier.generation(), "ns", Digest([2; 32]), b"v", None);
        assert!(tier.get(&Digest([2; 32])).is_none(), "not subscribed");
        tier.subscribed.store(true, Ordering::Release);
        let before = tier.generation();
        tier.invalidate("other");
        tier.put(before, "ns", Digest([2; 32]), b"v", None);
        assert!(
            tier.get(&Digest([2; 32])).is_none(),
            "read before an invalidation"
        );
        tier.put(
            tier.generation(),
            "ns",
            Digest([2; 32]),
            b"v",
            Some(Duration::ZERO),
        );
        assert!(tier.get(&Digest([2; 32])).is_none(), "zero TTL");
    }
}
