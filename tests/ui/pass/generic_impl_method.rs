//! A method in a generic impl: `impl<T: …> W<T> { #[ttl_cache] fn get(&self) -> u64 }`.
use cache_core::{PersistentHash, ttl_cache};

#[derive(PersistentHash)]
struct W<T> {
    inner: T,
}

impl<T: PersistentHash + Clone + Send + Sync + 'static> W<T> {
    #[ttl_cache]
    fn get(&self) -> u64 {
        let _ = self.inner.clone();
        7
    }
}

fn main() {
    let a = W { inner: 1u64 };
    let b = W {
        inner: String::from("x"),
    };
    assert_eq!(a.get(), 7);
    assert_eq!(a.get(), 7);
    assert_eq!(b.get(), 7);
    assert_eq!(W::<u64>::get_cache().cache_info().hits, 1);
}
