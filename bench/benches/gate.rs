//! Deterministic instruction counts for the hit path, for callgrind.
//!
//! `gate <candidate> <ops>` warms 10,000 keys then performs `ops` hits. Running it
//! under `valgrind --tool=callgrind` for two values of `ops` and dividing the
//! difference of the totals by the difference of `ops` gives instructions per hit,
//! free of setup costs. Candidates: `dashmap`, `ours`, `ours-memkey`, `ours-macro`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use cache_core::{Cache, MemKey, ttl_cache};

const KEYS: u64 = 10_000;

#[ttl_cache(ttl = 3600, max_entries = 20_000)]
fn cached_fn(k: u64) -> u64 {
    k
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let candidate = args.first().map(String::as_str).unwrap_or("ours");
    let ops: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let keys = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % KEYS;
    let mut acc = 0u64;
    match candidate {
        "dashmap" => {
            let map: dashmap::DashMap<u64, u64, foldhash::fast::RandomState> = Default::default();
            for k in 0..KEYS {
                map.insert(k, k);
            }
            for i in 0..ops {
                acc = acc.wrapping_add(*map.get(&keys(i)).unwrap());
            }
        }
        "ours" => {
            let cache: Cache<u64, u64> = Cache::builder()
                .ttl(Duration::from_secs(3600))
                .max_entries(20_000)
                .build();
            (0..KEYS).for_each(|k| cache.insert(k, k));
            for i in 0..ops {
                let k = keys(i);
                acc = acc.wrapping_add(cache.get_or_insert_with(k, || k));
            }
        }
        "ours-memkey" => {
            let cache: Cache<MemKey, u64> = Cache::builder()
                .ttl(Duration::from_secs(3600))
                .max_entries(20_000)
                .build();
            (0..KEYS).for_each(|k| cache.insert(MemKey::of(&k), k));
            for i in 0..ops {
                acc = acc.wrapping_add(cache.get(&MemKey::of(&keys(i))).unwrap());
            }
        }
        "ours-macro" => {
            (0..KEYS).for_each(|k| {
                cached_fn(k);
            });
            for i in 0..ops {
                acc = acc.wrapping_add(cached_fn(keys(i)));
            }
        }
        other => panic!("unknown candidate {other}"),
    }
    black_box(acc);
}
