//! The `cache-cli` binary against real Redis deployments (a `redis-server`, or
//! a 3-master cluster, started per test on free loopback ports): caches filled
//! through `#[ttl_cache]` on a `RedisBackend`, then `list`, `inspect` and
//! `clear` run as a child process and their output checked against what the
//! server holds. Identities that are prefixes of others (`ns`/`ns2`,
//! `a::f`/`a::f::g`) guard the exact matching of `clear`.
//!
//! Every test starts its own deployment (nextest runs each test in its own
//! process) and sets `DEPLOYMENT` before a backend is first touched.
#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use cache_core::{StorageBackend, ttl_cache};
use cache_redis::RedisBackend;
use cache_tests::redis_server::{Redis, RedisServer, Resp, Topology, free_port};
use cache_tests::wait_until;
use serde_json::Value;

/// This test's deployment: its topology and node URLs.
static DEPLOYMENT: OnceLock<(Topology, Vec<String>)> = OnceLock::new();

fn builder() -> cache_redis::RedisBackendBuilder {
    let (topology, urls) = DEPLOYMENT.get().expect("the test starts Redis first");
    match topology {
        Topology::Single => RedisBackend::builder(urls[0].clone()),
        Topology::Cluster => RedisBackend::cluster(urls.clone()),
    }
}

/// The caches' backend: the default prefix (`cache`), as `cache-cli` assumes.
static REDIS: LazyLock<RedisBackend> = LazyLock::new(|| {
    builder()
        .op_timeout(Duration::from_secs(2))
        .build()
        .expect("valid URLs")
});

/// An application's backend built with `.prefix("walk")`: `cache-cli` finds
/// its caches only with `--prefix walk`.
static WALK: LazyLock<RedisBackend> = LazyLock::new(|| {
    builder()
        .prefix("walk")
        .op_timeout(Duration::from_secs(2))
        .build()
        .expect("valid URLs")
});

/// A backend with a local tier, on the same prefix.
static TIERED: LazyLock<RedisBackend> = LazyLock::new(|| {
    builder()
        .op_timeout(Duration::from_secs(2))
        .local_tier(100, Duration::from_secs(600))
        .build()
        .expect("valid URLs")
});

const TTL_MS: u64 = 60_000;

#[ttl_cache(identifier = "ns", ttl = 60, backend = REDIS.clone())]
fn ns(x: u64) -> u64 {
    x
}

#[ttl_cache(identifier = "ns2", ttl = 60, backend = REDIS.clone())]
fn ns2(x: u64) -> u64 {
    x + 1
}

#[ttl_cache(identifier = "ns2", version = 3, ttl = 60, backend = REDIS.clone())]
fn ns2_v3(x: u64) -> u64 {
    x + 2
}

#[ttl_cache(identifier = "a::f", ttl = 60, backend = REDIS.clone())]
fn a_f(x: u64) -> String {
    format!("f{x}")
}

#[ttl_cache(identifier = "a::f::g", ttl = 60, backend = REDIS.clone())]
fn a_f_g(x: u64) -> String {
    format!("g{x}")
}

#[ttl_cache(identifier = "walk_user::f", ttl = 60, backend = WALK.clone())]
fn walk_f(x: u64) -> u64 {
    x * 3
}

static TIERED_RUNS: AtomicU64 = AtomicU64::new(0);

#[ttl_cache(identifier = "tiered", ttl = 600, backend = TIERED.clone())]
fn tiered(x: u64) -> u64 {
    TIERED_RUNS.fetch_add(1, Ordering::SeqCst);
    x * 10
}

/// Entries per identity and version after [`fill`].
fn expected() -> BTreeMap<(&'static str, u32), u64> {
    BTreeMap::from([
        (("a::f", 0), 2),
        (("a::f::g", 0), 4),
        (("ns", 0), 5),
        (("ns2", 0), 3),
        (("ns2", 3), 2),
    ])
}

/// Fills the caches of [`expected`], plus keys that are not stored results
/// (shared counters, a lease, another prefix) which `list` must skip.
fn fill(redis: &Redis) {
    for x in 0..5 {
        ns(x);
    }
    for x in 0..3 {
        ns2(x);
    }
    for x in 0..2 {
        ns2_v3(x);
        a_f(x);
    }
    for x in 0..4 {
        a_f_g(x);
    }
    for key in ["cache:ns:counters", "cache:ns2:counters"] {
        redis.command_for_key(key, &["HSET", key, "hits", "1", "misses", "2"]);
    }
    let lease = format!("cache:ns:lease:{}", "0".repeat(64));
    redis
        .command_for_key(&lease, &["SET", &lease, "1"])
        .expect_ok();
    let other = format!("other:ns:v0000000000:{}", "0".repeat(64));
    redis
        .command_for_key(&other, &["SET", &other, "1"])
        .expect_ok();
}

fn start(topology: Topology) -> Option<Redis> {
    let redis = Redis::start(topology)?;
    DEPLOYMENT
        .set((topology, redis.urls()))
        .expect("one deployment per test process");
    Some(redis)
}

