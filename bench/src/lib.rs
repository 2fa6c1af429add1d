//! Benchmark harness: every candidate of a scenario runs in the same process,
//! interleaved in shuffled order over several rounds; the report gives medians
//! and ratios to the anchor, and checks each target of `shared/perf.md`.
//!
//! Ratios, never absolute times, are the claims: the machines drift ±10–30 %, but
//! candidates measured side by side in one run drift together.
//!
//! Every scenario also leaves a machine-readable [`Record`] (one JSON file per
//! scenario id, see [`record`]); the `bench-report` binary merges them into
//! `bench-results.json`, `BENCHMARKS.md` and `docs/bench-ratios.svg` (see
//! [`summary`]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod record;
pub mod summary;

pub use record::{CandidateRecord, PlanRecord, Record, Size, TargetRecord, env_usize, selected};

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// A loop of operations over keys, returning a value kept alive with `black_box`.
pub type OpLoop<'a> = Box<dyn Fn(&[u64]) -> u64 + Sync + 'a>;

/// One implementation under test: `run` performs one operation per key and
/// returns something derived from the results (kept alive with `black_box`).
pub struct Candidate<'a> {
    /// Name in the report.
    pub name: &'static str,
    /// The operation loop.
    pub run: OpLoop<'a>,
}

impl<'a> Candidate<'a> {
    /// A candidate from a per-key operation.
    pub fn per_key(name: &'static str, op: impl Fn(u64) -> u64 + Sync + 'a) -> Self {
        Self {
            name,
            run: Box::new(move |keys| {
                let mut acc = 0u64;
                for &k in keys {
                    acc = acc.wrapping_add(op(k));
                }
                acc
            }),
        }
    }

    /// A candidate that runs its whole loop itself (for async runtimes).
    pub fn whole(name: &'static str, run: impl Fn(&[u64]) -> u64 + Sync + 'a) -> Self {
        Self {
            name,
            run: Box::new(run),
        }
    }
}

/// How a scenario is run.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Threads running the candidate at once (started on a barrier).
    pub threads: usize,
    /// Rounds; candidates are shuffled in each.
    pub rounds: usize,
    /// Operations per thread per round.
    pub ops: usize,
    /// Distinct keys (uniformly random over `0..keys`).
    pub keys: u64,
}

/// The median cost of each candidate, in aggregate nanoseconds per operation
/// (wall time of the slowest thread / total operations).
#[derive(Clone, Debug)]
pub struct Measured {
    /// Candidate names, in the order given.
    pub names: Vec<&'static str>,
    /// Median ns/op, same order.
    pub median_ns: Vec<f64>,
    /// Every round's ns/op, same order (the spread behind each median).
    pub samples: Vec<Vec<f64>>,
}

impl Measured {
    /// The median of a candidate by name.
    pub fn ns(&self, name: &str) -> f64 {
        let i = self
            .names
            .iter()
            .position(|n| *n == name)
            .unwrap_or_else(|| panic!("no candidate {name}"));
        self.median_ns[i]
    }

    /// `ns(a) / ns(b)`: below 1 means `a` is faster.
    pub fn ratio(&self, a: &str, b: &str) -> f64 {
        self.ns(a) / self.ns(b)
    }
}

/// Random keys for thread `t` (xorshift, fixed seeds: every run sees the same keys).
pub fn keys(plan: &Plan, thread: usize) -> Vec<u64> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (thread as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407);
    (0..plan.ops)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % plan.keys
        })
        .collect()
}

