//! The local tier (`RedisBackendBuilder::local_tier`): hits served from memory
//! without a round trip, and `cache_clear` in one process dropping the local
//! copies of another process (`tier-probe`, spawned) promptly; on one server
//! and on a 3-master cluster.
#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, OnceLock};
use std::time::{Duration, Instant};

use cache_core::{StorageBackend, ttl_cache};
use cache_redis::RedisBackend;
use cache_tests::redis_server::{Redis, Resp, Topology};
use cache_tests::{DEADLINE, wait_until};

static TOPOLOGY: OnceLock<Topology> = OnceLock::new();
static URLS: OnceLock<Vec<String>> = OnceLock::new();

static TIERED: LazyLock<RedisBackend> = LazyLock::new(|| {
    let urls = URLS.get().expect("URLs first").clone();
    let builder = match TOPOLOGY.get() {
        Some(Topology::Cluster) => RedisBackend::cluster(urls),
        _ => RedisBackend::builder(urls[0].clone()),
    };
    builder
        .prefix("t")
        .op_timeout(Duration::from_secs(2))
        .local_tier(1_000, Duration::from_secs(600))
        .build()
        .expect("valid URLs")
});

static RUNS: AtomicU64 = AtomicU64::new(0);

/// The same identifier, key and value type as `tier-probe`'s function.
#[ttl_cache(identifier = "tiered", ttl = 600, backend = TIERED.clone())]
fn tiered(x: u64) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    format!("tiered-{x}")
}

fn start(topology: Topology) -> Option<Redis> {
    let redis = Redis::start(topology)?;
    TOPOLOGY.set(topology).unwrap();
    URLS.set(redis.urls()).unwrap();
    Some(redis)
}

