//! A borrowed return type (`-> &str`) cannot be stored: the error is on the reference type.
use cache_core::ttl_cache;

#[ttl_cache]
fn f(s: &str) -> &str {
    s
}

fn main() {
    f("x");
}
