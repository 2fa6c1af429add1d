//! `-> Option<T>` caches `None` by default, and not with `cache_none = false`.
use cache_core::ttl_cache;

#[ttl_cache]
fn find(x: u64) -> Option<u64> {
    (x > 0).then_some(x)
}

#[ttl_cache(cache_none = false)]
fn find_some(x: u64) -> Option<u64> {
    (x > 0).then_some(x)
}

fn main() {
    assert_eq!(find(0), None);
    assert_eq!(find(0), None);
    assert_eq!(find::cache_info().hits, 1);

    assert_eq!(find_some(0), None);
    assert_eq!(find_some(0), None);
    assert_eq!(find_some(1), Some(1));
    assert_eq!(find_some(1), Some(1));
    let info = find_some::cache_info();
    assert_eq!((info.hits, info.current_size), (1, 1));
    assert!(!find_some::cache_parameters().cache_none);
}
