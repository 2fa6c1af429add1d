//! Figures for `docs/reliability.md`: a reliability test records what it
//! measured (counts, latencies per phase, RSS) with [`record`]. Records are
//! written only when `RELIABILITY_OUT` names a directory (`scripts/reliability`
//! sets it); otherwise recording does nothing, so tests run the same either way.

use std::path::PathBuf;

/// The environment variable naming the directory records go to.
pub const OUT_VAR: &str = "RELIABILITY_OUT";

/// Records the figures of one reliability scenario: `row` is its id in
/// `shared/reliability.md` (`"R1"`), `test` the test's name, `figures` a JSON
/// object of named measurements. Writes `<RELIABILITY_OUT>/<row>--<test>.json`
/// as `{"row", "test", "figures"}`.
///
/// # Panics
///
/// When `RELIABILITY_OUT` is set and the record cannot be written (a report
/// that silently lacks a row would be worse than a failed run).
pub fn record(row: &str, test: &str, figures: serde_json::Value) {
    let Some(dir) = std::env::var_os(OUT_VAR).map(PathBuf::from) else {
        return;
    };
    std::fs::create_dir_all(&dir).expect("create the RELIABILITY_OUT directory");
    let record = serde_json::json!({ "row": row, "test": test, "figures": figures });
    let path = dir.join(format!("{row}--{test}.json"));
    let text = serde_json::to_string_pretty(&record).expect("a JSON record");
    std::fs::write(&path, text).expect("write a reliability record");
}

/// The process's peak resident set size in KiB (`VmHWM` in
/// `/proc/self/status`), for the figures of rows about memory; 0 where that
/// file does not exist (not Linux).
pub fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// The process's current resident set size in KiB (`VmRSS`); 0 off Linux.
pub fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

/// A `kB` field of `/proc/self/status`.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}
