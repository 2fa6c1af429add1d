//! Unit tests of the serializers: named fields, plug-ins, and hostile payloads
//! (wrong type, deep nesting, forged inner lengths) inside valid envelopes.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::envelope;
use super::{Codec, CodecError, Json, MessagePack, SerializeError, Serializer};

const SCHEMA: u64 = 0x5c4e_3a00;

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
        tags: vec!["math".into(), String::new()],
        inner: Inner {
            label: "in".into(),
            weights: vec![0.5, -1.25],
        },
        children: vec![Inner {
            label: "c".into(),
            weights: vec![],
        }],
        scores: [("x".to_owned(), -3)].into_iter().collect(),
    }
}

fn msgpack() -> Codec {
    Codec::new(MessagePack, SCHEMA)
}

fn decode_err<T: std::fmt::Debug>(r: Result<T, CodecError>) -> String {
    match r {
        Err(CodecError::Serialize(e @ SerializeError::Decode { .. })) => e.to_string(),
        other => panic!("expected a serializer decode error, got {other:?}"),
    }
}

#[test]
fn serializer_msgpack_uses_named_fields() {
    let bytes = MessagePack.serialize(&sample()).unwrap();
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    for field in [
        "id", "name", "nickname", "missing", "tags", "inner", "children", "scores", "label",
        "weights",
    ] {
        assert!(
            has(field.as_bytes()),
            "field name {field} missing from msgpack output"
        );
    }
}

#[test]
fn serializer_custom_plugs_in() {
    /// MessagePack behind a one-byte format tag, under a user codec id.
    #[derive(Debug, Clone, Copy)]
    struct Tagged;
    impl Serializer for Tagged {
        fn codec_id(&self) -> u8 {
            130
        }
        fn name(&self) -> &'static str {
            "tagged"
        }
        fn serialize<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, SerializeError> {
            let mut out = vec![b'T'];
            out.extend(
                MessagePack
                    .serialize(value)
                    .map_err(|e| SerializeError::encode("tagged", e))?,
            );
            Ok(out)
        }
        fn deserialize<T: serde::de::DeserializeOwned>(
            &self,
            b: &[u8],
        ) -> Result<T, SerializeError> {
            match b.split_first() {
                Some((b'T', rest)) => MessagePack
                    .deserialize(rest)
                    .map_err(|e| SerializeError::decode("tagged", e)),
                _ => Err(SerializeError::decode("tagged", "missing format tag")),
            }
        }
    }
    let codec = Codec::new(Tagged, SCHEMA);
    let bytes = codec.encode_value(&sample()).unwrap();
    assert_eq!(bytes[5], 130);
    assert_eq!(codec.open(&bytes).unwrap()[0], b'T');
    assert_eq!(codec.serializer_name(), "tagged");
    assert_eq!(codec.decode_value::<Record>(&bytes).unwrap(), sample());
    // An entry written by another codec is refused before any parsing.
    assert!(matches!(
        msgpack().decode_value::<Record>(&bytes),
        Err(CodecError::Envelope(super::EnvelopeError::CodecMismatch {
            expected: 1,
            found: 130
        }))
    ));
}

#[test]
fn codec_unsized_and_primitive_values() {
    let codec = msgpack();
    let bytes = codec.encode_value("a str slice").unwrap();
    assert_eq!(codec.decode_value::<String>(&bytes).unwrap(), "a str slice");
    let bytes = codec.encode_value(&[1u8, 2, 3][..]).unwrap();
    assert_eq!(codec.decode_value::<Vec<u8>>(&bytes).unwrap(), [1, 2, 3]);
    let bytes = codec.encode_value(&()).unwrap();
    codec.decode_value::<()>(&bytes).unwrap();
}

#[test]
fn serializer_wrong_type_in_valid_envelope() {
    for codec in [
        msgpack().encode_value("just a string"),
        Codec::new(MessagePack, SCHEMA).encode_value(&7u64),
    ] {
        let msg = decode_err(msgpack().decode_value::<Record>(&codec.unwrap()));
        assert!(msg.starts_with("msgpack decode failed"), "{msg}");
    }
    let json = Codec::new(Json, SCHEMA);
    let msg = decode_err(json.decode_value::<Record>(&json.encode_value("just a string").unwrap()));
    assert!(msg.starts_with("json decode failed"), "{msg}");
}

/// A recursive type that `rmp-serde`'s own depth counter does not see through:
/// each level is an enum `{variant: value}` map.
#[derive(Debug, Serialize, Deserialize)]
enum Tree {
    Leaf,
    Node(Box<Tree>),
}

/// Arrays of arrays, to any depth.
#[derive(Debug, Serialize, Deserialize)]
struct Nest(Vec<Nest>);

fn nested_msgpack(header: u8, depth: usize, leaf: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(depth * 6 + leaf.len());
    for _ in 0..depth {
        payload.push(header);
        if header == 0x81 {
            payload.extend_from_slice(b"\xa4Node");
        }
    }
    payload.extend_from_slice(leaf);
    envelope::encode(&payload, MessagePack::ID, SCHEMA, None).unwrap()
}

