//! R12 of `shared/reliability.md` at full size: 1,000,000 distinct keys through
//! caches bounded at 10,000 entries, then 30 s of churning keys with a short
//! TTL; values count themselves and the process's RSS is sampled. The workload
//! runs in its own process (`src/bin/soak.rs`, which describes it), so the RSS
//! is the engine's alone. The small R12 cases are in `engine_bound.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The bound of every cache in the soak.
const BOUND: u64 = 10_000;
/// The soak's sizes, as R12 states them.
const KEYS: u64 = 1_000_000;
const CHURN_MS: u64 = 30_000;
const TTL_MS: u64 = 150;
const SAMPLE_MS: u64 = 500;
const CHECKPOINTS: u64 = KEYS / 50_000;

/// The whole soak takes 35–60 s on a loaded 2-core machine in the debug
/// profile; the deadline only keeps a hang from blocking the suite.
const DEADLINE: Duration = Duration::from_secs(300);

/// Values alive per cache in the churn phase (two threads at once), at most:
/// three times the bound. Not the bound itself: an evicted or expired value
/// may still be being cloned by a reader inside the map, so the engine drops
/// it once the epoch has moved past every such reader (`engine/mod.rs`,
/// `Retired`). A thread alone gets its evicted values freed before its insert
/// returns (the distinct phase, held to the bound), but a thread descheduled
/// inside the map holds the epoch back, and the values removed meanwhile wait
/// for it: with two threads inserting, measured 13,380 alive on a 2-core
/// machine, 22,381 with the machine loaded to 10 runnable threads.
const LIVE_LIMIT: u64 = 3 * BOUND;

/// Slack of a length read while another thread inserts: iterating the map is
/// not a snapshot, an entry evicted behind the iterator and its replacement
/// ahead of it are both counted (up to +11 seen). Quiescent lengths are exact.
const LEN_SLACK: u64 = 1_000;

/// Growth allowed in the distinct phase after its checkpoint at 100,000 keys
/// (both caches full, their tables at size), in MiB of RSS and of heap in use.
/// Measured over five runs: RSS +1.6 to +4.8 MiB while the heap in use stays
/// at 5.3–7.1 MiB, so the RSS growth is the allocator keeping freed pages in
/// its per-thread arenas, not the engine. Keeping one ring item per key would
/// add 16 B per key to the `Cache` and 40 B to the `#[ttl_cache]` (its 32-byte
/// `MemKey`): 50 MB over the phase; keeping evicted entries, over 100 MB.
const DISTINCT_RSS_GROWTH_MIB: f64 = 8.0;
const DISTINCT_HEAP_GROWTH_MIB: f64 = 4.0;

/// Growth allowed in the churn phase's last third, as a fraction of what the
/// churn added by its middle third (the first third is the warm-up: the rings
/// fill up to the sweep's lag, the allocator's arenas settle).
///
/// Heap in use (glibc's count of bytes held, what the engine keeps), compared
/// by the thirds' medians: `(median of the last third − median of the middle
/// third) / (median of the middle third − value before the churn)`. A leak
/// lifts every later sample, so it moves the median; a single sample does
/// not. The heap swings by up to 1 MiB between samples (values awaiting their
/// epoch), and a comparison of maxima read 0.105 in a CI run whose samples
/// had no trend: one sample 0.8 MiB above its neighbours in the last third.
/// Measured with maxima: −0.05 to +0.04 over four runs with the sweep fixed;
/// 0.22 with the sweep that skipped 12 of the 16 rings (fixed in
/// `maintenance.rs`), a growth that lifted the whole last third.
const CHURN_HEAP_GROWTH_LIMIT: f64 = 0.10;
/// RSS: also counts the pages glibc's per-thread arenas keep after a free, so
/// it creeps while the heap in use is flat (measured 0.03–0.10 over seven runs
/// with the sweep fixed, heap flat in each); 0.24 with the ring-skipping sweep,
/// far more with no sweep. This limit catches gross growth on any allocator;
/// the heap limit catches the slow kind.
const CHURN_RSS_GROWTH_LIMIT: f64 = 0.20;

