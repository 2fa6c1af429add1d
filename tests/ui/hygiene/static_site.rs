//! Neither the body nor the surrounding module can see the `__TTL_CACHE_SITE` static.
use cache_core::ttl_cache;

#[ttl_cache]
fn f(x: u64) -> u64 {
    let _ = &__TTL_CACHE_SITE;
    x
}

fn main() {
    f(1);
    let _ = &__TTL_CACHE_SITE;
}
