//! `-> impl Trait` cannot be stored: the error is on the return type.
use cache_core::ttl_cache;

#[ttl_cache]
fn f(x: u64) -> impl Clone {
    x
}

fn main() {
    let _ = f(1);
}
