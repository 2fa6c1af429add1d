//! Injectivity over a recursive value type (R15).
//!
//! `Value` wraps the standard types in a derived enum, so the real impls do the
//! hashing. Two properties:
//! - an independent decoder, written from the documented format alone, reads
//!   every encoding back to the value it came from; a decodable encoding is
//!   injective, so this covers every nesting the strategy reaches;
//! - on a narrow alphabet (many near-equal pairs), two values are equal exactly
//!   when their encodings are.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use cache_core::hash::tag;
use cache_core::{HashSink, PersistentHash};
use proptest::prelude::*;

use super::enc;

/// An `f64` compared as the encoding does: `-0.0 != 0.0`, every NaN alike.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Float(f64);

impl Float {
    fn canonical(self) -> u64 {
        if self.0.is_nan() {
            0x7ff8_0000_0000_0000
        } else {
            self.0.to_bits()
        }
    }
}

impl PartialEq for Float {
    fn eq(&self, other: &Self) -> bool {
        self.canonical() == other.canonical()
    }
}

impl PersistentHash for Float {
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        self.0.persistent_hash(sink);
    }
}

#[derive(Debug, Clone, PartialEq, PersistentHash)]
pub(crate) enum Value {
    Unit(()),
    Bool(bool),
    U(u64),
    I(i64),
    Wide(i128),
    F(Float),
    C(char),
    S(String),
    B(Vec<u8>),
    D(Duration),
    L(Vec<Value>),
    O(Option<Box<Value>>),
    R(Result<Box<Value>, String>),
    T2(Box<(Value, Value)>),
    M(BTreeMap<String, Value>),
    H(HashMap<u32, Value>),
    Named { a: Box<Value>, b: String },
}

fn tree(leaf: BoxedStrategy<Value>, keys: BoxedStrategy<String>) -> impl Strategy<Value = Value> {
    leaf.prop_recursive(4, 32, 4, move |inner| {
        let boxed = inner.clone().prop_map(Box::new);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::L),
            prop::option::of(boxed.clone()).prop_map(Value::O),
            prop::result::maybe_ok(boxed.clone(), keys.clone()).prop_map(Value::R),
            (inner.clone(), inner.clone()).prop_map(|pair| Value::T2(Box::new(pair))),
            prop::collection::btree_map(keys.clone(), inner.clone(), 0..3).prop_map(Value::M),
            prop::collection::hash_map(0u32..4, inner.clone(), 0..3).prop_map(Value::H),
            (boxed, keys.clone()).prop_map(|(a, b)| Value::Named { a, b }),
        ]
    })
}

/// Values over the full range of every leaf type.
fn wide_value() -> impl Strategy<Value = Value> {
    let floats = prop_oneof![
        any::<f64>(),
        any::<u64>().prop_map(f64::from_bits),
        Just(-0.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
    ];
    let leaf = prop_oneof![
        Just(Value::Unit(())),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::U),
        any::<i64>().prop_map(Value::I),
        any::<i128>().prop_map(Value::Wide),
        floats.prop_map(|f| Value::F(Float(f))),
        any::<char>().prop_map(Value::C),
        any::<String>().prop_map(Value::S),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(Value::B),
        (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Value::D(Duration::new(s, n))),
    ];
    tree(leaf.boxed(), any::<String>().boxed())
}

/// Values over a tiny alphabet, so that random pairs are often equal or nearly so.
fn narrow_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Unit(())),
        any::<bool>().prop_map(Value::Bool),
        (0u64..2).prop_map(Value::U),
        (-1i64..1).prop_map(Value::I),
        (-1i128..1).prop_map(Value::Wide),
        prop::sample::select(vec![0.0, -0.0, 1.0, f64::NAN]).prop_map(|f| Value::F(Float(f))),
        "[ab]{0,2}".prop_map(Value::S),
        prop::collection::vec(0u8..2, 0..2).prop_map(Value::B),
    ];
    tree(leaf.boxed(), "[ab]{0,1}".boxed())
}

/// Cases per property here: more than the default, the value space is large.
const CASES: u32 = 512;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn every_encoding_decodes_to_its_value(value in wide_value()) {
        let bytes = enc(&value);
        let mut reader = Reader(&bytes);
        prop_assert_eq!(reader.value(), Some(value));
        prop_assert!(reader.0.is_empty(), "trailing bytes");
        super::passed_case("R15", "value::every_encoding_decodes_to_its_value", CASES, None);
    }

    #[test]
    fn values_are_equal_iff_encodings_are(a in narrow_value(), b in narrow_value()) {
        prop_assert_eq!(a == b, enc(&a) == enc(&b));
        let pair_a = (a.clone(), b.clone());
        let pair_b = (b.clone(), a.clone());
        prop_assert_eq!(a == b, enc(&pair_a) == enc(&pair_b));
        super::passed_case("R15", "value::values_are_equal_iff_encodings_are", CASES, Some(a != b));
    }
}

