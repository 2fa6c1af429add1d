//! `associated` marks an associated fn that never mentions `Self`: its handle is `name_cache()`.
use cache_core::ttl_cache;

struct Math;

impl Math {
    #[ttl_cache(associated)]
    fn square(x: u64) -> u64 {
        x * x
    }
}

fn main() {
    assert_eq!(Math::square(4), 16);
    assert_eq!(Math::square(4), 16);
    assert_eq!(Math::square_cache().cache_info().hits, 1);
}
