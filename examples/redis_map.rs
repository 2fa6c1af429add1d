//! `RedisMap`: a typed map stored in Redis under a prefix, read and written in
//! batches (one `MGET`, one pipeline of `SET … PX`), with a default producer
//! for missing keys and helpers for your own `redis::Pipeline`.
//!
//! Start a server, then run the example:
//!
//! ```sh
//! redis-server --port 6379 --save "" --appendonly no &   # Debian: apt-get install redis-server
//! cargo run --example redis_map                            # REDIS_URL=redis://host:port/db to point elsewhere
//! ```
//!
//! For a cluster, `REDIS_CLUSTER=redis://127.0.0.1:7000/,redis://127.0.0.1:7001/`
//! (the pipeline part then talks to the node owning the `{demo}` slot).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cache_redis::{RedisBackend, RedisMap};
use serde::{Deserialize, Serialize};

/// What the map stores: any serde value (MessagePack in a checked envelope).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Profile {
    id: u64,
    name: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (backend, cluster) = match std::env::var("REDIS_CLUSTER") {
        Ok(nodes) => (
            RedisBackend::cluster(nodes.split(',').map(str::to_owned)),
            true,
        ),
        Err(_) => (
            RedisBackend::builder(
                std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into()),
            ),
            false,
        ),
    };
    let backend = backend
        .prefix("example")
        .op_timeout(Duration::from_millis(500))
        .build()?;

    // Keys `example:profiles:<id>`, each written with a 10-minute TTL; missing
    // ids are produced (and stored) by the default producer.
    let loads = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&loads);
    let profiles: RedisMap<u64, Profile> = RedisMap::new(&backend, "profiles")
        .ttl(Duration::from_secs(600))
        .with_default(move |id: &u64| {
            counted.fetch_add(1, Ordering::Relaxed);
            Profile {
                id: *id,
                name: format!("user {id}"),
            }
        });

    profiles.set_many(&[
        (
            1,
            Profile {
                id: 1,
                name: "ada".into(),
            },
        ),
        (
            2,
            Profile {
                id: 2,
                name: "bob".into(),
            },
        ),
    ])?;
    // One MGET for the three ids; 3 is missing.
    let found = profiles.get_many(&[1, 2, 3])?;
    println!("get_many(1, 2, 3) = {found:?}");

    // Missing ids are produced, stored in one pipeline, and returned.
    let all = profiles.get_many_or_default(&[1, 2, 3, 4])?;
    println!(
        "get_many_or_default(1..=4) = {:?} ({} produced)",
        all.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        loads.load(Ordering::Relaxed)
    );

    // `None` is a value like any other: stored, and a hit.
    let nicknames: RedisMap<u64, Option<String>> = RedisMap::new(&backend, "nicknames");
    nicknames.set(&1, &None)?;
    println!(
        "nickname of 1: {:?} (a stored None), of 2: {:?} (missing)",
        nicknames.get(&1)?,
        nicknames.get(&2)?
    );

    // Async forms, on the backend's multiplexed connection.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        profiles
            .set_async(
                &5,
                &Profile {
                    id: 5,
                    name: "eve".into(),
                },
            )
            .await?;
        let five = profiles.get_async(&5).await?;
        println!("get_async(5) = {five:?}");
        Ok::<_, cache_redis::MapError>(())
    })?;

    // Map commands in your own pipeline, next to your own commands. On a
    // cluster a pipeline must stay in one slot: a hash tag in the map name.
    let session: RedisMap<&str, String> =
        RedisMap::new(&backend, "{demo}").ttl(Duration::from_secs(60));
    let url = match std::env::var("REDIS_CLUSTER") {
        Ok(nodes) if cluster => owner_of(&nodes, "{demo}:hits")?,
        _ => std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into()),
    };
    let mut conn = redis::Client::open(url)?.get_connection()?;
    let mut pipe = redis::pipe();
    session.add_set(&mut pipe, &"theme", &"dark".to_string())?;
    pipe.cmd("INCR").arg("{demo}:hits");
    session.add_get(&mut pipe, &"theme");
    let replies: Vec<redis::Value> = pipe.query(&mut conn)?;
    let hits: i64 = redis::from_redis_value_ref(&replies[1])?;
    println!(
        "pipeline: theme = {:?}, hits = {hits}",
        session.decode(&"theme", &replies[2])?
    );
    Ok(())
}

/// The URL of the cluster node serving `key` (asked with `CLUSTER SLOTS`).
fn owner_of(nodes: &str, key: &str) -> Result<String, Box<dyn std::error::Error>> {
    let first = nodes.split(',').next().unwrap_or_default();
    let mut conn = redis::Client::open(first)?.get_connection()?;
    let slot: u16 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query(&mut conn)?;
    let ranges: Vec<(u16, u16, (String, u16))> = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query::<Vec<redis::Value>>(&mut conn)?
        .into_iter()
        .filter_map(|range| {
            let redis::Value::Array(fields) = range else {
                return None;
            };
            let start = redis::from_redis_value_ref(fields.first()?).ok()?;
            let end = redis::from_redis_value_ref(fields.get(1)?).ok()?;
            let redis::Value::Array(master) = fields.get(2)? else {
                return None;
            };
            let host = redis::from_redis_value_ref(master.first()?).ok()?;
            let port = redis::from_redis_value_ref(master.get(1)?).ok()?;
            Some((start, end, (host, port)))
        })
        .collect();
    let (_, _, (host, port)) = ranges
        .into_iter()
        .find(|(start, end, _)| (*start..=*end).contains(&slot))
        .ok_or("no node serves the slot")?;
    Ok(format!("redis://{host}:{port}/"))
}
