//! Fleet-wide single-flight (`#[ttl_cache(single_flight = fleet)]`) across real
//! processes (`fleet-probe`, spawned) on one cold key: exactly one computation
//! in the whole fleet; and a leader killed mid-computation hands over to
//! another process once its lease expires. On one server and on a 3-master
//! cluster.
#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use cache_tests::redis_server::{Redis, Resp, Topology};
use cache_tests::{DEADLINE, wait_until};

/// A `fleet-probe` process.
struct Probe {
    child: Child,
    stdout: BufReader<ChildStdout>,
}

impl Probe {
    fn spawn(redis: &Redis, topology: Topology, mode: &str, lease_ms: u64) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fleet-probe"))
            .arg(match topology {
                Topology::Single => "single",
                Topology::Cluster => "cluster",
            })
            .arg(mode)
            .arg(lease_ms.to_string())
            .args(redis.urls())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn fleet-probe");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "started");
        Self { child, stdout }
    }

    /// `(value, computations in this process)` once the call returned.
    fn result(&mut self) -> (String, u64) {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let field = |name: &str| -> String {
            line.split_whitespace()
                .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("no {name} in {line:?}"))
                .to_owned()
        };
        (field("value"), field("computations").parse().unwrap())
    }

    /// Whether the process has exited (its call returned).
    fn finished(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Computations recorded by the bodies of every process.
fn computations(redis: &Redis) -> i64 {
    match redis.command_for_key("t:fleet:computations", &["GET", "t:fleet:computations"]) {
        Resp::Nil => 0,
        Resp::Bulk(bytes) => String::from_utf8_lossy(&bytes).parse().unwrap(),
        other => panic!("GET: {other:?}"),
    }
}

fn let_bodies_finish(redis: &Redis) {
    let reply = redis.command_for_key("t:fleet:go", &["SET", "t:fleet:go", "1"]);
    assert!(reply.error().is_none(), "{reply:?}");
}

/// Four processes miss one cold key together: one computes (its body held
/// until every process is in), the others wait for its value.
fn one_computation_fleet_wide(topology: Topology) {
    let Some(redis) = Redis::start(topology) else {
        return;
    };
    let mut probes: Vec<Probe> = (0..4)
        .map(|_| Probe::spawn(&redis, topology, "normal", 10_000))
        .collect();
    assert!(wait_until(|| computations(&redis) == 1));
    let_bodies_finish(&redis);
    let results: Vec<(String, u64)> = probes.iter_mut().map(Probe::result).collect();
    assert!(
        results.iter().all(|(value, _)| value == "fleet-5"),
        "{results:?}"
    );
    assert_eq!(
        results.iter().map(|(_, n)| n).sum::<u64>(),
        1,
        "{results:?}"
    );
    assert_eq!(computations(&redis), 1);
}

/// The leader is SIGKILLed mid-computation: one waiting process computes once
/// the lease (1 s) expires, and every waiter gets its value.
fn dead_leader_hands_over(topology: Topology) {
    let Some(redis) = Redis::start(topology) else {
        return;
    };
    let lease = Duration::from_millis(1_000);
    let mut leader = Probe::spawn(&redis, topology, "hold", 1_000);
    assert!(wait_until(|| computations(&redis) == 1));
    let_bodies_finish(&redis);
    let mut waiters: Vec<Probe> = (0..2)
        .map(|_| Probe::spawn(&redis, topology, "normal", 1_000))
        .collect();
    let killed = Instant::now();
    leader.child.kill().unwrap();
    leader.child.wait().unwrap();
    assert!(
        wait_until(|| waiters.iter_mut().all(Probe::finished)),
        "the waiters never got a value"
    );
    let took = killed.elapsed();
    let results: Vec<(String, u64)> = waiters.iter_mut().map(Probe::result).collect();
    eprintln!("handed over {took:?} after the kill (lease {lease:?}): {results:?}");
    assert!(
        results.iter().all(|(value, _)| value == "fleet-5"),
        "{results:?}"
    );
    assert_eq!(
        results.iter().map(|(_, n)| n).sum::<u64>(),
        1,
        "{results:?}"
    );
    assert_eq!(computations(&redis), 2);
    assert!(
        took < lease + Duration::from_secs(2) && took < DEADLINE,
        "{took:?}"
    );
}

static URLS: std::sync::OnceLock<(Topology, Vec<String>)> = std::sync::OnceLock::new();

fn async_backend() -> cache_redis::RedisBackend {
    let (topology, urls) = URLS.get().unwrap().clone();
    let builder = match topology {
        Topology::Cluster => cache_redis::RedisBackend::cluster(urls),
        Topology::Single => cache_redis::RedisBackend::builder(urls[0].clone()),
    };
    builder
        .prefix("t")
        .fleet_poll(Duration::from_millis(5))
        .build()
        .unwrap()
}

/// Two backends with their own connections: as good as two processes.
static BACKEND_A: std::sync::LazyLock<cache_redis::RedisBackend> =
    std::sync::LazyLock::new(async_backend);
static BACKEND_B: std::sync::LazyLock<cache_redis::RedisBackend> =
    std::sync::LazyLock::new(async_backend);
static ASYNC_RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static ASYNC_GATE: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(0));

async fn held_body(x: u64) -> u64 {
    ASYNC_RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let _ = ASYNC_GATE.acquire().await;
    x * 2
}

#[cache_core::ttl_cache(identifier = "fleet-async", single_flight = fleet, backend = BACKEND_A.clone())]
async fn fleet_a(x: u64) -> u64 {
    held_body(x).await
}

#[cache_core::ttl_cache(identifier = "fleet-async", single_flight = fleet, backend = BACKEND_B.clone())]
async fn fleet_b(x: u64) -> u64 {
    held_body(x).await
}

/// The async path: two "processes" (separate backends and caches) in tasks on
/// one cold key compute once; the other waits on the runtime's timer.
fn async_fleet_computes_once(topology: Topology) {
    let Some(redis) = Redis::start(topology) else {
        return;
    };
    URLS.set((topology, redis.urls())).unwrap();
    assert!(fleet_a::cache_parameters().fleet_single_flight);
    let runtime = cache_tests::multi_thread_runtime();
    runtime.block_on(async {
        let a = tokio::spawn(fleet_a(21));
        let b = tokio::spawn(fleet_b(21));
        assert!(
            cache_tests::wait_until_async(|| {
                ASYNC_RUNS.load(std::sync::atomic::Ordering::SeqCst) == 1
            })
            .await
        );
        ASYNC_GATE.add_permits(100);
        assert_eq!((a.await.unwrap(), b.await.unwrap()), (42, 42));
    });
    assert_eq!(ASYNC_RUNS.load(std::sync::atomic::Ordering::SeqCst), 1);
    let computed = fleet_a::cache_info().computations + fleet_b::cache_info().computations;
    assert_eq!(computed, 1);
}

#[test]
fn single_async_fleet_computes_once() {
    async_fleet_computes_once(Topology::Single);
}

#[test]
fn cluster_async_fleet_computes_once() {
    async_fleet_computes_once(Topology::Cluster);
}

#[test]
fn single_one_computation_fleet_wide() {
    one_computation_fleet_wide(Topology::Single);
}

#[test]
fn single_dead_leader_hands_over() {
    dead_leader_hands_over(Topology::Single);
}

#[test]
fn cluster_one_computation_fleet_wide() {
    one_computation_fleet_wide(Topology::Cluster);
}

#[test]
fn cluster_dead_leader_hands_over() {
    dead_leader_hands_over(Topology::Cluster);
}
