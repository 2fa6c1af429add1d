//! Redis scenarios R1–R3 of `shared/perf.md`: `#[ttl_cache]` on
//! `cache_redis::RedisBackend` beside raw redis-rs and the `cached` crate's Redis
//! store, on a private `redis-server` (free loopback port, no persistence) that
//! this benchmark starts and stops. Without `redis-server` it says it is skipped
//! and exits 0.
//!
//! Run: `cargo bench -p cache-bench --bench redis` (about a minute). Env
//! `BENCH_ROUNDS` (default 15) and `BENCH_OPS` (default 4000: calls per candidate
//! per round in R1; R2 makes half as many, R3 16 times as many) scale it;
//! `BENCH_QUICK=1` runs 5 rounds of 1000; `BENCH_ONLY=R1,R3` runs a subset
//! (case-insensitive); without `--bench` (`cargo test --benches`) it runs 3
//! rounds of 100. Each scenario writes its record (see `cache_bench::record`),
//! once the sanity check below has run, with its verdict as a fact.
//!
//! Every value is an `Item { id: u64, name: String }` (serde-derived, name of 11
//! bytes), so every candidate pays its decode: ours decodes its checked envelope
//! (MessagePack inside), raw redis-rs decodes MessagePack with named fields
//! (`rmp_serde`, the same encoding inside our envelope), `cached` decodes its own
//! MessagePack record. Candidates of one scenario run interleaved in one process,
//! in shuffled order over the rounds; tables give medians and ratios.
//!
//! - **R1, hit, sequential** (target: ours ≤ 1.15 × raw redis-rs). 1,000 keys are
//!   stored first; each round reads `BENCH_OPS` of them at random, one call after
//!   another. Three groups, each in its own runtime flavour with its peers:
//!   - sync: ours is a sync `#[ttl_cache(backend = …)]` fn (the backend's blocking
//!     connection); raw is `GET` on one blocking `redis::Connection` + decode;
//!     `cached` is a sync `#[concurrent_cached]` fn over `cached::RedisCache`
//!     (r2d2 pool of blocking connections; its documented explicit-store form,
//!     `ty` + `create`, built with the same URL and a TTL).
//!   - async, current-thread tokio runtime: ours is an `async fn` (the backend's
//!     multiplexed `ConnectionManager`); raw is `GET` on one
//!     `MultiplexedConnection` + decode; `cached` is an async `#[concurrent_cached]`
//!     fn over `cached::AsyncRedisCache` (its default multiplexed connection).
//!   - async, multi-thread tokio runtime with 2 workers: the same three, with
//!     their connections made on that runtime.
//! - **R2, miss** (target: ours ≤ 2.2 × one raw `GET`). Every call uses a new key
//!   (a counter), so every call is a real miss: `GET` → nil, body, `SET … PX`.
//!   Peers: the `cached` store's miss (its `GET`, body, `GET`+`PSETEX` pipeline);
//!   anchor: one raw `GET` of an absent key; reference: raw `GET` + `SET PX`.
//!   Sync and current-thread async groups as in R1. After each timed round the
//!   candidate's writes are removed (`FLUSHDB`, outside the timed part), so no
//!   round sees another's keys and memory stays flat.
//! - **R3, hits, 64 tokio tasks, one connection** (target: ours ≥ 0.8 × raw
//!   throughput). Multi-thread runtime, 2 workers; each round's `BENCH_OPS × 16`
//!   reads are split over 64 tasks that start on a barrier; the time runs from the
//!   barrier's release to the last task's end. Ours: the async `#[ttl_cache]` fn,
//!   whose backend shares one multiplexed connection; raw: each task's clone of
//!   one `MultiplexedConnection`, `GET` + decode; `cached`'s `AsyncRedisCache`
//!   (one multiplexed connection) for information.
//!
//! R1 and R3 read keys R2 flushes, so R2 runs last. A sanity section checks that
//! every "hit" of ours was a hit, every "miss" a miss, and no backend call failed
//! (a failure is a fail-open miss, which would make the numbers meaningless).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::future::Future;
use std::hint::black_box;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::time::{Duration, Instant};

