//! The distributed lock on a real 3-master Redis Cluster: the whole lock suite
//! of `redis_lock_suite/`.
#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use cache_redis::{RedisBackend, RedisBackendBuilder};
use cache_tests::redis_server::Topology;

const TOPOLOGY: Topology = Topology::Cluster;

fn builder(urls: &[String]) -> RedisBackendBuilder {
    RedisBackend::cluster(urls.iter().cloned())
}

#[path = "redis_lock_suite/mod.rs"]
mod suite;
