//! Scenario H7 of `shared/perf.md`: memory under a stream of distinct keys with
//! a short TTL. 10,000,000 distinct keys arrive at an even pace over 30 s
//! (≈ 333,000 a second), TTL 1 s, no entry bound: only expiry can keep memory
//! flat, at about one TTL's worth of entries (the steady working set).
//!
//! Each candidate runs in its own child process (this binary re-executed with
//! `--h7-child <candidate>`), so one's heap never counts against another's. The
//! child paces get-or-compute calls (each a miss on a new key, a `u64` value),
//! and a sampler thread reads `VmRSS` from `/proc/self/status` every second; the
//! child prints its samples, its `VmHWM` and its RSS before the first call
//! (`base`). From them:
//!
//! - **steady** = the first sample at or after 3 × TTL (one TTL's worth of entries
//!   live, two more TTLs for expiry to catch up);
//! - **plateau** = the median of the samples in the last third of the run;
//! - **growth** = (plateau − base) / (steady − base): 1 when memory stays flat
//!   after the working set is built, ≈ run time / 3 TTL (10 for 30 s) when
//!   nothing is ever reclaimed. Target: ≤ 1.2.
//!
//! Candidates: ours (`Cache::get_or_insert_with`, a `#[ttl_cache]` fn), moka
//! `get_with` (`time_to_live`, no capacity), and `cached`'s `TtlCache` (the store
//! `#[cached(ttl_secs)]` makes) through `#[cached(ty, create)]`, as the TTL is a
//! run-time value. They run one after another in shuffled order (one run each:
//! RSS is not a timing, and 30 s each is long enough to show a trend).
//!
//! Run: `cargo bench -p cache-bench --bench memory` (about 2 minutes). Env
//! `BENCH_H7_MS` (run time, default 30,000), `BENCH_H7_KEYS` (default
//! 10,000,000), `BENCH_H7_TTL_MS` (default 1,000), `BENCH_H7_SAMPLE_MS` (default
//! 1,000) shorten it; `BENCH_QUICK=1` runs 6 s with 2,000,000 keys. Without
//! `--bench`: 1.2 s, 60,000 keys, TTL 200 ms, samples every 100 ms.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cache_bench::record::{CandidateRecord, peak_rss_kib, rss_kib};
use cache_bench::{Plan, Record, Size, Target, Unit, env_usize, median, selected};
use cache_core::{Cache, ttl_cache};
use cached::proc_macro::cached;
use serde_json::{Value, json};

/// The TTL of the child's caches (set from its arguments before the first call).
static TTL: OnceLock<Duration> = OnceLock::new();

fn ttl() -> Duration {
    *TTL.get().expect("the child sets the TTL first")
}

/// No bound that a run could reach: only expiry may reclaim entries.
const UNBOUNDED: usize = 1 << 30;

fn body(k: u64) -> u64 {
    k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7
}

#[ttl_cache(ttl = ttl(), max_entries = 1 << 30)]
fn ours_macro(k: u64) -> u64 {
    body(k)
}

#[cached(
    ty = "cached::TtlCache<u64, u64>",
    create = "{ cached::TtlCache::new(ttl()) }"
)]
fn cached_ttl(k: u64) -> u64 {
    body(k)
}

/// Candidates: (child argument, name in the report, ours?).
const CANDIDATES: [(&str, &str, bool); 4] = [
    ("ours-cache", "ours Cache get_or_insert_with", true),
    ("ours-macro", "ours #[ttl_cache]", true),
    ("moka", "moka get_with (time_to_live)", false),
    ("cached", "cached #[cached] TtlCache", false),
];

