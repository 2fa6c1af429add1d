//! The Redis candidates: instructions the client spends per hit or miss (callgrind
//! counts this process only, not `redis-server`), ours against raw redis-rs
//! reading the same value. A round trip's latency is the server's and the
//! kernel's; what a cached function adds on top is CPU, and on a busy host (R3:
//! 64 tasks on 2 cores) that CPU is throughput.
//!
//! - `redis-hit`: a sync `#[ttl_cache]` fn with a `RedisBackend`, a stored hit;
//! - `redis-raw`: redis-rs `GET` on a blocking connection, then decoding the
//!   value's MessagePack (the anchor of R1's sync row);
//! - `redis-hit-async`, `redis-raw-async`: the same as `async fn` and on a
//!   multiplexed connection, one call at a time on a current-thread runtime;
//! - `redis-miss`: the sync fn on a key never stored (R2's miss: `GET` → nil,
//!   the body, `SET … PX` of the encoded value);
//! - `redis-raw-miss`: the same three steps with raw redis-rs on a blocking
//!   connection (`GET` → nil, build the value, MessagePack-encode it, `SET … PX`);
//! - `redis-miss-async`, `redis-raw-miss-async`: the same as `async fn` and on a
//!   multiplexed connection, on a current-thread runtime.
//!
//! Each run starts its own `redis-server` (on a free loopback port, stopped by
//! its handle when the run ends) and stores the values first. Everything a run
//! does besides its `ops` hits (connecting, storing, warming) is the same for
//! every `ops`, so it cancels out of scripts/gate's per-operation difference.

use std::future::Future;
use std::sync::{Arc, LazyLock, OnceLock};

use cache_core::ttl_cache;
use cache_redis::RedisBackend;
use cache_tests::redis_server::RedisServer;
use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, Commands};
use serde::{Deserialize, Serialize};

/// Stored keys.
const KEYS: u64 = 1_000;

/// The cached value: a small struct whose decoding allocates, as R1's does.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Item {
    id: u64,
    name: String,
}

fn item(k: u64) -> Item {
    Item {
        id: k,
        name: format!("item-{k:06}"),
    }
}

/// First key of the miss candidates (never stored).
const FRESH: u64 = 1 << 40;

/// The key of hit `i`: scattered over the stored keys.
fn key(i: u64) -> u64 {
    i.wrapping_mul(104_729) % KEYS
}

fn raw_key(k: u64) -> String {
    format!("gate:raw:{k}")
}

static URL: OnceLock<String> = OnceLock::new();

static BACKEND: LazyLock<Arc<RedisBackend>> = LazyLock::new(|| {
    let url = URL.get().expect("start() sets the URL first");
    Arc::new(
        RedisBackend::builder(url.as_str())
            .prefix("gate")
            .build()
            .expect("a valid URL"),
    )
});

#[ttl_cache(ttl = 3600, backend = BACKEND.clone())]
fn hit_fn(k: u64) -> Item {
    item(k)
}

#[ttl_cache(ttl = 3600, backend = BACKEND.clone())]
async fn hit_fn_async(k: u64) -> Item {
    item(k)
}

#[ttl_cache(ttl = 3600, backend = BACKEND.clone())]
fn miss_fn(k: u64) -> Item {
    item(k)
}

#[ttl_cache(ttl = 3600, backend = BACKEND.clone())]
async fn miss_fn_async(k: u64) -> Item {
    item(k)
}

/// The `SET … PX` of a miss: the value's MessagePack under `key`, for an hour.
fn set_px(key: &str, value: &Item) -> redis::Cmd {
    let bytes = rmp_serde::to_vec_named(value).expect("encode");
    let mut cmd = redis::cmd("SET");
    cmd.arg(key).arg(bytes).arg("PX").arg(3_600_000);
    cmd
}

/// `work` on a multiplexed connection of `client`, run to its end on a
/// current-thread runtime (the async candidates: one call at a time).
fn on_multiplexed<F, Fut>(client: &redis::Client, work: F) -> u64
where
    F: FnOnce(MultiplexedConnection) -> Fut,
    Fut: Future<Output = u64>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect");
        work(conn).await
    })
}

/// Starts the server of a Redis candidate (outside the measured function);
/// kept until the process ends.
pub(crate) fn start() -> RedisServer {
    let Some(server) = RedisServer::start() else {
        eprintln!("the Redis candidates need redis-server (apt-get install redis-server)");
        std::process::exit(2);
    };
    URL.set(server.url()).expect("one server per run");
    server
}