use cache_bench::{
    Candidate, Measured, Plan, Record, Size, Target, TimedCandidate, Unit, env_usize, measure,
    measure_timed, report_group, selected,
};
use cache_core::ttl_cache;
use cache_redis::RedisBackend;
use cache_tests::redis_server::RedisServer;
use cached::macros::concurrent_cached;
use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, Commands};
use tokio::runtime::Runtime;

#[path = "common/item.rs"]
mod item;
#[path = "common/fan_out.rs"]
mod together;
use item::{Item, body, decode, encode, fold};

/// Keys stored before the hit scenarios.
const KEYS: u64 = 1_000;
/// Tasks of R3.
const TASKS: usize = 64;
/// TTL of every stored value (long: hits must stay hits).
const TTL_SECS: u64 = 3600;

static URL: OnceLock<String> = OnceLock::new();

fn url() -> &'static str {
    URL.get().expect("main sets the URL before the first call")
}

fn backend() -> Arc<RedisBackend> {
    Arc::new(
        RedisBackend::builder(url())
            .prefix("bench")
            .build()
            .expect("valid URL"),
    )
}

/// Sync calls, and async calls on the current-thread runtime (its multiplexed
/// connection's driver task lives on the runtime of the first async call).
static REDIS: LazyLock<Arc<RedisBackend>> = LazyLock::new(backend);
/// Async calls on the multi-thread runtime.
static REDIS_MT: LazyLock<Arc<RedisBackend>> = LazyLock::new(backend);
/// R4: with a local tier (memory in front of Redis).
static TIERED: LazyLock<RedisBackend> = LazyLock::new(|| {
    RedisBackend::builder(url())
        .prefix("bench-tier")
        .local_tier(10_000, std::time::Duration::from_secs(TTL_SECS))
        .build()
        .expect("valid URL")
});

// ---- ours -------------------------------------------------------------------

#[ttl_cache(ttl = 3600, backend = REDIS.clone())]
fn ours_hit(k: u64) -> Item {
    body(k)
}

#[ttl_cache(ttl = 3600, backend = REDIS.clone())]
async fn ours_hit_ct(k: u64) -> Item {
    body(k)
}

#[ttl_cache(ttl = 3600, backend = REDIS_MT.clone())]
async fn ours_hit_mt(k: u64) -> Item {
    body(k)
}

/// R4's reference: the same function in memory (no Redis at all).
#[ttl_cache(ttl = 3600)]
fn ours_memory_hit(k: u64) -> Item {
    body(k)
}

/// The async form of [`ours_memory_hit`].
#[ttl_cache(ttl = 3600)]
async fn ours_memory_hit_ct(k: u64) -> Item {
    body(k)
}

#[ttl_cache(ttl = 3600, backend = TIERED.clone())]
fn ours_tier_hit(k: u64) -> Item {
    body(k)
}

#[ttl_cache(ttl = 3600, backend = TIERED.clone())]
async fn ours_tier_hit_ct(k: u64) -> Item {
    body(k)
}

#[ttl_cache(ttl = 3600, backend = REDIS.clone())]
fn ours_miss(k: u64) -> Item {
    body(k)
}

#[ttl_cache(ttl = 3600, backend = REDIS.clone())]
async fn ours_miss_ct(k: u64) -> Item {
    body(k)
}

// ---- cached (its Redis stores through #[concurrent_cached] with ty + create) --

fn cached_store(prefix: &str) -> cached::RedisCache<u64, Item> {
    cached::RedisCache::builder(prefix)
        .ttl(Duration::from_secs(TTL_SECS))
        .connection_string(url())
        .build()
        .expect("cached RedisCache")
}

async fn cached_async_store(prefix: &str) -> cached::AsyncRedisCache<u64, Item> {
    cached::AsyncRedisCache::builder(prefix)
        .ttl(Duration::from_secs(TTL_SECS))
        .connection_string(url())
        .build()
        .await
        .expect("cached AsyncRedisCache")
}

#[concurrent_cached(
    ty = "cached::RedisCache<u64, Item>",
    create = r##"{ cached_store("cached_hit") }"##,
    map_error = r##"|e| format!("{e:?}")"##
)]
fn cached_hit(k: u64) -> Result<Item, String> {
    Ok(body(k))
}

