//! A second process for the Redis lock tests: takes a lock, holds it until told,
//! releases it.
//!
//! Usage: `lock-probe <single|cluster> <lock name> <node URL>...`. Prints
//! `acquired` once it holds the lock (prefix `t`, timeout 30 s, blocking
//! timeout 10 s), waits for a line on stdin (or its end), releases, prints
//! `released` and exits 0. Exit status 1 if it could not acquire or release.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use cache_redis::RedisBackend;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(topology), Some(name), Some(urls)) = (args.first(), args.get(1), args.get(2..))
    else {
        eprintln!("usage: lock-probe <single|cluster> <lock name> <node URL>...");
        return ExitCode::from(2);
    };
    let builder = match (topology.as_str(), urls) {
        ("cluster", urls) if !urls.is_empty() => RedisBackend::cluster(urls.iter().cloned()),
        ("single", [url]) => RedisBackend::builder(url.clone()),
        _ => {
            eprintln!("usage: lock-probe <single|cluster> <lock name> <node URL>...");
            return ExitCode::from(2);
        }
    };
    let backend = match builder
        .prefix("t")
        .op_timeout(Duration::from_secs(2))
        .build()
    {
        Ok(backend) => backend,
        Err(error) => {
            eprintln!("lock-probe: {error}");
            return ExitCode::from(2);
        }
    };
    let guard = match backend
        .lock(name.as_str())
        .timeout(Duration::from_secs(30))
        .blocking_timeout(Duration::from_secs(10))
        .acquire()
    {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("lock-probe: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "acquired");
    let _ = stdout.flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    if let Err(error) = guard.release() {
        eprintln!("lock-probe: {error}");
        return ExitCode::FAILURE;
    }
    let _ = writeln!(stdout, "released");
    let _ = stdout.flush();
    ExitCode::SUCCESS
}
