//! The main example. It puts `#[ttl_cache]` on a slow function: the first call
//! misses and later calls hit, eight concurrent callers run the body once, and
//! the counters report it. Then it shows the standalone `Cache` the macro is
//! built on: single-flight loading, per-entry TTLs and persistent keys. No
//! server is needed.
//!
//! Run: `cargo run --release --example quickstart`

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use cache_core::{Cache, Expiry, MemKey, PersistentHash, persistent_digest, ttl_cache};

/// An argument type: its key is a canonical encoding, the same in every process.
#[derive(PersistentHash, Debug, Clone)]
struct Quote {
    symbol: String,
    day: u32,
}

/// How many times a slow body really ran.
static COMPUTED: AtomicU32 = AtomicU32::new(0);

/// Something slow worth caching.
fn slow_price(quote: &Quote) -> f64 {
    COMPUTED.fetch_add(1, Ordering::Relaxed);
    thread::sleep(Duration::from_millis(50));
    quote.symbol.len() as f64 * 10.0 + f64::from(quote.day)
}

/// The macro: results are kept for 30 seconds, at most 1,000 of them, keyed by
/// `quote`'s `PersistentHash` encoding.
#[ttl_cache(ttl = 30, max_entries = 1_000)]
fn price(quote: &Quote) -> f64 {
    slow_price(quote)
}

fn main() {
    println!("== #[ttl_cache] ==");
    let acme = Quote {
        symbol: "ACME".into(),
        day: 3,
    };

    // A miss runs the body; a hit returns a clone of the stored value.
    let started = Instant::now();
    let first = price(&acme);
    let miss = started.elapsed();
    let started = Instant::now();
    let second = price(&acme);
    let hit = started.elapsed();
    println!("price {first} (miss, {miss:?}), then {second} (hit, {hit:?})");

    // Eight threads missing the same cold key run the body once.
    let globex = Quote {
        symbol: "GLOBEX".into(),
        day: 4,
    };
    let before = COMPUTED.load(Ordering::Relaxed);
    thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| price(&globex));
        }
    });
    println!(
        "8 concurrent callers on a cold key: body ran {} time(s) (all 8 count as misses: 7 waited for that run)",
        COMPUTED.load(Ordering::Relaxed) - before
    );

    // The function's cache: counters, settings, clearing.
    // A miss is a call that found no stored value: each of the 8 concurrent
    // callers missed, one ran the body and the other 7 waited for its value.
    // `computations` counts the body's runs.
    println!("price: {}", price::cache_info());
    let parameters = price::cache_parameters();
    println!(
        "price: ttl {:?}, identifier {:?}, backend {}",
        parameters.ttl, parameters.identifier, parameters.backend
    );
    price::cache_clear();
    println!(
        "after price::cache_clear(): size {}",
        price::cache_info().current_size
    );

    println!("\n== the standalone Cache ==");
    let prices: Cache<MemKey, f64> = Cache::builder()
        .ttl(Duration::from_secs(30))
        .max_entries(1_000)
        .build();

    // A miss computes; a hit returns the stored value.
    let started = Instant::now();
    let first = prices.get_or_insert_with(MemKey::of(&acme), || slow_price(&acme));
    let miss = started.elapsed();
    let started = Instant::now();
    let second = prices.get_or_insert_with(MemKey::of(&acme), || slow_price(&acme));
    let hit = started.elapsed();
    println!("price {first} (miss, {miss:?}), then {second} (hit, {hit:?})");

    // Eight threads missing the same cold key run the producer once.
    let computed = AtomicU32::new(0);
    thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                prices.get_or_insert_with(MemKey::of(&globex), || {
                    computed.fetch_add(1, Ordering::Relaxed);
                    slow_price(&globex)
                })
            });
        }
    });
    println!(
        "8 concurrent callers on a cold key: producer ran {} time(s)",
        computed.load(Ordering::Relaxed)
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

    println!("prices: {}", prices.info());
}
