//! Damaged cache files: bytes flipped at offsets spread over the whole file,
//! and files cut short. Each copy is opened (with and without
//! `verify_on_open`) and used: the open returns an error, or every lookup is
//! the right value or a miss. Never a panic, never a wrong value.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::cell::Cell;
use std::panic::PanicHookInfo;
use std::path::Path;
use std::sync::Once;
use std::time::Duration;

use cache_disk::{DiskBackend, DiskCache, DiskError};
use cache_tests::figures::record;
use cache_tests::redis_server::TempDir;
use serde_json::json;

const ENTRIES: u64 = 300;

fn value(n: u64) -> String {
    format!("value-{n}-{}", "v".repeat((n % 97) as usize))
}

/// A cleanly closed cache file with [`ENTRIES`] entries in two namespaces.
fn pristine(dir: &Path) -> Vec<u8> {
    let file = dir.join("pristine.cache");
    let disk = DiskBackend::open(&file).unwrap();
    let a: DiskCache<u64, String> = DiskCache::new(&disk, "a");
    let b: DiskCache<u64, String> = DiskCache::new(&disk, "b").ttl(Duration::from_secs(3600));
    for n in 0..ENTRIES {
        if n % 2 == 0 {
            a.insert(&n, &value(n)).unwrap();
        } else {
            b.insert(&n, &value(n)).unwrap();
        }
    }
    disk.close().unwrap();
    drop((a, b, disk));
    std::fs::read(&file).unwrap()
}

thread_local! {
    /// Panics raised inside redb (and caught by cache-disk) on this thread.
    static STORE_PANICS: Cell<u64> = const { Cell::new(0) };
}

/// Counts redb's panics quietly (per thread: each test is one); any other
/// panic is reported as usual.
fn count_store_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
            if info.location().is_some_and(|l| l.file().contains("/redb-")) {
                STORE_PANICS.with(|n| n.set(n.get() + 1));
            } else {
                default(info);
            }
        }));
    });
}

fn store_panics() -> u64 {
    STORE_PANICS.with(Cell::get)
}

#[derive(Debug, Default)]
struct Outcomes {
    refused: u64,
    whole: u64,
    with_misses: u64,
}

