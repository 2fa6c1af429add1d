//! Hit-path scenarios H1, H1b, H2, H3 and A1 of `shared/perf.md`: our engine
//! beside DashMap (the anchor), `cached`, moka, quick_cache and papaya, in one
//! process.
//!
//! - **H1**: 1 thread, 10,000 warm keys read at random, TTL on.
//! - **H1b**: the same without TTL.
//! - **H2**: 2 threads (started on a barrier) on random keys; aggregate ns/op,
//!   and ours' 2-thread cost against its own 1-thread cost measured in the same
//!   process just before.
//! - **H3**: 2 threads, every read on one hot key.
//! - **A1**: async hits on a current-thread tokio runtime.
//!
//! Run: `cargo bench -p cache-bench --bench hit` (env `BENCH_ROUNDS`, default 15,
//! and `BENCH_OPS`, default 1,000,000 reads per thread per round, scale it;
//! `BENCH_QUICK=1` shrinks both; `BENCH_ONLY=H1,H3` runs a subset). Without
//! `--bench` (`cargo test --benches`) it runs 3 rounds of 2,000. Each scenario
//! writes its record (see `cache_bench::record`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use cache_bench::{
    Candidate, Measured, Plan, Record, Size, Target, Unit, env_usize, measure, report,
    report_group, selected,
};
use cache_core::{Cache, MemKey, ttl_cache};
use cached::proc_macro::{cached, concurrent_cached};

const KEYS: u64 = 10_000;
const TTL: Duration = Duration::from_secs(3600);

type Fold = foldhash::fast::RandomState;

fn body(k: u64) -> u64 {
    k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7
}

#[cached]
fn cached_plain(k: u64) -> u64 {
    body(k)
}

#[cached(ttl_secs = 3600)]
fn cached_ttl(k: u64) -> u64 {
    body(k)
}

#[concurrent_cached]
fn cached_concurrent(k: u64) -> u64 {
    body(k)
}

#[concurrent_cached(ttl_secs = 3600)]
fn cached_concurrent_ttl(k: u64) -> u64 {
    body(k)
}

#[cached]
async fn cached_async(k: u64) -> u64 {
    body(k)
}

#[ttl_cache(ttl = 3600, max_entries = 20_000)]
fn ours_macro_ttl(k: u64) -> u64 {
    body(k)
}

#[ttl_cache(ttl = None, max_entries = 20_000)]
fn ours_macro(k: u64) -> u64 {
    body(k)
}

#[ttl_cache(ttl = 3600, max_entries = 20_000)]
async fn ours_macro_async(k: u64) -> u64 {
    body(k)
}

struct Peers {
    dashmap: dashmap::DashMap<u64, u64, Fold>,
    papaya: papaya::HashMap<u64, u64, Fold>,
    std: std::collections::HashMap<u64, u64, Fold>,
    moka_ttl: moka::sync::Cache<u64, u64>,
    moka: moka::sync::Cache<u64, u64>,
    quick: quick_cache::sync::Cache<u64, u64>,
    ours_ttl: Cache<u64, u64>,
    ours: Cache<u64, u64>,
    ours_memkey_ttl: Cache<MemKey, u64>,
    ours_memkey: Cache<MemKey, u64>,
}

impl Peers {
    fn warm() -> Self {
        let p = Peers {
            dashmap: dashmap::DashMap::with_hasher(Fold::default()),
            papaya: papaya::HashMap::with_hasher(Fold::default()),
            std: std::collections::HashMap::with_hasher(Fold::default()),
            moka_ttl: moka::sync::Cache::builder()
                .max_capacity(2 * KEYS)
                .time_to_live(TTL)
                .build(),
            moka: moka::sync::Cache::builder().max_capacity(2 * KEYS).build(),
            quick: quick_cache::sync::Cache::new(2 * KEYS as usize),
            ours_ttl: Cache::builder()
                .ttl(TTL)
                .max_entries(2 * KEYS as usize)
                .build(),
            ours: Cache::builder().max_entries(2 * KEYS as usize).build(),
            ours_memkey_ttl: Cache::builder()
                .ttl(TTL)
                .max_entries(2 * KEYS as usize)
                .build(),
            ours_memkey: Cache::builder().max_entries(2 * KEYS as usize).build(),
        };
        let mut std = std::collections::HashMap::with_hasher(Fold::default());
        for k in 0..KEYS {
            let v = body(k);
            p.dashmap.insert(k, v);
            p.papaya.pin().insert(k, v);
            std.insert(k, v);
            p.moka_ttl.insert(k, v);
            p.moka.insert(k, v);
            p.quick.insert(k, v);
            p.ours_ttl.insert(k, v);
            p.ours.insert(k, v);
            p.ours_memkey_ttl.insert(MemKey::of(&k), v);
            p.ours_memkey.insert(MemKey::of(&k), v);
            cached_plain(k);
            cached_ttl(k);
            cached_concurrent(k);
            cached_concurrent_ttl(k);
            ours_macro_ttl(k);
            ours_macro(k);
        }
        Peers { std, ..p }
    }
}

