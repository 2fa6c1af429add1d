//! `cache-cli`: list, inspect and clear the caches that `#[ttl_cache]` keeps
//! in Redis through cache-redis's `RedisBackend`.
//!
//! ```text
//! cache-cli list    --url redis://127.0.0.1:6379/ [--prefix cache] [--memory-keys N|all]
//! cache-cli keys    --url redis://127.0.0.1:6379/ <IDENTITY> [--cache-version N] [--limit N]
//! cache-cli inspect --url redis://127.0.0.1:6379/ <KEY>
//! cache-cli inspect --url redis://127.0.0.1:6379/ --identity <ID> --digest <HEX> [--cache-version N]
//! cache-cli clear   --url redis://127.0.0.1:6379/ <IDENTITY> [--cache-version N]
//! ```
//!
//! Every subcommand takes `--cluster` (the URLs are nodes of a Redis
//! Cluster), `--prefix` (the application's `RedisBackendBuilder::prefix`),
//! `--timeout` and `--json`; the URL may come from `CACHE_REDIS_URL`
//! instead. Keys are read with `SCAN` (never `KEYS`), on every master of a
//! cluster. Clearing goes through
//! [`RedisBackend::clear_cache`](cache_redis::RedisBackend::clear_cache): the
//! same keys as `cache_clear`, and the same invalidation of local tiers.
//!
//! When a command finds nothing under the prefix, a hint on stderr names the
//! prefixes that hold caches on the server ([`hint`]). Errors go to stderr
//! and the process exits with 1 (3 for a missing key, 2 for a usage error).
//! No output contains a URL's password.
#![deny(missing_docs)]

pub mod args;
pub mod clear;
pub mod error;
pub mod hint;
pub mod inspect;
pub mod keys;
pub mod layout;
pub mod list;
pub mod walk;

use std::io::Write;

use serde::Serialize;

use crate::args::{Cli, Command, Connection};
use crate::clear::ClearReport;
use crate::error::CliError;
use crate::inspect::InspectReport;
use crate::keys::KeysReport;
use crate::list::ListReport;

/// Runs the parsed command line, writing its report to `out` (text, or JSON
/// with `--json`) and its hints to `hints` (stderr): when a command finds
/// nothing under the prefix, the prefixes that hold caches on the server.
///
/// # Errors
///
/// Any [`CliError`]; nothing is written to `out` then. A missing key's
/// error carries its hint ([`CliError::hint`]).
pub fn run(cli: &Cli, out: &mut dyn Write, hints: &mut dyn Write) -> Result<(), CliError> {
    match &cli.command {
        Command::List(args) => {
            let backend = args.connection.backend()?;
            let report = ListReport::collect(&backend, args)?;
            emit(&args.connection, &report, out, |out| {
                report.write_human(out)
            })?;
            if report.caches.is_empty() {
                let lead = format!("no cache under prefix `{}`", report.prefix);
                hint(
                    hints,
                    hint::after_nothing(&args.connection, &backend, Some(&lead)),
                );
            }
        }
        Command::Keys(args) => {
            let backend = args.connection.backend()?;
            let report = KeysReport::collect(&backend, args)?;
            emit(&args.connection, &report, out, |out| {
                report.write_human(out)
            })?;
            if report.entries == 0 {
                let lead = format!("no {} under prefix `{}`", report.cache(), report.prefix);
                hint(
                    hints,
                    hint::after_nothing(&args.connection, &backend, Some(&lead)),
                );
            }
        }
        Command::Inspect(args) => {
            let backend = args.connection.backend()?;
            let report = match InspectReport::collect(&backend, args) {
                Err(CliError::KeyNotFound { key, .. }) => {
                    let hint = hint::after_nothing(&args.connection, &backend, None);
                    return Err(CliError::KeyNotFound { key, hint });
                }
                report => report?,
            };
            emit(&args.connection, &report, out, |out| {
                report.write_human(out)
            })?;
            hint(hints, outside_prefix(&report.key, &args.connection.prefix));
        }
        Command::Clear(args) => {
            let backend = args.connection.backend()?;
            let report = ClearReport::run(&backend, args)?;
            emit(&args.connection, &report, out, |out| {
                report.write_human(out)
            })?;
            if report.removed == 0 {
                let lead = format!(
                    "no key of cache `{}`{} under prefix `{}`: nothing removed",
                    report.identity,
                    report
                        .version
                        .map(|v| format!(" (version {v})"))
                        .unwrap_or_default(),
                    args.connection.prefix
                );
                hint(
                    hints,
                    hint::after_nothing(&args.connection, &backend, Some(&lead)),
                );
            }
        }
    }
    Ok(())
}

/// Writes `line` to the hints' stream. A hint that cannot be written is
/// dropped: the command's own output was written and stands.
fn hint(hints: &mut dyn Write, line: Option<String>) {
    if let Some(line) = line {
        let _unwritable = writeln!(hints, "{line}").and_then(|()| hints.flush());
    }
}

/// The hint for an inspected key outside the prefix: what the prefix should
/// have been when the key is a stored result of another one.
fn outside_prefix(key: &str, prefix: &str) -> Option<String> {
    if key
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.starts_with(':'))
    {
        return None;
    }
    Some(match layout::prefix_of(key) {
        Some(other) => format!(
            "hint: `{key}` is not under prefix `{prefix}`; it is a stored result of prefix \
             `{other}` (--prefix {other})"
        ),
        None => format!("hint: `{key}` is not under prefix `{prefix}`"),
    })
}

/// `n` and the noun that goes with it: `1 cache`, `2 caches`.
pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Writes `report` as JSON (one line) or as text.
fn emit<R: Serialize>(
    connection: &Connection,
    report: &R,
    out: &mut dyn Write,
    human: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), CliError> {
    if connection.json {
        serde_json::to_writer(&mut *out, report).map_err(|error| {
            if error.is_io() {
                CliError::Output(error.into())
            } else {
                CliError::Json(error)
            }
        })?;
        writeln!(out)?;
    } else {
        human(out)?;
    }
    out.flush()?;
    Ok(())
}

/// `text` with every URL among `urls` that carries a password replaced by
/// its redacted form (`redis://user:***@host/`). For messages cache-redis
/// did not write, such as clap's echo of a misplaced argument.
pub fn redact_urls<'a>(text: &str, urls: impl IntoIterator<Item = &'a str>) -> String {
    let mut text = text.to_owned();
    for url in urls {
        let redacted = cache_redis::redact_url(url);
        if redacted != url {
            text = text.replace(url, &redacted);
        }
    }
    text
}
