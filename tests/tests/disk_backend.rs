//! `#[ttl_cache]` on `cache_disk::DiskBackend`: sync and async functions, hit
//! after miss, `cache_info`, `cache_clear` and `current_size` per namespace,
//! TTL and sweeps with a mock clock, bounds, and fail-open once closed.
//!
//! Every test has its own `static` backend (its own file), as a program would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use cache_core::clock::{Clock, MockClock};
use cache_core::ttl_cache;
use cache_disk::{DiskBackend, DiskCache};
use serde::{Deserialize, Serialize};

/// A fresh file in its own directory under the system's temporary directory
/// (removed by [`remove`]).
fn fresh_file(tag: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "cache-tests-disk-{tag}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("cache.redb")
}

/// Closes `disk` and removes its directory.
fn remove(disk: &DiskBackend) {
    disk.close().unwrap();
    std::fs::remove_dir_all(disk.path().parent().unwrap()).unwrap();
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Report {
    n: u64,
    text: String,
}

// ---- sync ------------------------------------------------------------------

static SYNC: LazyLock<DiskBackend> =
    LazyLock::new(|| DiskBackend::open(fresh_file("sync")).unwrap());

static BODY_RUNS: AtomicU32 = AtomicU32::new(0);

#[ttl_cache(ttl = 600, backend = SYNC.clone())]
fn report(n: u64) -> Report {
    BODY_RUNS.fetch_add(1, Ordering::SeqCst);
    Report {
        n,
        text: format!("report {n}"),
    }
}

#[ttl_cache(ttl = 600, backend = SYNC.clone())]
fn double(n: u64) -> u64 {
    n * 2
}

#[ttl_cache(ttl = 600, backend = SYNC.clone())]
fn fallible(n: u64) -> Result<u64, String> {
    if n == 0 { Err("zero".into()) } else { Ok(n) }
}

#[test]
fn sync_fn_hits_after_a_miss_with_size_and_clear_per_namespace() {
    assert_eq!(report(1).text, "report 1");
    assert_eq!(report(1).text, "report 1");
    assert_eq!(report(2).n, 2);
    assert_eq!(BODY_RUNS.load(Ordering::SeqCst), 2);
    let info = report::cache_info();
    assert_eq!(
        (info.hits, info.misses, info.computations, info.current_size),
        (1, 2, 2, 2)
    );
    assert_eq!((info.backend_errors, info.decode_errors), (0, 0));
    assert_eq!(report::cache_parameters().backend, "disk");
    assert_eq!(report::cache_parameters().serializer, "msgpack");
    for n in 0..5 {
        double(n);
    }
    assert_eq!(double::cache_info().current_size, 5);
    assert_eq!(report::cache_info().current_size, 2);
    // Errors are not stored.
    assert!(fallible(0).is_err());
    assert_eq!(fallible(3), Ok(3));
    assert_eq!(fallible::cache_info().current_size, 1);
    // Clearing one function leaves the others' entries.
    report::cache_clear();
    let info = report::cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (0, 0, 0));
    assert_eq!(double::cache_info().current_size, 5);
    assert_eq!(SYNC.usage().unwrap().entries, 6);
    report(1);
    assert_eq!(
        BODY_RUNS.load(Ordering::SeqCst),
        3,
        "cleared: computed again"
    );
    assert_eq!(double(4), 8);
    assert_eq!(double::cache_info().hits, 1);
    remove(&SYNC);
}

// ---- async -----------------------------------------------------------------

static ASYNC: LazyLock<DiskBackend> =
    LazyLock::new(|| DiskBackend::open(fresh_file("async")).unwrap());

static ASYNC_RUNS: AtomicU32 = AtomicU32::new(0);

#[ttl_cache(ttl = 600, backend = ASYNC.clone())]
async fn fetch(id: u64) -> Report {
    ASYNC_RUNS.fetch_add(1, Ordering::SeqCst);
    tokio::task::yield_now().await;
    Report {
        n: id,
        text: format!("fetched {id}"),
    }
}

#[ttl_cache(ttl = 600, backend = ASYNC.clone())]
async fn lengths(word: String) -> usize {
    word.len()
}

#[test]
fn async_fn_hits_after_a_miss_with_size_and_clear_per_namespace() {
    let runtime = cache_tests::multi_thread_runtime();
    runtime.block_on(async {
        assert_eq!(fetch(7).await.text, "fetched 7");
        assert_eq!(fetch(7).await.text, "fetched 7");
        assert_eq!(fetch(8).await.n, 8);
        assert_eq!(lengths("disk".into()).await, 4);
        assert_eq!(lengths("disk".into()).await, 4);
        // Tasks on both workers.
        let tasks: Vec<_> = (0..8u64).map(|i| tokio::spawn(fetch(i % 2 + 7))).collect();
        for value in cache_tests::join_within_deadline(tasks).await {
            assert!(value.n == 7 || value.n == 8);
        }
    });
    assert_eq!(ASYNC_RUNS.load(Ordering::SeqCst), 2);
    let info = fetch::cache_info();
    // 11 lookups; concurrent callers of one key share the lookup in flight
    // (single-flight) and count as misses that computed nothing.
    assert_eq!(
        (
            info.hits + info.misses,
            info.computations,
            info.current_size
        ),
        (11, 2, 2)
    );
    assert!(info.hits >= 1, "{info:?}");
    assert_eq!(lengths::cache_info().current_size, 1);
    fetch::cache_clear();
    assert_eq!(fetch::cache_info().current_size, 0);
    assert_eq!(lengths::cache_info().current_size, 1);
    remove(&ASYNC);
}

// ---- expiry with a mock clock --------------------------------------------------