fn sync_candidates(p: &Peers, ttl: bool) -> Vec<Candidate<'_>> {
    let mut c = vec![
        Candidate::per_key("DashMap get", |k| *p.dashmap.get(&k).unwrap()),
        Candidate::per_key("papaya get", |k| *p.papaya.pin().get(&k).unwrap()),
        Candidate::per_key("cached #[cached]", cached_plain),
        Candidate::per_key("cached #[concurrent_cached]", cached_concurrent),
        Candidate::per_key("quick_cache get", |k| p.quick.get(&k).unwrap()),
    ];
    if ttl {
        c.extend([
            Candidate::per_key("ours get", |k| p.ours_ttl.get(&k).unwrap()),
            Candidate::per_key("ours get_or_insert_with", |k| {
                p.ours_ttl.get_or_insert_with(k, || body(k))
            }),
            Candidate::per_key("ours MemKey get", |k| {
                p.ours_memkey_ttl.get(&MemKey::of(&k)).unwrap()
            }),
            Candidate::per_key("ours #[ttl_cache]", ours_macro_ttl),
            Candidate::per_key("cached #[cached(ttl_secs)]", cached_ttl),
            Candidate::per_key(
                "cached #[concurrent_cached(ttl_secs)]",
                cached_concurrent_ttl,
            ),
            Candidate::per_key("moka get", |k| p.moka_ttl.get(&k).unwrap()),
        ]);
    } else {
        c.extend([
            Candidate::per_key("ours get", |k| p.ours.get(&k).unwrap()),
            Candidate::per_key("ours get_or_insert_with", |k| {
                p.ours.get_or_insert_with(k, || body(k))
            }),
            Candidate::per_key("ours MemKey get", |k| {
                p.ours_memkey.get(&MemKey::of(&k)).unwrap()
            }),
            Candidate::per_key("ours #[ttl_cache]", ours_macro),
            Candidate::per_key("moka get", |k| p.moka.get(&k).unwrap()),
        ]);
    }
    c
}

fn plan(threads: usize) -> Plan {
    let size = Size::from_env();
    Plan {
        threads,
        rounds: env_usize("BENCH_ROUNDS", size.pick(15, 5, 3)),
        ops: env_usize("BENCH_OPS", size.pick(1_000_000, 200_000, 2_000)),
        keys: KEYS,
    }
}

/// Writes a scenario's record: every candidate with its ratios to `refs` (the
/// anchor first, then the peers its targets name).
fn record(id: &str, title: &str, plan: &Plan, m: &Measured, refs: &[&str], targets: &[Target]) {
    let mut r = Record::new(id, title, "hit", Unit::NsPerOp, plan);
    r.all(m, refs);
    r.targets(targets);
    r.write().expect("write the record");
}

