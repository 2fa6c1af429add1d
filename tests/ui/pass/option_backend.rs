//! `backend = …` alone, and with `serializer = cache_core::codec::Json`.
use cache_core::ttl_cache;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Quote {
    symbol: String,
    price: u64,
}

#[ttl_cache(backend = cache_core::MemoryBackend::default())]
fn plain(x: u64) -> u64 {
    x * 2
}

#[ttl_cache(backend = cache_core::MemoryBackend::default(), serializer = cache_core::codec::Json)]
fn quote(symbol: &str) -> Quote {
    Quote {
        symbol: symbol.to_owned(),
        price: 10,
    }
}

#[ttl_cache(backend = cache_core::MemoryBackend::default(), serializer = cache_core::codec::Json)]
async fn quote_async(symbol: &str) -> Option<Quote> {
    Some(Quote {
        symbol: symbol.to_owned(),
        price: 11,
    })
}

fn main() {
    assert_eq!(plain(2), 4);
    assert_eq!(plain(2), 4);
    assert_eq!(plain::cache_info().hits, 1);
    assert_eq!(plain::cache_parameters().backend, "memory");

    let q = quote("ABC");
    assert_eq!(q.price, 10);
    assert_eq!(quote("ABC"), q);
    assert_eq!(quote::cache_info().hits, 1);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let q = runtime.block_on(quote_async("XYZ"));
    assert_eq!(q.map(|q| q.price), Some(11));
}