/// Runs every candidate `plan.rounds` times in shuffled order and returns medians.
pub fn measure(plan: &Plan, candidates: &[Candidate<'_>]) -> Measured {
    let key_sets: Vec<Vec<u64>> = (0..plan.threads).map(|t| keys(plan, t)).collect();
    measure_keys(plan, &key_sets, candidates)
}

/// [`measure`] over given key streams, one per thread (`plan.threads` of them,
/// each `plan.ops` long), e.g. Zipf-distributed keys generated before timing.
/// Every round replays the same keys.
pub fn measure_keys(plan: &Plan, key_sets: &[Vec<u64>], candidates: &[Candidate<'_>]) -> Measured {
    assert_eq!(key_sets.len(), plan.threads, "one key stream per thread");
    measure_with(plan, candidates, |_, t| &key_sets[t][..])
}

/// [`measure`] over key streams that go on from round to round: thread `t`'s
/// stream `streams[t]` holds at least `plan.rounds × plan.ops` keys, and round
/// `r` of every candidate reads its segment `r` (`r × ops .. (r + 1) × ops`), so
/// a cache never sees the same segment twice and every candidate sees the same
/// segments in the same order. The untimed warm-up reads the start of segment 0.
pub fn measure_streams(
    plan: &Plan,
    streams: &[Vec<u64>],
    candidates: &[Candidate<'_>],
) -> Measured {
    assert_eq!(streams.len(), plan.threads, "one key stream per thread");
    assert!(
        streams.iter().all(|s| s.len() >= plan.rounds * plan.ops),
        "every stream holds rounds × ops keys"
    );
    measure_with(plan, candidates, |round, t| {
        &streams[t][round * plan.ops..(round + 1) * plan.ops]
    })
}

/// The measuring loop: round `r`, thread `t` reads `keys(r, t)`.
fn measure_with<'k>(
    plan: &Plan,
    candidates: &[Candidate<'_>],
    keys: impl Fn(usize, usize) -> &'k [u64],
) -> Measured {
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); candidates.len()];
    let mut rng = fastrand::Rng::with_seed(42);
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    // One untimed warm-up pass (page faults, lazy initialization, branch predictors).
    let first = keys(0, 0);
    for c in candidates {
        black_box((c.run)(&first[..plan.ops.min(10_000).min(first.len())]));
    }
    for round in 0..plan.rounds {
        let key_sets: Vec<&[u64]> = (0..plan.threads).map(|t| keys(round, t)).collect();
        rng.shuffle(&mut order);
        for &i in &order {
            let elapsed = run_once(&candidates[i], &key_sets);
            samples[i].push(elapsed.as_nanos() as f64 / (plan.ops * plan.threads) as f64);
        }
    }
    Measured::from_samples(candidates.iter().map(|c| c.name).collect(), samples)
}

impl Measured {
    fn from_samples(names: Vec<&'static str>, samples: Vec<Vec<f64>>) -> Self {
        Measured {
            names,
            median_ns: samples.iter().cloned().map(median).collect(),
            samples,
        }
    }
}

fn run_once(candidate: &Candidate<'_>, key_sets: &[&[u64]]) -> Duration {
    if key_sets.len() == 1 {
        let start = Instant::now();
        black_box((candidate.run)(key_sets[0]));
        return start.elapsed();
    }
    run_threads(key_sets.len(), |t| (candidate.run)(key_sets[t]))
}

/// Runs `work(t)` on `threads` new threads (`t` in `0..threads`) that start
/// together on a barrier; returns the wall time from the first thread's start to
/// the last thread's end. Spawning stays outside the time.
pub fn run_threads(threads: usize, work: impl Fn(usize) -> u64 + Sync) -> Duration {
    let barrier = Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                let work = &work;
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    black_box(work(t));
                    (start, Instant::now())
                })
            })
            .collect();
        let spans: Vec<(Instant, Instant)> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        let first = spans.iter().map(|s| s.0).min().unwrap();
        let last = spans.iter().map(|s| s.1).max().unwrap();
        last - first
    })
}

/// What one burst of [`run_burst`] took.
#[derive(Clone, Copy, Debug)]
pub struct Burst {
    /// From the first caller's start to the last caller's return.
    pub wall: Duration,
    /// The longest any one caller waited (its return minus its own start).
    pub max_latency: Duration,
}

/// Runs `work(t)` once on each of `threads` new threads that start together;
/// returns the burst's wall time and its longest single call.
///
/// The start is lock-free (an arrival count, then a flag the threads poll,
/// yielding): a `std::sync::Barrier` hands its mutex from one woken thread to
/// the next, which with 64 threads on 2 cores spreads the starts over about a
/// millisecond, more than the 1 ms body the single-flight scenarios measure.
/// A thread that has returned parks on a barrier until every other has too, so
/// thread exits (stack unmapping) do not delay the callers still running.
pub fn run_burst(threads: usize, work: impl Fn(usize) -> u64 + Sync) -> Burst {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let arrived = AtomicUsize::new(0);
    let go = AtomicBool::new(false);
    let done = Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (arrived, go, done, work) = (&arrived, &go, &done, &work);
                s.spawn(move || {
                    arrived.fetch_add(1, Ordering::AcqRel);
                    while !go.load(Ordering::Acquire) {
                        std::thread::yield_now();
                    }
                    let start = Instant::now();
                    black_box(work(t));
                    let end = Instant::now();
                    done.wait();
                    (start, end)
                })
            })
            .collect();
        while arrived.load(Ordering::Acquire) < threads {
            std::thread::yield_now();
        }
        go.store(true, Ordering::Release);
        let spans: Vec<(Instant, Instant)> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        let first = spans.iter().map(|s| s.0).min().unwrap();
        let last = spans.iter().map(|s| s.1).max().unwrap();
        Burst {
            wall: last - first,
            max_latency: spans.iter().map(|s| s.1 - s.0).max().unwrap(),
        }
    })
}