fn h1(p: &Peers) -> String {
    let plan = plan(1);
    let mut c = sync_candidates(p, true);
    c.insert(
        0,
        Candidate::per_key("std HashMap (floor)", |k| *p.std.get(&k).unwrap()),
    );
    let m = measure(&plan, &c);
    let targets = [
        Target::at_most(&m, "ours get_or_insert_with", "DashMap get", 1.5),
        Target::at_most(&m, "ours MemKey get", "DashMap get", 1.5),
        Target::at_most(&m, "ours #[ttl_cache]", "DashMap get", 1.5),
        Target::faster_by(&m, "ours #[ttl_cache]", "cached #[cached(ttl_secs)]", 2.5),
        Target::faster_by(
            &m,
            "ours get_or_insert_with",
            "cached #[cached(ttl_secs)]",
            2.5,
        ),
        Target::faster_by(&m, "ours get_or_insert_with", "moka get", 9.0),
    ];
    let title = "sync hit, 1 thread, TTL on";
    record(
        "H1",
        title,
        &plan,
        &m,
        &["DashMap get", "cached #[cached(ttl_secs)]", "moka get"],
        &targets,
    );
    report("H1", title, &plan, &m, "DashMap get", &targets)
}

fn h1b(p: &Peers) -> String {
    let plan = plan(1);
    let m = measure(&plan, &sync_candidates(p, false));
    let targets = [
        Target::at_most(&m, "ours get_or_insert_with", "cached #[cached]", 1.3),
        Target::at_most(&m, "ours MemKey get", "cached #[cached]", 1.3),
        Target::at_most(&m, "ours #[ttl_cache]", "cached #[cached]", 1.3),
    ];
    let title = "sync hit, 1 thread, no TTL";
    record(
        "H1b",
        title,
        &plan,
        &m,
        &["DashMap get", "cached #[cached]"],
        &targets,
    );
    report("H1b", title, &plan, &m, "DashMap get", &targets)
}

const OURS_SYNC: [&str; 3] = [
    "ours get_or_insert_with",
    "ours MemKey get",
    "ours #[ttl_cache]",
];

fn h2(p: &Peers) -> String {
    // The 1-thread reference of the "2-thread cost ≤ 1-thread cost" target, measured
    // here (not taken from H1) so that H2 alone in its own process has it.
    let one_thread = measure(
        &plan(1),
        &sync_candidates(p, true)
            .into_iter()
            .filter(|c| OURS_SYNC.contains(&c.name))
            .collect::<Vec<_>>(),
    );
    let plan = plan(2);
    let m = measure(&plan, &sync_candidates(p, true));
    let mut targets = vec![
        // Throughput ≥ 1.3× means cost per op ≤ 1/1.3.
        Target::faster_by(&m, "ours get_or_insert_with", "cached #[cached]", 1.3),
        Target::faster_by(&m, "ours MemKey get", "cached #[cached]", 1.3),
        Target::faster_by(&m, "ours #[ttl_cache]", "cached #[cached]", 1.3),
    ];
    for name in OURS_SYNC {
        targets.push(Target::new(
            format!("{name}: 2-thread aggregate ns/op / 1-thread ns/op"),
            m.ns(name) / one_thread.ns(name),
            1.0,
        ));
    }
    let title = "sync hit, 2 threads, random keys";
    let mut r = Record::new("H2", title, "hit", Unit::NsPerOp, &plan);
    r.all(&m, &["DashMap get", "cached #[cached]"]);
    for name in OURS_SYNC {
        r.candidate_fact(name, None, "1-thread ns/op", one_thread.ns(name));
    }
    r.targets(&targets);
    r.write().expect("write the record");
    report("H2", title, &plan, &m, "DashMap get", &targets)
}

fn h3(p: &Peers) -> String {
    // Every thread reads key 0 (warm), the worst case for a lock or a shared
    // counter per entry.
    let plan = Plan { keys: 1, ..plan(2) };
    let c = sync_candidates(p, true);
    let m = measure(&plan, &c);
    let mut targets = Vec::new();
    for name in ["ours get_or_insert_with", "ours #[ttl_cache]"] {
        targets.push(Target::faster_by(
            &m,
            name,
            "cached #[concurrent_cached]",
            3.0,
        ));
        targets.push(Target::faster_by(&m, name, "moka get", 10.0));
    }
    let names: Vec<&str> = m.names.clone();
    let refs = ["DashMap get", "cached #[concurrent_cached]", "moka get"];
    let title = "sync hit, 2 threads, one hot key";
    let mut r = Record::new("H3", title, "hit", Unit::NsPerOp, &plan);
    r.group(None, &m, &names, &refs);
    r.targets(&targets);
    r.write().expect("write the record");
    let heading = format!(
        "### H3: {title}\n\nthreads 2 (barrier start), {} rounds × {} ops/thread, \
         every read on key 0; medians of aggregate ns/op",
        plan.rounds, plan.ops
    );
    report_group(&heading, &m, &names, &refs, Unit::NsPerOp, &targets)
}

