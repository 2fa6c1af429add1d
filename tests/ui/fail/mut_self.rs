//! `&mut self` that is not skipped cannot be part of the key.
use cache_core::{PersistentHash, ttl_cache};

#[derive(PersistentHash)]
struct Counter {
    n: u64,
}

impl Counter {
    #[ttl_cache]
    fn bump(&mut self, by: u64) -> u64 {
        self.n += by;
        self.n
    }
}

fn main() {
    Counter { n: 0 }.bump(1);
}
