//! `cache-cli`: list, inspect and clear the caches that `#[ttl_cache]` keeps
//! in Redis through cache-redis's `RedisBackend`.
//!
//! ```text
//! cache-cli list    --url redis://127.0.0.1:6379/ [--prefix cache] [--memory-keys N|all]
//! cache-cli inspect --url redis://127.0.0.1:6379/ <KEY>
//! cache-cli inspect --url redis://127.0.0.1:6379/ --identity <ID> --digest <HEX> [--version N]
//! cache-cli clear   --url redis://127.0.0.1:6379/ <IDENTITY> [--version N]
//! ```
//!
//! Every subcommand takes `--cluster` (the URLs are nodes of a Redis
//! Cluster), `--prefix`, `--timeout` and `--json`; the URL may come from
//! `CACHE_REDIS_URL` instead. Keys are read with `SCAN` (never `KEYS`), on
//! every master of a cluster. Clearing goes through
//! [`RedisBackend::clear_cache`](cache_redis::RedisBackend::clear_cache): the
//! same keys as `cache_clear`, and the same invalidation of local tiers.
//!
//! Errors go to stderr and the process exits with 1 (3 for a missing key, 2
//! for a usage error). No output contains a URL's password.
#![deny(missing_docs)]

pub mod args;
pub mod clear;
pub mod error;
pub mod inspect;
pub mod layout;
pub mod list;

use std::io::Write;

use serde::Serialize;

use crate::args::{Cli, Command, Connection};
use crate::clear::ClearReport;
use crate::error::CliError;
use crate::inspect::InspectReport;
use crate::list::ListReport;

/// Runs the parsed command line, writing its report to `out` (text, or JSON
/// with `--json`).
///
/// # Errors
///
/// Any [`CliError`]; nothing is written to `out` then.
pub fn run(cli: &Cli, out: &mut dyn Write) -> Result<(), CliError> {
    match &cli.command {
        Command::List(args) => {
            let report = ListReport::collect(&args.connection.backend()?, args)?;
            emit(&args.connection, &report, out, |out| {
                report.write_human(out)
            })
        }
        Command::Inspect(args) => {
            let report = InspectReport::collect(&args.connection.backend()?, args)?;
            emit(&args.connection, &report, out, |out| {
                report.write_human(out)
            })
        }
        Command::Clear(args) => {
            let report = ClearReport::run(&args.connection.backend()?, args)?;
            emit(&args.connection, &report, out, |out| {
                report.write_human(out)
            })
        }
    }
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
