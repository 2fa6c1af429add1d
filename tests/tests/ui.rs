//! Compile-time behaviour of `#[ttl_cache]`: rejected inputs with their exact
//! diagnostics (`ui/fail`), accepted forms (`ui/pass`), and the hygiene of the
//! expansion's internal bindings (`ui/hygiene`).
#![allow(clippy::panic, clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};

use cache_tests::figures::record;
use serde_json::json;

/// The `.rs` cases of `dir`. trybuild passes silently when a glob matches
/// nothing; a moved directory must fail the test instead.
fn cases(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    assert!(!cases.is_empty(), "no UI cases in {}", dir.display());
    cases
}

/// The errors of one expected `.stderr`, each as its first line and its span
/// (the ` --> file:line:column` line that follows it).
fn errors(stderr: &str) -> Vec<(String, Option<String>)> {
    let lines: Vec<&str> = stderr.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.starts_with("error"))
        .map(|(i, line)| {
            let span = lines
                .get(i + 1)
                .and_then(|next| next.trim_start().strip_prefix("--> "))
                .map(str::to_owned);
            ((*line).to_owned(), span)
        })
        .collect()
}

/// R20: every misuse is rejected with the expected errors (trybuild compares
/// them byte for byte), and every expected error is spanned into the misused
/// case itself, once: no error without a span, none pointing into the macro
/// crate, no two errors on one span.
#[test]
fn ui() {
    let (fail, pass, hygiene) = (cases("ui/fail"), cases("ui/pass"), cases("ui/hygiene"));
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/hygiene/*.rs");
    // trybuild runs the cases when dropped and panics if one fails.
    drop(t);

    let mut error_count = 0;
    for case in fail.iter().chain(&hygiene) {
        let stderr = std::fs::read_to_string(case.with_extension("stderr"))
            .unwrap_or_else(|error| panic!("{}: {error}", case.display()));
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let errors = errors(&stderr);
        assert!(!errors.is_empty(), "{name}: no error expected");
        let mut spans = std::collections::HashSet::new();
        for (error, span) in &errors {
            let span = span
                .as_deref()
                .unwrap_or_else(|| panic!("{name}: `{error}` has no span"));
            assert!(
                span.contains(&name),
                "{name}: `{error}` points outside the case: {span}"
            );
            assert!(spans.insert(span), "{name}: two errors at {span}");
        }
        error_count += errors.len();
    }
    record(
        "R20",
        "ui::ui",
        json!({
            "fail_cases": fail.len(),
            "pass_cases": pass.len(),
            "hygiene_cases": hygiene.len(),
            "expected_errors": error_count,
            "errors_without_span": 0,
        }),
    );
}
