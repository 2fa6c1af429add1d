//! The checked envelope around every stored payload.
//!
//! # Layout (format version 1, fixed forever)
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic [`MAGIC`] = `b"TTLC"` |
//! | 4 | 1 | format version [`FORMAT_VERSION`] = `1` |
//! | 5 | 1 | codec id ([`Serializer::codec_id`](super::Serializer::codec_id)) |
//! | 6 | 1 | flags: bit 0 = [`FLAG_MAC`] (trailer is a keyed MAC); other bits must be 0 |
//! | 7 | 8 | schema id, `u64` little-endian |
//! | 15 | 4 | payload length `n`, `u32` little-endian |
//! | 19 | `n` | payload |
//! | 19 + `n` | 16 | trailer |
//!
//! The trailer covers every preceding byte (header and payload) and is the
//! first 16 bytes of either
//! - `blake3::derive_key`-mode hash with context [`CHECKSUM_CONTEXT`] (no MAC), or
//! - `blake3::keyed_hash(key, ..)` with the caller's 32-byte key (MAC).
//!
//! The checksum catches corruption; only the keyed MAC resists forgery. A reader
//! holding a key rejects unkeyed envelopes, so a MAC cannot be stripped.
//!
//! # Decode checks, in order
//!
//! length at least [`OVERHEAD`] → magic → version → codec id → schema id →
//! flags → declared length ≤ maximum → declared length fits the buffer → no
//! trailing bytes → trailer (checksum, or MAC presence and value). Every check
//! has its own [`EnvelopeError`] variant. Decoding never allocates: the payload
//! is returned as a slice of the input, and the declared length is only compared,
//! never used to size a buffer. Tags are compared in constant time.

/// Magic bytes that open every envelope.
pub const MAGIC: [u8; 4] = *b"TTLC";
/// The only envelope format version this crate reads and writes.
pub const FORMAT_VERSION: u8 = 1;
/// Flag bit 0: the trailer is a keyed MAC rather than a plain checksum.
pub const FLAG_MAC: u8 = 0b0000_0001;
/// Length of the fixed header before the payload.
pub const HEADER_LEN: usize = 19;
/// Length of the checksum/MAC trailer after the payload.
pub const TRAILER_LEN: usize = 16;
/// Bytes an envelope adds to its payload: the size of an empty-payload envelope.
pub const OVERHEAD: usize = HEADER_LEN + TRAILER_LEN;
/// The blake3 `derive_key` context of the unkeyed checksum.
pub const CHECKSUM_CONTEXT: &str = "ttl-cache envelope v1 2025-01-01 checksum";

/// Version, codec id and flags: three consecutive bytes.
const VERSION_AT: usize = 4;
/// Offset of the schema id.
const SCHEMA_AT: usize = 7;
/// Offset of the payload length.
const LEN_AT: usize = 15;

/// Why bytes are not a valid envelope for the expected codec and schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Fewer bytes than the smallest possible envelope.
    #[error("envelope too short: {len} bytes, at least {min} needed")]
    TooShort {
        /// Bytes given.
        len: usize,
        /// Minimum envelope size ([`OVERHEAD`]).
        min: usize,
    },
    /// The first four bytes are not [`MAGIC`].
    #[error("bad magic {found:02x?}: not a cache envelope")]
    BadMagic {
        /// The bytes found.
        found: [u8; 4],
    },
    /// A format version this build does not read.
    #[error("unsupported envelope format version {found} (this build reads {supported})")]
    UnsupportedVersion {
        /// Version found.
        found: u8,
        /// Version supported ([`FORMAT_VERSION`]).
        supported: u8,
    },
    /// Written by a different codec.
    #[error("codec mismatch: entry written with codec id {found}, expected {expected}")]
    CodecMismatch {
        /// Codec id of the reader.
        expected: u8,
        /// Codec id in the envelope.
        found: u8,
    },
    /// Written for a different value type or version.
    #[error("schema mismatch: entry has schema id {found:#018x}, expected {expected:#018x}")]
    SchemaMismatch {
        /// Schema id of the reader.
        expected: u64,
        /// Schema id in the envelope.
        found: u64,
    },
    /// Flag bits this format version does not define.
    #[error("unknown envelope flags {flags:#04x}")]
    UnknownFlags {
        /// The flags byte.
        flags: u8,
    },
    /// The payload length exceeds the configured maximum (or `u32::MAX` when encoding).
    #[error("payload length {len} exceeds the maximum of {max} bytes")]
    PayloadTooLarge {
        /// Declared (decode) or actual (encode) payload length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The declared payload length runs past the end of the buffer.
    #[error(
        "truncated envelope: header declares a {declared}-byte payload but only {available} bytes follow the header"
    )]
    Truncated {
        /// Declared payload length.
        declared: usize,
        /// Bytes after the header, trailer included.
        available: usize,
    },
    /// Extra bytes after the trailer.
    #[error("{extra} trailing bytes after the envelope")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// The unkeyed checksum does not match: the bytes are corrupt.
    #[error("envelope checksum mismatch: corrupt entry")]
    ChecksumMismatch,
    /// A MAC key is configured but the envelope carries no MAC.
    #[error("envelope has no MAC but a MAC key is configured: unauthenticated or forged entry")]
    MacMissing,
    /// The envelope carries a MAC but no key is configured to check it.
    #[error("envelope carries a MAC but no MAC key is configured")]
    UnexpectedMac,
    /// The keyed MAC does not match: wrong key, corruption, or forgery.
    #[error("envelope MAC mismatch: wrong key, corrupt or forged entry")]
    MacMismatch,
}

