//! Time sources: the system clock read cheaply on hits, and a mock clock for tests.
//!
//! Reading `Instant::now()` costs tens of nanoseconds, more than a whole cache hit,
//! so the hit path never calls it (design decision 2). The system clock keeps a
//! process-wide *recent* time, refreshed every millisecond by one background
//! thread (started on first use), and a hit reads it with one relaxed atomic load.
//! Inserts compute an entry's expiry from the same recent time, so an entry
//! lives for its TTL as measured by that clock, with a resolution of about one
//! millisecond. Precise readings (remaining TTLs) also pull the recent time
//! forward when the ticker lags.
//!
//! [`MockClock`] replaces all of this with a time that only moves when a test
//! says so.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Once, OnceLock};
use std::time::{Duration, Instant};

/// How often the background thread refreshes the recent time.
pub const TICK: Duration = Duration::from_millis(1);

/// A point in time: nanoseconds since a process-wide origin. `u64::MAX` is "never".
pub(crate) type Nanos = u64;

/// The "never expires" instant.
pub(crate) const NEVER: Nanos = u64::MAX;

/// The time source of a cache. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub enum Clock {
    /// The monotonic system clock, read through the millisecond ticker on hits.
    #[default]
    System,
    /// A clock that moves only when told to (tests).
    Mock(Arc<MockClock>),
}

impl Clock {
    /// A new mock clock at time zero, and a handle to move it.
    pub fn mock() -> (Clock, Arc<MockClock>) {
        let mock = Arc::new(MockClock::default());
        (Clock::Mock(Arc::clone(&mock)), mock)
    }

    /// Makes sure the background ticker runs (for the system clock).
    pub(crate) fn start(&self) {
        if let Clock::System = self {
            ticker::start();
        }
    }

    /// The recent time: cheap, up to one tick behind. Used on hits.
    #[inline]
    pub(crate) fn recent(&self) -> Nanos {
        match self {
            Clock::System => ticker::RECENT.load(Ordering::Relaxed),
            Clock::Mock(mock) => mock.now(),
        }
    }

    /// The precise time. Used on inserts.
    pub(crate) fn precise(&self) -> Nanos {
        match self {
            Clock::System => ticker::precise(),
            Clock::Mock(mock) => mock.now(),
        }
    }

    /// The expiry instant of an entry inserted now with `ttl` (`None`: never).
    ///
    /// From the recent time while the ticker runs: it is at most one tick behind,
    /// so the entry expires at most one tick early, never late, and the same lag
    /// applies to the reads that judge it. Without a ticker, a precise reading.
    #[inline]
    pub(crate) fn expiry_after(&self, ttl: Option<Duration>) -> Nanos {
        let Some(ttl) = ttl else {
            return NEVER;
        };
        let now = match self {
            Clock::System if ticker::running() => ticker::RECENT.load(Ordering::Relaxed),
            _ => self.precise(),
        };
        now.saturating_add(duration_nanos(ttl))
    }
}

/// A [`Duration`] in nanoseconds, saturating (a TTL of centuries is "never").
pub(crate) fn duration_nanos(duration: Duration) -> Nanos {
    u64::try_from(duration.as_nanos()).unwrap_or(NEVER)
}

/// A manually advanced clock for deterministic tests.
///
/// ```
/// use std::time::Duration;
/// use cache_core::{Cache, clock::Clock};
///
/// let (clock, time) = Clock::mock();
/// let cache = Cache::builder().ttl(Duration::from_secs(10)).clock(clock).build();
/// cache.insert("k", 1);
/// time.advance(Duration::from_secs(9));
/// assert_eq!(cache.get(&"k"), Some(1));
/// time.advance(Duration::from_secs(1));
/// assert_eq!(cache.get(&"k"), None);
/// ```
#[derive(Debug, Default)]
pub struct MockClock {
    now: AtomicU64,
}

impl MockClock {
    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let by = duration_nanos(by);
        // Saturating: a test advancing "forever" must not wrap around to the past.
        let _ = self
            .now
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                Some(now.saturating_add(by))
            });
    }

    /// The time elapsed since the clock was created.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.now())
    }

    fn now(&self) -> Nanos {
        self.now.load(Ordering::Acquire)
    }
}

mod ticker {
    use super::*;

    /// The recent time, refreshed every [`TICK`] and by every precise reading.
    pub(super) static RECENT: AtomicU64 = AtomicU64::new(0);
    static START: Once = Once::new();
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    /// Whether the ticker thread was spawned (it then runs for the process's life).
    static RUNNING: AtomicBool = AtomicBool::new(false);

    #[inline]
    pub(super) fn running() -> bool {
        RUNNING.load(Ordering::Relaxed)
    }

    fn origin() -> Instant {
        *ORIGIN.get_or_init(Instant::now)
    }

    pub(super) fn precise() -> Nanos {
        let now = duration_nanos(origin().elapsed());
        // Pull the recent time forward if the ticker lags (a starved thread), so an
        // entry inserted now is never judged by a time older than its insertion.
        if RECENT.load(Ordering::Relaxed) < now.saturating_sub(duration_nanos(TICK)) {
            RECENT.fetch_max(now, Ordering::Relaxed);
        }
        now
    }

    pub(super) fn start() {
        START.call_once(|| {
            RECENT.fetch_max(duration_nanos(origin().elapsed()), Ordering::Relaxed);
            let spawned = std::thread::Builder::new()
                .name("cache-core-clock".into())
                .spawn(|| {
                    loop {
                        std::thread::sleep(TICK);
                        RECENT.fetch_max(duration_nanos(origin().elapsed()), Ordering::Relaxed);
                    }
                });
            // Without a ticker thread (thread limit reached) inserts read the precise
            // time, which also advances the recent time: expiry is then checked at
            // insert granularity.
            RUNNING.store(spawned.is_ok(), Ordering::Relaxed);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_clock_moves_only_when_advanced() {
        let (clock, time) = Clock::mock();
        assert_eq!(clock.recent(), 0);
        time.advance(Duration::from_millis(5));
        assert_eq!(clock.recent(), 5_000_000);
        assert_eq!(clock.precise(), 5_000_000);
        assert_eq!(
            clock.expiry_after(Some(Duration::from_millis(1))),
            6_000_000
        );
        assert_eq!(clock.expiry_after(None), NEVER);
        time.advance(Duration::MAX);
        assert_eq!(clock.recent(), NEVER);
    }

    #[test]
    fn system_clock_recent_time_is_never_behind_an_insert_by_more_than_a_tick() {
        let clock = Clock::System;
        clock.start();
        let precise = clock.precise();
        assert!(clock.recent() + duration_nanos(TICK) >= precise);
    }
}
