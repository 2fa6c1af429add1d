//! A cached function defined inside another function's body.
fn main() {
    use cache_core::ttl_cache;

    #[ttl_cache]
    fn inner(x: u64) -> u64 {
        x * 3
    }

    assert_eq!(inner(2), 6);
    assert_eq!(inner(2), 6);
    assert_eq!(inner::cache_info().hits, 1);
}
