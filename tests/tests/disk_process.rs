//! The disk backend across processes (the `disk-probe` binary): results
//! survive the process until their TTL, a second process is refused with a
//! clear error, and a file of another version is refused, never misread.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;

use cache_disk::{DiskBackend, DiskError, OnVersionMismatch};
use cache_tests::DEADLINE;
use cache_tests::redis_server::TempDir;
use redb::ReadableDatabase;

fn probe(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_disk-probe"));
    command.args(args);
    command
}

/// Runs the probe to completion, within [`DEADLINE`].
fn run(args: &[&str]) -> Output {
    let child = probe(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn disk-probe");
    wait_output(child)
}

fn wait_output(mut child: Child) -> Output {
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > DEADLINE {
            child.kill().unwrap();
            panic!("disk-probe did not finish within {DEADLINE:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// `memo` in a new process; its one line of output.
fn memo(path: &Path, x: u64, ahead_secs: Option<u64>) -> String {
    let (path, x) = (path.to_str().unwrap(), x.to_string());
    let ahead = ahead_secs.map(|s| s.to_string());
    let mut args = vec!["memo", path, &x];
    args.extend(ahead.as_deref());
    let output = run(&args);
    assert!(
        output.status.success(),
        "disk-probe memo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout(&output)
}

#[test]
fn a_result_survives_the_process_until_its_ttl() {
    let dir = TempDir::new("disk-reopen");
    let file = dir.path().join("memo.cache");
    let first = memo(&file, 12, None);
    assert_eq!(
        first,
        "value=12:144 hits=0 misses=1 computations=1 size=1 unclean=false backend_errors=0"
    );
    // A new process: the value comes from the file, the body does not run.
    let second = memo(&file, 12, None);
    assert_eq!(
        second,
        "value=12:144 hits=1 misses=0 computations=0 size=1 unclean=false backend_errors=0"
    );
    // Another argument is another entry.
    assert!(memo(&file, 13, None).contains("computations=1 size=2"));
    // 59 minutes later (ttl 3600 s): still a hit.
    assert!(memo(&file, 12, Some(59 * 60)).contains("hits=1 misses=0 computations=0"));
    // Two hours later: expired, computed again.
    assert!(memo(&file, 12, Some(2 * 3600)).contains("hits=0 misses=1 computations=1"));
}

/// A probe holding the file open until released (or killed when dropped).
struct Holder {
    child: Option<Child>,
}

impl Holder {
    fn start(path: &Path) -> Self {
        let mut child = probe(&["hold", path.to_str().unwrap()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn disk-probe hold");
        let stdout = child.stdout.take().unwrap();
        let holder = Self { child: Some(child) };
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if lines.send(line.unwrap_or_default()).is_err() {
                    break;
                }
            }
        });
        let line = received
            .recv_timeout(DEADLINE)
            .expect("the holder says ready in time");
        assert_eq!(line, "ready");
        holder
    }

    /// Closes its stdin: it closes the file cleanly and exits 0.
    fn release(mut self) {
        let mut child = self.child.take().unwrap();
        drop(child.stdin.take());
        let output = wait_output(child);
        assert!(output.status.success(), "holder exit: {:?}", output.status);
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn a_second_process_gets_a_clear_locked_error() {
    let dir = TempDir::new("disk-locked");
    let file = dir.path().join("shared.cache");
    // Another process holds it: this one is refused.
    let holder = Holder::start(&file);
    let error = DiskBackend::open(&file).unwrap_err();
    assert!(matches!(error, DiskError::Locked { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("another process has the cache open"),
        "{message}"
    );
    assert!(message.contains(file.to_str().unwrap()), "{message}");
    holder.release();
    // Released: this process opens it, and now the other is refused.
    let disk = DiskBackend::open(&file).unwrap();
    assert!(
        !disk.open_report().unclean_shutdown,
        "the holder closed cleanly"
    );
    let refused = run(&["open", file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(3), "{refused:?}");
    assert!(stdout(&refused).contains("another process has the cache open"));
    drop(disk);
    let opened = run(&["open", file.to_str().unwrap()]);
    assert_eq!(stdout(&opened), "opened");
}

/// Sets a version record of a closed cache file, with redb directly.
fn set_meta(path: &Path, name: &str, value: &[u8]) {
    let meta: redb::TableDefinition<'_, &str, &[u8]> =
        redb::TableDefinition::new("cache-disk/meta");
    let db = redb::Database::open(path).unwrap();
    let txn = db.begin_write().unwrap();
    txn.open_table(meta).unwrap().insert(name, value).unwrap();
    txn.commit().unwrap();
    drop(db);
    // And it reads back.
    let db = redb::Database::open(path).unwrap();
    let txn = db.begin_read().unwrap();
    let table = txn.open_table(meta).unwrap();
    assert_eq!(table.get(name).unwrap().unwrap().value(), value);
}

#[test]
fn a_file_of_another_version_is_refused_in_every_process_until_flushed() {
    let dir = TempDir::new("disk-version");
    let file = dir.path().join("old.cache");
    assert!(memo(&file, 5, None).contains("computations=1"));
    set_meta(&file, "format", &0u32.to_le_bytes());
    // Refused here and in another process; the stale entry is never served.
    let error = DiskBackend::open(&file).unwrap_err();
    assert!(
        matches!(error, DiskError::VersionMismatch { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("cache-disk format 0"), "{error}");
    let refused = run(&["open", file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stdout(&refused).contains("not served"),
        "{}",
        stdout(&refused)
    );
    // An explicit flush empties the file; then it serves again.
    let disk = DiskBackend::builder(&file)
        .on_version_mismatch(OnVersionMismatch::Flush)
        .open()
        .unwrap();
    assert!(disk.open_report().flushed);
    assert_eq!(disk.usage().unwrap().entries, 0);
    drop(disk);
    assert!(memo(&file, 5, None).contains("hits=0 misses=1 computations=1"));
    assert!(memo(&file, 5, None).contains("hits=1 misses=0 computations=0"));
    // The key scheme record is checked the same way.
    set_meta(&file, "hash_scheme", b"another key scheme");
    let error = DiskBackend::open(&file).unwrap_err();
    assert!(error.to_string().contains("another key scheme"), "{error}");
}
