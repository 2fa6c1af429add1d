//! `#[ttl_cache]` on a struct is rejected: it applies to functions only.
use cache_core::ttl_cache;

#[ttl_cache]
struct S {
    x: u64,
}

fn main() {
    let s = S { x: 1 };
    let _ = s.x;
}
