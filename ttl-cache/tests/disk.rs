//! `ttl_cache::disk` (feature `disk`): a file-backed `#[ttl_cache]` function,
//! written with `ttl_cache::` paths only.
#![cfg(feature = "disk")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_tests::redis_server::TempDir;
use ttl_cache::disk::DiskBackend;
use ttl_cache::ttl_cache;

/// The backend of this test's file, opened by the test before first use.
static DISK: OnceLock<DiskBackend> = OnceLock::new();

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(ttl = 3600, backend = DISK.get().expect("the test opens the file first").clone())]
fn squares(n: u64) -> Vec<u64> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    (0..n).map(|i| i * i).collect()
}

#[test]
fn disk_backed_fn_stores_in_the_file() {
    let dir = TempDir::new("facade-disk");
    let disk = DISK.get_or_init(|| {
        DiskBackend::builder(dir.path().join("app.cache"))
            .open()
            .unwrap()
    });
    assert_eq!(squares(4), vec![0, 1, 4, 9]);
    assert_eq!(squares(4), vec![0, 1, 4, 9]);
    assert_eq!(RUNS.load(Ordering::SeqCst), 1, "the second call is a hit");
    assert_eq!(squares::cache_parameters().backend, "disk");
    assert_eq!(
        disk.usage().unwrap().entries,
        1,
        "the result is in the file"
    );

    squares::cache_clear();
    assert_eq!(disk.usage().unwrap().entries, 0);
    assert_eq!(squares(4), vec![0, 1, 4, 9]);
    assert_eq!(RUNS.load(Ordering::SeqCst), 2);
    disk.close().unwrap();
}
