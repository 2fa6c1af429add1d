//! `-> Result<T, E>` caches `Ok` values only.
use cache_core::ttl_cache;

#[ttl_cache]
fn parse(s: &str) -> Result<u64, String> {
    s.parse::<u64>().map_err(|e| e.to_string())
}

fn main() {
    assert_eq!(parse("12"), Ok(12));
    assert_eq!(parse("12"), Ok(12));
    assert!(parse("x").is_err());
    assert!(parse("x").is_err());
    let info = parse::cache_info();
    assert_eq!((info.hits, info.current_size), (1, 1));
}
