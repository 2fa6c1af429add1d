//! A `const fn` cannot be cached: the error is on `const`.
use cache_core::ttl_cache;

#[ttl_cache]
const fn f(x: u64) -> u64 {
    x
}

fn main() {
    f(1);
}
