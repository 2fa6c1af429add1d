//! A distributed lock on Redis: two workers (threads with separate clients here,
//! but they could be processes or machines) take turns on a critical section;
//! a third gives up after its blocking timeout and its section does not run;
//! a long job extends its lock; and the local counterpart, `tokio::sync::Mutex`.
//!
//! Start a server, then run the example:
//!
//! ```sh
//! redis-server --port 6379 --save "" --appendonly no &   # Debian: apt-get install redis-server
//! cargo run --example redis_lock                           # REDIS_URL=redis://host:port/db to point elsewhere
//! ```
//!
//! For a cluster, `REDIS_CLUSTER=redis://127.0.0.1:7000/,redis://127.0.0.1:7001/`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_redis::{LockError, RedisBackend};

fn backend() -> Result<RedisBackend, Box<dyn std::error::Error>> {
    let builder = match std::env::var("REDIS_CLUSTER") {
        Ok(nodes) => RedisBackend::cluster(nodes.split(',').map(str::to_owned)),
        Err(_) => RedisBackend::builder(
            std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into()),
        ),
    };
    Ok(builder
        .prefix("example")
        .op_timeout(Duration::from_millis(500))
        .build()?)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    // Two workers with their own clients: the lock serialises them.
    let workers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|who| {
            let redis = backend()?;
            Ok(std::thread::spawn(move || {
                redis.with_lock("report", || {
                    let at = start.elapsed().as_millis();
                    println!("{at:>4} ms  worker {who}: in the critical section");
                    std::thread::sleep(Duration::from_millis(200));
                    let at = start.elapsed().as_millis();
                    println!("{at:>4} ms  worker {who}: done");
                })
            }))
        })
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    for worker in workers {
        worker.join().map_err(|_| "a worker panicked")??;
    }

    // An impatient caller: the lock is held, it gives up, its section never runs.
    let redis = backend()?;
    let held = redis
        .lock("report")
        .timeout(Duration::from_secs(5))
        .acquire()?;
    match redis
        .lock("report")
        .blocking_timeout(Duration::from_millis(100))
        .with(|| println!("never printed"))
    {
        Err(LockError::Timeout { waited, .. }) => {
            println!("impatient caller: gave up after {waited:?}, nothing ran")
        }
        other => println!("impatient caller: unexpected {other:?}"),
    }
    held.release()?;

    // A long job: short timeout (a crashed holder frees it soon), extended as it goes.
    let job = redis
        .lock("long-job")
        .timeout(Duration::from_millis(300))
        .acquire()?;
    for step in 1..=3 {
        std::thread::sleep(Duration::from_millis(200));
        job.renew()?; // back to the full 300 ms
        println!("long job: step {step}, still held: {}", job.is_held()?);
    }
    drop(job); // released here

    // Async code: the same lock, awaited.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let value = redis
            .with_lock_async("report", async { "async critical section" })
            .await?;
        println!("{value}: done");

        // The local, in-process counterpart: tokio's Mutex. A waiter that gives
        // up (timeout, select!) never holds it; the guard drops from sync code.
        let local = Arc::new(tokio::sync::Mutex::new(0u32));
        let guard = Arc::clone(&local).lock_owned().await;
        let gave_up = tokio::time::timeout(Duration::from_millis(10), local.lock()).await;
        println!("local lock: waiter gave up: {}", gave_up.is_err());
        std::thread::spawn(move || drop(guard))
            .join()
            .map_err(|_| "dropping thread panicked")?;
        *local.lock().await += 1;
        println!("local lock: free again");
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("redis_lock example: {error}");
            ExitCode::FAILURE
        }
    }
}
