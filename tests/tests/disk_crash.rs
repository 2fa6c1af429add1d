//! Crash safety of the disk backend with real crashes: a child process
//! (`disk-writer`) writes batches with `set_many` in a loop and is SIGKILLed
//! at a random (seeded) moment, 24 rounds on one file. After each kill the
//! file reopens with a recovery, every batch is wholly present or wholly
//! absent, the present ones are a prefix of the batches written, every value
//! decodes, the per-namespace counts match, and with fsync per commit every
//! batch the child saw committed is there.
//!
//! Also: the dirty flag of a killed process makes the next open sweep the
//! expired entries (`disk-probe expiring`).
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cache_core::clock::Clock;
use cache_disk::{DiskBackend, DiskCache};
use cache_tests::DEADLINE;
use cache_tests::figures::record;
use cache_tests::redis_server::TempDir;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The schema id `disk-writer` stores its pieces with.
const SCHEMA: u64 = 0xD15C_0001;

/// What `disk-writer` stores (the same layout, written down independently).
#[derive(Debug, Serialize, Deserialize)]
struct Piece {
    batch: u64,
    index: u32,
    count: u32,
    filler: String,
}

fn batch_len(b: u64) -> u32 {
    1 + (b.wrapping_mul(7) % 13) as u32
}

fn filler_len(b: u64) -> usize {
    (b.wrapping_mul(389) % 3_001) as usize
}

/// A small deterministic generator (xorshift64*), so every run kills at the
/// same offsets.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// A spawned child whose stdout lines arrive on a channel; killed on drop.
struct Spawned {
    child: Child,
    lines: Receiver<String>,
}

