//! A second process for the disk tests (`tests/disk_process.rs`,
//! `tests/disk_crash.rs`).
//!
//! Usage:
//! - `disk-probe memo <path> <x> [<seconds ahead>]`: calls the cached function
//!   `slow_square(x)` (ttl 3600 s, `DiskBackend` at `path`), closes the file,
//!   and prints `value=<v> hits=<n> misses=<n> computations=<n> size=<n>
//!   unclean=<bool> backend_errors=<n>`. With `seconds ahead`, the backend's
//!   clock is a mock set that far past the system's time.
//! - `disk-probe hold <path>`: opens the file, prints `ready`, keeps it open
//!   until its standard input closes, then closes it and exits 0.
//! - `disk-probe open <path>`: opens and closes the file; prints `opened`, or
//!   the error (exit 3 when locked, 2 otherwise).
//! - `disk-probe expiring <path> <n>`: stores `n` entries that expire in 1 s
//!   and one that never does, prints `ready`, and waits to be killed (exits 1
//!   by itself after 60 s).
//!
//! Every wait is bounded.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{LazyLock, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cache_core::clock::Clock;
use cache_core::ttl_cache;
use cache_disk::{DiskBackend, DiskCache, DiskError};
use serde::{Deserialize, Serialize};

static PATH: OnceLock<(PathBuf, Option<u64>)> = OnceLock::new();

static DISK: LazyLock<DiskBackend> = LazyLock::new(|| {
    let Some((path, ahead)) = PATH.get() else {
        fail("the path is set before the first call")
    };
    let mut builder = DiskBackend::builder(path);
    if let Some(ahead) = ahead {
        let (clock, time) = Clock::mock();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        time.advance(now + Duration::from_secs(*ahead));
        builder = builder.clock(clock);
    }
    builder
        .open()
        .unwrap_or_else(|e| fail(&format!("open: {e}")))
});

/// Says why and exits with status 2.
fn fail(message: &str) -> ! {
    eprintln!("disk-probe: {message}");
    std::process::exit(2)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Square {
    x: u64,
    square: u64,
    by: u32,
}

/// The function whose results outlive the process.
#[ttl_cache(ttl = 3600, backend = DISK.clone())]
fn slow_square(x: u64) -> Square {
    Square {
        x,
        square: x * x,
        by: std::process::id(),
    }
}

fn memo(path: &str, x: &str, ahead: Option<&String>) -> ExitCode {
    let Ok(x) = x.parse::<u64>() else {
        fail("x must be a u64")
    };
    let ahead = ahead.map(|a| {
        a.parse::<u64>()
            .unwrap_or_else(|_| fail("seconds ahead: a u64"))
    });
    let _ = PATH.set((PathBuf::from(path), ahead));
    let value = slow_square(x);
    let info = slow_square::cache_info();
    let unclean = DISK.open_report().unclean_shutdown;
    if let Err(error) = DISK.close() {
        fail(&format!("close: {error}"));
    }
    println!(
        "value={}:{} hits={} misses={} computations={} size={} unclean={unclean} backend_errors={}",
        value.x,
        value.square,
        info.hits,
        info.misses,
        info.computations,
        info.current_size,
        info.backend_errors
    );
    ExitCode::SUCCESS
}

fn open_or_report(path: &str) -> Result<DiskBackend, ExitCode> {
    DiskBackend::open(path).map_err(|error| {
        println!("error: {error}");
        match error {
            DiskError::Locked { .. } => ExitCode::from(3),
            _ => ExitCode::from(2),
        }
    })
}

fn say(line: &str) -> bool {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || {
        eprintln!(
            "usage: disk-probe memo <path> <x> [<seconds ahead>] | hold <path> | open <path> \
             | expiring <path> <n>"
        );
        ExitCode::FAILURE
    };
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["memo", path, x] => memo(path, x, None),
        ["memo", path, x, _] => memo(path, x, args.get(3)),
        ["hold", path] => {
            let disk = match open_or_report(path) {
                Ok(disk) => disk,
                Err(code) => return code,
            };
            if !say("ready") {
                return ExitCode::FAILURE;
            }
            // Until the parent closes our stdin (or dies).
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            match disk.close() {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => fail(&format!("close: {error}")),
            }
        }
        ["open", path] => match open_or_report(path) {
            Ok(disk) => match disk.close() {
                Ok(()) if say("opened") => ExitCode::SUCCESS,
                _ => ExitCode::FAILURE,
            },
            Err(code) => code,
        },
        ["expiring", path, n] => {
            let Ok(n) = n.parse::<u64>() else {
                return usage();
            };
            let disk = match open_or_report(path) {
                Ok(disk) => disk,
                Err(code) => return code,
            };
            let entries: DiskCache<u64, u64> = DiskCache::new(&disk, "expiring");
            for i in 0..n {
                if let Err(error) = entries.insert_with_ttl(&i, &i, Duration::from_secs(1)) {
                    fail(&format!("insert: {error}"));
                }
            }
            if let Err(error) = entries.insert(&u64::MAX, &0) {
                fail(&format!("insert: {error}"));
            }
            if !say("ready") {
                return ExitCode::FAILURE;
            }
            std::thread::sleep(Duration::from_secs(60));
            eprintln!("disk-probe: not killed within 60 s");
            ExitCode::FAILURE
        }
        _ => usage(),
    }
}
