//! The report over every scenario's [`Record`]: `bench-results.json` (the records,
//! merged), `BENCHMARKS.md` (tables and targets, with a "why" for every target not
//! met from the hand-maintained `bench/notes.json`) and an SVG chart of the
//! targets. Used by the `bench-report` binary; nothing here measures anything.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Unit;
use crate::record::{Record, Size};

/// The command that regenerates the report, as printed in it.
pub const COMMAND: &str = "scripts/bench";

/// The order of scenarios in the report (ids not listed come after, sorted).
pub const ORDER: [&str; 18] = [
    "H1", "H1b", "H2", "H3", "H4", "H5", "H6", "H7", "A1", "A2", "K1", "R1", "R2", "R3", "R4",
    "D1", "D2", "D3",
];

/// Hand-written explanations of targets not met: scenario id → target `what` → text.
pub type Notes = BTreeMap<String, BTreeMap<String, String>>;

/// Reads every `*.json` record in `dir`, in report order.
pub fn load_records(dir: &Path) -> std::io::Result<Vec<Record>> {
    let mut records = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path)?;
            let record: Record = serde_json::from_str(&text).map_err(|e| {
                std::io::Error::other(format!("{}: not a record: {e}", path.display()))
            })?;
            records.push(record);
        }
    }
    records.sort_by_key(|r| order_key(&r.id));
    Ok(records)
}

fn order_key(id: &str) -> (usize, String) {
    (
        ORDER.iter().position(|o| *o == id).unwrap_or(ORDER.len()),
        id.to_string(),
    )
}

/// Reads `bench/notes.json` (keys starting with `_` are comments); a missing file
/// is no notes.
pub fn load_notes(path: &Path) -> std::io::Result<Notes> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Notes::new()),
        Err(e) => return Err(e),
    };
    let raw: BTreeMap<String, Value> = serde_json::from_str(&text)
        .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
    let mut notes = Notes::new();
    for (id, v) in raw {
        if id.starts_with('_') {
            continue;
        }
        let Value::Object(map) = v else { continue };
        let entry = notes.entry(id).or_default();
        for (what, text) in map {
            if let Value::String(text) = text {
                entry.insert(what, text);
            }
        }
    }
    Ok(notes)
}

/// `bench-results.json`: the records and what they have in common.
#[derive(Debug, Serialize, Deserialize)]
pub struct Results {
    /// The record format version.
    pub schema: u32,
    /// When the report was made, UTC.
    pub generated: String,
    /// The command that regenerates it.
    pub command: String,
    /// Commits the records measured (one, normally).
    pub commits: Vec<String>,
    /// Core counts the records saw.
    pub cores: Vec<usize>,
    /// CPU models the records saw.
    #[serde(default)]
    pub cpus: Vec<String>,
    /// Run sizes of the records (`full`, `quick`).
    pub sizes: Vec<Size>,
    /// Targets met / all targets.
    pub targets_met: usize,
    /// All targets.
    pub targets_total: usize,
    /// Every record, in report order.
    pub records: Vec<Record>,
}

/// Merges the records.
pub fn results(records: Vec<Record>, generated: &str) -> Results {
    let commits: BTreeSet<String> = records
        .iter()
        .map(|r| format!("{}{}", r.commit, if r.dirty { "-dirty" } else { "" }))
        .collect();
    let cores: BTreeSet<usize> = records.iter().map(|r| r.cores).collect();
    let cpus: BTreeSet<String> = records
        .iter()
        .filter(|r| !r.cpu.is_empty())
        .map(|r| r.cpu.clone())
        .collect();
    let mut sizes: Vec<Size> = Vec::new();
    for r in &records {
        if !sizes.contains(&r.size) {
            sizes.push(r.size);
        }
    }
    let targets_total = records.iter().map(|r| r.targets.len()).sum();
    let targets_met = records
        .iter()
        .flat_map(|r| &r.targets)
        .filter(|t| t.met)
        .count();
    Results {
        schema: crate::record::SCHEMA,
        generated: generated.to_string(),
        command: COMMAND.to_string(),
        commits: commits.into_iter().collect(),
        cores: cores.into_iter().collect(),
        cpus: cpus.into_iter().collect(),
        sizes,
        targets_met,
        targets_total,
        records,
    }
}

fn list<T: ToString>(xs: &[T]) -> String {
    xs.iter().map(T::to_string).collect::<Vec<_>>().join(", ")
}

