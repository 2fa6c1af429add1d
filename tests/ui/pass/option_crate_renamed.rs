//! `crate = "cc"` works when `cache_core` is only reachable as `cc`.
use cache_core as cc;

#[cc::ttl_cache(crate = "cc")]
fn f(x: u64) -> u64 {
    x + 1
}

fn main() {
    assert_eq!(f(1), 2);
    assert_eq!(f::cache_info().misses, 1);
}
