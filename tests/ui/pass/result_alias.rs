//! A type alias of `Result` with the `result` option caches `Ok` values only.
use cache_core::ttl_cache;

type Fallible<T> = std::result::Result<T, String>;

#[ttl_cache(result)]
fn parse(s: &str) -> Fallible<u64> {
    s.parse::<u64>().map_err(|e| e.to_string())
}

fn main() {
    assert_eq!(parse("7"), Ok(7));
    assert!(parse("x").is_err());
    assert!(parse("x").is_err());
    assert_eq!(parse::cache_info().current_size, 1);
}