#[concurrent_cached(
    ty = "cached::AsyncRedisCache<u64, Item>",
    create = r##"{ cached_async_store("cached_hit_ct").await }"##,
    map_error = r##"|e| format!("{e:?}")"##
)]
async fn cached_hit_ct(k: u64) -> Result<Item, String> {
    Ok(body(k))
}

#[concurrent_cached(
    ty = "cached::AsyncRedisCache<u64, Item>",
    create = r##"{ cached_async_store("cached_hit_mt").await }"##,
    map_error = r##"|e| format!("{e:?}")"##
)]
async fn cached_hit_mt(k: u64) -> Result<Item, String> {
    Ok(body(k))
}

#[concurrent_cached(
    ty = "cached::RedisCache<u64, Item>",
    create = r##"{ cached_store("cached_miss") }"##,
    map_error = r##"|e| format!("{e:?}")"##
)]
fn cached_miss(k: u64) -> Result<Item, String> {
    Ok(body(k))
}

#[concurrent_cached(
    ty = "cached::AsyncRedisCache<u64, Item>",
    create = r##"{ cached_async_store("cached_miss_ct").await }"##,
    map_error = r##"|e| format!("{e:?}")"##
)]
async fn cached_miss_ct(k: u64) -> Result<Item, String> {
    Ok(body(k))
}

// ---- raw redis-rs -------------------------------------------------------------

fn raw_key(k: u64) -> String {
    format!("bench:raw:item:{k}")
}

fn raw_get(conn: &mut redis::Connection, k: u64) -> Item {
    let bytes: Vec<u8> = conn.get(raw_key(k)).expect("GET");
    decode(&bytes)
}

async fn raw_get_async(conn: &mut MultiplexedConnection, k: u64) -> Item {
    let bytes: Vec<u8> = conn.get(raw_key(k)).await.expect("GET");
    decode(&bytes)
}

/// Keys no one writes: every `GET` of them returns nil.
static FRESH: AtomicU64 = AtomicU64::new(1 << 40);

fn fresh() -> u64 {
    FRESH.fetch_add(1, Ordering::Relaxed)
}

// ---- harness glue ---------------------------------------------------------------

/// A current-thread loop over `keys` inside `rt`.
fn seq<'a, F, Fut>(rt: &'a Runtime, op: F) -> impl Fn(&[u64]) -> u64 + Sync + 'a
where
    F: Fn(u64) -> Fut + Sync + 'a,
    Fut: Future<Output = u64>,
{
    move |keys| {
        rt.block_on(async {
            let mut acc = 0u64;
            for &k in keys {
                acc = acc.wrapping_add(op(k).await);
            }
            acc
        })
    }
}

/// Splits `keys` over [`TASKS`] tasks on `rt`, made by `task` from their share;
/// they start on a barrier, and the time runs from its release to the last end.
fn fan_out<F, Fut>(rt: &Runtime, keys: &[u64], task: F) -> Duration
where
    F: Fn(Vec<u64>) -> Fut,
    Fut: Future<Output = u64> + Send + 'static,
{
    let n = keys.len();
    let works = (0..TASKS)
        .map(|i| task(keys[i * n / TASKS..(i + 1) * n / TASKS].to_vec()))
        .collect();
    let (elapsed, outputs) = together::fan_out(rt, works);
    black_box(outputs);
    elapsed
}

struct World {
    ct: Runtime,
    mt: Runtime,
    raw_sync: Mutex<redis::Connection>,
    raw_ct: MultiplexedConnection,
    raw_mt: MultiplexedConnection,
    /// RESP3 with redis-rs's client-side cache (R4's peer), on `ct`.
    csc_ct: MultiplexedConnection,
    /// Clears the database after a miss round (outside the timed part).
    admin: Mutex<redis::Connection>,
}

impl World {
    fn new() -> Self {
        let client = redis::Client::open(url()).expect("client");
        let ct = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let raw_ct = ct
            .block_on(client.get_multiplexed_async_connection())
            .expect("multiplexed connection");
        let raw_mt = mt
            .block_on(client.get_multiplexed_async_connection())
            .expect("multiplexed connection");
        let csc_client = redis::Client::open(format!("{}?protocol=resp3", url())).expect("client");
        let csc_config = redis::AsyncConnectionConfig::new()
            .set_cache_config(redis::caching::CacheConfig::default());
        let csc_ct = ct
            .block_on(csc_client.get_multiplexed_async_connection_with_config(&csc_config))
            .expect("client-side caching connection");
        World {
            csc_ct,
            raw_sync: Mutex::new(client.get_connection().expect("connection")),
            admin: Mutex::new(client.get_connection().expect("connection")),
            raw_ct,
            raw_mt,
            ct,
            mt,
        }
    }

