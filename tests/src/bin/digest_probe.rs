//! Prints the persistent digests of a fixed set of values, one `<name> <hex>` per
//! line. The test `persistent_hash::digests_agree_across_processes` runs it as a
//! separate process and compares its output with digests computed in the test.

use std::io::Write;
use std::process::ExitCode;

include!("../digest_probe_values.rs");

fn main() -> ExitCode {
    let mut out = std::io::stdout().lock();
    for (name, hex) in probe_digests() {
        if writeln!(out, "{name} {hex}").is_err() {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
