//! Scenario H6 of `shared/perf.md`: a skewed workload on a bounded cache. Keys
//! follow a Zipf law (s = 0.75 and s = 1.0, `rand_distr::Zipf`) over a key space
//! of 1,000,000; every cache holds at most 10 % of it (100,000 entries), TTL on
//! (one hour: the TTL machinery runs, nothing expires). Each call is
//! get-or-compute with a trivial body, so throughput counts hits and misses with
//! their insertions and evictions, and the hit ratio is each policy's.
//!
//! Candidates: ours (`Cache::get_or_insert_with`, a `#[ttl_cache]` fn), moka
//! `get_with` (the anchor: the targets are against it), quick_cache
//! `get_or_insert_with` (no TTL: it has none) and `cached`'s LRU + TTL store
//! (`#[cached(max_size, ttl_secs)]`, i.e. `LruTtlCache`). The key streams (one
//! per thread) are generated before any timing, ranks scattered over `u64` by a
//! bijection. Each candidate first runs a warm-up segment of the stream untimed
//! (steady state); then round `r` of every candidate reads the stream's segment
//! `r` (no segment is replayed: a replayed segment would fit in the cache), the
//! candidates interleaved in shuffled order; hit ratio = 1 − body runs / calls
//! over everything after the warm-up segment.
//!
//! Run: `cargo bench -p cache-bench --bench zipf` (env `BENCH_ROUNDS`, default
//! 15; `BENCH_OPS`, default 1,000,000 calls per thread per round;
//! `BENCH_H6_THREADS`, default 1; `BENCH_QUICK=1` shrinks). Without `--bench`:
//! 3 rounds of 5,000.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cache_bench::{
    Candidate, Plan, Record, Size, Target, Unit, env_usize, measure_streams, report_group, selected,
};
use cache_core::{Cache, ttl_cache};
use cached::Cached;
use cached::proc_macro::cached;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, Zipf};

const TTL: Duration = Duration::from_secs(3600);
/// 10 % of the full key space.
const BOUND: usize = 100_000;

thread_local! {
    static MISSES: Cell<u64> = const { Cell::new(0) };
}

fn misses() -> u64 {
    MISSES.with(Cell::get)
}

/// The trivial body; counts its runs (misses) on this thread.
fn body(k: u64) -> u64 {
    MISSES.with(|c| c.set(c.get() + 1));
    k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7
}

#[ttl_cache(ttl = 3600, max_entries = 100_000)]
fn ours_macro(k: u64) -> u64 {
    body(k)
}

#[cached(max_size = 100_000, ttl_secs = 3600)]
fn cached_lru_ttl(k: u64) -> u64 {
    body(k)
}

/// Rank `r` (1 = most frequent) as a key: splitmix64, a bijection, so hot keys
/// are scattered over the hash space as real keys are.
fn key_of(rank: u64) -> u64 {
    let mut z = rank.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Zipf(n, s) key streams, one per thread, fixed seeds: each a warm-up segment of
/// `ops` keys and the timed stream of `rounds × ops` keys that follows it.
fn streams(n: u64, s: f64, threads: usize, ops: usize, rounds: usize) -> Vec<(Vec<u64>, Vec<u64>)> {
    let zipf = Zipf::new(n as f64, s).expect("valid Zipf parameters");
    (0..threads)
        .map(|t| {
            let mut rng = SmallRng::seed_from_u64(0x5EED_0000 + t as u64);
            let mut draw = |len: usize| -> Vec<u64> {
                (0..len)
                    .map(|_| key_of(zipf.sample(&mut rng) as u64))
                    .collect()
            };
            let warm = draw(ops);
            (warm, draw(rounds * ops))
        })
        .collect()
}

/// Calls and body runs of one candidate.
#[derive(Default)]
struct Counts {
    calls: AtomicU64,
    misses: AtomicU64,
}

impl Counts {
    fn hit_ratio(&self) -> f64 {
        let calls = self.calls.load(Ordering::Relaxed) as f64;
        1.0 - self.misses.load(Ordering::Relaxed) as f64 / calls
    }

    fn reset(&self) {
        self.calls.store(0, Ordering::Relaxed);
        self.misses.store(0, Ordering::Relaxed);
    }
}

/// A candidate that counts its calls and misses (thread-locally in the loop,
/// added to `counts` once per loop).
fn counted<'a>(
    name: &'static str,
    counts: &'a Counts,
    op: impl Fn(u64) -> u64 + Sync + 'a,
) -> Candidate<'a> {
    Candidate::whole(name, move |keys| {
        let before = misses();
        let mut acc = 0u64;
        for &k in keys {
            acc = acc.wrapping_add(op(k));
        }
        counts.calls.fetch_add(keys.len() as u64, Ordering::Relaxed);
        counts
            .misses
            .fetch_add(misses() - before, Ordering::Relaxed);
        acc
    })
}

const ANCHOR: &str = "moka get_with";
const OURS: [&str; 2] = ["ours Cache get_or_insert_with", "ours #[ttl_cache]"];
const NAMES: [&str; 5] = [
    ANCHOR,
    OURS[0],
    OURS[1],
    "quick_cache get_or_insert_with (no TTL)",
    "cached #[cached(max_size, ttl_secs)] (LruTtlCache)",
];

