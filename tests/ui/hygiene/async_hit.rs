//! An async body cannot see the expansion's `__ttl_cache_hit` and
//! `__ttl_cache_miss` bindings (nor the key, as in `key.rs`).
use cache_core::ttl_cache;

#[ttl_cache]
async fn f(x: u64) -> u64 {
    let _ = __ttl_cache_hit;
    let _ = __ttl_cache_miss;
    x
}

fn main() {
    let _ = f(1);
}
