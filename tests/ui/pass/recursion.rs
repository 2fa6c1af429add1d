//! A recursive cached function (fib) calls itself through its cache.
use cache_core::ttl_cache;

#[ttl_cache(ttl = None)]
fn fib(n: u64) -> u64 {
    if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
}

fn main() {
    assert_eq!(fib(50), 12_586_269_025);
    assert_eq!(fib::cache_info().misses, 51);
}
