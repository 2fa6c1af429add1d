//! Properties of the envelope decoder and the typed decode path of the
//! storage backends (`Codec::decode_value`, what Redis and disk call on the
//! bytes they read back), checked on arbitrary bytes.
//!
//! Shared by the `envelope_decode` fuzz target and the `fuzz_lite` proptest of
//! the test suite (which includes this file by path), so both run the same
//! checks.
//!
//! The first input byte is a [mode](MODE_KEYED) byte; the rest is either the
//! stored bytes themselves (raw) or a payload that is first wrapped in a valid
//! envelope, so that the serializers (and the MessagePack pre-decode scanner)
//! see arbitrary payloads rather than stopping at the checksum. Properties:
//!
//! - nothing panics, whatever the bytes (a decode error is a miss, never a crash);
//! - an accepted envelope is canonical: re-encoding the payload it yields gives
//!   back the very same bytes, and the payload respects the configured limit;
//! - a payload wrapped in a fresh envelope always opens to itself (or is
//!   refused as too large, when it is);
//! - every value that decodes re-encodes and decodes to the same value.

use std::collections::BTreeMap;
use std::fmt::Debug;

use cache_core::codec::{
    Codec, CodecError, EnvelopeError, Json, MessagePack, Serializer, envelope,
};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};

/// The schema id every codec of these checks uses.
pub const SCHEMA: u64 = 0x00f0_22ed_5c0d_ec01;
/// The MAC key of keyed runs.
pub const KEY: [u8; 32] = [0x6b; 32];

/// Mode bit: the codec requires a keyed MAC (and wrapped payloads get one).
pub const MODE_KEYED: u8 = 0b0000_0001;
/// Mode bit: JSON instead of MessagePack.
pub const MODE_JSON: u8 = 0b0000_0010;
/// Mode bit: the rest of the input is a payload to wrap in a valid envelope.
pub const MODE_WRAP: u8 = 0b0000_0100;
/// Mode bits 3..=4: which payload limit the codec has (see [`max_payload`]).
pub const MODE_LIMIT_SHIFT: u32 = 3;

/// The payload limit selected by bits 3..=4 of `mode`: the default, or a small
/// one so that the limit check is reached often.
pub fn max_payload(mode: u8) -> usize {
    match (mode >> MODE_LIMIT_SHIFT) & 0b11 {
        0 => cache_core::codec::DEFAULT_MAX_PAYLOAD,
        1 => 0,
        2 => 16,
        _ => 200,
    }
}

/// A nested value type with the serde shapes a cached value commonly has:
/// structs, enums of every variant kind, recursion, maps, options, bytes.
/// No floats: JSON does not round-trip non-finite ones (documented on `Json`);
/// they are checked separately for MessagePack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Doc {
    /// An integer field.
    pub id: u64,
    /// A string field.
    pub name: String,
    /// Pairs with optional integers.
    pub tags: Vec<(String, Option<i64>)>,
    /// An enum field.
    pub kind: Kind,
    /// Recursion through a sequence.
    pub children: Vec<Doc>,
    /// A string-keyed map.
    pub attrs: BTreeMap<String, u32>,
    /// Bytes.
    pub blob: Vec<u8>,
    /// An optional flag.
    pub flag: Option<bool>,
    /// A narrow signed integer.
    pub small: i8,
    /// A `char`.
    pub letter: char,
}

/// An enum with unit, newtype, tuple and struct variants, recursive through
/// the last one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Kind {
    /// A unit variant.
    Empty,
    /// A newtype variant.
    Count(u32),
    /// A tuple variant.
    Pair(i16, String),
    /// A struct variant, recursive.
    Named {
        /// A field.
        depth: u8,
        /// Recursion through an enum.
        next: Option<Box<Kind>>,
    },
}

/// Values whose encodings make good starting points: a few sample values of
/// the checked types, each as a complete input (a mode byte with
/// [`MODE_WRAP`], then the serialized payload), for every serializer and with
/// and without a MAC. The fuzz-lite mutates these; the fuzz target finds its own.
pub fn seeds() -> Vec<Vec<u8>> {
    let doc = Doc {
        id: 7,
        name: "ada".into(),
        tags: vec![("x".into(), Some(-1)), (String::new(), None)],
        kind: Kind::Named {
            depth: 2,
            next: Some(Box::new(Kind::Pair(-3, "p".into()))),
        },
        children: vec![Doc {
            id: 1,
            name: String::new(),
            tags: Vec::new(),
            kind: Kind::Count(9),
            children: Vec::new(),
            attrs: BTreeMap::new(),
            blob: vec![0, 255],
            flag: None,
            small: -128,
            letter: 'é',
        }],
        attrs: [("k".to_owned(), 1)].into_iter().collect(),
        blob: b"blob".to_vec(),
        flag: Some(true),
        small: 5,
        letter: 'z',
    };
    let pairs: Vec<(String, Option<i64>)> = vec![("a".into(), Some(i64::MIN)), ("b".into(), None)];
    let mut out = Vec::new();
    for mode in [MODE_WRAP, MODE_WRAP | MODE_KEYED, MODE_WRAP | MODE_JSON] {
        let payloads: Vec<Vec<u8>> = if mode & MODE_JSON != 0 {
            vec![
                Json.serialize(&doc).unwrap_or_default(),
                Json.serialize(&pairs).unwrap_or_default(),
                Json.serialize(&u64::MAX).unwrap_or_default(),
                Json.serialize("text").unwrap_or_default(),
            ]
        } else {
            vec![
                MessagePack.serialize(&doc).unwrap_or_default(),
                MessagePack.serialize(&pairs).unwrap_or_default(),
                MessagePack.serialize(&u64::MAX).unwrap_or_default(),
                MessagePack.serialize("text").unwrap_or_default(),
                MessagePack
                    .serialize(&(1.5f32, f64::NAN))
                    .unwrap_or_default(),
            ]
        };
        out.extend(
            payloads
                .into_iter()
                .map(|payload| [&[mode][..], &payload].concat()),
        );
    }
    out
}

