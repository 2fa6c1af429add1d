//! A crash-safe cache in one file, for `cache-core`'s `#[ttl_cache]` and as a
//! typed [`DiskCache`]: memoized results survive restarts and crashes, with no
//! server to run (CLIs, batch jobs, notebooks, build steps).
//!
//! ```
//! use std::sync::LazyLock;
//! use cache_core::ttl_cache;
//! use cache_disk::DiskBackend;
//! # let dir = std::env::temp_dir().join(format!("cache-disk-doc-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! # let path = dir.join("app.cache");
//! # static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
//! # PATH.set(path).unwrap();
//!
//! // A cheap handle: every function naming it shares the open file.
//! static DISK: LazyLock<DiskBackend> = LazyLock::new(|| {
//! #   let path = PATH.get().unwrap();
//!     DiskBackend::builder(path).open().expect("the cache file")
//! });
//!
//! #[ttl_cache(ttl = 3600, backend = DISK.clone())]
//! fn expensive(n: u64) -> Vec<u64> {
//!     (0..n).map(|i| i * i).collect()
//! }
//!
//! assert_eq!(expensive(4), vec![0, 1, 4, 9]); // computed, written to the file
//! assert_eq!(expensive(4), vec![0, 1, 4, 9]); // read back (and in the next run too)
//! assert_eq!(expensive::cache_info().current_size, 1);
//! DISK.close().unwrap(); // marks a clean shutdown (a `static` is never dropped)
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```
//!
//! # What it guarantees
//!
//! - **Atomic.** [`DiskBackend::set`] (what `#[ttl_cache]` calls),
//!   [`DiskBackend::set_many`] and [`DiskBackend::clear`] each commit as one
//!   redb transaction: after a crash at any moment, each is wholly there or
//!   wholly absent. No value is ever torn.
//! - **Durable.** With [`Durability::Immediate`] (the default) each commit is
//!   fsynced before the call returns. [`Durability::Buffered`] skips the fsync:
//!   a crash then loses the commits since the last durable one (the open, a
//!   [`DiskBackend::flush`], the clean [`DiskBackend::close`]) but still tears
//!   none.
//! - **Recovers by itself.** Opening sets a durable dirty flag and a clean
//!   close clears it. Opening a file whose flag is still set (the last owner
//!   crashed or was killed) repairs redb's state, then sweeps the expired
//!   entries; [`DiskBackend::open_report`] says so.
//! - **Never serves a wrong value.** Every record carries a 16-byte keyed
//!   blake3 check over its key, expiry and value, and the value is the checked
//!   envelope of `cache-core`: a damaged record is a miss, replaced by the next
//!   write of its key. Opening checks every page of the file (see
//!   [`DiskBackendBuilder::verify_on_open`]), so a file damaged on disk is
//!   refused with [`DiskError::Corrupt`] before any use.
//! - **Versioned.** The file records this crate's format ([`FORMAT`]) and the
//!   key scheme (`cache_core::hash::KEY_CONTEXT`). A file written with others
//!   is refused with [`DiskError::VersionMismatch`] (its keys could mean other
//!   calls), or emptied with [`OnVersionMismatch::Flush`].
//! - **One owner.** redb locks the file: a second process (or a second open in
//!   this one) gets [`DiskError::Locked`]. Processes do not share a cache
//!   file; give each its own, or use Redis.
//! - **Bounded.** [`DiskBackendBuilder::max_entries`] and
//!   [`DiskBackendBuilder::max_bytes`] (default [`DEFAULT_MAX_BYTES`]) are
//!   kept by evicting the entries that expire soonest, so expired entries
//!   always go first.
//!
//! # Expiry
//!
//! Each entry stores its expiry as wall-clock milliseconds since the Unix
//! epoch (it must mean the same after a restart), rounded up so an entry is
//! never dropped before its TTL. A read of an expired entry is a miss (lazy
//! expiry, no write). An expiry index keyed by time lets
//! [`DiskBackend::sweep`] remove the expired entries reading only them:
//! O(expired), whatever the size of the file. Writes also sweep a few expired
//! entries each, and the recovery after a crash sweeps them all. A zero TTL
//! stores nothing. Being wall-clock time, a clock set back keeps entries
//! longer and a clock set forward expires them early. For tests,
//! [`DiskBackendBuilder::clock`] takes a
//! [`MockClock`](cache_core::clock::MockClock), whose elapsed time is read as
//! time since the epoch.
//!
//! # Costs
//!
//! Opening checks the whole file: O(file size), about 1 GB/s from the page
//! cache (see [`DiskBackendBuilder::verify_on_open`]). A hit is one read
//! transaction (a B-tree lookup, usually in redb's page cache) plus the record
//! check; a miss of `#[ttl_cache]` adds one write transaction, whose fsync
//! dominates with [`Durability::Immediate`]. `current_size` is O(1) plus the
//! expired entries not swept yet; clearing a namespace is O(its entries).
//! `async` functions run these calls inline on the calling task: microseconds
//! for reads, an fsync for durable writes.
//!
//! # File format
//!
//! Two redb tables. `cache-disk/meta` holds the format number, the key scheme
//! and the dirty flag, and never changes layout. `cache-disk/data` holds four
//! key spaces: the entries (namespace, version, digest → expiry, check,
//! value), the entry count and bytes of each namespace, the totals, and the
//! expiry index (expiry, entry key), which sorts last so a sweep reads it
//! from its start. One table rather than four keeps a write transaction to
//! one B-tree.
#![deny(missing_docs)]

