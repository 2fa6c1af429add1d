//! R10/R11/R18: the codec and checked envelope reject every kind of corrupt,
//! foreign or forged input with a specific error, without panicking, without
//! overflowing the stack, and without allocating from a forged length.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;

use cache_core::codec::envelope::{self, FLAG_MAC, HEADER_LEN, OVERHEAD};
use cache_core::codec::{
    Codec, CodecError, EnvelopeError, Json, MacKey, MessagePack, SerializeError,
};
use proptest::prelude::*;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

const SCHEMA: u64 = 0xdead_beef_0000_0001;
const KEY: [u8; 32] = [0x5a; 32];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Inner {
    label: String,
    weights: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    id: u64,
    name: String,
    nickname: Option<String>,
    missing: Option<u32>,
    tags: Vec<String>,
    inner: Inner,
    children: Vec<Inner>,
    scores: BTreeMap<String, i32>,
}

fn sample() -> Record {
    Record {
        id: 42,
        name: "Ada Lovelace".into(),
        nickname: Some("ada".into()),
        missing: None,
        tags: vec!["math".into(), "poetry".into(), String::new()],
        inner: Inner {
            label: "in".into(),
            weights: vec![0.5, -1.25],
        },
        children: vec![Inner {
            label: "c".into(),
            weights: vec![],
        }],
        scores: [("x".to_owned(), -3), ("y".to_owned(), 7)]
            .into_iter()
            .collect(),
    }
}

fn msgpack() -> Codec {
    Codec::new(MessagePack, SCHEMA)
}

fn envelope_err<T: std::fmt::Debug>(r: Result<T, CodecError>) -> EnvelopeError {
    match r {
        Err(CodecError::Envelope(e)) => e,
        other => panic!("expected an envelope error, got {other:?}"),
    }
}

fn decode_err<T: std::fmt::Debug>(r: Result<T, CodecError>) -> String {
    match r {
        Err(CodecError::Serialize(e @ SerializeError::Decode { .. })) => e.to_string(),
        other => panic!("expected a serializer decode error, got {other:?}"),
    }
}

// ---------- round trips ----------

#[test]
fn codec_msgpack_roundtrip() {
    let codec = msgpack();
    let bytes = codec.encode_value(&sample()).unwrap();
    assert_eq!(codec.decode_value::<Record>(&bytes).unwrap(), sample());
    assert_eq!(codec.serializer_name(), "msgpack");
    assert_eq!(bytes[5], MessagePack::ID);
}

#[test]
fn codec_json_roundtrip() {
    let codec = Codec::new(Json, SCHEMA);
    let bytes = codec.encode_value(&sample()).unwrap();
    assert_eq!(codec.decode_value::<Record>(&bytes).unwrap(), sample());
    assert_eq!(bytes[5], Json::ID);
    let payload = codec.open(&bytes).unwrap();
    assert!(
        std::str::from_utf8(payload)
            .unwrap()
            .starts_with("{\"id\":42,")
    );
}

// ---------- corrupt input, one kind per test ----------

#[test]
fn envelope_empty_input() {
    let e = envelope_err(msgpack().decode_value::<Record>(&[]));
    assert_eq!(
        e,
        EnvelopeError::TooShort {
            len: 0,
            min: OVERHEAD
        }
    );
}

#[test]
fn envelope_random_bytes() {
    let mut rng = 0x1234_5678_9abc_def0u64;
    for len in [1usize, 10, 34, 35, 36, 100, 4096] {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng as u8
            })
            .collect();
        let e = envelope_err(msgpack().decode_value::<Record>(&bytes));
        if len < OVERHEAD {
            assert_eq!(e, EnvelopeError::TooShort { len, min: OVERHEAD });
        } else {
            assert!(matches!(e, EnvelopeError::BadMagic { .. }), "{e:?}");
        }
    }
}

#[test]
fn envelope_truncated_at_every_length() {
    let codec = msgpack();
    let bytes = codec.encode_value(&sample()).unwrap();
    let payload_len = bytes.len() - OVERHEAD;
    for cut in 0..bytes.len() {
        let e = envelope_err(codec.decode_value::<Record>(&bytes[..cut]));
        if cut < OVERHEAD {
            assert_eq!(
                e,
                EnvelopeError::TooShort {
                    len: cut,
                    min: OVERHEAD
                },
                "cut {cut}"
            );
        } else {
            let available = cut - HEADER_LEN;
            assert_eq!(
                e,
                EnvelopeError::Truncated {
                    declared: payload_len,
                    available
                },
                "cut {cut}"
            );
        }
    }
}

#[test]
fn envelope_flipped_payload_bit_is_checksum_mismatch() {
    let codec = msgpack();
    let clean = codec.encode_value(&sample()).unwrap();
    for at in HEADER_LEN..clean.len() {
        for bit in [0, 3, 7] {
            let mut bytes = clean.clone();
            bytes[at] ^= 1 << bit;
            let e = envelope_err(codec.decode_value::<Record>(&bytes));
            assert_eq!(e, EnvelopeError::ChecksumMismatch, "byte {at} bit {bit}");
        }
    }
}

