//! `f::cache()` is a `&'static CachedFn` that can be returned from a plain function.
use cache_core::ttl_cache;

#[ttl_cache]
fn f(x: u64) -> u64 {
    x
}

pub fn cache_handle() -> &'static cache_core::CachedFn {
    f::cache()
}

fn main() {
    f(1);
    f(1);
    assert_eq!(cache_handle().cache_info().hits, 1);
    cache_handle().cache_clear();
    assert_eq!(f::cache_info().current_size, 0);
}
