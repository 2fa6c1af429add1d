//! The Redis backend suite, run once per topology: `redis_backend.rs` includes it
//! for one `redis-server`, `redis_cluster.rs` for a 3-master Redis Cluster. The
//! including file defines `TOPOLOGY` and `builder(urls)`.
//!
//! Every test starts its own deployment (nextest runs each test in its own
//! process), puts its URLs in `URLS` before a backend is first touched, and
//! asserts the counters of `cache_info()`.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use cache_core::codec::envelope;
use cache_core::{CacheInfo, ttl_cache};
use cache_redis::RedisBackend;
use cache_tests::figures::{self, peak_rss_kib};
use cache_tests::redis_server::{Redis, RespConn, Topology, redis_available};
use cache_tests::{DEADLINE, multi_thread_runtime, wait_until_every};
use serde_json::json;

use super::{TOPOLOGY, builder};

/// The node URLs of this test's deployment.
pub(crate) static URLS: OnceLock<Vec<String>> = OnceLock::new();

fn urls() -> Vec<String> {
    URLS.get().expect("the test sets URLS first").clone()
}

/// The backend of most tests: prefix `t`, a 500 ms budget. A `RedisBackend`
/// itself (a cheap handle), where the other statics hold an `Arc` of one: both
/// forms plug into `backend = …`.
pub(crate) static REDIS: LazyLock<RedisBackend> = LazyLock::new(|| {
    builder(&urls())
        .prefix("t")
        .op_timeout(Duration::from_millis(500))
        .breaker_threshold(3)
        .breaker_cooldown(Duration::from_millis(50))
        .build()
        .expect("valid URLs")
});

/// Starts this test's deployment and records its URLs.
pub(crate) fn start() -> Option<Redis> {
    let redis = Redis::start(TOPOLOGY)?;
    URLS.set(redis.urls())
        .expect("one deployment per test process");
    Some(redis)
}

/// The counters every test asserts, in one comparable value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Counts {
    pub(crate) hits: u64,
    pub(crate) misses: u64,
    pub(crate) computations: u64,
    pub(crate) current_size: u64,
    pub(crate) backend_errors: u64,
    pub(crate) decode_errors: u64,
}

pub(crate) fn counts(info: CacheInfo) -> Counts {
    Counts {
        hits: info.hits,
        misses: info.misses,
        computations: info.computations,
        current_size: info.current_size,
        backend_errors: info.backend_errors,
        decode_errors: info.decode_errors,
    }
}

/// `hits, misses, computations, current_size`, no errors.
pub(crate) fn clean(hits: u64, misses: u64, computations: u64, current_size: u64) -> Counts {
    Counts {
        hits,
        misses,
        computations,
        current_size,
        ..Counts::default()
    }
}

/// Records a reliability row's figures under this topology's test binary, as
/// nextest names the test (`redis_backend::suite::test`, `redis_cluster::…`).
fn record(row: &str, test: &str, figures: serde_json::Value) {
    let file = match TOPOLOGY {
        Topology::Single => "redis_backend",
        Topology::Cluster => "redis_cluster",
    };
    figures::record(row, &format!("{file}::suite::{test}"), figures);
}

/// Milliseconds, for figures.
fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// The key prefix of the cached function whose identity is `identity`.
fn key_prefix(identity: impl AsRef<str>) -> String {
    format!("t:{}:v0000000000:", identity.as_ref())
}

// ---------------------------------------------------------------------------
// Behaviour (the memory backend's suite, on Redis)
// ---------------------------------------------------------------------------

static SQUARES: AtomicU64 = AtomicU64::new(0);

#[ttl_cache(ttl = 30, backend = REDIS.clone())]
fn square(x: u64) -> u64 {
    SQUARES.fetch_add(1, Ordering::SeqCst);
    x * x
}

/// A miss then hits; distinct arguments are distinct entries; the keys have the
/// documented shape and hold an envelope.
#[test]
fn miss_then_hit_and_distinct_arguments() {
    let Some(redis) = start() else { return };
    assert_eq!(square(7), 49);
    assert_eq!(square(7), 49);
    assert_eq!(square(8), 64);
    assert_eq!(square(8), 64);
    assert_eq!(square(7), 49);
    assert_eq!(SQUARES.load(Ordering::SeqCst), 2);
    assert_eq!(counts(square::cache_info()), clean(3, 2, 2, 2));

    let identity = square::cache_parameters().identifier;
    let prefix = key_prefix(identity);
    let keys = redis.keys("t:*");
    assert_eq!(keys.len(), 2, "{keys:?}");
    for key in &keys {
        assert!(key.starts_with(&prefix), "{key}");
        let digest = &key[prefix.len()..];
        assert_eq!(digest.len(), 64, "{key}");
        assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
        let stored = redis.get(key).expect("stored");
        assert_eq!(&stored[..4], b"TTLC", "{key}: not an envelope");
    }
}

#[ttl_cache(identifier = "ns", backend = REDIS.clone())]
fn in_ns(x: u64) -> u64 {
    x
}

#[ttl_cache(identifier = "ns2", backend = REDIS.clone())]
fn in_ns2(x: u64) -> u64 {
    x
}

#[ttl_cache(identifier = "n*", backend = REDIS.clone())]
fn in_glob(x: u64) -> u64 {
    x
}

#[ttl_cache(identifier = "n?[s]", backend = REDIS.clone())]
fn in_glob2(x: u64) -> u64 {
    x
}

/// `cache_clear` removes every key of its cache, over several SCAN batches (on
/// every master of a cluster), and none of a cache whose identity it prefixes
/// or glob-matches; `current_size` counts exactly one cache.
#[test]
fn clear_removes_exactly_one_namespace() {
    const MANY: u64 = 3_000;
    let Some(redis) = start() else { return };
    for x in 0..MANY {
        assert_eq!(in_ns(x), x);
    }
    for x in 0..10 {
        in_ns2(x);
        in_glob(x);
        in_glob2(x);
    }
    assert_eq!(counts(in_ns::cache_info()), clean(0, MANY, MANY, MANY));
    assert_eq!(counts(in_ns2::cache_info()), clean(0, 10, 10, 10));
    assert_eq!(counts(in_glob::cache_info()), clean(0, 10, 10, 10));
    assert_eq!(counts(in_glob2::cache_info()), clean(0, 10, 10, 10));
    assert_eq!(redis.keys("t:ns:*").len(), MANY as usize);

    // `n*` and `n?[s]` would match `ns` and `ns2` if the pattern were not escaped.
    in_glob::cache_clear();
    in_glob2::cache_clear();
    assert_eq!(counts(in_glob::cache_info()), clean(0, 0, 0, 0));
    assert_eq!(counts(in_glob2::cache_info()), clean(0, 0, 0, 0));
    assert_eq!(in_ns::cache_info().current_size, MANY);
    assert_eq!(in_ns2::cache_info().current_size, 10);

    // `ns` is a prefix of `ns2`.
    in_ns::cache_clear();
    assert_eq!(counts(in_ns::cache_info()), clean(0, 0, 0, 0));
    assert_eq!(counts(in_ns2::cache_info()), clean(0, 10, 10, 10));
    assert!(redis.keys("t:ns:*").is_empty());
    assert_eq!(redis.keys("t:ns2:*").len(), 10);
    assert_eq!(redis.dbsize(), 10);

    // Cleared means recomputed.
    assert_eq!(in_ns(1), 1);
    assert_eq!(counts(in_ns::cache_info()), clean(0, 1, 1, 1));
}