/// `GET` calls the deployment has served, over every node.
fn gets_served(redis: &Redis) -> u64 {
    redis
        .command_on_all(&["INFO", "commandstats"])
        .iter()
        .map(|reply| {
            let text = String::from_utf8_lossy(reply.bytes().unwrap_or_default()).into_owned();
            text.lines()
                .find_map(|line| line.strip_prefix("cmdstat_get:calls="))
                .and_then(|rest| rest.split(',').next())
                .and_then(|calls| calls.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
}

/// Subscribers of the invalidation channel, over every node.
fn subscribers(redis: &Redis) -> i64 {
    redis
        .command_on_all(&["PUBSUB", "NUMSUB", "t:invalidate"])
        .iter()
        .map(|reply| match reply {
            Resp::Array(items) => items.get(1).map_or(0, Resp::int),
            other => panic!("PUBSUB NUMSUB: {other:?}"),
        })
        .sum()
}

/// The subscriber connects in the background; copies are kept once it has.
/// The server counts the subscription before the subscriber marks the tier
/// usable (and makes older copies stale): wait for both, or a copy kept in
/// between is dropped and the next call goes to Redis.
fn wait_for_subscription(redis: &Redis) {
    assert!(
        wait_until(|| subscribers(redis) > 0 && TIERED.local_tier().is_some()),
        "the local tier never subscribed"
    );
}

/// Local hits make no round trip: after a miss (GET + SET) and a read that
/// fills the copy, further calls leave Redis's GET count unchanged.
fn local_hits_skip_redis(topology: Topology) {
    let Some(redis) = start(topology) else { return };
    assert_eq!(tiered(1), "tiered-1");
    wait_for_subscription(&redis);
    // The first call's write may have come before the subscription: write again.
    tiered::cache_clear();
    assert_eq!(tiered(1), "tiered-1");
    let before = gets_served(&redis);
    for _ in 0..100 {
        assert_eq!(tiered(1), "tiered-1");
    }
    assert_eq!(gets_served(&redis), before, "a local hit went to Redis");
    let info = tiered::cache_info();
    assert_eq!((info.hits, info.misses, info.backend_errors), (100, 1, 0));
}

/// A child process following `tier-probe`'s line protocol.
struct Probe {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Probe {
    fn spawn(topology: Topology) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tier-probe"))
            .arg(match topology {
                Topology::Single => "single",
                Topology::Cluster => "cluster",
            })
            .args(URLS.get().unwrap())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn tier-probe");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self {
            child,
            stdin,
            stdout,
        }
    }

    /// The generation of the child's local tier; `None` while it keeps no
    /// copies (its subscriber is not in place).
    fn generation(&mut self) -> Option<u64> {
        writeln!(self.stdin, "tier").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let value = line
            .trim()
            .strip_prefix("tier=")
            .unwrap_or_else(|| panic!("{line:?}"));
        (value != "none").then(|| value.parse().unwrap())
    }

    /// `(hits, misses, computations)` after one call of `tiered(x)`.
    fn get(&mut self, x: u64) -> (u64, u64, u64) {
        writeln!(self.stdin, "get {x}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let field = |name: &str| -> u64 {
            line.split_whitespace()
                .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("no {name} in {line:?}"))
                .parse()
                .unwrap()
        };
        assert!(line.contains(&format!("value=tiered-{x}")), "{line:?}");
        (field("hits"), field("misses"), field("computations"))
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two processes: the child keeps a local copy (its calls stop reaching
/// Redis), the parent clears the cache, and the child's copy is gone within a
/// bounded delay (measured and printed): its next call computes again.
fn clear_in_one_process_invalidates_another(topology: Topology) {
    let Some(redis) = start(topology) else { return };
    let mut probe = Probe::spawn(topology);
    assert_eq!(probe.get(7), (0, 1, 1));
    // Once subscribed (both processes), the child's next write stays local.
    assert!(wait_until(
        || subscribers(&redis) == 1 && probe.generation().is_some()
    ));
    // Refill after the subscription: once the clear has reached the child
    // (its generation moved; the deletion in Redis may be seen earlier), a
    // computation, then local hits.
    let (_, _, first) = probe.get(7);
    let generation = probe.generation();
    tiered::cache_clear();
    assert!(
        wait_until(|| probe.generation() > generation),
        "the first clear never reached the child"
    );
    let (_, _, computed) = probe.get(7);
    assert_eq!(
        computed,
        first + 1,
        "the child did not compute after the clear"
    );
    let before = gets_served(&redis);
    let (hits, _, computations) = probe.get(7);
    assert_eq!(computations, computed, "the child computed again");
    assert!(hits > 0);
    assert_eq!(gets_served(&redis), before, "the child's hit went to Redis");

    let cleared = Instant::now();
    tiered::cache_clear();
    let mut delay = None;
    while cleared.elapsed() < DEADLINE {
        let (_, _, now) = probe.get(7);
        if now > computations {
            delay = Some(cleared.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let delay = delay.expect("the child's local copy survived the clear");
    eprintln!("invalidation reached the other process in {delay:?}");
    assert!(
        delay < Duration::from_secs(1),
        "invalidation took {delay:?}"
    );
}

#[test]
fn single_local_hits_skip_redis() {
    local_hits_skip_redis(Topology::Single);
}

#[test]
fn single_clear_in_one_process_invalidates_another() {
    clear_in_one_process_invalidates_another(Topology::Single);
}

#[test]
fn cluster_local_hits_skip_redis() {
    local_hits_skip_redis(Topology::Cluster);
}

#[test]
fn cluster_clear_in_one_process_invalidates_another() {
    clear_in_one_process_invalidates_another(Topology::Cluster);
}

static PLAIN: LazyLock<RedisBackend> = LazyLock::new(|| {
    RedisBackend::builder(URLS.get().expect("URLs first")[0].clone())
        .prefix("t")
        .build()
        .expect("valid URL")
});

static SHARED_RUNS: AtomicU64 = AtomicU64::new(0);

#[ttl_cache(identifier = "tier-share", ttl = 600, backend = PLAIN.clone())]
fn shared_plain(s: &str) -> usize {
    SHARED_RUNS.fetch_add(1, Ordering::SeqCst);
    s.len()
}

#[ttl_cache(identifier = "tier-share", ttl = 600, backend = TIERED.clone())]
fn shared_tiered(s: &str) -> usize {
    SHARED_RUNS.fetch_add(1, Ordering::SeqCst);
    s.len()
}

/// A function behind a local tier keys Redis exactly as one without: for a
/// short key (digest derived from the in-memory key on a local miss) and a
/// long one (digest computed alongside), what one stored the other reads.
#[test]
fn single_tiered_and_plain_functions_share_redis_keys() {
    let Some(redis) = start(Topology::Single) else {
        return;
    };
    let _ = TIERED.clone();
    wait_for_subscription(&redis);
    let long = "a key far longer than thirty-one bytes, so it spills";
    for key in ["short", long] {
        let before = SHARED_RUNS.load(Ordering::SeqCst);
        assert_eq!(shared_plain(key), key.len());
        assert_eq!(shared_tiered(key), key.len());
        assert_eq!(shared_tiered(key), key.len());
        assert_eq!(
            SHARED_RUNS.load(Ordering::SeqCst) - before,
            1,
            "{key:?}: the tiered function did not find the plain one's value"
        );
    }
    let info = shared_tiered::cache_info();
    assert_eq!((info.hits, info.misses), (4, 0), "{info:?}");
}