fn h6(size: Size) -> String {
    let threads = env_usize("BENCH_H6_THREADS", 1).max(1);
    let key_space: u64 = 1_000_000;
    let bound = BOUND;
    let plan = Plan {
        threads,
        rounds: env_usize("BENCH_ROUNDS", size.pick(15, 5, 3)),
        ops: env_usize("BENCH_OPS", size.pick(1_000_000, 200_000, 5_000)),
        keys: key_space,
    };
    let title = "Zipf (s = 0.75 and 1.0) over 1M keys, bounded at 10 %, TTL on";
    let mut r = Record::new("H6", title, "zipf", Unit::OpsPerSec, &plan)
        .op("one get-or-compute call (hit, or miss + body + insert)");
    let mut out = format!(
        "\n### H6: {title}\n\n{threads} thread(s), {} rounds × {} calls per thread; key space \
         {key_space}, every cache bounded at {bound} entries; one untimed warm-up segment, then \
         a new segment of the stream every round; medians of throughput; hit ratio over \
         every call after the warm-up\n",
        plan.rounds, plan.ops
    );
    let mut targets_all = Vec::new();
    for s in [0.75, 1.0] {
        let (warm, keys): (Vec<Vec<u64>>, Vec<Vec<u64>>) =
            streams(key_space, s, threads, plan.ops, plan.rounds)
                .into_iter()
                .unzip();
        let counts: Vec<Counts> = NAMES.iter().map(|_| Counts::default()).collect();
        let moka: moka::sync::Cache<u64, u64> = moka::sync::Cache::builder()
            .max_capacity(bound as u64)
            .time_to_live(TTL)
            .build();
        let ours: Cache<u64, u64> = Cache::builder().ttl(TTL).max_entries(bound).build();
        let quick: quick_cache::sync::Cache<u64, u64> = quick_cache::sync::Cache::new(bound);
        ours_macro::cache_clear();
        CACHED_LRU_TTL.write().cache_clear();
        let c = vec![
            counted(NAMES[0], &counts[0], |k| moka.get_with(k, || body(k))),
            counted(NAMES[1], &counts[1], |k| {
                ours.get_or_insert_with(k, || body(k))
            }),
            counted(NAMES[2], &counts[2], ours_macro),
            counted(NAMES[3], &counts[3], |k| {
                quick
                    .get_or_insert_with(&k, || Ok::<u64, ()>(body(k)))
                    .unwrap()
            }),
            counted(NAMES[4], &counts[4], cached_lru_ttl),
        ];
        // Steady state first: one untimed pass over every thread's warm-up segment.
        for cand in &c {
            for stream in &warm {
                std::hint::black_box((cand.run)(stream));
            }
        }
        moka.run_pending_tasks();
        counts.iter().for_each(Counts::reset);
        let m = measure_streams(&plan, &keys, &c);
        let group = format!("s = {s}");
        let hit = |name: &str| {
            let i = NAMES.iter().position(|n| *n == name).unwrap();
            counts[i].hit_ratio()
        };
        let mut targets = Vec::new();
        for o in OURS {
            targets.push(
                Target::throughput_at_least(&m, o, ANCHOR, 3.0).prefixed(&format!("{group}: ")),
            );
        }
        for o in OURS {
            targets.push(Target::new(
                format!("{group}: hit ratio of {ANCHOR} − {o}, points"),
                100.0 * (hit(ANCHOR) - hit(o)),
                2.0,
            ));
        }
        let refs = [ANCHOR, OURS[0]];
        r.group(Some(&group), &m, &NAMES, &refs);
        let mut table =
            String::from("\n| candidate | hit ratio | entries after |\n|---|---:|---:|\n");
        moka.run_pending_tasks();
        for (i, name) in NAMES.iter().enumerate() {
            let entries = match i {
                0 => moka.entry_count(),
                1 => ours.len() as u64,
                2 => ours_macro::cache_info().current_size,
                3 => quick.len() as u64,
                _ => CACHED_LRU_TTL.read().cache_size() as u64,
            };
            r.candidate_fact(
                name,
                Some(&group),
                "hit ratio %",
                100.0 * counts[i].hit_ratio(),
            );
            r.candidate_fact(name, Some(&group), "entries after", entries);
            table.push_str(&format!(
                "| {name} | {:.2} % | {entries} |\n",
                100.0 * counts[i].hit_ratio()
            ));
        }
        out.push_str(&report_group(
            &format!("#### {group}"),
            &m,
            &NAMES,
            &refs,
            Unit::OpsPerSec,
            &targets,
        ));
        out.push_str(&table);
        targets_all.extend(targets);
    }
    r.fact("bound", bound);
    r.fact("key space", key_space);
    r.fact("ttl", "3600 s (on, nothing expires during the run)");
    r.fact("zipf sampler", "rand_distr::Zipf, SmallRng fixed seeds");
    r.targets(&targets_all);
    r.write().expect("write the record");
    out
}

fn main() {
    let size = Size::from_env();
    println!("# Zipf benchmarks ({} cores)", cache_bench::record::cores());
    if selected("H6") {
        print!("{}", h6(size));
    }
}
