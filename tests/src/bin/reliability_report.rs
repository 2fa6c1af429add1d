//! Writes `docs/reliability.md`: one row per reliability scenario (R1–R20 of
//! the reliability issue, then the disk fault tests) with the tests that show
//! it, the figures they recorded and whether they passed.
//!
//! Usage (from the repository root; `scripts/reliability` runs both):
//!
//! - `reliability-report filter`: prints the nextest filterset selecting every
//!   test named below whose test file exists, for `cargo nextest run -E`.
//! - `reliability-report write <records dir> <output.md>`: reads the records
//!   (`{"row","test","figures"}` JSON files written by
//!   `cache_tests::figures::record` and by the script), the nextest results
//!   (`<records dir>/nextest.jsonl`, nextest's libtest-json lines) and
//!   `fuzz/results.json` when present, and writes the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::SystemTime;

use serde_json::Value;

/// The command that regenerates the report, as the report names it.
const REGENERATE: &str = "scripts/reliability";

/// A scenario: its id, a short description, and the tests that show it as
/// (nextest binary id, test path within the binary).
struct Row {
    id: &'static str,
    scenario: &'static str,
    tests: &'static [(&'static str, &'static str)],
}

/// Both Redis topologies run the same suite test.
macro_rules! both_topologies {
    ($($name:literal),* $(,)?) => {
        &[$(
            ("cache-tests::redis_backend", concat!("suite::", $name)),
            ("cache-tests::redis_cluster", concat!("suite::", $name)),
        )*]
    };
}

