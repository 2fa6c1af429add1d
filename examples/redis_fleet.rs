//! Fleet-wide single-flight: run this example in several terminals at once
//! (or `for i in 1 2 3; do cargo run --example redis_fleet & done`). Every
//! process asks for the same cold report; one computes it, the others wait for
//! its value in Redis. Kill the computing one: another takes over once its
//! lease (5 s here) expires.
//!
//! ```sh
//! redis-server --port 6379 --save "" --appendonly no &
//! cargo run --example redis_fleet       # REDIS_URL=redis://host:port/db to point elsewhere
//! ```

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use cache_core::ttl_cache;
use cache_redis::RedisBackend;

static REDIS: LazyLock<RedisBackend> = LazyLock::new(|| {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    match RedisBackend::builder(url)
        .prefix("example-fleet")
        .fleet_lease(Duration::from_secs(5))
        .build()
    {
        Ok(backend) => backend,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(2);
        }
    }
});

/// An expensive report: computed once for the whole fleet, kept 60 s.
#[ttl_cache(ttl = 60, single_flight = fleet, backend = REDIS.clone())]
fn daily_report(day: u32) -> String {
    println!("process {} computes the report…", std::process::id());
    std::thread::sleep(Duration::from_secs(3));
    format!("report of day {day}")
}

fn main() {
    let started = Instant::now();
    let report = daily_report(20_261_121);
    let info = daily_report::cache_info();
    println!(
        "process {}: {report:?} after {:?} ({} computed here, {} backend errors)",
        std::process::id(),
        started.elapsed(),
        info.computations,
        info.backend_errors
    );
}
