//! Machine-readable results: one JSON [`Record`] per scenario, written into the
//! results directory (env `BENCH_OUT_DIR`, default `<workspace>/target/bench-results/`)
//! as `<id>.json`; plus the environment helpers every bench binary shares
//! ([`Size`], [`env_usize`], [`selected`]) and the process facts a record carries
//! (peak RSS from `/proc/self/status`, commit, core count, date).
//!
//! # Schema (`schema` = 1)
//!
//! ```text
//! id, title, bench            scenario id ("H1"), its title, the bench binary that ran it
//! size                        "full" | "quick" | "tiny" (see Size)
//! unit                        "ns/op" | "ops/s": how `ratio_to_anchor` and `ratios` read
//! plan                        { threads, rounds, ops, keys, op }   (op: what one operation is)
//! anchor                      the scenario's main anchor (or null)
//! candidates[]                { name, group, anchor, median_ns, ops_per_sec,
//!                               ratio_to_anchor, ratios{ref: ratio}, samples_ns[], facts{} }
//! targets[]                   { what, detail, measured, limit, met }   (met = measured <= limit;
//!                             `what` is stable, the key of bench/notes.json)
//! peak_rss_kib                VmHWM of the process when the record was written (H7: the
//!                             largest of its child processes')
//! process_scenarios[]         every scenario the process had run by then (peak RSS
//!                             belongs to one scenario only when this lists just it)
//! facts{}                     anything else measured (body runs, hit ratios, RSS samples)
//! commit, dirty, cores, cpu,  `git rev-parse --short HEAD` (or env BENCH_COMMIT),
//! date                        tracked files modified, available parallelism, the CPU
//!                             model (`/proc/cpuinfo`), UTC ISO 8601
//! ```
//!
//! Ratios follow the unit: for ns/op a cost ratio (below 1 is faster), for ops/s a
//! throughput ratio (above 1 is faster). A target's `measured` is always the
//! quantity that must stay at most `limit`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Measured, Plan, Target, Unit};

/// The version of the record format.
pub const SCHEMA: u32 = 1;

/// How big a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    /// `cargo bench` (the binary got `--bench`): the sizes of `shared/perf.md`.
    Full,
    /// `cargo bench` with `BENCH_QUICK=1`: a smoke run of the whole suite in minutes.
    Quick,
    /// `cargo test --benches` (no `--bench`): tiny, to prove the code runs. Writes
    /// no record unless `BENCH_OUT_DIR` is set.
    Tiny,
}

impl Size {
    /// The size of this process's run, from its arguments and `BENCH_QUICK`.
    pub fn from_env() -> Self {
        if !std::env::args().any(|a| a == "--bench") {
            Size::Tiny
        } else if std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0") {
            Size::Quick
        } else {
            Size::Full
        }
    }

    /// One of three values by size.
    pub fn pick<T>(self, full: T, quick: T, tiny: T) -> T {
        match self {
            Size::Full => full,
            Size::Quick => quick,
            Size::Tiny => tiny,
        }
    }
}

