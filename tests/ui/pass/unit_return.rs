//! `-> ()` is an explicit return type: the call is cached (run once per key).
use std::sync::atomic::{AtomicU64, Ordering};

use cache_core::ttl_cache;

static RUNS: AtomicU64 = AtomicU64::new(0);

#[ttl_cache]
fn warm(x: u64) -> () {
    RUNS.fetch_add(x, Ordering::SeqCst);
}

fn main() {
    warm(1);
    warm(1);
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);
}