    /// Stores every hit key in every candidate's namespace.
    fn warm(&self) {
        let mut conn = self.raw_sync.lock().unwrap();
        for k in 0..KEYS {
            let _: () = conn
                .pset_ex(raw_key(k), encode(&body(k)), TTL_SECS * 1000)
                .expect("SET");
            ours_hit(k);
            cached_hit(k).unwrap();
        }
        drop(conn);
        // The local tier keeps copies once its subscriber is in place.
        let subscribed = std::time::Instant::now();
        while subscribed.elapsed() < std::time::Duration::from_secs(10) {
            let _ = TIERED.clone();
            let reply: Vec<redis::Value> = redis::cmd("PUBSUB")
                .arg("NUMSUB")
                .arg("bench-tier:invalidate")
                .query(&mut *self.admin.lock().unwrap())
                .expect("PUBSUB");
            if matches!(reply.get(1), Some(redis::Value::Int(n)) if *n > 0) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        for k in 0..KEYS {
            ours_tier_hit(k);
            ours_memory_hit(k);
        }
        self.ct.block_on(async {
            let mut csc = self.csc_ct.clone();
            for k in 0..KEYS {
                ours_tier_hit_ct(k).await;
                ours_memory_hit_ct(k).await;
                let _: Vec<u8> = redis::cmd("GET")
                    .arg(raw_key(k))
                    .query_async(&mut csc)
                    .await
                    .expect("GET");
            }
        });
        self.ct.block_on(async {
            for k in 0..KEYS {
                ours_hit_ct(k).await;
                cached_hit_ct(k).await.unwrap();
            }
        });
        self.mt.block_on(async {
            for k in 0..KEYS {
                ours_hit_mt(k).await;
                cached_hit_mt(k).await.unwrap();
            }
        });
    }

    fn flush(&self) {
        let mut conn = self.admin.lock().unwrap();
        redis::cmd("FLUSHDB")
            .query::<()>(&mut *conn)
            .expect("FLUSHDB");
    }
}

// ---- scenarios -------------------------------------------------------------------

const R1_SYNC: [&str; 3] = [
    "raw redis-rs GET+decode (sync)",
    "ours #[ttl_cache] fn (sync)",
    "cached RedisCache (sync)",
];
const R1_CT: [&str; 3] = [
    "raw multiplexed GET+decode (ct)",
    "ours #[ttl_cache] async fn (ct)",
    "cached AsyncRedisCache (ct)",
];
const R1_MT: [&str; 3] = [
    "raw multiplexed GET+decode (mt)",
    "ours #[ttl_cache] async fn (mt)",
    "cached AsyncRedisCache (mt)",
];

fn r1(w: &World, rounds: usize, ops: usize) -> (String, Record) {
    let plan = Plan {
        threads: 1,
        rounds,
        ops,
        keys: KEYS,
    };
    let (ct, mt) = (&w.ct, &w.mt);
    let c = vec![
        Candidate::per_key(R1_SYNC[0], |k| {
            fold(&raw_get(&mut w.raw_sync.lock().unwrap(), k))
        }),
        Candidate::per_key(R1_SYNC[1], |k| fold(&ours_hit(k))),
        Candidate::per_key(R1_SYNC[2], |k| fold(&cached_hit(k).unwrap())),
        Candidate::whole(R1_CT[0], |keys| {
            ct.block_on(async {
                let mut conn = w.raw_ct.clone();
                let mut acc = 0u64;
                for &k in keys {
                    acc = acc.wrapping_add(fold(&raw_get_async(&mut conn, k).await));
                }
                acc
            })
        }),
        Candidate::whole(
            R1_CT[1],
            seq(ct, |k| async move { fold(&ours_hit_ct(k).await) }),
        ),
        Candidate::whole(
            R1_CT[2],
            seq(
                ct,
                |k| async move { fold(&cached_hit_ct(k).await.unwrap()) },
            ),
        ),
        Candidate::whole(R1_MT[0], |keys| {
            mt.block_on(async {
                let mut conn = w.raw_mt.clone();
                let mut acc = 0u64;
                for &k in keys {
                    acc = acc.wrapping_add(fold(&raw_get_async(&mut conn, k).await));
                }
                acc
            })
        }),
        Candidate::whole(
            R1_MT[1],
            seq(mt, |k| async move { fold(&ours_hit_mt(k).await) }),
        ),
        Candidate::whole(
            R1_MT[2],
            seq(
                mt,
                |k| async move { fold(&cached_hit_mt(k).await.unwrap()) },
            ),
        ),
    ];
    let m = measure(&plan, &c);
    let title = "Redis hit, sequential, same runtime flavour";
    let mut out = format!(
        "\n### R1: {title}\n\n\
         {rounds} rounds × {ops} hits per candidate over {KEYS} stored keys; medians; \
         all 9 candidates interleaved\n"
    );
    let mut r = Record::new("R1", title, "redis", Unit::NsPerOp, &plan);
    for (heading, names) in [
        ("#### sync (blocking connections)", R1_SYNC),
        ("#### async, current-thread tokio runtime", R1_CT),
        ("#### async, multi-thread tokio runtime (2 workers)", R1_MT),
    ] {
        out.push_str(&group(&m, heading, &names, 1.15, &mut r));
    }
    (out, r)
}

const R4: [&str; 7] = [
    "redis-rs client-side cache hit + decode (ct)",
    "ours local tier, async fn (ct)",
    "ours local tier, sync fn",
    "ours Redis hit, no tier, async fn (ct)",
    "ours in memory (no Redis), sync fn",
    "clone + drop of the value alone (floor of an owned result)",
    "ours in memory (no Redis), async fn (ct)",
];

fn r4(w: &World, rounds: usize, ops: usize) -> (String, Record) {
    let plan = Plan {
        threads: 1,
        rounds,
        ops,
        keys: KEYS,
    };
    let ct = &w.ct;
    let items: Vec<Item> = (0..KEYS).map(body).collect();
    let c = vec![
        Candidate::whole(R4[0], |keys| {
            ct.block_on(async {
                let mut conn = w.csc_ct.clone();
                let mut acc = 0u64;
                for &k in keys {
                    let bytes: Vec<u8> = redis::cmd("GET")
                        .arg(raw_key(k))
                        .query_async(&mut conn)
                        .await
                        .expect("GET");
                    acc = acc.wrapping_add(fold(&decode(&bytes)));
                }
                acc
            })
        }),
        Candidate::whole(
            R4[1],
            seq(ct, |k| async move { fold(&ours_tier_hit_ct(k).await) }),
        ),
        Candidate::per_key(R4[2], |k| fold(&ours_tier_hit(k))),
        Candidate::whole(
            R4[3],
            seq(ct, |k| async move { fold(&ours_hit_ct(k).await) }),
        ),
        Candidate::per_key(R4[4], |k| fold(&ours_memory_hit(k))),
        // What returning an owned `Item` costs whatever the cache: every hit
        // above (and the peer's decode) pays at least this.
        Candidate::per_key(R4[5], |k| fold(&black_box(&items[k as usize]).clone())),
        // The async tier's reference: the same async fn in memory.
        Candidate::whole(
            R4[6],
            seq(ct, |k| async move { fold(&ours_memory_hit_ct(k).await) }),
        ),
    ];
    let m = measure(&plan, &c);
    let stats = w.csc_ct.get_cache_statistics();
    let title = "local tier hit vs redis-rs client-side cache hit";
    let mut out = format!(
        "\n### R4: {title}\n\n\
         {rounds} rounds × {ops} hits per candidate over {KEYS} keys; medians; \
         redis-rs cache statistics after the run: {stats:?}\n"
    );
    let targets = [
        Target::at_most(&m, R4[1], R4[0], 0.1),
        Target::at_most(&m, R4[2], R4[0], 0.1),
    ];
    out.push_str(&report_group(
        "#### current-thread tokio runtime (the sync row: no runtime)",
        &m,
        &R4,
        &[R4[0], R4[4]],
        Unit::NsPerOp,
        &targets,
    ));
    let mut r = Record::new("R4", title, "redis", Unit::NsPerOp, &plan);
    r.group(None, &m, &R4, &[R4[0], R4[4]]);
    r.targets(&targets);
    r.fact(
        "redis-rs client-side cache statistics",
        format!("{stats:?}"),
    );
    (out, r)
}

/// A group of three (raw anchor, ours, cached): ratios to raw and to `cached`,
/// and the target ours / raw ≤ `limit`; added to the record `r` too.
fn group(m: &Measured, heading: &str, names: &[&str; 3], limit: f64, r: &mut Record) -> String {
    let targets = [Target::at_most(m, names[1], names[0], limit)];
    r.group(
        Some(heading.trim_start_matches('#').trim()),
        m,
        names,
        &[names[0], names[2]],
    );
    r.targets(&targets);
    report_group(
        heading,
        m,
        names,
        &[names[0], names[2]],
        Unit::NsPerOp,
        &targets,
    )
}

const R2_SYNC: [&str; 4] = [
    "raw GET of an absent key (sync)",
    "ours #[ttl_cache] fn miss (sync)",
    "cached RedisCache miss (sync)",
    "raw GET + SET PX (sync)",
];
const R2_CT: [&str; 4] = [
    "raw GET of an absent key (ct)",
    "ours #[ttl_cache] async fn miss (ct)",
    "cached AsyncRedisCache miss (ct)",
    "raw GET + SET PX (ct)",
];

/// A miss candidate: `op` on fresh keys, timed; then the database is cleared.
fn miss<'a>(
    w: &'a World,
    name: &'static str,
    op: impl Fn(&[u64]) -> u64 + Sync + 'a,
) -> TimedCandidate<'a> {
    TimedCandidate::new(name, move |keys| {
        let start = Instant::now();
        black_box(op(keys));
        let elapsed = start.elapsed();
        w.flush();
        elapsed
    })
}