impl Spawned {
    fn start(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the child");
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The next line, within [`DEADLINE`].
    fn line(&self) -> String {
        self.lines
            .recv_timeout(DEADLINE)
            .expect("the child prints in time")
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then every line it printed
    /// before dying.
    fn kill(mut self) -> Vec<String> {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert_eq!(status.signal(), Some(9), "killed, not exited: {status:?}");
        let mut rest = Vec::new();
        // The reader thread ends at EOF, closing the channel.
        let start = Instant::now();
        while let Ok(line) = self.lines.recv_timeout(DEADLINE) {
            rest.push(line);
            assert!(start.elapsed() < DEADLINE, "the child's output never ends");
        }
        rest
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn writer(path: &Path, namespace: &str, durability: &str) -> Spawned {
    let mut command = Command::new(env!("CARGO_BIN_EXE_disk-writer"));
    command.arg(path).arg(namespace).arg(durability);
    Spawned::start(command)
}

/// The highest `committed <b>` among `lines`.
fn last_committed(lines: &[String]) -> Option<u64> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("committed ")?.parse().ok())
        .max()
}

/// Checks round `namespace` of the file: returns (batches present, entries).
fn check_round(disk: &DiskBackend, namespace: &str, durable_up_to: Option<u64>) -> (u64, u64) {
    let pieces: DiskCache<(u64, u32), Piece> = DiskCache::new(disk, namespace).schema_id(SCHEMA);
    let mut batches = 0u64;
    let mut entries = 0u64;
    let mut absent_run = 0;
    let mut b = 0u64;
    // Batches commit in order: present ones form a prefix; look 3 past it.
    while absent_run < 3 {
        let count = batch_len(b);
        let mut present = 0;
        for i in 0..count {
            let Some(piece) = pieces.get(&(b, i)).expect("the file reads") else {
                continue;
            };
            assert_eq!(
                (piece.batch, piece.index, piece.count, piece.filler.len()),
                (b, i, count, filler_len(b)),
                "{namespace}: entry ({b}, {i}) holds another value"
            );
            assert!(piece.filler.bytes().all(|c| c == b'x'));
            present += 1;
        }
        assert!(
            present == 0 || present == count,
            "{namespace}: batch {b} is torn: {present} of {count} entries"
        );
        if present == 0 {
            absent_run += 1;
        } else {
            assert_eq!(absent_run, 0, "{namespace}: batch {b} present after a gap");
            batches += 1;
            entries += u64::from(count);
        }
        b += 1;
    }
    if let Some(last) = durable_up_to {
        assert!(
            batches > last,
            "{namespace}: batch {last} was committed with fsync but is missing ({batches} present)"
        );
    }
    let info = pieces.info();
    assert_eq!(
        (info.decode_errors, info.backend_errors),
        (0, 0),
        "{info:?}"
    );
    assert_eq!(disk.len(namespace).unwrap(), entries, "{namespace}: counts");
    (batches, entries)
}

#[test]
fn sigkilled_writers_leave_whole_batches_and_a_consistent_file() {
    const ROUNDS: u64 = 24;
    let dir = TempDir::new("disk-crash");
    let file = dir.path().join("crash.cache");
    let mut rng = Rng(0x5EED_CAFE_F00D_1234);
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    let mut killed_before_open = 0;
    let mut killed_mid_batches = 0;
    let mut slowest_recovery = Duration::ZERO;
    for round in 0..ROUNDS {
        let namespace = format!("round-{round}");
        // Every third round writes without fsync per commit.
        let durability = if round % 3 == 2 {
            "buffered"
        } else {
            "immediate"
        };
        let child = writer(&file, &namespace, durability);
        let mut lines = Vec::new();
        if round % 4 == 3 {
            // Kill early: possibly while it opens the file.
            std::thread::sleep(Duration::from_millis(rng.below(8)));
        } else {
            let open = child.line();
            assert!(open.starts_with("open unclean="), "{open}");
            // Once it is writing, kill it somewhere in the next 40 ms.
            let first = child.line();
            assert_eq!(first, "committed 0");
            lines.extend([open, first]);
            std::thread::sleep(Duration::from_millis(rng.below(40)));
        }
        lines.extend(child.kill());
        let committed = last_committed(&lines);
        match committed {
            None => killed_before_open += 1,
            Some(_) => killed_mid_batches += 1,
        }
        let reopening = Instant::now();
        let disk = DiskBackend::open(&file).unwrap();
        slowest_recovery = slowest_recovery.max(reopening.elapsed());
        let report = disk.open_report();
        if !lines.is_empty() {
            assert!(report.unclean_shutdown, "round {round}: {report:?}");
        }
        let durable_up_to = if durability == "immediate" {
            committed
        } else {
            None
        };
        let (batches, entries) = check_round(&disk, &namespace, durable_up_to);
        if let Some(last) = committed {
            // At most the batch in flight may be there beyond the last reported.
            assert!(batches <= last + 2, "round {round}: {batches} > {last} + 2");
        }
        expected.insert(namespace, entries);
        // Earlier rounds are untouched by later crashes.
        for (ns, entries) in &expected {
            assert_eq!(disk.len(ns).unwrap(), *entries, "{ns} after round {round}");
        }
        assert_eq!(
            disk.usage().unwrap().entries,
            expected.values().sum::<u64>(),
            "round {round}: totals"
        );
        // Dropped: closed cleanly before the next child.
    }
    assert!(
        killed_mid_batches >= 12,
        "{killed_mid_batches} rounds killed mid-batches"
    );
    eprintln!(
        "{ROUNDS} rounds: {killed_mid_batches} killed while writing batches, \
         {killed_before_open} before their first commit; {} entries kept",
        expected.values().sum::<u64>()
    );
    let disk = DiskBackend::open(&file).unwrap();
    assert!(!disk.open_report().unclean_shutdown);
    record(
        "D1",
        "disk_crash::sigkilled_writers_leave_whole_batches_and_a_consistent_file",
        json!({
            "rounds": ROUNDS,
            "killed_mid_batches": killed_mid_batches,
            "killed_before_first_commit": killed_before_open,
            "partial_batches": 0,
            "entries_kept": expected.values().sum::<u64>(),
            "slowest_reopen_with_recovery_ms": slowest_recovery.as_secs_f64() * 1e3,
        }),
    );
}

#[test]
fn a_killed_process_leaves_the_dirty_flag_and_the_next_open_sweeps() {
    let dir = TempDir::new("disk-dirty");
    let file = dir.path().join("dirty.cache");
    let mut command = Command::new(env!("CARGO_BIN_EXE_disk-probe"));
    command.arg("expiring").arg(&file).arg("25");
    let child = Spawned::start(command);
    assert_eq!(child.line(), "ready");
    child.kill();
    // Reopened an hour later (mock clock): the 25 entries with a 1 s TTL are
    // swept by the recovery, the one without TTL stays.
    let (clock, time) = Clock::mock();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    time.advance(now + Duration::from_secs(3600));
    let disk = DiskBackend::builder(&file).clock(clock).open().unwrap();
    let report = disk.open_report();
    assert!(report.unclean_shutdown, "{report:?}");
    assert_eq!(report.recovery_swept, 25, "{report:?}");
    assert_eq!(disk.stats().swept, 25);
    assert_eq!(disk.len("expiring").unwrap(), 1);
    let kept: DiskCache<u64, u64> = DiskCache::new(&disk, "expiring");
    assert_eq!(kept.get(&u64::MAX).unwrap(), Some(0));
    drop((kept, disk));
    // A clean close: no recovery next time.
    let disk = DiskBackend::open(&file).unwrap();
    let report = disk.open_report();
    assert!(
        !report.unclean_shutdown && report.recovery_swept == 0,
        "{report:?}"
    );
}
