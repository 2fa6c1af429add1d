//! Several mistakes in one attribute are all reported, each on its own token.
use cache_core::ttl_cache;

#[ttl_cache(tll = 1, ttl = -1, skip(nope))]
fn f(x: u64) -> u64 {
    x
}

fn main() {
    f(1);
}