fn size_name(s: Size) -> &'static str {
    match s {
        Size::Full => "full",
        Size::Quick => "quick",
        Size::Tiny => "tiny",
    }
}

/// A number for a table: few significant digits, no exponent below 10¹².
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else if a >= 0.01 {
        format!("{x:.3}")
    } else if a == 0.0 {
        "0".to_string()
    } else {
        format!("{x:.2e}")
    }
}

fn fact_cell(v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), num),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "—".to_string(),
        other => {
            let s = other.to_string();
            if s.chars().count() > 80 {
                format!("{}…", s.chars().take(80).collect::<String>())
            } else {
                s
            }
        }
    }
}

/// Table cells must not contain a bare `|`.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// `BENCHMARKS.md`.
pub fn markdown(results: &Results, notes: &Notes) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Benchmarks\n\n\
         Generated by `{}` (then `cargo run --profile bench -p cache-bench --bin bench-report`); \
         do not edit by hand: every number below comes from that run's records \
         (`bench-results.json`). Targets are those of `shared/perf.md`, always ratios measured \
         side by side in one process; a \"why\" for a target not met comes from \
         `bench/notes.json` (scenario id → target → text).\n",
        results.command
    );
    let _ = writeln!(
        out,
        "- commit: {}\n- cores: {}\n- CPU: {}\n- date: {}\n- run size: {}\n- targets met: {} of {}\n",
        list(&results.commits),
        list(&results.cores),
        if results.cpus.is_empty() {
            "not recorded".to_string()
        } else {
            list(&results.cpus)
        },
        results.generated,
        results
            .sizes
            .iter()
            .map(|s| size_name(*s))
            .collect::<Vec<_>>()
            .join(", "),
        results.targets_met,
        results.targets_total
    );
    if results.sizes.iter().any(|s| *s != Size::Full) {
        let _ = writeln!(
            out,
            "> **Smoke run** (`BENCH_QUICK=1` or tiny): sizes shrunk to prove the pipeline; \
             the numbers are not the ones to quote.\n"
        );
    }
    let _ = writeln!(out, "![targets: measured / limit](docs/bench-ratios.svg)\n");

    let _ = writeln!(
        out,
        "## Targets\n\n| scenario | target | measured | limit | met | why |\n|---|---|---:|---:|---|---|"
    );
    for r in &results.records {
        for t in &r.targets {
            let _ = writeln!(
                out,
                "| {} | {} | {} | ≤ {} | {} | {} |",
                r.id,
                target_text(t),
                num(t.measured),
                num(t.limit),
                if t.met { "met" } else { "**NOT met**" },
                why(notes, &r.id, &t.what, t.met)
            );
        }
    }

    for r in &results.records {
        scenario(&mut out, r, notes);
    }
    out
}

fn target_text(t: &crate::record::TargetRecord) -> String {
    if t.detail.is_empty() {
        cell(&t.what)
    } else {
        format!("{} ({})", cell(&t.what), cell(&t.detail))
    }
}

fn why(notes: &Notes, id: &str, what: &str, met: bool) -> String {
    match notes.get(id).and_then(|n| n.get(what)) {
        Some(text) => cell(text),
        None if met => String::new(),
        None => "_no note yet_".to_string(),
    }
}