/// `--url` (every node, `--cluster` for a cluster).
fn connection(redis: &Redis) -> Vec<String> {
    let mut args = Vec::new();
    if matches!(redis, Redis::Cluster(_)) {
        args.push("--cluster".to_owned());
    }
    for url in redis.urls() {
        args.extend(["--url".to_owned(), url]);
    }
    args
}

/// One run of the binary.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn json(&self) -> Value {
        assert_eq!(self.code, 0, "stderr: {}", self.stderr);
        serde_json::from_str(&self.stdout).expect("JSON on stdout")
    }

    #[track_caller]
    fn assert_failed(&self, code: i32, message: &str) {
        assert_eq!(
            self.code, code,
            "stdout: {} stderr: {}",
            self.stdout, self.stderr
        );
        assert!(self.stdout.is_empty(), "stdout: {}", self.stdout);
        assert!(
            self.stderr.contains(message),
            "stderr lacks {message:?}: {}",
            self.stderr
        );
    }
}

fn cli_env<S: AsRef<str>>(args: &[S], env: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cache-cli"));
    command
        .args(args.iter().map(AsRef::as_ref))
        .env_remove("CACHE_REDIS_URL");
    if let Some(url) = env {
        command.env("CACHE_REDIS_URL", url);
    }
    let output = command.output().expect("run cache-cli");
    Run {
        code: output.status.code().expect("exited"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8"),
    }
}

fn cli<S: AsRef<str>>(args: &[S]) -> Run {
    cli_env(args, None)
}

/// `cache-cli <subcommand> <connection> <rest> --json`.
fn cli_json(redis: &Redis, subcommand: &str, rest: &[&str]) -> Value {
    let mut args = vec![subcommand.to_owned()];
    args.extend(connection(redis));
    args.extend(rest.iter().map(|s| (*s).to_owned()));
    args.push("--json".to_owned());
    cli(&args).json()
}

/// Entries per identity and version, as `list --json` reports them.
fn listed(list: &Value) -> BTreeMap<(String, u32), u64> {
    let mut entries = BTreeMap::new();
    for cache in list["caches"].as_array().expect("caches") {
        let identity = cache["identity"].as_str().unwrap().to_owned();
        let mut total = 0;
        for version in cache["versions"].as_array().unwrap() {
            let n = version["entries"].as_u64().unwrap();
            total += n;
            let v = u32::try_from(version["version"].as_u64().unwrap()).unwrap();
            entries.insert((identity.clone(), v), n);
        }
        assert_eq!(cache["entries"].as_u64(), Some(total), "{cache}");
    }
    entries
}

fn owned(expected: BTreeMap<(&str, u32), u64>) -> BTreeMap<(String, u32), u64> {
    expected
        .into_iter()
        .map(|((identity, version), n)| ((identity.to_owned(), version), n))
        .collect()
}

/// `MEMORY USAGE` summed over the keys of `identity`, asked of the server.
fn memory_of(redis: &Redis, identity: &str) -> u64 {
    redis
        .keys(&format!("cache:{identity}:v*"))
        .iter()
        .filter(|key| key.len() == format!("cache:{identity}:v").len() + 10 + 1 + 64)
        .map(|key| {
            let bytes = redis.command_for_key(key, &["MEMORY", "USAGE", key]).int();
            u64::try_from(bytes).unwrap()
        })
        .sum()
}

fn cache_of<'a>(list: &'a Value, identity: &str) -> &'a Value {
    list["caches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|cache| cache["identity"] == identity)
        .unwrap_or_else(|| panic!("no cache {identity} in {list}"))
}

/// `list` finds every cache with its entries per version, skips keys that are
/// not stored results, and sums `MEMORY USAGE` exactly unless told to sample.
fn list_counts_caches_versions_and_memory(topology: Topology) {
    let Some(redis) = start(topology) else { return };
    fill(&redis);
    let list = cli_json(&redis, "list", &[]);
    assert_eq!(listed(&list), owned(expected()), "{list}");
    assert_eq!(list["entries"].as_u64(), Some(16));
    assert_eq!(list["prefix"], "cache");
    for identity in ["ns", "ns2", "a::f", "a::f::g"] {
        let cache = cache_of(&list, identity);
        assert_eq!(cache["memory_sampled"], false, "{cache}");
        assert_eq!(cache["memory_keys_measured"], cache["entries"], "{cache}");
        assert_eq!(
            cache["memory_bytes"].as_u64(),
            Some(memory_of(&redis, identity)),
            "{cache}"
        );
    }

    // Two keys measured of ns's five: an estimate, and said to be one.
    let sampled = cli_json(&redis, "list", &["--memory-keys", "2"]);
    assert_eq!(listed(&sampled), owned(expected()));
    let ns = cache_of(&sampled, "ns");
    assert_eq!(
        (&ns["memory_sampled"], ns["memory_keys_measured"].as_u64()),
        (&Value::Bool(true), Some(2))
    );
    assert!(ns["memory_bytes"].as_u64().unwrap() > 0);
    let none = cli_json(&redis, "list", &["--memory-keys", "0"]);
    assert_eq!(cache_of(&none, "ns")["memory_bytes"], Value::Null);

    // The text form: one row per cache, and the totals.
    let mut args = vec!["list".to_owned()];
    args.extend(connection(&redis));
    let text = cli(&args);
    assert_eq!(text.code, 0, "{}", text.stderr);
    let rows: Vec<Vec<&str>> = text
        .stdout
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0][..3], ["IDENTITY", "ENTRIES", "MEMORY"]);
    assert_eq!(rows[3][..2], ["ns", "5"]);
    assert_eq!(rows[4][..2], ["ns2", "5"]);
    assert!(
        text.stdout
            .contains("4 caches, 16 entries under prefix `cache`"),
        "{}",
        text.stdout
    );

    // Another prefix holds no cache of these.
    let other = cli_json(&redis, "list", &["--prefix", "elsewhere"]);
    assert_eq!(other["caches"], Value::Array(Vec::new()));
}