/// The context key of [`CHECKSUM_CONTEXT`], derived once (deriving it costs
/// about as much as checksumming a small value).
static CHECKSUM_CONTEXT_KEY: std::sync::LazyLock<blake3::hazmat::ContextKey> =
    std::sync::LazyLock::new(|| blake3::hazmat::hash_derive_key_context(CHECKSUM_CONTEXT));

/// The 16-byte trailer over `covered` (header and payload).
fn trailer(covered: &[u8], mac_key: Option<&[u8; 32]>) -> [u8; TRAILER_LEN] {
    let hash = match mac_key {
        Some(key) => blake3::keyed_hash(key, covered),
        None => {
            use blake3::hazmat::HasherExt;
            blake3::Hasher::new_from_context_key(&CHECKSUM_CONTEXT_KEY)
                .update(covered)
                .finalize()
        }
    };
    let mut out = [0u8; TRAILER_LEN];
    out.copy_from_slice(&hash.as_bytes()[..TRAILER_LEN]);
    out
}

/// Constant-time equality of two tags, via `blake3::Hash`'s constant-time `PartialEq`.
fn tags_equal(a: &[u8; TRAILER_LEN], b: &[u8]) -> bool {
    let widen = |tag: &[u8]| {
        let mut wide = [0u8; blake3::OUT_LEN];
        wide[..TRAILER_LEN].copy_from_slice(tag);
        blake3::Hash::from_bytes(wide)
    };
    b.len() == TRAILER_LEN && widen(a) == widen(b)
}