/// What the churn may add to memory, at most, in MiB: the max of its last
/// third over the value at rest before it. The churn's caches hold a table
/// each (16,384 slots) and the sweep's backlog of items of expired entries
/// (about a second of inserts, more when a busy machine delays the sweep).
/// Measured with the sweep fixed, on a 2-core machine at load 10: heap in use
/// +9.2 to +10.0 MiB, RSS +13.4 to +15.1 MiB. The sweep that skipped 12 of the
/// 16 rings: heap +16.4, RSS +19.3; no sweep at all (the bound alone reclaims):
/// heap +34.6, RSS +40.3. The plateau criteria above cannot see those two,
/// since the bound caps memory either way, only at a higher level.
const CHURN_HEAP_FOOTPRINT_MIB: f64 = 14.0;
const CHURN_RSS_FOOTPRINT_MIB: f64 = 24.0;

#[derive(Debug)]
struct Sample {
    phase: String,
    of: Option<String>,
    elapsed_ms: u64,
    keys: u64,
    ops: u64,
    live: [u64; 2],
    len: [u64; 2],
    rss_kib: u64,
    heap_kib: Option<u64>,
    /// Distinct checkpoints: the checkpointing cache's values alive on arrival.
    live_in_motion: Option<u64>,
}

impl Sample {
    fn parse(v: &Value) -> Self {
        let n = |k: &str| {
            v[k].as_u64()
                .unwrap_or_else(|| panic!("sample field {k}: {v}"))
        };
        Self {
            phase: v["phase"].as_str().expect("phase").to_string(),
            of: v["of"].as_str().map(str::to_string),
            elapsed_ms: n("elapsed_ms"),
            keys: n("keys"),
            ops: n("ops"),
            live: [n("live_cache"), n("live_macro")],
            len: [n("len_cache"), n("len_macro")],
            rss_kib: n("rss_kib"),
            heap_kib: v["heap_kib"].as_u64(),
            live_in_motion: v["live_in_motion"].as_u64(),
        }
    }
}

