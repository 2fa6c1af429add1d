//! Every form of `ttl`: integer seconds, float seconds, `None`, and a `Duration` expression.
use std::time::Duration;

use cache_core::ttl_cache;

#[ttl_cache(ttl = 30)]
fn secs(x: u64) -> u64 {
    x
}

#[ttl_cache(ttl = 1.5)]
fn fractional(x: u64) -> u64 {
    x
}

#[ttl_cache(ttl = None)]
fn forever(x: u64) -> u64 {
    x
}

#[ttl_cache(ttl = Duration::from_millis(5))]
fn millis(x: u64) -> u64 {
    x
}

#[ttl_cache]
fn default_ttl(x: u64) -> u64 {
    x
}

fn main() {
    assert_eq!(
        secs(1) + fractional(1) + forever(1) + millis(1) + default_ttl(1),
        5
    );
    assert_eq!(secs::cache_parameters().ttl, Some(Duration::from_secs(30)));
    assert_eq!(
        fractional::cache_parameters().ttl,
        Some(Duration::from_millis(1500))
    );
    assert_eq!(forever::cache_parameters().ttl, None);
    assert_eq!(
        millis::cache_parameters().ttl,
        Some(Duration::from_millis(5))
    );
    assert_eq!(
        default_ttl::cache_parameters().ttl,
        Some(cache_core::DEFAULT_TTL)
    );
}