static TIME: LazyLock<(Clock, Arc<MockClock>)> = LazyLock::new(|| {
    let (clock, time) = Clock::mock();
    time.advance(Duration::from_millis(1_800_000_000_000));
    (clock, time)
});

static TIMED: LazyLock<DiskBackend> = LazyLock::new(|| {
    DiskBackend::builder(fresh_file("ttl"))
        .clock(TIME.0.clone())
        .open()
        .unwrap()
});

static TIMED_RUNS: AtomicU32 = AtomicU32::new(0);

#[ttl_cache(ttl = 10, backend = TIMED.clone())]
fn ten_seconds(n: u64) -> u64 {
    TIMED_RUNS.fetch_add(1, Ordering::SeqCst);
    n + 1
}

#[ttl_cache(ttl = 3600, backend = TIMED.clone())]
fn one_hour(n: u64) -> u64 {
    n + 2
}

#[test]
fn ttl_expiry_and_sweeps_follow_the_mock_clock() {
    let time = &TIME.1;
    ten_seconds(1);
    for n in 0..50 {
        one_hour(n);
    }
    time.advance(Duration::from_millis(9_999));
    assert_eq!(ten_seconds(1), 2);
    assert_eq!(
        TIMED_RUNS.load(Ordering::SeqCst),
        1,
        "a hit just before expiry"
    );
    time.advance(Duration::from_millis(1));
    // At expiry: live size drops at once, with no read and no sweep.
    assert_eq!(ten_seconds::cache_info().current_size, 0);
    assert_eq!(ten_seconds(1), 2);
    assert_eq!(TIMED_RUNS.load(Ordering::SeqCst), 2, "a miss at expiry");
    for n in 2..12 {
        ten_seconds(n);
    }
    assert_eq!(ten_seconds::cache_info().current_size, 11);
    time.advance(Duration::from_secs(10));
    // The sweep removes the 11 expired entries, reading 12 index rows (not the
    // 50 live ones), and no entry is read.
    let before = TIMED.stats();
    assert_eq!(TIMED.sweep().unwrap(), 11);
    let after = TIMED.stats();
    assert_eq!(after.sweep_visits - before.sweep_visits, 12);
    assert_eq!(after.expired_reads, before.expired_reads);
    assert_eq!(TIMED.usage().unwrap().entries, 50);
    assert_eq!(one_hour::cache_info().current_size, 50);
    remove(&TIMED);
}

// ---- bounds ------------------------------------------------------------------

static SMALL_TIME: LazyLock<(Clock, Arc<MockClock>)> = LazyLock::new(|| {
    let (clock, time) = Clock::mock();
    time.advance(Duration::from_millis(1_800_000_000_000));
    (clock, time)
});

static SMALL: LazyLock<DiskBackend> = LazyLock::new(|| {
    DiskBackend::builder(fresh_file("bounded"))
        .clock(SMALL_TIME.0.clone())
        .max_entries(10)
        .open()
        .unwrap()
});

#[ttl_cache(ttl = 5, backend = SMALL.clone())]
fn short_lived(n: u64) -> u64 {
    n
}

#[ttl_cache(ttl = 1000, backend = SMALL.clone())]
fn long_lived(n: u64) -> u64 {
    n
}

#[test]
fn max_entries_evicts_expired_entries_first() {
    for n in 0..5 {
        short_lived(n);
        long_lived(n);
    }
    assert_eq!(SMALL.usage().unwrap().entries, 10);
    SMALL_TIME.1.advance(Duration::from_secs(5));
    // Five more long-lived entries: the five expired ones make room.
    for n in 5..10 {
        long_lived(n);
    }
    let stats = SMALL.stats();
    assert_eq!((stats.swept, stats.evicted), (5, 0));
    assert_eq!(long_lived::cache_info().current_size, 10);
    // Past the bound with nothing expired: the soonest to expire go.
    for n in 10..13 {
        long_lived(n);
    }
    assert_eq!(SMALL.stats().evicted, 3);
    assert_eq!(SMALL.usage().unwrap().entries, 10);
    let before = long_lived::cache_info().hits;
    long_lived(12);
    assert_eq!(long_lived::cache_info().hits, before + 1);
    remove(&SMALL);
}

// ---- fail-open ----------------------------------------------------------------

static CLOSING: LazyLock<DiskBackend> =
    LazyLock::new(|| DiskBackend::open(fresh_file("closed")).unwrap());

#[ttl_cache(ttl = 600, backend = CLOSING.clone())]
fn after_close(n: u64) -> u64 {
    n * 3
}

#[test]
fn a_closed_backend_is_a_counted_miss_never_an_error() {
    assert_eq!(after_close(2), 6);
    assert_eq!(after_close(2), 6);
    CLOSING.close().unwrap();
    assert_eq!(after_close(2), 6);
    assert_eq!(after_close(2), 6);
    let info = after_close::cache_info();
    assert_eq!((info.hits, info.computations), (1, 3));
    assert!(info.backend_errors >= 4, "{info:?}");
    std::fs::remove_dir_all(CLOSING.path().parent().unwrap()).unwrap();
}

// ---- the standalone cache beside the functions -------------------------------------

#[test]
fn disk_cache_shares_the_file_in_a_namespace_of_its_own() {
    let disk = DiskBackend::open(fresh_file("typed")).unwrap();
    let cache: DiskCache<str, Report> = DiskCache::new(&disk, "reports");
    let made = cache.get_or_insert_with("a", || Report {
        n: 1,
        text: "a".into(),
    });
    assert_eq!(made.n, 1);
    assert_eq!(cache.get("a").unwrap(), Some(made));
    assert_eq!(disk.len("reports").unwrap(), 1);
    let info = cache.info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
    remove(&disk);
}