fn r2(w: &World, rounds: usize, ops: usize) -> (String, Record) {
    let plan = Plan {
        threads: 1,
        rounds,
        ops,
        keys: KEYS,
    };
    let ct = &w.ct;
    let c = vec![
        miss(w, R2_SYNC[0], |keys| {
            let mut conn = w.raw_sync.lock().unwrap();
            let mut acc = 0u64;
            for _ in keys {
                let v: Option<Vec<u8>> = conn.get(raw_key(fresh())).expect("GET");
                acc = acc.wrapping_add(v.map_or(0, |b| fold(&decode(&b))));
            }
            acc
        }),
        miss(w, R2_SYNC[1], |keys| {
            keys.iter()
                .fold(0u64, |acc, _| acc.wrapping_add(fold(&ours_miss(fresh()))))
        }),
        miss(w, R2_SYNC[2], |keys| {
            keys.iter().fold(0u64, |acc, _| {
                acc.wrapping_add(fold(&cached_miss(fresh()).unwrap()))
            })
        }),
        miss(w, R2_SYNC[3], |keys| {
            let mut conn = w.raw_sync.lock().unwrap();
            let mut acc = 0u64;
            for _ in keys {
                let k = fresh();
                let key = raw_key(k);
                let v: Option<Vec<u8>> = conn.get(&key).expect("GET");
                let item = v.map_or_else(|| body(k), |b| decode(&b));
                let _: () = conn
                    .pset_ex(&key, encode(&item), TTL_SECS * 1000)
                    .expect("SET");
                acc = acc.wrapping_add(fold(&item));
            }
            acc
        }),
        miss(w, R2_CT[0], |keys| {
            ct.block_on(async {
                let mut conn = w.raw_ct.clone();
                let mut acc = 0u64;
                for _ in keys {
                    let v: Option<Vec<u8>> = conn.get(raw_key(fresh())).await.expect("GET");
                    acc = acc.wrapping_add(v.map_or(0, |b| fold(&decode(&b))));
                }
                acc
            })
        }),
        miss(
            w,
            R2_CT[1],
            seq(ct, |_| async { fold(&ours_miss_ct(fresh()).await) }),
        ),
        miss(
            w,
            R2_CT[2],
            seq(ct, |_| async {
                fold(&cached_miss_ct(fresh()).await.unwrap())
            }),
        ),
        miss(w, R2_CT[3], |keys| {
            ct.block_on(async {
                let mut conn = w.raw_ct.clone();
                let mut acc = 0u64;
                for _ in keys {
                    let k = fresh();
                    let key = raw_key(k);
                    let v: Option<Vec<u8>> = conn.get(&key).await.expect("GET");
                    let item = v.map_or_else(|| body(k), |b| decode(&b));
                    let _: () = conn
                        .pset_ex(&key, encode(&item), TTL_SECS * 1000)
                        .await
                        .expect("SET");
                    acc = acc.wrapping_add(fold(&item));
                }
                acc
            })
        }),
    ];
    let m = measure_timed(&plan, &c);
    let title = "Redis miss (GET nil → body → SET PX)";
    let mut out = format!(
        "\n### R2: {title}\n\n\
         {rounds} rounds × {ops} calls per candidate, a new key for every call; medians; \
         all 8 candidates interleaved\n"
    );
    let mut r = Record::new("R2", title, "redis", Unit::NsPerOp, &plan)
        .op("one call on a new key: GET → nil, body, SET PX");
    for (heading, names) in [
        ("#### sync (blocking connections)", R2_SYNC),
        ("#### async, current-thread tokio runtime", R2_CT),
    ] {
        let targets = [Target::at_most(&m, names[1], names[0], 2.2)];
        let refs = [names[0], names[2], names[3]];
        r.group(
            Some(heading.trim_start_matches('#').trim()),
            &m,
            &names,
            &refs,
        );
        r.targets(&targets);
        out.push_str(&report_group(
            heading,
            &m,
            &names,
            &refs,
            Unit::NsPerOp,
            &targets,
        ));
    }
    (out, r)
}