#[test]
fn envelope_bad_magic() {
    let mut bytes = msgpack().encode_value(&sample()).unwrap();
    bytes[0] = b'X';
    let e = envelope_err(msgpack().decode_value::<Record>(&bytes));
    assert_eq!(e, EnvelopeError::BadMagic { found: *b"XTLC" });
}

#[test]
fn envelope_wrong_version() {
    let mut bytes = msgpack().encode_value(&sample()).unwrap();
    bytes[4] = 2;
    let e = envelope_err(msgpack().decode_value::<Record>(&bytes));
    assert_eq!(
        e,
        EnvelopeError::UnsupportedVersion {
            found: 2,
            supported: 1
        }
    );
}

#[test]
fn envelope_wrong_codec() {
    let bytes = Codec::new(Json, SCHEMA).encode_value(&sample()).unwrap();
    let e = envelope_err(msgpack().decode_value::<Record>(&bytes));
    assert_eq!(
        e,
        EnvelopeError::CodecMismatch {
            expected: 1,
            found: 2
        }
    );
}

#[test]
fn envelope_wrong_schema() {
    let bytes = Codec::new(MessagePack, 7).encode_value(&sample()).unwrap();
    let e = envelope_err(msgpack().decode_value::<Record>(&bytes));
    assert_eq!(
        e,
        EnvelopeError::SchemaMismatch {
            expected: SCHEMA,
            found: 7
        }
    );
}

#[test]
fn envelope_huge_length_field_with_short_buffer() {
    let mut bytes = msgpack().encode_value(&1u8).unwrap();
    bytes[15..19].copy_from_slice(&u32::MAX.to_le_bytes());
    // Above the configured maximum: refused from the header alone.
    let e = envelope_err(msgpack().decode_value::<u8>(&bytes));
    assert_eq!(
        e,
        EnvelopeError::PayloadTooLarge {
            len: u32::MAX as usize,
            max: 64 << 20
        }
    );
    // Allowed by the maximum but past the buffer: truncated, nothing allocated.
    let roomy = msgpack().with_max_payload(usize::MAX);
    assert_eq!(roomy.max_payload(), u32::MAX as usize);
    let e = envelope_err(roomy.decode_value::<u8>(&bytes));
    assert_eq!(
        e,
        EnvelopeError::Truncated {
            declared: u32::MAX as usize,
            available: bytes.len() - HEADER_LEN
        }
    );
}

#[test]
fn envelope_payload_limit_applies_to_encode_and_decode() {
    let small = msgpack().with_max_payload(8);
    let e = envelope_err(small.encode_value(&"a string longer than eight bytes"));
    assert!(
        matches!(e, EnvelopeError::PayloadTooLarge { max: 8, .. }),
        "{e:?}"
    );
    let bytes = msgpack()
        .encode_value(&"a string longer than eight bytes")
        .unwrap();
    let e = envelope_err(small.decode_value::<String>(&bytes));
    assert!(
        matches!(e, EnvelopeError::PayloadTooLarge { max: 8, .. }),
        "{e:?}"
    );
}

#[test]
fn envelope_trailing_garbage() {
    let mut bytes = msgpack().encode_value(&sample()).unwrap();
    bytes.extend_from_slice(b"junk");
    let e = envelope_err(msgpack().decode_value::<Record>(&bytes));
    assert_eq!(e, EnvelopeError::TrailingBytes { extra: 4 });
}

#[test]
fn serializer_wrong_type_in_valid_envelope_is_decode_error() {
    let bytes = msgpack().encode_value("just a string").unwrap();
    let msg = decode_err(msgpack().decode_value::<Record>(&bytes));
    assert!(msg.starts_with("msgpack decode failed"), "{msg}");
}

#[test]
fn serializer_deeply_nested_msgpack_is_decode_error() {
    let mut payload = vec![0x91; 100_000];
    payload.push(0x01);
    let bytes = envelope::encode(&payload, MessagePack::ID, SCHEMA, None).unwrap();
    let msg = decode_err(msgpack().decode_value::<IgnoredAny>(&bytes));
    assert!(
        msg.contains("nesting depth exceeds the limit of 256"),
        "{msg}"
    );
}

// ---------- keyed MAC ----------

#[test]
fn envelope_mac_roundtrip() {
    let codec = msgpack().with_mac_key(KEY);
    assert!(codec.has_mac_key());
    let bytes = codec.encode_value(&sample()).unwrap();
    assert_eq!(bytes[6], FLAG_MAC);
    assert_eq!(codec.decode_value::<Record>(&bytes).unwrap(), sample());
}

#[test]
fn envelope_mac_wrong_key() {
    let bytes = msgpack().with_mac_key(KEY).encode_value(&sample()).unwrap();
    let e = envelope_err(
        msgpack()
            .with_mac_key([0xa5; 32])
            .decode_value::<Record>(&bytes),
    );
    assert_eq!(e, EnvelopeError::MacMismatch);
}

