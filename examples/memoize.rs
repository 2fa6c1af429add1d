//! `#[ttl_cache]` on free functions: one taking `&str` arguments, one taking no
//! argument at all, and one returning `Option`. Then the handle the macro puts
//! beside each function: `name::cache_info()`, `name::cache_clear()` and
//! `name::cache_parameters()`.
//!
//! Run: `cargo run --example memoize`

use std::sync::atomic::{AtomicU32, Ordering};

use cache_core::ttl_cache;

/// How many times each body really ran.
static GREETINGS: AtomicU32 = AtomicU32::new(0);
static CONFIG_LOADS: AtomicU32 = AtomicU32::new(0);
static LOOKUPS: AtomicU32 = AtomicU32::new(0);

/// Borrowed arguments: the key is built from them by reference, nothing is cloned.
#[ttl_cache(ttl = 30)]
fn greeting(name: &str, language: &str) -> String {
    GREETINGS.fetch_add(1, Ordering::Relaxed);
    match language {
        "fr" => format!("Bonjour, {name} !"),
        _ => format!("Hello, {name}!"),
    }
}

/// No arguments: one cached result, recomputed once the TTL has passed.
#[ttl_cache(ttl = 300)]
fn config() -> Vec<(String, String)> {
    CONFIG_LOADS.fetch_add(1, Ordering::Relaxed);
    vec![
        ("region".into(), "eu-west".into()),
        ("replicas".into(), "3".into()),
    ]
}

/// `Option`: `None` is a result like any other and is stored too (add
/// `cache_none = false` to store only `Some`).
#[ttl_cache]
fn user_id(login: &str) -> Option<u64> {
    LOOKUPS.fetch_add(1, Ordering::Relaxed);
    match login {
        "ada" => Some(1),
        "grace" => Some(2),
        _ => None,
    }
}

fn main() {
    println!("{}", greeting("Ada", "en"));
    println!("{}", greeting("Ada", "en"));
    println!("{}", greeting("Ada", "fr"));
    println!(
        "greeting: 3 calls, body ran {} times (one per distinct arguments)",
        GREETINGS.load(Ordering::Relaxed)
    );

    for _ in 0..3 {
        config();
    }
    println!(
        "config: {:?}; 4 calls, loaded {} time",
        config(),
        CONFIG_LOADS.load(Ordering::Relaxed)
    );

    for login in ["ada", "nobody", "ada", "nobody"] {
        println!("user_id({login:?}) = {:?}", user_id(login));
    }
    println!(
        "user_id: 4 calls, body ran {} times (None was stored too)",
        LOOKUPS.load(Ordering::Relaxed)
    );

    // The handle: counters, settings, clearing.
    let info = greeting::cache_info();
    println!(
        "greeting::cache_info(): hits {}, misses {}, computations {}, size {}/{}, hit ratio {:.2}",
        info.hits,
        info.misses,
        info.computations,
        info.current_size,
        info.max_entries,
        info.hit_ratio()
    );
    let parameters = greeting::cache_parameters();
    println!(
        "greeting::cache_parameters(): ttl {:?}, max_entries {}, identifier {:?}, typed {}, \
         backend {}, single_flight {}",
        parameters.ttl,
        parameters.max_entries,
        parameters.identifier,
        parameters.typed,
        parameters.backend,
        parameters.single_flight
    );
    println!(
        "config::cache_parameters().ttl = {:?}, user_id::cache_parameters().ttl = {:?} (the default)",
        config::cache_parameters().ttl,
        user_id::cache_parameters().ttl
    );

    greeting::cache_clear();
    let info = greeting::cache_info();
    println!(
        "after greeting::cache_clear(): size {}, hits {}, misses {}",
        info.current_size, info.hits, info.misses
    );
    greeting("Ada", "en");
    println!(
        "greeting(\"Ada\", \"en\") after the clear: body ran again ({} runs in all)",
        GREETINGS.load(Ordering::Relaxed)
    );
}