/// Reads `N` bytes at `at`, or `None` if out of range.
fn array_at<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Wraps `payload` in an envelope; with `mac_key` the trailer is a keyed MAC.
///
/// # Errors
///
/// [`EnvelopeError::PayloadTooLarge`] if the payload is longer than `u32::MAX`.
pub fn encode(
    payload: &[u8],
    codec_id: u8,
    schema_id: u64,
    mac_key: Option<&[u8; 32]>,
) -> Result<Vec<u8>, EnvelopeError> {
    let len = u32::try_from(payload.len()).map_err(|_| EnvelopeError::PayloadTooLarge {
        len: payload.len(),
        max: u32::MAX as usize,
    })?;
    let flags = if mac_key.is_some() { FLAG_MAC } else { 0 };
    let mut out = Vec::with_capacity(OVERHEAD + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&[FORMAT_VERSION, codec_id, flags]);
    out.extend_from_slice(&schema_id.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(payload);
    let tag = trailer(&out, mac_key);
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Checks `bytes` and returns the payload slice.
///
/// `codec_id` and `schema_id` must equal the envelope's; `mac_key` must be
/// `Some` exactly when the envelope was written with a key (and be that key);
/// the declared payload length must be at most `max_payload_len`.
///
/// # Errors
///
/// The first failed check, as listed in the [module docs](self).
pub fn decode<'a>(
    bytes: &'a [u8],
    codec_id: u8,
    schema_id: u64,
    mac_key: Option<&[u8; 32]>,
    max_payload_len: usize,
) -> Result<&'a [u8], EnvelopeError> {
    let too_short = EnvelopeError::TooShort {
        len: bytes.len(),
        min: OVERHEAD,
    };
    if bytes.len() < OVERHEAD {
        return Err(too_short);
    }
    let magic: [u8; 4] = array_at(bytes, 0).ok_or_else(|| too_short.clone())?;
    if magic != MAGIC {
        return Err(EnvelopeError::BadMagic { found: magic });
    }
    let [version, found_codec, flags] =
        array_at(bytes, VERSION_AT).ok_or_else(|| too_short.clone())?;
    if version != FORMAT_VERSION {
        return Err(EnvelopeError::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if found_codec != codec_id {
        return Err(EnvelopeError::CodecMismatch {
            expected: codec_id,
            found: found_codec,
        });
    }
    let found_schema =
        u64::from_le_bytes(array_at(bytes, SCHEMA_AT).ok_or_else(|| too_short.clone())?);
    if found_schema != schema_id {
        return Err(EnvelopeError::SchemaMismatch {
            expected: schema_id,
            found: found_schema,
        });
    }
    if flags & !FLAG_MAC != 0 {
        return Err(EnvelopeError::UnknownFlags { flags });
    }
    let declared = u32::from_le_bytes(array_at(bytes, LEN_AT).ok_or(too_short)?);
    // u32 -> usize only fails on 16-bit targets, where such a payload is too large anyway.
    let declared = usize::try_from(declared).unwrap_or(usize::MAX);
    if declared > max_payload_len {
        return Err(EnvelopeError::PayloadTooLarge {
            len: declared,
            max: max_payload_len,
        });
    }
    let available = bytes.len() - HEADER_LEN;
    let needed = declared.saturating_add(TRAILER_LEN);
    if needed > available {
        return Err(EnvelopeError::Truncated {
            declared,
            available,
        });
    }
    if available > needed {
        return Err(EnvelopeError::TrailingBytes {
            extra: available - needed,
        });
    }
    let (covered, tag) = bytes.split_at(HEADER_LEN + declared);
    match (flags & FLAG_MAC != 0, mac_key) {
        (false, Some(_)) => return Err(EnvelopeError::MacMissing),
        (true, None) => return Err(EnvelopeError::UnexpectedMac),
        (false, None) if !tags_equal(&trailer(covered, None), tag) => {
            return Err(EnvelopeError::ChecksumMismatch);
        }
        (true, Some(key)) if !tags_equal(&trailer(covered, Some(key)), tag) => {
            return Err(EnvelopeError::MacMismatch);
        }
        _ => {}
    }
    Ok(&covered[HEADER_LEN..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn envelope_layout_is_fixed() {
        let env = encode(b"hi", 1, 0x0102_0304_0506_0708, None).unwrap();
        assert_eq!(env.len(), OVERHEAD + 2);
        assert_eq!(&env[..4], b"TTLC");
        assert_eq!(env[4..7], [1, 1, 0]);
        assert_eq!(env[7..15], [8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(env[15..19], [2, 0, 0, 0]);
        assert_eq!(&env[19..21], b"hi");
        let hash = blake3::Hasher::new_derive_key(CHECKSUM_CONTEXT)
            .update(&env[..21])
            .finalize();
        assert_eq!(env[21..], hash.as_bytes()[..16]);
        let keyed = encode(b"hi", 1, 0, Some(&KEY)).unwrap();
        assert_eq!(keyed[6], FLAG_MAC);
        assert_eq!(
            keyed[21..],
            blake3::keyed_hash(&[7; 32], &keyed[..21]).as_bytes()[..16]
        );
    }

    #[test]
    fn envelope_empty_payload_roundtrips() {
        let env = encode(b"", 9, 3, None).unwrap();
        assert_eq!(env.len(), OVERHEAD);
        assert_eq!(decode(&env, 9, 3, None, 0), Ok(&b""[..]));
    }

    #[test]
    fn envelope_unknown_flags_rejected() {
        let mut env = encode(b"x", 1, 0, None).unwrap();
        env[6] = 0b10;
        assert_eq!(
            decode(&env, 1, 0, None, 10),
            Err(EnvelopeError::UnknownFlags { flags: 2 })
        );
    }

    #[test]
    fn envelope_tags_compare_only_16_bytes() {
        let a = [1u8; 16];
        assert!(tags_equal(&a, &[1u8; 16]));
        assert!(!tags_equal(&a, &[1u8; 15]));
        let mut b = a;
        b[15] ^= 1;
        assert!(!tags_equal(&a, &b));
    }
}
