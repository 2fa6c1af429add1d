//! The main example: an in-memory TTL cache in front of a slow function, with
//! single-flight loading, per-entry TTLs and counters. No server needed.
//!
//! Run: `cargo run --release --example quickstart`

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use cache_core::{Cache, Expiry, MemKey, PersistentHash, persistent_digest};

/// An argument type: its key is a canonical encoding, the same in every process.
#[derive(PersistentHash, Debug, Clone)]
struct Quote {
    symbol: String,
    day: u32,
}

/// Something slow worth caching.
fn slow_price(quote: &Quote) -> f64 {
    thread::sleep(Duration::from_millis(50));
    quote.symbol.len() as f64 * 10.0 + f64::from(quote.day)
}

fn main() {
    let prices: Cache<MemKey, f64> = Cache::builder()
        .ttl(Duration::from_secs(30))
        .max_entries(1_000)
        .build();
    let acme = Quote {
        symbol: "ACME".into(),
        day: 3,
    };

    // A miss computes; a hit returns the stored value.
    let started = Instant::now();
    let first = prices.get_or_insert_with(MemKey::of(&acme), || slow_price(&acme));
    let miss = started.elapsed();
    let started = Instant::now();
    let second = prices.get_or_insert_with(MemKey::of(&acme), || slow_price(&acme));
    let hit = started.elapsed();
    println!("price {first} (miss, {miss:?}), then {second} (hit, {hit:?})");

    // Eight threads missing the same cold key run the body once.
    let globex = Quote {
        symbol: "GLOBEX".into(),
        day: 4,
    };
    let computed = Arc::new(std::sync::atomic::AtomicU32::new(0));
    thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                prices.get_or_insert_with(MemKey::of(&globex), || {
                    computed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    slow_price(&globex)
                })
            });
        }
    });
    println!(
        "8 concurrent callers on a cold key: body ran {} time(s)",
        computed.load(std::sync::atomic::Ordering::Relaxed)
    );

    // Per-entry expiry, including "never".
    let sessions: Cache<&'static str, Arc<String>> = Cache::with_ttl(Duration::from_secs(60));
    sessions.insert_with_ttl(
        "short",
        Arc::new("expires in 1s".into()),
        Duration::from_secs(1),
    );
    sessions.insert_with_expiry(
        "pinned",
        Arc::new("kept until removed".into()),
        Expiry::Never,
    );
    for (key, value, ttl) in sessions.iter() {
        println!("session {key}: {value} (remaining ttl: {ttl:?})");
    }

    // Keys are persistent: this digest is the same on every machine and release.
    println!("persistent key of {acme:?}: {}", persistent_digest(&acme));

    let info = prices.info();
    println!(
        "prices: hits {}, misses {}, computations {}, size {}/{}, hit ratio {:.2}",
        info.hits,
        info.misses,
        info.computations,
        info.current_size,
        info.max_entries,
        info.hit_ratio()
    );
}
