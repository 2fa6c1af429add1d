//! A second process for the local-tier tests: a `#[ttl_cache]` function on a
//! Redis backend with a local tier, driven by lines on stdin.
//!
//! Usage: `tier-probe <single|cluster> <node URL>...`. Each `get <n>` line
//! calls the function and answers `value=<v> hits=<n> misses=<n>
//! computations=<n>`; `tier` answers `tier=<generation>` once the local tier
//! keeps copies (its invalidation subscriber is in place), else `tier=none`;
//! `quit` (or the end of stdin) exits.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use cache_core::{StorageBackend, ttl_cache};
use cache_redis::RedisBackend;

static NODES: OnceLock<(bool, Vec<String>)> = OnceLock::new();

static TIERED: LazyLock<RedisBackend> = LazyLock::new(|| {
    let (cluster, urls) = NODES.get().cloned().unwrap_or_default();
    let builder = if cluster {
        RedisBackend::cluster(urls)
    } else {
        RedisBackend::builder(urls.first().cloned().unwrap_or_default())
    };
    match builder
        .prefix("t")
        .op_timeout(Duration::from_secs(2))
        .local_tier(1_000, Duration::from_secs(600))
        .build()
    {
        Ok(backend) => backend,
        Err(error) => {
            eprintln!("tier-probe: {error}");
            std::process::exit(2)
        }
    }
});

/// The same identifier, key and value type as the test's function.
#[ttl_cache(identifier = "tiered", ttl = 600, backend = TIERED.clone())]
fn tiered(x: u64) -> String {
    format!("tiered-{x}")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(topology), urls) = (args.first(), args.get(1..).unwrap_or_default()) else {
        eprintln!("usage: tier-probe <single|cluster> <node URL>...");
        return ExitCode::FAILURE;
    };
    let _ = NODES.set((topology == "cluster", urls.to_vec()));
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let mut words = line.split_whitespace();
        match (words.next(), words.next().map(str::parse::<u64>)) {
            (Some("get"), Some(Ok(x))) => {
                let value = tiered(x);
                let info = tiered::cache_info();
                let _ = writeln!(
                    stdout,
                    "value={value} hits={} misses={} computations={}",
                    info.hits, info.misses, info.computations
                );
                let _ = stdout.flush();
            }
            (Some("tier"), None) => {
                let _ = match TIERED.local_tier() {
                    Some(tier) => writeln!(stdout, "tier={}", tier.generation),
                    None => writeln!(stdout, "tier=none"),
                };
                let _ = stdout.flush();
            }
            (Some("quit"), _) => break,
            _ => {
                eprintln!("tier-probe: unknown command {line:?}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
