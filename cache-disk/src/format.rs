//! The file format: two redb tables, the meta records, and the entry record.
//!
//! `cache-disk/meta` maps `&str` to `&[u8]`: `format` (u32 LE), `hash_scheme`
//! (the key context string), `dirty` (one byte). Its layout never changes, so
//! any version of this crate can read what wrote a file.
//!
//! `cache-disk/data` maps `&[u8]` to `&[u8]` and holds four key spaces, each
//! a logical table (one redb table, so a write transaction rewrites one B-tree
//! instead of four: measured, that halves the cost of a buffered write):
//!
//! | key space | key | value |
//! |---|---|---|
//! | entries | `e`, namespace length (u32 BE), namespace, version (u32 BE), digest (32 bytes) | the record: expiry (u64 LE, ms since the Unix epoch, `u64::MAX` = never), check (16 bytes), value |
//! | counts per namespace | `n`, namespace | entries, accounted bytes (u64 LE each) |
//! | totals | `t` | entries, accounted bytes (u64 LE each) |
//! | expiry index | `x`, expiry (u64 BE), entry key | empty: one row per entry, in expiry order |
//!
//! Keys compare with `memcmp`: the entries of a namespace are one contiguous
//! range, and the expiry index, last of the key spaces, is in time order. The
//! check is 16 bytes of keyed blake3 over the entry's key, expiry and value:
//! a record damaged on disk, or found under another key, fails it and is
//! never served.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cache_core::StorageKey;
use cache_core::clock::Clock;
use redb::TableDefinition;

/// The on-disk format of this crate. Bumped on any change of the tables or
/// the record; a file of another format is refused (or flushed).
pub const FORMAT: u32 = 1;

pub(crate) const META: TableDefinition<'static, &'static str, &'static [u8]> =
    TableDefinition::new("cache-disk/meta");
pub(crate) const DATA: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("cache-disk/data");

/// The prefix of every table of a cache file.
pub(crate) const TABLE_PREFIX: &str = "cache-disk/";

pub(crate) const META_FORMAT: &str = "format";
pub(crate) const META_HASH_SCHEME: &str = "hash_scheme";
pub(crate) const META_DIRTY: &str = "dirty";

const ENTRY_SPACE: u8 = b'e';
const COUNT_SPACE: u8 = b'n';
/// The key of the totals.
pub(crate) const TOTALS_KEY: &[u8] = b"t";
/// The first key of the expiry index (and every row starts with it).
pub(crate) const EXPIRY_START: &[u8] = b"x";

/// The expiry of an entry that never expires.
pub(crate) const NEVER: u64 = u64::MAX;

/// Expiry (8 bytes) and check (16 bytes) before the value.
pub(crate) const RECORD_HEADER: usize = 24;

/// The fixed part of an entry's accounted size: its key (space, namespace
/// length, version, digest) and its expiry index row (space, expiry, key).
const ENTRY_OVERHEAD: u64 = (1 + 4 + 4 + 32) + (1 + 8 + 1 + 4 + 4 + 32);

/// What this build writes, as the meta record `hash_scheme`: the context
/// string of the persistent keys (changing it changes every key).
pub(crate) fn hash_scheme() -> &'static str {
    cache_core::hash::KEY_CONTEXT
}

/// The entry key of `namespace`, `version`, `digest`.
pub(crate) fn entry_key(namespace: &str, version: u32, digest: &[u8; 32]) -> Vec<u8> {
    let mut key = namespace_prefix(namespace);
    key.extend_from_slice(&version.to_be_bytes());
    key.extend_from_slice(digest);
    key
}

/// What every entry key of `namespace` starts with; 36 bytes (version and
/// digest) follow it.
pub(crate) fn namespace_prefix(namespace: &str) -> Vec<u8> {
    let len = u32::try_from(namespace.len()).unwrap_or(u32::MAX);
    let mut prefix = Vec::with_capacity(5 + namespace.len() + 36);
    prefix.push(ENTRY_SPACE);
    prefix.extend_from_slice(&len.to_be_bytes());
    prefix.extend_from_slice(namespace.as_bytes());
    prefix
}

