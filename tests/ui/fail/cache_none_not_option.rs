//! `cache_none = false` on a function that does not return `Option` is rejected.
use cache_core::ttl_cache;

#[ttl_cache(cache_none = false)]
fn f(x: u64) -> u64 {
    x
}

fn main() {
    f(1);
}