#[test]
fn list_counts_caches_versions_and_memory_single() {
    list_counts_caches_versions_and_memory(Topology::Single);
}

#[test]
fn list_counts_caches_versions_and_memory_cluster() {
    list_counts_caches_versions_and_memory(Topology::Cluster);
}

/// `clear` removes exactly one cache's keys (of one version when asked): a
/// cache whose identity extends it keeps every key.
fn clear_removes_exactly_one_cache(topology: Topology) {
    let Some(redis) = start(topology) else { return };
    fill(&redis);
    let before = redis.keys("*");
    let removed_keys = |identity: &str, version: &str| -> Vec<String> {
        let pattern = format!("cache:{identity}:v{version}:*");
        redis
            .keys(&pattern)
            .into_iter()
            .filter(|key| key.len() == format!("cache:{identity}:v").len() + 10 + 1 + 64)
            .collect()
    };

    let ns_keys = removed_keys("ns", "*");
    assert_eq!(ns_keys.len(), 5);
    let report = cli_json(&redis, "clear", &["ns"]);
    assert_eq!(report["removed"], 5, "{report}");
    assert_eq!(report["invalidation_channel"], "cache:invalidate");
    // Its shared counters go too; ns2's stay.
    let mut left: Vec<String> = before
        .iter()
        .filter(|key| !ns_keys.contains(key) && *key != "cache:ns:counters")
        .cloned()
        .collect();
    assert_eq!(redis.keys("*"), left);

    let af_keys = removed_keys("a::f", "*");
    assert_eq!(af_keys.len(), 2);
    let mut args = vec!["clear".to_owned()];
    args.extend(connection(&redis));
    args.push("a::f".to_owned());
    let text = cli(&args);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout
            .starts_with("removed 2 keys of cache `a::f` (every version)"),
        "{}",
        text.stdout
    );
    left.retain(|key| !af_keys.contains(key) && key != "cache:a::f:counters");
    assert_eq!(redis.keys("*"), left);

    let v3_keys = removed_keys("ns2", "0000000003");
    assert_eq!(v3_keys.len(), 2);
    let report = cli_json(&redis, "clear", &["ns2", "--cache-version", "3"]);
    assert_eq!(
        (report["removed"].as_u64(), report["version"].as_u64()),
        (Some(2), Some(3))
    );
    // One version: the counters of the cache stay.
    left.retain(|key| !v3_keys.contains(key));
    assert_eq!(redis.keys("*"), left);

    let list = cli_json(&redis, "list", &[]);
    let mut rest = expected();
    rest.retain(|(identity, version), _| {
        *identity == "a::f::g" || (*identity, *version) == ("ns2", 0)
    });
    assert_eq!(listed(&list), owned(rest));

    // Nothing left to clear: zero, and still success.
    assert_eq!(cli_json(&redis, "clear", &["ns"])["removed"], 0);
}

#[test]
fn clear_removes_exactly_one_cache_single() {
    clear_removes_exactly_one_cache(Topology::Single);
}

#[test]
fn clear_removes_exactly_one_cache_cluster() {
    clear_removes_exactly_one_cache(Topology::Cluster);
}