/// The bytes of the namespace of an entry key (`None` if malformed).
pub(crate) fn key_namespace(entry_key: &[u8]) -> Option<&[u8]> {
    if entry_key.first() != Some(&ENTRY_SPACE) {
        return None;
    }
    let len: [u8; 4] = entry_key.get(1..5)?.try_into().ok()?;
    let len = usize::try_from(u32::from_be_bytes(len)).ok()?;
    let end = len.checked_add(5)?;
    (entry_key.len() == end.checked_add(36)?).then(|| entry_key.get(5..end))?
}

/// The key of the counts of `namespace`.
pub(crate) fn count_key(namespace: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + namespace.len());
    key.push(COUNT_SPACE);
    key.extend_from_slice(namespace);
    key
}

/// Entries and bytes, as stored.
pub(crate) fn encode_counts((entries, bytes): (u64, u64)) -> [u8; 16] {
    let mut out = [0; 16];
    out[..8].copy_from_slice(&entries.to_le_bytes());
    out[8..].copy_from_slice(&bytes.to_le_bytes());
    out
}

/// Entries and bytes from their stored form (zeros if malformed).
pub(crate) fn decode_counts(stored: &[u8]) -> (u64, u64) {
    let word = |range: std::ops::Range<usize>| {
        stored
            .get(range)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map_or(0, u64::from_le_bytes)
    };
    (word(0..8), word(8..16))
}

/// The row of the expiry index of the entry at `entry_key` expiring at `expires_at`.
pub(crate) fn expiry_row(expires_at: u64, entry_key: &[u8]) -> Vec<u8> {
    let mut row = Vec::with_capacity(9 + entry_key.len());
    row.extend_from_slice(EXPIRY_START);
    row.extend_from_slice(&expires_at.to_be_bytes());
    row.extend_from_slice(entry_key);
    row
}

/// The end (excluded) of the rows expiring at or before `now`.
pub(crate) fn expired_end(now: u64) -> [u8; 9] {
    let mut end = [EXPIRY_START[0]; 9];
    end[1..].copy_from_slice(&now.saturating_add(1).to_be_bytes());
    end
}

/// The expiry and the entry key of an expiry index row (`None` if malformed).
pub(crate) fn split_expiry_row(row: &[u8]) -> Option<(u64, &[u8])> {
    if row.first() != EXPIRY_START.first() {
        return None;
    }
    let expires_at: [u8; 8] = row.get(1..9)?.try_into().ok()?;
    Some((u64::from_be_bytes(expires_at), row.get(9..)?))
}

/// The accounted size of an entry: its key, its record, and its index row.
pub(crate) fn entry_size(namespace_len: usize, record_len: usize) -> u64 {
    (namespace_len as u64)
        .saturating_mul(2)
        .saturating_add(ENTRY_OVERHEAD)
        .saturating_add(record_len as u64)
}

fn check_key() -> &'static [u8; 32] {
    static KEY: LazyLock<[u8; 32]> =
        LazyLock::new(|| blake3::derive_key("cache-disk 2026-12-01 entry record check v1", b""));
    &KEY
}

fn check(key: &StorageKey<'_>, expires_at: u64, value: &[u8]) -> [u8; 16] {
    let mut hasher = blake3::Hasher::new_keyed(check_key());
    hasher.update(&(key.namespace.len() as u64).to_le_bytes());
    hasher.update(key.namespace.as_bytes());
    hasher.update(&key.version.to_le_bytes());
    hasher.update(key.digest.as_bytes());
    hasher.update(&expires_at.to_le_bytes());
    hasher.update(value);
    let mut out = [0; 16];
    out.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    out
}

/// The record of `value` stored under `key` until `expires_at`.
pub(crate) fn encode_record(key: &StorageKey<'_>, expires_at: u64, value: &[u8]) -> Vec<u8> {
    let mut record = Vec::with_capacity(RECORD_HEADER + value.len());
    record.extend_from_slice(&expires_at.to_le_bytes());
    record.extend_from_slice(&check(key, expires_at, value));
    record.extend_from_slice(value);
    record
}

/// The expiry of a record, read without checking it (`None` if too short).
pub(crate) fn record_expiry(record: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = record.get(..8)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// The expiry and the value of a record stored under `key`, if it passes its
/// check.
pub(crate) fn decode_record<'a>(key: &StorageKey<'_>, record: &'a [u8]) -> Option<(u64, &'a [u8])> {
    let expires_at = record_expiry(record)?;
    let stored_check = record.get(8..RECORD_HEADER)?;
    let value = record.get(RECORD_HEADER..)?;
    (stored_check == check(key, expires_at, value)).then_some((expires_at, value))
}

