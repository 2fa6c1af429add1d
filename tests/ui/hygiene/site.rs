//! The body cannot see the expansion's `__ttl_cache_site` binding.
use cache_core::ttl_cache;

#[ttl_cache]
fn f(x: u64) -> u64 {
    let _ = __ttl_cache_site;
    x
}

fn main() {
    f(1);
}