#[test]
fn envelope_mac_forged_without_mac() {
    // An attacker with write access but no key stores a well-formed, checksummed entry.
    let forged = msgpack().encode_value(&sample()).unwrap();
    let e = envelope_err(msgpack().with_mac_key(KEY).decode_value::<Record>(&forged));
    assert_eq!(e, EnvelopeError::MacMissing);
    // Setting the MAC flag without knowing the key does not help either.
    let mut flagged = forged;
    flagged[6] = FLAG_MAC;
    let e = envelope_err(msgpack().with_mac_key(KEY).decode_value::<Record>(&flagged));
    assert_eq!(e, EnvelopeError::MacMismatch);
}

#[test]
fn envelope_mac_present_but_no_key() {
    let bytes = msgpack().with_mac_key(KEY).encode_value(&sample()).unwrap();
    let e = envelope_err(msgpack().decode_value::<Record>(&bytes));
    assert_eq!(e, EnvelopeError::UnexpectedMac);
}

#[test]
fn envelope_mac_tampered_payload() {
    let codec = msgpack().with_mac_key(KEY);
    let clean = codec.encode_value(&sample()).unwrap();
    for at in HEADER_LEN..clean.len() {
        let mut bytes = clean.clone();
        bytes[at] ^= 0x40;
        assert_eq!(
            envelope_err(codec.decode_value::<Record>(&bytes)),
            EnvelopeError::MacMismatch,
            "byte {at}"
        );
    }
}

#[test]
fn codec_debug_never_prints_the_key() {
    let codec = msgpack().with_mac_key(KEY);
    let shown = format!("{codec:?} {:?} {:#?}", MacKey::new(KEY), codec);
    assert!(shown.contains("<redacted>"), "{shown}");
    assert!(
        !shown.contains("90, 90") && !shown.contains("0x5a"),
        "{shown}"
    );
}

#[test]
fn codec_error_messages_are_clear() {
    let e = envelope_err(msgpack().decode_value::<u8>(&[0; 3]));
    assert_eq!(
        e.to_string(),
        "envelope too short: 3 bytes, at least 35 needed"
    );
    let e = Codec::new(Json, SCHEMA)
        .encode_value(&BTreeMap::from([((1, 2), 3)]))
        .unwrap_err();
    assert!(e.to_string().starts_with("json encode failed: "), "{e}");
}

// ---------- properties ----------

/// A recursive type whose levels are enum `{variant: value}` maps.
#[derive(Debug, Serialize, Deserialize)]
enum Tree {
    Leaf,
    Node(Box<Tree>),
}

fn valid_envelope(payload: &[u8], keyed: bool) -> Vec<u8> {
    envelope::encode(payload, MessagePack::ID, SCHEMA, keyed.then_some(&KEY)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn envelope_prop_arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = msgpack().decode_value::<Record>(&bytes);
        let _ = msgpack().decode_value::<IgnoredAny>(&bytes);
        let _ = Codec::new(Json, SCHEMA).decode_value::<Record>(&bytes);
        let _ = msgpack().with_mac_key(KEY).decode_value::<Tree>(&bytes);
    }

    #[test]
    fn envelope_prop_mutations_never_panic(
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        keyed in any::<bool>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let original = valid_envelope(&payload, keyed);
        let mut bytes = original.clone();
        for (at, value) in &edits {
            let i = at.index(bytes.len());
            bytes[i] = *value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        let key = keyed.then_some(&KEY);
        match envelope::decode(&bytes, MessagePack::ID, SCHEMA, key, 1 << 20) {
            Ok(got) => {
                prop_assert_eq!(&bytes, &original, "a changed envelope was accepted");
                prop_assert_eq!(got, &payload[..]);
            }
            Err(_) => prop_assert_ne!(&bytes, &original),
        }
        let codec = if keyed { msgpack().with_mac_key(KEY) } else { msgpack() };
        let _ = codec.decode_value::<IgnoredAny>(&bytes);
        let _ = codec.decode_value::<Record>(&bytes);
    }

    #[test]
    fn serializer_prop_msgpack_payload_never_panics(payload in proptest::collection::vec(any::<u8>(), 0..128)) {
        let bytes = valid_envelope(&payload, false);
        let _ = msgpack().decode_value::<IgnoredAny>(&bytes);
        let _ = msgpack().decode_value::<Record>(&bytes);
        let _ = msgpack().decode_value::<Tree>(&bytes);
    }

    #[test]
    fn codec_prop_roundtrip(id in any::<u64>(), name in ".*", tags in proptest::collection::vec(".{0,8}", 0..8), nick in proptest::option::of(".{0,8}")) {
        let mut value = sample();
        value.id = id;
        value.name = name;
        value.tags = tags;
        value.nickname = nick;
        for codec in [msgpack(), msgpack().with_mac_key(KEY)] {
            let bytes = codec.encode_value(&value).unwrap();
            prop_assert_eq!(codec.decode_value::<Record>(&bytes).unwrap(), value.clone());
        }
        let json = Codec::new(Json, SCHEMA);
        prop_assert_eq!(json.decode_value::<Record>(&json.encode_value(&value).unwrap()).unwrap(), value);
    }
}