#[test]
fn serializer_deeply_nested_msgpack_arrays() {
    let bytes = nested_msgpack(0x91, 100_000, &[0x01]);
    let msg = decode_err(msgpack().decode_value::<IgnoredAny>(&bytes));
    assert!(
        msg.contains("nesting depth exceeds the limit of 256"),
        "{msg}"
    );
    let msg = decode_err(msgpack().decode_value::<Record>(&bytes));
    assert!(msg.contains("nesting depth"), "{msg}");
}

#[test]
fn serializer_deeply_nested_msgpack_enum_maps() {
    let bytes = nested_msgpack(0x81, 100_000, b"\xa4Leaf");
    let msg = decode_err(msgpack().decode_value::<Tree>(&bytes));
    assert!(msg.contains("nesting depth"), "{msg}");
}

#[test]
fn serializer_msgpack_depth_limit_admits_256_levels() {
    let ok = nested_msgpack(0x91, MessagePack::MAX_DEPTH, &[0x01]);
    msgpack().decode_value::<IgnoredAny>(&ok).unwrap();
    let ok = nested_msgpack(0x91, MessagePack::MAX_DEPTH - 1, &[0x90]);
    msgpack().decode_value::<Nest>(&ok).unwrap();
    let ok = nested_msgpack(0x81, MessagePack::MAX_DEPTH, b"\xa4Leaf");
    msgpack().decode_value::<Tree>(&ok).unwrap();
    let deep = nested_msgpack(0x91, MessagePack::MAX_DEPTH + 1, &[0x01]);
    decode_err(msgpack().decode_value::<IgnoredAny>(&deep));
}

#[test]
fn serializer_deeply_nested_json() {
    let json = Codec::new(Json, SCHEMA);
    let payload = "[".repeat(100_000);
    let bytes = envelope::encode(payload.as_bytes(), Json::ID, SCHEMA, None).unwrap();
    let msg = decode_err(json.decode_value::<Nest>(&bytes));
    assert!(msg.contains("recursion limit exceeded"), "{msg}");
    decode_err(json.decode_value::<IgnoredAny>(&bytes));
    let payload = "{\"Node\":".repeat(100_000);
    let bytes = envelope::encode(payload.as_bytes(), Json::ID, SCHEMA, None).unwrap();
    let msg = decode_err(json.decode_value::<Tree>(&bytes));
    assert!(msg.contains("recursion limit exceeded"), "{msg}");
}

#[test]
fn serializer_huge_inner_length_does_not_preallocate() {
    // array32 / str32 / map32 headers declaring u32::MAX items in a tiny payload.
    for header in [
        [0xdd, 0xff, 0xff, 0xff, 0xff],
        [0xdb, 0xff, 0xff, 0xff, 0xff],
        [0xdf, 0xff, 0xff, 0xff, 0xff],
    ] {
        let bytes = envelope::encode(&header, MessagePack::ID, SCHEMA, None).unwrap();
        decode_err(msgpack().decode_value::<Vec<u64>>(&bytes));
        decode_err(msgpack().decode_value::<IgnoredAny>(&bytes));
    }
}

/// The id straight from blake3, as stored envelopes carry it.
fn uncached_schema_id(name: &str) -> u64 {
    let digest = blake3::hash(name.as_bytes());
    u64::from_le_bytes(digest.as_bytes()[..8].try_into().unwrap())
}

#[test]
fn schema_ids_stay_the_hash_of_the_type_name_through_the_per_thread_memo() {
    use std::any::type_name;
    // Pinned: stored entries carry this id, so it must never change.
    assert_eq!(super::schema_id_of::<u64>(), uncached_schema_id("u64"));
    assert_eq!(super::schema_id_of::<u64>(), 0x0a7d_54db_067e_2b2a);
    /// The memo's id and blake3's for `T`.
    fn pair<T: ?Sized>() -> (u64, u64) {
        (
            super::schema_id_of::<T>(),
            uncached_schema_id(type_name::<T>()),
        )
    }
    fn ids() -> Vec<(u64, u64)> {
        // Six types, more than the memo holds, asked in turn and in reverse:
        // every ask past the first four is a memo miss or a hit on a moved slot.
        let mut out = Vec::new();
        for _ in 0..3 {
            out.extend([
                pair::<u64>(),
                pair::<String>(),
                pair::<Record>(),
                pair::<Inner>(),
                pair::<Vec<u8>>(),
                pair::<str>(),
                pair::<str>(),
                pair::<Vec<u8>>(),
                pair::<u64>(),
            ]);
        }
        out
    }
    let here = ids();
    let there = std::thread::spawn(ids).join().unwrap();
    for (got, want) in here.iter().chain(&there) {
        assert_eq!(got, want);
    }
    // Distinct types, distinct ids.
    let mut distinct: Vec<u64> = here.iter().map(|(id, _)| *id).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 6);
}