mod cache;
mod error;
mod format;
mod open;
mod store;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cache_core::clock::Clock;
use cache_core::{BackendError, StorageBackend, StorageKey};

pub use crate::cache::DiskCache;
pub use crate::error::DiskError;
pub use crate::format::FORMAT;
use crate::store::{Inner, Limits};

const NAME: &str = "disk";

/// The default bound on the accounted bytes of a file's entries: 256 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 256 << 20;

/// The default size of redb's page cache for one file: 64 MiB.
pub const DEFAULT_PAGE_CACHE_BYTES: usize = 64 << 20;

/// When a commit reaches the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Every commit is fsynced before the call returns: a crash loses nothing
    /// that was stored. The default: surviving crashes is what the file is for.
    #[default]
    Immediate,
    /// Commits are not fsynced; the file is made durable by the open, by
    /// [`DiskBackend::flush`] and by the clean [`DiskBackend::close`]. Much
    /// cheaper writes; a crash loses the commits since the last durable one,
    /// whole (never part of one).
    Buffered,
}

/// What opening does with a file written with another format or key scheme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnVersionMismatch {
    /// Refuse to open it: [`DiskError::VersionMismatch`]. The default.
    #[default]
    Refuse,
    /// Discard every entry and start afresh in the same file.
    Flush,
}

/// What opening a file found and did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenReport {
    /// The file was new (or empty) and was initialized.
    pub created: bool,
    /// The file had another format or key scheme, and its entries were
    /// discarded ([`OnVersionMismatch::Flush`]).
    pub flushed: bool,
    /// The dirty flag was set: the last owner did not close the file cleanly
    /// (it crashed, was killed, or never called [`DiskBackend::close`]), so the
    /// recovery sweep ran.
    pub unclean_shutdown: bool,
    /// Expired entries removed by the recovery sweep.
    pub recovery_swept: u64,
}

/// Counters of one open file, since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiskStats {
    /// Lookups that found an entry past its expiry (a miss; it stays until swept).
    pub expired_reads: u64,
    /// Lookups that found a record failing its check (a miss).
    pub corrupt_entries: u64,
    /// Expired entries removed (sweeps, writes, recovery, and evictions of
    /// expired entries).
    pub swept: u64,
    /// Rows of the expiry index read by sweeps: the removed ones plus at most
    /// one per sweep. It grows with the expired entries only, not with the file.
    pub sweep_visits: u64,
    /// Live entries removed to keep `max_entries` or `max_bytes`.
    pub evicted: u64,
}

