//! A negative ttl literal (`ttl = -5`) is rejected as negative.
use cache_core::ttl_cache;

#[ttl_cache(ttl = -5)]
fn f(x: u64) -> u64 {
    x
}

fn main() {
    f(1);
}
