//! `SCAN` with any pattern, on the server or on every master of a cluster:
//! for `keys` (one cache's keys) and for the hints (which prefixes hold
//! caches), where cache-redis's `scan_entries` (one prefix, every cache)
//! does not fit.

use cache_redis::RedisBackend;
pub use cache_redis::SCAN_COUNT;
use redis::{Cmd, FromRedisValue, Value};

use crate::args::Connection;
use crate::error::CliError;

/// How far a walk goes on each node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// To the end of the keyspace.
    Whole,
    /// At most this many `SCAN` steps (of [`SCAN_COUNT`]) per node.
    Steps(u32),
}

/// Passes every batch of keys matching `pattern` to `each`, walking the
/// keyspace with `SCAN` (never `KEYS`): on the server, or on every master of
/// a cluster (found with `CLUSTER SLOTS`, each `SCAN`ned through a
/// connection of its own). Returns whether every node was walked to its end
/// (`false` when [`Extent::Steps`] stopped a walk first). `SCAN`'s
/// guarantees hold: a key present throughout a whole walk is seen.
///
/// # Errors
///
/// [`CliError::Redis`] when a node cannot be read, [`CliError::BadUrl`] when
/// a master cannot be addressed with the first URL's scheme.
pub fn scan(
    connection: &Connection,
    backend: &RedisBackend,
    pattern: &str,
    extent: Extent,
    each: &mut dyn FnMut(&[String]),
) -> Result<bool, CliError> {
    if !connection.cluster {
        return scan_node(backend, pattern, extent, each)
            .map_err(|error| connection.redis_error(error));
    }
    let mut cmd = Cmd::new();
    cmd.arg("CLUSTER").arg("SLOTS");
    let slots: Value = backend
        .command(cmd)
        .map_err(|error| connection.redis_error(error))?;
    let masters = masters(&slots).ok_or_else(|| {
        connection.redis_error(cache_core::BackendError::Unavailable {
            backend: "redis",
            reason: "malformed CLUSTER SLOTS reply".to_owned(),
        })
    })?;
    let mut complete = true;
    for (host, port) in masters {
        let host = if host.is_empty() || host == "?" {
            // A master with no announced address: the seed's host.
            seed_host(connection).unwrap_or(host)
        } else {
            host
        };
        let node = connection.node_backend(&host, port)?;
        complete &= scan_node(&node, pattern, extent, each).map_err(|source| CliError::Redis {
            url: format!("{host}:{port}"),
            source,
        })?;
    }
    Ok(complete)
}

/// One node's walk (the whole server without a cluster).
fn scan_node(
    backend: &RedisBackend,
    pattern: &str,
    extent: Extent,
    each: &mut dyn FnMut(&[String]),
) -> Result<bool, cache_core::BackendError> {
    let mut cursor = 0u64;
    let mut steps = 0u32;
    loop {
        if let Extent::Steps(limit) = extent
            && steps >= limit
        {
            return Ok(false);
        }
        let (next, keys): (u64, Vec<String>) =
            backend.command(cache_redis::scan_step(cursor, pattern))?;
        steps += 1;
        each(&keys);
        if next == 0 {
            return Ok(true);
        }
        cursor = next;
    }
}

/// The host of the first URL.
fn seed_host(connection: &Connection) -> Option<String> {
    let url = redis::parse_redis_url(connection.urls.first()?)?;
    url.host_str().map(str::to_owned)
}

/// `(host, port)` of every master, from a `CLUSTER SLOTS` reply (each slot
/// range: start, end, then the master as `[host, port, id, ...]`).
fn masters(reply: &Value) -> Option<Vec<(String, u16)>> {
    let Value::Array(ranges) = reply else {
        return None;
    };
    let mut masters: Vec<(String, u16)> = Vec::new();
    for range in ranges {
        let Value::Array(fields) = range else {
            return None;
        };
        let Some(Value::Array(master)) = fields.get(2) else {
            return None;
        };
        let (Some(host), Some(Value::Int(port))) = (master.first(), master.get(1)) else {
            return None;
        };
        let host = String::from_redis_value_ref(host).ok()?;
        let port = u16::try_from(*port).ok()?;
        if !masters.contains(&(host.clone(), port)) {
            masters.push((host, port));
        }
    }
    Some(masters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(host: &str, port: i64) -> Value {
        Value::Array(vec![
            Value::BulkString(host.as_bytes().to_vec()),
            Value::Int(port),
            Value::BulkString(b"id".to_vec()),
        ])
    }

    #[test]
    fn every_master_once_from_cluster_slots() {
        let reply = Value::Array(vec![
            Value::Array(vec![
                Value::Int(0),
                Value::Int(5460),
                node("127.0.0.1", 7000),
                node("127.0.0.1", 7003),
            ]),
            Value::Array(vec![
                Value::Int(5461),
                Value::Int(10922),
                node("10.0.0.2", 7001),
            ]),
            Value::Array(vec![
                Value::Int(10923),
                Value::Int(16000),
                node("127.0.0.1", 7000),
            ]),
        ]);
        assert_eq!(
            masters(&reply),
            Some(vec![
                ("127.0.0.1".to_owned(), 7000),
                ("10.0.0.2".to_owned(), 7001)
            ])
        );
        assert_eq!(masters(&Value::Int(1)), None);
        let bad_port = Value::Array(vec![Value::Array(vec![
            Value::Int(0),
            Value::Int(1),
            node("h", 70_000),
        ])]);
        assert_eq!(masters(&bad_port), None);
    }
}
