//! `PersistentHash`: a canonical, portable byte encoding of argument values.
//!
//! Every value writes a *type-tagged, length-prefixed* encoding of itself into a
//! [`HashSink`]. The encoding is fixed: little-endian, fixed width (`usize` is
//! written as 8 bytes), and it never goes through [`std::hash::Hash`], whose output
//! is allowed to change between compiler versions and platforms. The same value
//! gives the same bytes in every process, on every machine, in every release; the
//! golden vectors in the test suite pin that.
//!
//! Two sinks consume the encoding:
//! - in memory, the bytes themselves are the key ([`MemKey`]): inline when short,
//!   a blake3 digest when long; exact comparison, no cryptography on the hit path;
//! - for Redis and disk, a blake3 digest in derive-key mode ([`persistent_digest`]).
//!
//! # Encoding rules
//! - Every encoding starts with a one-byte tag (see [`tag`]) and is prefix-free, so
//!   the concatenation of encodings (tuples, struct fields, sequence items) is
//!   unambiguous: `("ab", "c")` and `("a", "bc")` differ, as do `Some(0)` and `0`,
//!   `""` and `[]`, `"a"` and `b"a"`, `1i64`, `1.0f64` and `true`.
//! - **Integers key by value**, whatever their width: `1u8`, `1u64` and `1i32`
//!   encode alike. Non-negative values that fit in `u64` are [`tag::UINT`] + 8 bytes,
//!   negative values that fit in `i64` are [`tag::NEG_INT`] + 8 bytes, larger
//!   128-bit values use [`tag::UINT128`] / [`tag::NEG_INT128`] + 16 bytes. A cache
//!   that wants the type to matter too uses the type fingerprint
//!   ([`PersistentHash::type_fingerprint`]).
//! - **Floats** key by value too: `f32` is widened to `f64` (exactly), then the IEEE
//!   bits are written. `-0.0` and `0.0` are *distinct* keys (a function can tell them
//!   apart: `1.0 / x`); every NaN is *one* key (payload bits are not portable, so all
//!   NaNs are canonicalized to the quiet NaN `0x7ff8_0000_0000_0000`).
//! - Byte sequences (`[u8]`, `Vec<u8>`, `[u8; N]`) are their own kind ([`tag::BYTES`]),
//!   written in one piece; other sequences are [`tag::SEQ`] + count + items.
//! - Unordered collections (`HashMap`, `HashSet`) encode each entry separately and
//!   write the encodings sorted, so neither insertion order nor the hasher's seed
//!   matters. Ordered collections (`BTreeMap`, `BTreeSet`) write in their order.
//! - Smart pointers and references (`&T`, `Box`, `Rc`, `Arc`, `Cow`) are
//!   transparent: they encode as the value they point to.
//! - Paths encode their [`components`](std::path::Path::components), like `Path`'s
//!   equality (`a//b` and `a/b` key alike); an `OsStr` that is valid Unicode
//!   encodes as the `str` with the same text, any other as [`tag::BYTES`].

mod digest;
mod impls;
mod key;

pub(crate) use digest::key_hasher;
pub(crate) use digest::storage_digest;
pub use digest::{Digest, KEY_CONTEXT, persistent_digest, storage_key_hasher};
pub(crate) use key::INLINE_KEY_CAP;
pub use key::{MemKey, MemKeyBuilder};

/// A destination for a [`PersistentHash`] encoding.
///
/// Implementors only need [`write`](HashSink::write); the other methods are the
/// fixed-width building blocks every implementation of [`PersistentHash`] uses, so
/// that all encodings agree on endianness and width.
pub trait HashSink {
    /// Appends raw bytes to the encoding.
    fn write(&mut self, bytes: &[u8]);

    /// Writes a one-byte type tag (see [`tag`]).
    #[inline]
    fn write_tag(&mut self, tag: u8) {
        self.write(&[tag]);
    }

    /// Writes a `u64` as 8 little-endian bytes.
    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.write(&value.to_le_bytes());
    }

    /// Writes a one-byte tag followed by `word` as 8 little-endian bytes (the
    /// shape of every integer).
    #[inline]
    fn write_tagged_word(&mut self, tag: u8, word: u64) {
        let mut buf = [tag; 9];
        buf[1..].copy_from_slice(&word.to_le_bytes());
        self.write(&buf);
    }

    /// Writes a length or count as 8 little-endian bytes (`usize` is always 8 bytes wide).
    #[inline]
    fn write_len(&mut self, len: usize) {
        self.write_u64(len as u64);
    }

    /// Writes a tag, a length and the bytes: the shape of every variable-length leaf.
    #[inline]
    fn write_tagged_bytes(&mut self, tag: u8, bytes: &[u8]) {
        self.write_tag(tag);
        self.write_len(bytes.len());
        self.write(bytes);
    }
}

impl HashSink for Vec<u8> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl HashSink for blake3::Hasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl<S: HashSink + ?Sized> HashSink for &mut S {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        (**self).write(bytes);
    }

    #[inline]
    fn write_tag(&mut self, tag: u8) {
        (**self).write_tag(tag);
    }

    #[inline]
    fn write_u64(&mut self, value: u64) {
        (**self).write_u64(value);
    }

    #[inline]
    fn write_tagged_word(&mut self, tag: u8, word: u64) {
        (**self).write_tagged_word(tag, word);
    }
}

