//! A function without arguments caches its single result.
use cache_core::ttl_cache;

#[ttl_cache]
fn config() -> String {
    String::from("loaded")
}

fn main() {
    assert_eq!(config(), "loaded");
    assert_eq!(config(), "loaded");
    let info = config::cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
}