/// `inspect` reports the TTL (within the cache's), the stored length and the
/// memory of a key, named in full or by identity and digest.
fn inspect_reports_ttl_size_and_memory(topology: Topology) {
    let Some(redis) = start(topology) else { return };
    fill(&redis);
    let key = redis
        .keys("cache:ns2:v0000000003:*")
        .into_iter()
        .next()
        .expect("a key of ns2 version 3");
    let report = cli_json(&redis, "inspect", &[&key]);
    let ttl = report["ttl_ms"].as_u64().expect("a TTL");
    assert!(ttl > 0 && ttl <= TTL_MS, "{report}");
    let strlen = redis.command_for_key(&key, &["STRLEN", &key]).int();
    let memory = redis
        .command_for_key(&key, &["MEMORY", "USAGE", &key])
        .int();
    assert_eq!(report["size_bytes"].as_i64(), Some(strlen));
    assert!(strlen > 0);
    assert_eq!(report["memory_bytes"].as_i64(), Some(memory));
    assert_eq!(
        (&report["key"], &report["identity"], &report["version"]),
        (
            &Value::from(key.clone()),
            &Value::from("ns2"),
            &Value::from(3)
        )
    );

    let digest = key.rsplit(':').next().unwrap();
    let by_parts = cli_json(
        &redis,
        "inspect",
        &[
            "--identity",
            "ns2",
            "--cache-version",
            "3",
            "--digest",
            digest,
        ],
    );
    assert_eq!(by_parts["key"], Value::from(key.clone()));

    let mut args = vec!["inspect".to_owned()];
    args.extend(connection(&redis));
    args.push(key.clone());
    let text = cli(&args);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains("cache   ns2 (version 3)"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(&format!("({strlen} bytes, STRLEN)")),
        "{}",
        text.stdout
    );

    // A key without expiry says so.
    redis.command_for_key(&key, &["PERSIST", &key]);
    assert_eq!(cli_json(&redis, "inspect", &[&key])["ttl_ms"], Value::Null);
}

#[test]
fn inspect_reports_ttl_size_and_memory_single() {
    inspect_reports_ttl_size_and_memory(Topology::Single);
}

#[test]
fn inspect_reports_ttl_size_and_memory_cluster() {
    inspect_reports_ttl_size_and_memory(Topology::Cluster);
}

/// A missing key, a key that is not a stored result, a bad URL, a server that
/// does not answer, several URLs without `--cluster`: a message on stderr,
/// nothing on stdout, a non-zero exit.
#[test]
fn errors_exit_non_zero_with_a_message() {
    let Some(redis) = start(Topology::Single) else {
        return;
    };
    fill(&redis);
    let url = redis.urls()[0].clone();
    let missing = format!("cache:ns:v0000000000:{}", "f".repeat(64));
    cli(&["inspect", "--url", &url, &missing])
        .assert_failed(3, &format!("no such key: `{missing}`"));
    cli(&[
        "inspect",
        "--url",
        &url,
        "--identity",
        "nope",
        "--digest",
        &"f".repeat(64),
    ])
    .assert_failed(3, "no such key: `cache:nope:v0000000000:");
    cli(&["inspect", "--url", &url, "cache:ns:counters"])
        .assert_failed(1, "is a Redis hash, not a stored result");
    cli(&[
        "inspect",
        "--url",
        &url,
        "--identity",
        "ns",
        "--digest",
        "xyz",
    ])
    .assert_failed(2, "expected 64 hex digits");

    for command in [vec!["list"], vec!["clear", "ns"], vec!["inspect", "k"]] {
        let mut args = command.clone();
        args.extend(["--url", "not a url"]);
        cli(&args).assert_failed(1, "invalid Redis URL");
        let down = format!("redis://127.0.0.1:{}/", free_port());
        let mut args = command.clone();
        args.extend(["--url", &down, "--timeout", "2s"]);
        cli(&args).assert_failed(1, &format!("{down}: redis:"));
        let mut args = command.clone();
        args.extend(["--url", &url, "--url", &url]);
        cli(&args).assert_failed(1, "pass --cluster");
    }
    cli(&["list"]).assert_failed(2, "--url <URL>");
    // Nothing was cleared by the failed runs.
    assert_eq!(listed(&cli_json(&redis, "list", &[])), owned(expected()));
}

/// A password in the URL is never printed: not in reports, errors, usage
/// errors or help, whether the URL comes from `--url` or `CACHE_REDIS_URL`.
#[test]
fn a_password_never_appears_in_output() {
    const PASSWORD: &str = "s3cret-Pw-4711";
    const WRONG: &str = "wr0ng-Pw-0815";
    let Some(server) = RedisServer::start_with(&["--requirepass", PASSWORD]) else {
        return;
    };
    let url = format!("redis://:{PASSWORD}@127.0.0.1:{}/", server.port());
    let wrong = format!("redis://:{WRONG}@127.0.0.1:{}/", server.port());
    DEPLOYMENT
        .set((Topology::Single, vec![url.clone()]))
        .unwrap();
    for x in 0..3 {
        ns(x);
    }
    let key = {
        let mut conn = server.connect();
        conn.call(&["AUTH", PASSWORD]).unwrap().expect_ok();
        match conn.call(&["KEYS", "cache:ns:*"]).unwrap() {
            Resp::Array(keys) => keys[0].text(),
            other => panic!("KEYS: {other:?}"),
        }
    };
    let redacted = format!("redis://:***@127.0.0.1:{}/", server.port());

    let runs: Vec<(Vec<&str>, Option<&str>, i32)> = vec![
        (vec!["list", "--url", &url], None, 0),
        (vec!["list", "--url", &url, "--json"], None, 0),
        (vec!["list"], Some(&url), 0),
        (vec!["inspect", "--url", &url, &key], None, 0),
        (vec!["inspect", "--url", &url, "missing"], None, 3),
        (vec!["list", "--url", &wrong], None, 1),
        (vec!["list", "--json"], Some(&wrong), 1),
        (vec!["clear", "--url", &wrong, "ns"], None, 1),
        (vec!["list", "--url", &url, &url], None, 2),
        (vec!["list", "--url", &url, "--url", &url], None, 1),
        (vec!["list", "--help"], Some(&url), 0),
        (vec!["clear", "--url", &url, "ns", "--json"], None, 0),
    ];
    for (args, env, code) in runs {
        let run = cli_env(&args, env);
        assert_eq!(run.code, code, "{args:?}: {} {}", run.stdout, run.stderr);
        for output in [&run.stdout, &run.stderr] {
            assert!(
                !output.contains(PASSWORD) && !output.contains(WRONG),
                "{args:?} printed a password: {output}"
            );
        }
        if args[0] == "list" && code == 0 && !args.contains(&"--help") {
            assert!(run.stdout.contains(&redacted), "{args:?}: {}", run.stdout);
        }
    }
}

