//! The in-memory key: the canonical encoding itself, inline when short.

use std::fmt;
use std::hash::{Hash, Hasher};

use super::{HashSink, PersistentHash};

/// Longest encoding kept inline; longer ones are replaced by their blake3 digest.
const INLINE_CAP: usize = 31;

/// The longest encoding a [`MemKey`] keeps inline.
pub(crate) const INLINE_KEY_CAP: usize = INLINE_CAP;
/// Marks a key that holds a digest instead of the encoding.
const DIGEST_MARK: u8 = u8::MAX;
/// Digest bytes kept: 248 bits of blake3, far beyond any collision concern for
/// an in-memory cache, and the key stays one 32-byte, 8-aligned block.
const DIGEST_LEN: usize = INLINE_CAP;

/// An exact in-memory cache key built from a [`PersistentHash`] encoding.
///
/// Encodings of up to 31 bytes (up to three integers, a string of up to 22 bytes)
/// are stored inline and compared exactly, so lookups involve no cryptography and
/// no allocation. Longer encodings are replaced by 248 bits of their blake3
/// digest; the two forms can never be equal to each other.
///
/// The key is one 32-byte, 8-aligned block whose unused bytes are zero, so equality
/// and hashing work on the whole block with fixed-size loads.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(C, align(8))]
pub struct MemKey {
    len: u8,
    bytes: [u8; INLINE_CAP],
}

impl MemKey {
    /// The key of `value`'s canonical encoding.
    #[inline]
    pub fn of<T: PersistentHash + ?Sized>(value: &T) -> Self {
        let mut builder = MemKeyBuilder::new();
        value.persistent_hash(&mut builder);
        builder.finish()
    }

    /// The key bytes: the encoding itself, or its digest for long encodings.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        let len = if self.len == DIGEST_MARK {
            DIGEST_LEN
        } else {
            usize::from(self.len)
        };
        // `len` is at most INLINE_CAP by construction.
        &self.bytes[..len.min(INLINE_CAP)]
    }

    /// Whether the key holds a digest (the encoding was longer than 31 bytes).
    #[inline]
    pub fn is_digest(&self) -> bool {
        self.len == DIGEST_MARK
    }
}

impl Hash for MemKey {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Only the used bytes: short keys stay on the hasher's short-input path.
        // Consistent with `Eq`: equal keys have equal lengths and bytes.
        state.write(self.as_bytes());
    }
}

impl fmt::Debug for MemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_digest() { "digest" } else { "inline" };
        write!(f, "MemKey({kind}:")?;
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// A [`HashSink`] that builds a [`MemKey`]: bytes go to a stack buffer until it
/// overflows, then everything is streamed into blake3.
///
/// Use it when a key is the concatenation of several encodings (for example the
/// arguments of a function, one after the other).
pub struct MemKeyBuilder {
    len: usize,
    bytes: [u8; INLINE_CAP],
    hasher: Option<Box<blake3::Hasher>>,
}

impl MemKeyBuilder {
    /// An empty builder.
    #[inline]
    pub fn new() -> Self {
        Self {
            len: 0,
            bytes: [0; INLINE_CAP],
            hasher: None,
        }
    }

    /// The finished key.
    #[inline]
    pub fn finish(self) -> MemKey {
        match self.hasher {
            None => MemKey {
                len: self.len as u8,
                bytes: self.bytes,
            },
            Some(hasher) => {
                let mut bytes = [0; INLINE_CAP];
                bytes.copy_from_slice(&hasher.finalize().as_bytes()[..DIGEST_LEN]);
                MemKey {
                    len: DIGEST_MARK,
                    bytes,
                }
            }
        }
    }
}

impl Default for MemKeyBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl HashSink for MemKeyBuilder {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        if let Some(hasher) = &mut self.hasher {
            hasher.update(bytes);
            return;
        }
        let end = self.len + bytes.len();
        if end <= INLINE_CAP {
            self.bytes[self.len..end].copy_from_slice(bytes);
            self.len = end;
        } else {
            self.spill(bytes);
        }
    }
}

impl MemKeyBuilder {
    #[cold]
    /// The bytes written so far, while they still fit inline (`None` once the
    /// builder has spilled into blake3).
    #[inline]
    pub(crate) fn inline_bytes(&self) -> Option<&[u8]> {
        match self.hasher {
            None => self.bytes.get(..self.len),
            Some(_) => None,
        }
    }

    fn spill(&mut self, bytes: &[u8]) {
        let mut hasher = Box::new(blake3::Hasher::new_derive_key(super::KEY_CONTEXT));
        hasher.update(&self.bytes[..self.len]);
        hasher.update(bytes);
        self.hasher = Some(hasher);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_encodings_stay_inline_and_long_ones_become_digests() {
        let short = MemKey::of(&7u64);
        assert!(!short.is_digest());
        assert_eq!(short.as_bytes().len(), 9);
        let long = MemKey::of("a string long enough to overflow the inline buffer of the key");
        assert!(long.is_digest());
        assert_eq!(long.as_bytes().len(), 31);
    }

    #[test]
    fn equal_values_give_equal_keys_and_different_values_differ() {
        assert_eq!(MemKey::of(&(1u32, "x")), MemKey::of(&(1u64, "x")));
        assert_ne!(MemKey::of(&(1u32, "x")), MemKey::of(&(2u32, "x")));
        let a = "x".repeat(100);
        let b = "y".repeat(100);
        assert_ne!(MemKey::of(a.as_str()), MemKey::of(b.as_str()));
        assert_eq!(MemKey::of(a.as_str()), MemKey::of(&a));
    }

    #[test]
    fn a_key_is_one_aligned_32_byte_block() {
        assert_eq!(std::mem::size_of::<MemKey>(), 32);
        assert_eq!(std::mem::align_of::<MemKey>(), 8);
    }

    #[test]
    fn an_encoding_of_exactly_the_capacity_stays_inline() {
        // STR tag (1) + length (8) + 22 bytes = 31.
        let s = "z".repeat(22);
        assert!(!MemKey::of(s.as_str()).is_digest());
        let s = "z".repeat(23);
        assert!(MemKey::of(s.as_str()).is_digest());
    }
}
