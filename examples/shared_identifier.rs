//! Caches shared between functions with `identifier = "…"`: a result stored by
//! one function is a hit for another one that names the same identifier, with
//! the same key. Then `typed`: without it, integers key by value, so `3u8` and
//! `3u64` are one key; with it, the argument types are part of the key.
//!
//! Run: `cargo run --example shared_identifier`

use std::sync::atomic::{AtomicU32, Ordering};

use cache_core::ttl_cache;

/// How many times a population was really computed.
static CENSUS: AtomicU32 = AtomicU32::new(0);

fn count_population(city: &str) -> u64 {
    CENSUS.fetch_add(1, Ordering::Relaxed);
    city.len() as u64 * 100_000
}

/// Two modules, one cache: both functions name the identifier "population".
mod reports {
    use cache_core::ttl_cache;

    #[ttl_cache(identifier = "population", ttl = 600)]
    pub(crate) fn population(city: &str) -> u64 {
        super::count_population(city)
    }
}

mod api {
    use cache_core::ttl_cache;

    #[ttl_cache(identifier = "population", ttl = 600)]
    pub(crate) fn population(city: &str) -> u64 {
        super::count_population(city)
    }
}

#[ttl_cache(identifier = "untyped-widths")]
fn describe_u8(x: u8) -> String {
    format!("{x} computed as a u8")
}

#[ttl_cache(identifier = "untyped-widths")]
fn describe_u64(x: u64) -> String {
    format!("{x} computed as a u64")
}

#[ttl_cache(identifier = "typed-widths", typed)]
fn typed_describe_u8(x: u8) -> String {
    format!("{x} computed as a u8")
}

#[ttl_cache(identifier = "typed-widths", typed)]
fn typed_describe_u64(x: u64) -> String {
    format!("{x} computed as a u64")
}

fn main() {
    println!("reports: Paris has {}", reports::population("Paris"));
    println!("api:     Paris has {}", api::population("Paris"));
    println!(
        "2 functions, 1 shared cache: computed {} time(s)",
        CENSUS.load(Ordering::Relaxed)
    );
    let info = api::population::cache_info();
    println!(
        "api::population::cache_info() (the whole shared cache): hits {}, misses {}, size {}",
        info.hits, info.misses, info.current_size
    );
    println!(
        "identifier: {:?} for both",
        reports::population::cache_parameters().identifier
    );
    reports::population::cache_clear();
    println!(
        "after reports::population::cache_clear(): api sees size {}",
        api::population::cache_info().current_size
    );

    println!();
    println!("untyped: describe_u8(3)  = {:?}", describe_u8(3));
    println!(
        "untyped: describe_u64(3) = {:?} (a hit: 3u8 and 3u64 are one key)",
        describe_u64(3)
    );
    println!(
        "typed:   typed_describe_u8(3)  = {:?}",
        typed_describe_u8(3)
    );
    println!(
        "typed:   typed_describe_u64(3) = {:?} (a miss: the types differ)",
        typed_describe_u64(3)
    );
    println!(
        "untyped cache: size {}; typed cache: size {}",
        describe_u8::cache_info().current_size,
        typed_describe_u8::cache_info().current_size
    );
}