fn a1(p: &Peers) -> String {
    let plan = plan(1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let moka_future: moka::future::Cache<u64, u64> = moka::future::Cache::builder()
        .max_capacity(2 * KEYS)
        .time_to_live(TTL)
        .build();
    let quick: quick_cache::sync::Cache<u64, u64> =
        quick_cache::sync::Cache::new(2 * KEYS as usize);
    rt.block_on(async {
        for k in 0..KEYS {
            moka_future.insert(k, body(k)).await;
            quick.insert(k, body(k));
            cached_async(k).await;
            ours_macro_async(k).await;
        }
    });
    async fn dashmap_get(map: &dashmap::DashMap<u64, u64, Fold>, k: u64) -> u64 {
        *map.get(&k).unwrap()
    }
    let rt = &rt;
    let c = vec![
        Candidate::whole("DashMap in async fn", |keys| {
            rt.block_on(async {
                let mut acc = 0u64;
                for &k in keys {
                    acc = acc.wrapping_add(dashmap_get(&p.dashmap, k).await);
                }
                acc
            })
        }),
        Candidate::whole("ours get_or_insert_with_async", |keys| {
            rt.block_on(async {
                let mut acc = 0u64;
                for &k in keys {
                    acc = acc.wrapping_add(
                        p.ours_ttl
                            .get_or_insert_with_async(k, async move { body(k) })
                            .await,
                    );
                }
                acc
            })
        }),
        Candidate::whole("ours #[ttl_cache] async fn", |keys| {
            rt.block_on(async {
                let mut acc = 0u64;
                for &k in keys {
                    acc = acc.wrapping_add(ours_macro_async(k).await);
                }
                acc
            })
        }),
        Candidate::whole("cached async", |keys| {
            rt.block_on(async {
                let mut acc = 0u64;
                for &k in keys {
                    acc = acc.wrapping_add(cached_async(k).await);
                }
                acc
            })
        }),
        Candidate::whole("moka::future get", |keys| {
            rt.block_on(async {
                let mut acc = 0u64;
                for &k in keys {
                    acc = acc.wrapping_add(moka_future.get(&k).await.unwrap());
                }
                acc
            })
        }),
        Candidate::whole("quick_cache get_or_insert_async", |keys| {
            rt.block_on(async {
                let mut acc = 0u64;
                for &k in keys {
                    let v = quick
                        .get_or_insert_async(&k, async { Ok::<u64, ()>(body(k)) })
                        .await
                        .unwrap();
                    acc = acc.wrapping_add(v);
                }
                acc
            })
        }),
    ];
    let m = measure(&plan, &c);
    let targets = [
        Target::at_most(
            &m,
            "ours get_or_insert_with_async",
            "DashMap in async fn",
            2.0,
        ),
        Target::faster_by(&m, "ours get_or_insert_with_async", "cached async", 4.0),
        Target::faster_by(&m, "ours get_or_insert_with_async", "moka::future get", 8.0),
        Target::at_most(&m, "ours #[ttl_cache] async fn", "DashMap in async fn", 2.0),
        Target::faster_by(&m, "ours #[ttl_cache] async fn", "cached async", 4.0),
    ];
    let title = "async hit, current-thread tokio";
    record(
        "A1",
        title,
        &plan,
        &m,
        &["DashMap in async fn", "cached async", "moka::future get"],
        &targets,
    );
    report("A1", title, &plan, &m, "DashMap in async fn", &targets)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run tiny.
    let p = Peers::warm();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!("# Hit-path benchmarks ({cores} cores)");
    if selected("H1") {
        print!("{}", h1(&p));
    }
    if selected("H1b") {
        print!("{}", h1b(&p));
    }
    if selected("H2") {
        print!("{}", h2(&p));
    }
    if selected("H3") {
        print!("{}", h3(&p));
    }
    if selected("A1") {
        print!("{}", a1(&p));
    }
    black_box(&p);
}
