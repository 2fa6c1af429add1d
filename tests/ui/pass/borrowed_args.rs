//! A free function taking `&str`, `&[T]` and `&T` arguments caches by their values.
use cache_core::ttl_cache;

#[ttl_cache]
fn total(name: &str, values: &[u64], scale: &u64) -> u64 {
    name.len() as u64 + values.iter().sum::<u64>() * scale
}

fn main() {
    let values = vec![1, 2, 3];
    assert_eq!(total("ab", &values, &2), 14);
    assert_eq!(total("ab", &[1, 2, 3], &2), 14);
    assert_eq!(total("ab", &values, &3), 20);
    let info = total::cache_info();
    assert_eq!((info.hits, info.misses), (1, 2));
}
