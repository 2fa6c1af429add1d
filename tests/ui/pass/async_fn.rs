//! An `async fn` is cached: the second await of the same key is a hit.
use cache_core::ttl_cache;

#[ttl_cache(ttl = 30)]
async fn double(x: u64) -> u64 {
    x * 2
}

fn main() {
    // Building a future and dropping it runs nothing.
    drop(double(7));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        assert_eq!(double(21).await, 42);
        assert_eq!(double(21).await, 42);
    });
    let info = double::cache_info();
    assert_eq!((info.hits, info.misses), (1, 1));
}
