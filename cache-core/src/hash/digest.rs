//! The persistent digest: blake3 in derive-key mode over a `PersistentHash` encoding.

use std::fmt;
use std::sync::LazyLock;

use super::{HashSink, PersistentHash};

/// The blake3 derive-key context of every persistent key. Part of the format:
/// changing it changes every key stored in Redis or on disk.
pub const KEY_CONTEXT: &str = "cache-core 2026-11-21 persistent cache key v1";

/// A 256-bit blake3 digest of a persistent encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The digest's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hexadecimal, 64 characters.
    pub fn to_hex(&self) -> String {
        let mut out = String::with_capacity(64);
        self.push_hex(&mut out);
        out
    }

    /// Appends [`to_hex`](Self::to_hex)'s 64 characters to `out`, without a
    /// `String` of their own (for building a storage key in one allocation).
    pub fn push_hex(&self, out: &mut String) {
        out.push_str(const_hex::Buffer::<32>::new().format(&self.0));
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

/// The context key of [`KEY_CONTEXT`], derived once: deriving it is a whole
/// blake3 hash of the context string, about as costly as hashing a small key.
static KEY_CONTEXT_KEY: LazyLock<blake3::hazmat::ContextKey> =
    LazyLock::new(|| blake3::hazmat::hash_derive_key_context(KEY_CONTEXT));

/// A blake3 hasher in derive-key mode for [`KEY_CONTEXT`]: the same state as
/// `blake3::Hasher::new_derive_key(KEY_CONTEXT)` (blake3's documented
/// `hazmat::HasherExt::new_from_context_key`), without deriving it again.
#[inline]
pub(crate) fn key_hasher() -> blake3::Hasher {
    use blake3::hazmat::HasherExt;
    blake3::Hasher::new_from_context_key(&KEY_CONTEXT_KEY)
}

/// The hasher of a persistent storage key, before the key's own encoding: derive
/// mode with [`KEY_CONTEXT`], then the cache's `namespace` (its identity) and
/// `version`. Backends that keep `#[ttl_cache]` results (Redis, disk) key them
/// with this hasher fed the arguments' encoding, so the same call has the same
/// key in every backend, process and machine.
pub fn storage_key_hasher(namespace: &str, version: u32) -> blake3::Hasher {
    let mut hasher = key_hasher();
    namespace.persistent_hash(&mut hasher);
    version.persistent_hash(&mut hasher);
    hasher
}

/// What [`storage_key_hasher`]`(namespace, version)` fed `encoding` finishes
/// to, computed without its per-write costs: the namespace, version and
/// encoding are gathered into blocks before blake3 sees them (one `update`
/// for a short key instead of five), and no hasher is moved. The storage
/// digest of a call whose key encoding stayed inline.
pub(crate) fn storage_digest(namespace: &str, version: u32, encoding: &[u8]) -> Digest {
    let mut sink = Buffered::new();
    namespace.persistent_hash(&mut sink);
    version.persistent_hash(&mut sink);
    sink.write(encoding);
    sink.finish()
}

/// The persistent digest of `value`: blake3 (derive-key mode, [`KEY_CONTEXT`]) of
/// its canonical encoding. Identical in every process, on every machine.
pub fn persistent_digest<T: PersistentHash + ?Sized>(value: &T) -> Digest {
    let mut sink = Buffered::new();
    value.persistent_hash(&mut sink);
    sink.finish()
}

/// Bytes gathered before they go to blake3: one block.
const BUFFER: usize = 64;

/// A sink that gathers an encoding's many small writes (a tag, a length, a
/// word) into one block before blake3 sees them: each `update` call has a fixed
/// cost that would otherwise dominate a small key.
struct Buffered {
    hasher: blake3::Hasher,
    buf: [u8; BUFFER],
    len: usize,
}

impl Buffered {
    /// An empty sink in front of a [`key_hasher`].
    fn new() -> Self {
        Self {
            hasher: key_hasher(),
            buf: [0; BUFFER],
            len: 0,
        }
    }

    /// The digest of everything written. By reference: taken by value, the
    /// sink's 2 KB hasher was moved once more (about 240 instructions a
    /// Redis hit, scripts/gate).
    fn finish(&mut self) -> Digest {
        self.flush();
        Digest(*self.hasher.finalize().as_bytes())
    }

    fn flush(&mut self) {
        self.hasher.update(&self.buf[..self.len]);
        self.len = 0;
    }
}

impl HashSink for Buffered {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if let Some(dest) = self.buf.get_mut(self.len..end) {
            dest.copy_from_slice(bytes);
            self.len = end;
            return;
        }
        self.flush();
        if bytes.len() >= BUFFER {
            self.hasher.update(bytes);
        } else {
            self.buf[..bytes.len()].copy_from_slice(bytes);
            self.len = bytes.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_digest_is_the_storage_key_hashers() {
        let long = "n".repeat(150);
        for namespace in ["", "app::f", long.as_str()] {
            for encoding in [&[][..], &[1, 2, 3][..], &[9; 40][..], &[5; 300][..]] {
                for version in [0, 3, u32::MAX] {
                    let mut hasher = storage_key_hasher(namespace, version);
                    hasher.update(encoding);
                    assert_eq!(
                        storage_digest(namespace, version, encoding),
                        Digest(*hasher.finalize().as_bytes()),
                        "{namespace:?} v{version} {encoding:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_digest_is_blake3_derive_key_of_the_encoding() {
        let long = "x".repeat(200);
        type Case<'a> = &'a dyn Fn(&mut Vec<u8>) -> Digest;
        let values: [Case<'_>; 4] = [
            &|v| {
                (1u64, 2u64).persistent_hash(v);
                persistent_digest(&(1u64, 2u64))
            },
            &|v| {
                long.persistent_hash(v);
                persistent_digest(&long)
            },
            &|v| {
                (vec![7u8; 63], "ab").persistent_hash(v);
                persistent_digest(&(vec![7u8; 63], "ab"))
            },
            &|v| {
                ().persistent_hash(v);
                persistent_digest(&())
            },
        ];
        for value in values {
            let mut encoding = Vec::new();
            let digest = value(&mut encoding);
            let mut reference = blake3::Hasher::new_derive_key(KEY_CONTEXT);
            reference.update(&encoding);
            assert_eq!(digest.0, *reference.finalize().as_bytes());
        }
    }

    #[test]
    fn the_prepared_hasher_is_the_derive_key_hasher() {
        for input in [&b""[..], b"abc", &[7u8; 1000]] {
            let mut fresh = blake3::Hasher::new_derive_key(KEY_CONTEXT);
            fresh.update(input);
            let mut prepared = key_hasher();
            prepared.update(input);
            assert_eq!(fresh.finalize(), prepared.finalize());
        }
    }
}
