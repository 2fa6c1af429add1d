//! The operations on the file: one redb transaction each.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use cache_core::StorageKey;
use cache_core::clock::Clock;
use redb::{Database, ReadTransaction, ReadableTable, Table, WriteTransaction};

use crate::error::{DiskError, Fail};
use crate::format::{self, DATA, META, META_DIRTY};
use crate::{DiskStats, OpenReport};

/// Runs `f`, turning its failure, or a panic of the store (redb panics on some
/// kinds of damage), into a [`DiskError`] naming `path`.
pub(crate) fn shielded<T>(
    path: &Path,
    operation: &'static str,
    f: impl FnOnce() -> Result<T, Fail>,
) -> Result<T, DiskError> {
    match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.map_err(|fail| fail.at(path, operation)),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            Err(DiskError::Corrupt {
                path: path.to_path_buf(),
                detail: format!("the store failed during {operation}: {message}"),
            })
        }
    }
}

/// The bounds of a file.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Limits {
    pub(crate) max_entries: Option<u64>,
    pub(crate) max_bytes: Option<u64>,
}

/// What one transaction did, added to the counters once it commits.
#[derive(Default)]
pub(crate) struct Tally {
    swept: u64,
    sweep_visits: u64,
    evicted: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    expired_reads: AtomicU64,
    corrupt_entries: AtomicU64,
    swept: AtomicU64,
    sweep_visits: AtomicU64,
    evicted: AtomicU64,
}

impl Counters {
    fn add(&self, tally: &Tally) {
        for (counter, n) in [
            (&self.swept, tally.swept),
            (&self.sweep_visits, tally.sweep_visits),
            (&self.evicted, tally.evicted),
        ] {
            if n > 0 {
                counter.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn snapshot(&self) -> DiskStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        DiskStats {
            expired_reads: get(&self.expired_reads),
            corrupt_entries: get(&self.corrupt_entries),
            swept: get(&self.swept),
            sweep_visits: get(&self.sweep_visits),
            evicted: get(&self.evicted),
        }
    }
}

/// The open file behind every clone of a [`DiskBackend`](crate::DiskBackend).
pub(crate) struct Inner {
    pub(crate) db: Database,
    pub(crate) path: PathBuf,
    pub(crate) durability: redb::Durability,
    pub(crate) limits: Limits,
    pub(crate) clock: Clock,
    pub(crate) closed: AtomicBool,
    pub(crate) counters: Counters,
    pub(crate) report: OpenReport,
}

/// A key found by a scan but not by a lookup.
fn damaged_index() -> Fail {
    Fail::CorruptEntry(
        "the file's index is damaged (a key found by a scan is not found by a lookup)".into(),
    )
}

/// The data table of a write transaction.
pub(crate) struct Tables<'t> {
    data: Table<'t, &'static [u8], &'static [u8]>,
}

impl<'t> Tables<'t> {
    pub(crate) fn open(txn: &'t WriteTransaction) -> Result<Self, Fail> {
        Ok(Self {
            data: txn.open_table(DATA)?,
        })
    }

    fn counts(&self, key: &[u8]) -> Result<(u64, u64), Fail> {
        Ok(self
            .data
            .get(key)?
            .map_or((0, 0), |g| format::decode_counts(g.value())))
    }

    /// Adds (or, with `add` false, takes away) one entry of `size` bytes to
    /// the counts of `namespace` and to the totals.
    fn account(&mut self, namespace: &[u8], add: bool, size: u64) -> Result<(), Fail> {
        let step = |(entries, bytes): (u64, u64)| {
            if add {
                (entries.saturating_add(1), bytes.saturating_add(size))
            } else {
                (entries.saturating_sub(1), bytes.saturating_sub(size))
            }
        };
        let key = format::count_key(namespace);
        let counts = step(self.counts(&key)?);
        if counts.0 == 0 {
            self.data.remove(key.as_slice())?;
        } else {
            self.data
                .insert(key.as_slice(), &format::encode_counts(counts)[..])?;
        }
        let totals = step(self.totals()?);
        self.data
            .insert(format::TOTALS_KEY, &format::encode_counts(totals)[..])?;
        Ok(())
    }

