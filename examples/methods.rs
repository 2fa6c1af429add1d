//! `#[ttl_cache]` in an `impl` block. On a method, `&self` is part of the key,
//! so each distinct value has its own results. `skip(self)` shares results
//! across instances (and allows `&mut self`). An associated function is cached
//! too: add `associated` when it never mentions `Self`. Each of them gets an
//! associated `Type::name_cache()` handle.
//!
//! Run: `cargo run --example methods`

use std::sync::atomic::{AtomicU32, Ordering};

use cache_core::{PersistentHash, ttl_cache};

/// How many times each body really ran.
static VALUATIONS: AtomicU32 = AtomicU32::new(0);
static RATE_LOOKUPS: AtomicU32 = AtomicU32::new(0);

/// A receiver that is part of the key must implement `PersistentHash`.
#[derive(PersistentHash, Clone, Debug)]
struct Portfolio {
    owner: String,
    holdings: Vec<(String, u64)>,
}

impl Portfolio {
    /// Keyed on `self` and `currency`: two equal portfolios share results.
    #[ttl_cache(ttl = 30)]
    fn value(&self, currency: &str) -> f64 {
        VALUATIONS.fetch_add(1, Ordering::Relaxed);
        let units: u64 = self.holdings.iter().map(|(_, units)| units).sum();
        units as f64 * Self::rate(currency)
    }

    /// An associated function that never says `Self`: `associated` tells the
    /// macro it is not a free function.
    #[ttl_cache(associated, ttl = 3600)]
    fn rate(currency: &str) -> f64 {
        RATE_LOOKUPS.fetch_add(1, Ordering::Relaxed);
        match currency {
            "EUR" => 0.92,
            _ => 1.0,
        }
    }

    /// An associated function that mentions `Self` needs no flag.
    #[ttl_cache]
    fn demo(owner: &str) -> Self {
        Self {
            owner: owner.to_owned(),
            holdings: vec![("ACME".into(), 10), ("GLOBEX".into(), 5)],
        }
    }
}

/// A client whose calls do not depend on its own state: `skip(self)`.
struct Client {
    requests_sent: u32,
}

impl Client {
    /// `&mut self` cannot be hashed; with `skip(self)` every client shares
    /// one set of results, keyed on `id` only.
    #[ttl_cache(skip(self))]
    fn profile(&mut self, id: u32) -> String {
        self.requests_sent += 1;
        format!("profile #{id}")
    }
}

fn main() {
    let alice = Portfolio::demo("alice");
    let alice_again = Portfolio::demo("alice"); // a hit: same owner
    let bob = Portfolio {
        owner: "bob".into(),
        holdings: vec![("ACME".into(), 1)],
    };
    println!(
        "{} holds {:?}; demo(\"alice\") built once: {}",
        alice_again.owner,
        alice_again.holdings,
        Portfolio::demo_cache().cache_info().computations == 1
    );

    println!("alice in USD: {}", alice.value("USD"));
    println!("alice in USD: {} (hit)", alice.value("USD"));
    println!(
        "an equal copy of alice in USD: {} (hit: equal receivers share a key)",
        alice.clone().value("USD")
    );
    println!(
        "alice in EUR: {} (miss: other argument)",
        alice.value("EUR")
    );
    println!("bob in USD: {} (miss: other receiver)", bob.value("USD"));
    println!(
        "value: 5 calls, body ran {} times",
        VALUATIONS.load(Ordering::Relaxed)
    );
    println!(
        "rate: looked up {} times for 2 currencies",
        RATE_LOOKUPS.load(Ordering::Relaxed)
    );

    let mut first = Client { requests_sent: 0 };
    let mut second = Client { requests_sent: 0 };
    println!("{}", first.profile(7));
    println!("{} (a hit: self is skipped)", second.profile(7));
    println!(
        "requests sent: first {}, second {}",
        first.requests_sent, second.requests_sent
    );

    // The handles: `Type::name_cache()` is a `&'static CachedFn`.
    for (name, cache) in [
        ("Portfolio::value_cache()", Portfolio::value_cache()),
        ("Portfolio::rate_cache()", Portfolio::rate_cache()),
        ("Portfolio::demo_cache()", Portfolio::demo_cache()),
        ("Client::profile_cache()", Client::profile_cache()),
    ] {
        let info = cache.cache_info();
        let parameters = cache.cache_parameters();
        println!(
            "{name}: hits {}, misses {}, size {}, ttl {:?}, identifier {:?}",
            info.hits, info.misses, info.current_size, parameters.ttl, parameters.identifier
        );
    }
    Portfolio::value_cache().cache_clear();
    println!(
        "after Portfolio::value_cache().cache_clear(): size {}",
        Portfolio::value_cache().cache_info().current_size
    );
}
