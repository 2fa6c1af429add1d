//! The `RedisMap` suite, run once per topology: `redis_map.rs` includes it for
//! one `redis-server`, `redis_map_cluster.rs` for a 3-master Redis Cluster.
//! The including file defines `TOPOLOGY` and `builder(urls)`.
//!
//! Every test starts its own deployment (nextest runs each test in its own
//! process) and builds its own backend (prefix `t`).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cache_redis::{MapError, RedisBackend, RedisMap};
use cache_tests::multi_thread_runtime;
use cache_tests::redis_server::{Redis, Topology};
use redis::Value;
use redis::cluster_routing::Slot;

use super::{TOPOLOGY, builder};

/// This test's deployment and a backend on it (prefix `t`, a 2 s budget).
fn start() -> Option<(Redis, RedisBackend)> {
    let redis = Redis::start(TOPOLOGY)?;
    let backend = builder(&redis.urls())
        .prefix("t")
        .op_timeout(Duration::from_secs(2))
        .build()
        .expect("valid URLs");
    Some((redis, backend))
}

/// `calls` of `cmdstat_<command>` summed over every node.
fn command_calls(redis: &Redis, command: &str) -> u64 {
    let wanted = format!("cmdstat_{command}:");
    redis
        .command_on_all(&["INFO", "commandstats"])
        .iter()
        .flat_map(|info| {
            info.text()
                .lines()
                .filter_map(|line| line.strip_prefix(wanted.as_str()).map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .map(|stats| {
            let calls = stats
                .split(',')
                .find_map(|field| field.strip_prefix("calls="))
                .expect("a calls= field");
            calls.parse::<u64>().unwrap()
        })
        .sum()
}

#[test]
fn get_set_remove() {
    let Some((redis, backend)) = start() else {
        return;
    };
    let names: RedisMap<u64, String> = RedisMap::new(&backend, "names");
    assert_eq!(names.key(&7), "t:names:7");
    assert_eq!(names.get(&7).unwrap(), None);
    names.set(&7, &"seven".to_string()).unwrap();
    assert_eq!(names.get(&7).unwrap(), Some("seven".to_string()));
    assert!(redis.exists("t:names:7"), "readable key t:names:7");
    assert_eq!(redis.pttl("t:names:7"), -1, "no TTL by default");
    names.set(&7, &"SEVEN".to_string()).unwrap();
    assert_eq!(names.get(&7).unwrap(), Some("SEVEN".to_string()));
    assert!(names.remove(&7).unwrap());
    assert!(!names.remove(&7).unwrap());
    assert_eq!(names.get(&7).unwrap(), None);

    let runtime = multi_thread_runtime();
    runtime.block_on(async {
        assert_eq!(names.get_async(&8).await.unwrap(), None);
        names.set_async(&8, &"eight".to_string()).await.unwrap();
        assert_eq!(
            names.get_async(&8).await.unwrap(),
            Some("eight".to_string())
        );
        assert!(names.remove_async(&8).await.unwrap());
        assert!(!names.remove_async(&8).await.unwrap());
        assert_eq!(names.get_async(&8).await.unwrap(), None);
    });
    // Sync and async calls see each other's writes.
    runtime
        .block_on(names.set_async(&9, &"nine".to_string()))
        .unwrap();
    assert_eq!(names.get(&9).unwrap(), Some("nine".to_string()));
    assert_eq!(names.decode_errors(), 0);
}

#[test]
fn get_many_and_set_many_across_many_keys() {
    let Some((redis, backend)) = start() else {
        return;
    };
    let squares: RedisMap<u64, u64> =
        RedisMap::new(&backend, "squares").ttl(Duration::from_secs(60));
    let entries: Vec<(u64, u64)> = (0..200).map(|i| (i, i * i)).collect();
    squares.set_many(&entries).unwrap();
    assert_eq!(redis.keys("t:squares:*").len(), 200);

    let keys: Vec<u64> = (0..250).collect();
    let expected: Vec<Option<u64>> = keys.iter().map(|&i| (i < 200).then_some(i * i)).collect();
    assert_eq!(squares.get_many(&keys).unwrap(), expected);
    assert_eq!(squares.get_many(&[]).unwrap(), Vec::<Option<u64>>::new());
    squares.set_many(&[]).unwrap();

    if TOPOLOGY == Topology::Cluster {
        let slots: HashSet<Slot> = keys
            .iter()
            .map(|k| Slot::for_key(squares.key(k).as_bytes()))
            .collect();
        assert!(slots.len() > 150, "keys spread over slots: {}", slots.len());
        let owners: BTreeSet<usize> = (0..30).map(|k| redis.owner_of(&squares.key(&k))).collect();
        assert_eq!(owners.len(), redis.node_count(), "keys on every node");
    }

    let runtime = multi_thread_runtime();
    runtime.block_on(async {
        let entries: Vec<(u64, u64)> = (200..300).map(|i| (i, i * i)).collect();
        squares.set_many_async(&entries).await.unwrap();
        let keys: Vec<u64> = (150..320).collect();
        let expected: Vec<Option<u64>> = keys.iter().map(|&i| (i < 300).then_some(i * i)).collect();
        assert_eq!(squares.get_many_async(&keys).await.unwrap(), expected);
    });
    assert_eq!(redis.keys("t:squares:*").len(), 300);
    assert_eq!(squares.decode_errors(), 0);
}

/// `get_many` is one `MGET` (on a cluster, one per slot, which the cluster
/// connection sends together), never a `GET` per key; `set_many` one `SET`
/// per entry.
#[test]
fn get_many_is_one_mget() {
    let Some((redis, backend)) = start() else {
        return;
    };
    let map: RedisMap<u64, u64> = RedisMap::new(&backend, "rt");
    let entries: Vec<(u64, u64)> = (0..50).map(|i| (i, i)).collect();
    map.set_many(&entries).unwrap();
    redis.command_on_all(&["CONFIG", "RESETSTAT"]);
    let keys: Vec<u64> = (0..60).collect();
    let values = map.get_many(&keys).unwrap();
    assert_eq!(values.iter().flatten().count(), 50);
    assert_eq!(command_calls(&redis, "get"), 0);
    let mgets = command_calls(&redis, "mget");
    match TOPOLOGY {
        Topology::Single => assert_eq!(mgets, 1),
        Topology::Cluster => {
            let slots: HashSet<Slot> = keys
                .iter()
                .map(|k| Slot::for_key(map.key(k).as_bytes()))
                .collect();
            // The cluster connection splits the MGET per slot and sends the
            // parts at once.
            assert_eq!(mgets, slots.len() as u64, "one MGET per slot");
        }
    }
    // The writes: one SET per entry.
    redis.command_on_all(&["CONFIG", "RESETSTAT"]);
    map.set_many(&entries).unwrap();
    assert_eq!(command_calls(&redis, "set"), 50);
}

#[test]
fn ttl_is_set_on_every_write() {
    let Some((redis, backend)) = start() else {
        return;
    };
    let ttl = Duration::from_secs(30);
    let ttl_ms = 30_000;
    let map: RedisMap<String, u32> = RedisMap::new(&backend, "ttl").ttl(ttl);
    map.set(&"one".to_string(), &1).unwrap();
    map.set_many(&[("two".to_string(), 2), ("three".to_string(), 3)])
        .unwrap();
    let runtime = multi_thread_runtime();
    runtime
        .block_on(map.set_async(&"four".to_string(), &4))
        .unwrap();
    for key in ["one", "two", "three", "four"] {
        let pttl = redis.pttl(&format!("t:ttl:{key}"));
        assert!(pttl > 0 && pttl <= ttl_ms, "PTTL of {key}: {pttl}");
    }
    // A short TTL really expires.
    let short: RedisMap<String, u32> =
        RedisMap::new(&backend, "short").ttl(Duration::from_millis(50));
    short.set(&"k".to_string(), &1).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(short.get(&"k".to_string()).unwrap(), None);
}

#[test]
fn none_and_unit_are_stored_hits() {
    let Some((redis, backend)) = start() else {
        return;
    };
    let maybe: RedisMap<u64, Option<String>> = RedisMap::new(&backend, "maybe");
    maybe.set(&1, &None).unwrap();
    maybe.set(&2, &Some("two".to_string())).unwrap();
    assert!(redis.exists("t:maybe:1"));
    assert_eq!(maybe.get(&1).unwrap(), Some(None));
    assert_eq!(
        maybe.get_many(&[1, 2, 3]).unwrap(),
        vec![Some(None), Some(Some("two".to_string())), None]
    );
    let unit: RedisMap<u64, ()> = RedisMap::new(&backend, "unit");
    unit.set_many(&[(1, ()), (2, ())]).unwrap();
    assert_eq!(unit.get(&1).unwrap(), Some(()));
    assert_eq!(
        unit.get_many(&[1, 2, 3]).unwrap(),
        vec![Some(()), Some(()), None]
    );

    // A stored None is a hit for the default producer: it is not called.
    let calls = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&calls);
    let with_default = maybe.clone().with_default(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
        Some("made".to_string())
    });
    assert_eq!(with_default.get_or_default(&1).unwrap(), None);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(maybe.decode_errors(), 0);
}

#[test]
fn sync_default_producer_fills_only_missing_keys() {
    let Some((redis, backend)) = start() else {
        return;
    };
    let calls = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&calls);
    let lengths: RedisMap<String, usize> = RedisMap::new(&backend, "len")
        .ttl(Duration::from_secs(60))
        .with_default(move |word: &String| {
            counted.fetch_add(1, Ordering::SeqCst);
            word.len()
        });
    lengths.set(&"preset".to_string(), &100).unwrap();
    assert_eq!(lengths.get_or_default(&"preset".to_string()).unwrap(), 100);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(lengths.get_or_default(&"four".to_string()).unwrap(), 4);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(redis.exists("t:len:four"), "the produced value is stored");

    let words: Vec<String> = ["a", "preset", "bb", "four", "ccc"]
        .iter()
        .map(|w| (*w).to_string())
        .collect();
    assert_eq!(
        lengths.get_many_or_default(&words).unwrap(),
        vec![1, 100, 2, 4, 3]
    );
    assert_eq!(calls.load(Ordering::SeqCst), 4, "a, bb, ccc produced");
    for word in ["a", "bb", "ccc"] {
        let key = format!("t:len:{word}");
        assert!(redis.exists(&key), "{key} stored");
        let pttl = redis.pttl(&key);
        assert!(pttl > 0 && pttl <= 60_000, "PTTL of {key}: {pttl}");
    }
    // Everything is stored now: no more production.
    assert_eq!(
        lengths.get_many_or_default(&words).unwrap(),
        vec![1, 100, 2, 4, 3]
    );
    assert_eq!(calls.load(Ordering::SeqCst), 4);

    // The async forms run a sync producer too.
    let runtime = multi_thread_runtime();
    let got = runtime
        .block_on(lengths.get_many_or_default_async(&["dddd".to_string(), "a".to_string()]))
        .unwrap();
    assert_eq!(got, vec![4, 1]);
    assert_eq!(calls.load(Ordering::SeqCst), 5);

    // Without a producer, or with an async one from sync code: a clear error.
    let plain: RedisMap<String, usize> = RedisMap::new(&backend, "len");
    let error = plain.get_or_default(&"x".to_string()).unwrap_err();
    assert!(matches!(error, MapError::NoDefault { .. }), "{error}");
    assert!(error.to_string().contains("with_default"), "{error}");
    let asynchronous = plain.with_default_async(|word: String| async move { word.len() });
    let error = asynchronous.get_many_or_default(&words).unwrap_err();
    assert!(matches!(error, MapError::AsyncDefault { .. }), "{error}");
}

