//! The R12 soak (`shared/reliability.md`): memory stays bounded and flat under a
//! long stream of distinct keys. Run in its own process by `tests/tests/soak.rs`
//! so the RSS it samples is the engine's alone.
//!
//! - **Phase `distinct`**: `--keys` (1,000,000) distinct keys, each a miss,
//!   through a `Cache`, then a `#[ttl_cache]` fn (one thread at a time), both bounded
//!   at 10,000 entries and without a TTL: only the bound reclaims. A checkpoint
//!   every 50,000 keys, and one when both threads are done.
//! - **Phase `churn`**: `--churn-ms` (30,000) of two threads calling a `Cache`
//!   and a `#[ttl_cache]` fn (TTL `--ttl-ms`, 150; bound 10,000) on keys drawn
//!   from a window of 2,000 keys that advances 10,000 keys a second: a key is
//!   read (and recomputed once it expired) for 200 ms, then never again. The
//!   entries stored stay well under the bound (a few thousand), so it is the
//!   sweep, not the bound, that must reclaim expired entries and their
//!   bookkeeping. A sample every `--sample-ms` (500).
//!
//! Values count themselves (created or cloned: +1, dropped: −1), one counter
//! per cache, so a sample shows how many values are alive beside the caches'
//! lengths, the process's `VmRSS` and the heap in use. Each sample is one JSON
//! line on stdout: `{"phase", "of", "elapsed_ms", "keys", "ops", "live_cache",
//! "live_macro", "len_cache", "len_macro", "rss_kib", "heap_kib"}`; the last
//! line is `{"phase": "done", "elapsed_ms", "hwm_kib", "ops_distinct",
//! "ops_churn", "distinct_ms", "churn_ms"}`.
//!
//! Each option also reads an environment variable (`SOAK_KEYS`,
//! `SOAK_CHURN_MS`, `SOAK_TTL_MS`, `SOAK_SAMPLE_MS`); `--quick` runs 100,000
//! keys and 3 s of churn, to try it out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cache_core::{Cache, ttl_cache};
use serde_json::json;

/// The bound of every cache in the soak (R12).
const BOUND: usize = 10_000;
/// Keys between two checkpoints of the `distinct` phase.
const CHECKPOINT_EVERY: u64 = 50_000;
/// The churn window: keys readable at one time.
const WINDOW: u64 = 2_000;
/// How fast the churn window advances: keys a second.
const ADVANCE_PER_SEC: u64 = 10_000;
/// Threads churning together.
const CHURN_THREADS: usize = 2;

/// Alive values, one counter per cache: `Cache` and `#[ttl_cache]` of the
/// `distinct` phase, then of the `churn` phase.
static LIVE: [AtomicUsize; 4] = [
    AtomicUsize::new(0),
    AtomicUsize::new(0),
    AtomicUsize::new(0),
    AtomicUsize::new(0),
];

/// A value that counts how many of its kind are alive. The payload gives it the
/// size of a small record (64 bytes), so what the cache holds shows in the RSS.
#[derive(Debug)]
struct Counted<const ID: usize> {
    key: u64,
    payload: [u64; 7],
}

impl<const ID: usize> Counted<ID> {
    fn new(key: u64) -> Self {
        LIVE[ID].fetch_add(1, Ordering::Relaxed);
        Self {
            key,
            payload: [key; 7],
        }
    }

    fn live() -> usize {
        LIVE[ID].load(Ordering::Relaxed)
    }
}

impl<const ID: usize> Clone for Counted<ID> {
    fn clone(&self) -> Self {
        LIVE[ID].fetch_add(1, Ordering::Relaxed);
        Self {
            key: self.key,
            payload: self.payload,
        }
    }
}

impl<const ID: usize> Drop for Counted<ID> {
    fn drop(&mut self) {
        LIVE[ID].fetch_sub(1, Ordering::Relaxed);
    }
}

/// The TTL of the churn phase's `#[ttl_cache]` (set from the options first).
static CHURN_TTL: OnceLock<Duration> = OnceLock::new();

fn churn_ttl() -> Duration {
    *CHURN_TTL.get().expect("set before the first call")
}

#[ttl_cache(ttl = None, max_entries = 10_000)]
fn distinct_fn(key: u64) -> Counted<1> {
    Counted::new(key)
}

#[ttl_cache(ttl = churn_ttl(), max_entries = 10_000)]
fn churn_fn(key: u64) -> Counted<3> {
    Counted::new(key)
}

/// The run's sizes.
struct Options {
    keys: u64,
    churn: Duration,
    ttl: Duration,
    sample: Duration,
}