/// The value of environment variable `name` as a `usize`, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Whether scenario `id` should run: `BENCH_ONLY` is unset or empty, or lists it
/// (comma-separated, case-insensitive: `BENCH_ONLY=h1,H2`).
pub fn selected(id: &str) -> bool {
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    only.trim().is_empty() || only.split(',').any(|o| o.trim().eq_ignore_ascii_case(id))
}

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`, ...); `None` where
/// there is no procfs.
pub fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// The resident set size now, in KiB.
pub fn rss_kib() -> Option<u64> {
    proc_status_kib("VmRSS")
}

/// The peak resident set size of this process so far, in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    proc_status_kib("VmHWM")
}

/// The workspace root (the parent of the bench crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Where records go: `BENCH_OUT_DIR`, or `<workspace>/target/bench-results`.
pub fn out_dir() -> PathBuf {
    std::env::var_os("BENCH_OUT_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(
            || workspace_root().join("target").join("bench-results"),
            PathBuf::from,
        )
}

/// The commit measured: env `BENCH_COMMIT`, else `git rev-parse --short HEAD`.
pub fn commit() -> String {
    if let Ok(c) = std::env::var("BENCH_COMMIT")
        && !c.trim().is_empty()
    {
        return c.trim().to_string();
    }
    Command::new("git")
        .arg("-C")
        .arg(workspace_root())
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Whether tracked files differ from the commit (the report's own outputs aside).
pub fn dirty() -> bool {
    Command::new("git")
        .arg("-C")
        .arg(workspace_root())
        .args([
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            ":!BENCHMARKS.md",
            ":!bench-results.json",
            ":!docs/bench-ratios.svg",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| !o.stdout.is_empty())
}

/// Cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The CPU model: the first `model name` of Linux's `/proc/cpuinfo`.
pub fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, model)| model.trim().to_owned())
}

/// Now, in UTC, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Scenarios this process has recorded so far.
static RECORDED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// How a scenario was run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlanRecord {
    /// Threads (or tasks) running at once.
    pub threads: usize,
    /// Rounds (candidates shuffled in each).
    pub rounds: usize,
    /// Operations per thread per round.
    pub ops: usize,
    /// Distinct keys.
    pub keys: u64,
    /// What one operation is, when not one call on one key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
}

impl From<&Plan> for PlanRecord {
    fn from(plan: &Plan) -> Self {
        PlanRecord {
            threads: plan.threads,
            rounds: plan.rounds,
            ops: plan.ops,
            keys: plan.keys,
            op: None,
        }
    }
}

/// One candidate's result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CandidateRecord {
    /// Name, as in the printed tables.
    pub name: String,
    /// The group of the scenario it belongs to (a runtime flavour, a caller count,
    /// a Zipf exponent), if the scenario has several.
    #[serde(default)]
    pub group: Option<String>,
    /// The candidate its ratio is to.
    #[serde(default)]
    pub anchor: Option<String>,
    /// Median nanoseconds per operation.
    #[serde(default)]
    pub median_ns: Option<f64>,
    /// 10⁹ / `median_ns`.
    #[serde(default)]
    pub ops_per_sec: Option<f64>,
    /// Ratio to `anchor`, in the record's unit's sense.
    #[serde(default)]
    pub ratio_to_anchor: Option<f64>,
    /// Ratio to each reference of its group (the anchor and the main peers).
    #[serde(default)]
    pub ratios: BTreeMap<String, f64>,
    /// Every round's ns/op.
    #[serde(default)]
    pub samples_ns: Vec<f64>,
    /// Facts about this candidate (hit ratio, body runs, RSS...).
    #[serde(default)]
    pub facts: BTreeMap<String, Value>,
}

/// A target and whether it was met.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TargetRecord {
    /// What is compared (unique within the scenario: the key of `bench/notes.json`).
    pub what: String,
    /// Measured details (e.g. the throughput ratio behind a cost ratio).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// The measured quantity (a cost ratio for speed targets).
    pub measured: f64,
    /// The largest acceptable value.
    pub limit: f64,
    /// `measured <= limit`.
    pub met: bool,
}

impl From<&Target> for TargetRecord {
    fn from(t: &Target) -> Self {
        TargetRecord {
            what: t.what.clone(),
            detail: t.detail.clone(),
            measured: t.measured,
            limit: t.limit,
            met: t.met(),
        }
    }
}

/// The machine-readable result of one scenario (see the module docs for the schema).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    /// [`SCHEMA`].
    pub schema: u32,
    /// Scenario id of `shared/perf.md` (`H1`, `R2`, ...).
    pub id: String,
    /// Its title.
    pub title: String,
    /// The bench binary that ran it.
    pub bench: String,
    /// How big the run was.
    pub size: Size,
    /// How medians and ratios read.
    pub unit: Unit,
    /// How it was run.
    pub plan: PlanRecord,
    /// The main anchor.
    pub anchor: Option<String>,
    /// Every candidate.
    pub candidates: Vec<CandidateRecord>,
    /// Every target of `shared/perf.md` for this scenario.
    pub targets: Vec<TargetRecord>,
    /// Peak RSS (VmHWM) of the process at the end of the scenario, KiB.
    pub peak_rss_kib: Option<u64>,
    /// The scenarios this process had run when the record was written.
    pub process_scenarios: Vec<String>,
    /// Other facts measured.
    pub facts: BTreeMap<String, Value>,
    /// The commit measured.
    pub commit: String,
    /// Whether tracked files differed from the commit.
    pub dirty: bool,
    /// Cores available.
    pub cores: usize,
    /// The CPU model (Linux `/proc/cpuinfo`; empty where unknown, and in records
    /// written before it was recorded).
    #[serde(default)]
    pub cpu: String,
    /// When, UTC.
    pub date: String,
}

impl Record {
    /// An empty record of scenario `id`, run by bench binary `bench`.
    pub fn new(id: &str, title: &str, bench: &str, unit: Unit, plan: &Plan) -> Self {
        Record {
            schema: SCHEMA,
            id: id.to_string(),
            title: title.to_string(),
            bench: bench.to_string(),
            size: Size::from_env(),
            unit,
            plan: plan.into(),
            anchor: None,
            candidates: Vec::new(),
            targets: Vec::new(),
            peak_rss_kib: None,
            process_scenarios: Vec::new(),
            facts: BTreeMap::new(),
            commit: String::new(),
            dirty: false,
            cores: cores(),
            cpu: cpu_model().unwrap_or_default(),
            date: String::new(),
        }
    }

    /// Says what one operation is (`plan.op`).
    pub fn op(mut self, what: &str) -> Self {
        self.plan.op = Some(what.to_string());
        self
    }

    /// Adds the candidates `names` of `m`, with ratios to each of `refs` (the
    /// first is their anchor; the scenario's anchor too, if it has none yet).
    pub fn group(&mut self, group: Option<&str>, m: &Measured, names: &[&str], refs: &[&str]) {
        if self.anchor.is_none() {
            self.anchor = refs.first().map(|r| r.to_string());
        }
        for name in names {
            let i = m
                .names
                .iter()
                .position(|n| n == name)
                .unwrap_or_else(|| panic!("no candidate {name}"));
            let ns = m.median_ns[i];
            let ratios: BTreeMap<String, f64> = refs
                .iter()
                .map(|r| (r.to_string(), self.unit.ratio(ns, m.ns(r))))
                .collect();
            self.candidates.push(CandidateRecord {
                name: name.to_string(),
                group: group.map(str::to_string),
                anchor: refs.first().map(|r| r.to_string()),
                median_ns: Some(ns),
                ops_per_sec: Some(1e9 / ns),
                ratio_to_anchor: refs.first().map(|r| self.unit.ratio(ns, m.ns(r))),
                ratios,
                samples_ns: m.samples[i].clone(),
                facts: BTreeMap::new(),
            });
        }
    }

    /// Every candidate of `m`, with ratios to `refs` (the anchor first).
    pub fn all(&mut self, m: &Measured, refs: &[&str]) {
        let names = m.names.clone();
        self.group(None, m, &names, refs);
    }

    /// Adds a candidate measured outside the harness (no samples, no ratios).
    pub fn candidate(&mut self, c: CandidateRecord) {
        self.candidates.push(c);
    }

    /// Adds targets.
    pub fn targets(&mut self, targets: &[Target]) {
        self.targets.extend(targets.iter().map(TargetRecord::from));
    }

    /// Adds a fact about the scenario.
    pub fn fact(&mut self, key: &str, value: impl Serialize) {
        self.facts.insert(
            key.to_string(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
    }

    /// Adds a fact about candidate `name` of `group`.
    pub fn candidate_fact(
        &mut self,
        name: &str,
        group: Option<&str>,
        key: &str,
        value: impl Serialize,
    ) {
        let c = self
            .candidates
            .iter_mut()
            .find(|c| c.name == name && c.group.as_deref() == group)
            .unwrap_or_else(|| panic!("no candidate {name} in group {group:?}"));
        c.facts.insert(
            key.to_string(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
    }

    /// Stamps the record (peak RSS now, unless a larger one was set, e.g. by a
    /// scenario that ran in child processes; commit; date) and writes it as
    /// `<out_dir>/<id>.json`. A tiny run (`cargo test --benches`) only checks that
    /// it serializes, unless `BENCH_OUT_DIR` is set. Returns the path written.
    pub fn write(mut self) -> std::io::Result<Option<PathBuf>> {
        let mut recorded = RECORDED.lock().unwrap_or_else(|e| e.into_inner());
        recorded.push(self.id.clone());
        self.process_scenarios = recorded.clone();
        drop(recorded);
        // A scenario that ran its work in child processes sets their peak first.
        self.peak_rss_kib = self.peak_rss_kib.max(peak_rss_kib());
        self.commit = commit();
        self.dirty = dirty();
        self.date = utc_now();
        let json = serde_json::to_string_pretty(&self).map_err(std::io::Error::other)?;
        if self.size == Size::Tiny && std::env::var_os("BENCH_OUT_DIR").is_none() {
            return Ok(None);
        }
        let dir = out_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{}.json", self.id));
        std::fs::write(&path, json + "\n")?;
        eprintln!("record: {}", path.display());
        Ok(Some(path))
    }
}