fn scenario(out: &mut String, r: &Record, notes: &Notes) {
    let _ = writeln!(out, "\n## {}: {}\n", r.id, r.title);
    let p = &r.plan;
    let _ = write!(
        out,
        "`{}` bench; threads {}, {} rounds × {} ops, {} keys",
        r.bench, p.threads, p.rounds, p.ops, p.keys
    );
    if let Some(op) = &p.op {
        let _ = write!(out, "; one op = {op}");
    }
    let _ = writeln!(
        out,
        "; medians. Peak RSS {}{}.\n",
        r.peak_rss_kib
            .map_or_else(|| "unknown".to_string(), |k| format!("{} KiB", k)),
        if r.process_scenarios.len() > 1 {
            format!(
                " (process also ran {})",
                r.process_scenarios
                    .iter()
                    .filter(|s| **s != r.id)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            String::new()
        }
    );
    // Scalar facts of candidates become columns.
    let fact_keys: BTreeSet<&String> = r
        .candidates
        .iter()
        .flat_map(|c| c.facts.iter())
        .filter(|(_, v)| !v.is_array() && !v.is_object())
        .map(|(k, _)| k)
        .collect();
    let groups: Vec<Option<&String>> = {
        let mut g: Vec<Option<&String>> = Vec::new();
        for c in &r.candidates {
            if !g.contains(&c.group.as_ref()) {
                g.push(c.group.as_ref());
            }
        }
        g
    };
    let sign = match r.unit {
        Unit::NsPerOp => "×",
        Unit::OpsPerSec => "throughput ×",
    };
    for group in groups {
        let members: Vec<_> = r
            .candidates
            .iter()
            .filter(|c| c.group.as_ref() == group)
            .collect();
        let refs: Vec<&String> = {
            let mut refs: Vec<&String> = Vec::new();
            for c in &members {
                for k in c.ratios.keys() {
                    if !refs.contains(&k) {
                        refs.push(k);
                    }
                }
            }
            // The anchor first.
            if let Some(a) = members.iter().find_map(|c| c.anchor.as_ref())
                && let Some(i) = refs.iter().position(|k| *k == a)
            {
                let a = refs.remove(i);
                refs.insert(0, a);
            }
            refs
        };
        if let Some(g) = group {
            let _ = writeln!(out, "#### {g}\n");
        }
        let _ = write!(out, "| candidate | {} |", r.unit.label());
        for k in &refs {
            let _ = write!(out, " {sign} {} |", cell(k));
        }
        for k in &fact_keys {
            let _ = write!(out, " {} |", cell(k));
        }
        let _ = write!(out, "\n|---|---:|");
        for _ in 0..refs.len() + fact_keys.len() {
            let _ = write!(out, "---:|");
        }
        let _ = writeln!(out);
        for c in members {
            let value = match r.unit {
                Unit::NsPerOp => c.median_ns.map(num),
                Unit::OpsPerSec => c.ops_per_sec.map(num),
            }
            .unwrap_or_else(|| "—".to_string());
            let _ = write!(out, "| {} | {value} |", cell(&c.name));
            for k in &refs {
                let v = c
                    .ratios
                    .get(*k)
                    .map_or_else(|| "—".to_string(), |x| num(*x));
                let _ = write!(out, " {v} |");
            }
            for k in &fact_keys {
                let v = c.facts.get(*k).map_or_else(|| "—".to_string(), fact_cell);
                let _ = write!(out, " {} |", cell(&v));
            }
            let _ = writeln!(out);
        }
        let _ = writeln!(out);
    }
    if !r.targets.is_empty() {
        let _ = writeln!(
            out,
            "| target | measured | limit | met | why |\n|---|---:|---:|---|---|"
        );
        for t in &r.targets {
            let _ = writeln!(
                out,
                "| {} | {} | ≤ {} | {} | {} |",
                target_text(t),
                num(t.measured),
                num(t.limit),
                if t.met { "met" } else { "**NOT met**" },
                why(notes, &r.id, &t.what, t.met)
            );
        }
        let _ = writeln!(out);
    }
    if !r.facts.is_empty() {
        let _ = writeln!(out, "Facts:\n");
        for (k, v) in &r.facts {
            let _ = writeln!(out, "- {k}: {}", fact_cell(v));
        }
    }
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The chart: one horizontal bar per target, its measured value over its limit
/// on a log scale (the line at 1 is the limit), green when met, red when not.
pub fn svg(results: &Results) -> String {
    const LABEL: f64 = 560.0;
    const PLOT: f64 = 420.0;
    const ROW: f64 = 20.0;
    const TOP: f64 = 56.0;
    // log2 of measured/limit, drawn over [-5, 5]: 1/32 … 32 times the limit.
    const SPAN: f64 = 5.0;
    let rows: Vec<(&str, &crate::record::TargetRecord)> = results
        .records
        .iter()
        .flat_map(|r| r.targets.iter().map(move |t| (r.id.as_str(), t)))
        .collect();
    let width = LABEL + PLOT + 150.0;
    let height = TOP + ROW * rows.len() as f64 + 40.0;
    let x_of = |v: f64| {
        let l = if v > 0.0 { v.log2() } else { -SPAN };
        LABEL + (l.clamp(-SPAN, SPAN) + SPAN) / (2.0 * SPAN) * PLOT
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="11">"##
    );
    let _ = writeln!(
        out,
        r##"<rect width="100%" height="100%" fill="white"/>
<text x="8" y="18" font-size="14" font-weight="bold">Targets: measured / limit (log scale; left of the line = met)</text>
<text x="8" y="36" fill="#555">commit {} · {} cores · {} · {} of {} met · run size {}</text>"##,
        xml(&list(&results.commits)),
        list(&results.cores),
        xml(&results.generated),
        results.targets_met,
        results.targets_total,
        results
            .sizes
            .iter()
            .map(|s| size_name(*s))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Grid: powers of two.
    for p in -5i32..=5 {
        let v = 2f64.powi(p);
        let x = x_of(v);
        let (stroke, w) = if p == 0 { ("#000", 1.5) } else { ("#ddd", 1.0) };
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="{stroke}" stroke-width="{w}"/>
<text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
            TOP - 6.0,
            height - 30.0,
            height - 16.0,
            if p >= 0 {
                format!("{}", 1u32 << p)
            } else {
                format!("1/{}", 1u32 << -p)
            }
        );
    }
    for (i, (id, t)) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let normalized = if t.limit > 0.0 {
            t.measured / t.limit
        } else {
            f64::NAN
        };
        let color = if t.met { "#2e9d46" } else { "#d33a2c" };
        let x0 = x_of(2f64.powf(-SPAN));
        let x1 = if normalized.is_finite() {
            x_of(normalized)
        } else {
            x0
        };
        let label = format!("{id}: {}", t.what);
        let label = if label.chars().count() > 92 {
            format!("{}…", label.chars().take(91).collect::<String>())
        } else {
            label
        };
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>
<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{color}"><title>{}: measured {} / limit {}</title></rect>
<text x="{:.1}" y="{:.1}" fill="{color}">{} / {} {}</text>"##,
            LABEL - 6.0,
            y + 14.0,
            xml(&label),
            y + 3.0,
            (x1 - x0).max(1.0),
            ROW - 6.0,
            xml(&format!("{id}: {}", t.what)),
            num(t.measured),
            num(t.limit),
            LABEL + PLOT + 6.0,
            y + 14.0,
            num(t.measured),
            num(t.limit),
            if t.met { "met" } else { "NOT met" }
        );
    }
    let _ = writeln!(out, "</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Measured, Plan, Target};

    fn record() -> Record {
        let plan = Plan {
            threads: 1,
            rounds: 3,
            ops: 10,
            keys: 10,
        };
        let m = Measured {
            names: vec!["anchor", "ours"],
            median_ns: vec![10.0, 30.0],
            samples: vec![vec![10.0; 3], vec![30.0; 3]],
        };
        let mut r = Record::new("H1", "title", "hit", Unit::NsPerOp, &plan);
        r.all(&m, &["anchor"]);
        r.targets(&[Target::at_most(&m, "ours", "anchor", 1.5)]);
        r.candidate_fact("ours", None, "hit ratio %", 50.0);
        r
    }

    /// A target not met shows its note, read back through JSON as the report does.
    #[test]
    fn not_met_rows_carry_their_note() {
        let json = serde_json::to_string(&record()).unwrap();
        let back: Record = serde_json::from_str(&json).unwrap();
        assert_eq!(back.candidates[1].ratio_to_anchor, Some(3.0));
        assert!(!back.targets[0].met);
        let notes: Notes = serde_json::from_str(r#"{"H1": {"ours / anchor": "because"}}"#).unwrap();
        let results = results(vec![back], "2026-01-01T00:00:00Z");
        let md = markdown(&results, &notes);
        assert!(md.contains("| H1 | ours / anchor | 3.00 | ≤ 1.50 | **NOT met** | because |"));
        assert!(md.contains("| hit ratio % |"));
        let svg = svg(&results);
        assert!(svg.starts_with("<svg") && svg.contains("#d33a2c"));
    }

    /// The report names the CPU the records ran on, and says so when a record
    /// (one written before the field existed) does not.
    #[test]
    fn the_report_names_the_cpu() {
        let mut r = record();
        r.cpu = "Test CPU 9000".to_string();
        let md = markdown(&results(vec![r], "2026-01-01T00:00:00Z"), &Notes::default());
        assert!(md.contains("- CPU: Test CPU 9000\n"), "{md}");
        let mut json: serde_json::Value = serde_json::to_value(record()).unwrap();
        json.as_object_mut().unwrap().remove("cpu");
        let old: Record = serde_json::from_value(json).unwrap();
        let md = markdown(
            &results(vec![old], "2026-01-01T00:00:00Z"),
            &Notes::default(),
        );
        assert!(md.contains("- CPU: not recorded\n"), "{md}");
    }

    #[test]
    fn dates_are_iso_8601_utc() {
        let d = crate::record::utc_now();
        assert_eq!(d.len(), 20);
        assert!(d.ends_with('Z') && d.as_bytes()[10] == b'T');
    }
}