static LABELS: AtomicU64 = AtomicU64::new(0);

#[ttl_cache(ttl = 30, backend = REDIS.clone())]
async fn label(x: u64) -> Result<String, String> {
    LABELS.fetch_add(1, Ordering::SeqCst);
    tokio::task::yield_now().await;
    if x == 0 {
        return Err("zero".into());
    }
    Ok(format!("label-{x}"))
}

/// The async path (the multiplexed connection): a miss then a hit, errors
/// never stored, concurrent callers on one cold key computing once, and
/// `cache_info`/`cache_clear` called from async code and from spawned tasks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_calls_hit_and_never_store_errors() {
    let Some(redis) = start() else { return };
    assert_eq!(label(3).await.unwrap(), "label-3");
    assert_eq!(label(3).await.unwrap(), "label-3");
    assert!(label(0).await.is_err());
    assert!(label(0).await.is_err());
    assert_eq!(LABELS.load(Ordering::SeqCst), 3);
    assert_eq!(counts(label::cache_info()), clean(1, 3, 3, 1));

    let tasks: Vec<_> = (0..16)
        .map(|_| tokio::spawn(async { label(4).await.unwrap() }))
        .collect();
    for value in cache_tests::join_within_deadline(tasks).await {
        assert_eq!(value, "label-4");
    }
    // Single-flight within the process: 16 callers, one computation.
    assert_eq!(LABELS.load(Ordering::SeqCst), 4);
    let info = tokio::spawn(async { label::cache_info() }).await.unwrap();
    assert_eq!(info.computations, 4);
    assert_eq!(info.current_size, 2);
    assert_eq!((info.backend_errors, info.decode_errors), (0, 0));
    assert_eq!(redis.keys("t:*").len(), 2);

    tokio::spawn(async { label::cache_clear() }).await.unwrap();
    assert_eq!(counts(label::cache_info()), clean(0, 0, 0, 0));
    assert!(redis.keys("t:*").is_empty());
    assert_eq!(label(3).await.unwrap(), "label-3");
    assert_eq!(counts(label::cache_info()), clean(0, 1, 1, 1));
}

static PARSES: AtomicU64 = AtomicU64::new(0);

#[ttl_cache(backend = REDIS.clone())]
fn parse_port(text: &str) -> Result<u16, String> {
    PARSES.fetch_add(1, Ordering::SeqCst);
    text.parse().map_err(|e| format!("{e}"))
}

/// A `Result` function stores only `Ok` values.
#[test]
fn result_functions_never_store_errors() {
    let Some(redis) = start() else { return };
    assert!(parse_port("http").is_err());
    assert!(parse_port("http").is_err());
    assert_eq!(parse_port("8080"), Ok(8080));
    assert_eq!(parse_port("8080"), Ok(8080));
    assert_eq!(PARSES.load(Ordering::SeqCst), 3);
    assert_eq!(counts(parse_port::cache_info()), clean(1, 3, 3, 1));
    assert_eq!(redis.keys("t:*").len(), 1);
}

static FINDS: AtomicU64 = AtomicU64::new(0);
static MAYBES: AtomicU64 = AtomicU64::new(0);

#[ttl_cache(backend = REDIS.clone())]
fn find(name: &str) -> Option<u32> {
    FINDS.fetch_add(1, Ordering::SeqCst);
    (name == "alice").then_some(1)
}

#[ttl_cache(cache_none = false, backend = REDIS.clone())]
fn find_some(name: &str) -> Option<u32> {
    MAYBES.fetch_add(1, Ordering::SeqCst);
    (name == "alice").then_some(1)
}

/// `Option` results: `None` is stored by default, and not with `cache_none = false`.
#[test]
fn option_results_follow_cache_none() {
    let Some(redis) = start() else { return };
    assert_eq!(find("bob"), None);
    assert_eq!(find("bob"), None);
    assert_eq!(find("alice"), Some(1));
    assert_eq!(find("alice"), Some(1));
    assert_eq!(FINDS.load(Ordering::SeqCst), 2);
    assert_eq!(counts(find::cache_info()), clean(2, 2, 2, 2));

    assert_eq!(find_some("bob"), None);
    assert_eq!(find_some("bob"), None);
    assert_eq!(find_some("alice"), Some(1));
    assert_eq!(find_some("alice"), Some(1));
    assert_eq!(MAYBES.load(Ordering::SeqCst), 3);
    assert_eq!(counts(find_some::cache_info()), clean(1, 3, 3, 1));
    assert_eq!(redis.keys("t:*").len(), 3);
}

// ---------------------------------------------------------------------------
// R14: expiry in milliseconds
// ---------------------------------------------------------------------------

#[ttl_cache(ttl = 30, backend = REDIS.clone())]
fn long_lived(x: u64) -> u64 {
    x
}

#[ttl_cache(ttl = 0.5, backend = REDIS.clone())]
fn short_lived(x: u64) -> u64 {
    x
}

#[ttl_cache(ttl = Duration::from_micros(500), backend = REDIS.clone())]
fn too_short(x: u64) -> u64 {
    x
}

/// The only key of `identity`.
fn only_key(redis: &Redis, identity: impl AsRef<str>) -> String {
    let identity = identity.as_ref();
    let keys = redis.keys(&format!("{}*", key_prefix(identity)));
    assert_eq!(keys.len(), 1, "{identity}: {keys:?}");
    keys.into_iter().next().unwrap()
}

/// `PTTL` is in (0, ttl]; a sub-second TTL is stored in milliseconds (not
/// rounded to 0 or 1 s) and the entry is gone after it; a TTL under 1 ms stores
/// nothing (R14).
#[test]
fn ttls_are_milliseconds_and_entries_expire() {
    let Some(redis) = start() else { return };
    long_lived(1);
    let key = only_key(&redis, long_lived::cache_parameters().identifier);
    let pttl = redis.pttl(&key);
    assert!(pttl > 0 && pttl <= 30_000, "PTTL {pttl}");

    let long_pttl = pttl;

    short_lived(1);
    let stored = Instant::now();
    let key = only_key(&redis, short_lived::cache_parameters().identifier);
    let pttl = redis.pttl(&key);
    assert!(pttl > 0 && pttl <= 500, "PTTL {pttl} for ttl = 0.5");
    assert!(
        wait_until_every(Duration::from_millis(10), || !redis.exists(&key)),
        "the entry outlived its TTL"
    );
    let gone_after = stored.elapsed();
    assert_eq!(short_lived(1), 1);
    assert_eq!(counts(short_lived::cache_info()), clean(0, 2, 2, 1));

    assert_eq!(too_short(1), 1);
    assert_eq!(too_short(1), 1);
    assert_eq!(counts(too_short::cache_info()), clean(0, 2, 2, 0));
    let prefix = key_prefix(too_short::cache_parameters().identifier);
    assert!(redis.keys(&format!("{prefix}*")).is_empty());
    record(
        "R14",
        "ttls_are_milliseconds_and_entries_expire",
        json!({
            "pttl_ms_for_ttl_30s": long_pttl,
            "pttl_ms_for_ttl_500ms": pttl,
            "gone_after_ms_for_ttl_500ms": ms(gone_after),
            "keys_stored_for_ttl_500us": 0,
        }),
    );
}

