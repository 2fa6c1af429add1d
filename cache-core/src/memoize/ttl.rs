//! What the `ttl = …` option accepts.

use std::time::Duration;

/// A time-to-live given to `#[ttl_cache(ttl = …)]`: `Some(duration)`, or `None`
/// for "never expires".
///
/// Integer and float literals are seconds and are checked at compile time
/// (negative, non-finite or malformed values are compile errors). Any other
/// expression must produce one of the types below.
///
/// ```
/// use std::time::Duration;
/// use cache_core::IntoTtl;
///
/// assert_eq!(30u64.into_ttl(), Some(Duration::from_secs(30)));
/// assert_eq!(Duration::from_millis(250).into_ttl(), Some(Duration::from_millis(250)));
/// assert_eq!(None::<Duration>.into_ttl(), None);
/// ```
pub trait IntoTtl {
    /// The TTL, `None` meaning no expiry.
    fn into_ttl(self) -> Option<Duration>;
}

impl IntoTtl for Duration {
    fn into_ttl(self) -> Option<Duration> {
        Some(self)
    }
}

impl IntoTtl for Option<Duration> {
    fn into_ttl(self) -> Option<Duration> {
        self
    }
}

impl IntoTtl for u64 {
    /// Seconds.
    fn into_ttl(self) -> Option<Duration> {
        Some(Duration::from_secs(self))
    }
}

impl IntoTtl for u32 {
    /// Seconds.
    fn into_ttl(self) -> Option<Duration> {
        Some(Duration::from_secs(u64::from(self)))
    }
}
