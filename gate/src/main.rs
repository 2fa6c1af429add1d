//! The CI gate's workload: one candidate operation repeated, for callgrind.
//!
//! `cache-gate <candidate> <ops>` prepares its map, then performs `ops`
//! operations, each through one non-inlined call (as a caller's call site would).
//! `scripts/gate` runs it under `valgrind --tool=callgrind` for two values of
//! `ops` and divides the difference of the instruction totals by the difference
//! of `ops`: instructions per operation, free of set-up costs, the same on every
//! run.
//!
//! Candidates (u64 → u64, 10,000 warm keys for hits, a new key per miss):
//! - `dashmap-hit`: `DashMap<u64, u64, foldhash>::get` (the anchor of H1);
//! - `scc-hit`: `scc::HashIndex::peek_with`, the map under our engine (for
//!   reference: what the map alone costs);
//! - `macro-hit`: a `#[ttl_cache(ttl = 3600)]` function;
//! - `cache-hit`: `Cache::get_or_insert_with` with a TTL;
//! - `dashmap-miss`: `DashMap::entry(k).or_insert_with` on a new key (the anchor of H4);
//! - `macro-miss`: the `#[ttl_cache]` function on a new key (trivial body);
//! - `cache-miss`: `Cache::get_or_insert_with` on a new key.
//!
//! Redis candidates (`redis-hit`, `redis-raw`, `redis-hit-async`,
//! `redis-raw-async`, and the misses `redis-miss`, `redis-raw-miss`,
//! `redis-miss-async`, `redis-raw-miss-async`): see the `redis_hits` module.
//!
//! `cache-gate allocs <ops>` prints the heap allocations made by `ops` hits of
//! the `#[ttl_cache]` function (a counting global allocator): 0 for a `Copy`
//! value is the target. `cache-gate allocs-async <ops>` prints those of `ops`
//! hits of an async `#[ttl_cache]` fn in memory, then of one with
//! `backend = MemoryBackend` (on a current-thread tokio runtime): 0 and 0.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cache_core::{Cache, MemoryBackend, ttl_cache};
use dashmap::DashMap;

mod redis_hits;

/// Counts the allocations (every `alloc`, `alloc_zeroed` and `realloc`) of the
/// threads that set [`COUNTING`]: the caller's, not the cache's background threads.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn count() {
    if COUNTING.try_with(std::cell::Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

/// A window in which this thread's allocations are counted: from `start` to
/// `finish`, which returns how many there were.
struct AllocWindow {
    before: u64,
}

impl AllocWindow {
    fn start() -> Self {
        COUNTING.with(|c| c.set(true));
        Self {
            before: ALLOCATIONS.load(Ordering::Relaxed),
        }
    }

    fn finish(self) -> u64 {
        let after = ALLOCATIONS.load(Ordering::Relaxed);
        COUNTING.with(|c| c.set(false));
        after - self.before
    }
}

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Warm keys of the hit candidates.
const KEYS: u64 = 10_000;
/// First key of the miss candidates (never warm).
const FRESH: u64 = 1 << 40;

type Map = DashMap<u64, u64, foldhash::fast::RandomState>;

#[ttl_cache(ttl = 3600, max_entries = 20_000)]
fn hit_fn(k: u64) -> u64 {
    k ^ 0x5555
}

#[ttl_cache(ttl = 3600, max_entries = 8_000_000)]
fn miss_fn(k: u64) -> u64 {
    k ^ 0x5555
}

#[ttl_cache(ttl = 3600, max_entries = 20_000)]
async fn async_hit_fn(k: u64) -> u64 {
    k ^ 0x5555
}

#[ttl_cache(ttl = 3600, max_entries = 20_000, backend = MemoryBackend::default())]
async fn async_backend_hit_fn(k: u64) -> u64 {
    k ^ 0x5555
}

/// Heap allocations made by `ops` hits of `call` on a current-thread runtime,
/// after a first pass over the warm keys (misses, then per-thread state).
fn async_allocs<F, Fut>(ops: u64, call: F) -> u64
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        for k in 0..KEYS {
            black_box(call(k).await);
        }
        for i in 0..KEYS {
            black_box(call(warm(i)).await);
        }
        let window = AllocWindow::start();
        for i in 0..ops {
            black_box(call(warm(i)).await);
        }
        window.finish()
    })
}

