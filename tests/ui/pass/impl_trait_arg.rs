//! An `impl PersistentHash` argument is accepted.
use cache_core::{PersistentHash, ttl_cache};

#[ttl_cache]
fn describe(value: impl PersistentHash) -> String {
    let _ = &value;
    String::from("described")
}

fn main() {
    assert_eq!(describe(1u64), "described");
    assert_eq!(describe(1u64), "described");
    assert_eq!(describe("x"), "described");
    assert_eq!(describe::cache_info().hits, 1);
}