/// `clear` publishes the invalidation as `cache_clear` does: a process
/// serving a copy from its local tier drops it and computes again.
#[test]
fn clear_makes_local_tiers_drop_their_copies() {
    let Some(redis) = start(Topology::Single) else {
        return;
    };
    let subscribers = || match redis.command_on(0, &["PUBSUB", "NUMSUB", "cache:invalidate"]) {
        Resp::Array(items) => items[1].int(),
        other => panic!("PUBSUB NUMSUB: {other:?}"),
    };
    // Built now, its subscriber connects in the background.
    LazyLock::force(&TIERED);
    assert!(
        wait_until(|| subscribers() > 0 && TIERED.local_tier().is_some()),
        "the local tier never subscribed"
    );
    assert_eq!(tiered(1), 10);
    assert_eq!(tiered(1), 10);
    assert_eq!(TIERED_RUNS.load(Ordering::SeqCst), 1);
    // The second call was a local hit: the copy is what `clear` must reach.
    let generation = TIERED.local_tier().unwrap().generation;

    let report = cli_json(&redis, "clear", &["tiered"]);
    assert_eq!(report["removed"], 1);
    assert!(
        wait_until(|| TIERED
            .local_tier()
            .is_some_and(|tier| tier.generation != generation)),
        "the local tier never heard of the clear"
    );
    assert_eq!(tiered(1), 10);
    assert_eq!(
        TIERED_RUNS.load(Ordering::SeqCst),
        2,
        "a stale copy was served"
    );
}

/// `cache-cli <subcommand> <connection> <rest>`, text output.
fn cli_text(redis: &Redis, subcommand: &str, rest: &[&str]) -> Run {
    let mut args = vec![subcommand.to_owned()];
    args.extend(connection(redis));
    args.extend(rest.iter().map(|s| (*s).to_owned()));
    cli(&args)
}

/// `cache-cli <subcommand> <connection> <rest> --json`, the whole run.
fn cli_json_run(redis: &Redis, subcommand: &str, rest: &[&str]) -> Run {
    let mut rest = rest.to_vec();
    rest.push("--json");
    cli_text(redis, subcommand, &rest)
}

/// One stored-result key under the prefix `node<i>` on each node `i` (a
/// cluster's masters each hold one): a hint that names them all walked every
/// master.
fn one_prefix_per_node(redis: &Redis) -> Vec<String> {
    (0..redis.node_count())
        .map(|node| {
            let prefix = format!("node{node}");
            let key = (0u32..)
                .map(|n| format!("{prefix}:x::f:v0000000000:{n:064x}"))
                .find(|key| redis.owner_of(key) == node)
                .unwrap();
            redis.command_for_key(&key, &["SET", &key, "1"]).expect_ok();
            prefix
        })
        .collect()
}

