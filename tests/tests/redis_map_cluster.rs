//! `RedisMap` on a real 3-master Redis Cluster (started per test on free
//! loopback ports): the map suite of `redis_map_suite/`.
#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used)]

use cache_redis::{RedisBackend, RedisBackendBuilder};
use cache_tests::redis_server::Topology;

const TOPOLOGY: Topology = Topology::Cluster;

fn builder(urls: &[String]) -> RedisBackendBuilder {
    RedisBackend::cluster(urls.iter().cloned())
}

#[path = "redis_map_suite/mod.rs"]
mod suite;
