//! The local tier's invalidation: cached functions keep decoded copies of
//! values in front of Redis (in `cache-core`, tagged with this tier's
//! generation), and this module tells them when those copies go stale.
//!
//! A `cache_clear` deletes the cache's keys in Redis, bumps this process's
//! generation, and `PUBLISH`es the cache's identity on `<prefix>:invalidate`.
//! Every process with a local tier on that prefix keeps one subscriber
//! connection (a background thread) and bumps its generation when the message
//! arrives. Copies are kept only while the subscription is in place, and the
//! generation is bumped whenever it (re)connects or drops, since messages may
//! have been missed meanwhile.

use std::sync::{Arc, Weak};
use std::time::Duration;

use cache_core::TierState;

/// The invalidation state of one backend's local tier.
pub(crate) struct Tier {
    /// The generation (bumped by every invalidation: copies kept under an
    /// older one, or read from Redis before the bump, are stale) and whether
    /// copies may be kept: only while the subscriber listens (a clear
    /// elsewhere could not reach this process otherwise). Shared with the
    /// cached functions, which read it on every call.
    state: Arc<TierState>,
    /// Random id of this tier, at the head of every message it publishes.
    origin: u64,
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
            state: Arc::new(TierState::new(max_entries, ttl)),
            origin,
        }
    }

    /// The shared state that cached functions read on every call.
    pub(crate) fn state(&self) -> Arc<TierState> {
        Arc::clone(&self.state)
    }

    /// Makes every copy kept so far stale.
    pub(crate) fn invalidate(&self) {
        self.state.invalidate();
    }

    /// Whether copies may be kept (while the subscription is in place).
    fn set_subscribed(&self, subscribed: bool) {
        self.state.set_keeping(subscribed);
    }

    /// The message that tells every other tier that `namespace` was cleared:
    /// `<origin, 16 hex digits>:<namespace>`.
    pub(crate) fn message(&self, namespace: &str) -> String {
        format!("{:016x}:{namespace}", self.origin)
    }

    /// Applies a message from the channel, unless it is this tier's own.
    /// Anything else, readable or not, makes the copies stale.
    fn receive(&self, message: &str) {
        match message.split_once(':') {
            Some((origin, _)) if u64::from_str_radix(origin, 16) == Ok(self.origin) => {}
            _ => self.invalidate(),
        }
    }
}

/// Makes the subscriber's blocking connection.
pub(crate) type Subscribe = Box<dyn Fn() -> redis::RedisResult<redis::Connection> + Send + Sync>;

/// Starts the thread that listens on `channel` and makes the copies stale on
/// each clear published there, until the backend (the last strong reference to
/// `tier`) is dropped. It connects in the background; nothing is kept until
/// its subscription is in place.
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
                if let Err(error) = listened {
                    #[cfg(feature = "tracing")]
                    tracing::warn!(
                        backend = crate::NAME,
                        channel = %channel,
                        kind = ?error.kind(),
                        "redis local tier unsubscribed: no local copies are kept until it \
                         resubscribes"
                    );
                    let _ = error;
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
    tier.set_subscribed(true);
    tier.invalidate();
    #[cfg(feature = "tracing")]
    tracing::debug!(
        backend = crate::NAME,
        channel,
        "redis local tier subscribed: local copies are kept"
    );
    let result = loop {
        match pubsub.get_message() {
            Ok(message) => match message.get_payload::<String>() {
                Ok(text) => tier.receive(&text),
                Err(_) => tier.invalidate(),
            },
            Err(error) if error.is_timeout() => {
                if Arc::strong_count(tier) <= 1 {
                    break Ok(());
                }
            }
            Err(error) => break Err(error),
        }
    };
    tier.set_subscribed(false);
    // Unsubscribed, a clear elsewhere cannot reach these copies.
    tier.invalidate();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscribed() -> Tier {
        let tier = Tier::new(10, Duration::from_secs(60));
        tier.set_subscribed(true);
        tier
    }

    fn generation(tier: &Tier) -> u64 {
        tier.state
            .current()
            .map(|local| local.generation)
            .unwrap_or_default()
    }

    #[test]
    fn own_messages_are_skipped_others_and_garbage_invalidate() {
        let tier = subscribed();
        let start = generation(&tier);
        tier.receive(&tier.message("ns"));
        assert_eq!(generation(&tier), start, "its own message");
        tier.receive("0123456789abcdef:ns");
        assert_eq!(generation(&tier), start + 1, "another tier's clear");
        tier.receive("no separator");
        assert_eq!(generation(&tier), start + 2, "unreadable: invalidate");
    }

    #[test]
    fn nothing_is_kept_unsubscribed() {
        let tier = Tier::new(10, Duration::from_secs(60));
        assert!(tier.state.current().is_none(), "not subscribed");
        tier.set_subscribed(true);
        let local = tier.state.current().unwrap();
        assert_eq!(
            (local.ttl, local.max_entries),
            (Duration::from_secs(60), 10)
        );
        tier.invalidate();
        assert_eq!(generation(&tier), local.generation + 1);
        // Unsubscribed again: nothing may be kept, and invalidations still
        // count, so copies kept before are stale after a resubscription.
        tier.set_subscribed(false);
        assert!(tier.state.current().is_none(), "unsubscribed");
        tier.invalidate();
        tier.set_subscribed(true);
        assert_eq!(generation(&tier), local.generation + 2);
        // What cached functions read is the same state.
        assert!(Arc::ptr_eq(&tier.state(), &tier.state));
    }
}