/// The user of README's walk-through: an application built with
/// `.prefix("walk")`, and `cache-cli` run without `--prefix`. `list`,
/// `keys`, `clear` (0 keys removed, still exit 0) and `inspect` (missing key,
/// exit 3) each say on stderr which prefixes hold caches; stdout and the
/// JSON stay as they were; with the right prefix, no hint.
fn a_wrong_prefix_gets_a_hint_naming_the_prefixes_with_caches(topology: Topology) {
    let Some(redis) = start(topology) else { return };
    fill(&redis);
    for x in 0..3 {
        walk_f(x);
    }
    let mut prefixes = vec!["cache".to_owned(), "other".to_owned(), "walk".to_owned()];
    prefixes.extend(one_prefix_per_node(&redis));
    prefixes.sort();
    let named = format!(
        "prefixes with caches on this server: {}",
        prefixes.join(", ")
    );
    let everywhere = format!("{named} (--prefix must be the prefix the application's backend");
    // Under the default prefix other caches are stored (by `fill`): the hint
    // says so, and names the other prefixes.
    let others: Vec<&str> = prefixes
        .iter()
        .map(String::as_str)
        .filter(|p| *p != "cache")
        .collect();
    let beside = format!(
        "prefix `cache` holds caches (`cache-cli list --prefix cache` names them); other \
         prefixes with caches on this server: {}\n",
        others.join(", ")
    );
    let assert_hint = |run: &Run, code: i32, lead: &str, rest: &str| {
        assert_eq!(run.code, code, "{}{}", run.stdout, run.stderr);
        let expected = format!("{lead}{rest}");
        assert!(
            run.stderr.contains(&expected),
            "stderr lacks {expected:?}: {}",
            run.stderr
        );
    };

    let list = cli_text(&redis, "list", &["--prefix", "nope"]);
    assert_eq!(
        list.stdout,
        format!("no cache under prefix `nope` at {}\n", redis.urls()[0])
    );
    assert_hint(
        &list,
        0,
        "hint: no cache under prefix `nope`; ",
        &everywhere,
    );
    let json = cli_json_run(&redis, "list", &["--prefix", "nope"]);
    assert_eq!(json.json()["caches"], Value::Array(Vec::new()));
    assert_hint(
        &json,
        0,
        "hint: no cache under prefix `nope`; ",
        &everywhere,
    );

    let walk_keys = redis.keys("walk:walk_user::f:v*");
    assert_eq!(walk_keys.len(), 3);
    let clear = cli_json_run(&redis, "clear", &["walk_user::f"]);
    assert_eq!(clear.json()["removed"], 0);
    assert_hint(
        &clear,
        0,
        "hint: no key of cache `walk_user::f` under prefix `cache`: nothing removed; ",
        &beside,
    );
    assert_eq!(redis.keys("walk:walk_user::f:v*"), walk_keys);

    let keys = cli_text(&redis, "keys", &["walk_user::f"]);
    assert_eq!(
        keys.stdout,
        "no key of cache `walk_user::f` (every version) under prefix `cache`\n"
    );
    assert_hint(
        &keys,
        0,
        "hint: no cache `walk_user::f` (every version) under prefix `cache`; ",
        &beside,
    );

    let missing = format!("cache:walk_user::f:v0000000000:{}", "f".repeat(64));
    let inspect = cli_text(&redis, "inspect", &[&missing]);
    inspect.assert_failed(3, &format!("no such key: `{missing}`"));
    assert_hint(&inspect, 3, "hint: ", &beside);

    // The application's key, inspected without its prefix: read, and said to
    // be another prefix's.
    let inspect = cli_text(&redis, "inspect", &[&walk_keys[0]]);
    assert_eq!(inspect.code, 0, "{}", inspect.stderr);
    assert!(
        inspect
            .stdout
            .contains("cache   none: not a stored result of prefix `cache`\n"),
        "{}",
        inspect.stdout
    );
    assert_eq!(
        inspect.stderr,
        format!(
            "hint: `{}` is not under prefix `cache`; it is a stored result of prefix `walk` \
             (--prefix walk)\n",
            walk_keys[0]
        )
    );

    // A cache missing under a prefix that holds others: that is said too.
    let other = cli_text(&redis, "clear", &["--prefix", "walk", "walk_user::g"]);
    assert_eq!(other.code, 0, "{}", other.stderr);
    assert!(
        other.stderr.contains(
            "nothing removed; prefix `walk` holds caches (`cache-cli list --prefix walk` \
             names them); other prefixes with caches on this server: cache, "
        ),
        "{}",
        other.stderr
    );

    // The right prefix: found, and no hint.
    let list = cli_json_run(&redis, "list", &["--prefix", "walk"]);
    assert_eq!(
        listed(&list.json()),
        owned(BTreeMap::from([(("walk_user::f", 0), 3)]))
    );
    assert_eq!(list.stderr, "");
    let inspect = cli_text(&redis, "inspect", &["--prefix", "walk", &walk_keys[0]]);
    assert_eq!((inspect.code, inspect.stderr.as_str()), (0, ""));
    assert!(
        inspect
            .stdout
            .contains("cache   walk_user::f (version 0)\n")
    );
    let clear = cli_json_run(&redis, "clear", &["--prefix", "walk", "walk_user::f"]);
    assert_eq!(clear.json()["removed"], 3);
    assert_eq!(clear.json()["invalidation_channel"], "walk:invalidate");
    assert_eq!(clear.stderr, "");
    assert!(redis.keys("walk:*").is_empty());
}

#[test]
fn a_wrong_prefix_gets_a_hint_naming_the_prefixes_with_caches_single() {
    a_wrong_prefix_gets_a_hint_naming_the_prefixes_with_caches(Topology::Single);
}

#[test]
fn a_wrong_prefix_gets_a_hint_naming_the_prefixes_with_caches_cluster() {
    a_wrong_prefix_gets_a_hint_naming_the_prefixes_with_caches(Topology::Cluster);
}

