//! Generic type parameters are not supported: the error is on the parameter's name.
use cache_core::{PersistentHash, ttl_cache};

#[ttl_cache]
fn f<T: PersistentHash + Clone + Send + Sync + 'static>(x: T) -> T {
    x
}

fn main() {
    f(1u64);
}