const ROWS: &[Row] = &[
    Row {
        id: "R1",
        scenario: "64 threads on one cold key (sync); the body waits until all 63 others wait",
        tests: &[
            (
                "cache-tests::engine_single_flight",
                "r1_sixty_four_threads_on_one_cold_key_run_the_body_once",
            ),
            (
                "cache-tests::ttl_cache_behaviour",
                "concurrent_callers_on_one_cold_key_compute_once",
            ),
        ],
    },
    Row {
        id: "R2",
        scenario: "1,000 tokio tasks on one cold key, multi-thread runtime",
        tests: &[(
            "cache-tests::engine_single_flight_async",
            "r2_thousand_tasks_on_one_cold_key_run_the_body_once",
        )],
    },
    Row {
        id: "R3",
        scenario: "100 cold keys × 10 callers, body sleeps 50 ms (wall < 150 ms async / 250 ms sync)",
        tests: &[
            (
                "cache-tests::engine_single_flight",
                "r3_cold_keys_load_in_parallel_sync",
            ),
            (
                "cache-tests::engine_single_flight_async",
                "r3_cold_keys_load_in_parallel_async",
            ),
        ],
    },
    Row {
        id: "R4",
        scenario: "the leader panics while 8 wait; then 10,000 calls",
        tests: &[
            (
                "cache-tests::engine_single_flight",
                "r4_panicking_leader_hands_over_to_one_waiter",
            ),
            (
                "cache-tests::engine_single_flight",
                "r4_caught_panic_leaves_the_key_usable",
            ),
        ],
    },
    Row {
        id: "R5",
        scenario: "async leader cancelled (timeout 10 ms, body 50 ms) with 8 waiters",
        tests: &[
            (
                "cache-tests::engine_single_flight_async",
                "r5_cancelled_leader_hands_over_to_one_waiter",
            ),
            (
                "cache-tests::engine_single_flight_async",
                "r5_failing_async_leader_hands_over_to_one_waiter",
            ),
            (
                "cache-tests::ttl_cache_async",
                "waiter_takes_over_when_leader_future_is_dropped",
            ),
        ],
    },
    Row {
        id: "R6",
        scenario: "memoized recursion `fib(90)`; a body calling itself with the same key",
        tests: &[
            (
                "cache-tests::engine_single_flight",
                "r6_memoized_fib_90_computes_each_key_once",
            ),
            (
                "cache-tests::engine_single_flight",
                "r6_body_recursing_on_its_own_key_bypasses_instead_of_deadlocking",
            ),
            (
                "cache-tests::engine_single_flight",
                "r6_deep_same_key_recursion_through_try_form_completes",
            ),
            (
                "cache-tests::engine_single_flight_async",
                "r6_async_memoized_fib_90_computes_each_key_once",
            ),
            (
                "cache-tests::engine_single_flight_async",
                "r6_async_body_recursing_on_its_own_key_bypasses_instead_of_deadlocking",
            ),
            (
                "cache-tests::engine_single_flight_async",
                "r6_async_same_key_recursion_on_multi_thread_runtime",
            ),
            (
                "cache-tests::ttl_cache_behaviour",
                "recursive_fib_computes_each_value_once",
            ),
            (
                "cache-tests::ttl_cache_behaviour",
                "recursion_on_the_same_arguments_bypasses_instead_of_deadlocking",
            ),
        ],
    },
    Row {
        id: "R7",
        scenario: "Redis SIGKILLed mid-load, restarted 3 s later on the same port",
        tests: both_topologies!["killed_node_mid_load_then_restarted"],
    },
    Row {
        id: "R8",
        scenario: "Redis SIGSTOPped 3 s (budget 100 ms)",
        tests: both_topologies![
            "paused_node_sync_calls_cost_at_most_one_budget",
            "paused_node_async_calls_cost_at_most_one_budget",
        ],
    },
    Row {
        id: "R9",
        scenario: "the process starts with Redis down; Redis comes up later",
        tests: both_topologies!["backend_built_before_redis_starts"],
    },
    Row {
        id: "R10",
        scenario: "corrupt entries: random bytes, truncated, bad checksum, wrong schema/type, deep nesting, huge lengths",
        tests: &[
            (
                "cache-tests::redis_backend",
                "suite::corrupt_entries_are_counted_misses_and_overwritten",
            ),
            (
                "cache-tests::redis_cluster",
                "suite::corrupt_entries_are_counted_misses_and_overwritten",
            ),
            (
                "cache-tests::ttl_cache_storage",
                "corrupt_stored_bytes_are_a_counted_miss_and_overwritten",
            ),
            ("cache-tests::codec", "envelope_random_bytes"),
            ("cache-tests::codec", "envelope_truncated_at_every_length"),
            (
                "cache-tests::codec",
                "envelope_huge_length_field_with_short_buffer",
            ),
            (
                "cache-tests::codec",
                "serializer_deeply_nested_msgpack_is_decode_error",
            ),
        ],
    },
    Row {
        id: "R11",
        scenario: "fuzzing the envelope decoder (cargo-fuzz; a proptest variant in CI)",
        tests: &[("cache-tests::fuzz_lite", "*")],
    },
    Row {
        id: "R12",
        scenario: "distinct keys through `max_entries` (drop-counting values): live values and RSS",
        tests: &[
            (
                "cache-tests::engine_bound",
                "bound_live_values_stay_near_the_bound_during_inserts",
            ),
            (
                "cache-tests::engine_bound",
                "bound_holds_while_inserting_100k_distinct_keys",
            ),
            ("cache-tests::soak", "*"),
        ],
    },
    Row {
        id: "R13",
        scenario: "TTL on a mock clock: hit before expiry, miss at it, swept with no reads",
        tests: &[
            (
                "cache-tests::engine_ttl",
                "r13_hit_just_before_expiry_miss_at_expiry",
            ),
            (
                "cache-tests::engine_ttl",
                "r13_background_sweep_removes_expired_entries_without_reads",
            ),
            (
                "cache-tests::engine_ttl",
                "r13_sweep_removes_expired_entries_synchronously",
            ),
        ],
    },
    Row {
        id: "R14",
        scenario: "Redis TTL: `PTTL` in (0, ttl_ms], gone after ttl, never rounded to seconds",
        tests: both_topologies!["ttls_are_milliseconds_and_entries_expire"],
    },
    Row {
        id: "R15",
        scenario: "`PersistentHash` injectivity (proptest over types and nestings; hand cases)",
        tests: &[
            (
                "cache-tests::persistent_hash",
                "value::values_are_equal_iff_encodings_are",
            ),
            (
                "cache-tests::persistent_hash",
                "value::every_encoding_decodes_to_its_value",
            ),
            (
                "cache-tests::persistent_hash",
                "distinct_string_pairs_encode_distinctly",
            ),
            (
                "cache-tests::persistent_hash",
                "integers_equal_by_value_iff_encodings_equal",
            ),
            (
                "cache-tests::persistent_hash",
                "integers_of_every_width_encode_by_value",
            ),
            (
                "cache-tests::ttl_cache_behaviour",
                "typed_keys_separate_integer_widths",
            ),
            (
                "cache-core",
                "hash::impls::tests::string_boundaries_inside_tuples_are_kept",
            ),
            ("cache-core", "hash::impls::tests::some_zero_is_not_zero"),
            (
                "cache-core",
                "hash::impls::tests::empty_string_is_not_empty_sequence",
            ),
            ("cache-core", "hash::impls::tests::text_is_not_bytes"),
            (
                "cache-core",
                "hash::impls::tests::integer_float_and_bool_differ",
            ),
        ],
    },
    Row {
        id: "R16",
        scenario: "hash stability: golden vectors; map/set order and seed do not matter",
        tests: &[
            ("cache-tests::persistent_hash", "golden_vectors_are_stable"),
            (
                "cache-tests::persistent_hash",
                "thousand_entry_maps_ignore_order_and_seed",
            ),
            (
                "cache-tests::persistent_hash",
                "hashed_maps_ignore_insertion_order_and_seed",
            ),
            (
                "cache-tests::persistent_hash",
                "digests_agree_across_processes",
            ),
        ],
    },
    Row {
        id: "R17",
        scenario: "namespace versioning: a changed signature or `version = N`",
        tests: &[(
            "cache-tests::ttl_cache_storage",
            "r17_version_and_signature_changes_give_new_keys",
        )],
    },
    Row {
        id: "R18",
        scenario: "security: ACL user limited to the prefix, TLS, no password in `Debug`, MAC",
        tests: &[
            (
                "cache-tests::redis_backend",
                "suite::acl_user_limited_to_the_prefix",
            ),
            (
                "cache-tests::redis_cluster",
                "suite::acl_user_limited_to_the_prefix",
            ),
            (
                "cache-tests::redis_backend",
                "suite::mac_rejects_forged_and_copied_values",
            ),
            (
                "cache-tests::redis_cluster",
                "suite::mac_rejects_forged_and_copied_values",
            ),
            (
                "cache-tests::redis_backend",
                "tls::rediss_with_a_private_ca",
            ),
            ("cache-tests::codec", "codec_debug_never_prints_the_key"),
        ],
    },
    Row {
        id: "R19",
        scenario: "model check of the single-flight state machine (loom)",
        tests: &[],
    },
    Row {
        id: "R20",
        scenario: "macro misuse (trybuild): one clear, spanned error per misuse",
        tests: &[("cache-tests::ui", "ui")],
    },
    Row {
        id: "D1",
        scenario: "disk writer SIGKILLed mid-transaction, 24 rounds on one file",
        tests: &[
            (
                "cache-tests::disk_crash",
                "sigkilled_writers_leave_whole_batches_and_a_consistent_file",
            ),
            (
                "cache-tests::disk_crash",
                "a_killed_process_leaves_the_dirty_flag_and_the_next_open_sweeps",
            ),
        ],
    },
    Row {
        id: "D2",
        scenario: "damaged cache files: flipped bytes, truncation",
        tests: &[
            (
                "cache-tests::disk_corrupt",
                "flipped_bytes_are_refused_at_open_never_served",
            ),
            (
                "cache-tests::disk_corrupt",
                "truncated_files_are_refused_or_read_as_misses_never_wrong",
            ),
        ],
    },
];

