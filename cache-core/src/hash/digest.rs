//! The persistent digest: blake3 in derive-key mode over a `PersistentHash` encoding.

use std::fmt;

use super::PersistentHash;

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
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
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

/// The persistent digest of `value`: blake3 (derive-key mode, [`KEY_CONTEXT`]) of
/// its canonical encoding. Identical in every process, on every machine.
pub fn persistent_digest<T: PersistentHash + ?Sized>(value: &T) -> Digest {
    let mut hasher = blake3::Hasher::new_derive_key(KEY_CONTEXT);
    value.persistent_hash(&mut hasher);
    Digest(*hasher.finalize().as_bytes())
}