/// The median of `xs` (NaN when empty).
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// A target of `shared/perf.md`: `measured` must be at most `limit`.
#[derive(Clone, Debug)]
pub struct Target {
    /// What is compared, e.g. "ours / DashMap get": stable from run to run (the
    /// key of a note in `bench/notes.json`).
    pub what: String,
    /// Measured details printed after `what` (empty for none).
    pub detail: String,
    /// The measured ratio.
    pub measured: f64,
    /// The largest acceptable ratio.
    pub limit: f64,
}

impl Target {
    /// A target on any measured quantity: `measured <= limit`.
    pub fn new(what: impl Into<String>, measured: f64, limit: f64) -> Self {
        Self {
            what: what.into(),
            detail: String::new(),
            measured,
            limit,
        }
    }

    /// The same target, its description prefixed (e.g. with the group it is about).
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.what = format!("{prefix}{}", self.what);
        self
    }

    /// `ratio(a, b) <= limit`.
    pub fn at_most(m: &Measured, a: &str, b: &str, limit: f64) -> Self {
        Self {
            what: format!("{a} / {b}"),
            detail: String::new(),
            measured: m.ratio(a, b),
            limit,
        }
    }

    /// `a` is at least `factor` times faster than `b`, i.e. `ratio(a, b) <= 1 / factor`.
    pub fn faster_by(m: &Measured, a: &str, b: &str, factor: f64) -> Self {
        Self {
            what: format!("{a} ≥ {factor}× faster than {b}"),
            detail: String::new(),
            measured: m.ratio(a, b),
            limit: 1.0 / factor,
        }
    }

    /// Whether the target holds.
    pub fn met(&self) -> bool {
        self.measured <= self.limit
    }
}

/// A Markdown report of one scenario: medians, ratios to the anchor, targets.
pub fn report(
    id: &str,
    title: &str,
    plan: &Plan,
    m: &Measured,
    anchor: &str,
    targets: &[Target],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n### {id}: {title}\n\nthreads {}, {} rounds × {} ops/thread, {} keys; medians\n",
        plan.threads, plan.rounds, plan.ops, plan.keys
    );
    let _ = writeln!(out, "| candidate | ns/op | × {anchor} |\n|---|---:|---:|");
    let anchor_ns = m.ns(anchor);
    for (name, ns) in m.names.iter().zip(&m.median_ns) {
        let _ = writeln!(out, "| {name} | {ns:.2} | {:.2} |", ns / anchor_ns);
    }
    write_targets(&mut out, targets);
    out
}

/// A loop of operations that times itself and returns the time that counts, so
/// set-up before it (spawning tasks that then wait on a barrier) and clean-up after
/// it (deleting what a round wrote) stay out of the measurement.
pub type TimedLoop<'a> = Box<dyn Fn(&[u64]) -> Duration + Sync + 'a>;

/// A candidate that reports its own elapsed time (see [`TimedLoop`]).
pub struct TimedCandidate<'a> {
    /// Name in the report.
    pub name: &'static str,
    /// The operation loop; returns the timed part's wall time.
    pub run: TimedLoop<'a>,
}

impl<'a> TimedCandidate<'a> {
    /// A candidate from a self-timed loop over the round's keys.
    pub fn new(name: &'static str, run: impl Fn(&[u64]) -> Duration + Sync + 'a) -> Self {
        Self {
            name,
            run: Box::new(run),
        }
    }
}

