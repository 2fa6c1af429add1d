//! `#[ttl_cache]` on Redis: a sync fn and an async fn share one `RedisBackend`,
//! results survive the process (run it twice: the second run only hits), and a
//! Redis outage is a miss, never an error (fail-open).
//!
//! Start a server, then run the example:
//!
//! ```sh
//! redis-server --port 6379 --save "" --appendonly no &   # Debian: apt-get install redis-server
//! cargo run --example redis                                # REDIS_URL=redis://host:port/db to point elsewhere
//! ```
//!
//! For a cluster, `REDIS_CLUSTER=redis://127.0.0.1:7000/,redis://127.0.0.1:7001/`.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use cache_core::ttl_cache;
use cache_redis::RedisBackend;
use serde::{Deserialize, Serialize};

/// One backend for the whole process: connections are made on first use, and
/// shared by every function that names it.
static REDIS: LazyLock<RedisBackend> = LazyLock::new(|| {
    let builder = match std::env::var("REDIS_CLUSTER") {
        Ok(nodes) => RedisBackend::cluster(nodes.split(',').map(str::to_owned)),
        Err(_) => RedisBackend::builder(
            std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into()),
        ),
    };
    match builder
        .prefix("example")
        .op_timeout(Duration::from_millis(100))
        .build()
    {
        Ok(backend) => backend,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(2);
        }
    }
});

/// What is cached: any serde value (stored as MessagePack in a checked envelope).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Profile {
    id: u64,
    name: String,
}

static LOADS: AtomicU32 = AtomicU32::new(0);

/// A slow lookup, cached in Redis for five minutes.
#[ttl_cache(ttl = 300, backend = REDIS.clone())]
fn profile(id: u64) -> Profile {
    LOADS.fetch_add(1, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(20));
    Profile {
        id,
        name: format!("user {id}"),
    }
}

/// The async form: same backend, its multiplexed connection.
#[ttl_cache(ttl = 300, backend = REDIS.clone())]
async fn score(id: u64) -> Result<u64, String> {
    LOADS.fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(20)).await;
    Ok(id * 7)
}

fn main() -> std::io::Result<()> {
    for round in ["first", "second"] {
        let started = Instant::now();
        let profiles: Vec<Profile> = (1..=3).map(profile).collect();
        println!("{round} round: {profiles:?} in {:?}", started.elapsed());
    }
    let info = profile::cache_info();
    println!(
        "profile: {} hits, {} misses, {} entries in Redis, {} backend errors",
        info.hits, info.misses, info.current_size, info.backend_errors
    );
    if info.backend_errors > 0 {
        println!(
            "(no Redis at the configured URL: every call was a miss and still returned \
             its value; start redis-server to see hits)"
        );
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        for _ in 0..2 {
            println!("score(6) = {:?}", score(6).await);
        }
    });
    let info = score::cache_info();
    println!(
        "score: {} hits, {} misses; bodies run in this process: {}",
        info.hits,
        info.misses,
        LOADS.load(Ordering::Relaxed)
    );
    println!("parameters: {:?}", profile::cache_parameters());
    if profile::cache_info().backend_errors == 0 {
        println!("run it again: the results come from Redis, and no body runs");
    }
    Ok(())
}
