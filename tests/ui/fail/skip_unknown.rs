//! `skip(..)` naming no parameter is reported on that name.
use cache_core::ttl_cache;

#[ttl_cache(skip(y))]
fn f(x: u64) -> u64 {
    x
}

fn main() {
    f(1);
}
