//! The errors of a cache file, each naming the file.

use std::path::{Path, PathBuf};

/// Opening or using a cache file failed. Every message names the file.
///
/// Behind `#[ttl_cache]` these never reach the caller: the runtime turns them
/// into counted misses (`backend_errors`), see [`StorageBackend`](cache_core::StorageBackend).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiskError {
    /// Another process (or another [`DiskBackend`](crate::DiskBackend) in this
    /// one) has the file open: a cache file has one owner at a time.
    #[error(
        "cache file {}: another process has the cache open (one process at a time owns a \
         cache file; close it there, or give this process a file of its own)",
        path.display()
    )]
    Locked {
        /// The cache file.
        path: PathBuf,
    },
    /// The file was written with another on-disk format or key scheme: its
    /// entries could be misread, so none is served. Open it with
    /// [`OnVersionMismatch::Flush`](crate::OnVersionMismatch::Flush) to discard them.
    #[error(
        "cache file {}: written with {found}, but this build uses {expected}; its entries are \
         not served (open it with OnVersionMismatch::Flush to discard them, or delete the file)",
        path.display()
    )]
    VersionMismatch {
        /// The cache file.
        path: PathBuf,
        /// What the file records.
        found: String,
        /// What this build writes.
        expected: String,
    },
    /// The file is a database of something else (it has tables that are not a
    /// cache's). It is left untouched, whatever
    /// [`OnVersionMismatch`](crate::OnVersionMismatch) says.
    #[error(
        "{}: not a cache file (a redb database with other tables); it is left untouched",
        path.display()
    )]
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// The file, or one entry of it, is damaged. A damaged entry reads as a
    /// miss behind `#[ttl_cache]` and is replaced by the next write of its key;
    /// a damaged file is refused on open (delete it: it is a cache).
    #[error("cache file {}: corrupt: {detail}", path.display())]
    Corrupt {
        /// The cache file.
        path: PathBuf,
        /// What was found.
        detail: String,
    },
    /// The operating system refused an operation on the file.
    #[error("cache file {}: {source}", path.display())]
    Io {
        /// The cache file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// One entry (key and record) is larger than the file's `max_bytes`, so it
    /// is not stored.
    #[error(
        "cache file {}: an entry of {len} bytes does not fit in max_bytes = {max}",
        path.display()
    )]
    TooLarge {
        /// The cache file.
        path: PathBuf,
        /// The entry's size (key and record).
        len: u64,
        /// The bound.
        max: u64,
    },
    /// [`DiskBackend::close`](crate::DiskBackend::close) was called: the handle
    /// serves nothing more.
    #[error("cache file {}: closed", path.display())]
    Closed {
        /// The cache file.
        path: PathBuf,
    },
    /// Another failure of the store.
    #[error("cache file {}: {operation} failed: {detail}", path.display())]
    Store {
        /// The cache file.
        path: PathBuf,
        /// What was attempted (`"get"`, `"set"`, `"clear"`, ...).
        operation: &'static str,
        /// The store's message.
        detail: String,
    },
    /// A value could not be serialized ([`DiskCache`](crate::DiskCache)).
    #[error("cache file {}: {source}", path.display())]
    Codec {
        /// The cache file.
        path: PathBuf,
        /// The codec's error.
        #[source]
        source: cache_core::codec::CodecError,
    },
}

impl DiskError {
    /// The cache file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Locked { path }
            | Self::VersionMismatch { path, .. }
            | Self::Foreign { path }
            | Self::Corrupt { path, .. }
            | Self::Io { path, .. }
            | Self::TooLarge { path, .. }
            | Self::Closed { path }
            | Self::Store { path, .. }
            | Self::Codec { path, .. } => path,
        }
    }
}

/// A failure inside an operation, before the path is attached.
#[derive(Debug)]
pub(crate) enum Fail {
    Redb(redb::Error),
    TooLarge {
        len: u64,
        max: u64,
    },
    Closed,
    Mismatch {
        found: String,
        expected: String,
    },
    Foreign,
    /// A record that fails its check.
    CorruptEntry(String),
}

impl Fail {
    /// The error, naming `path`.
    pub(crate) fn at(self, path: &Path, operation: &'static str) -> DiskError {
        let path = path.to_path_buf();
        match self {
            Self::TooLarge { len, max } => DiskError::TooLarge { path, len, max },
            Self::Closed => DiskError::Closed { path },
            Self::Mismatch { found, expected } => DiskError::VersionMismatch {
                path,
                found,
                expected,
            },
            Self::Foreign => DiskError::Foreign { path },
            Self::CorruptEntry(detail) => DiskError::Corrupt { path, detail },
            Self::Redb(error) => from_redb(path, operation, error),
        }
    }
}

fn from_redb(path: PathBuf, operation: &'static str, error: redb::Error) -> DiskError {
    match error {
        redb::Error::DatabaseAlreadyOpen | redb::Error::LockProtocolMismatch => {
            DiskError::Locked { path }
        }
        redb::Error::UpgradeRequired(version) => DiskError::VersionMismatch {
            path,
            found: format!("redb file format {version}"),
            expected: "the file format of redb 4".into(),
        },
        redb::Error::Corrupted(detail) => DiskError::Corrupt { path, detail },
        redb::Error::RepairAborted => DiskError::Corrupt {
            path,
            detail: "the store's repair was aborted".into(),
        },
        redb::Error::Io(source) => DiskError::Io { path, source },
        redb::Error::ValueTooLarge(len) => DiskError::TooLarge {
            path,
            len: len as u64,
            max: 3 << 30,
        },
        other => DiskError::Store {
            path,
            operation,
            detail: other.to_string(),
        },
    }
}

macro_rules! from_redb_errors {
    ($($error:ty),*) => {$(
        impl From<$error> for Fail {
            fn from(error: $error) -> Self {
                Self::Redb(error.into())
            }
        }
    )*};
}

from_redb_errors!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);