/// The test file a nextest binary id of this workspace is built from, if it
/// is an integration test of `cache-tests`.
fn test_file(binary: &str) -> Option<String> {
    binary
        .strip_prefix("cache-tests::")
        .map(|name| format!("tests/tests/{name}.rs"))
}

/// The nextest filterset of every test above whose test file exists (tests
/// other workers add, such as `fuzz_lite` and `soak`, join once merged).
fn filterset() -> String {
    let mut terms: Vec<String> = Vec::new();
    for row in ROWS {
        for (binary, test) in row.tests {
            if test_file(binary).is_some_and(|file| !Path::new(&file).exists()) {
                continue;
            }
            let term = if *test == "*" {
                format!("binary_id({binary})")
            } else {
                format!("(binary_id({binary}) & test(={test}))")
            };
            if !terms.contains(&term) {
                terms.push(term);
            }
        }
    }
    terms.join(" | ")
}

/// One recorded measurement set.
struct Record {
    test: String,
    figures: Value,
}

/// Outcome of one test in the nextest run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Passed,
    Failed,
    Ignored,
    NotRun,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Self::Passed => "pass",
            Self::Failed => "**FAILED**",
            Self::Ignored => "ignored",
            Self::NotRun => "not run",
        }
    }
}

/// The records of `dir` by row.
fn read_records(dir: &Path) -> BTreeMap<String, Vec<Record>> {
    let mut by_row: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return by_row;
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("a readable record");
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let (Some(row), Some(test)) = (value["row"].as_str(), value["test"].as_str()) else {
            panic!("{}: not a record (row, test, figures)", path.display());
        };
        by_row.entry(row.to_owned()).or_default().push(Record {
            test: test.to_owned(),
            figures: value["figures"].clone(),
        });
    }
    by_row
}

