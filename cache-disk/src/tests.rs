//! Unit tests: one file per test in its own temporary directory; time from a
//! mock clock.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cache_core::clock::{Clock, MockClock};
use cache_core::{BackendError, Digest, StorageBackend, StorageKey};
use redb::{ReadableDatabase, ReadableTable};

use super::*;
use crate::format::{DATA, META, META_DIRTY, META_FORMAT, META_HASH_SCHEME};

/// A directory removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "cache-disk-unit-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn file(&self) -> PathBuf {
        self.0.join("cache.redb")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A mock clock set to a realistic wall-clock time (ms since the epoch).
fn mock_clock() -> (Clock, Arc<MockClock>) {
    let (clock, time) = Clock::mock();
    time.advance(Duration::from_millis(1_800_000_000_000));
    (clock, time)
}

fn key(namespace: &str, n: u8) -> StorageKey<'_> {
    StorageKey {
        namespace,
        version: 1,
        digest: Digest([n; 32]),
    }
}

fn open_mock(path: &Path) -> (DiskBackend, Arc<MockClock>) {
    let (clock, time) = mock_clock();
    let backend = DiskBackend::builder(path).clock(clock).open().unwrap();
    (backend, time)
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn set_get_remove_and_misses() {
    let dir = Dir::new("basic");
    let (disk, _) = open_mock(&dir.file());
    assert!(disk.open_report().created);
    assert_eq!(disk.get(&key("a", 1)).unwrap(), None);
    disk.set(&key("a", 1), b"one", Some(MINUTE)).unwrap();
    disk.set(&key("a", 2), b"two", None).unwrap();
    assert_eq!(
        disk.get(&key("a", 1)).unwrap().as_deref(),
        Some(&b"one"[..])
    );
    assert_eq!(
        disk.get(&key("a", 2)).unwrap().as_deref(),
        Some(&b"two"[..])
    );
    // Same digest, other namespace or version: other entries.
    assert_eq!(disk.get(&key("b", 1)).unwrap(), None);
    let mut v2 = key("a", 1);
    v2.version = 2;
    assert_eq!(disk.get(&v2).unwrap(), None);
    // Overwrite.
    disk.set(&key("a", 1), b"uno", Some(MINUTE)).unwrap();
    assert_eq!(
        disk.get(&key("a", 1)).unwrap().as_deref(),
        Some(&b"uno"[..])
    );
    assert_eq!(disk.len("a").unwrap(), 2);
    assert_eq!(
        disk.remove(&key("a", 1)).unwrap().as_deref(),
        Some(&b"uno"[..])
    );
    assert_eq!(disk.remove(&key("a", 1)).unwrap(), None);
    assert_eq!(disk.len("a").unwrap(), 1);
    assert_eq!(disk.usage().unwrap().entries, 1);
    // A zero TTL stores nothing.
    disk.set(&key("a", 3), b"gone", Some(Duration::ZERO))
        .unwrap();
    assert_eq!(disk.get(&key("a", 3)).unwrap(), None);
    assert_eq!(disk.len("a").unwrap(), 1);
}

#[test]
fn values_survive_a_clean_reopen() {
    let dir = Dir::new("reopen");
    let (disk, _) = open_mock(&dir.file());
    disk.set(&key("a", 1), b"kept", None).unwrap();
    disk.close().unwrap();
    drop(disk);
    let (disk, _) = open_mock(&dir.file());
    let report = disk.open_report();
    assert!(!report.created && !report.unclean_shutdown && !report.flushed);
    assert_eq!(
        disk.get(&key("a", 1)).unwrap().as_deref(),
        Some(&b"kept"[..])
    );
}

#[test]
fn expiry_is_exact_to_the_millisecond_with_a_mock_clock() {
    let dir = Dir::new("expiry");
    let (disk, time) = open_mock(&dir.file());
    disk.set(&key("a", 1), b"v", Some(Duration::from_secs(10)))
        .unwrap();
    time.advance(Duration::from_millis(9_999));
    assert!(
        disk.get(&key("a", 1)).unwrap().is_some(),
        "hit just before expiry"
    );
    assert_eq!(disk.len("a").unwrap(), 1);
    time.advance(Duration::from_millis(1));
    assert_eq!(disk.get(&key("a", 1)).unwrap(), None, "miss at expiry");
    assert_eq!(disk.stats().expired_reads, 1);
    // Not removed by the read, but not counted as live either.
    assert_eq!(disk.usage().unwrap().entries, 1);
    assert_eq!(disk.len("a").unwrap(), 0);
    // A sub-millisecond TTL is rounded up, never down.
    disk.set(&key("a", 2), b"v", Some(Duration::from_micros(10)))
        .unwrap();
    assert!(disk.get(&key("a", 2)).unwrap().is_some());
    time.advance(Duration::from_millis(1));
    assert!(disk.get(&key("a", 2)).unwrap().is_none());
}

#[test]
fn sweep_removes_expired_entries_without_reads_in_o_expired() {
    let dir = Dir::new("sweep");
    let (disk, time) = open_mock(&dir.file());
    let live: Vec<StorageKey<'_>> = (0..=255u8)
        .flat_map(|n| {
            ["live-a", "live-b", "live-c", "live-d"]
                .into_iter()
                .map(move |ns| key(ns, n))
        })
        .collect();
    let values: Vec<(StorageKey<'_>, &[u8])> = live.iter().map(|k| (*k, &b"live"[..])).collect();
    disk.set_many(&values, Some(Duration::from_secs(3600)))
        .unwrap();
    let short: Vec<(StorageKey<'_>, &[u8])> = (0..10u8)
        .map(|n| (key("short", n), &b"short"[..]))
        .collect();
    disk.set_many(&short, Some(Duration::from_secs(5))).unwrap();
    assert_eq!(disk.usage().unwrap().entries, 1024 + 10);
    time.advance(Duration::from_secs(5));
    let before = disk.stats();
    assert_eq!(disk.sweep().unwrap(), 10);
    let after = disk.stats();
    assert_eq!(after.swept - before.swept, 10);
    // The 10 expired rows plus the first live one, out of 1,034.
    assert_eq!(after.sweep_visits - before.sweep_visits, 11);
    assert_eq!(after.expired_reads, 0, "no entry was read");
    assert_eq!(disk.usage().unwrap().entries, 1024);
    assert_eq!(disk.len("short").unwrap(), 0);
    assert_eq!(disk.len("live-a").unwrap(), 256);
    assert_eq!(disk.sweep().unwrap(), 0);
}

#[test]
fn writes_sweep_a_few_expired_entries_each() {
    let dir = Dir::new("write-sweep");
    let (disk, time) = open_mock(&dir.file());
    for n in 0..20u8 {
        disk.set(&key("short", n), b"s", Some(Duration::from_secs(1)))
            .unwrap();
    }
    time.advance(Duration::from_secs(2));
    disk.set(&key("other", 0), b"o", None).unwrap();
    // One write sweeps up to 8 + 2 × its entries.
    assert_eq!(disk.stats().swept, 10);
    assert_eq!(disk.usage().unwrap().entries, 11);
}

#[test]
fn clear_and_len_are_per_namespace() {
    let dir = Dir::new("clear");
    let (disk, _) = open_mock(&dir.file());
    for n in 0..5 {
        disk.set(&key("ns", n), b"a", None).unwrap();
        disk.set(&key("ns2", n), b"b", None).unwrap();
        disk.set(&key("n", n), b"c", None).unwrap();
    }
    let mut v7 = key("ns", 9);
    v7.version = 7;
    disk.set(&v7, b"v7", None).unwrap();
    assert_eq!(
        (
            disk.len("ns").unwrap(),
            disk.len("ns2").unwrap(),
            disk.len("n").unwrap()
        ),
        (6, 5, 5)
    );
    assert_eq!(disk.clear("ns").unwrap(), 6);
    assert_eq!(
        (
            disk.len("ns").unwrap(),
            disk.len("ns2").unwrap(),
            disk.len("n").unwrap()
        ),
        (0, 5, 5)
    );
    assert_eq!(
        disk.get(&key("ns2", 0)).unwrap().as_deref(),
        Some(&b"b"[..])
    );
    assert_eq!(disk.usage().unwrap().entries, 10);
    assert_eq!(disk.clear("absent").unwrap(), 0);
}

#[test]
fn max_entries_evicts_expired_entries_first_then_the_soonest_to_expire() {
    let dir = Dir::new("max-entries");
    let (clock, time) = mock_clock();
    let disk = DiskBackend::builder(dir.file())
        .clock(clock)
        .max_entries(4)
        .open()
        .unwrap();
    disk.set(&key("a", 1), b"long", Some(Duration::from_secs(100)))
        .unwrap();
    disk.set(&key("a", 2), b"forever", None).unwrap();
    disk.set(&key("a", 3), b"short", Some(Duration::from_secs(1)))
        .unwrap();
    disk.set(&key("a", 4), b"mid", Some(Duration::from_secs(50)))
        .unwrap();
    time.advance(Duration::from_millis(1_500));
    // Full: the expired entry goes first (the write's own sweep takes it).
    disk.set(&key("a", 5), b"new", Some(Duration::from_secs(100)))
        .unwrap();
    assert_eq!(disk.get(&key("a", 3)).unwrap(), None);
    assert_eq!(disk.stats().evicted, 0);
    // Then the live entry that expires soonest.
    disk.set(&key("a", 6), b"newer", Some(Duration::from_secs(100)))
        .unwrap();
    assert_eq!(disk.get(&key("a", 4)).unwrap(), None);
    assert_eq!(disk.stats().evicted, 1);
    for kept in [1, 2, 5, 6] {
        assert!(disk.get(&key("a", kept)).unwrap().is_some(), "{kept}");
    }
    assert_eq!(disk.usage().unwrap().entries, 4);
    // Overwriting a key does not evict.
    disk.set(&key("a", 6), b"again", None).unwrap();
    assert_eq!(disk.stats().evicted, 1);
}

#[test]
fn max_entries_eviction_takes_expired_entries_before_live_ones() {
    let dir = Dir::new("expired-first");
    let (clock, time) = mock_clock();
    let disk = DiskBackend::builder(dir.file())
        .clock(clock)
        .max_entries(3)
        .open()
        .unwrap();
    // One batch fills the file: its own sweep finds nothing to take.
    let items: Vec<(StorageKey<'_>, &[u8])> = (1..=3).map(|n| (key("a", n), &b"x"[..])).collect();
    disk.set_many(&items, Some(Duration::from_secs(10)))
        .unwrap();
    time.advance(Duration::from_secs(10));
    // A batch of 3 more, all expired before it: they go, as sweeps (not evictions).
    let items: Vec<(StorageKey<'_>, &[u8])> = (4..=6).map(|n| (key("a", n), &b"y"[..])).collect();
    disk.set_many(&items, None).unwrap();
    let stats = disk.stats();
    assert_eq!((stats.swept, stats.evicted), (3, 0));
    assert_eq!(disk.len("a").unwrap(), 3);
}

#[test]
fn max_bytes_bounds_the_accounted_size() {
    let dir = Dir::new("max-bytes");
    let (clock, _) = mock_clock();
    let one = format::entry_size(1, format::RECORD_HEADER + 100);
    let disk = DiskBackend::builder(dir.file())
        .clock(clock)
        .max_bytes(one * 3)
        .open()
        .unwrap();
    for n in 0..10u8 {
        disk.set(
            &key("a", n),
            &[n; 100],
            Some(Duration::from_secs(u64::from(n) + 1)),
        )
        .unwrap();
        assert!(disk.usage().unwrap().bytes <= one * 3);
    }
    assert_eq!(
        disk.usage().unwrap(),
        Usage {
            entries: 3,
            bytes: one * 3
        }
    );
    assert_eq!(disk.stats().evicted, 7);
    // The three that expire last are kept.
    for n in 7..10u8 {
        assert!(disk.get(&key("a", n)).unwrap().is_some());
    }
    // An entry larger than the bound is refused, and nothing changes.
    let error = disk.set(&key("a", 99), &[0; 1000], None).unwrap_err();
    assert!(matches!(error, DiskError::TooLarge { .. }), "{error}");
    assert!(error.to_string().contains("max_bytes"), "{error}");
    assert_eq!(disk.usage().unwrap().entries, 3);
}

#[test]
fn set_many_is_all_or_nothing() {
    let dir = Dir::new("set-many");
    let (clock, _) = mock_clock();
    let disk = DiskBackend::builder(dir.file())
        .clock(clock)
        .max_bytes(1_000)
        .open()
        .unwrap();
    let big = [0u8; 2_000];
    let items: Vec<(StorageKey<'_>, &[u8])> = vec![
        (key("a", 1), b"small"),
        (key("a", 2), b"small"),
        (key("a", 3), &big),
    ];
    assert!(matches!(
        disk.set_many(&items, None),
        Err(DiskError::TooLarge { .. })
    ));
    assert_eq!(disk.usage().unwrap().entries, 0);
    assert_eq!(disk.get(&key("a", 1)).unwrap(), None);
    disk.set_many(&items[..2], None).unwrap();
    assert_eq!(disk.len("a").unwrap(), 2);
}

/// Rewrites meta records of a closed cache file with redb directly.
fn tamper_meta(path: &Path, records: &[(&str, &[u8])]) {
    let db = redb::Database::open(path).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut meta = txn.open_table(META).unwrap();
        for (name, value) in records {
            meta.insert(*name, *value).unwrap();
        }
    }
    txn.commit().unwrap();
}

#[test]
fn another_format_or_key_scheme_is_refused_or_flushed() {
    for (record, value) in [
        (META_FORMAT, &999u32.to_le_bytes()[..]),
        (
            META_HASH_SCHEME,
            &b"cache-core 1999 persistent cache key v0"[..],
        ),
    ] {
        let dir = Dir::new("version");
        let (disk, _) = open_mock(&dir.file());
        disk.set(&key("a", 1), b"stale", None).unwrap();
        drop(disk);
        tamper_meta(&dir.file(), &[(record, value)]);
        let error = DiskBackend::open(dir.file()).unwrap_err();
        let DiskError::VersionMismatch {
            found, expected, ..
        } = &error
        else {
            panic!("{error:?}");
        };
        assert_ne!(found, expected);
        let message = error.to_string();
        assert!(
            message.contains(&dir.file().display().to_string()),
            "{message}"
        );
        assert!(message.contains("OnVersionMismatch::Flush"), "{message}");
        // Refusing changed nothing: still refused.
        assert!(matches!(
            DiskBackend::open(dir.file()),
            Err(DiskError::VersionMismatch { .. })
        ));
        let disk = DiskBackend::builder(dir.file())
            .on_version_mismatch(OnVersionMismatch::Flush)
            .open()
            .unwrap();
        assert!(disk.open_report().flushed);
        assert_eq!(disk.get(&key("a", 1)).unwrap(), None);
        assert_eq!(disk.usage().unwrap().entries, 0);
        disk.set(&key("a", 1), b"fresh", None).unwrap();
        drop(disk);
        // Flushed files carry this build's records.
        let disk = DiskBackend::open(dir.file()).unwrap();
        assert_eq!(
            disk.get(&key("a", 1)).unwrap().as_deref(),
            Some(&b"fresh"[..])
        );
    }
}

#[test]
fn a_redb_file_of_something_else_is_left_alone() {
    let dir = Dir::new("foreign");
    {
        let db = redb::Database::create(dir.file()).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let def: redb::TableDefinition<'_, &str, u64> = redb::TableDefinition::new("orders");
            txn.open_table(def).unwrap().insert("o-1", &7).unwrap();
        }
        txn.commit().unwrap();
    }
    for policy in [OnVersionMismatch::Refuse, OnVersionMismatch::Flush] {
        let error = DiskBackend::builder(dir.file())
            .on_version_mismatch(policy)
            .open()
            .unwrap_err();
        assert!(matches!(error, DiskError::Foreign { .. }), "{error:?}");
    }
    let db = redb::Database::open(dir.file()).unwrap();
    let def: redb::TableDefinition<'_, &str, u64> = redb::TableDefinition::new("orders");
    let txn = db.begin_read().unwrap();
    assert_eq!(
        txn.open_table(def)
            .unwrap()
            .get("o-1")
            .unwrap()
            .unwrap()
            .value(),
        7
    );
}

#[test]
fn a_second_open_of_the_same_file_is_locked() {
    let dir = Dir::new("locked");
    let disk = DiskBackend::open(dir.file()).unwrap();
    let error = DiskBackend::open(dir.file()).unwrap_err();
    assert!(matches!(error, DiskError::Locked { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("another process has the cache open"),
        "{message}"
    );
    assert!(
        message.contains(&dir.file().display().to_string()),
        "{message}"
    );
    drop(disk);
    DiskBackend::open(dir.file()).unwrap();
}

#[test]
fn the_dirty_flag_triggers_the_recovery_sweep() {
    let dir = Dir::new("dirty");
    let (clock, time) = mock_clock();
    let disk = DiskBackend::builder(dir.file())
        .clock(clock.clone())
        .open()
        .unwrap();
    for n in 0..5 {
        disk.set(&key("short", n), b"s", Some(Duration::from_secs(1)))
            .unwrap();
    }
    disk.set(&key("long", 0), b"l", None).unwrap();
    drop(disk);
    // What an unclean exit leaves: the flag set.
    tamper_meta(&dir.file(), &[(META_DIRTY, &[1])]);
    time.advance(Duration::from_secs(2));
    let disk = DiskBackend::builder(dir.file())
        .clock(clock.clone())
        .open()
        .unwrap();
    let report = disk.open_report();
    assert!(report.unclean_shutdown);
    assert_eq!(report.recovery_swept, 5);
    assert_eq!(disk.usage().unwrap().entries, 1);
    drop(disk);
    // Closed cleanly by the drop: no recovery next time.
    let disk = DiskBackend::builder(dir.file())
        .clock(clock)
        .open()
        .unwrap();
    assert!(!disk.open_report().unclean_shutdown);
    assert_eq!(disk.open_report().recovery_swept, 0);
}

#[test]
fn a_damaged_record_is_a_counted_miss_and_is_replaced() {
    let dir = Dir::new("damaged-record");
    let (disk, _) = open_mock(&dir.file());
    disk.set(&key("a", 1), b"good", None).unwrap();
    disk.set(&key("a", 2), b"other", None).unwrap();
    drop(disk);
    {
        // Damage one record, and copy another record under a third key.
        let db = redb::Database::open(dir.file()).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut entries = txn.open_table(DATA).unwrap();
            let k1 = format::entry_key("a", 1, &[1; 32]);
            let mut record = entries
                .get(k1.as_slice())
                .unwrap()
                .unwrap()
                .value()
                .to_vec();
            let last = record.len() - 1;
            record[last] ^= 1;
            entries.insert(k1.as_slice(), record.as_slice()).unwrap();
            let k2 = format::entry_key("a", 1, &[2; 32]);
            let copied = entries
                .get(k2.as_slice())
                .unwrap()
                .unwrap()
                .value()
                .to_vec();
            let k3 = format::entry_key("a", 1, &[3; 32]);
            entries.insert(k3.as_slice(), copied.as_slice()).unwrap();
        }
        txn.commit().unwrap();
    }
    let (disk, _) = open_mock(&dir.file());
    for n in [1, 3] {
        let error = disk.get(&key("a", n)).unwrap_err();
        assert!(matches!(error, DiskError::Corrupt { .. }), "{error:?}");
        // Behind #[ttl_cache] it is a backend error: a counted miss.
        let as_backend = StorageBackend::get(&disk, &key("a", n)).unwrap_err();
        assert!(matches!(as_backend, BackendError::Failed { .. }));
    }
    assert_eq!(disk.stats().corrupt_entries, 4);
    assert_eq!(
        disk.get(&key("a", 2)).unwrap().as_deref(),
        Some(&b"other"[..])
    );
    disk.set(&key("a", 1), b"fixed", None).unwrap();
    assert_eq!(
        disk.get(&key("a", 1)).unwrap().as_deref(),
        Some(&b"fixed"[..])
    );
}

#[test]
fn buffered_writes_are_durable_after_flush_and_close() {
    let dir = Dir::new("buffered");
    let disk = DiskBackend::builder(dir.file())
        .durability(Durability::Buffered)
        .open()
        .unwrap();
    assert_eq!(disk.durability(), Durability::Buffered);
    disk.set(&key("a", 1), b"one", None).unwrap();
    disk.flush().unwrap();
    disk.set(&key("a", 2), b"two", None).unwrap();
    disk.close().unwrap();
    drop(disk);
    let disk = DiskBackend::open(dir.file()).unwrap();
    assert_eq!(disk.durability(), Durability::Immediate);
    assert_eq!(disk.len("a").unwrap(), 2);
}

#[test]
fn a_closed_handle_serves_nothing() {
    let dir = Dir::new("closed");
    let disk = DiskBackend::open(dir.file()).unwrap();
    let clone = disk.clone();
    disk.close().unwrap();
    disk.close().unwrap();
    assert!(matches!(
        clone.get(&key("a", 1)),
        Err(DiskError::Closed { .. })
    ));
    assert!(matches!(
        StorageBackend::set(&clone, &key("a", 1), b"x", None),
        Err(BackendError::Unavailable {
            backend: "disk",
            ..
        })
    ));
    drop((disk, clone));
    let disk = DiskBackend::open(dir.file()).unwrap();
    assert!(!disk.open_report().unclean_shutdown);
}

#[test]
fn debug_shows_the_settings() {
    let dir = Dir::new("debug");
    let disk = DiskBackend::builder(dir.file())
        .max_entries(10)
        .open()
        .unwrap();
    let shown = format!("{disk:?}");
    assert!(
        shown.contains("cache.redb") && shown.contains("max_entries: Some(10)"),
        "{shown}"
    );
    assert_eq!(StorageBackend::name(&disk), "disk");
}

#[test]
fn disk_cache_typed_api() {
    let dir = Dir::new("typed");
    let (clock, time) = mock_clock();
    let disk = DiskBackend::builder(dir.file())
        .clock(clock)
        .open()
        .unwrap();
    let cache: DiskCache<(u32, String), Vec<String>> =
        DiskCache::new(&disk, "typed").ttl(Duration::from_secs(10));
    assert_eq!(cache.get(&(1, "x".to_owned())).unwrap(), None);
    cache
        .insert(&(1, "x".to_owned()), &vec!["a".into()])
        .unwrap();
    assert_eq!(
        cache.get(&(1, "x".to_owned())).unwrap(),
        Some(vec!["a".to_owned()])
    );
    assert_eq!(
        cache.get_or_insert_with(&(2, "y".to_owned()), || vec!["b".into()]),
        vec!["b"]
    );
    assert_eq!(
        cache.get_or_insert_with(&(2, "y".to_owned()), || unreachable!()),
        vec!["b"]
    );
    cache
        .insert_with_ttl(&(3, "z".to_owned()), &vec![], Duration::from_secs(100))
        .unwrap();
    assert_eq!(cache.len().unwrap(), 3);
    time.advance(Duration::from_secs(10));
    assert_eq!(cache.get(&(1, "x".to_owned())).unwrap(), None);
    assert_eq!(cache.get(&(3, "z".to_owned())).unwrap(), Some(vec![]));
    assert_eq!(cache.len().unwrap(), 1);
    let info = cache.info();
    assert_eq!(
        (info.hits, info.misses, info.computations, info.current_size),
        (3, 3, 1, 1)
    );
    assert_eq!(cache.remove(&(3, "z".to_owned())).unwrap(), Some(vec![]));
    assert!(cache.is_empty().unwrap());
    let pairs = [
        ((4, "p".to_owned()), vec!["4".to_owned()]),
        ((5, "q".to_owned()), vec![]),
    ];
    cache
        .insert_many(pairs.iter().map(|(k, v)| (k, v)))
        .unwrap();
    assert_eq!(cache.len().unwrap(), 2);
    cache.clear().unwrap();
    assert_eq!(cache.info().hits, 0);
    assert!(cache.is_empty().unwrap());
}

#[test]
fn disk_cache_values_of_another_type_are_decode_errors() {
    let dir = Dir::new("typed-schema");
    let disk = DiskBackend::open(dir.file()).unwrap();
    let strings: DiskCache<u64, String> = DiskCache::new(&disk, "shared");
    let numbers: DiskCache<u64, u64> = DiskCache::new(&disk, "shared");
    strings.insert(&1, &"one".into()).unwrap();
    assert_eq!(numbers.digest(&1), strings.digest(&1));
    assert_eq!(numbers.get(&1).unwrap(), None);
    assert_eq!(numbers.info().decode_errors, 1);
    // Versions are other keys.
    let v2: DiskCache<u64, String> = DiskCache::new(&disk, "shared").version(2);
    assert_ne!(v2.digest(&1), strings.digest(&1));
    assert_eq!(v2.get(&1).unwrap(), None);
    // JSON instead of MessagePack: another codec id, so a decode error too.
    let json = DiskCache::<u64, String>::new(&disk, "shared").serializer(cache_core::codec::Json);
    assert_eq!(json.get(&1).unwrap(), None);
    json.insert(&2, &"two".into()).unwrap();
    assert_eq!(json.get(&2).unwrap().as_deref(), Some("two"));
    // An explicit schema id: readable by another type of the same shape.
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Mine(String);
    let mine = DiskCache::<u64, Mine>::new(&disk, "explicit").schema_id(0xD15C);
    mine.insert(&1, &Mine("m".into())).unwrap();
    let theirs = DiskCache::<u64, String>::new(&disk, "explicit").schema_id(0xD15C);
    assert_eq!(theirs.get(&1).unwrap().as_deref(), Some("m"));
    let other = DiskCache::<u64, String>::new(&disk, "explicit").schema_id(0xD15D);
    assert_eq!(other.get(&1).unwrap(), None);
}

#[test]
fn disk_cache_keys_are_stable_digests() {
    let dir = Dir::new("typed-digest");
    let disk = DiskBackend::open(dir.file()).unwrap();
    let cache: DiskCache<str, u8> = DiskCache::new(&disk, "ns");
    let mut hasher = blake3::Hasher::new_derive_key(cache_core::hash::KEY_CONTEXT);
    cache_core::PersistentHash::persistent_hash("ns", &mut hasher);
    cache_core::PersistentHash::persistent_hash(&0u32, &mut hasher);
    cache_core::PersistentHash::persistent_hash("k", &mut hasher);
    assert_eq!(cache.digest("k"), Digest(*hasher.finalize().as_bytes()));
    // Read back through the raw key in a fresh handle.
    cache.insert("k", &9).unwrap();
    let raw = disk
        .get(&StorageKey {
            namespace: "ns",
            version: 0,
            digest: cache.digest("k"),
        })
        .unwrap();
    assert!(raw.is_some());
}

#[test]
fn concurrent_writers_and_readers_keep_the_counts_exact() {
    let dir = Dir::new("threads");
    let (disk, _) = open_mock(&dir.file());
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let disk = disk.clone();
            s.spawn(move || {
                let namespace = format!("t{t}");
                for n in 0..100u8 {
                    let key = StorageKey {
                        namespace: &namespace,
                        version: 0,
                        digest: Digest([n; 32]),
                    };
                    disk.set(&key, &[t, n], None).unwrap();
                    assert_eq!(disk.get(&key).unwrap(), Some(vec![t, n]));
                }
            });
        }
        let reader = disk.clone();
        s.spawn(move || {
            for _ in 0..200 {
                let total: u64 = (0..4).map(|t| reader.len(&format!("t{t}")).unwrap()).sum();
                assert!(total <= 400);
            }
        });
    });
    for t in 0..4 {
        assert_eq!(disk.len(&format!("t{t}")).unwrap(), 100);
    }
    assert_eq!(disk.usage().unwrap().entries, 400);
}
