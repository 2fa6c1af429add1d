//! Redis and Redis Cluster backends for `cache-core`.