impl Options {
    fn parse() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let quick = args.iter().any(|a| a == "--quick");
        // `--name N`, else `SOAK_NAME`, else the default (the quick one with `--quick`).
        let get = |name: &str, full: u64, short: u64| -> u64 {
            let flag = format!("--{name}");
            let var = format!("SOAK_{}", name.to_uppercase().replace('-', "_"));
            let text = args
                .iter()
                .position(|a| *a == flag)
                .map(|i| {
                    args.get(i + 1)
                        .unwrap_or_else(|| panic!("{flag} needs a value"))
                        .clone()
                })
                .or_else(|| std::env::var(&var).ok());
            match text {
                Some(t) => t
                    .parse()
                    .unwrap_or_else(|_| panic!("{flag}/{var}: not a number: {t}")),
                None if quick => short,
                None => full,
            }
        };
        Self {
            keys: get("keys", 1_000_000, 100_000),
            churn: Duration::from_millis(get("churn-ms", 30_000, 3_000)),
            ttl: Duration::from_millis(get("ttl-ms", 150, 150)),
            sample: Duration::from_millis(get("sample-ms", 500, 500)),
        }
    }
}

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// Heap bytes in use (`mallinfo2`: small chunks in use plus mmapped ones), in
/// KiB: what the program holds, without the pages the allocator keeps cached,
/// so it tells growth from fragmentation. glibc only (`None` elsewhere).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn heap_in_use_kib() -> Option<u64> {
    /// glibc's `struct mallinfo2` (glibc ≥ 2.33).
    #[repr(C)]
    struct MallInfo2 {
        arena: usize,
        ordblks: usize,
        smblks: usize,
        hblks: usize,
        hblkhd: usize,
        usmblks: usize,
        fsmblks: usize,
        uordblks: usize,
        fordblks: usize,
        keepcost: usize,
    }
    unsafe extern "C" {
        fn mallinfo2() -> MallInfo2;
    }
    // SAFETY: `mallinfo2` takes no arguments and returns a plain struct by value.
    let info = unsafe { mallinfo2() };
    Some(((info.uordblks + info.hblkhd) / 1024) as u64)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn heap_in_use_kib() -> Option<u64> {
    None
}

/// What a sample line reports besides the time and the memory.
struct Sample<'a> {
    phase: &'a str,
    /// Which thread of the `distinct` phase reached the checkpoint.
    of: Option<&'a str>,
    keys: u64,
    ops: u64,
    /// Alive values of the `Cache` and of the `#[ttl_cache]` fn.
    live: (usize, usize),
    /// Live entries of the `Cache` and of the `#[ttl_cache]` fn.
    len: (usize, u64),
    /// At a `distinct` checkpoint: the checkpointing cache's values alive
    /// when it got there, before the values it evicted last were dropped.
    in_motion: Option<usize>,
}

/// One sample line, flushed at once so a parent that kills a stuck run still
/// has the samples before it.
fn emit(sample: Sample<'_>, start: Instant) {
    let line = json!({
        "phase": sample.phase,
        "of": sample.of,
        "elapsed_ms": start.elapsed().as_millis() as u64,
        "keys": sample.keys,
        "ops": sample.ops,
        "live_cache": sample.live.0,
        "live_macro": sample.live.1,
        "len_cache": sample.len.0,
        "len_macro": sample.len.1,
        "live_in_motion": sample.in_motion,
        "rss_kib": status_kib("VmRSS"),
        "heap_kib": heap_in_use_kib(),
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").expect("write a sample");
    out.flush().expect("flush a sample");
}

/// Distinct keys, scattered over the hash space (splitmix64 of a counter, a
/// bijection), as real keys would be.
fn scatter(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// How long a checkpoint waits for the values evicted last to be dropped.
const SETTLE_LIMIT: Duration = Duration::from_secs(2);

/// A checkpoint of the `distinct` phase: the inserting thread stops and reads
/// its cache until the values it evicted last are dropped (`cache_tests::settle`,
/// at most `SETTLE_LIMIT`). A reader elsewhere (the background sweep) may hold
/// that back for a moment: the values alive before the wait are reported too
/// (`live_in_motion`).
fn settle(done: impl Fn() -> bool, nudge: impl FnMut()) {
    cache_tests::settle(done, nudge, SETTLE_LIMIT);
}

/// Phase `distinct`: every key a miss, only the bound reclaims. The `Cache`
/// first, then the `#[ttl_cache]` fn, each on a thread of its own, one after
/// the other: R12 as written (1M distinct keys through a 10,000 bound), with
/// no other thread inserting meanwhile. Each reports a checkpoint every
/// `CHECKPOINT_EVERY` keys (`"of"`: which one reached it) with both caches'
/// figures. Returns the number of calls.
///
/// One at a time because of what two at once measure: values evicted while a
/// thread of the other cache is descheduled inside the map wait for it (the
/// epoch is shared by every map), up to 1.3x the bound alive on two cores.
/// The churn phase runs its threads together and keeps that limit.
fn distinct(options: &Options, start: Instant, cache: &Cache<u64, Counted<0>>) -> u64 {
    let checkpoint = |of: &str, keys: u64, in_motion: Option<usize>| {
        emit(
            Sample {
                phase: "distinct",
                of: Some(of),
                keys,
                ops: keys,
                live: (Counted::<0>::live(), Counted::<1>::live()),
                len: (cache.len(), distinct_fn::cache_info().current_size),
                in_motion,
            },
            start,
        );
    };
    let is_checkpoint = |i: u64| (i + 1).is_multiple_of(CHECKPOINT_EVERY) || i + 1 == options.keys;
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..options.keys {
                let key = scatter(i);
                black_box(cache.get_or_insert_with(key, || Counted::new(key)));
                if is_checkpoint(i) {
                    let in_motion = Counted::<0>::live();
                    settle(
                        || Counted::<0>::live() <= BOUND,
                        || drop(black_box(cache.get(&key))),
                    );
                    checkpoint("cache", i + 1, Some(in_motion));
                }
            }
        });
    });
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..options.keys {
                black_box(distinct_fn(scatter(i)));
                if is_checkpoint(i) {
                    let in_motion = Counted::<1>::live();
                    settle(
                        || Counted::<1>::live() <= BOUND,
                        || drop(black_box(distinct_fn(scatter(i)))),
                    );
                    checkpoint("macro", i + 1, Some(in_motion));
                }
            }
        });
    });
    // Both threads done: nothing in flight, the lengths are exact (a length
    // read while the other thread inserts and evicts may count an evicted
    // entry and its replacement both). The last values the two threads
    // evicted are dropped once the epoch moves on, which the reads of the
    // lengths make it do: give that a bounded moment, so that the checkpoint
    // shows what stays (a value never dropped still shows).
    settle(
        || {
            Counted::<0>::live() == cache.len()
                && Counted::<1>::live() as u64 == distinct_fn::cache_info().current_size
        },
        || {},
    );
    checkpoint("both", options.keys, None);
    2 * options.keys
}

