//! Serializers and the checked envelope for stored bytes.
//!
//! Stored bytes are untrusted: a value read back from Redis or disk may be
//! corrupt, truncated, written by another version of the program, or forged.
//! Every value therefore travels as
//! `envelope(serializer.serialize(value))`:
//!
//! - a [`Serializer`] turns values into bytes: [`MessagePack`] with named
//!   fields (the default), [`Json`], or your own implementation;
//! - the [`envelope`] records magic, format version, codec id, schema id and
//!   payload length, and ends with a checksum, or a keyed MAC when a
//!   [`MacKey`] is configured;
//! - a [`Codec`] holds both plus the limits, and is what a backend keeps.
//!
//! Any [`CodecError`] from [`Codec::decode_value`] means "treat as a miss":
//! backends count it as a decode error, recompute, and overwrite the entry.
//!
//! ```
//! use cache_core::codec::{Codec, CodecError, EnvelopeError, MessagePack};
//!
//! #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
//! struct User { id: u64, name: String }
//!
//! let codec = Codec::new(MessagePack, 0x5eed).with_mac_key([42; 32]);
//! let bytes = codec.encode_value(&User { id: 1, name: "ada".into() }).unwrap();
//! assert_eq!(codec.decode_value::<User>(&bytes).unwrap().name, "ada");
//!
//! let other_key = Codec::new(MessagePack, 0x5eed).with_mac_key([43; 32]);
//! assert!(matches!(
//!     other_key.decode_value::<User>(&bytes),
//!     Err(CodecError::Envelope(EnvelopeError::MacMismatch))
//! ));
//! ```

pub mod envelope;
mod scan;
mod serializer;
#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use envelope::EnvelopeError;
pub use serializer::{BoxError, Json, MessagePack, SerializeError, Serializer};

/// Default maximum payload size accepted by a [`Codec`]: 64 MiB.
///
/// Larger entries are refused when writing and treated as corrupt when reading.
pub const DEFAULT_MAX_PAYLOAD: usize = 64 * 1024 * 1024;

/// The schema id `#[ttl_cache]` gives values of type `V`: 64 bits of blake3
/// over the type's name, so a value stored by code with another value type is
/// a decode error (a miss), not a misread. Stores that keep typed values
/// outside the macro (`RedisMap`, `DiskCache`) use it too.
pub fn schema_id_of<V: ?Sized>() -> u64 {
    let name = std::any::type_name::<V>();
    // A typed read asks for its type's id on every call, and hashing the name
    // costs about 600 instructions: each thread remembers the last few. The
    // name is `'static`, so its address and length name its bytes, and a
    // remembered id is the one those bytes give.
    let at = (name.as_ptr() as usize, name.len());
    let recent = RECENT_SCHEMA_IDS.try_with(Cell::get).unwrap_or_default();
    if let Some(&(_, id)) = recent.iter().find(|(seen, _)| *seen == at) {
        return id;
    }
    let id = schema_id_of_name(name);
    let _ = RECENT_SCHEMA_IDS.try_with(|cell| {
        let mut next = [((0, 0), 0); RECENT_SCHEMAS];
        next[0] = (at, id);
        next[1..].copy_from_slice(&recent[..RECENT_SCHEMAS - 1]);
        cell.set(next);
    });
    id
}

/// Type names whose schema ids each thread remembers.
const RECENT_SCHEMAS: usize = 4;

thread_local! {
    /// `((address, length) of a type name, its schema id)`, the latest first;
    /// `(0, 0)` is no name.
    static RECENT_SCHEMA_IDS: Cell<[((usize, usize), u64); RECENT_SCHEMAS]> =
        const { Cell::new([((0, 0), 0); RECENT_SCHEMAS]) };
}

/// 64 bits of blake3 over a type's name.
fn schema_id_of_name(name: &str) -> u64 {
    let digest = blake3::hash(name.as_bytes());
    let mut id = [0; 8];
    id.copy_from_slice(&digest.as_bytes()[..8]);
    u64::from_le_bytes(id)
}

/// A 32-byte secret key for the envelope's keyed MAC (keyed blake3).
///
/// Its `Debug` output never shows the key. Use a random key shared by every
/// process that reads and writes the cache, e.g. from a secret store.
#[derive(Clone)]
pub struct MacKey([u8; 32]);

impl MacKey {
    /// Wraps a 32-byte key.
    pub const fn new(key: [u8; 32]) -> Self {
        Self(key)
    }

    /// The raw key bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl From<[u8; 32]> for MacKey {
    fn from(key: [u8; 32]) -> Self {
        Self(key)
    }
}

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MacKey(<redacted>)")
    }
}

/// Encoding or decoding a stored value failed.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The envelope was rejected (decode), or the payload is too large (encode).
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The serializer failed.
    #[error(transparent)]
    Serialize(#[from] SerializeError),
}

