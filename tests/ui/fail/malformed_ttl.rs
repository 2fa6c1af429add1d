//! A ttl that is a string literal is rejected on the literal.
use cache_core::ttl_cache;

#[ttl_cache(ttl = "30")]
fn f(x: u64) -> u64 {
    x
}

fn main() {
    f(1);
}