/// A value with a canonical, persistent byte encoding, used to build cache keys.
///
/// Implemented for the standard library's common types; derive it for your own
/// with `#[derive(PersistentHash)]` (fields marked `#[persistent_hash(skip)]` are
/// left out). A manual implementation must write a prefix-free encoding that
/// starts with a tag: the easiest way is to delegate to the fields' own
/// implementations after a tag of its own, as the derive does.
///
/// The encoding of a value must never change once released: keys stored in Redis
/// or on disk are computed from it. The test suite pins it with golden vectors.
pub trait PersistentHash {
    /// Writes the canonical encoding of `self` into `sink`.
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S);

    /// Writes the encoding of a slice of `Self` (tag, count, items).
    ///
    /// The default writes [`tag::SEQ`], the count and each item. `u8` overrides it to
    /// write the bytes in one piece under [`tag::BYTES`]; other types should keep
    /// the default.
    ///
    /// An override must keep the shape of the default: one tag byte, the count as
    /// 8 bytes LE, then a body in which the body of a concatenation of slices is
    /// the concatenation of their bodies. `VecDeque` relies on it to encode its two
    /// halves as one slice without copying them.
    #[inline]
    fn persistent_hash_slice<S: HashSink + ?Sized>(items: &[Self], sink: &mut S)
    where
        Self: Sized,
    {
        sink.write_tag(tag::SEQ);
        sink.write_len(items.len());
        for item in items {
            item.persistent_hash(sink);
        }
    }

    /// Writes a stable description of the *type* `Self` (not of a value).
    ///
    /// Caches created with `typed` add it to their keys so that, for example,
    /// `1u8` and `1u64` key differently. The standard implementations and the
    /// derive write stable names: [`tag::TYPE`] with a name (`"u8"`, `"str"`,
    /// `"Vec"`, the struct's name), then the fingerprints of the type's
    /// parameters (`"Vec"` then `"u64"` for `Vec<u64>`). References and smart
    /// pointers (`&T`, `Box<T>`, `Rc<T>`, `Arc<T>`, `Cow<T>`) write `T`'s. The
    /// default falls back to [`std::any::type_name`], which is only stable
    /// for one compiler version, so manual implementations used with `typed`
    /// persistent caches should override it.
    fn type_fingerprint<S: HashSink + ?Sized>(sink: &mut S) {
        sink.write_tagged_bytes(tag::TYPE, std::any::type_name::<Self>().as_bytes());
    }
}

/// The one-byte tags that open every encoding. Their values are part of the
/// persistent format and never change.
pub mod tag {
    /// `()`.
    pub const UNIT: u8 = 0x01;
    /// `bool`: followed by one byte, 0 or 1.
    pub const BOOL: u8 = 0x02;
    /// An integer in `0..=u64::MAX`: followed by 8 bytes LE.
    pub const UINT: u8 = 0x03;
    /// An integer in `i64::MIN..0`: followed by 8 bytes LE (two's complement).
    pub const NEG_INT: u8 = 0x04;
    /// An integer above `u64::MAX`: followed by 16 bytes LE.
    pub const UINT128: u8 = 0x05;
    /// An integer below `i64::MIN`: followed by 16 bytes LE (two's complement).
    pub const NEG_INT128: u8 = 0x06;
    /// `f32`/`f64`: followed by the 8 bytes LE of the `f64` bits (see the float policy).
    pub const FLOAT: u8 = 0x07;
    /// `char`: followed by its scalar value as 4 bytes LE.
    pub const CHAR: u8 = 0x08;
    /// `str`/`String`: length, then UTF-8 bytes.
    pub const STR: u8 = 0x09;
    /// `[u8]`/`Vec<u8>`/`[u8; N]`: length, then the bytes.
    pub const BYTES: u8 = 0x0A;
    /// A sequence (slice, array, `Vec`, `VecDeque`): count, then items.
    pub const SEQ: u8 = 0x0B;
    /// A tuple: arity as 8 bytes LE, then items.
    pub const TUPLE: u8 = 0x0C;
    /// `None`.
    pub const NONE: u8 = 0x0D;
    /// `Some(v)`: followed by `v`.
    pub const SOME: u8 = 0x0E;
    /// `Ok(v)`: followed by `v`.
    pub const OK: u8 = 0x0F;
    /// `Err(e)`: followed by `e`.
    pub const ERR: u8 = 0x10;
    /// A map: count, then key and value for each entry.
    pub const MAP: u8 = 0x11;
    /// A set: count, then items.
    pub const SET: u8 = 0x12;
    /// `Duration`: seconds as 8 bytes LE, nanoseconds as 4 bytes LE.
    pub const DURATION: u8 = 0x13;
    /// A range: one byte for the kind of range, then its bounds.
    pub const RANGE: u8 = 0x14;
    /// `Path`/`PathBuf`: count of components, then each component.
    pub const PATH: u8 = 0x15;
    /// A derived struct: field count, then fields in declaration order.
    pub const STRUCT: u8 = 0x16;
    /// A derived enum: variant name (as a length-prefixed string), field count, fields.
    pub const ENUM: u8 = 0x17;
    /// A type fingerprint (see [`type_fingerprint`]): length, then a name, then
    /// the fingerprints of the type's parameters.
    ///
    /// [`type_fingerprint`]: super::PersistentHash::type_fingerprint
    pub const TYPE: u8 = 0x18;
}