/// Entries and accounted bytes of a whole file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Usage {
    /// Entries stored, in every namespace (expired ones not swept yet included).
    pub entries: u64,
    /// Their accounted size: keys, records (value and 24 bytes of expiry and
    /// check) and index rows. The file itself is larger (B-tree pages, free
    /// pages kept for reuse).
    pub bytes: u64,
}

/// Builds a [`DiskBackend`]: [`DiskBackend::builder`].
#[derive(Clone, Debug)]
pub struct DiskBackendBuilder {
    path: PathBuf,
    durability: Durability,
    limits: Limits,
    on_version_mismatch: OnVersionMismatch,
    clock: Clock,
    verify_on_open: bool,
    page_cache_bytes: usize,
}

impl DiskBackendBuilder {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            durability: Durability::default(),
            limits: Limits {
                max_entries: None,
                max_bytes: Some(DEFAULT_MAX_BYTES),
            },
            on_version_mismatch: OnVersionMismatch::default(),
            clock: Clock::System,
            verify_on_open: true,
            page_cache_bytes: DEFAULT_PAGE_CACHE_BYTES,
        }
    }

    /// When commits reach the disk (default [`Durability::Immediate`]: fsync
    /// per commit).
    #[must_use]
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// The most entries the file keeps, over every namespace (default: no
    /// bound on the count; `max_bytes` bounds the file). Storing one more
    /// evicts the entry that expires soonest: the expired ones first. At least 1.
    #[must_use]
    pub fn max_entries(mut self, max_entries: u64) -> Self {
        self.limits.max_entries = Some(max_entries.max(1));
        self
    }

    /// The most accounted bytes (keys, records, index rows; see [`Usage`]) the
    /// file keeps (default [`DEFAULT_MAX_BYTES`], 256 MiB). Evicts like
    /// [`max_entries`](Self::max_entries); an entry larger than the bound is
    /// not stored ([`DiskError::TooLarge`]).
    #[must_use]
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.limits.max_bytes = Some(max_bytes);
        self
    }

    /// Lifts both bounds.
    #[must_use]
    pub fn unbounded(mut self) -> Self {
        self.limits = Limits::default();
        self
    }

    /// What to do with a file of another format or key scheme (default
    /// [`OnVersionMismatch::Refuse`]).
    #[must_use]
    pub fn on_version_mismatch(mut self, policy: OnVersionMismatch) -> Self {
        self.on_version_mismatch = policy;
        self
    }

    /// Where expiry times come from (default the system's wall clock). A
    /// [`Clock::Mock`]'s elapsed time is read as time since the Unix epoch,
    /// so tests decide when entries expire.
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Whether opening checks the whole file (default on): redb verifies the
    /// checksum of every page of its trees and rebuilds its allocator state,
    /// so a file damaged since it was last written (bit rot, a bad copy, a
    /// tool writing into it) is refused with [`DiskError::Corrupt`] before any
    /// use. It reads the whole file: about 1 GB/s here, so a 64 MiB file
    /// adds some 60 ms to the open.
    ///
    /// Turned off, opening costs well under a millisecond whatever the size,
    /// and a damaged record is still never served (every record is checked,
    /// and the store's panics on damaged pages are caught and returned as
    /// errors, so damaged entries read as misses). But redb trusts unchecked
    /// files: damage in its own structures can make an open allocate a lot
    /// and take long before it fails (a minute in a debug build, on one of
    /// the damaged files of the tests), and a panic of the store while it
    /// unwinds from another would abort the process. Turn it off only for
    /// large files that are opened often, on storage you trust. After an
    /// unclean shutdown redb checks the file anyway.
    #[must_use]
    pub fn verify_on_open(mut self, verify: bool) -> Self {
        self.verify_on_open = verify;
        self
    }

    /// The memory redb may use to cache the file's pages (default
    /// [`DEFAULT_PAGE_CACHE_BYTES`], 64 MiB).
    #[must_use]
    pub fn page_cache_bytes(mut self, bytes: usize) -> Self {
        self.page_cache_bytes = bytes;
        self
    }

    /// Opens the file, creating it (and its directory) if needed. After an
    /// unclean shutdown, recovers first (see [`OpenReport`]).
    ///
    /// # Errors
    ///
    /// [`DiskError::Locked`] when another process has the file open;
    /// [`DiskError::VersionMismatch`] for a file of another format or key
    /// scheme (unless [`OnVersionMismatch::Flush`]); [`DiskError::Foreign`] for
    /// a redb file that is not a cache; [`DiskError::Corrupt`] for a damaged
    /// file; [`DiskError::Io`] when the file cannot be created or read.
    pub fn open(self) -> Result<DiskBackend, DiskError> {
        open::open(self)
    }
}