/// A server without any stored result: the hint says so rather than naming
/// nothing.
#[test]
fn a_hint_on_an_empty_server_says_no_prefix_holds_caches() {
    let Some(redis) = start(Topology::Single) else {
        return;
    };
    let run = cli_text(&redis, "list", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "hint: no cache under prefix `cache`; no prefix on this server holds a cache entry\n"
    );
}

/// "1 cache, 1 entry", "1 key", "1 byte": counts of one are singular in
/// every text report.
#[test]
fn text_output_counts_in_singular_and_plural() {
    let Some(redis) = start(Topology::Single) else {
        return;
    };
    walk_f(1);
    let list = cli_text(&redis, "list", &["--prefix", "walk"]);
    assert!(
        list.stdout
            .contains("\n1 cache, 1 entry under prefix `walk` at "),
        "{}",
        list.stdout
    );
    let keys = cli_text(&redis, "keys", &["--prefix", "walk", "walk_user::f"]);
    assert!(
        keys.stdout
            .ends_with("\n1 key of cache `walk_user::f` (every version) under prefix `walk`\n"),
        "{}",
        keys.stdout
    );
    let clear = cli_text(&redis, "clear", &["--prefix", "walk", "walk_user::f"]);
    assert!(
        clear
            .stdout
            .starts_with("removed 1 key of cache `walk_user::f` (every version)"),
        "{}",
        clear.stdout
    );
    redis.command_on(0, &["SET", "cache:one", "x"]).expect_ok();
    let inspect = cli_text(&redis, "inspect", &["cache:one"]);
    assert!(
        inspect.stdout.contains("size    1 B (1 byte, STRLEN)\n"),
        "{}",
        inspect.stdout
    );

    fill(&redis);
    let list = cli_text(&redis, "list", &[]);
    assert!(
        list.stdout
            .contains("\n4 caches, 16 entries under prefix `cache` at "),
        "{}",
        list.stdout
    );
    let clear = cli_text(&redis, "clear", &["ns"]);
    assert!(clear.stdout.starts_with("removed 5 keys of cache `ns`"));
}