const R3: [&str; 3] = [
    "raw multiplexed GET+decode, 64 tasks",
    "ours #[ttl_cache] async fn, 64 tasks",
    "cached AsyncRedisCache, 64 tasks",
];

fn r3(w: &World, rounds: usize, ops: usize) -> (String, Record) {
    let plan = Plan {
        threads: 1,
        rounds,
        ops,
        keys: KEYS,
    };
    let mt = &w.mt;
    let c = vec![
        TimedCandidate::new(R3[0], |keys| {
            fan_out(mt, keys, |part| {
                let mut conn = w.raw_mt.clone();
                async move {
                    let mut acc = 0u64;
                    for k in part {
                        acc = acc.wrapping_add(fold(&raw_get_async(&mut conn, k).await));
                    }
                    acc
                }
            })
        }),
        TimedCandidate::new(R3[1], |keys| {
            fan_out(mt, keys, |part| async move {
                let mut acc = 0u64;
                for k in part {
                    acc = acc.wrapping_add(fold(&ours_hit_mt(k).await));
                }
                acc
            })
        }),
        TimedCandidate::new(R3[2], |keys| {
            fan_out(mt, keys, |part| async move {
                let mut acc = 0u64;
                for k in part {
                    acc = acc.wrapping_add(fold(&cached_hit_mt(k).await.unwrap()));
                }
                acc
            })
        }),
    ];
    let m = measure_timed(&plan, &c);
    let title = format!("Redis hits, {TASKS} tokio tasks, one connection");
    let mut out = format!(
        "\n### R3: {title}\n\n\
         multi-thread runtime (2 workers); {rounds} rounds × {ops} hits per candidate \
         over {KEYS} stored keys, split over {TASKS} tasks started on a barrier; \
         medians of aggregate throughput\n"
    );
    let targets = [Target::throughput_at_least(&m, R3[1], R3[0], 0.8)];
    out.push_str(&report_group(
        "#### async, multi-thread tokio runtime (2 workers)",
        &m,
        &R3,
        &[R3[0], R3[2]],
        Unit::OpsPerSec,
        &targets,
    ));
    let mut r = Record::new(
        "R3",
        &title,
        "redis",
        Unit::OpsPerSec,
        &Plan {
            threads: TASKS,
            ..plan
        },
    );
    r.group(None, &m, &R3, &[R3[0], R3[2]]);
    r.targets(&targets);
    (out, r)
}