/// Wall-clock time in ms since the Unix epoch: the system's, or the mock's
/// elapsed time read as time since the epoch.
pub(crate) fn now_ms(clock: &Clock) -> u64 {
    match clock {
        Clock::System => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, millis),
        Clock::Mock(mock) => millis(mock.elapsed()),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(NEVER)
}

/// The expiry of an entry stored at `now` with `ttl`, rounded up to the
/// millisecond (an entry is never dropped before its TTL); `None` for a zero
/// TTL (nothing is stored).
pub(crate) fn expiry_after(now: u64, ttl: Option<Duration>) -> Option<u64> {
    match ttl {
        None => Some(NEVER),
        Some(ttl) if ttl.is_zero() => None,
        Some(ttl) => {
            let ms = ttl.as_nanos().div_ceil(1_000_000);
            Some(now.saturating_add(u64::try_from(ms).unwrap_or(NEVER)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cache_core::Digest;

    fn key(namespace: &str) -> StorageKey<'_> {
        StorageKey {
            namespace,
            version: 3,
            digest: Digest([7; 32]),
        }
    }

    #[test]
    fn records_round_trip_and_bind_key_expiry_and_value() {
        let record = encode_record(&key("ns"), 42, b"value");
        assert_eq!(
            decode_record(&key("ns"), &record),
            Some((42, &b"value"[..]))
        );
        assert_eq!(decode_record(&key("other"), &record), None);
        let mut other_version = key("ns");
        other_version.version = 4;
        assert_eq!(decode_record(&other_version, &record), None);
        for i in 0..record.len() {
            let mut damaged = record.clone();
            damaged[i] ^= 0x10;
            assert_eq!(decode_record(&key("ns"), &damaged), None, "byte {i}");
        }
        for len in 0..record.len() {
            assert_eq!(decode_record(&key("ns"), &record[..len]), None, "len {len}");
        }
    }

    #[test]
    fn keys_order_by_namespace_and_expiry() {
        let a = entry_key("ab", 1, &[9; 32]);
        assert_eq!(key_namespace(&a), Some(&b"ab"[..]));
        assert!(a.starts_with(&namespace_prefix("ab")));
        // A namespace that extends another is another range.
        assert!(!entry_key("abc", 0, &[0; 32]).starts_with(&namespace_prefix("ab")));
        assert_eq!(key_namespace(&a[..a.len() - 1]), None);
        assert_eq!(key_namespace(&[0xFF; 8]), None);
        assert_eq!(key_namespace(&count_key(b"ab")), None);
        let early = expiry_row(5, &a);
        let late = expiry_row(256, &entry_key("a", 0, &[0; 32]));
        assert!(early < late);
        assert!(early.as_slice() < &expired_end(5)[..]);
        assert!(late.as_slice() >= &expired_end(5)[..]);
        assert!(late.as_slice() < &expired_end(256)[..]);
        assert!(late.as_slice() >= &expired_end(255)[..]);
        assert_eq!(split_expiry_row(&early), Some((5, a.as_slice())));
        assert_eq!(split_expiry_row(&[b'x', 2]), None);
        assert_eq!(split_expiry_row(&a), None);
        // Every other key space sorts before the index.
        for other in [a.as_slice(), &count_key(b"zz"), TOTALS_KEY] {
            assert!(other < EXPIRY_START);
        }
        assert_eq!(decode_counts(&encode_counts((3, 400))), (3, 400));
        assert_eq!(decode_counts(&[1]), (0, 0));
    }

    #[test]
    fn expiry_rounds_up_and_zero_stores_nothing() {
        assert_eq!(expiry_after(1_000, None), Some(NEVER));
        assert_eq!(expiry_after(1_000, Some(Duration::ZERO)), None);
        assert_eq!(
            expiry_after(1_000, Some(Duration::from_micros(1))),
            Some(1_001)
        );
        assert_eq!(
            expiry_after(1_000, Some(Duration::from_millis(5))),
            Some(1_005)
        );
        assert_eq!(expiry_after(1_000, Some(Duration::MAX)), Some(NEVER));
    }
}