    fn totals(&self) -> Result<(u64, u64), Fail> {
        self.counts(format::TOTALS_KEY)
    }

    /// Removes the entry at `entry_key` (of `namespace`) with its index row
    /// and counts; returns its record.
    fn remove_entry(
        &mut self,
        namespace: &[u8],
        entry_key: &[u8],
    ) -> Result<Option<Vec<u8>>, Fail> {
        let removed = self.data.remove(entry_key)?.map(|g| g.value().to_vec());
        let Some(record) = removed else {
            return Ok(None);
        };
        if let Some(expires_at) = format::record_expiry(&record) {
            self.data
                .remove(format::expiry_row(expires_at, entry_key).as_slice())?;
        }
        let size = format::entry_size(namespace.len(), record.len());
        self.account(namespace, false, size)?;
        Ok(Some(record))
    }

    /// Removes the first row of the expiry index (the entry that expires
    /// soonest) and its entry. `false` when the index is empty, or when its
    /// first row is not expired at `now` and `only_expired` is set.
    fn pop_soonest(
        &mut self,
        now: u64,
        only_expired: bool,
        tally: &mut Tally,
    ) -> Result<bool, Fail> {
        let first = self.data.range(format::EXPIRY_START..)?.next();
        let Some(row) = first.transpose()?.map(|(k, _)| k.value().to_vec()) else {
            return Ok(false);
        };
        let parsed = format::split_expiry_row(&row)
            .and_then(|(expires_at, key)| Some((expires_at, key, format::key_namespace(key)?)));
        let expires_at = parsed.map_or(0, |(expires_at, ..)| expires_at);
        if only_expired {
            tally.sweep_visits += 1;
            if expires_at > now {
                return Ok(false);
            }
        }
        if self.data.remove(row.as_slice())?.is_none() {
            // Found by a scan but not by a lookup: the tree is damaged. Stop
            // here rather than find the same row again.
            return Err(damaged_index());
        }
        // A malformed row (only after damage) names no entry: it just goes.
        let Some((expires_at, key, namespace)) = parsed else {
            return Ok(true);
        };
        let record = self.data.remove(key)?.map(|g| g.value().to_vec());
        if let Some(record) = record {
            if format::record_expiry(&record) != Some(expires_at) {
                // A stray index row (only after damage): the entry has a row
                // of its own, so it stays.
                self.data.insert(key, record.as_slice())?;
                return Ok(true);
            }
            let size = format::entry_size(namespace.len(), record.len());
            self.account(namespace, false, size)?;
        }
        if expires_at <= now {
            tally.swept += 1;
        } else {
            tally.evicted += 1;
        }
        Ok(true)
    }

    /// Removes the entries expired at `now`, soonest first, at most `limit`
    /// of them: O(expired) index rows read, never the live ones.
    pub(crate) fn sweep(
        &mut self,
        now: u64,
        limit: Option<u64>,
        tally: &mut Tally,
    ) -> Result<u64, Fail> {
        let mut removed = 0;
        while limit.is_none_or(|limit| removed < limit) && self.pop_soonest(now, true, tally)? {
            removed += 1;
        }
        Ok(removed)
    }

    /// Stores `value` under `key` until `expires_at`, replacing the key's
    /// entry, after making room under `limits` (soonest expiry first: expired
    /// entries go before live ones).
    pub(crate) fn put(
        &mut self,
        key: &StorageKey<'_>,
        value: &[u8],
        expires_at: u64,
        now: u64,
        limits: Limits,
        tally: &mut Tally,
    ) -> Result<(), Fail> {
        let record = format::encode_record(key, expires_at, value);
        let namespace = key.namespace.as_bytes();
        let size = format::entry_size(namespace.len(), record.len());
        if let Some(max) = limits.max_bytes.filter(|&max| size > max) {
            return Err(Fail::TooLarge { len: size, max });
        }
        let entry_key = format::entry_key(key.namespace, key.version, key.digest.as_bytes());
        self.remove_entry(namespace, &entry_key)?;
        loop {
            let (entries, bytes) = self.totals()?;
            let over = limits.max_entries.is_some_and(|max| entries >= max)
                || limits
                    .max_bytes
                    .is_some_and(|max| bytes.saturating_add(size) > max);
            if !over || !self.pop_soonest(now, false, tally)? {
                break;
            }
        }
        self.data.insert(entry_key.as_slice(), record.as_slice())?;
        self.data.insert(
            format::expiry_row(expires_at, &entry_key).as_slice(),
            &[][..],
        )?;
        self.account(namespace, true, size)
    }