#[test]
fn async_default_producer_fills_only_missing_keys() {
    let Some((redis, backend)) = start() else {
        return;
    };
    let calls = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&calls);
    let doubled: RedisMap<u64, Option<u64>> =
        RedisMap::new(&backend, "double").with_default_async(move |n: u64| {
            let counted = Arc::clone(&counted);
            async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                counted.fetch_add(1, Ordering::SeqCst);
                // Odd numbers produce None, which is stored (and a hit) too.
                n.is_multiple_of(2).then_some(n * 2)
            }
        });
    let runtime = multi_thread_runtime();
    runtime.block_on(async {
        doubled.set_async(&10, &Some(1000)).await.unwrap();
        assert_eq!(doubled.get_or_default_async(&10).await.unwrap(), Some(1000));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert_eq!(doubled.get_or_default_async(&4).await.unwrap(), Some(8));
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let keys: Vec<u64> = (0..12).collect();
        let expected: Vec<Option<u64>> = keys
            .iter()
            .map(|&n| match n {
                10 => Some(1000),
                n if n.is_multiple_of(2) => Some(n * 2),
                _ => None,
            })
            .collect();
        assert_eq!(
            doubled.get_many_or_default_async(&keys).await.unwrap(),
            expected
        );
        assert_eq!(calls.load(Ordering::SeqCst), 11, "every key but 4 and 10");
        assert_eq!(
            doubled.get_many_or_default_async(&keys).await.unwrap(),
            expected
        );
        assert_eq!(
            calls.load(Ordering::SeqCst),
            11,
            "all stored, None included"
        );
    });
    assert_eq!(redis.keys("t:double:*").len(), 12);
    assert_eq!(doubled.get(&3).unwrap(), Some(None));
}

