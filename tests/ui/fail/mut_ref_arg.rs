//! A `&mut` argument that is not skipped cannot be part of the key.
use cache_core::ttl_cache;

#[ttl_cache]
fn f(x: u64, out: &mut Vec<u64>) -> u64 {
    out.push(x);
    x
}

fn main() {
    f(1, &mut Vec::new());
}