/// Checks ours: no body ran in the hit scenarios (every value came from Redis),
/// every R2 call ran its body, and no backend call failed or value failed to
/// decode (either would be a fail-open miss, which makes the numbers
/// meaningless). `before` is the hit functions' `(misses, computations)` after
/// warming. Misses that grow without computations in a hit scenario are calls
/// that waited for a concurrent call's read of the same key (single-flight
/// covers the read too), which R3's 64 tasks on 1,000 keys do now and then.
fn sanity(before: [(u64, u64); 3], all_ran: bool) -> (String, bool) {
    let hit = [
        ("ours_hit", ours_hit::cache_info()),
        ("ours_hit_ct", ours_hit_ct::cache_info()),
        ("ours_hit_mt", ours_hit_mt::cache_info()),
    ];
    let miss = [
        ("ours_miss", ours_miss::cache_info()),
        ("ours_miss_ct", ours_miss_ct::cache_info()),
    ];
    let mut ok = true;
    let mut out = String::from(
        "\n### Sanity (ours)\n\n\
         | function | hits | misses | of which waited on a concurrent read | computations | backend errors | decode errors |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for (i, (name, info)) in hit.iter().enumerate() {
        let (misses, computations) = before[i];
        ok &= info.computations == computations && (info.hits > 0 || !all_ran);
        ok &= info.backend_errors == 0 && info.decode_errors == 0;
        out.push_str(&format!(
            "| {name} | {} | {} (warming: {misses}) | {} | {} (warming: {computations}) | {} | {} |\n",
            info.hits,
            info.misses,
            info.misses - misses,
            info.computations,
            info.backend_errors,
            info.decode_errors
        ));
    }
    for (name, info) in &miss {
        ok &= info.hits == 0 && info.misses == info.computations && (info.misses > 0 || !all_ran);
        ok &= info.backend_errors == 0 && info.decode_errors == 0;
        out.push_str(&format!(
            "| {name} | {} | {} | 0 | {} | {} | {} |\n",
            info.hits, info.misses, info.computations, info.backend_errors, info.decode_errors
        ));
    }
    out.push_str(if ok {
        "\nhit scenarios ran no body, every R2 call was a miss, no backend or decode errors\n"
    } else {
        "\nSANITY FAILED: a body ran in a hit scenario, an R2 call hit, or a backend call failed; \
         the numbers above are not valid\n"
    });
    (out, ok)
}

