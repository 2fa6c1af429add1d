//! Single-flight scenarios H5 and A2 of `shared/perf.md`: many callers miss on
//! one cold key at once; the body (1 ms) must run exactly once and the callers
//! must all be served in about one body time.
//!
//! - **H5**: 8 and 64 threads, started on a barrier, call with one key no one has
//!   used; the body sleeps 1 ms. Ours (`Cache::get_or_insert_with`, a
//!   `#[ttl_cache]` fn) beside moka `get_with`, quick_cache `get_or_insert_with`
//!   and `cached` `#[cached(sync_writes = true)]` (whole-cache lock while the body
//!   runs) and `sync_writes = "by_key"` (per-key lock buckets). The time runs from
//!   the first thread's start to the last thread's return. Anchor: the body alone
//!   on one thread, timed the same way; a reference: every caller running the
//!   body itself (no cache), which shows what starting and joining N threads costs
//!   here.
//! - **A2**: 64 tokio tasks on a 2-worker multi-thread runtime, started on a
//!   barrier, call with one cold key; the body is `tokio::time::sleep(1 ms)`.
//!   Ours (`Cache::get_or_insert_with_async`, an async `#[ttl_cache]` fn) beside
//!   moka `future::Cache::get_with` and quick_cache `get_or_insert_async`. Anchor:
//!   one task running the body.
//!
//! One operation is one burst (all callers served); every burst uses a new key.
//! Each candidate's body counts its runs; the records give the fewest and most
//! runs per burst, and the targets check ours ran it exactly once every time.
//!
//! Run: `cargo bench -p cache-bench --bench flight` (env `BENCH_ROUNDS`, default
//! 30 bursts per candidate; `BENCH_QUICK=1` 8). Without `--bench`: 3.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cache_bench::{
    Plan, Record, Size, Target, TimedCandidate, Unit, env_usize, measure_timed, median,
    report_group, run_burst, selected,
};
use cache_core::{Cache, ttl_cache};
use cached::proc_macro::cached;
use tokio::runtime::Runtime;

#[path = "common/fan_out.rs"]
mod together;

const BODY: Duration = Duration::from_millis(1);
const TTL: Duration = Duration::from_secs(3600);

/// Body runs, one counter per kind of candidate (the macro-made functions need
/// a static to count in).
static RUNS: [AtomicU64; 16] = [const { AtomicU64::new(0) }; 16];

const K_OURS_CACHE: usize = 0;
const K_OURS_MACRO: usize = 1;
const K_MOKA: usize = 2;
const K_QUICK: usize = 3;
const K_CACHED_SYNC: usize = 4;
const K_CACHED_BY_KEY: usize = 5;
const K_NO_CACHE: usize = 6;
const K_ALONE: usize = 7;
const K_A_OURS_CACHE: usize = 8;
const K_A_OURS_MACRO: usize = 9;
const K_A_MOKA: usize = 10;
const K_A_QUICK: usize = 11;
const K_A_NO_CACHE: usize = 12;
const K_A_ALONE: usize = 13;

fn slow(kind: usize, k: u64) -> u64 {
    RUNS[kind].fetch_add(1, Ordering::Relaxed);
    std::thread::sleep(BODY);
    k
}

async fn slow_async(kind: usize, k: u64) -> u64 {
    RUNS[kind].fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep(BODY).await;
    k
}

#[ttl_cache(ttl = 3600, max_entries = 100_000)]
fn ours_macro(k: u64) -> u64 {
    slow(K_OURS_MACRO, k)
}

#[ttl_cache(ttl = 3600, max_entries = 100_000)]
async fn ours_macro_async(k: u64) -> u64 {
    slow_async(K_A_OURS_MACRO, k).await
}

#[cached(sync_writes = true)]
fn cached_sync_writes(k: u64) -> u64 {
    slow(K_CACHED_SYNC, k)
}

#[cached(sync_writes = "by_key")]
fn cached_by_key(k: u64) -> u64 {
    slow(K_CACHED_BY_KEY, k)
}

/// A key no burst has used.
static FRESH: AtomicU64 = AtomicU64::new(1);

fn fresh() -> u64 {
    FRESH.fetch_add(1, Ordering::Relaxed)
}