/// Runs every check on one input. Panics (failing the fuzz target or the
/// proptest) on the first property that does not hold.
pub fn check(data: &[u8]) {
    let (mode, rest) = match data.split_first() {
        Some((&mode, rest)) => (mode, rest),
        None => (0, data),
    };
    let limit = max_payload(mode);
    let key = (mode & MODE_KEYED != 0).then_some(&KEY);
    if mode & MODE_JSON != 0 {
        let codec = with_key(Codec::new(Json, SCHEMA).with_max_payload(limit), key);
        check_codec(&codec, key, mode, rest, false);
    } else {
        let codec = with_key(Codec::new(MessagePack, SCHEMA).with_max_payload(limit), key);
        check_codec(&codec, key, mode, rest, true);
    }
}

fn with_key<S: Serializer>(codec: Codec<S>, key: Option<&[u8; 32]>) -> Codec<S> {
    match key {
        Some(key) => codec.with_mac_key(*key),
        None => codec,
    }
}

fn check_codec<S: Serializer + Clone>(
    codec: &Codec<S>,
    key: Option<&[u8; 32]>,
    mode: u8,
    rest: &[u8],
    floats_round_trip: bool,
) {
    let codec_id = codec.serializer().codec_id();
    let wrapped;
    let stored = if mode & MODE_WRAP != 0 {
        // A fresh envelope of exactly these payload bytes, as a backend would store it.
        wrapped = match envelope::encode(rest, codec_id, SCHEMA, key) {
            Ok(bytes) => bytes,
            Err(e) => panic!("encoding a {}-byte payload failed: {e}", rest.len()),
        };
        let opened = codec.open(&wrapped);
        if rest.len() <= codec.max_payload() {
            assert_eq!(
                opened,
                Ok(rest),
                "a fresh envelope did not open to its payload"
            );
        } else {
            assert!(
                matches!(opened, Err(EnvelopeError::PayloadTooLarge { .. })),
                "an oversized payload was not refused: {opened:?}"
            );
        }
        &wrapped[..]
    } else {
        rest
    };

    if let Ok(payload) = codec.open(stored) {
        assert!(
            payload.len() <= codec.max_payload(),
            "payload over the limit accepted"
        );
        let again = envelope::encode(payload, codec_id, SCHEMA, key);
        assert_eq!(
            again.as_deref(),
            Ok(stored),
            "an accepted envelope is not the canonical encoding of its payload"
        );
    }

    // The typed decode path of the backends, into representative types.
    round_trip::<u64, S>(codec, stored, PartialEq::eq);
    round_trip::<String, S>(codec, stored, PartialEq::eq);
    round_trip::<Vec<(String, Option<i64>)>, S>(codec, stored, PartialEq::eq);
    round_trip::<Doc, S>(codec, stored, PartialEq::eq);
    round_trip::<Kind, S>(codec, stored, PartialEq::eq);
    if floats_round_trip {
        // Compared by bits: NaN payloads and -0.0 must survive too.
        round_trip::<(f32, f64), S>(codec, stored, |a, b| {
            a.0.to_bits() == b.0.to_bits() && a.1.to_bits() == b.1.to_bits()
        });
    }
    // Whatever the payload holds, walking all of it must not panic either.
    let _: Result<IgnoredAny, CodecError> = codec.decode_value(stored);
}

/// Decodes a `T`; if that succeeds, the value must re-encode and decode to
/// itself (under `same`).
fn round_trip<T, S>(codec: &Codec<S>, stored: &[u8], same: fn(&T, &T) -> bool)
where
    T: Serialize + DeserializeOwned + Debug,
    S: Serializer + Clone,
{
    let Ok(value) = codec.decode_value::<T>(stored) else {
        return;
    };
    // A value read from a compact form (a MessagePack struct as an array, say)
    // may re-encode larger than the limit the input was checked against.
    let unlimited = codec.clone().with_max_payload(usize::MAX);
    let bytes = match unlimited.encode_value(&value) {
        Ok(bytes) => bytes,
        Err(e) => panic!("decoded {value:?} but cannot re-encode it: {e}"),
    };
    match unlimited.decode_value::<T>(&bytes) {
        Ok(back) => assert!(same(&back, &value), "{value:?} re-decoded as {back:?}"),
        Err(e) => panic!("{value:?} re-encoded to bytes that do not decode: {e}"),
    }
}