// ---------------------------------------------------------------------------
// A cache shared by two processes
// ---------------------------------------------------------------------------

static SHARED: AtomicU64 = AtomicU64::new(0);

/// The same identifier, key and value type as `redis-probe`'s function.
#[ttl_cache(identifier = "shared-probe", ttl = 60, backend = REDIS.clone())]
fn shared(x: u64) -> String {
    SHARED.fetch_add(1, Ordering::SeqCst);
    format!("shared-{x}")
}

/// What `redis-probe` printed.
#[derive(Debug, PartialEq, Eq)]
struct Probe {
    hits: u64,
    misses: u64,
    computations: u64,
    backend_errors: u64,
    value: String,
}

/// Runs `redis-probe` (another process) on `argument`, bounded by [`DEADLINE`].
fn probe(argument: u64) -> Probe {
    let topology = match TOPOLOGY {
        Topology::Single => "single",
        Topology::Cluster => "cluster",
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_redis-probe"))
        .arg(topology)
        .arg(argument.to_string())
        .args(urls())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn redis-probe");
    let start = Instant::now();
    while child.try_wait().expect("wait for redis-probe").is_none() {
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
        }
        assert!(
            start.elapsed() <= DEADLINE,
            "redis-probe did not finish in time"
        );
        thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().expect("redis-probe output");
    assert!(output.status.success(), "redis-probe: {}", output.status);
    let line = String::from_utf8(output.stdout).expect("UTF-8");
    let field = |name: &str| -> String {
        let value = line
            .split_whitespace()
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")));
        assert!(value.is_some(), "no {name} in {line:?}");
        value.unwrap().to_owned()
    };
    let number = |name: &str| field(name).parse::<u64>().expect("a number");
    Probe {
        hits: number("hits"),
        misses: number("misses"),
        computations: number("computations"),
        backend_errors: number("backend_errors"),
        value: field("value"),
    }
}

/// Two processes naming one identifier share entries: what this process stored
/// is a hit in another (which computes nothing), and the reverse.
#[test]
fn shared_identifier_across_processes() {
    let Some(_redis) = start() else { return };
    assert_eq!(shared(1), "shared-1");
    assert_eq!(
        probe(1),
        Probe {
            hits: 1,
            misses: 0,
            computations: 0,
            backend_errors: 0,
            value: "shared-1".into(),
        }
    );
    assert_eq!(
        probe(2),
        Probe {
            hits: 0,
            misses: 1,
            computations: 1,
            backend_errors: 0,
            value: "shared-2".into(),
        }
    );
    assert_eq!(shared(2), "shared-2");
    assert_eq!(
        SHARED.load(Ordering::SeqCst),
        1,
        "the child's entry was a miss"
    );
    assert_eq!(counts(shared::cache_info()), clean(1, 1, 1, 2));
}

#[ttl_cache(ttl = 60, backend = REDIS.clone())]
async fn per_runtime(x: u64) -> u64 {
    x + 5
}

/// Async calls from one runtime after another (each dropped before the next
/// starts, as `#[tokio::test]`s do): a connection made on a dropped runtime
/// is never used again, so no call fails and every later round hits.
#[test]
fn async_calls_survive_runtimes_coming_and_going() {
    let Some(_redis) = start() else { return };
    for round in 0..4u64 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            for x in 0..3 {
                assert_eq!(per_runtime(x).await, x + 5);
            }
        });
        drop(runtime);
        let info = per_runtime::cache_info();
        assert_eq!(
            (info.hits, info.misses, info.backend_errors),
            (3 * round, 3, 0),
            "round {round}: {info:?}"
        );
    }
}

static COLD_GATE: LazyLock<cache_tests::Gate> = LazyLock::new(cache_tests::Gate::new);
static COLD_RUNS: AtomicU64 = AtomicU64::new(0);

#[ttl_cache(ttl = 60, backend = REDIS.clone())]
fn cold_sync(x: u64) -> u64 {
    COLD_RUNS.fetch_add(1, Ordering::SeqCst);
    COLD_GATE.wait();
    x * 3
}

static COLD_ASYNC_GATE: LazyLock<tokio::sync::Semaphore> =
    LazyLock::new(|| tokio::sync::Semaphore::new(0));
static COLD_ASYNC_RUNS: AtomicU64 = AtomicU64::new(0);

#[ttl_cache(ttl = 60, backend = REDIS.clone())]
async fn cold_async(x: u64) -> u64 {
    COLD_ASYNC_RUNS.fetch_add(1, Ordering::SeqCst);
    let _ = COLD_ASYNC_GATE.acquire().await;
    x * 5
}

/// In-process single-flight on Redis: 16 threads and 64 tasks on one cold key
/// run the body once each; the body is held on a gate until every caller has
/// started. A caller that comes after the leader finished reads the stored
/// value (the flight covers the read), so the count is exact.
#[test]
fn concurrent_misses_on_one_key_compute_once() {
    let Some(_redis) = start() else { return };
    let started = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let started = Arc::clone(&started);
            thread::spawn(move || {
                started.fetch_add(1, Ordering::SeqCst);
                cold_sync(4)
            })
        })
        .collect();
    assert!(cache_tests::wait_until(|| started.load(Ordering::SeqCst)
        == 16
        && COLD_RUNS.load(Ordering::SeqCst) == 1));
    COLD_GATE.open();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), 12);
    }
    assert_eq!(COLD_RUNS.load(Ordering::SeqCst), 1);
    let info = cold_sync::cache_info();
    assert_eq!(
        (info.computations, info.hits + info.misses),
        (1, 16),
        "{info:?}"
    );

    let runtime = multi_thread_runtime();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..64).map(|_| tokio::spawn(cold_async(6))).collect();
        assert!(
            cache_tests::wait_until_async(|| COLD_ASYNC_RUNS.load(Ordering::SeqCst) == 1).await
        );
        COLD_ASYNC_GATE.add_permits(1_000);
        for task in tasks {
            assert_eq!(task.await.unwrap(), 30);
        }
    });
    assert_eq!(COLD_ASYNC_RUNS.load(Ordering::SeqCst), 1);
    assert_eq!(cold_async::cache_info().computations, 1);
}

/// A backend with shared counters that never flush by themselves during a
/// test (flushes are explicit).
static COUNTED: LazyLock<Arc<RedisBackend>> = LazyLock::new(|| {
    Arc::new(
        builder(&urls())
            .prefix("t")
            .op_timeout(Duration::from_millis(500))
            .shared_counters(Duration::from_secs(3600))
            .build()
            .expect("valid URLs"),
    )
});

/// `shared` again (same identifier, key and value type), on `COUNTED`.
#[ttl_cache(identifier = "shared-probe", ttl = 60, backend = COUNTED.clone())]
fn shared_counted(x: u64) -> String {
    format!("shared-{x}")
}

