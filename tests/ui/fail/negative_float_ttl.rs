//! A negative float ttl (`ttl = -1.5`) is rejected as negative, not read as 0 ns.
use cache_core::ttl_cache;

#[ttl_cache(ttl = -1.5)]
fn f(x: u64) -> u64 {
    x
}

fn main() {
    f(1);
}
