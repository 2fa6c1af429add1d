//! `crate = "::cache_core"` names the runtime crate explicitly.
#[cache_core::ttl_cache(crate = "::cache_core")]
fn f(x: u64) -> u64 {
    x + 1
}

fn main() {
    assert_eq!(f(1), 2);
    assert_eq!(f(1), 2);
    assert_eq!(f::cache_info().hits, 1);
}