/// `keys` lists one cache's keys exactly (`ns` not `ns2`, `a::f` not
/// `a::f::g`), of one version when asked, the first `--limit` in key order
/// with the count of all; each one can be inspected.
fn keys_lists_one_caches_keys_to_inspect(topology: Topology) {
    let Some(redis) = start(topology) else { return };
    fill(&redis);
    let stored = |identity: &str, version: &str| -> Vec<String> {
        redis
            .keys(&format!("cache:{identity}:v{version}:*"))
            .into_iter()
            .filter(|key| key.len() == format!("cache:{identity}:v").len() + 10 + 1 + 64)
            .collect()
    };
    let all = stored("ns2", "*");
    assert_eq!(all.len(), 5);
    let report = cli_json(&redis, "keys", &["ns2"]);
    assert_eq!(
        (&report["entries"], &report["identity"], &report["version"]),
        (&Value::from(5), &Value::from("ns2"), &Value::Null)
    );
    assert_eq!(report["keys"], Value::from(all.clone()));

    let v3 = cli_json(&redis, "keys", &["ns2", "--cache-version", "3"]);
    assert_eq!(v3["keys"], Value::from(stored("ns2", "0000000003")));
    assert_eq!(
        (v3["entries"].as_u64(), v3["version"].as_u64()),
        (Some(2), Some(3))
    );

    for (identity, n) in [("ns", 5), ("a::f", 2), ("a::f::g", 4)] {
        let report = cli_json(&redis, "keys", &[identity]);
        assert_eq!(
            report["keys"],
            Value::from(stored(identity, "*")),
            "{identity}"
        );
        assert_eq!(report["entries"], n);
    }

    let limited = cli_json(&redis, "keys", &["ns2", "--limit", "2"]);
    assert_eq!(limited["keys"], Value::from(all[..2].to_vec()));
    assert_eq!(limited["entries"], 5);
    let counted = cli_json(&redis, "keys", &["ns2", "--limit", "0"]);
    assert_eq!(
        (&counted["keys"], &counted["entries"]),
        (&Value::Array(Vec::new()), &Value::from(5))
    );

    let text = cli_text(&redis, "keys", &["ns2", "--limit", "2"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert_eq!(
        text.stdout,
        format!(
            "{}\n{}\n2 of 5 keys of cache `ns2` (every version) under prefix `cache` (the first \
             in key order; --limit shows more)\n",
            all[0], all[1]
        )
    );
    assert_eq!(text.stderr, "");

    // What `keys` prints, `inspect` takes.
    for key in &all {
        let report = cli_json(&redis, "inspect", &[key]);
        assert_eq!(report["identity"], "ns2", "{report}");
    }
}

#[test]
fn keys_lists_one_caches_keys_to_inspect_single() {
    keys_lists_one_caches_keys_to_inspect(Topology::Single);
}

#[test]
fn keys_lists_one_caches_keys_to_inspect_cluster() {
    keys_lists_one_caches_keys_to_inspect(Topology::Cluster);
}

/// The cache version is `--cache-version`: `--version` stays the tool's
/// own, and after a subcommand it is a usage error pointing to the new name
/// (never a silent clear of every version).
#[test]
fn the_cache_version_option_does_not_clash_with_the_tool_version() {
    let Some(redis) = start(Topology::Single) else {
        return;
    };
    fill(&redis);
    let version = cli(&["--version"]);
    assert_eq!(version.code, 0);
    assert_eq!(
        version.stdout,
        format!("cache-cli {}\n", env!("CARGO_PKG_VERSION"))
    );

    let old = cli_text(&redis, "clear", &["ns2", "--version", "3"]);
    old.assert_failed(2, "a similar argument exists: '--cache-version'");
    assert_eq!(listed(&cli_json(&redis, "list", &[])), owned(expected()));

    let report = cli_json(&redis, "clear", &["ns2", "--cache-version", "3"]);
    assert_eq!(
        (report["removed"].as_u64(), report["version"].as_u64()),
        (Some(2), Some(3))
    );
    let help = cli(&["clear", "--help"]);
    assert!(
        help.stdout.contains("--cache-version <N>"),
        "{}",
        help.stdout
    );
    assert!(!help.stdout.contains("--version"), "{}", help.stdout);
}

/// A URL that is not a Redis URL: the message names it (password as `***`)
/// and says what a Redis URL looks like.
#[test]
fn a_bad_url_says_what_was_given_and_what_is_expected() {
    let expected = "expected redis://[user[:password]@]host[:port][/db]";
    for (urls, shown) in [
        (vec!["http://x/"], "`http://x/`"),
        (vec!["http://u:s3cret@x/"], "`http://u:***@x/`"),
        (vec!["not a url"], "`not a url`"),
        (
            vec!["redis://127.0.0.1:1/", "http://second/"],
            "`http://second/`",
        ),
    ] {
        let mut args = vec!["list"];
        if urls.len() > 1 {
            args.push("--cluster");
        }
        for url in &urls {
            args.extend(["--url", url]);
        }
        let run = cli(&args);
        run.assert_failed(
            1,
            &format!("cache-cli: invalid Redis URL {shown}: {expected}"),
        );
        for form in [
            "redis+unix:///path/to/redis.sock",
            "rediss://",
            "--cluster and one --url per seed node",
        ] {
            assert!(run.stderr.contains(form), "{form}: {}", run.stderr);
        }
        assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
        assert!(
            !run.stderr.contains("InvalidClientConfig"),
            "{}",
            run.stderr
        );
    }
    // What the Redis client knows beyond "did not parse" is said.
    cli(&["list", "--url", "redis://127.0.0.1:6379/notadb"]).assert_failed(
        1,
        "invalid Redis URL `redis://127.0.0.1:6379/notadb` (Invalid database number): expected",
    );
}

/// `inspect` reads any string key (exit 0): one that is not a stored result
/// of the prefix gets "not a stored result of prefix" instead of its cache,
/// and, when outside the prefix, a hint on stderr.
#[test]
fn inspect_reads_any_string_key_and_says_when_it_is_no_stored_result() {
    let Some(redis) = start(Topology::Single) else {
        return;
    };
    fill(&redis);
    redis.command_on(0, &["SET", "foo", "bar"]).expect_ok();
    redis
        .command_on(0, &["SET", "cache:plain", "value"])
        .expect_ok();

    let foo = cli_text(&redis, "inspect", &["foo"]);
    assert_eq!(foo.code, 0, "{}", foo.stderr);
    assert!(
        foo.stdout.starts_with(
            "key     foo\ncache   none: not a stored result of prefix `cache`\nttl     none"
        ),
        "{}",
        foo.stdout
    );
    assert!(
        foo.stdout.contains("size    3 B (3 bytes, STRLEN)\n"),
        "{}",
        foo.stdout
    );
    assert_eq!(foo.stderr, "hint: `foo` is not under prefix `cache`\n");
    let json = cli_json_run(&redis, "inspect", &["foo"]);
    let report = json.json();
    assert_eq!(
        (
            &report["identity"],
            &report["version"],
            &report["size_bytes"]
        ),
        (&Value::Null, &Value::Null, &Value::from(3))
    );

    // Under the prefix, but not a stored result: said on stdout, no hint.
    let plain = cli_text(&redis, "inspect", &["cache:plain"]);
    assert_eq!((plain.code, plain.stderr.as_str()), (0, ""));
    assert!(
        plain
            .stdout
            .contains("cache   none: not a stored result of prefix `cache`\n"),
        "{}",
        plain.stdout
    );

    // A stored result: its cache, and nothing on stderr.
    let key = redis.keys("cache:ns:v*").remove(0);
    let stored = cli_text(&redis, "inspect", &[&key]);
    assert_eq!((stored.code, stored.stderr.as_str()), (0, ""));
    assert!(
        stored.stdout.contains("cache   ns (version 0)\n"),
        "{}",
        stored.stdout
    );
}
