//! `skip(a)` leaves an argument out of the key; `key = expr` replaces the key.
use cache_core::ttl_cache;

struct Logger;

#[ttl_cache(skip(log))]
fn skipped(log: &Logger, a: u64) -> u64 {
    let _ = log;
    a
}

#[ttl_cache(key = a + 1)]
fn custom(a: u64, b: u64) -> u64 {
    a + b
}

fn main() {
    assert_eq!(skipped(&Logger, 1), 1);
    assert_eq!(skipped(&Logger, 1), 1);
    assert_eq!(skipped::cache_info().hits, 1);

    assert_eq!(custom(1, 2), 3);
    // Same key (`a + 1`): the stored result comes back although `b` differs.
    assert_eq!(custom(1, 100), 3);
    assert_eq!(custom::cache_info().hits, 1);
}