    /// Removes the entry of `key`; returns its record.
    pub(crate) fn remove(&mut self, key: &StorageKey<'_>) -> Result<Option<Vec<u8>>, Fail> {
        let entry_key = format::entry_key(key.namespace, key.version, key.digest.as_bytes());
        self.remove_entry(key.namespace.as_bytes(), &entry_key)
    }

    /// Removes every entry of `namespace`; returns how many there were.
    pub(crate) fn clear(&mut self, namespace: &str) -> Result<u64, Fail> {
        let prefix = format::namespace_prefix(namespace);
        let mut low = prefix.clone();
        low.extend_from_slice(&[0; 36]);
        let mut high = prefix;
        high.extend_from_slice(&[0xFF; 36]);
        // Keys first, then one removal each: redb's draining iterator
        // finishes its removals in `drop`, which must not run on a damaged
        // page while a panic unwinds.
        let mut rows = Vec::new();
        for row in self.data.range(low.as_slice()..=high.as_slice())? {
            let (key, record) = row?;
            let record = record.value();
            rows.push((
                key.value().to_vec(),
                format::record_expiry(record),
                record.len(),
            ));
        }
        let (mut entries, mut bytes) = (0u64, 0u64);
        for (key, expires_at, len) in rows {
            if self.data.remove(key.as_slice())?.is_none() {
                return Err(damaged_index());
            }
            if let Some(expires_at) = expires_at {
                self.data
                    .remove(format::expiry_row(expires_at, &key).as_slice())?;
            }
            entries += 1;
            bytes = bytes.saturating_add(format::entry_size(namespace.len(), len));
        }
        self.data
            .remove(format::count_key(namespace.as_bytes()).as_slice())?;
        let (total_entries, total_bytes) = self.totals()?;
        let totals = (
            total_entries.saturating_sub(entries),
            total_bytes.saturating_sub(bytes),
        );
        self.data
            .insert(format::TOTALS_KEY, &format::encode_counts(totals)[..])?;
        Ok(entries)
    }
}

impl Inner {
    pub(crate) fn now(&self) -> u64 {
        format::now_ms(&self.clock)
    }

    fn open_check(&self) -> Result<(), Fail> {
        if self.closed.load(Ordering::Relaxed) {
            Err(Fail::Closed)
        } else {
            Ok(())
        }
    }

    /// Runs `f` in one write transaction, committed with the file's
    /// durability (or `durability`): all of it, or nothing.
    pub(crate) fn write<T>(
        &self,
        operation: &'static str,
        durability: Option<redb::Durability>,
        f: impl FnOnce(&mut Tables<'_>, u64, &mut Tally) -> Result<T, Fail>,
    ) -> Result<T, DiskError> {
        shielded(&self.path, operation, || {
            self.open_check()?;
            let mut txn = self.db.begin_write()?;
            txn.set_durability(durability.unwrap_or(self.durability))?;
            let now = self.now();
            let mut tally = Tally::default();
            let out = {
                let mut tables = Tables::open(&txn)?;
                f(&mut tables, now, &mut tally)?
            };
            txn.commit()?;
            self.counters.add(&tally);
            Ok(out)
        })
    }

    /// Runs `f` in one read transaction.
    pub(crate) fn read<T>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&ReadTransaction, u64) -> Result<T, Fail>,
    ) -> Result<T, DiskError> {
        shielded(&self.path, operation, || {
            self.open_check()?;
            let txn = redb::ReadableDatabase::begin_read(&self.db)?;
            f(&txn, self.now())
        })
    }