/// A decoder written from the format's documentation, not from the impls.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn expect(&mut self, tag: u8) -> Option<()> {
        (self.take(1)? == [tag]).then_some(())
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.u64()?).ok()
    }

    fn bytes(&mut self, tag: u8) -> Option<Vec<u8>> {
        self.expect(tag)?;
        let len = self.len()?;
        Some(self.take(len)?.to_vec())
    }

    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes(tag::STR)?).ok()
    }

    fn int(&mut self) -> Option<i128> {
        let tag = *self.take(1)?.first()?;
        match tag {
            tag::UINT => Some(i128::from(self.u64()?)),
            tag::NEG_INT => Some(i128::from(self.u64()? as i64)).filter(|v| *v < 0),
            tag::UINT128 => i128::try_from(u128::from_le_bytes(self.take(16)?.try_into().ok()?))
                .ok()
                .filter(|v| *v > i128::from(u64::MAX)),
            tag::NEG_INT128 => Some(i128::from_le_bytes(self.take(16)?.try_into().ok()?))
                .filter(|v| *v < i128::from(i64::MIN)),
            _ => None,
        }
    }

    fn count(&mut self, tag: u8) -> Option<usize> {
        self.expect(tag)?;
        self.len()
    }

    fn boxed(&mut self) -> Option<Box<Value>> {
        self.value().map(Box::new)
    }

    fn value(&mut self) -> Option<Value> {
        let name = self.bytes(tag::ENUM)?;
        let fields = self.len()?;
        let value = match (name.as_slice(), fields) {
            (b"Unit", 1) => Value::Unit(self.expect(tag::UNIT)?),
            (b"Bool", 1) => {
                self.expect(tag::BOOL)?;
                Value::Bool(match self.take(1)? {
                    [0] => false,
                    [1] => true,
                    _ => return None,
                })
            }
            (b"U", 1) => Value::U(u64::try_from(self.int()?).ok()?),
            (b"I", 1) => Value::I(i64::try_from(self.int()?).ok()?),
            (b"Wide", 1) => Value::Wide(self.int()?),
            (b"F", 1) => {
                self.expect(tag::FLOAT)?;
                Value::F(Float(f64::from_bits(self.u64()?)))
            }
            (b"C", 1) => {
                self.expect(tag::CHAR)?;
                Value::C(char::from_u32(u32::from_le_bytes(
                    self.take(4)?.try_into().ok()?,
                ))?)
            }
            (b"S", 1) => Value::S(self.string()?),
            (b"B", 1) => Value::B(self.bytes(tag::BYTES)?),
            (b"D", 1) => {
                self.expect(tag::DURATION)?;
                let secs = self.u64()?;
                let nanos = u32::from_le_bytes(self.take(4)?.try_into().ok()?);
                Value::D(Duration::new(secs, nanos))
            }
            (b"L", 1) => {
                let n = self.count(tag::SEQ)?;
                Value::L((0..n).map(|_| self.value()).collect::<Option<_>>()?)
            }
            (b"O", 1) => match *self.take(1)?.first()? {
                tag::NONE => Value::O(None),
                tag::SOME => Value::O(Some(self.boxed()?)),
                _ => return None,
            },
            (b"R", 1) => match *self.take(1)?.first()? {
                tag::OK => Value::R(Ok(self.boxed()?)),
                tag::ERR => Value::R(Err(self.string()?)),
                _ => return None,
            },
            (b"T2", 1) => {
                (self.count(tag::TUPLE)? == 2).then_some(())?;
                Value::T2(Box::new((self.value()?, self.value()?)))
            }
            (b"M", 1) => {
                let n = self.count(tag::MAP)?;
                let map: BTreeMap<_, _> = (0..n)
                    .map(|_| Some((self.string()?, self.value()?)))
                    .collect::<Option<_>>()?;
                (map.len() == n).then_some(Value::M(map))?
            }
            (b"H", 1) => {
                let n = self.count(tag::MAP)?;
                let map: HashMap<_, _> = (0..n)
                    .map(|_| Some((u32::try_from(self.int()?).ok()?, self.value()?)))
                    .collect::<Option<_>>()?;
                (map.len() == n).then_some(Value::H(map))?
            }
            (b"Named", 2) => Value::Named {
                a: self.boxed()?,
                b: self.string()?,
            },
            _ => return None,
        };
        Some(value)
    }
}