/// Shared counters add up the lookups of every process using a cache: this
/// process's miss and hit (unflushed, then flushed) plus the child's hit;
/// `cache_clear` resets them.
#[test]
fn shared_counters_sum_over_processes() {
    let Some(redis) = start() else { return };
    let counters = || COUNTED.shared_counters("shared-probe").unwrap();
    assert_eq!(shared_counted(3), "shared-3");
    assert_eq!(shared_counted(3), "shared-3");
    // Not flushed yet: this process's counts come from memory.
    assert_eq!(redis.keys("t:shared-probe:counters"), Vec::<String>::new());
    assert_eq!((counters().hits, counters().misses), (1, 1));
    COUNTED.flush_counters().unwrap();
    assert_eq!(redis.keys("t:shared-probe:counters").len(), 1);
    assert_eq!((counters().hits, counters().misses), (1, 1));
    assert_eq!(probe(3).hits, 1);
    assert_eq!(probe(4).misses, 1);
    assert_eq!((counters().hits, counters().misses), (2, 2));
    // The per-process counters are unchanged by the child.
    assert_eq!(counts(shared_counted::cache_info()), clean(1, 1, 1, 2));
    shared_counted::cache_clear();
    assert_eq!((counters().hits, counters().misses), (0, 0));
    assert!(redis.keys("t:shared-probe:*").is_empty());
}

/// A backend whose counters flush every 10 ms by themselves.
static FLUSHING: LazyLock<Arc<RedisBackend>> = LazyLock::new(|| {
    Arc::new(
        builder(&urls())
            .prefix("t")
            .shared_counters(Duration::from_millis(10))
            .build()
            .expect("valid URLs"),
    )
});

#[ttl_cache(identifier = "flushing", ttl = 60, backend = FLUSHING.clone())]
fn flushing(x: u64) -> u64 {
    x
}

/// The background thread writes the counts without an explicit flush.
#[test]
fn shared_counters_flush_in_the_background() {
    let Some(redis) = start() else { return };
    assert_eq!(flushing(1), 1);
    assert_eq!(flushing(1), 1);
    assert!(
        cache_tests::wait_until(|| redis.keys("t:flushing:counters").len() == 1),
        "the counters never reached Redis"
    );
    let counters = FLUSHING.shared_counters("flushing").unwrap();
    assert_eq!((counters.hits, counters.misses), (1, 1));
}

// ---------------------------------------------------------------------------
// R7: a node SIGKILLed under load, restarted 3 s later
// ---------------------------------------------------------------------------

const LOAD_KEYS: u64 = 200;

#[ttl_cache(ttl = 60, backend = REDIS.clone())]
fn loaded(x: u64) -> u64 {
    x * 7 + 1
}

#[ttl_cache(ttl = 60, backend = REDIS.clone())]
async fn loaded_async(x: u64) -> u64 {
    x * 11 + 3
}

/// Called by the test alone (not by the load), so its hit counter tells when
/// every key is a hit again while the load goes on.
#[ttl_cache(ttl = 60, backend = REDIS.clone())]
fn resume_probe(x: u64) -> u64 {
    x * 13 + 5
}

/// Every key of [`resume_probe`] is a hit.
fn probe_all_hit() -> bool {
    let before = resume_probe::cache_info().hits;
    for x in 0..LOAD_KEYS {
        assert_eq!(resume_probe(x), x * 13 + 5);
    }
    resume_probe::cache_info().hits - before == LOAD_KEYS
}