/// Distinct keys, scattered (splitmix64 of a counter, a bijection).
fn key_of(i: u64) -> u64 {
    let mut z = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The child: `--h7-child <candidate> <keys> <run ms> <ttl ms> <sample ms>`.
fn child(args: &[String]) {
    let id = args[0].as_str();
    let num = |i: usize| -> u64 { args[i].parse().expect("numeric argument") };
    let (keys, run, sample) = (
        num(1),
        Duration::from_millis(num(2)),
        Duration::from_millis(num(4)),
    );
    TTL.set(Duration::from_millis(num(3))).expect("set once");
    let ours: Cache<u64, u64> = Cache::builder().ttl(ttl()).max_entries(UNBOUNDED).build();
    let moka: moka::sync::Cache<u64, u64> =
        moka::sync::Cache::builder().time_to_live(ttl()).build();
    let op: Box<dyn Fn(u64) -> u64> = match id {
        "ours-cache" => Box::new(|k| ours.get_or_insert_with(k, || body(k))),
        "ours-macro" => Box::new(ours_macro),
        "moka" => Box::new(|k| moka.get_with(k, || body(k))),
        "cached" => Box::new(cached_ttl),
        other => panic!("unknown candidate {other}"),
    };
    // Lazy statics and first allocations before the base sample.
    black_box(op(u64::MAX));
    let base = rss_kib().unwrap_or(0);
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let rate = keys as f64 / run.as_secs_f64();
    let (samples, inserted) = std::thread::scope(|s| {
        let sampler = s.spawn(|| {
            let mut samples: Vec<(u64, u64)> = Vec::new();
            let mut next = sample;
            while !stop.load(Ordering::Relaxed) {
                let now = start.elapsed();
                if now >= next {
                    samples.push((now.as_millis() as u64, rss_kib().unwrap_or(0)));
                    next += sample;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            samples
        });
        let mut i = 0u64;
        let mut acc = 0u64;
        loop {
            let now = start.elapsed();
            if now >= run || i >= keys {
                break;
            }
            let due = ((rate * now.as_secs_f64()) as u64 + 1).min(keys);
            if i >= due {
                std::thread::sleep(Duration::from_micros(200));
                continue;
            }
            while i < due {
                acc = acc.wrapping_add(op(key_of(i)));
                i += 1;
            }
        }
        black_box(acc);
        // The last samples, once the pace has ended.
        while start.elapsed() < run {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(20));
        stop.store(true, Ordering::Relaxed);
        (sampler.join().unwrap(), i)
    });
    let wall = start.elapsed();
    let live = match id {
        "ours-cache" => ours.len() as u64,
        "ours-macro" => ours_macro::cache_info().current_size,
        "moka" => {
            moka.run_pending_tasks();
            moka.entry_count()
        }
        _ => u64::MAX,
    };
    let result = json!({
        "inserted": inserted,
        "wall_ms": wall.as_millis() as u64,
        "base_kib": base,
        "hwm_kib": peak_rss_kib().unwrap_or(0),
        "samples": samples,
        "live_at_end": if live == u64::MAX { Value::Null } else { json!(live) },
    });
    println!("H7-RESULT {result}");
}

/// What the parent makes of one child's samples.
struct Memory {
    base: f64,
    steady: f64,
    plateau: f64,
    peak: f64,
    growth: f64,
}

fn memory(result: &Value, ttl_ms: u64, run_ms: u64) -> Memory {
    let samples: Vec<(u64, f64)> = result["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .map(|s| (s[0].as_u64().unwrap(), s[1].as_f64().unwrap()))
        .collect();
    let base = result["base_kib"].as_f64().unwrap();
    let steady = samples
        .iter()
        .find(|(t, _)| *t >= 3 * ttl_ms)
        .or(samples.last())
        .map_or(base, |s| s.1);
    let tail: Vec<f64> = samples
        .iter()
        .filter(|(t, _)| *t * 3 >= 2 * run_ms)
        .map(|s| s.1)
        .collect();
    let plateau = if tail.is_empty() {
        samples.last().map_or(base, |s| s.1)
    } else {
        median(tail)
    };
    let peak = samples.iter().map(|s| s.1).fold(base, f64::max);
    let growth = (plateau - base) / (steady - base).max(1.0);
    Memory {
        base,
        steady,
        plateau,
        peak,
        growth,
    }
}

fn h7(size: Size) -> String {
    let run_ms = env_usize("BENCH_H7_MS", size.pick(30_000, 6_000, 1_200)) as u64;
    let keys = env_usize("BENCH_H7_KEYS", size.pick(10_000_000, 2_000_000, 60_000)) as u64;
    let ttl_ms = env_usize("BENCH_H7_TTL_MS", size.pick(1_000, 1_000, 200)) as u64;
    let sample_ms = env_usize("BENCH_H7_SAMPLE_MS", size.pick(1_000, 1_000, 100)) as u64;
    let exe = std::env::current_exe().expect("own path");
    let mut order: Vec<usize> = (0..CANDIDATES.len()).collect();
    fastrand::Rng::with_seed(7).shuffle(&mut order);
    let plan = Plan {
        threads: 1,
        rounds: 1,
        ops: keys as usize,
        keys,
    };
    let title = "10M distinct keys, TTL 1 s, 30 s: memory plateaus";
    let mut r = Record::new("H7", title, "memory", Unit::NsPerOp, &plan)
        .op("one get-or-compute call on a new key, paced evenly over the run");
    let mut targets = Vec::new();
    let mut rows = String::new();
    let mut results: Vec<(usize, Value)> = Vec::new();
    for &i in &order {
        let (arg, name, _) = CANDIDATES[i];
        let output = Command::new(&exe)
            .arg("--h7-child")
            .arg(arg)
            .arg(keys.to_string())
            .arg(run_ms.to_string())
            .arg(ttl_ms.to_string())
            .arg(sample_ms.to_string())
            .stderr(Stdio::inherit())
            .output()
            .expect("run the child");
        assert!(output.status.success(), "{name}: child failed");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("H7-RESULT "))
            .unwrap_or_else(|| panic!("{name}: no result from the child"));
        let value: Value = serde_json::from_str(line).expect("child's JSON");
        results.push((i, value));
    }
    results.sort_by_key(|(i, _)| *i);
    for (i, v) in &results {
        let (_, name, ours) = CANDIDATES[*i];
        let mem = memory(v, ttl_ms, run_ms);
        let inserted = v["inserted"].as_u64().unwrap();
        let wall_ms = v["wall_ms"].as_f64().unwrap();
        let ns = wall_ms * 1e6 / inserted.max(1) as f64;
        let mut c = CandidateRecord {
            name: name.to_string(),
            group: None,
            anchor: None,
            median_ns: Some(ns),
            ops_per_sec: Some(1e9 / ns),
            ratio_to_anchor: None,
            ratios: Default::default(),
            samples_ns: Vec::new(),
            facts: Default::default(),
        };
        let facts = [
            ("base KiB", json!(mem.base)),
            ("steady KiB", json!(mem.steady)),
            ("plateau KiB", json!(mem.plateau)),
            ("peak sample KiB", json!(mem.peak)),
            ("VmHWM KiB", v["hwm_kib"].clone()),
            ("growth", json!(mem.growth)),
            ("calls", json!(inserted)),
            ("live at end", v["live_at_end"].clone()),
            ("rss samples [ms, KiB]", v["samples"].clone()),
        ];
        for (k, value) in facts {
            c.facts.insert(k.to_string(), value);
        }
        r.candidate(c);
        if ours {
            targets.push(Target::new(
                format!("{name}: (plateau − base) / (steady − base)"),
                mem.growth,
                1.2,
            ));
        }
        rows.push_str(&format!(
            "| {name} | {inserted} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {:.2} |\n",
            1e9 / ns,
            mem.base,
            mem.steady,
            mem.plateau,
            mem.peak,
            v["hwm_kib"],
            mem.growth
        ));
    }
    // The work ran in the children: the scenario's peak RSS is the largest of theirs.
    r.peak_rss_kib = results
        .iter()
        .filter_map(|(_, v)| v["hwm_kib"].as_u64())
        .max();
    r.fact("run ms", run_ms);
    r.fact("ttl ms", ttl_ms);
    r.fact("sample ms", sample_ms);
    r.fact(
        "steady working set",
        format!(
            "about {} live entries (rate × TTL)",
            keys * ttl_ms / run_ms.max(1)
        ),
    );
    r.fact(
        "definitions",
        "steady = first RSS sample at or after 3 × TTL; plateau = median of the samples in \
         the last third; growth = (plateau − base) / (steady − base)",
    );
    r.targets(&targets);
    r.write().expect("write the record");
    let mut out = format!(
        "\n### H7: {title}\n\n{keys} distinct keys paced over {run_ms} ms, TTL {ttl_ms} ms, \
         no entry bound; one child process per candidate (shuffled order), VmRSS sampled \
         every {sample_ms} ms; steady = first sample at or after 3 × TTL, plateau = median \
         of the last third, growth = (plateau − base) / (steady − base)\n\n\
         | candidate | calls | calls/s | base KiB | steady KiB | plateau KiB | peak sample KiB | VmHWM KiB | growth |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    out.push_str(&rows);
    cache_bench::write_targets(&mut out, &targets);
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--h7-child") {
        child(&args[i + 1..]);
        return;
    }
    let size = Size::from_env();
    println!(
        "# Memory benchmarks ({} cores)",
        cache_bench::record::cores()
    );
    if selected("H7") {
        print!("{}", h7(size));
    }
}
