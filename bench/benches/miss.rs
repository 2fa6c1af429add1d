//! Scenario H4 of `shared/perf.md`: a miss with a trivial body. Every call uses a
//! new key, so every call looks up, runs the body once and stores its value.
//!
//! Candidates, interleaved in shuffled order over the rounds, each self-timed
//! ([`TimedCandidate`]): the anchor `DashMap::entry().or_insert_with` (foldhash),
//! ours (`Cache::get_or_insert_with` and a `#[ttl_cache]` fn, TTL on), `cached`
//! `#[cached]`, quick_cache `get_or_insert_with` and moka `get_with`. Each round
//! gets a fresh map (built before the timer starts, dropped after it stops) or
//! clears the function's cache after the timer, and its distinct keys are made
//! before the timer starts. Bounded caches are bounded above a round's calls, so
//! nothing is evicted: a miss is measured, not an eviction. A body counter checks
//! that every call ran the body exactly once.
//!
//! Run: `cargo bench -p cache-bench --bench miss` (env `BENCH_ROUNDS`, default 15;
//! `BENCH_OPS`, default 200,000 calls per candidate per round, at most 1,000,000;
//! `BENCH_QUICK=1` shrinks both). Without `--bench`: 3 rounds of 1,000.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::cell::Cell;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cache_bench::{
    Plan, Record, Size, Target, TimedCandidate, Unit, env_usize, measure_timed, report_group,
    selected,
};
use cache_core::{Cache, ttl_cache};
use cached::Cached;
use cached::proc_macro::cached;

type Fold = foldhash::fast::RandomState;

/// The bound of every bounded candidate: above any round's calls.
const BOUND: usize = 2_097_152;
const TTL: Duration = Duration::from_secs(3600);

thread_local! {
    static BODY_RUNS: Cell<u64> = const { Cell::new(0) };
}

fn body_runs() -> u64 {
    BODY_RUNS.with(Cell::get)
}

/// The trivial body; counts its runs on this thread.
fn body(k: u64) -> u64 {
    BODY_RUNS.with(|c| c.set(c.get() + 1));
    k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7
}

#[ttl_cache(ttl = 3600, max_entries = 2_097_152)]
fn ours_macro(k: u64) -> u64 {
    body(k)
}

#[cached]
fn cached_plain(k: u64) -> u64 {
    body(k)
}

/// Keys no earlier round used.
static FRESH: AtomicU64 = AtomicU64::new(1);

/// `n` distinct keys never used before, scattered over `u64` (splitmix64 of a
/// counter: a bijection, so distinct stays distinct).
fn distinct(n: usize) -> Vec<u64> {
    let base = FRESH.fetch_add(n as u64, Ordering::Relaxed);
    (base..base + n as u64)
        .map(|i| {
            let mut z = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
        .collect()
}

/// Times `op` over a round's fresh keys on a map `make` builds before the timer;
/// the map is dropped, and `after` runs, once the timer has stopped. Panics if a
/// call did not run the body exactly once (the numbers would not be misses).
fn candidate<'a, T: 'a>(
    name: &'static str,
    make: impl Fn() -> T + Sync + 'a,
    op: impl Fn(&T, u64) -> u64 + Sync + 'a,
    after: impl Fn() + Sync + 'a,
) -> TimedCandidate<'a> {
    TimedCandidate::new(name, move |keys| {
        let map = make();
        let keys = distinct(keys.len());
        let runs = body_runs();
        let start = Instant::now();
        let mut acc = 0u64;
        for &k in &keys {
            acc = acc.wrapping_add(op(&map, k));
        }
        let elapsed = start.elapsed();
        black_box(acc);
        assert_eq!(
            body_runs() - runs,
            keys.len() as u64,
            "{name}: every call must run the body once"
        );
        drop(map);
        after();
        elapsed
    })
}

const ANCHOR: &str = "DashMap entry().or_insert_with";
const OURS: [&str; 2] = ["ours Cache get_or_insert_with", "ours #[ttl_cache]"];
const PEERS: [&str; 3] = [
    "cached #[cached]",
    "quick_cache get_or_insert_with",
    "moka get_with",
];

fn h4(size: Size) -> String {
    let plan = Plan {
        threads: 1,
        rounds: env_usize("BENCH_ROUNDS", size.pick(15, 5, 3)),
        ops: env_usize("BENCH_OPS", size.pick(200_000, 50_000, 1_000)).min(BOUND / 2),
        keys: 1,
    };
    // Every call of every round (and the warm-up) has its own key.
    let plan = Plan {
        keys: ((plan.rounds + 1) * plan.ops) as u64,
        ..plan
    };
    let c = vec![
        candidate(
            ANCHOR,
            || dashmap::DashMap::<u64, u64, Fold>::with_hasher(Fold::default()),
            |m, k| *m.entry(k).or_insert_with(|| body(k)),
            || {},
        ),
        candidate(
            OURS[0],
            || {
                Cache::<u64, u64>::builder()
                    .ttl(TTL)
                    .max_entries(BOUND)
                    .build()
            },
            |c, k| c.get_or_insert_with(k, || body(k)),
            || {},
        ),
        candidate(
            OURS[1],
            || (),
            |_, k| ours_macro(k),
            ours_macro::cache_clear,
        ),
        candidate(
            PEERS[0],
            || (),
            |_, k| cached_plain(k),
            || CACHED_PLAIN.write().cache_clear(),
        ),
        candidate(
            PEERS[1],
            || quick_cache::sync::Cache::<u64, u64>::new(BOUND),
            |c, k| c.get_or_insert_with(&k, || Ok::<u64, ()>(body(k))).unwrap(),
            || {},
        ),
        candidate(
            PEERS[2],
            || moka::sync::Cache::<u64, u64>::new(BOUND as u64),
            |c, k| c.get_with(k, || body(k)),
            || {},
        ),
    ];
    let m = measure_timed(&plan, &c);
    let targets: Vec<Target> = OURS
        .iter()
        .map(|o| Target::at_most(&m, o, ANCHOR, 1.5))
        .collect();
    let names: Vec<&str> = m.names.clone();
    let refs = [ANCHOR, PEERS[0], PEERS[1], PEERS[2]];
    let title = "miss with a trivial body (every call a new key)";
    let mut r = Record::new("H4", title, "miss", Unit::NsPerOp, &plan)
        .op("one call on a key never seen: lookup, body, store");
    r.group(None, &m, &names, &refs);
    r.targets(&targets);
    r.fact(
        "bounds",
        format!("bounded candidates hold up to {BOUND} entries (> calls per round): no eviction"),
    );
    r.write().expect("write the record");
    let heading = format!(
        "### H4: {title}\n\n1 thread, {} rounds × {} calls per candidate, distinct new keys \
         made before each timed round, maps rebuilt or cleared after it; medians; \
         every call ran its body once (checked)",
        plan.rounds, plan.ops
    );
    report_group(&heading, &m, &names, &refs, Unit::NsPerOp, &targets)
}

fn main() {
    let size = Size::from_env();
    println!("# Miss benchmarks ({} cores)", cache_bench::record::cores());
    if selected("H4") {
        print!("{}", h4(size));
    }
}