/// Runs the soak binary at full size; returns its sample lines and its last
/// (`done`) line. Panics, with what it printed so far, if it fails or passes
/// the deadline.
fn run_soak() -> (Vec<Value>, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_soak"))
        .args(["--keys", &KEYS.to_string()])
        .args(["--churn-ms", &CHURN_MS.to_string()])
        .args(["--ttl-ms", &TTL_MS.to_string()])
        .args(["--sample-ms", &SAMPLE_MS.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the soak binary");
    let stdout = child.stdout.take().expect("piped stdout");
    // Read on a thread, so the deadline holds even if the child stops writing.
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map(|l| l.expect("read a sample line"))
            .collect::<Vec<String>>()
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the soak") {
            break Some(status);
        }
        if start.elapsed() > DEADLINE {
            child.kill().expect("kill the soak");
            child.wait().expect("reap the soak");
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let lines = reader.join().expect("reader thread");
    let tail = lines[lines.len().saturating_sub(3)..].join("\n");
    match status {
        None => panic!("the soak passed its {DEADLINE:?} deadline; last lines:\n{tail}"),
        Some(s) if !s.success() => panic!("the soak failed ({s}); last lines:\n{tail}"),
        Some(_) => {}
    }
    let mut values: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let done = values.pop().expect("a done line");
    assert_eq!(done["phase"], "done", "the last line: {done}");
    (values, done)
}

/// `(last − middle) / (middle − before)`, with a floor of 1 MiB under the
/// divisor: `middle` and `last` are the thirds' maxima (RSS) or medians (heap).
fn growth(before: f64, middle: f64, last: f64) -> f64 {
    (last - middle) / (middle - before).max(1.0)
}

fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// R12: live values stay near the bound at every checkpoint and memory levels
/// off, over 1,000,000 distinct keys and 30 s of churn.
#[test]
fn soak_a_million_distinct_keys_and_30s_of_churn_keep_memory_flat() {
    let (lines, done) = run_soak();
    // The samples go to the test's output: the evidence when it fails.
    for line in &lines {
        eprintln!("{line}");
    }
    let samples: Vec<Sample> = lines.iter().map(Sample::parse).collect();
    let phase = |p: &str| samples.iter().filter(|s| s.phase == p).collect::<Vec<_>>();
    let (start, distinct, churn) = (phase("start"), phase("distinct"), phase("churn"));
    assert_eq!(start.len(), 1, "one start sample");
    let rest = *distinct
        .iter()
        .find(|s| s.of.as_deref() == Some("both"))
        .expect("the checkpoint after both threads");
    // The later of the two threads' checkpoints at 100,000 keys.
    let full = *distinct
        .iter()
        .filter(|s| s.keys == 2 * 50_000)
        .max_by_key(|s| s.elapsed_ms)
        .expect("both threads' second checkpoint");
    let after_full: Vec<&Sample> = distinct
        .iter()
        .filter(|s| s.elapsed_ms >= full.elapsed_ms)
        .copied()
        .collect();
    let max_rss = |ss: &[&Sample]| ss.iter().map(|s| s.rss_kib).max().map(kib_to_mib);
    let max_heap = |ss: &[&Sample]| ss.iter().filter_map(|s| s.heap_kib).max().map(kib_to_mib);
    let median_heap = |ss: &[&Sample]| {
        let mut heap: Vec<u64> = ss.iter().filter_map(|s| s.heap_kib).collect();
        heap.sort_unstable();
        heap.get(heap.len() / 2).copied().map(kib_to_mib)
    };
    let distinct_rss_growth = max_rss(&after_full).unwrap() - kib_to_mib(full.rss_kib);
    let distinct_heap_growth = full
        .heap_kib
        .and_then(|h| Some(max_heap(&after_full)? - kib_to_mib(h)));

    // Churn thirds, by time since the churn began.
    let begin = rest.elapsed_ms;
    let third = |k: u64| {
        churn
            .iter()
            .filter(|s| {
                let t = s.elapsed_ms.saturating_sub(begin);
                t * 3 >= k * CHURN_MS && t * 3 < (k + 1) * CHURN_MS
            })
            .copied()
            .collect::<Vec<_>>()
    };
    let (middle, last) = (third(1), third(2));
    assert!(
        !middle.is_empty() && !last.is_empty(),
        "churn samples by third"
    );
    let (rss_steady, rss_end) = (max_rss(&middle).unwrap(), max_rss(&last).unwrap());
    let rss_growth = growth(kib_to_mib(rest.rss_kib), rss_steady, rss_end);
    let heap_growth = match (rest.heap_kib, median_heap(&middle), median_heap(&last)) {
        (Some(before), Some(m), Some(l)) => Some(growth(kib_to_mib(before), m, l)),
        _ => None,
    };

    let rss_footprint = rss_end - kib_to_mib(rest.rss_kib);
    let heap_footprint = rest
        .heap_kib
        .and_then(|h| Some(max_heap(&last)? - kib_to_mib(h)));

    let max_live = |ss: &[&Sample]| ss.iter().flat_map(|s| s.live).max().unwrap_or(0);
    let secs = |ms: &Value| ms.as_f64().expect("milliseconds") / 1000.0;
    let figures = json!({
        "keys": KEYS,
        "bound": BOUND,
        "checkpoints": distinct.len(),
        "churn_samples": churn.len(),
        "max_live_values_distinct": max_live(&distinct),
        "max_live_values_distinct_on_arrival": distinct.iter().filter_map(|s| s.live_in_motion).max(),
        "max_live_values_churn": max_live(&churn),
        "live_limit": LIVE_LIMIT,
        "rss_start_mib": kib_to_mib(start[0].rss_kib),
        "rss_distinct_100k_mib": kib_to_mib(full.rss_kib),
        "rss_distinct_end_mib": kib_to_mib(rest.rss_kib),
        "rss_distinct_growth_mib": distinct_rss_growth,
        "heap_distinct_growth_mib": distinct_heap_growth,
        "rss_churn_steady_mib": rss_steady,
        "rss_churn_end_mib": rss_end,
        "rss_churn_growth": rss_growth,
        "heap_churn_middle_median_mib": median_heap(&middle),
        "heap_churn_last_median_mib": median_heap(&last),
        "heap_churn_end_mib": max_heap(&last),
        "heap_churn_growth": heap_growth,
        "rss_churn_footprint_mib": rss_footprint,
        "heap_churn_footprint_mib": heap_footprint,
        "rss_churn_growth_limit": CHURN_RSS_GROWTH_LIMIT,
        "heap_churn_growth_limit": CHURN_HEAP_GROWTH_LIMIT,
        "vm_hwm_mib": done["hwm_kib"].as_u64().map(kib_to_mib),
        "distinct_s": secs(&done["distinct_ms"]),
        "churn_s": secs(&done["churn_ms"]),
        "distinct_ops_per_s": done["ops_distinct"].as_f64().unwrap() / secs(&done["distinct_ms"]),
        "churn_ops_per_s": done["ops_churn"].as_f64().unwrap() / secs(&done["churn_ms"]),
        "churn_distinct_keys": churn.last().map(|s| s.keys),
        "churn_ops": churn.last().map(|s| s.ops),
    });
    eprintln!("R12 soak: {figures}");
    cache_tests::figures::record("R12", "soak", figures);

    // Every sample: the bound holds (with the slack of a length read while
    // another thread inserts) and the values alive stay near it.
    for s in &samples {
        for (i, name) in ["Cache", "#[ttl_cache]"].iter().enumerate() {
            assert!(
                s.len[i] <= BOUND + LEN_SLACK,
                "{name}: {} entries over a bound of {BOUND}: {s:?}",
                s.len[i]
            );
            assert!(
                s.live[i] <= LIVE_LIMIT,
                "{name}: {} values alive for a bound of {BOUND}: {s:?}",
                s.live[i]
            );
        }
    }
    // Distinct phase: every checkpoint reported, exact lengths at rest, flat.
    for of in ["cache", "macro"] {
        let keys: Vec<u64> = distinct
            .iter()
            .filter(|s| s.of.as_deref() == Some(of))
            .map(|s| s.keys)
            .collect();
        let expected: Vec<u64> = (1..=CHECKPOINTS).map(|c| c * 50_000).collect();
        assert_eq!(keys, expected, "{of}: checkpoints");
    }
    // R12 as written: at every checkpoint of the distinct phase (one thread
    // inserting, stopped there), the values alive are within the bound: once
    // the values it evicted last are dropped, which the checkpoint waits for
    // (bounded). On arrival, a read of the background sweep, descheduled
    // while the inserting thread went on, may still hold some back: measured
    // 10,001 alone, 10,055 beside other tests, 10,320 with three busy loops on
    // the two cores; held to the in-motion limit. A value kept past its
    // eviction fails both.
    for s in &distinct {
        for (i, name) in ["Cache", "#[ttl_cache]"].iter().enumerate() {
            assert!(
                s.live[i] <= BOUND,
                "{name}: {} values alive at a checkpoint for a bound of {BOUND}: {s:?}",
                s.live[i]
            );
        }
        if let Some(in_motion) = s.live_in_motion {
            assert!(
                in_motion <= LIVE_LIMIT,
                "{in_motion} values alive on arrival at a checkpoint for a bound of {BOUND}: {s:?}"
            );
        }
    }
    // At rest the caches are full and every value alive is an entry's: no
    // evicted value is left over.
    assert_eq!(rest.len, [BOUND, BOUND], "lengths at rest: {rest:?}");
    assert_eq!(rest.live, rest.len, "values alive at rest: {rest:?}");
    assert!(
        distinct_rss_growth <= DISTINCT_RSS_GROWTH_MIB,
        "RSS grew {distinct_rss_growth:.1} MiB over the distinct keys after the caches filled"
    );
    if let Some(g) = distinct_heap_growth {
        assert!(
            g <= DISTINCT_HEAP_GROWTH_MIB,
            "the heap in use grew {g:.1} MiB over the distinct keys after the caches filled"
        );
    }
    // Churn phase: sampled throughout, flat after the warm-up.
    assert!(
        churn.len() as u64 >= CHURN_MS / SAMPLE_MS - 2,
        "{} churn samples",
        churn.len()
    );
    assert!(
        rss_growth <= CHURN_RSS_GROWTH_LIMIT,
        "RSS still growing in the churn's last third: {rss_steady:.1} -> {rss_end:.1} MiB \
         (growth {rss_growth:.3} > {CHURN_RSS_GROWTH_LIMIT})"
    );
    assert!(
        rss_footprint <= CHURN_RSS_FOOTPRINT_MIB,
        "the churn added {rss_footprint:.1} MiB of RSS (> {CHURN_RSS_FOOTPRINT_MIB})"
    );
    if let Some(f) = heap_footprint {
        assert!(
            f <= CHURN_HEAP_FOOTPRINT_MIB,
            "the churn added {f:.1} MiB of heap in use (> {CHURN_HEAP_FOOTPRINT_MIB})"
        );
    }
    if let Some(g) = heap_growth {
        assert!(
            g <= CHURN_HEAP_GROWTH_LIMIT,
            "the heap in use still growing in the churn's last third (growth {g:.3} > \
             {CHURN_HEAP_GROWTH_LIMIT})"
        );
    }
}
