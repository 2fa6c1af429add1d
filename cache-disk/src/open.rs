//! Opening a cache file: the lock, the version records, the dirty flag, and
//! the recovery sweep after an unclean shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use redb::{Database, MultimapTableHandle, ReadableTable, TableHandle, WriteTransaction};

use crate::error::{DiskError, Fail};
use crate::format::{
    self, DATA, FORMAT, META, META_DIRTY, META_FORMAT, META_HASH_SCHEME, TABLE_PREFIX,
};
use crate::store::{Counters, Inner, shielded};
use crate::{DiskBackend, DiskBackendBuilder, Durability, OnVersionMismatch, OpenReport};

/// What the file's records say, before this open changes them.
enum Found {
    /// No table at all: a new file.
    Empty,
    /// This build's format and key scheme; whether the dirty flag was set.
    Current { dirty: bool },
    /// Something else, described.
    Other(String),
}

fn describe(format: &str, hash_scheme: &str) -> String {
    format!("cache-disk format {format} and key scheme {hash_scheme:?}")
}

/// Reads the version records of a file that has tables.
fn inspect(txn: &WriteTransaction, names: &[String]) -> Result<Found, Fail> {
    if names.is_empty() {
        return Ok(Found::Empty);
    }
    if !names.iter().any(|name| name == META.name()) {
        return Ok(Found::Other("no version record".into()));
    }
    let meta = match txn.open_table(META) {
        Ok(meta) => meta,
        Err(redb::TableError::TableTypeMismatch { .. }) => {
            return Ok(Found::Other("a version record of another layout".into()));
        }
        Err(error) => return Err(error.into()),
    };
    let read = |name: &str| -> Result<Option<Vec<u8>>, Fail> {
        Ok(meta.get(name)?.map(|g| g.value().to_vec()))
    };
    let format = read(META_FORMAT)?;
    let hash_scheme = read(META_HASH_SCHEME)?;
    let format_text = match format.as_deref().map(<[u8; 4]>::try_from) {
        Some(Ok(bytes)) => u32::from_le_bytes(bytes).to_string(),
        Some(Err(_)) => "(unreadable)".into(),
        None => "(none)".into(),
    };
    let scheme_text = hash_scheme.as_deref().map_or_else(
        || "(none)".into(),
        |bytes| String::from_utf8_lossy(bytes).into_owned(),
    );
    let current = format.as_deref() == Some(&FORMAT.to_le_bytes()[..])
        && hash_scheme.as_deref() == Some(format::hash_scheme().as_bytes());
    if !current {
        return Ok(Found::Other(describe(&format_text, &scheme_text)));
    }
    let dirty = read(META_DIRTY)?.as_deref() != Some(&[0u8][..]);
    Ok(Found::Current { dirty })
}

/// Deletes every table of the cache (a flush after a version mismatch).
fn delete_cache_tables(txn: &WriteTransaction) -> Result<(), Fail> {
    let tables: Vec<_> = txn
        .list_tables()?
        .filter(|t| t.name().starts_with(TABLE_PREFIX))
        .collect();
    for table in tables {
        txn.delete_table(table)?;
    }
    let multimap: Vec<_> = txn
        .list_multimap_tables()?
        .filter(|t| t.name().starts_with(TABLE_PREFIX))
        .collect();
    for table in multimap {
        txn.delete_multimap_table(table)?;
    }
    Ok(())
}

/// Checks the version records, flushes or refuses on a mismatch, and sets the
/// dirty flag, in one durable transaction. Returns `(created, flushed, dirty)`.
fn init(db: &Database, policy: OnVersionMismatch) -> Result<(bool, bool, bool), Fail> {
    let mut txn = db.begin_write()?;
    txn.set_durability(redb::Durability::Immediate)?;
    let names: Vec<String> = txn
        .list_tables()?
        .map(|t| t.name().to_owned())
        .chain(txn.list_multimap_tables()?.map(|t| t.name().to_owned()))
        .collect();
    if names.iter().any(|name| !name.starts_with(TABLE_PREFIX)) {
        return Err(Fail::Foreign);
    }
    let (created, flushed, dirty) = match inspect(&txn, &names)? {
        Found::Empty => (true, false, false),
        Found::Current { dirty } => (false, false, dirty),
        Found::Other(found) => match policy {
            OnVersionMismatch::Refuse => {
                return Err(Fail::Mismatch {
                    found,
                    expected: describe(&FORMAT.to_string(), format::hash_scheme()),
                });
            }
            OnVersionMismatch::Flush => {
                delete_cache_tables(&txn)?;
                (false, true, false)
            }
        },
    };
    {
        let mut meta = txn.open_table(META)?;
        if created || flushed {
            meta.insert(META_FORMAT, &FORMAT.to_le_bytes()[..])?;
            meta.insert(META_HASH_SCHEME, format::hash_scheme().as_bytes())?;
        }
        meta.insert(META_DIRTY, &[1u8][..])?;
    }
    // The data table exists from now on: reads never meet a missing one.
    txn.open_table(DATA)?;
    txn.commit()?;
    Ok((created, flushed, dirty))
}

pub(crate) fn open(builder: DiskBackendBuilder) -> Result<DiskBackend, DiskError> {
    let path = builder.path;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| DiskError::Io {
            path: path.clone(),
            source,
        })?;
    }
    let db = shielded(&path, "open", || {
        let mut redb_builder = redb::Builder::new();
        redb_builder.set_cache_size(builder.page_cache_bytes);
        redb_builder.set_check_integrity_on_open(builder.verify_on_open);
        Ok(redb_builder.create(&path)?)
    })?;
    let (created, flushed, dirty) =
        shielded(&path, "open", || init(&db, builder.on_version_mismatch))?;
    let mut inner = Inner {
        db,
        path,
        durability: match builder.durability {
            Durability::Immediate => redb::Durability::Immediate,
            Durability::Buffered => redb::Durability::None,
        },
        limits: builder.limits,
        clock: builder.clock,
        closed: AtomicBool::new(false),
        counters: Counters::default(),
        report: OpenReport {
            created,
            flushed,
            unclean_shutdown: dirty,
            recovery_swept: 0,
        },
    };
    if dirty {
        let swept = inner.write(
            "recovery sweep",
            Some(redb::Durability::Immediate),
            |tables, now, tally| tables.sweep(now, None, tally),
        );
        match swept {
            Ok(swept) => inner.report.recovery_swept = swept,
            Err(error) => {
                // The flag stays set: the next open recovers again.
                inner.closed.store(true, Ordering::Relaxed);
                return Err(error);
            }
        }
    }
    #[cfg(feature = "tracing")]
    report_open(&inner.path, inner.report);
    Ok(DiskBackend {
        inner: Arc::new(inner),
    })
}

/// How the file was opened, as events: a recovery or a flush at `WARN` (the
/// last owner crashed, or entries of another format were dropped), a new
/// file at `DEBUG`.
#[cfg(feature = "tracing")]
fn report_open(path: &std::path::Path, report: OpenReport) {
    let path = path.display();
    if report.unclean_shutdown {
        tracing::warn!(
            backend = crate::NAME,
            path = %path,
            recovery_swept = report.recovery_swept,
            "disk cache recovered after an unclean shutdown"
        );
    }
    if report.flushed {
        tracing::warn!(
            backend = crate::NAME,
            path = %path,
            "disk cache file of another format or key scheme: its entries were discarded"
        );
    }
    if report.created {
        tracing::debug!(backend = crate::NAME, path = %path, "disk cache file created");
    }
}