/// The key of hit `i`: scattered over the warm keys.
#[inline(always)]
fn warm(i: u64) -> u64 {
    i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % KEYS
}

#[inline(never)]
fn dashmap_get(map: &Map, k: u64) -> u64 {
    *map.get(&k).unwrap()
}

#[inline(never)]
fn scc_get(map: &scc::HashIndex<u64, u64, foldhash::fast::RandomState>, k: u64) -> u64 {
    map.peek_with(&k, |_, v| *v).unwrap()
}

#[inline(never)]
fn dashmap_insert(map: &Map, k: u64) -> u64 {
    *map.entry(k).or_insert_with(|| k ^ 0x5555)
}

#[inline(never)]
fn cache_get(cache: &Cache<u64, u64>, k: u64) -> u64 {
    cache.get_or_insert_with(k, || k ^ 0x5555)
}

#[inline(never)]
fn macro_call(k: u64) -> u64 {
    hit_fn(k)
}

#[inline(never)]
fn macro_miss(k: u64) -> u64 {
    miss_fn(k)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let candidate = args.first().map_or("macro-hit", String::as_str);
    let ops: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    // A Redis candidate's server starts (and, dropped, stops) outside `run`.
    let server = candidate.starts_with("redis-").then(redis_hits::start);
    black_box(run(candidate, ops));
    drop(server);
}

/// The measured part: scripts/gate counts only the instructions executed inside
/// this function (`--toggle-collect`), on this thread, so the cache's background
/// threads (the clock ticker, the sweep), whose work depends on wall time, do
/// not blur the counts.
#[inline(never)]
fn run(candidate: &str, ops: u64) -> u64 {
    let cache = || -> Cache<u64, u64> {
        Cache::builder()
            .ttl(Duration::from_secs(3600))
            .max_entries(8_000_000)
            .build()
    };
    if let Some(acc) = redis_hits::run(candidate, ops) {
        return acc;
    }
    let mut acc = 0u64;
    match candidate {
        "dashmap-hit" => {
            let map = Map::default();
            (0..KEYS).for_each(|k| {
                map.insert(k, k ^ 0x5555);
            });
            for i in 0..ops {
                acc = acc.wrapping_add(dashmap_get(&map, warm(i)));
            }
        }
        "scc-hit" => {
            let map: scc::HashIndex<u64, u64, foldhash::fast::RandomState> = Default::default();
            (0..KEYS).for_each(|k| {
                let _ = map.insert_sync(k, k ^ 0x5555);
            });
            for i in 0..ops {
                acc = acc.wrapping_add(scc_get(&map, warm(i)));
            }
        }
        "macro-hit" => {
            (0..KEYS).for_each(|k| {
                hit_fn(k);
            });
            for i in 0..ops {
                acc = acc.wrapping_add(macro_call(warm(i)));
            }
        }
        "cache-hit" => {
            let cache = cache();
            (0..KEYS).for_each(|k| cache.insert(k, k ^ 0x5555));
            for i in 0..ops {
                acc = acc.wrapping_add(cache_get(&cache, warm(i)));
            }
        }
        "dashmap-miss" => {
            let map = Map::default();
            for i in 0..ops {
                acc = acc.wrapping_add(dashmap_insert(&map, FRESH + i));
            }
        }
        "macro-miss" => {
            for i in 0..ops {
                acc = acc.wrapping_add(macro_miss(FRESH + i));
            }
        }
        "cache-miss" => {
            let cache = cache();
            for i in 0..ops {
                acc = acc.wrapping_add(cache_get(&cache, FRESH + i));
            }
        }
        "allocs" => {
            (0..KEYS).for_each(|k| {
                hit_fn(k);
            });
            // A first pass, so lazily allocated per-thread state is in place.
            for i in 0..KEYS {
                acc = acc.wrapping_add(macro_call(warm(i)));
            }
            let window = AllocWindow::start();
            for i in 0..ops {
                acc = acc.wrapping_add(macro_call(warm(i)));
            }
            println!("{}", window.finish());
        }
        "allocs-async" => {
            let in_memory = async_allocs(ops, async_hit_fn);
            let memory_backend = async_allocs(ops, async_backend_hit_fn);
            println!("{in_memory} {memory_backend}");
        }
        other => {
            eprintln!("unknown candidate {other}");
            std::process::exit(2);
        }
    }
    acc
}
