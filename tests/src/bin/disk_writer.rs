//! The child of the crash test (`tests/disk_crash.rs`): opens a cache file and
//! writes batches in a loop until it is killed.
//!
//! Usage: `disk-writer <path> <namespace> <immediate|buffered>`.
//!
//! Prints `open unclean=<bool> swept=<n>` once the file is open, then
//! `committed <batch>` after each batch's transaction returns. Batch `b` holds
//! `batch_len(b)` entries in `namespace`, keyed `(b, i)`, each a [`Piece`]
//! naming its batch, index and batch length, padded to a size that varies
//! with `b` (so batches span B-tree pages), written with one
//! `DiskCache::insert_many`: one transaction. The checker knows the same
//! layout. It stops by itself after 60 s if nobody kills it.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use cache_disk::{DiskBackend, DiskCache, DiskError, Durability};
use serde::{Deserialize, Serialize};

/// The envelope schema id of [`Piece`], shared with the checker.
const SCHEMA: u64 = 0xD15C_0001;

/// One entry of a batch.
#[derive(Serialize, Deserialize)]
struct Piece {
    batch: u64,
    index: u32,
    count: u32,
    filler: String,
}

/// Entries in batch `b`: 1 to 13.
fn batch_len(b: u64) -> u32 {
    1 + (b.wrapping_mul(7) % 13) as u32
}

/// Padding of the entries of batch `b`: 0 to 3,000 bytes.
fn filler(b: u64) -> String {
    "x".repeat((b.wrapping_mul(389) % 3_001) as usize)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, namespace, durability] = args.as_slice() else {
        eprintln!("usage: disk-writer <path> <namespace> <immediate|buffered>");
        return ExitCode::FAILURE;
    };
    let durability = match durability.as_str() {
        "immediate" => Durability::Immediate,
        "buffered" => Durability::Buffered,
        other => {
            eprintln!("unknown durability {other:?}");
            return ExitCode::FAILURE;
        }
    };
    let disk = match DiskBackend::builder(path).durability(durability).open() {
        Ok(disk) => disk,
        Err(error @ DiskError::Locked { .. }) => {
            eprintln!("{error}");
            return ExitCode::from(3);
        }
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let report = disk.open_report();
    let mut out = std::io::stdout().lock();
    if writeln!(
        out,
        "open unclean={} swept={}",
        report.unclean_shutdown, report.recovery_swept
    )
    .and_then(|()| out.flush())
    .is_err()
    {
        return ExitCode::FAILURE;
    }
    let pieces: DiskCache<(u64, u32), Piece> =
        DiskCache::new(&disk, namespace.as_str()).schema_id(SCHEMA);
    let started = Instant::now();
    let mut batch = 0u64;
    while started.elapsed() < Duration::from_secs(60) {
        let count = batch_len(batch);
        let filler = filler(batch);
        let keys: Vec<(u64, u32)> = (0..count).map(|i| (batch, i)).collect();
        let values: Vec<Piece> = (0..count)
            .map(|index| Piece {
                batch,
                index,
                count,
                filler: filler.clone(),
            })
            .collect();
        if let Err(error) = pieces.insert_many(keys.iter().zip(&values)) {
            eprintln!("batch {batch}: {error}");
            return ExitCode::from(2);
        }
        if writeln!(out, "committed {batch}")
            .and_then(|()| out.flush())
            .is_err()
        {
            return ExitCode::FAILURE;
        }
        batch += 1;
    }
    eprintln!("disk-writer: not killed within 60 s");
    ExitCode::FAILURE
}
