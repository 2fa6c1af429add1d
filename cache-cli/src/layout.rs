//! The layout of cache-redis's keys, read back:
//! `<prefix>:<identity>:v<version, 10 digits>:<64 hex digits of blake3>`
//! (cache-redis's `RedisBackend::key` writes it).

/// A stored result's key, in its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryKey<'a> {
    /// The cache's identity (`module::function`, or its `identifier`). It may
    /// contain `:`.
    pub identity: &'a str,
    /// The cache's version.
    pub version: u32,
    /// The call's digest: 64 lower-case hex digits.
    pub digest: &'a str,
}

/// `:v` + 10 digits + `:` + 64 hex digits.
const TAIL: usize = 2 + 10 + 1 + 64;

impl<'a> EntryKey<'a> {
    /// The parts of `key`, a key under `prefix`; `None` when it is not a
    /// stored result's key (a counter hash, a lease, a lock, another prefix).
    /// The fixed-width tail makes the split unambiguous whatever the identity
    /// holds.
    pub fn parse(prefix: &str, key: &'a str) -> Option<Self> {
        let rest = key.strip_prefix(prefix)?.strip_prefix(':')?;
        let (identity, tail) = rest.split_at_checked(rest.len().checked_sub(TAIL)?)?;
        let tail = tail.strip_prefix(":v")?;
        let (digits, digest) = tail.split_at_checked(10)?;
        let digest = digest.strip_prefix(':')?;
        let is_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
        if !digits.bytes().all(|c| c.is_ascii_digit()) || !digest.bytes().all(is_hex) {
            return None;
        }
        Some(Self {
            identity,
            version: digits.parse().ok()?,
            digest,
        })
    }
}

/// The prefix of `key` when it has the layout of a stored result under some
/// prefix, whichever. A prefix and an identity may both hold `:`, so the
/// split is a reading: the identity is taken to be what follows the last
/// lone `:` (one not part of `::`), as in `module::function` identities and
/// in identifiers without `:`. `walk:app::f:v…` gives `walk`; `a:b:f:v…`
/// gives `a:b`.
pub fn prefix_of(key: &str) -> Option<&str> {
    let head = key.get(..key.len().checked_sub(TAIL)?)?;
    let bytes = head.as_bytes();
    let lone = (1..bytes.len().saturating_sub(1))
        .rev()
        .find(|&i| bytes[i] == b':' && bytes[i - 1] != b':' && bytes[i + 1] != b':')?;
    let prefix = head.get(..lone)?;
    EntryKey::parse(prefix, key).map(|_| prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn a_key_splits_into_identity_version_and_digest() {
        let key = format!("cache:a::f::g:v0000000007:{DIGEST}");
        assert_eq!(
            EntryKey::parse("cache", &key),
            Some(EntryKey {
                identity: "a::f::g",
                version: 7,
                digest: DIGEST
            })
        );
        let key = format!("p:x:ns:v0000000000:{DIGEST}");
        assert_eq!(EntryKey::parse("p:x", &key).map(|k| k.identity), Some("ns"));
        assert_eq!(EntryKey::parse("p", &key).map(|k| k.identity), Some("x:ns"));
    }

    #[test]
    fn the_prefix_of_a_key_is_read_before_the_identity() {
        let prefix = |key: String| prefix_of(&key).map(str::to_owned);
        assert_eq!(
            prefix(format!("walk:walk_user::f:v0000000002:{DIGEST}")),
            Some("walk".to_owned())
        );
        assert_eq!(
            prefix(format!("cache:ns:v0000000000:{DIGEST}")),
            Some("cache".to_owned())
        );
        assert_eq!(
            prefix(format!("app:cache:a::f::g:v0000000000:{DIGEST}")),
            Some("app:cache".to_owned())
        );
        for key in [
            format!("a::f:v0000000000:{DIGEST}"),
            format!(":ns:v0000000000:{DIGEST}"),
            format!("cache:ns:lease:{DIGEST}"),
            format!("ns:v0000000000:{DIGEST}"),
            "cache:ns:counters".to_owned(),
        ] {
            assert_eq!(prefix_of(&key), None, "{key}");
        }
    }

    /// Counter hashes, leases, other prefixes and malformed tails are not results.
    #[test]
    fn other_keys_are_not_results() {
        for key in [
            "cache:ns:counters".to_owned(),
            format!("cache:ns:lease:{DIGEST}"),
            format!("other:ns:v0000000000:{DIGEST}"),
            format!("cachex:ns:v0000000000:{DIGEST}"),
            format!("cache:ns:v000000000x:{DIGEST}"),
            format!("cache:ns:v0000000000:{}", DIGEST.to_uppercase()),
            format!("cache:ns:v9999999999:{DIGEST}"),
            format!("cache:ns:v0000000000-{DIGEST}"),
            format!("cache:v0000000000:{DIGEST}"),
        ] {
            assert_eq!(EntryKey::parse("cache", &key), None, "{key}");
        }
    }
}
