//! A second process for the shared-identifier Redis tests: calls a cached
//! function under the identifier `shared-probe` and prints its counters.
//!
//! Usage: `redis-probe <single|cluster> <argument> <node URL>...`; prints one line
//! `hits=<n> misses=<n> computations=<n> value=<value>`. Its backend keeps shared
//! counters (flushed once, before it exits).

use std::process::ExitCode;
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;

use cache_core::ttl_cache;
use cache_redis::RedisBackend;

static NODES: OnceLock<(bool, Vec<String>)> = OnceLock::new();

static PROBE: LazyLock<Arc<RedisBackend>> = LazyLock::new(|| {
    let (cluster, urls) = NODES.get().map_or((false, &[][..]), |(c, u)| (*c, u));
    let builder = match (cluster, urls) {
        (true, urls) => RedisBackend::cluster(urls.iter().cloned()),
        (false, [url]) => RedisBackend::builder(url.clone()),
        (false, urls) => fail(&format!("one URL for a single server, got {urls:?}")),
    };
    match builder
        .prefix("t")
        .op_timeout(Duration::from_secs(2))
        .shared_counters(Duration::from_secs(3600))
        .build()
    {
        Ok(backend) => Arc::new(backend),
        Err(error) => fail(&format!("invalid node URLs: {error}")),
    }
});

/// Says why and exits with status 2.
fn fail(message: &str) -> ! {
    eprintln!("redis-probe: {message}");
    std::process::exit(2)
}

/// The same identifier, version, key and value type as the test's function.
#[ttl_cache(identifier = "shared-probe", ttl = 60, backend = PROBE.clone())]
fn shared(x: u64) -> String {
    format!("shared-{x}")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(topology), Some(argument), urls) = (args.first(), args.get(1), args.get(2..)) else {
        eprintln!("usage: redis-probe <single|cluster> <argument> <node URL>...");
        return ExitCode::FAILURE;
    };
    let Ok(argument) = argument.parse::<u64>() else {
        eprintln!("the argument must be a u64");
        return ExitCode::FAILURE;
    };
    let urls = urls.unwrap_or_default().to_vec();
    if urls.is_empty() || !matches!(topology.as_str(), "single" | "cluster") {
        eprintln!("usage: redis-probe <single|cluster> <argument> <node URL>...");
        return ExitCode::FAILURE;
    }
    let _ = NODES.set((topology == "cluster", urls));
    let value = shared(argument);
    let info = shared::cache_info();
    if let Err(error) = PROBE.flush_counters() {
        eprintln!("redis-probe: flushing the shared counters: {error}");
        return ExitCode::FAILURE;
    }
    println!(
        "hits={} misses={} computations={} backend_errors={} value={value}",
        info.hits, info.misses, info.computations, info.backend_errors
    );
    ExitCode::SUCCESS
}