/// Phase `churn`: two threads on an advancing window of keys with a short TTL;
/// the calling thread samples. Returns the number of calls.
fn churn(options: &Options, start: Instant, cache: &Cache<u64, Counted<2>>) -> u64 {
    let begin = Instant::now();
    let stop = AtomicBool::new(false);
    let ops = AtomicU64::new(0);
    // The window's first key at `elapsed`: it moves with time, not with calls,
    // so the keys (and how long each stays readable) do not depend on the
    // machine's speed.
    let window_base = |elapsed: Duration| elapsed.as_micros() as u64 * ADVANCE_PER_SEC / 1_000_000;
    std::thread::scope(|s| {
        for thread in 0..CHURN_THREADS {
            let (stop, ops) = (&stop, &ops);
            s.spawn(move || {
                // xorshift64*: a cheap, seeded choice within the window.
                let mut state = 0x2545_F491_4F6C_DD1D_u64 ^ (thread as u64 + 1);
                let mut local = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let base = window_base(begin.elapsed());
                    for _ in 0..64 {
                        state ^= state >> 12;
                        state ^= state << 25;
                        state ^= state >> 27;
                        let offset = state.wrapping_mul(0x2545_F491_4F6C_DD1D) % WINDOW;
                        // Offset by the distinct phase's keys: these keys are new.
                        let key = scatter(options.keys + base + offset);
                        black_box(cache.get_or_insert_with(key, || Counted::new(key)));
                        black_box(churn_fn(key));
                    }
                    local += 128;
                    if local >= 4_096 {
                        ops.fetch_add(local, Ordering::Relaxed);
                        local = 0;
                    }
                }
                ops.fetch_add(local, Ordering::Relaxed);
            });
        }
        let mut next = options.sample;
        loop {
            let now = begin.elapsed();
            if now >= next {
                emit(
                    Sample {
                        phase: "churn",
                        of: None,
                        keys: window_base(now) + WINDOW,
                        ops: ops.load(Ordering::Relaxed),
                        live: (Counted::<2>::live(), Counted::<3>::live()),
                        len: (cache.len(), churn_fn::cache_info().current_size),
                        in_motion: None,
                    },
                    start,
                );
                next += options.sample;
            }
            if now >= options.churn {
                break;
            }
            std::thread::sleep((next.min(options.churn)).saturating_sub(now));
        }
        stop.store(true, Ordering::Relaxed);
    });
    ops.load(Ordering::Relaxed)
}

fn main() {
    let options = Options::parse();
    CHURN_TTL.set(options.ttl).expect("set once");
    let start = Instant::now();
    let distinct_cache: Cache<u64, Counted<0>> = Cache::builder().max_entries(BOUND).build();
    let churn_cache: Cache<u64, Counted<2>> =
        Cache::builder().ttl(options.ttl).max_entries(BOUND).build();
    // The sample before any key: the process, its caches and the sweep thread.
    emit(
        Sample {
            phase: "start",
            of: None,
            keys: 0,
            ops: 0,
            live: (0, 0),
            len: (0, 0),
            in_motion: None,
        },
        start,
    );
    let ops_distinct = distinct(&options, start, &distinct_cache);
    let distinct_ms = start.elapsed().as_millis() as u64;
    // The distinct phase's caches stay full through the churn: their memory is
    // part of the base the churn's RSS is compared with.
    let ops_churn = churn(&options, start, &churn_cache);
    let line = json!({
        "phase": "done",
        "elapsed_ms": start.elapsed().as_millis() as u64,
        "hwm_kib": status_kib("VmHWM"),
        "ops_distinct": ops_distinct,
        "ops_churn": ops_churn,
        "distinct_ms": distinct_ms,
        "churn_ms": start.elapsed().as_millis() as u64 - distinct_ms,
    });
    println!("{line}");
}
