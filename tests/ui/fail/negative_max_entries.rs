//! Negative `max_entries` and `version` literals are rejected with clear messages.
use cache_core::ttl_cache;

#[ttl_cache(max_entries = -3)]
fn f(x: u64) -> u64 {
    x
}

#[ttl_cache(version = -1)]
fn g(x: u64) -> u64 {
    x
}

fn main() {
    f(1);
    g(1);
}