/// Opens `bytes` as a cache file and uses it; panics (fails the test) only
/// on a wrong value.
fn exercise(dir: &Path, name: &str, bytes: &[u8], verify: bool, outcomes: &mut Outcomes) {
    let file = dir.join(name);
    std::fs::write(&file, bytes).unwrap();
    let opened = DiskBackend::builder(&file).verify_on_open(verify).open();
    let disk = match opened {
        Ok(disk) => disk,
        Err(error) => {
            assert!(
                !matches!(error, DiskError::Locked { .. } | DiskError::Closed { .. }),
                "{name}: {error}"
            );
            assert!(error.to_string().contains(name), "{name}: {error}");
            outcomes.refused += 1;
            std::fs::remove_file(&file).unwrap();
            return;
        }
    };
    let a: DiskCache<u64, String> = DiskCache::new(&disk, "a");
    let b: DiskCache<u64, String> = DiskCache::new(&disk, "b");
    let mut misses = 0;
    for n in 0..ENTRIES {
        let cache = if n % 2 == 0 { &a } else { &b };
        match cache.get(&n) {
            Ok(Some(found)) => assert_eq!(found, value(n), "{name}: a wrong value for {n}"),
            Ok(None) | Err(_) => misses += 1,
        }
    }
    // Writes, sizes, sweeps and clears fail or succeed; they never panic.
    let _ = a.insert(&1_000_000, &"new".to_owned());
    if let Ok(Some(found)) = a.get(&1_000_000) {
        assert_eq!(found, "new");
    }
    let _ = disk.len("a");
    let _ = disk.usage();
    let _ = disk.sweep();
    let _ = b.clear();
    let _ = disk.close();
    if misses == 0 {
        outcomes.whole += 1;
    } else {
        outcomes.with_misses += 1;
    }
    drop((a, b, disk));
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn flipped_bytes_are_refused_at_open_never_served() {
    count_store_panics();
    let dir = TempDir::new("disk-corrupt");
    let bytes = pristine(dir.path());
    let len = bytes.len();
    // The header and its two commit slots, then 64 offsets over the file.
    let mut offsets: Vec<usize> = vec![0, 1, 5, 9, 16, 32, 64, 100, 128, 192, 256, 320, 511];
    offsets.extend((0..64).map(|i| 512 + i * (len - 512) / 64));
    let mut outcomes = Outcomes::default();
    for &offset in &offsets {
        let mut damaged = bytes.clone();
        for byte in &mut damaged[offset..(offset + 8).min(len)] {
            *byte ^= 0xA5;
        }
        let name = format!("flip-{offset}.cache");
        exercise(dir.path(), &name, &damaged, true, &mut outcomes);
    }
    eprintln!("{} damaged copies: {outcomes:?}", offsets.len());
    assert_eq!(
        outcomes.refused + outcomes.whole + outcomes.with_misses,
        offsets.len() as u64
    );
    // Verified at open (the default): damage in a live page is refused before
    // any use; damage elsewhere (free pages) changes nothing.
    assert_eq!(outcomes.with_misses, 0, "{outcomes:?}");
    assert!(outcomes.refused > 0, "{outcomes:?}");
    assert_eq!(store_panics(), 0, "the store never panicked");
    record(
        "D2",
        "disk_corrupt::flipped_bytes_are_refused_at_open_never_served",
        json!({
            "damaged_copies": offsets.len(),
            "refused_at_open": outcomes.refused,
            "unchanged": outcomes.whole,
            "read_with_misses": outcomes.with_misses,
            "wrong_values": 0,
        }),
    );
}

/// Offsets of every occurrence of `needle` in `haystack`.
fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, window)| *window == needle)
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn unverified_opens_read_damaged_records_as_misses_never_wrong() {
    count_store_panics();
    let dir = TempDir::new("disk-unverified");
    let bytes = pristine(dir.path());
    // Damage that redb does not see without its page checks: inside records
    // (the value, the expiry and check before it) and inside keys (a digest).
    let disk = DiskBackend::open(dir.path().join("pristine.cache")).unwrap();
    let a: DiskCache<u64, String> = DiskCache::new(&disk, "a");
    let digests: Vec<_> = (0..20u64).map(|n| a.digest(&(n * 2))).collect();
    drop((a, disk));
    let mut targets = Vec::new();
    for n in (1..ENTRIES).step_by(15) {
        let value = value(n);
        for at in find_all(&bytes, value.as_bytes()) {
            targets.push((format!("value-{n}-at-{at}"), at + value.len() / 2, 1));
            // 24 bytes of expiry and check, then the envelope (35 bytes of
            // overhead, the payload's header inside): hit the check.
            targets.push((format!("check-{n}-at-{at}"), at.saturating_sub(40), 1));
        }
    }
    for (n, digest) in digests.iter().enumerate() {
        for at in find_all(&bytes, digest.as_bytes()) {
            targets.push((format!("digest-{n}-at-{at}"), at + 7, 1));
        }
    }
    assert!(targets.len() >= 40, "{} targets", targets.len());
    let mut outcomes = Outcomes::default();
    for (name, offset, width) in &targets {
        let mut damaged = bytes.clone();
        for byte in &mut damaged[*offset..offset + width] {
            *byte ^= 0x01;
        }
        exercise(
            dir.path(),
            &format!("{name}.cache"),
            &damaged,
            false,
            &mut outcomes,
        );
    }
    eprintln!(
        "{} damaged records: {outcomes:?}; panics inside the store, caught: {}",
        targets.len(),
        store_panics()
    );
    // Most damage is a miss of the one entry (the record check or the
    // envelope); none is a wrong value (`exercise` checks every value).
    assert!(
        outcomes.with_misses > targets.len() as u64 / 2,
        "{outcomes:?}"
    );
}

#[test]
fn truncated_files_are_refused_or_read_as_misses_never_wrong() {
    let dir = TempDir::new("disk-truncated");
    let bytes = pristine(dir.path());
    let len = bytes.len();
    for verify in [true, false] {
        let mut outcomes = Outcomes::default();
        for cut in [
            1,
            7,
            100,
            511,
            512,
            4096,
            len / 4,
            len / 2,
            len - 4096,
            len - 1,
        ] {
            let name = format!("cut-{cut}-{verify}.cache");
            exercise(dir.path(), &name, &bytes[..cut], verify, &mut outcomes);
        }
        eprintln!("verify_on_open({verify}), 10 truncated copies: {outcomes:?}");
    }
    // An empty file is a new cache.
    let file = dir.path().join("empty.cache");
    std::fs::write(&file, b"").unwrap();
    let disk = DiskBackend::open(&file).unwrap();
    assert!(disk.open_report().created);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_with_its_path() {
    let dir = TempDir::new("disk-garbage");
    for (name, bytes) in [
        ("text.cache", b"this is not a cache file\n".repeat(500)),
        ("zeros.cache", vec![0u8; 16 * 1024]),
        ("ones.cache", vec![0xFF; 16 * 1024]),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, &bytes).unwrap();
        let error = DiskBackend::open(&file).unwrap_err();
        assert!(error.to_string().contains(name), "{error}");
        assert_eq!(
            std::fs::read(&file).unwrap(),
            bytes,
            "{name} left untouched"
        );
    }
}