/// Results of `#[ttl_cache]` functions kept in one file on disk.
///
/// A cheap handle: clones share the open file. Plug it in with `backend = …`
/// naming a `DiskBackend` (or an `Arc<DiskBackend>`), typically a `static`
/// `LazyLock`, so that every function shares one file:
/// `#[ttl_cache(backend = DISK.clone())]`. Each function's results live in its
/// own namespace (its identity), so `cache_info().current_size` and
/// `cache_clear()` are per function; [`DiskCache`] gives typed access to a
/// namespace of your own.
///
/// The file is closed cleanly when the last handle is dropped, or by
/// [`close`](Self::close), which a `static` (never dropped) needs.
#[derive(Clone)]
pub struct DiskBackend {
    inner: Arc<Inner>,
}

impl fmt::Debug for DiskBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiskBackend")
            .field("path", &self.inner.path)
            .field("durability", &self.durability())
            .field("max_entries", &self.inner.limits.max_entries)
            .field("max_bytes", &self.inner.limits.max_bytes)
            .field("open_report", &self.inner.report)
            .finish_non_exhaustive()
    }
}

impl DiskBackend {
    /// A builder for the cache file at `path`.
    pub fn builder(path: impl AsRef<Path>) -> DiskBackendBuilder {
        DiskBackendBuilder::new(path.as_ref().to_path_buf())
    }

    /// Opens the cache file at `path` with the default settings.
    ///
    /// # Errors
    ///
    /// As [`DiskBackendBuilder::open`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DiskError> {
        Self::builder(path).open()
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// When commits reach the disk.
    pub fn durability(&self) -> Durability {
        match self.inner.durability {
            redb::Durability::None => Durability::Buffered,
            _ => Durability::Immediate,
        }
    }

    /// The bound on entries, if any.
    pub fn max_entries(&self) -> Option<u64> {
        self.inner.limits.max_entries
    }

    /// The bound on accounted bytes, if any.
    pub fn max_bytes(&self) -> Option<u64> {
        self.inner.limits.max_bytes
    }

    /// What opening found and did (was the last shutdown clean, what the
    /// recovery swept).
    pub fn open_report(&self) -> OpenReport {
        self.inner.report
    }

    /// The file's counters since it was opened.
    pub fn stats(&self) -> DiskStats {
        self.inner.counters.snapshot()
    }

    /// The live value stored under `key`: `None` if absent or expired.
    ///
    /// # Errors
    ///
    /// [`DiskError::Corrupt`] for a record that fails its check (a miss: the
    /// next write of the key replaces it); other errors when the file cannot
    /// be read.
    pub fn get(&self, key: &StorageKey<'_>) -> Result<Option<Vec<u8>>, DiskError> {
        self.inner.get(key)
    }

    /// Stores `value` under `key` for `ttl` (`None`: no expiry; zero: nothing
    /// is stored), in one transaction.
    ///
    /// # Errors
    ///
    /// [`DiskError::TooLarge`] for an entry larger than `max_bytes`; other
    /// errors when the file cannot be written. Nothing is stored then.
    pub fn set(
        &self,
        key: &StorageKey<'_>,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<(), DiskError> {
        self.inner.set_many("set", &[(*key, value)], ttl)
    }

