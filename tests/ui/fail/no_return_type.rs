//! A function without a return type has nothing to cache: the error is on its name.
use cache_core::ttl_cache;

#[ttl_cache]
fn f(x: u64) {
    let _ = x;
}

fn main() {
    f(1);
}
