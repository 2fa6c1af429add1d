//! What `#[ttl_cache]` never stores. A function returning `Result` caches only
//! its `Ok` values: an `Err` goes back to the caller and the next call runs the
//! body again. A body that panics stores nothing either: the panic reaches its
//! caller, and the next call runs the body again.
//!
//! Run: `cargo run --example fallible`

use std::num::ParseIntError;
use std::panic;
use std::sync::atomic::{AtomicU32, Ordering};

use cache_core::ttl_cache;

/// How many times each body really ran.
static PARSES: AtomicU32 = AtomicU32::new(0);
static ATTEMPTS: AtomicU32 = AtomicU32::new(0);

/// Only `Ok` ports are stored.
#[ttl_cache]
fn parse_port(text: &str) -> Result<u16, ParseIntError> {
    PARSES.fetch_add(1, Ordering::Relaxed);
    text.trim().parse()
}

/// Panics on its first two calls (a flaky dependency, say), then succeeds.
#[ttl_cache]
fn flaky_lookup(id: u32) -> String {
    let attempt = ATTEMPTS.fetch_add(1, Ordering::Relaxed) + 1;
    assert!(attempt > 2, "attempt {attempt} failed");
    format!("record {id} (found on attempt {attempt})")
}

fn main() {
    for text in ["8080", "8080", "http", "http", " 443 "] {
        let before = PARSES.load(Ordering::Relaxed);
        let result = parse_port(text);
        let ran = PARSES.load(Ordering::Relaxed) > before;
        println!("parse_port({text:?}) = {result:?} (body ran: {ran})");
    }
    let info = parse_port::cache_info();
    println!(
        "parse_port: {} calls, body ran {} times, {} results stored (errors never are)",
        info.hits + info.misses,
        info.computations,
        info.current_size
    );

    // Keep the default hook from printing the two expected panics.
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    for _ in 0..4 {
        match panic::catch_unwind(|| flaky_lookup(7)) {
            Ok(record) => println!("flaky_lookup(7) = {record:?}"),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<String>()
                    .map_or("?", String::as_str)
                    .to_owned();
                println!("flaky_lookup(7) panicked: {message:?} (nothing stored)");
            }
        }
    }
    panic::set_hook(default_hook);
    let info = flaky_lookup::cache_info();
    println!(
        "flaky_lookup: body ran {} times, then 1 hit; hits {}, size {}",
        ATTEMPTS.load(Ordering::Relaxed),
        info.hits,
        info.current_size
    );
}
