//! Compile-time behaviour of `#[ttl_cache]`: rejected inputs with their exact
//! diagnostics (`ui/fail`), accepted forms (`ui/pass`), and the hygiene of the
//! expansion's internal bindings (`ui/hygiene`).
#![allow(clippy::panic, missing_docs)]

use std::path::Path;

/// trybuild passes silently when a glob matches nothing; a moved directory must
/// fail the test instead.
fn assert_has_cases(dir: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let count = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "rs"))
        .count();
    assert!(count > 0, "no UI cases in {}", dir.display());
}

#[test]
fn ui() {
    for dir in ["ui/fail", "ui/pass", "ui/hygiene"] {
        assert_has_cases(dir);
    }
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/hygiene/*.rs");
}
