//! Benchmark harness shared by the bench targets.
