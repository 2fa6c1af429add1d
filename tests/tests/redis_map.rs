//! `RedisMap` on a real `redis-server` (started per test on a free loopback
//! port): the map suite of `redis_map_suite/`.
#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used)]

use cache_redis::{RedisBackend, RedisBackendBuilder};
use cache_tests::redis_server::Topology;

const TOPOLOGY: Topology = Topology::Single;

fn builder(urls: &[String]) -> RedisBackendBuilder {
    assert_eq!(urls.len(), 1, "a single server has one URL: {urls:?}");
    RedisBackend::builder(urls[0].clone())
}

#[path = "redis_map_suite/mod.rs"]
mod suite;
