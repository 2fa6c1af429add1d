//! `#[ttl_cache]` on a file: an expensive step memoized across runs, with no
//! server. Run it twice: the first run computes and writes the results to the
//! file, the second reads them back (hits) and runs no body.
//!
//! ```sh
//! cargo run --example disk          # computes (about a second), stores
//! cargo run --example disk          # hits: milliseconds
//! CACHE_FILE=/tmp/other.cache cargo run --example disk
//! ```
//!
//! The file survives crashes too: kill the first run half-way and the next
//! finds every result stored before the kill, and none half-written.

use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Instant;

use cache_core::ttl_cache;
use cache_disk::{DiskBackend, DiskCache};
use serde::{Deserialize, Serialize};

fn cache_file() -> PathBuf {
    std::env::var_os("CACHE_FILE").map_or_else(
        || {
            std::env::temp_dir()
                .join("cache-examples")
                .join("disk.cache")
        },
        PathBuf::from,
    )
}

/// One file for the whole process, opened on first use. Opening fails with a
/// clear error when another process has it open, or when it was written by an
/// incompatible version.
static DISK: LazyLock<DiskBackend> = LazyLock::new(|| match DiskBackend::open(cache_file()) {
    Ok(disk) => disk,
    Err(error) => {
        eprintln!("{error}");
        std::process::exit(2);
    }
});

/// What is cached: any serde value (MessagePack in a checked envelope).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct PrimeStats {
    below: u64,
    count: u64,
    largest: u64,
}

/// The expensive step: a sieve. Its results stay valid for a day.
#[ttl_cache(ttl = 86_400, backend = DISK.clone())]
fn prime_stats(below: u64) -> PrimeStats {
    let n = below as usize;
    let mut composite = vec![false; n];
    let (mut count, mut largest) = (0, 0);
    for i in 2..n {
        if !composite[i] {
            count += 1;
            largest = i as u64;
            for multiple in (i * i..n).step_by(i) {
                composite[multiple] = true;
            }
        }
    }
    PrimeStats {
        below,
        count,
        largest,
    }
}

fn main() {
    let report = DISK.open_report();
    println!(
        "cache file {} ({}{})",
        DISK.path().display(),
        if report.created { "new" } else { "reopened" },
        if report.unclean_shutdown {
            format!(
                ", recovered from an unclean shutdown: {} expired entries swept",
                report.recovery_swept
            )
        } else {
            String::new()
        }
    );

    let started = Instant::now();
    for below in [2_000_000, 4_000_000, 8_000_000] {
        let stats = prime_stats(below);
        println!("  {stats:?}");
    }
    let info = prime_stats::cache_info();
    println!(
        "prime_stats: {} hits, {} misses, {} bodies run, {} entries in the file, in {:?}",
        info.hits,
        info.misses,
        info.computations,
        info.current_size,
        started.elapsed()
    );

    // The typed cache: a namespace of the same file, keyed by any PersistentHash.
    let runs: DiskCache<str, u64> = DiskCache::new(&DISK, "example-runs");
    let run = runs.get("count").ok().flatten().unwrap_or(0) + 1;
    if let Err(error) = runs.insert("count", &run) {
        eprintln!("{error}");
    }
    println!("run number {run} on this file");
    if info.computations > 0 {
        println!("run it again: the results come from the file, and no body runs");
    }

    // A `static` is never dropped: close it, so the next run needs no recovery.
    if let Err(error) = DISK.close() {
        eprintln!("{error}");
    }
}