/// What each candidate's bursts did.
#[derive(Default)]
struct BurstStats {
    fewest: u64,
    most: u64,
    bursts: u64,
    /// The longest single call of each burst, ns.
    max_latency_ns: Vec<f64>,
}

type RunStats = Mutex<Vec<(&'static str, BurstStats)>>;

fn note_runs(stats: &RunStats, name: &'static str, runs: u64, max_latency: Option<Duration>) {
    let mut s = stats.lock().unwrap();
    let i = match s.iter().position(|e| e.0 == name) {
        Some(i) => i,
        None => {
            s.push((
                name,
                BurstStats {
                    fewest: u64::MAX,
                    ..BurstStats::default()
                },
            ));
            s.len() - 1
        }
    };
    let e = &mut s[i].1;
    e.fewest = e.fewest.min(runs);
    e.most = e.most.max(runs);
    e.bursts += 1;
    if let Some(l) = max_latency {
        e.max_latency_ns.push(l.as_nanos() as f64);
    }
}

/// (fewest, most, bursts, median of the bursts' longest call in ns).
fn runs_of(stats: &RunStats, name: &str) -> (u64, u64, u64, Option<f64>) {
    let s = stats.lock().unwrap();
    let e = &s.iter().find(|e| e.0 == name).expect("bursts ran").1;
    let latency = (!e.max_latency_ns.is_empty()).then(|| median(e.max_latency_ns.clone()));
    (e.fewest, e.most, e.bursts, latency)
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// A burst of `callers` threads on one fresh key; checks every caller got the
/// body's value and notes how often the body ran.
fn burst<'a>(
    stats: &'a RunStats,
    name: &'static str,
    kind: usize,
    callers: usize,
    op: impl Fn(u64) -> u64 + Sync + 'a,
) -> TimedCandidate<'a> {
    TimedCandidate::new(name, move |_| {
        let k = fresh();
        let before = RUNS[kind].load(Ordering::Relaxed);
        let burst = run_burst(callers, |_| {
            let v = op(k);
            assert_eq!(v, k, "{name}: a caller got another value");
            v
        });
        let runs = RUNS[kind].load(Ordering::Relaxed) - before;
        note_runs(stats, name, runs, Some(burst.max_latency));
        burst.wall
    })
}

/// A burst that `run` makes and times on a fresh key; notes how often the body ran.
fn async_burst<'a>(
    stats: &'a RunStats,
    name: &'static str,
    kind: usize,
    run: Box<dyn Fn(u64) -> Duration + Sync + 'a>,
) -> TimedCandidate<'a> {
    TimedCandidate::new(name, move |_| {
        let k = fresh();
        let before = RUNS[kind].load(Ordering::Relaxed);
        let elapsed = run(k);
        note_runs(
            stats,
            name,
            RUNS[kind].load(Ordering::Relaxed) - before,
            None,
        );
        elapsed
    })
}

