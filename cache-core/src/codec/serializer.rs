//! The [`Serializer`] trait and the built-in codecs [`MessagePack`] and [`Json`].

use std::error::Error as StdError;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::scan;

/// A boxed error source, as carried by [`SerializeError`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A value could not be turned into bytes, or bytes back into a value.
///
/// Backends treat every decode error as a cache miss (the entry is recomputed and
/// overwritten); an encode error means the value is returned but not stored.
#[derive(Debug, thiserror::Error)]
pub enum SerializeError {
    /// Serializing a value failed (e.g. a map with non-string keys under JSON).
    #[error("{codec} encode failed: {source}")]
    Encode {
        /// The codec's [`Serializer::name`].
        codec: &'static str,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// Deserializing bytes failed: malformed, too deeply nested, or not the
    /// expected type.
    #[error("{codec} decode failed: {source}")]
    Decode {
        /// The codec's [`Serializer::name`].
        codec: &'static str,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
}

impl SerializeError {
    /// An [`Encode`](Self::Encode) error for `codec` caused by `source`
    /// (any error type, or a `String` / `&str` message).
    pub fn encode(codec: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Encode {
            codec,
            source: source.into(),
        }
    }

    /// A [`Decode`](Self::Decode) error for `codec` caused by `source`
    /// (any error type, or a `String` / `&str` message).
    pub fn decode(codec: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Decode {
            codec,
            source: source.into(),
        }
    }

    /// The name of the codec that failed.
    pub fn codec(&self) -> &'static str {
        match self {
            Self::Encode { codec, .. } | Self::Decode { codec, .. } => codec,
        }
    }
}

/// Turns values into bytes and back: the pluggable format of stored entries.
///
/// Implementations must be deterministic enough that `deserialize(serialize(v))`
/// yields `v`, and must treat their input to `deserialize` as untrusted: return
/// an error, never panic, and bound recursion and allocation. The bytes are
/// wrapped in a checked [envelope](super::envelope) that records
/// [`codec_id`](Self::codec_id), so entries written by one codec are never
/// handed to another.
///
/// # A custom serializer
///
/// ```
/// use cache_core::codec::{Codec, SerializeError, Serializer};
///
/// /// Indented JSON, e.g. for entries people read in `redis-cli`.
/// #[derive(Clone, Copy, Debug, Default)]
/// struct PrettyJson;
///
/// impl Serializer for PrettyJson {
///     fn codec_id(&self) -> u8 {
///         200 // user codecs use ids >= 128
///     }
///     fn name(&self) -> &'static str {
///         "pretty-json"
///     }
///     fn serialize<T: serde::Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, SerializeError> {
///         serde_json::to_vec_pretty(value).map_err(|e| SerializeError::encode(self.name(), e))
///     }
///     fn deserialize<T: serde::de::DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, SerializeError> {
///         serde_json::from_slice(bytes).map_err(|e| SerializeError::decode(self.name(), e))
///     }
/// }
///
/// let codec = Codec::new(PrettyJson, 7);
/// let stored = codec.encode_value(&vec!["a", "b"]).unwrap();
/// let back: Vec<String> = codec.decode_value(&stored).unwrap();
/// assert_eq!(back, ["a", "b"]);
/// assert_eq!(codec.serializer_name(), "pretty-json");
/// ```
pub trait Serializer: Send + Sync + 'static {
    /// A stable one-byte codec id written into the envelope (user codecs use
    /// ids >= 128; built-ins use 1 = MessagePack, 2 = JSON).
    fn codec_id(&self) -> u8;

    /// A short human name ("msgpack", "json"), shown by `cache_parameters()`.
    fn name(&self) -> &'static str;

    /// Encodes `value`.
    ///
    /// # Errors
    ///
    /// [`SerializeError::Encode`] if the value cannot be represented.
    fn serialize<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, SerializeError>;

    /// Decodes a `T` from untrusted `bytes`.
    ///
    /// # Errors
    ///
    /// [`SerializeError::Decode`] if the bytes are malformed, too deeply nested,
    /// or do not describe a `T`.
    fn deserialize<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, SerializeError>;
}

/// MessagePack with named struct fields (`rmp_serde::to_vec_named`): the default.
///
/// Structs are written as maps keyed by field name, so adding an optional field
/// or reordering fields does not silently misread old entries.
///
/// Decoding is hardened against hostile input: before `rmp-serde` sees the
/// bytes, an iterative (non-recursive) walk checks that they hold exactly one
/// well-formed value, that no container declares more items than bytes remain
/// (so no preallocation is driven by a forged length), and that arrays and maps
/// nest at most [`MessagePack::MAX_DEPTH`] deep. `rmp-serde`'s own depth
/// counter (default 1024, which does not count enum wrappers) is also lowered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MessagePack;

impl MessagePack {
    /// Codec id written into the envelope.
    pub const ID: u8 = 1;
    /// Maximum nesting of MessagePack arrays and maps accepted when decoding.
    pub const MAX_DEPTH: usize = 256;
}

impl Serializer for MessagePack {
    fn codec_id(&self) -> u8 {
        Self::ID
    }

    fn name(&self) -> &'static str {
        "msgpack"
    }

    fn serialize<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, SerializeError> {
        rmp_serde::to_vec_named(value).map_err(|e| SerializeError::encode(self.name(), e))
    }

    fn deserialize<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, SerializeError> {
        scan::check(bytes, Self::MAX_DEPTH).map_err(|e| SerializeError::decode(self.name(), e))?;
        let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
        // rmp-serde fails when its counter reaches 0, i.e. it admits limit - 1
        // levels; + 1 keeps the walk above the binding limit.
        de.set_max_depth(Self::MAX_DEPTH + 1);
        T::deserialize(&mut de).map_err(|e| SerializeError::decode(self.name(), e))
    }
}

/// JSON via `serde_json`.
///
/// Human-readable and interoperable, larger and slower than [`MessagePack`].
/// `serde_json` rejects input nested deeper than 128 arrays/objects and
/// trailing non-whitespace. JSON cannot represent maps with non-string keys
/// (encode error) and writes non-finite floats as `null` (decode error for `f64`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Json;

impl Json {
    /// Codec id written into the envelope.
    pub const ID: u8 = 2;
}

impl Serializer for Json {
    fn codec_id(&self) -> u8 {
        Self::ID
    }

    fn name(&self) -> &'static str {
        "json"
    }

    fn serialize<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, SerializeError> {
        serde_json::to_vec(value).map_err(|e| SerializeError::encode(self.name(), e))
    }

    fn deserialize<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, SerializeError> {
        serde_json::from_slice(bytes).map_err(|e| SerializeError::decode(self.name(), e))
    }
}