impl CodecError {
    /// What went wrong, as a fixed phrase that never quotes the stored bytes
    /// (a serializer's own message can: serde's `invalid type: string "…"`),
    /// so it is safe to log where values must not appear.
    ///
    /// ```
    /// use cache_core::codec::{Codec, MessagePack};
    ///
    /// let codec = Codec::new(MessagePack, 7);
    /// let error = codec.decode_value::<u64>(b"not an envelope").unwrap_err();
    /// assert_eq!(error.summary(), "not a valid envelope: corrupt, truncated or foreign entry");
    /// ```
    pub fn summary(&self) -> &'static str {
        match self {
            Self::Serialize(_) => "the stored value does not decode as the expected type",
            Self::Envelope(envelope) => match envelope {
                EnvelopeError::SchemaMismatch { .. } => "the stored value is of another type",
                EnvelopeError::CodecMismatch { .. } => "the stored value has another serializer",
                EnvelopeError::ChecksumMismatch => "checksum mismatch: corrupt entry",
                EnvelopeError::MacMissing
                | EnvelopeError::UnexpectedMac
                | EnvelopeError::MacMismatch => {
                    "MAC check failed: unsigned, forged or corrupt entry"
                }
                EnvelopeError::PayloadTooLarge { .. } => "the value is larger than allowed",
                _ => "not a valid envelope: corrupt, truncated or foreign entry",
            },
        }
    }
}

/// A serializer plus the envelope settings: what a backend holds to turn values
/// into stored bytes and back.
///
/// - `schema_id` identifies the value type (and its version); entries with a
///   different id are rejected with [`EnvelopeError::SchemaMismatch`].
/// - with a [`MacKey`], envelopes carry a keyed MAC and unkeyed or wrongly keyed
///   envelopes are rejected; without one, a checksum guards against corruption.
/// - payloads above [`max_payload`](Self::max_payload) (default
///   [`DEFAULT_MAX_PAYLOAD`], 64 MiB) are refused both ways.
///
/// `Debug` never prints the MAC key.
#[derive(Clone)]
pub struct Codec<S: Serializer = MessagePack> {
    serializer: S,
    schema_id: u64,
    mac_key: Option<MacKey>,
    max_payload: usize,
}

impl<S: Serializer> Codec<S> {
    /// A codec using `serializer` for values of schema `schema_id`, with no MAC
    /// and the default payload limit.
    pub fn new(serializer: S, schema_id: u64) -> Self {
        Self {
            serializer,
            schema_id,
            mac_key: None,
            max_payload: DEFAULT_MAX_PAYLOAD,
        }
    }

    /// Requires and writes a keyed MAC with `key`.
    #[must_use]
    pub fn with_mac_key(mut self, key: impl Into<MacKey>) -> Self {
        self.mac_key = Some(key.into());
        self
    }

    /// Sets the largest payload (serialized value, envelope excluded) accepted.
    /// Capped at `u32::MAX`, the envelope's length field.
    #[must_use]
    pub fn with_max_payload(mut self, max_payload: usize) -> Self {
        self.max_payload = max_payload.min(u32::MAX as usize);
        self
    }

    /// The serializer.
    pub fn serializer(&self) -> &S {
        &self.serializer
    }

    /// The serializer's human name, e.g. `"msgpack"`.
    pub fn serializer_name(&self) -> &'static str {
        self.serializer.name()
    }

    /// The schema id written into and expected in every envelope.
    pub fn schema_id(&self) -> u64 {
        self.schema_id
    }

    /// Whether envelopes carry and require a keyed MAC.
    pub fn has_mac_key(&self) -> bool {
        self.mac_key.is_some()
    }

    /// The largest payload accepted, in bytes.
    pub fn max_payload(&self) -> usize {
        self.max_payload
    }

    /// Serializes `value` and wraps it in an envelope.
    ///
    /// # Errors
    ///
    /// [`CodecError::Serialize`] if the serializer fails;
    /// [`CodecError::Envelope`] with [`EnvelopeError::PayloadTooLarge`] if the
    /// payload exceeds [`max_payload`](Self::max_payload).
    pub fn encode_value<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, CodecError> {
        let payload = self.serializer.serialize(value)?;
        if payload.len() > self.max_payload {
            return Err(EnvelopeError::PayloadTooLarge {
                len: payload.len(),
                max: self.max_payload,
            }
            .into());
        }
        let key = self.mac_key.as_ref().map(MacKey::as_bytes);
        Ok(envelope::encode(
            &payload,
            self.serializer.codec_id(),
            self.schema_id,
            key,
        )?)
    }

    /// Checks the envelope of untrusted `bytes` and deserializes the value.
    ///
    /// # Errors
    ///
    /// [`CodecError::Envelope`] if the envelope is rejected (corrupt, truncated,
    /// oversized, other codec or schema, MAC failure);
    /// [`CodecError::Serialize`] if the payload is not a valid `T`. Either way
    /// the entry should be treated as a miss.
    pub fn decode_value<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError> {
        let payload = self.open(bytes)?;
        Ok(self.serializer.deserialize(payload)?)
    }

    /// Checks the envelope of untrusted `bytes` and returns the payload slice.
    ///
    /// # Errors
    ///
    /// The [`EnvelopeError`] of the first failed check.
    pub fn open<'a>(&self, bytes: &'a [u8]) -> Result<&'a [u8], EnvelopeError> {
        let key = self.mac_key.as_ref().map(MacKey::as_bytes);
        envelope::decode(
            bytes,
            self.serializer.codec_id(),
            self.schema_id,
            key,
            self.max_payload,
        )
    }
}

impl<S: Serializer + fmt::Debug> fmt::Debug for Codec<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Codec")
            .field("serializer", &self.serializer)
            .field("schema_id", &format_args!("{:#018x}", self.schema_id))
            .field("mac_key", &self.mac_key)
            .field("max_payload", &self.max_payload)
            .finish()
    }
}