    /// Stores every `(key, value)` for `ttl`, in one transaction: after a
    /// crash, all of them are there or none is.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set); nothing is stored then.
    pub fn set_many(
        &self,
        items: &[(StorageKey<'_>, &[u8])],
        ttl: Option<Duration>,
    ) -> Result<(), DiskError> {
        self.inner.set_many("set_many", items, ttl)
    }

    /// Removes the entry of `key`; returns its value if it was live.
    ///
    /// # Errors
    ///
    /// When the file cannot be written.
    pub fn remove(&self, key: &StorageKey<'_>) -> Result<Option<Vec<u8>>, DiskError> {
        self.inner.remove(key)
    }

    /// Removes every entry of `namespace` (every version), in one
    /// transaction; returns how many there were. Other namespaces are untouched.
    ///
    /// # Errors
    ///
    /// When the file cannot be written; nothing is removed then.
    pub fn clear(&self, namespace: &str) -> Result<u64, DiskError> {
        self.inner
            .write("clear", None, |tables, _, _| tables.clear(namespace))
    }

    /// The live entries of `namespace`: O(1) plus the expired entries not
    /// swept yet.
    ///
    /// # Errors
    ///
    /// When the file cannot be read.
    pub fn len(&self, namespace: &str) -> Result<u64, DiskError> {
        self.inner.len(namespace)
    }

    /// Entries and accounted bytes of the whole file.
    ///
    /// # Errors
    ///
    /// When the file cannot be read.
    pub fn usage(&self) -> Result<Usage, DiskError> {
        let (entries, bytes) = self.inner.usage()?;
        Ok(Usage { entries, bytes })
    }

    /// Removes every expired entry, in one transaction, reading only those
    /// (O(expired), however many live entries the file has); returns how many.
    ///
    /// # Errors
    ///
    /// When the file cannot be written; nothing is removed then.
    pub fn sweep(&self) -> Result<u64, DiskError> {
        self.inner.write("sweep", None, |tables, now, tally| {
            tables.sweep(now, None, tally)
        })
    }

    /// Makes every commit so far durable (one fsync). Needed only with
    /// [`Durability::Buffered`].
    ///
    /// # Errors
    ///
    /// When the file cannot be written.
    pub fn flush(&self) -> Result<(), DiskError> {
        self.inner
            .write("flush", Some(redb::Durability::Immediate), |_, _, _| Ok(()))
    }

    /// Closes the file cleanly: makes it durable and clears the dirty flag, so
    /// the next open needs no recovery. Every handle then fails with
    /// [`DiskError::Closed`] (a miss behind `#[ttl_cache]`); the file stays
    /// locked until the last handle is dropped. Call it before exiting when
    /// the backend lives in a `static`; dropping the last handle does it too.
    /// Closing twice is harmless.
    ///
    /// # Errors
    ///
    /// When the file cannot be written (the next open then recovers).
    pub fn close(&self) -> Result<(), DiskError> {
        self.inner.close()
    }
}

/// A [`DiskError`] as the runtime sees it.
fn backend_error(operation: &'static str, error: DiskError) -> BackendError {
    match error {
        DiskError::Closed { path } => BackendError::Unavailable {
            backend: NAME,
            reason: format!("the cache file {} is closed", path.display()),
        },
        error => BackendError::Failed {
            backend: NAME,
            operation,
            source: Box::new(error),
        },
    }
}

impl StorageBackend for DiskBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn get(&self, key: &StorageKey<'_>) -> Result<Option<Vec<u8>>, BackendError> {
        self.inner.get(key).map_err(|e| backend_error("get", e))
    }

    fn set(
        &self,
        key: &StorageKey<'_>,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<(), BackendError> {
        self.inner
            .set_many("set", &[(*key, value)], ttl)
            .map_err(|e| backend_error("set", e))
    }

    fn clear(&self, namespace: &str) -> Result<(), BackendError> {
        DiskBackend::clear(self, namespace)
            .map(drop)
            .map_err(|e| backend_error("clear", e))
    }

    fn len(&self, namespace: &str) -> Result<u64, BackendError> {
        self.inner
            .len(namespace)
            .map_err(|e| backend_error("len", e))
    }
}

impl cache_core::IntoBackend for DiskBackend {
    fn into_backend(self) -> cache_core::Backend {
        cache_core::Backend::Storage(Arc::new(self))
    }
}
