//! A process of the fleet-wide single-flight tests: calls a
//! `#[ttl_cache(single_flight = fleet)]` function on a Redis backend whose body
//! counts its runs in Redis (`INCR t:fleet:computations`).
//!
//! Usage: `fleet-probe <single|cluster> <normal|hold> <lease ms> <node URL>...`.
//! Prints `started`, then after the call `value=<v> computations=<n>`. In
//! `normal` mode the body waits for the key `t:fleet:go` to exist; in `hold`
//! mode it never returns (the test kills the process).

use std::io::Write;
use std::process::ExitCode;
use std::sync::{LazyLock, OnceLock};
use std::time::{Duration, Instant};

use cache_core::ttl_cache;
use cache_redis::RedisBackend;

struct Setup {
    cluster: bool,
    hold: bool,
    lease: Duration,
    urls: Vec<String>,
}

static SETUP: OnceLock<Setup> = OnceLock::new();

fn setup() -> &'static Setup {
    SETUP.get().unwrap_or_else(|| fail("no setup"))
}

static FLEET: LazyLock<RedisBackend> = LazyLock::new(|| {
    let setup = setup();
    let builder = if setup.cluster {
        RedisBackend::cluster(setup.urls.clone())
    } else {
        RedisBackend::builder(setup.urls.first().cloned().unwrap_or_default())
    };
    builder
        .prefix("t")
        .op_timeout(Duration::from_secs(2))
        .fleet_lease(setup.lease)
        .fleet_poll(Duration::from_millis(10))
        .build()
        .unwrap_or_else(|error| fail(&error.to_string()))
});

/// Says why and exits with status 2.
fn fail(message: &str) -> ! {
    eprintln!("fleet-probe: {message}");
    std::process::exit(2)
}

/// A plain connection for the body's own bookkeeping.
fn command(args: &[&str]) -> redis::Value {
    let setup = setup();
    let result = if setup.cluster {
        redis::cluster::ClusterClient::new(setup.urls.clone())
            .and_then(|client| client.get_connection())
            .and_then(|mut conn| redis::cmd(args[0]).arg(&args[1..]).query(&mut conn))
    } else {
        redis::Client::open(setup.urls[0].as_str())
            .and_then(|client| client.get_connection())
            .and_then(|mut conn| redis::cmd(args[0]).arg(&args[1..]).query(&mut conn))
    };
    result.unwrap_or_else(|error| fail(&error.to_string()))
}

static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[ttl_cache(identifier = "fleet", ttl = 60, single_flight = fleet, backend = FLEET.clone())]
fn fleet(x: u64) -> String {
    RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    command(&["INCR", "t:fleet:computations"]);
    let start = Instant::now();
    loop {
        if !setup().hold && command(&["EXISTS", "t:fleet:go"]) == redis::Value::Int(1) {
            return format!("fleet-{x}");
        }
        if start.elapsed() > Duration::from_secs(60) {
            fail("the test never let the body finish");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(topology), Some(mode), Some(Ok(lease)), urls) = (
        args.first(),
        args.get(1),
        args.get(2).map(|ms| ms.parse::<u64>()),
        args.get(3..).unwrap_or_default(),
    ) else {
        eprintln!("usage: fleet-probe <single|cluster> <normal|hold> <lease ms> <node URL>...");
        return ExitCode::FAILURE;
    };
    let _ = SETUP.set(Setup {
        cluster: topology == "cluster",
        hold: mode == "hold",
        lease: Duration::from_millis(lease),
        urls: urls.to_vec(),
    });
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "started");
    let _ = stdout.flush();
    let value = fleet(5);
    let _ = writeln!(
        stdout,
        "value={value} computations={}",
        RUNS.load(std::sync::atomic::Ordering::SeqCst)
    );
    let _ = stdout.flush();
    ExitCode::SUCCESS
}