/// `add_get`/`add_set`/`add_remove` in the user's own pipeline, next to the
/// user's own command, on the user's own connection. On a cluster a pipeline
/// stays in one slot: the map name carries a hash tag, and the pipeline goes
/// to the node owning that slot.
#[test]
fn pipeline_helpers_mix_with_user_commands() {
    let Some((redis, backend)) = start() else {
        return;
    };
    let map: RedisMap<u64, String> =
        RedisMap::new(&backend, "{user42}").ttl(Duration::from_secs(60));
    map.set(&1, &"one".to_string()).unwrap();
    let counter = "{user42}:visits";
    let client = redis::Client::open(redis.owner_url(counter)).unwrap();
    let mut conn = client.get_connection().unwrap();

    let mut pipe = redis::pipe();
    map.add_set(&mut pipe, &2, &"two".to_string()).unwrap();
    pipe.cmd("INCR").arg(counter);
    map.add_get(&mut pipe, &1);
    map.add_get(&mut pipe, &2);
    map.add_get(&mut pipe, &3);
    map.add_remove(&mut pipe, &1);
    let replies: Vec<Value> = pipe.query(&mut conn).unwrap();
    assert_eq!(replies.len(), 6);
    assert_eq!(replies[0], Value::Okay);
    assert_eq!(replies[1], Value::Int(1));
    assert_eq!(
        map.decode(&1, &replies[2]).unwrap(),
        Some("one".to_string())
    );
    assert_eq!(
        map.decode(&2, &replies[3]).unwrap(),
        Some("two".to_string())
    );
    assert_eq!(map.decode(&3, &replies[4]).unwrap(), None);
    assert_eq!(replies[5], Value::Int(1));
    let error = map.decode(&1, &replies[1]).unwrap_err();
    assert!(matches!(error, MapError::Reply { .. }), "{error}");

    // The pipeline's writes are the map's values, with its TTL.
    assert_eq!(map.get(&1).unwrap(), None);
    assert_eq!(map.get(&2).unwrap(), Some("two".to_string()));
    let pttl = redis.pttl(&map.key(&2));
    assert!(pttl > 0 && pttl <= 60_000, "PTTL {pttl}");
    assert_eq!(map.decode_errors(), 0);
}

