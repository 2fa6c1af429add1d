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
/// The key is one 32-byte, 8-aligned block (byte 0: the length or the digest
/// mark; then the bytes, zero-padded), so equality and hashing work on whole
/// words with fixed-size loads.
#[derive(Clone, Copy, Eq)]
#[repr(C, align(8))]
pub struct MemKey {
    block: [u8; BLOCK],
}

/// Bytes in a key block: the length byte and the inline capacity.
const BLOCK: usize = INLINE_CAP + 1;

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
        let len = if self.is_digest() {
            DIGEST_LEN
        } else {
            usize::from(self.block[0])
        };
        // `len` is at most INLINE_CAP by construction.
        &self.block[1..1 + len.min(INLINE_CAP)]
    }

    /// Whether the key holds a digest (the encoding was longer than 31 bytes).
    #[inline]
    pub fn is_digest(&self) -> bool {
        self.block[0] == DIGEST_MARK
    }

    /// Word `i` of the block (native order: only hashed, never stored).
    #[inline(always)]
    fn word(&self, i: usize) -> u64 {
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.block[i * 8..i * 8 + 8]);
        u64::from_ne_bytes(word)
    }
}

impl PartialEq for MemKey {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        // Word by word, as the key was stored: wider loads would straddle the
        // stores that just wrote a fresh key and stall on store forwarding.
        (0..WORDS).all(|i| self.word(i) == other.word(i))
    }
}

impl Hash for MemKey {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Whole words: the block's unused bytes are zero, so equal keys hash
        // equally. Keys of up to 15 bytes (the usual one to two integers) are one
        // 128-bit write; the second half is hashed only when it is in use.
        let (w0, w1, w2, w3) = (self.word(0), self.word(1), self.word(2), self.word(3));
        state.write_u128(u128::from(w0) | (u128::from(w1) << 64));
        if (w2 | w3) != 0 {
            state.write_u128(u128::from(w2) | (u128::from(w3) << 64));
        }
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
    /// The block being built, as little-endian words (byte `k` of the block is
    /// byte `k % 8` of word `k / 8`; byte 0 is the length, set by `finish`).
    /// Bytes are ORed in word by word, so the finished key is stored with four
    /// aligned word stores and read back without store-forwarding stalls.
    words: [u64; WORDS],
    /// Encoding bytes written so far (inline).
    len: usize,
    hasher: Option<Box<blake3::Hasher>>,
}

/// Words in a key block.
const WORDS: usize = BLOCK / 8;

impl MemKeyBuilder {
    /// An empty builder.
    #[inline(always)]
    pub fn new() -> Self {
        Self {
            words: [0; WORDS],
            len: 0,
            hasher: None,
        }
    }

    /// The finished key.
    #[inline(always)]
    pub fn finish(self) -> MemKey {
        match self.hasher {
            None => {
                let mut words = self.words;
                // `len` ≤ INLINE_CAP < 256.
                words[0] |= self.len as u64;
                MemKey {
                    block: block_of(words),
                }
            }
            Some(hasher) => finish_digest(&hasher),
        }
    }

    /// How many encoding bytes were written so far, while they still fit inline
    /// (`None` once the builder has spilled into blake3).
    #[inline]
    pub(crate) fn inline_len(&self) -> Option<usize> {
        self.hasher.is_none().then_some(self.len)
    }

    /// Feeds the encoding bytes written so far to `hasher`, unless the builder
    /// has spilled into blake3 already (they are in its own hasher then).
    pub(crate) fn feed_inline(&self, hasher: &mut blake3::Hasher) {
        if self.hasher.is_none() {
            hasher.update(&block_of(self.words)[1..1 + self.len]);
        }
    }