fn fold(item: &Item) -> u64 {
    item.id ^ item.name.len() as u64
}

/// `ops` hits of a Redis candidate, after storing every key; `None` for a
/// candidate that is not one of this module's.
pub(crate) fn run(candidate: &str, ops: u64) -> Option<u64> {
    let url = URL.get()?.as_str();
    let client = redis::Client::open(url).expect("a valid URL");
    let mut acc = 0u64;
    match candidate {
        "redis-hit" | "redis-raw" => {
            let mut conn = client.get_connection().expect("connect");
            for k in 0..KEYS {
                let bytes = rmp_serde::to_vec_named(&item(k)).expect("encode");
                let () = conn.set(raw_key(k), bytes).expect("SET");
                acc ^= fold(&hit_fn(k));
            }
            for i in 0..ops {
                let k = key(i);
                let value = if candidate == "redis-hit" {
                    hit_fn(k)
                } else {
                    let bytes: Vec<u8> = conn.get(raw_key(k)).expect("GET");
                    rmp_serde::from_slice(&bytes).expect("decode")
                };
                acc = acc.wrapping_add(fold(&value));
            }
        }
        "redis-hit-async" | "redis-raw-async" => {
            acc = on_multiplexed(&client, |mut conn| async move {
                let mut acc = 0u64;
                for k in 0..KEYS {
                    let bytes = rmp_serde::to_vec_named(&item(k)).expect("encode");
                    let () = conn.set(raw_key(k), bytes).await.expect("SET");
                    acc ^= fold(&hit_fn_async(k).await);
                }
                for i in 0..ops {
                    let k = key(i);
                    let value = if candidate == "redis-hit-async" {
                        hit_fn_async(k).await
                    } else {
                        let bytes: Vec<u8> = conn.get(raw_key(k)).await.expect("GET");
                        rmp_serde::from_slice(&bytes).expect("decode")
                    };
                    acc = acc.wrapping_add(fold(&value));
                }
                acc
            });
        }
        "redis-miss" | "redis-raw-miss" => {
            let mut conn = client.get_connection().expect("connect");
            for i in 0..ops {
                let k = FRESH + i;
                let value = if candidate == "redis-miss" {
                    miss_fn(k)
                } else {
                    let key = raw_key(k);
                    let found: Option<Vec<u8>> = conn.get(&key).expect("GET");
                    assert!(found.is_none(), "a fresh key was stored");
                    let value = item(k);
                    let () = set_px(&key, &value).query(&mut conn).expect("SET PX");
                    value
                };
                acc = acc.wrapping_add(fold(&value));
            }
        }
        "redis-miss-async" | "redis-raw-miss-async" => {
            acc = on_multiplexed(&client, |mut conn| async move {
                let mut acc = 0u64;
                for i in 0..ops {
                    let k = FRESH + i;
                    let value = if candidate == "redis-miss-async" {
                        miss_fn_async(k).await
                    } else {
                        let key = raw_key(k);
                        let found: Option<Vec<u8>> = conn.get(&key).await.expect("GET");
                        assert!(found.is_none(), "a fresh key was stored");
                        let value = item(k);
                        let () = set_px(&key, &value)
                            .query_async(&mut conn)
                            .await
                            .expect("SET PX");
                        value
                    };
                    acc = acc.wrapping_add(fold(&value));
                }
                acc
            });
        }
        _ => return None,
    }
    if candidate.starts_with("redis-miss") {
        // Every measured call of ours must have been a miss that stored its value.
        let info = if candidate.ends_with("async") {
            miss_fn_async::cache_info()
        } else {
            miss_fn::cache_info()
        };
        if info.misses != ops || info.hits != 0 || info.backend_errors != 0 {
            eprintln!("{candidate}: not every call was a stored miss: {info:?}");
            std::process::exit(3);
        }
        return Some(acc);
    }
    let info = if candidate.ends_with("async") {
        hit_fn_async::cache_info()
    } else {
        hit_fn::cache_info()
    };
    // Every measured call of ours must have been a hit read from Redis:
    // a failed or missing read would count a different path.
    if candidate.starts_with("redis-hit")
        && (info.hits != ops || info.backend_errors != 0 || info.decode_errors != 0)
    {
        eprintln!("{candidate}: not every call was a Redis hit: {info:?}");
        std::process::exit(3);
    }
    Some(acc)
}