#[test]
fn corrupt_values_are_counted_misses() {
    let Some((redis, backend)) = start() else {
        return;
    };
    let map: RedisMap<u64, String> =
        RedisMap::new(&backend, "c").with_default(|n| format!("made {n}"));
    let key = map.key(&1);
    redis.command_for_key(&key, &["SET", key.as_str(), "not an envelope"]);
    assert_eq!(map.get(&1).unwrap(), None);
    assert_eq!(map.decode_errors(), 1);

    // A valid envelope with a flipped payload byte (checksum), and a value
    // stored by a map of another type (schema id).
    map.set(&2, &"two".to_string()).unwrap();
    let key2 = map.key(&2);
    let mut bytes = redis.get(&key2).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    redis.command_for_key(&key2, &[b"SET".as_slice(), key2.as_bytes(), &bytes]);
    let numbers: RedisMap<u64, u64> = RedisMap::new(&backend, "c");
    numbers.set(&3, &3).unwrap();
    assert_eq!(
        map.get_many(&[1, 2, 3, 4]).unwrap(),
        vec![None, None, None, None]
    );
    assert_eq!(map.decode_errors(), 4);
    let runtime = multi_thread_runtime();
    assert_eq!(runtime.block_on(map.get_async(&3)).unwrap(), None);
    assert_eq!(map.decode_errors(), 5);

    // A corrupt value is replaced by the default producer's.
    assert_eq!(map.get_or_default(&1).unwrap(), "made 1");
    assert_eq!(map.get(&1).unwrap(), Some("made 1".to_string()));
    assert_eq!(map.decode_errors(), 6);
}
