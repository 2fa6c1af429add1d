//! `#[ttl_cache]` on an `async fn` returning `Result`, on a current-thread Tokio
//! runtime: `Ok` values are cached, errors are returned and never stored, and
//! concurrent callers of one cold key share a single run of the body.
//!
//! Run: `cargo run --example async_fn`

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use cache_core::ttl_cache;

/// How many times the body really ran.
static FETCHES: AtomicU32 = AtomicU32::new(0);

/// A remote call, say: slow, and failing for some inputs.
#[ttl_cache(ttl = 60)]
async fn fetch(url: &str) -> Result<String, String> {
    FETCHES.fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(30)).await;
    if url.starts_with("https://") {
        Ok(format!("<page of {url}>"))
    } else {
        Err(format!("refusing a plain-http url: {url}"))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let started = Instant::now();
    let page = fetch("https://example.org").await;
    println!("{page:?} (miss, {:?})", started.elapsed());
    let started = Instant::now();
    let page = fetch("https://example.org").await;
    println!("{page:?} (hit, {:?})", started.elapsed());

    // Errors are not stored: each call runs the body again.
    for _ in 0..2 {
        let before = FETCHES.load(Ordering::Relaxed);
        let result = fetch("http://example.org").await;
        println!(
            "{result:?} (body ran: {})",
            FETCHES.load(Ordering::Relaxed) > before
        );
    }

    // Three tasks missing one cold key together: the body runs once, and the
    // waiting tasks do not block the (single) executor thread.
    let before = FETCHES.load(Ordering::Relaxed);
    let (a, b, c) = tokio::join!(
        fetch("https://example.com"),
        fetch("https://example.com"),
        fetch("https://example.com"),
    );
    println!(
        "3 concurrent callers: all Ok {}, body ran {} time(s)",
        a.is_ok() && b.is_ok() && c.is_ok(),
        FETCHES.load(Ordering::Relaxed) - before
    );

    let info = fetch::cache_info();
    println!(
        "fetch: hits {}, misses {}, computations {}, size {} (only the Ok pages)",
        info.hits, info.misses, info.computations, info.current_size
    );
}