/// [`measure`] for candidates that time themselves: one untimed warm-up pass,
/// then `plan.rounds` rounds in shuffled order, each candidate given the same
/// `plan.ops` keys; the cost is the reported time / `plan.ops` (a candidate that
/// spreads its keys over tasks gives aggregate ns per operation). `plan.threads`
/// must be 1: any concurrency is the candidate's own.
pub fn measure_timed(plan: &Plan, candidates: &[TimedCandidate<'_>]) -> Measured {
    assert_eq!(plan.threads, 1, "a timed candidate runs its own tasks");
    let keys = keys(plan, 0);
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); candidates.len()];
    let mut rng = fastrand::Rng::with_seed(42);
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    for c in candidates {
        black_box((c.run)(&keys[..plan.ops.min(10_000)]));
    }
    for _ in 0..plan.rounds {
        rng.shuffle(&mut order);
        for &i in &order {
            let elapsed = (candidates[i].run)(&keys);
            samples[i].push(elapsed.as_nanos() as f64 / plan.ops.max(1) as f64);
        }
    }
    Measured::from_samples(candidates.iter().map(|c| c.name).collect(), samples)
}

/// How [`report_group`] states each median.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Unit {
    /// Nanoseconds per operation; ratio columns are cost ratios (below 1 is faster).
    #[serde(rename = "ns/op")]
    NsPerOp,
    /// Operations per second (10⁹ / ns per operation); ratio columns are
    /// throughput ratios (above 1 is faster).
    #[serde(rename = "ops/s")]
    OpsPerSec,
}

impl Unit {
    /// The unit as written in tables: `ns/op` or `ops/s`.
    pub fn label(self) -> &'static str {
        match self {
            Unit::NsPerOp => "ns/op",
            Unit::OpsPerSec => "ops/s",
        }
    }

    /// The ratio of `ns` to `reference_ns` in this unit's sense: a cost ratio
    /// for ns/op, a throughput ratio (`reference_ns / ns`) for ops/s.
    pub fn ratio(self, ns: f64, reference_ns: f64) -> f64 {
        match self {
            Unit::NsPerOp => ns / reference_ns,
            Unit::OpsPerSec => reference_ns / ns,
        }
    }
}

impl Target {
    /// `a`'s throughput is at least `fraction` of `b`'s, i.e.
    /// `ratio(a, b) <= 1 / fraction` in cost (the measured column is the cost ratio).
    pub fn throughput_at_least(m: &Measured, a: &str, b: &str, fraction: f64) -> Self {
        Self {
            what: format!("ops/s of {a} ≥ {fraction} × ops/s of {b}"),
            detail: format!("ns/op {a} / {b}; throughput ratio {:.3}", m.ratio(b, a)),
            measured: m.ratio(a, b),
            limit: 1.0 / fraction,
        }
    }
}

/// A Markdown table of the candidates `names` of `m` (one group of a larger
/// interleaved run), with a ratio column to each of `refs` (the anchor first),
/// followed by the targets.
pub fn report_group(
    heading: &str,
    m: &Measured,
    names: &[&str],
    refs: &[&str],
    unit: Unit,
    targets: &[Target],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n{heading}\n");
    let (value, sign) = match unit {
        Unit::NsPerOp => ("ns/op", "×"),
        Unit::OpsPerSec => ("ops/s", "throughput ×"),
    };
    let _ = write!(out, "| candidate | {value} |");
    for r in refs {
        let _ = write!(out, " {sign} {r} |");
    }
    let _ = write!(out, "\n|---|---:|");
    for _ in refs {
        let _ = write!(out, "---:|");
    }
    let _ = writeln!(out);
    for name in names {
        let ns = m.ns(name);
        match unit {
            Unit::NsPerOp => {
                let _ = write!(out, "| {name} | {ns:.0} |");
            }
            Unit::OpsPerSec => {
                let _ = write!(out, "| {name} | {:.0} |", 1e9 / ns);
            }
        }
        for r in refs {
            let ratio = match unit {
                Unit::NsPerOp => ns / m.ns(r),
                Unit::OpsPerSec => m.ns(r) / ns,
            };
            let _ = write!(out, " {ratio:.3} |");
        }
        let _ = writeln!(out);
    }
    write_targets(&mut out, targets);
    out
}

/// Appends the table of targets (measured ratio, limit, met or not), if any.
pub fn write_targets(out: &mut String, targets: &[Target]) {
    if targets.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n| target | measured ratio | limit | met |\n|---|---:|---:|---|"
    );
    for t in targets {
        let what = if t.detail.is_empty() {
            t.what.clone()
        } else {
            format!("{} ({})", t.what, t.detail)
        };
        let _ = writeln!(
            out,
            "| {} | {:.3} | ≤ {:.3} | {} |",
            what,
            t.measured,
            t.limit,
            if t.met() { "met" } else { "NOT met" }
        );
    }
}