    /// ORs the low `n` bytes of `value` (its other bytes are zero), `n` ≤ 8, at
    /// the current end, or spills into blake3 when they do not fit.
    #[inline(always)]
    fn put(&mut self, value: u64, n: usize) {
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&value.to_le_bytes()[..n]);
            return;
        }
        if self.len + n > INLINE_CAP {
            self.spill(&value.to_le_bytes()[..n]);
            return;
        }
        let pos = 1 + self.len;
        let shift = 8 * (pos % 8) as u32;
        let i = pos / 8;
        if let Some(word) = self.words.get_mut(i) {
            *word |= value << shift;
        }
        // The bytes that cross into the next word (none when aligned).
        if shift != 0
            && let Some(word) = self.words.get_mut(i + 1)
        {
            *word |= value >> (64 - shift);
        }
        self.len += n;
    }

    #[cold]
    #[inline(never)]
    fn spill(&mut self, bytes: &[u8]) {
        let mut hasher = Box::new(super::key_hasher());
        self.feed_inline(&mut hasher);
        hasher.update(bytes);
        self.hasher = Some(hasher);
    }
}

/// The bytes of a key block from its little-endian words: four aligned stores.
#[inline(always)]
fn block_of(words: [u64; WORDS]) -> [u8; BLOCK] {
    let mut block = [0u8; BLOCK];
    for (chunk, word) in block.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    block
}

#[cold]
fn finish_digest(hasher: &blake3::Hasher) -> MemKey {
    let mut block = [0; BLOCK];
    block[0] = DIGEST_MARK;
    block[1..].copy_from_slice(&hasher.finalize().as_bytes()[..DIGEST_LEN]);
    MemKey { block }
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
        if self.len + bytes.len() > INLINE_CAP {
            self.spill(bytes);
            return;
        }
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.put(u64::from_le_bytes(word), chunk.len());
        }
    }

    #[inline]
    fn write_tag(&mut self, tag: u8) {
        self.put(u64::from(tag), 1);
    }

    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.put(value, 8);
    }

    #[inline(always)]
    fn write_tagged_word(&mut self, tag: u8, word: u64) {
        self.put(u64::from(tag), 1);
        self.put(word, 8);
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

    /// One call on a sink.
    #[derive(Clone, Debug)]
    enum Op {
        Tag(u8),
        Word(u64),
        TaggedWord(u8, u64),
        Bytes(Vec<u8>),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            any::<u8>().prop_map(Op::Tag),
            any::<u64>().prop_map(Op::Word),
            (any::<u8>(), any::<u64>()).prop_map(|(t, w)| Op::TaggedWord(t, w)),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Op::Bytes),
        ]
    }

    fn apply<S: HashSink>(sink: &mut S, op: &Op) {
        match op {
            Op::Tag(t) => sink.write_tag(*t),
            Op::Word(w) => sink.write_u64(*w),
            Op::TaggedWord(t, w) => sink.write_tagged_word(*t, *w),
            Op::Bytes(b) => sink.write(b),
        }
    }

    proptest::proptest! {
        /// The word-wise builder gives exactly the byte stream a plain byte sink
        /// gets (inline), or the blake3 digest of it (spilled), whatever the mix
        /// and alignment of the writes.
        #[test]
        fn the_builder_agrees_with_a_byte_sink(ops in proptest::collection::vec(op(), 0..8)) {
            let mut builder = MemKeyBuilder::new();
            let mut bytes = Vec::new();
            for op in &ops {
                apply(&mut builder, op);
                apply(&mut bytes, op);
            }
            let key = builder.finish();
            if bytes.len() <= INLINE_CAP {
                proptest::prop_assert!(!key.is_digest());
                proptest::prop_assert_eq!(key.as_bytes(), bytes.as_slice());
            } else {
                let mut hasher = blake3::Hasher::new_derive_key(super::super::KEY_CONTEXT);
                hasher.update(&bytes);
                let digest = hasher.finalize();
                proptest::prop_assert!(key.is_digest());
                proptest::prop_assert_eq!(key.as_bytes(), &digest.as_bytes()[..DIGEST_LEN]);
            }
            // Equality and hashing agree with the bytes.
            let mut again = MemKeyBuilder::new();
            again.write(&bytes);
            let again = again.finish();
            proptest::prop_assert_eq!(again, key);
            let hash = |k: &MemKey| std::hash::BuildHasher::hash_one(&foldhash::fast::FixedState::with_seed(7), k);
            proptest::prop_assert_eq!(hash(&again), hash(&key));
        }
    }
}