/// Test outcomes from nextest's libtest-json lines, keyed by
/// `binary id::test path`.
fn read_outcomes(path: &Path) -> BTreeMap<String, Outcome> {
    let mut outcomes = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return outcomes;
    };
    for line in text.lines() {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if event["type"] != "test" {
            continue;
        }
        let outcome = match event["event"].as_str() {
            Some("ok") => Outcome::Passed,
            Some("failed" | "timeout") => Outcome::Failed,
            Some("ignored") => Outcome::Ignored,
            _ => continue,
        };
        // nextest names a test `<package>::<binary name>$<test path>`; for an
        // integration test that prefix is its binary id, for a library's unit
        // tests (`cache-core::cache_core`) the binary id is the package alone.
        if let Some((binary, test)) = event["name"].as_str().and_then(|n| n.split_once('$')) {
            let binary = match binary.split_once("::") {
                Some((package, name)) if name == package.replace('-', "_") => package,
                _ => binary,
            };
            outcomes.insert(format!("{binary}::{test}"), outcome);
        }
    }
    outcomes
}

/// How a record's test is named in the report: its test file and path.
fn short_name(binary: &str, test: &str) -> String {
    let file = binary.strip_prefix("cache-tests::").unwrap_or(binary);
    if file == "cache-core" {
        format!("cache-core::{test}")
    } else {
        format!("{file}::{test}")
    }
}

/// A JSON figure, compactly: integers as such, other numbers to 3 significant
/// figures at most (1 decimal from 10 on).
fn show(value: &Value) -> String {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or_default();
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{f:.0}")
            } else if f.abs() >= 10.0 {
                format!("{f:.1}")
            } else {
                format!("{f:.2}")
            }
        }
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(show).collect::<Vec<_>>().join("/"),
        other => other.to_string(),
    }
}

/// `key value, key value` of a figures object.
fn show_figures(figures: &Value) -> String {
    match figures {
        Value::Object(map) => map
            .iter()
            .map(|(key, value)| format!("{key} {}", show(value)))
            .collect::<Vec<_>>()
            .join(", "),
        other => show(other),
    }
}

/// A table cell: no pipes or line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Output of a command, trimmed; `None` when it fails.
fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// `git rev-parse --short HEAD`, with `-dirty` when the tree has changes.
fn commit() -> String {
    let head = output_of("git", &["rev-parse", "--short", "HEAD"]).unwrap_or("unknown".into());
    // The report itself is rewritten by every run: not a change to the code.
    let status = [
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        ".",
        ":!docs/reliability.md",
    ];
    let dirty = output_of("git", &status).is_some_and(|status| !status.is_empty());
    if dirty { format!("{head}-dirty") } else { head }
}

