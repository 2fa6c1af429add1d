//! A repeated option is reported at its second occurrence.
use cache_core::ttl_cache;

#[ttl_cache(ttl = 3, max_entries = 10, ttl = 4)]
fn f(x: u64) -> u64 {
    x
}

fn main() {
    f(1);
}