fn redis_server_installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn main() {
    if !redis_server_installed() {
        println!("# Redis benchmarks: SKIPPED (redis-server is not installed)");
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: run tiny.
    let size = Size::from_env();
    let rounds = env_usize("BENCH_ROUNDS", size.pick(15, 5, 3));
    let ops = env_usize("BENCH_OPS", size.pick(4000, 1000, 100));
    let Some(server) = RedisServer::start() else {
        println!("# Redis benchmarks: SKIPPED (redis-server could not be started)");
        return;
    };
    URL.set(server.url()).expect("URL set once");
    let w = World::new();
    w.flush();
    w.warm();
    let before = [
        ours_hit::cache_info(),
        ours_hit_ct::cache_info(),
        ours_hit_mt::cache_info(),
    ]
    .map(|i| (i.misses, i.computations));
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "# Redis benchmarks ({cores} cores; private redis-server on {}, no persistence)",
        server.url()
    );
    // BENCH_ONLY=r1,r3 runs a subset (one scenario per process for its peak RSS).
    let all = ["R1", "R2", "R3", "R4"].iter().all(|id| selected(id));
    let mut records = Vec::new();
    let mut run = |(text, record): (String, Record)| {
        print!("{text}");
        records.push(record);
    };
    if selected("R1") {
        run(r1(&w, rounds, ops));
    }
    if selected("R3") {
        run(r3(&w, rounds, ops * 16));
    }
    if selected("R4") {
        // Ten times the operations: a local hit takes well under a
        // microsecond, and 4,000 of them (about half a millisecond) measured
        // mostly the caches the Redis candidates had just evicted.
        run(r4(&w, rounds, ops * 10));
    }
    if selected("R2") {
        run(r2(&w, rounds, (ops / 2).max(1)));
    }
    let (report, ok) = sanity(before, all);
    print!("{report}");
    for mut r in records {
        r.fact(
            "sanity check (ours: hits were hits, misses misses, no backend error)",
            ok,
        );
        r.write().expect("write the record");
    }
    drop(w);
    server.kill();
    assert!(ok, "sanity check failed");
}