/// Load: `threads` sync callers and one async caller (a task on `runtime`)
/// over [`LOAD_KEYS`] keys, counting calls and wrong values, until `stop`.
struct Load {
    stop: Arc<AtomicBool>,
    calls: Arc<AtomicU64>,
    wrong: Arc<AtomicU64>,
    threads: Vec<thread::JoinHandle<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Load {
    fn start(threads: usize, runtime: &tokio::runtime::Runtime) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(AtomicU64::new(0));
        let wrong = Arc::new(AtomicU64::new(0));
        let mut handles = Vec::new();
        for t in 0..threads {
            let (stop, calls, wrong) = (stop.clone(), calls.clone(), wrong.clone());
            handles.push(thread::spawn(move || {
                let mut x = t as u64 * 37;
                while !stop.load(Ordering::Relaxed) {
                    x = (x + 1) % LOAD_KEYS;
                    if loaded(x) != x * 7 + 1 {
                        wrong.fetch_add(1, Ordering::Relaxed);
                    }
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        let (stop2, calls2, wrong2) = (stop.clone(), calls.clone(), wrong.clone());
        let task = runtime.spawn(async move {
            let mut x = 0;
            while !stop2.load(Ordering::Relaxed) {
                x = (x + 1) % LOAD_KEYS;
                if loaded_async(x).await != x * 11 + 3 {
                    wrong2.fetch_add(1, Ordering::Relaxed);
                }
                calls2.fetch_add(1, Ordering::Relaxed);
            }
        });
        Self {
            stop,
            calls,
            wrong,
            threads: handles,
            task,
        }
    }

    /// Waits until `n` more calls have completed.
    fn wait_calls(&self, n: u64) {
        let target = self.calls.load(Ordering::Relaxed) + n;
        assert!(
            wait_until_every(Duration::from_millis(5), || {
                self.calls.load(Ordering::Relaxed) >= target
            }),
            "the load stalled"
        );
    }

    /// The calls completed so far.
    fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Stops the callers; panics if one panicked or got a wrong value. Returns
    /// the calls completed.
    fn finish(self, runtime: &tokio::runtime::Runtime) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let mut panics = self
            .threads
            .into_iter()
            .map(thread::JoinHandle::join)
            .filter(Result::is_err)
            .count();
        let task = runtime.block_on(async { tokio::time::timeout(DEADLINE, self.task).await });
        if !matches!(task, Ok(Ok(()))) {
            panics += 1;
        }
        assert_eq!(panics, 0, "callers panicked");
        assert_eq!(self.wrong.load(Ordering::Relaxed), 0, "wrong values");
        self.calls.load(Ordering::Relaxed)
    }
}

/// Every key of the load is a hit, sync and async.
fn all_hits(runtime: &tokio::runtime::Runtime) -> bool {
    let before = (loaded::cache_info().hits, loaded_async::cache_info().hits);
    for x in 0..LOAD_KEYS {
        assert_eq!(loaded(x), x * 7 + 1);
        assert_eq!(runtime.block_on(loaded_async(x)), x * 11 + 3);
    }
    let after = (loaded::cache_info().hits, loaded_async::cache_info().hits);
    after.0 - before.0 == LOAD_KEYS && after.1 - before.1 == LOAD_KEYS
}

/// R7: a server (or one master) SIGKILLed mid-load and restarted 3 s later on
/// the same port: no panic and no wrong value (the functions return plain
/// values, so a panic is the only way an error could reach a caller), failures
/// counted, and every key is a hit again after the restart.
#[test]
fn killed_node_mid_load_then_restarted() {
    const OUTAGE: Duration = Duration::from_secs(3);
    let Some(mut redis) = start() else { return };
    let victim = redis.node_count() - 1;
    let runtime = multi_thread_runtime();
    let load = Load::start(3, &runtime);
    load.wait_calls(4 * LOAD_KEYS);
    let errors_before =
        loaded::cache_info().backend_errors + loaded_async::cache_info().backend_errors;
    assert_eq!(errors_before, 0);

    redis.kill_node(victim);
    let calls_at_kill = load.calls();
    // The outage itself: 3 s of load against a dead node.
    thread::sleep(OUTAGE);
    load.wait_calls(LOAD_KEYS);
    let during = (
        loaded::cache_info().backend_errors,
        loaded_async::cache_info().backend_errors,
    );
    assert!(during.0 > 0, "sync failures not counted: {during:?}");
    assert!(during.1 > 0, "async failures not counted: {during:?}");
    let calls_during = load.calls() - calls_at_kill;

    redis.restart_node(victim);
    let restarted = Instant::now();
    // While the load goes on: the restarted node came back empty, so every key
    // is a miss once more and a hit from then on.
    let resumed = wait_until_every(Duration::from_millis(5), probe_all_hit);
    let hits_resumed_after = restarted.elapsed();
    assert!(
        resumed,
        "probe hits did not resume after the restart: {:?}",
        resume_probe::cache_info()
    );
    load.wait_calls(4 * LOAD_KEYS);
    let calls = load.finish(&runtime);
    assert!(
        wait_until_every(Duration::from_millis(20), || all_hits(&runtime)),
        "hits did not resume after the restart: {:?} {:?}",
        loaded::cache_info(),
        loaded_async::cache_info()
    );
    assert!(REDIS.breaker_opens() > 0);
    let (sync, not_sync) = (loaded::cache_info(), loaded_async::cache_info());
    record(
        "R7",
        "killed_node_mid_load_then_restarted",
        json!({
            "nodes": redis.node_count(),
            "outage_ms": ms(OUTAGE),
            "calls": calls,
            "calls_during_outage": calls_during,
            "panics": 0,
            "wrong_values": 0,
            "backend_errors_during_outage": during.0 + during.1,
            "backend_errors": sync.backend_errors + not_sync.backend_errors,
            "breaker_opens": REDIS.breaker_opens(),
            "all_probe_keys_hit_after_restart_ms": ms(hits_resumed_after),
            "hits": sync.hits + not_sync.hits,
            "computations": sync.computations + not_sync.computations,
        }),
    );
}

// ---------------------------------------------------------------------------
// R8: a node SIGSTOPped 3 s
// ---------------------------------------------------------------------------

const OP_BUDGET: Duration = Duration::from_millis(100);
const BODY: Duration = Duration::from_millis(5);
/// Scheduling slack on a loaded 2-core machine; well under a second budget.
const MARGIN: Duration = Duration::from_millis(60);
const PAUSE: Duration = Duration::from_secs(3);
const PAUSED_KEYS: u64 = 30;

/// A 100 ms budget and a breaker that opens on the first failure, so one call
/// during an outage pays at most one budget (with a higher threshold a miss
/// pays for its failed `GET` and then for its failed `SET`).
static FAST: LazyLock<Arc<RedisBackend>> = LazyLock::new(|| {
    Arc::new(
        builder(&urls())
            .prefix("t")
            .op_timeout(OP_BUDGET)
            .breaker_threshold(1)
            .breaker_cooldown(Duration::from_millis(250))
            .build()
            .expect("valid URLs"),
    )
});

#[ttl_cache(ttl = 60, backend = FAST.clone())]
fn paused(x: u64) -> u64 {
    thread::sleep(BODY);
    x + 100
}

#[ttl_cache(ttl = 60, backend = FAST.clone())]
async fn paused_async(x: u64) -> u64 {
    tokio::time::sleep(BODY).await;
    x + 200
}

/// The slowest calls of a pause, for the failure message.
fn describe(latencies: &[(Duration, Duration)]) -> String {
    let mut slow: Vec<String> = latencies
        .iter()
        .filter(|(_, took)| *took > BODY + OP_BUDGET + MARGIN)
        .map(|(at, took)| format!("{took:?} at {at:?}"))
        .collect();
    slow.truncate(10);
    slow.join(", ")
}

/// R8, blocking calls: while a server (or one master) is SIGSTOPped for 3 s,
/// two threads keep calling; no call takes longer than its body plus one
/// operation budget (plus scheduling slack), the breaker opens, and after
/// SIGCONT every key is a hit again.
#[test]
fn paused_node_sync_calls_cost_at_most_one_budget() {
    let Some(redis) = start() else { return };
    for x in 0..PAUSED_KEYS {
        paused(x);
    }
    assert_eq!(
        counts(paused::cache_info()),
        clean(0, PAUSED_KEYS, PAUSED_KEYS, PAUSED_KEYS)
    );
    let victim = redis.node_count() - 1;
    let latencies: Vec<(Duration, Duration)> = {
        let _paused = redis.pause_node(victim);
        let start = Instant::now();
        let callers: Vec<_> = (0..2)
            .map(|t| {
                thread::spawn(move || {
                    let mut latencies = Vec::new();
                    let mut x = t * 7;
                    while start.elapsed() < PAUSE {
                        x = (x + 1) % PAUSED_KEYS;
                        let call = Instant::now();
                        assert_eq!(paused(x), x + 100);
                        latencies.push((start.elapsed(), call.elapsed()));
                    }
                    latencies
                })
            })
            .collect();
        callers
            .into_iter()
            .flat_map(|caller| caller.join().expect("no caller panics"))
            .collect()
    };
    let slowest = latencies.iter().map(|(_, took)| *took).max().unwrap();
    let bound = BODY + OP_BUDGET + MARGIN;
    eprintln!(
        "sync calls during the pause: {}, slowest {slowest:?}",
        latencies.len()
    );
    assert!(
        slowest <= bound,
        "{} sync calls; the slowest took {slowest:?} (bound {bound:?}): {}",
        latencies.len(),
        describe(&latencies)
    );
    assert!(FAST.breaker_opens() > 0, "the breaker never opened");
    assert!(paused::cache_info().backend_errors > 0);
    let resumed = Instant::now();
    assert!(
        wait_until_every(Duration::from_millis(20), || {
            let before = paused::cache_info().hits;
            for x in 0..PAUSED_KEYS {
                assert_eq!(paused(x), x + 100);
            }
            paused::cache_info().hits - before == PAUSED_KEYS
        }),
        "hits did not resume after SIGCONT: {:?}",
        paused::cache_info()
    );
    record_pause(
        "paused_node_sync_calls_cost_at_most_one_budget",
        2,
        latencies.len(),
        slowest,
        paused::cache_info().backend_errors,
        resumed,
    );
}

/// The figures of an R8 run: `calls` made while the server was stopped, the
/// slowest of them, and the time since SIGCONT until every key hit again.
fn record_pause(
    test: &str,
    callers: usize,
    calls: usize,
    slowest: Duration,
    backend_errors: u64,
    resumed: Instant,
) {
    record(
        "R8",
        test,
        json!({
            "callers": callers,
            "pause_ms": ms(PAUSE),
            "calls_while_stopped": calls,
            "slowest_call_ms": ms(slowest),
            "body_ms": ms(BODY),
            "op_budget_ms": ms(OP_BUDGET),
            "scheduling_margin_ms": ms(MARGIN),
            "bound_ms": ms(BODY + OP_BUDGET + MARGIN),
            "breaker_opens": FAST.breaker_opens(),
            "backend_errors": backend_errors,
            "all_keys_hit_after_sigcont_ms": ms(resumed.elapsed()),
        }),
    );
}

/// R8, async calls: the same with four tasks on a multi-thread runtime.
#[test]
fn paused_node_async_calls_cost_at_most_one_budget() {
    let Some(redis) = start() else { return };
    let runtime = multi_thread_runtime();
    for x in 0..PAUSED_KEYS {
        runtime.block_on(paused_async(x));
    }
    assert_eq!(
        counts(paused_async::cache_info()),
        clean(0, PAUSED_KEYS, PAUSED_KEYS, PAUSED_KEYS)
    );
    let victim = redis.node_count() - 1;
    let latencies: Vec<(Duration, Duration)> = {
        let _paused = redis.pause_node(victim);
        let start = Instant::now();
        let callers: Vec<_> = (0..4)
            .map(|t| {
                runtime.spawn(async move {
                    let mut latencies = Vec::new();
                    let mut x = t * 7;
                    while start.elapsed() < PAUSE {
                        x = (x + 1) % PAUSED_KEYS;
                        let call = Instant::now();
                        assert_eq!(paused_async(x).await, x + 200);
                        latencies.push((start.elapsed(), call.elapsed()));
                    }
                    latencies
                })
            })
            .collect();
        runtime
            .block_on(cache_tests::join_within_deadline(callers))
            .into_iter()
            .flatten()
            .collect()
    };
    let slowest = latencies.iter().map(|(_, took)| *took).max().unwrap();
    let bound = BODY + OP_BUDGET + MARGIN;
    eprintln!(
        "async calls during the pause: {}, slowest {slowest:?}",
        latencies.len()
    );
    assert!(
        slowest <= bound,
        "{} async calls; the slowest took {slowest:?} (bound {bound:?}): {}",
        latencies.len(),
        describe(&latencies)
    );
    assert!(FAST.breaker_opens() > 0, "the breaker never opened");
    assert!(paused_async::cache_info().backend_errors > 0);
    let resumed = Instant::now();
    assert!(
        wait_until_every(Duration::from_millis(20), || {
            let before = paused_async::cache_info().hits;
            for x in 0..PAUSED_KEYS {
                assert_eq!(runtime.block_on(paused_async(x)), x + 200);
            }
            paused_async::cache_info().hits - before == PAUSED_KEYS
        }),
        "hits did not resume after SIGCONT: {:?}",
        paused_async::cache_info()
    );
    record_pause(
        "paused_node_async_calls_cost_at_most_one_budget",
        4,
        latencies.len(),
        slowest,
        paused_async::cache_info().backend_errors,
        resumed,
    );
}

// ---------------------------------------------------------------------------
// R9: the process starts while Redis is down
// ---------------------------------------------------------------------------

#[ttl_cache(ttl = 60, backend = REDIS.clone())]
fn early(x: u64) -> u64 {
    x * 3
}

#[ttl_cache(ttl = 60, backend = REDIS.clone())]
async fn early_async(x: u64) -> u64 {
    x * 5
}

/// R9: the backend is built on ports where nothing listens: calls work (fail
/// open) from the start; once the server (the cluster) comes up on those ports,
/// results are stored and hit.
#[test]
fn backend_built_before_redis_starts() {
    if !redis_available(TOPOLOGY == Topology::Cluster) {
        return;
    }
    let ports = Redis::reserve_ports(TOPOLOGY);
    let urls: Vec<String> = ports
        .iter()
        .map(|p| format!("redis://127.0.0.1:{p}/"))
        .collect();
    URLS.set(urls).unwrap();
    let runtime = multi_thread_runtime();
    for _ in 0..3 {
        assert_eq!(early(4), 12);
        assert_eq!(runtime.block_on(early_async(4)), 20);
    }
    let info = early::cache_info();
    assert!(info.backend_errors >= 3, "{info:?}");
    assert_eq!((info.hits, info.computations), (0, 3));
    assert!(early_async::cache_info().backend_errors >= 3);

    let errors_while_down = info.backend_errors + early_async::cache_info().backend_errors;
    let redis = Redis::start_on(TOPOLOGY, &ports);
    let up = Instant::now();
    assert!(
        wait_until_every(Duration::from_millis(20), || {
            early(4);
            runtime.block_on(early_async(4));
            redis.keys("t:*").len() == 2
        }),
        "the backend never wrote to the new deployment: {:?} {:?}",
        early::cache_info(),
        early_async::cache_info()
    );
    let before = (early::cache_info(), early_async::cache_info());
    assert_eq!(early(4), 12);
    assert_eq!(runtime.block_on(early_async(4)), 20);
    let after = (early::cache_info(), early_async::cache_info());
    assert_eq!(after.0.hits, before.0.hits + 1);
    assert_eq!(after.1.hits, before.1.hits + 1);
    let first_hit_after = up.elapsed();
    assert_eq!(after.0.computations, before.0.computations);
    assert_eq!(after.0.current_size, 1);
    record(
        "R9",
        "backend_built_before_redis_starts",
        json!({
            "calls_while_down": 6,
            "backend_errors_while_down": errors_while_down,
            "first_hit_after_server_up_ms": ms(first_hit_after),
            "hits": after.0.hits + after.1.hits,
        }),
    );
}

// ---------------------------------------------------------------------------
// R10: corrupt entries
// ---------------------------------------------------------------------------

/// A recursive value type, so deep nesting could recurse in the decoder.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
enum Tree {
    Leaf(u64),
    Node(Vec<Tree>),
}

static TREES: AtomicU64 = AtomicU64::new(0);

#[ttl_cache(ttl = 60, backend = REDIS.clone())]
fn tree(x: u64) -> Tree {
    TREES.fetch_add(1, Ordering::SeqCst);
    Tree::Node(vec![Tree::Leaf(x), Tree::Leaf(x + 1)])
}

#[ttl_cache(ttl = 60, backend = REDIS.clone())]
fn other_type(x: u64) -> String {
    format!("not a tree {x}")
}

/// `SET key value PX 60000` with the `redis` crate, on the node owning `key`.
fn write_raw(redis: &Redis, key: &str, value: &[u8]) {
    let client = redis::Client::open(redis.owner_url(key)).unwrap();
    let mut conn = client.get_connection_with_timeout(DEADLINE).unwrap();
    redis::cmd("SET")
        .arg(key)
        .arg(value)
        .arg("PX")
        .arg(60_000)
        .query::<()>(&mut conn)
        .unwrap();
}

/// Deterministic noise.
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// `payload` in a valid envelope (right codec, schema and checksum) copied
/// from the header of `valid`.
fn reenvelope(valid: &[u8], payload: &[u8]) -> Vec<u8> {
    let codec_id = valid[5];
    let schema_id = u64::from_le_bytes(valid[7..15].try_into().unwrap());
    envelope::encode(payload, codec_id, schema_id, None).unwrap()
}

/// A backend that signs its values (keyed MAC).
static SIGNING: LazyLock<RedisBackend> = LazyLock::new(|| {
    builder(&urls())
        .prefix("t")
        .mac_key([7; 32])
        .build()
        .expect("valid URLs")
});

static SIGNED_RUNS: AtomicU64 = AtomicU64::new(0);

#[ttl_cache(identifier = "signed", ttl = 60, backend = SIGNING.clone())]
fn signed(x: u64) -> u64 {
    SIGNED_RUNS.fetch_add(1, Ordering::SeqCst);
    x * 1000
}

/// R18, forged values: with a MAC key, a value planted without the key (a
/// well-formed envelope with a wrong answer) and a genuine signed value copied
/// to another key are both refused: counted decode errors, recomputed, the
/// right answer returned and overwritten.
#[test]
fn mac_rejects_forged_and_copied_values() {
    let Some(redis) = start() else { return };
    assert_eq!(signed(1), 1000);
    let key1 = only_key(&redis, "signed");
    let genuine1 = redis.get(&key1).unwrap();
    assert_eq!(signed(2), 2000);
    let key2 = redis
        .keys("t:signed:*")
        .into_iter()
        .find(|key| *key != key1)
        .unwrap();
    assert_eq!(counts(signed::cache_info()), clean(0, 2, 2, 2));

    // A genuine value of key 1, copied to key 2.
    write_raw(&redis, &key2, &genuine1);
    assert_eq!(signed(2), 2000);
    // A forged value: right codec and schema, checksum but no MAC, wrong answer.
    let forged_payload =
        cache_core::codec::Serializer::serialize(&cache_core::codec::MessagePack, &999_999u64)
            .unwrap();
    write_raw(&redis, &key1, &reenvelope(&genuine1, &forged_payload));
    assert_eq!(signed(1), 1000);
    let info = signed::cache_info();
    assert_eq!((info.decode_errors, info.computations), (2, 4), "{info:?}");
    // Both were overwritten with signed values: hits now.
    assert_eq!((signed(1), signed(2)), (1000, 2000));
    assert_eq!(signed::cache_info().hits, 2);
    assert_eq!(SIGNED_RUNS.load(Ordering::SeqCst), 4);
    record(
        "R18",
        "mac_rejects_forged_and_copied_values",
        json!({
            "forged_or_copied_values": 2,
            "decode_errors": info.decode_errors,
            "computations": info.computations,
            "hits_after_overwrite": signed::cache_info().hits,
        }),
    );
}

/// R10: each kind of corrupt entry is a miss counted in `decode_errors`; the
/// body runs, the right value is returned and overwrites the entry (the next
/// call hits); no panic, no stack overflow.
#[test]
fn corrupt_entries_are_counted_misses_and_overwritten() {
    let Some(redis) = start() else { return };
    let expected = Tree::Node(vec![Tree::Leaf(1), Tree::Leaf(2)]);
    assert_eq!(tree(1), expected);
    let key = only_key(&redis, tree::cache_parameters().identifier);
    let valid = redis.get(&key).unwrap();
    other_type(1);
    let other_key = only_key(&redis, other_type::cache_parameters().identifier);
    let other_valid = redis.get(&other_key).unwrap();

    let mut truncated = valid.clone();
    truncated.truncate(valid.len() - 5);
    let mut bad_checksum = valid.clone();
    *bad_checksum.last_mut().unwrap() ^= 0x55;
    let mut bad_payload = valid.clone();
    bad_payload[envelope::HEADER_LEN] ^= 0x01;
    let mut huge_envelope_len = valid.clone();
    huge_envelope_len[15..19].copy_from_slice(&u32::MAX.to_le_bytes());

    let mut nested_arrays = vec![0x91; 100_000];
    nested_arrays.push(0x00);
    let mut nested_enums = Vec::new();
    for _ in 0..100_000 {
        nested_enums.extend_from_slice(b"\x81\xa4Node\x91");
    }
    nested_enums.extend_from_slice(b"\x81\xa4Leaf\x01");
    let huge_str = b"\xdb\xff\xff\xff\xffabc".to_vec();
    let huge_bin = b"\xc6\xff\xff\xff\xffabc".to_vec();
    let huge_array = b"\x81\xa4Node\xdd\xff\xff\xff\xff\x00".to_vec();

    let kinds: Vec<(&str, Vec<u8>)> = vec![
        ("random bytes", noise(64)),
        (
            "random bytes after the magic",
            [b"TTLC".as_slice(), &noise(60)].concat(),
        ),
        ("empty value", Vec::new()),
        ("truncated envelope", truncated),
        ("bad checksum", bad_checksum),
        ("flipped payload byte", bad_payload),
        ("wrong schema", other_valid),
        ("wrong type", reenvelope(&valid, b"\xaanot a tree")),
        ("wrong shape", reenvelope(&valid, b"\x93\x01\x02\x03")),
        ("100k nested arrays", reenvelope(&valid, &nested_arrays)),
        ("100k nested enum maps", reenvelope(&valid, &nested_enums)),
        ("str32 claiming 4 GB", reenvelope(&valid, &huge_str)),
        ("bin32 claiming 4 GB", reenvelope(&valid, &huge_bin)),
        ("array32 claiming 4G items", reenvelope(&valid, &huge_array)),
        ("envelope length claiming 4 GB", huge_envelope_len),
    ];
    let mut want = counts(tree::cache_info());
    assert_eq!(want, clean(0, 1, 1, 1));
    let kind_count = kinds.len();
    for (kind, bytes) in kinds {
        write_raw(&redis, &key, &bytes);
        assert_eq!(tree(1), expected, "{kind}");
        want.misses += 1;
        want.computations += 1;
        want.decode_errors += 1;
        assert_eq!(counts(tree::cache_info()), want, "{kind}");
        assert_eq!(
            redis.get(&key).as_deref(),
            Some(valid.as_slice()),
            "{kind}: not overwritten"
        );
        assert_eq!(tree(1), expected, "{kind}");
        want.hits += 1;
        assert_eq!(counts(tree::cache_info()), want, "{kind}");
    }
    assert_eq!(TREES.load(Ordering::SeqCst), want.computations);
    // Bounded allocation: claims of 4 GB never made the process grow by them.
    let peak = peak_rss_kib();
    assert!(peak < 512 * 1024, "peak RSS {peak} KiB");
    record(
        "R10",
        "corrupt_entries_are_counted_misses_and_overwritten",
        json!({
            "corrupt_kinds": kind_count,
            "decode_errors": want.decode_errors,
            "misses": want.misses,
            "computations": want.computations,
            "hits_after_overwrite": want.hits,
            "peak_rss_kib": peak,
        }),
    );
}

// ---------------------------------------------------------------------------
// R18: an ACL user limited to the prefix; passwords never shown
// ---------------------------------------------------------------------------

const ADMIN_PASSWORD: &str = "admin-s3cret-2b9d";
const APP_PASSWORD: &str = "app-s3cret-7f1c";
const WRONG_PASSWORD: &str = "wr0ng-s3cret-5e8a";

/// What the application user may run: the minimal set, found by removing one
/// rule at a time. The cache needs `GET`, `SET`, `SCAN` and `UNLINK`; redis-rs
/// sends `AUTH`/`HELLO` (always allowed) and `CLIENT SETINFO` (its refusal is
/// ignored). The cluster client also needs `PING`, `CLUSTER SLOTS` (slot
/// discovery) and `READONLY` (sent on every node connection).
fn app_acl() -> Vec<&'static str> {
    let mut rules = vec![
        "ACL",
        "SETUSER",
        "app",
        "reset",
        "on",
        ">app-s3cret-7f1c",
        "~t:*",
        "resetchannels",
        "-@all",
        "+get",
        "+set",
        "+scan",
        "+unlink",
    ];
    if TOPOLOGY == Topology::Cluster {
        rules.extend(["+ping", "+cluster|slots", "+readonly"]);
    }
    rules
}

/// `ACL LOG` of every node, for failure messages.
fn acl_log(redis: &Redis) -> String {
    redis
        .command_on_all(&["ACL", "LOG"])
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn with_password(urls: &[String], user: &str, password: &str) -> Vec<String> {
    urls.iter()
        .map(|u| u.replacen("redis://", &format!("redis://{user}:{password}@"), 1))
        .collect()
}

/// Plain URLs: the default user, disabled in the ACL test.
static ANONYMOUS_URLS: OnceLock<Vec<String>> = OnceLock::new();
static ANONYMOUS: LazyLock<Arc<RedisBackend>> = LazyLock::new(|| {
    Arc::new(
        builder(ANONYMOUS_URLS.get().unwrap())
            .prefix("t")
            .op_timeout(Duration::from_millis(500))
            .build()
            .unwrap(),
    )
});

/// A wrong password.
static WRONG_URLS: OnceLock<Vec<String>> = OnceLock::new();
static WRONG: LazyLock<Arc<RedisBackend>> = LazyLock::new(|| {
    Arc::new(
        builder(WRONG_URLS.get().unwrap())
            .prefix("t")
            .op_timeout(Duration::from_millis(500))
            .build()
            .unwrap(),
    )
});

#[ttl_cache(ttl = 60, backend = REDIS.clone())]
fn as_app(x: u64) -> u64 {
    x + 1
}

static ANONYMOUS_RUNS: AtomicU64 = AtomicU64::new(0);

#[ttl_cache(ttl = 60, backend = ANONYMOUS.clone())]
fn as_nobody(x: u64) -> u64 {
    ANONYMOUS_RUNS.fetch_add(1, Ordering::SeqCst);
    x + 2
}

#[ttl_cache(ttl = 60, backend = WRONG.clone())]
fn with_wrong_password(x: u64) -> u64 {
    x + 3
}

/// R18: an ACL user limited to `~t:*` runs the cache (hit after miss, size,
/// clear) but cannot touch other keys or run admin commands; with the default
/// user disabled an unauthenticated backend fails open; no password shows in
/// `Debug`, backend errors or URL errors.
#[test]
fn acl_user_limited_to_the_prefix() {
    let Some(redis) = Redis::start(TOPOLOGY) else {
        return;
    };
    let plain = redis.urls();
    for reply in redis.command_on_all(&[
        "ACL",
        "SETUSER",
        "admin",
        "on",
        &format!(">{ADMIN_PASSWORD}"),
        "~*",
        "&*",
        "+@all",
    ]) {
        reply.expect_ok();
    }
    redis.authenticate_as("admin", ADMIN_PASSWORD);
    for reply in redis.command_on_all(&app_acl()) {
        reply.expect_ok();
    }
    for reply in redis.command_on_all(&["ACL", "SETUSER", "default", "off"]) {
        reply.expect_ok();
    }
    URLS.set(with_password(&plain, "app", APP_PASSWORD))
        .unwrap();
    ANONYMOUS_URLS.set(plain.clone()).unwrap();
    WRONG_URLS
        .set(with_password(&plain, "app", WRONG_PASSWORD))
        .unwrap();

    // The app user runs the cache.
    assert_eq!(as_app(1), 2);
    assert_eq!(as_app(1), 2);
    assert_eq!(
        counts(as_app::cache_info()),
        clean(1, 1, 1, 1),
        "ACL log: {}",
        acl_log(&redis)
    );
    let key = only_key(&redis, as_app::cache_parameters().identifier);
    as_app::cache_clear();
    assert_eq!(counts(as_app::cache_info()), clean(0, 0, 0, 0));
    assert!(!redis.exists(&key));

    // …and nothing else.
    let mut refused = 0;
    for (i, port) in redis.ports().into_iter().enumerate() {
        let mut app = RespConn::connect(port, Some(("app", APP_PASSWORD))).unwrap();
        let outside = "other:key";
        if redis.owner_of(outside) == i {
            for command in [vec!["GET", outside], vec!["SET", outside, "x"]] {
                let reply = app.call(&command).unwrap();
                let error = reply.error().unwrap_or_default();
                assert!(error.starts_with("NOPERM"), "{command:?}: {reply}");
                refused += 1;
            }
        }
        for command in [
            vec!["FLUSHALL"],
            vec!["CONFIG", "GET", "requirepass"],
            vec!["KEYS", "*"],
            vec!["ACL", "LIST"],
        ] {
            let reply = app.call(&command).unwrap();
            let error = reply.error().unwrap_or_default();
            assert!(error.starts_with("NOPERM"), "{command:?}: {reply}");
            refused += 1;
        }
    }
    assert!(!redis.exists("other:key"), "a refused SET wrote");

    // Unauthenticated (the default user is off): fail open.
    assert_eq!(as_nobody(1), 3);
    assert_eq!(as_nobody(1), 3);
    assert_eq!(ANONYMOUS_RUNS.load(Ordering::SeqCst), 2);
    let info = as_nobody::cache_info();
    assert_eq!((info.hits, info.computations), (0, 2));
    assert!(info.backend_errors >= 2, "{info:?}");

    // No password in Debug output, backend errors or URL errors.
    let mut texts_checked = 0;
    assert_eq!(with_wrong_password(1), 4);
    let error = with_wrong_password::cache()
        .try_cache_clear()
        .expect_err("a wrong password cannot SCAN");
    for shown in [
        format!("{:?}", *REDIS),
        format!("{:?}", *WRONG),
        format!("{:?}", builder(&urls())),
        format!("{error}"),
        format!("{error:?}"),
    ] {
        for secret in [APP_PASSWORD, WRONG_PASSWORD, ADMIN_PASSWORD] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        texts_checked += 1;
    }
    for bad in [
        format!("redis://app:{APP_PASSWORD}@127.0.0.1:notaport/"),
        format!("redis://app:{APP_PASSWORD}@127.0.0.1:99999999/"),
        format!("nosuchscheme://app:{APP_PASSWORD}@127.0.0.1:6379/"),
    ] {
        let error = builder(std::slice::from_ref(&bad))
            .build()
            .expect_err("an invalid URL");
        for shown in [format!("{error}"), format!("{error:?}")] {
            assert!(!shown.contains(APP_PASSWORD), "{bad}: {shown}");
            texts_checked += 1;
        }
    }
    record(
        "R18",
        "acl_user_limited_to_the_prefix",
        json!({
            "nodes": redis.node_count(),
            "app_hits": 1,
            "commands_refused_noperm": refused,
            "unauthenticated_backend_errors": info.backend_errors,
            "texts_checked_for_passwords": texts_checked,
            "passwords_shown": 0,
        }),
    );
}
