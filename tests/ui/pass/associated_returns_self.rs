//! An associated function without a receiver returning `Self` gets `name_cache()`.
use cache_core::ttl_cache;

#[derive(Clone, Debug, PartialEq)]
struct Point {
    x: i64,
    y: i64,
}

impl Point {
    #[ttl_cache]
    fn diagonal(n: i64) -> Self {
        Self { x: n, y: n }
    }
}

fn main() {
    assert_eq!(Point::diagonal(2), Point { x: 2, y: 2 });
    assert_eq!(Point::diagonal(2), Point { x: 2, y: 2 });
    assert_eq!(Point::diagonal_cache().cache_info().hits, 1);
}