    /// The live value stored under `key`.
    pub(crate) fn get(&self, key: &StorageKey<'_>) -> Result<Option<Vec<u8>>, DiskError> {
        self.read("get", |txn, now| {
            let data = txn.open_table(DATA)?;
            let entry_key = format::entry_key(key.namespace, key.version, key.digest.as_bytes());
            let Some(guard) = data.get(entry_key.as_slice())? else {
                return Ok(None);
            };
            match format::decode_record(key, guard.value()) {
                None => {
                    self.counters
                        .corrupt_entries
                        .fetch_add(1, Ordering::Relaxed);
                    Err(Fail::CorruptEntry(format!(
                        "the entry {}/v{}/{} fails its check (a miss; the next write of \
                         its key replaces it)",
                        key.namespace, key.version, key.digest
                    )))
                }
                Some((expires_at, _)) if expires_at <= now => {
                    self.counters.expired_reads.fetch_add(1, Ordering::Relaxed);
                    Ok(None)
                }
                Some((_, value)) => Ok(Some(value.to_vec())),
            }
        })
    }

    /// Stores every item in one transaction.
    pub(crate) fn set_many(
        &self,
        operation: &'static str,
        items: &[(StorageKey<'_>, &[u8])],
        ttl: Option<std::time::Duration>,
    ) -> Result<(), DiskError> {
        let limits = self.limits;
        self.write(operation, None, |tables, now, tally| {
            let Some(expires_at) = format::expiry_after(now, ttl) else {
                return Ok(());
            };
            // Writes sweep a few expired entries as they go, so short-lived
            // entries do not pile up in a file that is only written.
            let budget = 8u64.saturating_add(2u64.saturating_mul(items.len() as u64));
            tables.sweep(now, Some(budget), tally)?;
            for (key, value) in items {
                tables.put(key, value, expires_at, now, limits, tally)?;
            }
            Ok(())
        })
    }

    /// Removes the entry of `key`; returns its value if it was live and whole.
    pub(crate) fn remove(&self, key: &StorageKey<'_>) -> Result<Option<Vec<u8>>, DiskError> {
        self.write("remove", None, |tables, now, _| {
            let record = tables.remove(key)?;
            Ok(record
                .as_deref()
                .and_then(|record| format::decode_record(key, record))
                .filter(|(expires_at, _)| *expires_at > now)
                .map(|(_, value)| value.to_vec()))
        })
    }

    /// The live entries of `namespace`: its count, less the expired entries
    /// not swept yet (O(expired) index rows read).
    pub(crate) fn len(&self, namespace: &str) -> Result<u64, DiskError> {
        self.read("len", |txn, now| {
            let data = txn.open_table(DATA)?;
            let stored = data
                .get(format::count_key(namespace.as_bytes()).as_slice())?
                .map_or(0, |g| format::decode_counts(g.value()).0);
            if stored == 0 {
                return Ok(0);
            }
            let mut expired = 0u64;
            let end = format::expired_end(now);
            for row in data.range(format::EXPIRY_START..&end[..])? {
                let (row, _) = row?;
                let namespace_of = format::split_expiry_row(row.value())
                    .and_then(|(_, key)| format::key_namespace(key));
                if namespace_of == Some(namespace.as_bytes()) {
                    expired += 1;
                }
            }
            Ok(stored.saturating_sub(expired))
        })
    }

    /// Entries and accounted bytes over every namespace (expired ones not
    /// swept yet included).
    pub(crate) fn usage(&self) -> Result<(u64, u64), DiskError> {
        self.read("usage", |txn, _| {
            Ok(txn
                .open_table(DATA)?
                .get(format::TOTALS_KEY)?
                .map_or((0, 0), |g| format::decode_counts(g.value())))
        })
    }

    /// Marks the file closed cleanly (the dirty flag off, durably).
    pub(crate) fn close(&self) -> Result<(), DiskError> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        shielded(&self.path, "close", || {
            let mut txn = self.db.begin_write()?;
            txn.set_durability(redb::Durability::Immediate)?;
            txn.open_table(META)?.insert(META_DIRTY, &[0u8][..])?;
            txn.commit()?;
            Ok(())
        })
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
