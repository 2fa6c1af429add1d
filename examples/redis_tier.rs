//! Two tiers: a local copy in memory in front of Redis. Hits after the first
//! read make no round trip; `cache_clear` in any process drops the copies of
//! every process (pub/sub on `<prefix>:invalidate`).
//!
//! ```sh
//! redis-server --port 6379 --save "" --appendonly no &
//! cargo run --example redis_tier        # REDIS_URL=redis://host:port/db to point elsewhere
//! ```

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use cache_core::ttl_cache;
use cache_redis::RedisBackend;

static REDIS: LazyLock<RedisBackend> = LazyLock::new(|| {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    match RedisBackend::builder(url)
        .prefix("example-tier")
        .op_timeout(Duration::from_millis(100))
        // Up to 10,000 local copies, each kept at most 30 s.
        .local_tier(10_000, Duration::from_secs(30))
        .build()
    {
        Ok(backend) => backend,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(2);
        }
    }
});

#[ttl_cache(ttl = 300, backend = REDIS.clone())]
fn exchange_rate(pair: &str) -> f64 {
    std::thread::sleep(Duration::from_millis(50)); // a slow upstream call
    if pair == "EUR/USD" { 1.08 } else { 1.0 }
}

fn timed(label: &str) {
    let started = Instant::now();
    let rate = exchange_rate("EUR/USD");
    println!("{label}: {rate} in {:?}", started.elapsed());
}

fn main() {
    // The subscriber connects in the background; copies are kept once it has.
    let _ = REDIS.clone();
    std::thread::sleep(Duration::from_millis(100));
    exchange_rate::cache_clear();
    timed("miss (computed, written to Redis and kept locally)");
    timed("hit from the local copy (no round trip)");
    timed("hit from the local copy again");
    let info = exchange_rate::cache_info();
    println!(
        "{} hits, {} misses, {} backend errors",
        info.hits, info.misses, info.backend_errors
    );
    exchange_rate::cache_clear(); // every process drops its copies
    timed("after cache_clear: computed again");
}