fn body_targets(stats: &RunStats, names: &[&'static str]) -> Vec<Target> {
    names
        .iter()
        .map(|n| {
            let (_, most, _, _) = runs_of(stats, n);
            Target::new(format!("{n}: body runs per burst (most)"), most as f64, 1.0)
        })
        .collect()
}

/// Records each candidate's body runs per burst, and prints them.
fn runs_facts(r: &mut Record, stats: &RunStats, names: &[&str], group: Option<&str>) -> String {
    let mut out = String::from(
        "\n| candidate | body runs per burst (fewest–most) | longest single call, median over bursts (µs) |\n|---|---|---:|\n",
    );
    for name in names {
        let (fewest, most, bursts, latency) = runs_of(stats, name);
        r.candidate_fact(
            name,
            group,
            "body runs per burst",
            format!("{fewest}–{most}"),
        );
        r.candidate_fact(name, group, "bursts", bursts);
        if let Some(l) = latency {
            r.candidate_fact(name, group, "longest call µs (median)", l / 1e3);
        }
        let l = latency.map_or_else(|| "—".to_string(), |l| format!("{:.0}", l / 1e3));
        out.push_str(&format!("| {name} | {fewest}–{most} | {l} |\n"));
    }
    out
}

fn h5(size: Size) -> String {
    let rounds = env_usize("BENCH_ROUNDS", size.pick(30, 8, 3));
    let plan = Plan {
        threads: 1,
        rounds,
        ops: 1,
        keys: 1,
    };
    let stats: RunStats = Mutex::new(Vec::new());
    let ours: Cache<u64, u64> = Cache::builder().ttl(TTL).max_entries(100_000).build();
    let moka: moka::sync::Cache<u64, u64> = moka::sync::Cache::builder()
        .max_capacity(100_000)
        .time_to_live(TTL)
        .build();
    let quick: quick_cache::sync::Cache<u64, u64> = quick_cache::sync::Cache::new(100_000);
    let alone = "body alone (1 caller)";
    let mut c = vec![burst(&stats, alone, K_ALONE, 1, |k| slow(K_ALONE, k))];
    let mut groups: Vec<(usize, Vec<&'static str>)> = Vec::new();
    for n in [8usize, 64] {
        let names = [
            leak(format!("ours Cache get_or_insert_with ×{n}")),
            leak(format!("ours #[ttl_cache] ×{n}")),
            leak(format!("moka get_with ×{n}")),
            leak(format!("quick_cache get_or_insert_with ×{n}")),
            leak(format!("cached #[cached(sync_writes = true)] ×{n}")),
            leak(format!("cached #[cached(sync_writes = \"by_key\")] ×{n}")),
            leak(format!("no cache: every caller runs the body ×{n}")),
        ];
        let (ours, moka, quick) = (&ours, &moka, &quick);
        c.push(burst(&stats, names[0], K_OURS_CACHE, n, move |k| {
            ours.get_or_insert_with(k, || slow(K_OURS_CACHE, k))
        }));
        c.push(burst(&stats, names[1], K_OURS_MACRO, n, ours_macro));
        c.push(burst(&stats, names[2], K_MOKA, n, move |k| {
            moka.get_with(k, || slow(K_MOKA, k))
        }));
        c.push(burst(&stats, names[3], K_QUICK, n, move |k| {
            quick
                .get_or_insert_with(&k, || Ok::<u64, ()>(slow(K_QUICK, k)))
                .unwrap()
        }));
        c.push(burst(
            &stats,
            names[4],
            K_CACHED_SYNC,
            n,
            cached_sync_writes,
        ));
        c.push(burst(&stats, names[5], K_CACHED_BY_KEY, n, cached_by_key));
        c.push(burst(&stats, names[6], K_NO_CACHE, n, |k| {
            slow(K_NO_CACHE, k)
        }));
        groups.push((n, names.to_vec()));
    }
    let m = measure_timed(&plan, &c);
    let title = "8 and 64 callers on one cold key, body sleeps 1 ms";
    let mut r = Record::new(
        "H5",
        title,
        "flight",
        Unit::NsPerOp,
        &Plan {
            threads: 64,
            ..plan
        },
    )
    .op("one burst: 8 or 64 threads (the group) call with one new key, all get the value");
    let mut out = format!(
        "\n### H5: {title}\n\n{rounds} bursts per candidate, a new key each, threads \
         started on a barrier; medians of the burst's wall time (first start to last \
         return); body runs per burst counted\n"
    );
    let mut all_targets = Vec::new();
    for (n, names) in &groups {
        let group = format!("{n} callers");
        let mut members = vec![alone];
        members.extend(names.iter().copied());
        let mut targets = Vec::new();
        for ours in &names[..2] {
            targets.push(Target::at_most(&m, ours, alone, 1.1));
        }
        targets.extend(body_targets(&stats, &names[..2]));
        let refs = [alone, names[6]];
        r.group(Some(&group), &m, &members, &refs);
        out.push_str(&report_group(
            &format!("#### {group}"),
            &m,
            &members,
            &refs,
            Unit::NsPerOp,
            &targets,
        ));
        out.push_str(&runs_facts(&mut r, &stats, &members, Some(&group)));
        all_targets.extend(targets);
    }
    r.fact("body", "std::thread::sleep(1 ms)");
    r.targets(&all_targets);
    r.write().expect("write the record");
    out
}

/// Spawns `tasks` tasks on `rt` that wait on a barrier, then call `op(k)`; the time
/// runs from the barrier's release to the last task's end.
fn fan_out<F, Fut>(rt: &Runtime, tasks: usize, k: u64, op: F) -> Duration
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = u64> + Send + 'static,
{
    let (elapsed, outputs) = together::fan_out(rt, (0..tasks).map(|_| op(k)).collect());
    assert!(outputs.iter().all(|&v| v == k), "a task got another value");
    elapsed
}

fn a2(size: Size) -> String {
    const TASKS: usize = 64;
    let rounds = env_usize("BENCH_ROUNDS", size.pick(30, 8, 3));
    let plan = Plan {
        threads: TASKS,
        rounds,
        ops: 1,
        keys: 1,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let stats: RunStats = Mutex::new(Vec::new());
    let ours: Cache<u64, u64> = Cache::builder().ttl(TTL).max_entries(100_000).build();
    let moka: moka::future::Cache<u64, u64> = moka::future::Cache::builder()
        .max_capacity(100_000)
        .time_to_live(TTL)
        .build();
    let quick: Arc<quick_cache::sync::Cache<u64, u64>> =
        Arc::new(quick_cache::sync::Cache::new(100_000));
    let names: [&'static str; 6] = [
        "body alone (1 task)",
        "ours Cache get_or_insert_with_async ×64",
        "ours #[ttl_cache] async fn ×64",
        "moka::future get_with ×64",
        "quick_cache get_or_insert_async ×64",
        "no cache: every task runs the body ×64",
    ];
    let rt = &rt;
    let mk = |name, kind, run| async_burst(&stats, name, kind, run);
    let c = vec![
        mk(
            names[0],
            K_A_ALONE,
            Box::new(|k| fan_out(rt, 1, k, |k| slow_async(K_A_ALONE, k))),
        ),
        mk(
            names[1],
            K_A_OURS_CACHE,
            Box::new(|k| {
                fan_out(rt, TASKS, k, |k| {
                    let ours = ours.clone();
                    async move {
                        ours.get_or_insert_with_async(k, slow_async(K_A_OURS_CACHE, k))
                            .await
                    }
                })
            }),
        ),
        mk(
            names[2],
            K_A_OURS_MACRO,
            Box::new(|k| fan_out(rt, TASKS, k, ours_macro_async)),
        ),
        mk(
            names[3],
            K_A_MOKA,
            Box::new(|k| {
                fan_out(rt, TASKS, k, |k| {
                    let moka = moka.clone();
                    async move { moka.get_with(k, slow_async(K_A_MOKA, k)).await }
                })
            }),
        ),
        mk(
            names[4],
            K_A_QUICK,
            Box::new(|k| {
                fan_out(rt, TASKS, k, |k| {
                    let quick = Arc::clone(&quick);
                    async move {
                        quick
                            .get_or_insert_async(&k, async {
                                Ok::<u64, ()>(slow_async(K_A_QUICK, k).await)
                            })
                            .await
                            .unwrap()
                    }
                })
            }),
        ),
        mk(
            names[5],
            K_A_NO_CACHE,
            Box::new(|k| fan_out(rt, TASKS, k, |k| slow_async(K_A_NO_CACHE, k))),
        ),
    ];
    let m = measure_timed(&Plan { threads: 1, ..plan }, &c);
    let targets = body_targets(&stats, &names[1..3]);
    let title = "async, 64 tasks on one cold key (tokio, 2 workers), body sleeps 1 ms";
    let mut r = Record::new("A2", title, "flight", Unit::NsPerOp, &plan)
        .op("one burst: 64 tasks call with one new key, all get the value");
    let refs = [names[0], names[3], names[4]];
    r.group(None, &m, &names, &refs);
    let runs = runs_facts(&mut r, &stats, &names, None);
    r.fact("body", "tokio::time::sleep(1 ms) (timer granularity 1 ms)");
    r.targets(&targets);
    r.write().expect("write the record");
    let heading = format!(
        "### A2: {title}\n\n{rounds} bursts per candidate, a new key each; tasks spawned \
         before a barrier; medians of the wall time from the barrier's release to the \
         last task's end"
    );
    report_group(&heading, &m, &names, &refs, Unit::NsPerOp, &targets) + &runs
}

fn main() {
    let size = Size::from_env();
    println!(
        "# Single-flight benchmarks ({} cores)",
        cache_bench::record::cores()
    );
    if selected("H5") {
        print!("{}", h5(size));
    }
    if selected("A2") {
        print!("{}", a2(size));
    }
}
