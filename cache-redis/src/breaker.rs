//! A consecutive-failure circuit breaker, shared by every call of one backend.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cache_core::BackendError;

use crate::NAME;

/// Open for `cooldown` after `threshold` failures in a row; then one call at a
/// time is let through (half-open) until one succeeds.
pub(crate) struct Breaker {
    threshold: u32,
    cooldown: Duration,
    failures: AtomicU32,
    /// Nanoseconds since `epoch` until which calls are refused; 0 when closed.
    open_until: AtomicU64,
    /// How many times the breaker went from closed to open.
    opens: AtomicU64,
    epoch: Instant,
    /// The backend's key prefix, naming it in events and metrics.
    #[cfg_attr(not(any(feature = "tracing", feature = "metrics")), allow(dead_code))]
    prefix: String,
}

impl Breaker {
    pub(crate) fn new(threshold: u32, cooldown: Duration, prefix: &str) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown,
            failures: AtomicU32::new(0),
            open_until: AtomicU64::new(0),
            opens: AtomicU64::new(0),
            epoch: Instant::now(),
            prefix: prefix.to_owned(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn cooldown_nanos(&self) -> u64 {
        u64::try_from(self.cooldown.as_nanos()).unwrap_or(u64::MAX)
    }

    fn refused() -> BackendError {
        BackendError::Unavailable {
            backend: NAME,
            reason: "circuit breaker open after repeated failures".into(),
        }
    }

    /// `Ok` when a call may go to the network.
    pub(crate) fn admit(&self) -> Result<(), BackendError> {
        let until = self.open_until.load(Ordering::Acquire);
        if until == 0 {
            return Ok(());
        }
        let now = self.now();
        if now < until {
            return Err(Self::refused());
        }
        // Half-open: this caller probes; the others wait another cooldown.
        let next = now.saturating_add(self.cooldown_nanos());
        self.open_until
            .compare_exchange(until, next, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(|_| Self::refused())
    }

    /// Closes the breaker. Reads before writing, so that a healthy backend's
    /// calls on many threads do not all write one shared cache line.
    pub(crate) fn success(&self) {
        if self.failures.load(Ordering::Relaxed) != 0 {
            self.failures.store(0, Ordering::Relaxed);
        }
        // Swapped (not stored) so that exactly one caller sees it close.
        if self.open_until.load(Ordering::Relaxed) != 0
            && self.open_until.swap(0, Ordering::AcqRel) != 0
        {
            #[cfg(feature = "tracing")]
            tracing::info!(
                backend = crate::NAME,
                prefix = %self.prefix,
                "redis circuit breaker closed: calls reach the server again"
            );
        }
    }

    pub(crate) fn failure(&self) {
        let failures = self
            .failures
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        if failures >= self.threshold {
            let now = self.now();
            let until = now.saturating_add(self.cooldown_nanos()).max(1);
            let before = self.open_until.swap(until, Ordering::AcqRel);
            // Only a closed breaker opening counts (a failed half-open probe
            // or a failure in flight while open does not).
            if before == 0 {
                self.opens.fetch_add(1, Ordering::Relaxed);
                self.opened(failures);
            }
        }
    }

    pub(crate) fn opens(&self) -> u64 {
        self.opens.load(Ordering::Relaxed)
    }

    /// Reports an opening (closed to open): a `WARN` event and a counter.
    #[cold]
    fn opened(&self, failures: u32) {
        #[cfg(feature = "tracing")]
        tracing::warn!(
            backend = crate::NAME,
            prefix = %self.prefix,
            failures,
            cooldown_ms = u64::try_from(self.cooldown.as_millis()).unwrap_or(u64::MAX),
            "redis circuit breaker open: calls are refused (each a miss) until a probe succeeds"
        );
        #[cfg(feature = "metrics")]
        metrics::counter!(BREAKER_OPENINGS, "prefix" => self.prefix.clone()).increment(1);
        let _ = failures;
    }
}

/// The counter of circuit-breaker openings (feature `metrics`), labelled
/// `prefix` with the backend's key prefix.
#[cfg(feature = "metrics")]
pub(crate) const BREAKER_OPENINGS: &str = "cache_redis_breaker_openings";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_counts_each_opening() {
        let breaker = Breaker::new(2, Duration::from_secs(3600), "test");
        breaker.failure();
        assert!(breaker.admit().is_ok());
        breaker.failure();
        assert!(breaker.admit().is_err());
        assert_eq!(breaker.opens(), 1);
        // In-flight failures while open do not count as new openings.
        breaker.failure();
        assert_eq!(breaker.opens(), 1);
        breaker.success();
        assert!(breaker.admit().is_ok());
        breaker.failure();
        breaker.failure();
        assert_eq!(breaker.opens(), 2);
    }

    #[test]
    fn half_open_lets_one_probe_through() {
        let breaker = Breaker::new(1, Duration::ZERO, "test");
        breaker.failure();
        assert_eq!(breaker.opens(), 1);
        assert!(breaker.admit().is_ok(), "cooldown elapsed: one probe");
        breaker.success();
        assert!(breaker.admit().is_ok());
    }
}
