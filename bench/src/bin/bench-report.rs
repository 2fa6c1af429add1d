//! Merges the scenario records of a benchmark run into the report.
//!
//! Reads every `*.json` record in the results directory (env `BENCH_OUT_DIR`,
//! default `<workspace>/target/bench-results/`) and the hand-maintained
//! `bench/notes.json`, then writes, at the workspace root, `bench-results.json`,
//! `BENCHMARKS.md` and `docs/bench-ratios.svg`. Run by `scripts/bench` after the
//! benches; every number comes from the records.

use std::process::ExitCode;

use cache_bench::record::{out_dir, utc_now, workspace_root};
use cache_bench::summary::{load_notes, load_records, markdown, results, svg};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-report: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> std::io::Result<()> {
    let dir = out_dir();
    let records =
        load_records(&dir).map_err(|e| std::io::Error::other(format!("{}: {e}", dir.display())))?;
    if records.is_empty() {
        return Err(std::io::Error::other(format!(
            "no records in {}: run the benches first (scripts/bench)",
            dir.display()
        )));
    }
    let root = workspace_root();
    let notes = load_notes(&root.join("bench").join("notes.json"))?;
    let results = results(records, &utc_now());
    let json = serde_json::to_string_pretty(&results).map_err(std::io::Error::other)?;
    std::fs::write(root.join("bench-results.json"), json + "\n")?;
    std::fs::write(root.join("BENCHMARKS.md"), markdown(&results, &notes))?;
    std::fs::create_dir_all(root.join("docs"))?;
    std::fs::write(root.join("docs").join("bench-ratios.svg"), svg(&results))?;
    println!(
        "bench-report: {} scenarios, {} of {} targets met; wrote bench-results.json, BENCHMARKS.md, docs/bench-ratios.svg",
        results.records.len(),
        results.targets_met,
        results.targets_total
    );
    for r in &results.records {
        for t in r.targets.iter().filter(|t| !t.met) {
            println!(
                "  NOT met: {}: {} ({} > {})",
                r.id, t.what, t.measured, t.limit
            );
        }
    }
    Ok(())
}