/// Today's date (UTC) as `YYYY-MM-DD`, from the system clock.
fn today() -> String {
    let mut now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    now.truncate(10);
    now
}

/// Cores and the CPU model (Linux `/proc/cpuinfo`).
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        });
    match model {
        Some(model) => format!("{cores} cores ({model})"),
        None => format!("{cores} cores"),
    }
}

/// The fuzz section and, for R11, the figures of `fuzz/results.json`.
fn fuzz_results(path: &Path) -> Option<Vec<Value>> {
    let text = std::fs::read_to_string(path).ok()?;
    let value: Value =
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    Some(value.as_array().cloned().unwrap_or_default())
}

fn write_report(records_dir: &Path, out: &Path) -> bool {
    let records = read_records(records_dir);
    let outcomes = read_outcomes(&records_dir.join("nextest.jsonl"));
    let fuzz = fuzz_results(Path::new("fuzz/results.json"));
    let mut all_pass = true;

    let mut md = String::new();
    md.push_str("# Reliability: scenarios, tests and measured figures\n\n");
    md.push_str(
        "Each row of the reliability issue (R1–R20), and the disk fault tests \
         (D1–D2), with the tests that show it, what they measured on the run \
         below and whether they passed. Figures are measured values only: \
         counts from `cache_info()`, wall-clock milliseconds (`_ms`, real time \
         unless named `virtual`, i.e. tokio's paused clock), RSS in KiB. \
         Redis tests start their own `redis-server` on 127.0.0.1 \
         (`redis_backend` one server, `redis_cluster` three masters).\n\n",
    );
    let _ = writeln!(md, "- Commit: `{}`", commit());
    let _ = writeln!(md, "- Date: {} (UTC)", today());
    let _ = writeln!(md, "- Machine: {}", machine());
    let _ = writeln!(
        md,
        "- Regenerate: `{REGENERATE}` (from the repository root; runs the tests \
         below with `RELIABILITY_OUT` set, `scripts/loom` when present, then \
         `cargo run -p cache-tests --bin reliability-report -- write …`)\n"
    );

    md.push_str("| id | scenario | tests | figures | status |\n");
    md.push_str("|---|---|---|---|---|\n");
    for row in ROWS {
        if row.id == "D1" {
            md.push_str(
                "\n**Disk fault tests** (real processes: a writer SIGKILLed mid-transaction; \
                 damaged files)\n\n",
            );
            md.push_str("| id | scenario | tests | figures | status |\n");
            md.push_str("|---|---|---|---|---|\n");
        }
        let row_records = records.get(row.id).map(Vec::as_slice).unwrap_or_default();
        let mut tests: Vec<String> = Vec::new();
        let mut row_outcomes: Vec<Outcome> = Vec::new();
        for (binary, test) in row.tests {
            let outcome = if *test == "*" {
                // A whole binary: failed if any of its tests failed.
                let prefix = format!("{binary}::");
                let ran: Vec<Outcome> = outcomes
                    .iter()
                    .filter(|(name, _)| name.starts_with(&prefix))
                    .map(|(_, outcome)| *outcome)
                    .collect();
                if ran.contains(&Outcome::Failed) {
                    Outcome::Failed
                } else if ran.contains(&Outcome::Passed) {
                    Outcome::Passed
                } else {
                    Outcome::NotRun
                }
            } else {
                outcomes
                    .get(&format!("{binary}::{test}"))
                    .copied()
                    .unwrap_or(Outcome::NotRun)
            };
            row_outcomes.push(outcome);
            let name = if *test == "*" {
                format!("{} (all)", short_name(binary, "").trim_end_matches("::"))
            } else {
                short_name(binary, test)
            };
            tests.push(format!("`{name}` ({})", outcome.label()));
        }
        let mut figures: Vec<String> = Vec::new();
        for record in row_records {
            // Records of tests nextest does not run (scripts) carry `passed`.
            if let Some(passed) = record.figures.get("passed").and_then(Value::as_bool) {
                row_outcomes.push(if passed {
                    Outcome::Passed
                } else {
                    Outcome::Failed
                });
                tests.push(format!(
                    "`{}` ({})",
                    record.test,
                    if passed { "pass" } else { "**FAILED**" }
                ));
            }
            figures.push(format!(
                "`{}`: {}",
                record.test,
                show_figures(&record.figures)
            ));
        }
        if row.id == "R11" {
            match &fuzz {
                Some(targets) if !targets.is_empty() => {
                    for target in targets {
                        let crashes = target["crashes"].as_u64();
                        row_outcomes.push(if crashes == Some(0) {
                            Outcome::Passed
                        } else {
                            Outcome::Failed
                        });
                        tests.push(format!("`fuzz/{}` (cargo-fuzz)", show(&target["target"])));
                        figures.push(format!(
                            "`fuzz/{}`: seconds {}, executions {}, execs/s {}, crashes {}, corpus {}, commit {}",
                            show(&target["target"]),
                            show(&target["seconds"]),
                            show(&target["executions"]),
                            show(&target["execs_per_sec"]),
                            show(&target["crashes"]),
                            show(&target["corpus"]),
                            show(&target["commit"]),
                        ));
                    }
                }
                _ => figures.push("cargo-fuzz: not run (no `fuzz/results.json`)".to_owned()),
            }
        }
        if row.id == "R19" && row_records.is_empty() {
            tests.push("`scripts/loom` (not present)".to_owned());
        }
        if figures.is_empty() {
            figures.push("no figures recorded: not run".to_owned());
        }
        let status = if row_outcomes.contains(&Outcome::Failed) {
            Outcome::Failed
        } else if row_outcomes.contains(&Outcome::Passed) {
            Outcome::Passed
        } else {
            Outcome::NotRun
        };
        all_pass &= status != Outcome::Failed;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            row.id,
            cell(row.scenario),
            cell(&tests.join("<br>")),
            cell(&figures.join("<br>")),
            status.label()
        );
    }

    md.push_str("\n## Fuzzing\n\n");
    match &fuzz {
        Some(targets) if !targets.is_empty() => {
            md.push_str("From `fuzz/results.json`:\n\n");
            md.push_str(
                "| target | seconds | executions | execs/s | crashes | corpus | commit | command |\n",
            );
            md.push_str("|---|---|---|---|---|---|---|---|\n");
            for t in targets {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} | {} | `{}` |",
                    cell(&show(&t["target"])),
                    show(&t["seconds"]),
                    show(&t["executions"]),
                    show(&t["execs_per_sec"]),
                    show(&t["crashes"]),
                    show(&t["corpus"]),
                    cell(&show(&t["commit"])),
                    cell(&show(&t["command"])),
                );
            }
        }
        _ => md.push_str("Not run: there is no `fuzz/results.json` on this commit.\n"),
    }

    let unknown: Vec<&String> = records
        .keys()
        .filter(|row| !ROWS.iter().any(|known| known.id == row.as_str()))
        .collect();
    if !unknown.is_empty() {
        md.push_str("\n## Other records\n\n");
        for row in unknown {
            for record in &records[row] {
                let _ = writeln!(
                    md,
                    "- {row} `{}`: {}",
                    record.test,
                    show_figures(&record.figures)
                );
            }
        }
    }

    std::fs::write(out, md).unwrap_or_else(|error| panic!("{}: {error}", out.display()));
    all_pass
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["filter"] => {
            println!("{}", filterset());
            ExitCode::SUCCESS
        }
        ["write", records, out] => {
            if write_report(Path::new(records), Path::new(out)) {
                ExitCode::SUCCESS
            } else {
                eprintln!("reliability-report: a scenario failed; see {out}");
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!(
                "usage: reliability-report filter\n       reliability-report write <records dir> <output.md>"
            );
            ExitCode::from(2)
        }
    }
}
