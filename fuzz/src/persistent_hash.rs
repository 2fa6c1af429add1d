//! Properties of the `PersistentHash` encoding, checked on structured values
//! built from arbitrary bytes.
//!
//! Shared by the `persistent_hash` fuzz target and the `fuzz_lite` proptest of
//! the test suite (which includes this file by path).
//!
//! A [`Value`] is a derived enum over the standard types; its leaves that may
//! key alike although their Rust types differ ([`Int`]: every integer width,
//! [`Float`]: `f32`/`f64`, [`Text`]: `String`/`Box<str>`/`Arc<str>`/`OsString`,
//! [`Bytes`] and [`Seq`]: `Vec`/`VecDeque`, including a wrapped-around ring
//! buffer) delegate to the real implementation of the type they hold, and
//! compare the way the encoding rules say they key. Properties, for two values
//! `a` and `b` (`b` often a re-typed, re-built copy of `a`):
//!
//! - encoding does not panic and is deterministic;
//! - injectivity: `a == b` exactly when their encodings are equal (integers of
//!   any width key by value, `f32` widens to `f64`, every NaN is one key,
//!   `-0.0 != 0.0`, pointers are transparent);
//! - `HashMap`/`HashSet` insertion order and hasher seed do not show (the
//!   re-built copy inserts in reverse order into fresh `RandomState`s);
//! - `MemKey::of(v)` is the encoding itself when it fits inline (31 bytes), else
//!   31 bytes of its blake3 derive-key digest; `persistent_digest(v)` is that
//!   digest; keys are equal exactly when encodings are;
//! - with `typed` (type fingerprint first), integers key by type and value.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::ffi::OsString;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use arbitrary::{Result, Unstructured};
use cache_core::hash::KEY_CONTEXT;
use cache_core::{HashSink, MemKey, PersistentHash, persistent_digest};

/// Nesting depth of generated values.
const MAX_DEPTH: u32 = 5;
/// Longest generated collection.
const MAX_LEN: usize = 5;
/// The longest encoding a `MemKey` keeps inline (documented on `MemKey`).
const INLINE_CAP: usize = 31;

/// The canonical encoding of `value`.
pub fn encode<T: PersistentHash + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.persistent_hash(&mut out);
    out
}

/// An integer's value, whatever its width: what an integer keys by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Num {
    /// A negative value.
    Neg(i128),
    /// A non-negative value.
    NonNeg(u128),
}

/// An integer of any width; equal to another when their values are.
#[derive(Debug, Clone, Copy)]
pub enum Int {
    /// `u8`.
    U8(u8),
    /// `u16`.
    U16(u16),
    /// `u32`.
    U32(u32),
    /// `u64`.
    U64(u64),
    /// `u128`.
    U128(u128),
    /// `usize`.
    Usize(usize),
    /// `i8`.
    I8(i8),
    /// `i16`.
    I16(i16),
    /// `i32`.
    I32(i32),
    /// `i64`.
    I64(i64),
    /// `i128`.
    I128(i128),
    /// `isize`.
    Isize(isize),
}

/// Number of [`Int`] widths (types).
const INT_TYPES: u8 = 12;

/// Calls `$body` with `$v` bound to the integer inside `$int`, whatever its type.
macro_rules! with_int {
    ($int:expr, $v:ident => $body:expr) => {
        match $int {
            Int::U8($v) => $body,
            Int::U16($v) => $body,
            Int::U32($v) => $body,
            Int::U64($v) => $body,
            Int::U128($v) => $body,
            Int::Usize($v) => $body,
            Int::I8($v) => $body,
            Int::I16($v) => $body,
            Int::I32($v) => $body,
            Int::I64($v) => $body,
            Int::I128($v) => $body,
            Int::Isize($v) => $body,
        }
    };
}

impl Int {
    /// The value.
    // One conversion for every width: for some of them it cannot fail.
    #[allow(clippy::unnecessary_fallible_conversions, clippy::useless_conversion)]
    pub fn num(self) -> Num {
        with_int!(self, v => match u128::try_from(v) {
            Ok(v) => Num::NonNeg(v),
            // Every negative integer fits in i128.
            Err(_) => Num::Neg(i128::try_from(v).unwrap_or(i128::MIN)),
        })
    }

    /// Which of the [`INT_TYPES`] types this is.
    pub fn type_index(self) -> u8 {
        match self {
            Int::U8(_) => 0,
            Int::U16(_) => 1,
            Int::U32(_) => 2,
            Int::U64(_) => 3,
            Int::U128(_) => 4,
            Int::Usize(_) => 5,
            Int::I8(_) => 6,
            Int::I16(_) => 7,
            Int::I32(_) => 8,
            Int::I64(_) => 9,
            Int::I128(_) => 10,
            Int::Isize(_) => 11,
        }
    }

    /// `num` as the integer type number `index`, if it fits.
    #[allow(clippy::unnecessary_fallible_conversions, clippy::useless_conversion)]
    pub fn of_type(index: u8, num: Num) -> Option<Int> {
        macro_rules! conv {
            ($ty:ty) => {
                match num {
                    Num::Neg(v) => <$ty>::try_from(v).ok(),
                    Num::NonNeg(v) => <$ty>::try_from(v).ok(),
                }
            };
        }
        Some(match index {
            0 => Int::U8(conv!(u8)?),
            1 => Int::U16(conv!(u16)?),
            2 => Int::U32(conv!(u32)?),
            3 => Int::U64(conv!(u64)?),
            4 => Int::U128(conv!(u128)?),
            5 => Int::Usize(conv!(usize)?),
            6 => Int::I8(conv!(i8)?),
            7 => Int::I16(conv!(i16)?),
            8 => Int::I32(conv!(i32)?),
            9 => Int::I64(conv!(i64)?),
            10 => Int::I128(conv!(i128)?),
            _ => Int::Isize(conv!(isize)?),
        })
    }

    /// The key of a `typed` cache: the type fingerprint, then the value.
    pub fn typed_encoding(self) -> Vec<u8> {
        fn typed<T: PersistentHash>(value: &T) -> Vec<u8> {
            let mut out = Vec::new();
            T::type_fingerprint(&mut out);
            value.persistent_hash(&mut out);
            out
        }
        with_int!(self, v => typed(&v))
    }

    fn arbitrary(u: &mut Unstructured<'_>, narrow: bool) -> Result<Int> {
        let index = u.int_in_range(0..=INT_TYPES - 1)?;
        if narrow {
            // Values at the width boundaries, so that many fit several types.
            const NEAR: [i128; 10] = [0, 1, -1, 127, 128, -128, -129, 255, 256, i64::MIN as i128];
            let num = match u.choose(&NEAR)? {
                v if *v < 0 => Num::Neg(*v),
                v => Num::NonNeg(v.unsigned_abs()),
            };
            return Ok(Int::of_type(index, num).unwrap_or(Int::U8(0)));
        }
        Ok(match index {
            0 => Int::U8(u.arbitrary()?),
            1 => Int::U16(u.arbitrary()?),
            2 => Int::U32(u.arbitrary()?),
            3 => Int::U64(u.arbitrary()?),
            4 => Int::U128(u.arbitrary()?),
            5 => Int::Usize(u.arbitrary()?),
            6 => Int::I8(u.arbitrary()?),
            7 => Int::I16(u.arbitrary()?),
            8 => Int::I32(u.arbitrary()?),
            9 => Int::I64(u.arbitrary()?),
            10 => Int::I128(u.arbitrary()?),
            _ => Int::Isize(u.arbitrary()?),
        })
    }

    /// The same value as an arbitrary integer type it fits in.
    fn retyped(self, u: &mut Unstructured<'_>) -> Result<Int> {
        let num = self.num();
        let fits: Vec<Int> = (0..INT_TYPES)
            .filter_map(|i| Int::of_type(i, num))
            .collect();
        Ok(*u.choose(&fits).unwrap_or(&self))
    }
}

impl PartialEq for Int {
    fn eq(&self, other: &Self) -> bool {
        self.num() == other.num()
    }
}

impl Eq for Int {}

impl Hash for Int {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.num().hash(state);
    }
}

/// Transparent: the encoding of the integer held.
impl PersistentHash for Int {
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        with_int!(self, v => v.persistent_hash(sink));
    }
}

/// A float of either width; equal to another when the keys should be: `f32`
/// widened to `f64`, then the bits, every NaN alike.
#[derive(Debug, Clone, Copy)]
pub enum Float {
    /// `f32`.
    F32(f32),
    /// `f64`.
    F64(f64),
}

impl Float {
    fn canonical_bits(self) -> u64 {
        let wide = match self {
            Float::F32(v) => f64::from(v),
            Float::F64(v) => v,
        };
        if wide.is_nan() {
            0x7ff8_0000_0000_0000
        } else {
            wide.to_bits()
        }
    }

    fn arbitrary(u: &mut Unstructured<'_>, narrow: bool) -> Result<Float> {
        let wide = u.arbitrary::<bool>()?;
        if narrow {
            const NEAR: [f64; 6] = [0.0, -0.0, 1.0, 0.1, f64::NAN, f64::INFINITY];
            let v = *u.choose(&NEAR)?;
            return Ok(if wide {
                Float::F64(v)
            } else {
                Float::F32(v as f32)
            });
        }
        Ok(if wide {
            Float::F64(f64::from_bits(u.arbitrary()?))
        } else {
            Float::F32(f32::from_bits(u.arbitrary()?))
        })
    }

    /// The same value in the other width when it is exact there.
    fn retyped(self) -> Float {
        match self {
            Float::F32(v) => Float::F64(f64::from(v)),
            Float::F64(v) => {
                let narrow = v as f32;
                if f64::from(narrow).to_bits() == v.to_bits() {
                    Float::F32(narrow)
                } else {
                    self
                }
            }
        }
    }
}

impl PartialEq for Float {
    fn eq(&self, other: &Self) -> bool {
        self.canonical_bits() == other.canonical_bits()
    }
}

/// Transparent: the encoding of the float held.
impl PersistentHash for Float {
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        match self {
            Float::F32(v) => v.persistent_hash(sink),
            Float::F64(v) => v.persistent_hash(sink),
        }
    }
}

/// A string in one of the forms that key alike; equal by text.
#[derive(Debug, Clone)]
pub enum Text {
    /// `String`.
    Owned(String),
    /// `Box<str>`.
    Boxed(Box<str>),
    /// `Arc<str>`.
    Shared(Arc<str>),
    /// `OsString` (valid Unicode, so it keys as the `str`).
    Os(OsString),
}

impl Text {
    fn as_str(&self) -> &str {
        match self {
            Text::Owned(s) => s,
            Text::Boxed(s) => s,
            Text::Shared(s) => s,
            Text::Os(s) => s.to_str().unwrap_or_default(),
        }
    }

    fn of(text: &str, form: u8) -> Text {
        match form % 4 {
            0 => Text::Owned(text.to_owned()),
            1 => Text::Boxed(text.into()),
            2 => Text::Shared(text.into()),
            _ => Text::Os(text.into()),
        }
    }

    fn arbitrary(u: &mut Unstructured<'_>, narrow: bool) -> Result<Text> {
        let text: String = if narrow {
            (*u.choose(&["", "a", "b", "ab", "ba"])?).to_owned()
        } else {
            u.arbitrary()?
        };
        Ok(Text::of(&text, u.arbitrary()?))
    }

    fn retyped(&self, u: &mut Unstructured<'_>) -> Result<Text> {
        Ok(Text::of(self.as_str(), u.arbitrary()?))
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

/// Transparent: the encoding of the string held.
impl PersistentHash for Text {
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        match self {
            Text::Owned(s) => s.persistent_hash(sink),
            Text::Boxed(s) => s.persistent_hash(sink),
            Text::Shared(s) => s.persistent_hash(sink),
            Text::Os(s) => s.persistent_hash(sink),
        }
    }
}

/// A sequence as a `Vec` or a `VecDeque` (whose ring buffer may wrap around);
/// equal by items.
#[derive(Debug, Clone)]
pub enum Seq<T> {
    /// `Vec<T>`.
    Vec(Vec<T>),
    /// `VecDeque<T>`.
    Deque(VecDeque<T>),
}

impl<T: Clone> Seq<T> {
    fn items(&self) -> Vec<T> {
        match self {
            Seq::Vec(v) => v.clone(),
            Seq::Deque(d) => d.iter().cloned().collect(),
        }
    }

    /// `items` as a `Vec`, or as a `VecDeque` whose buffer wraps after `split`
    /// items when `0 < split < len`.
    fn of(mut items: Vec<T>, deque: bool, split: usize) -> Seq<T> {
        if !deque {
            return Seq::Vec(items);
        }
        let split = split.min(items.len());
        let back = items.split_off(split);
        let mut d = VecDeque::with_capacity(items.len() + back.len());
        // Pushed at the back from slot 0, then at the front from the buffer's
        // end: `as_slices` gives two non-empty halves.
        d.extend(back);
        for item in items.into_iter().rev() {
            d.push_front(item);
        }
        Seq::Deque(d)
    }

    fn reshaped(items: Vec<T>, u: &mut Unstructured<'_>) -> Result<Seq<T>> {
        let deque = u.arbitrary()?;
        let split = u.int_in_range(0..=items.len())?;
        Ok(Seq::of(items, deque, split))
    }
}

impl<T: Clone + PartialEq> PartialEq for Seq<T> {
    fn eq(&self, other: &Self) -> bool {
        self.items() == other.items()
    }
}

/// Transparent: the encoding of the collection held.
impl<T: PersistentHash> PersistentHash for Seq<T> {
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        match self {
            Seq::Vec(v) => v.persistent_hash(sink),
            Seq::Deque(d) => d.persistent_hash(sink),
        }
    }
}

/// A value over the standard types, nested. Derived `PersistentHash`, so the
/// variant name is part of the encoding; the derived `PartialEq` compares the
/// leaves as they key.
#[derive(Debug, Clone, PartialEq, cache_core::PersistentHash)]
pub enum Value {
    /// `()`.
    Unit(()),
    /// `bool`.
    Bool(bool),
    /// Any integer.
    Int(Int),
    /// Any float.
    Float(Float),
    /// `char`.
    Char(char),
    /// A string.
    Text(Text),
    /// Bytes (`u8` sequences have an encoding of their own).
    Bytes(Seq<u8>),
    /// `Duration`.
    Duration(Duration),
    /// A sequence of values.
    List(Seq<Value>),
    /// `Option`.
    Opt(Option<Box<Value>>),
    /// `Result`.
    Res(Result<Box<Value>, Text>),
    /// A pair.
    Pair(Box<(Value, Value)>),
    /// A triple.
    Triple(Box<(Int, Text, Value)>),
    /// An ordered map.
    Tree(BTreeMap<String, Value>),
    /// A hashed map keyed by integers of any width.
    Map(HashMap<Int, Value>),
    /// A hashed set of strings in any form.
    Set(HashSet<Text>),
    /// A range.
    Span(Range<Int>),
    /// A struct variant.
    Record {
        /// A field.
        a: Box<Value>,
        /// A field.
        b: Int,
    },
}

impl Value {
    /// A value built from `u`; `narrow` draws leaves from a tiny alphabet so
    /// that independent values are often equal or nearly so.
    pub fn arbitrary(u: &mut Unstructured<'_>, narrow: bool, depth: u32) -> Result<Value> {
        let kinds = if depth >= MAX_DEPTH { 8 } else { 18 };
        Ok(match u.int_in_range(0..=kinds - 1)? {
            0 => Value::Unit(()),
            1 => Value::Bool(u.arbitrary()?),
            2 => Value::Int(Int::arbitrary(u, narrow)?),
            3 => Value::Float(Float::arbitrary(u, narrow)?),
            4 => Value::Char(if narrow {
                *u.choose(&['a', 'b'])?
            } else {
                u.arbitrary()?
            }),
            5 => Value::Text(Text::arbitrary(u, narrow)?),
            6 => {
                let bytes: Vec<u8> = if narrow {
                    vec![u.int_in_range(0..=1)?; u.int_in_range(0..=2)?]
                } else {
                    u.arbitrary()?
                };
                Value::Bytes(Seq::reshaped(bytes, u)?)
            }
            7 => Value::Duration(if narrow {
                Duration::from_nanos(u.int_in_range(0..=1)?)
            } else {
                Duration::new(u.arbitrary()?, u.int_in_range(0..=999_999_999)?)
            }),
            8 => {
                let items = values(u, narrow, depth)?;
                Value::List(Seq::reshaped(items, u)?)
            }
            9 => Value::Opt(match u.arbitrary::<bool>()? {
                true => Some(Box::new(Value::arbitrary(u, narrow, depth + 1)?)),
                false => None,
            }),
            10 => Value::Res(match u.arbitrary::<bool>()? {
                true => Ok(Box::new(Value::arbitrary(u, narrow, depth + 1)?)),
                false => Err(Text::arbitrary(u, narrow)?),
            }),
            11 => Value::Pair(Box::new((
                Value::arbitrary(u, narrow, depth + 1)?,
                Value::arbitrary(u, narrow, depth + 1)?,
            ))),
            12 => Value::Triple(Box::new((
                Int::arbitrary(u, narrow)?,
                Text::arbitrary(u, narrow)?,
                Value::arbitrary(u, narrow, depth + 1)?,
            ))),
            13 => {
                let mut map = BTreeMap::new();
                for _ in 0..u.int_in_range(0..=MAX_LEN)? {
                    let key = Text::arbitrary(u, narrow)?.as_str().to_owned();
                    map.insert(key, Value::arbitrary(u, narrow, depth + 1)?);
                }
                Value::Tree(map)
            }
            14 => {
                let mut map = HashMap::new();
                for _ in 0..u.int_in_range(0..=MAX_LEN)? {
                    map.insert(
                        Int::arbitrary(u, narrow)?,
                        Value::arbitrary(u, narrow, depth + 1)?,
                    );
                }
                Value::Map(map)
            }
            15 => {
                let mut set = HashSet::new();
                for _ in 0..u.int_in_range(0..=MAX_LEN)? {
                    set.insert(Text::arbitrary(u, narrow)?);
                }
                Value::Set(set)
            }
            16 => Value::Span(Int::arbitrary(u, narrow)?..Int::arbitrary(u, narrow)?),
            _ => Value::Record {
                a: Box::new(Value::arbitrary(u, narrow, depth + 1)?),
                b: Int::arbitrary(u, narrow)?,
            },
        })
    }

    /// A copy equal to `self` but built differently: every leaf re-expressed in
    /// another type that keys alike (integer width, float width, string or
    /// sequence form, a wrapped-around `VecDeque`), and every hashed collection
    /// re-built in reverse insertion order with a fresh `RandomState` (a new seed).
    pub fn retyped(&self, u: &mut Unstructured<'_>) -> Result<Value> {
        Ok(match self {
            Value::Unit(()) | Value::Bool(_) | Value::Char(_) | Value::Duration(_) => self.clone(),
            Value::Int(i) => Value::Int(i.retyped(u)?),
            Value::Float(f) => Value::Float(f.retyped()),
            Value::Text(t) => Value::Text(t.retyped(u)?),
            Value::Bytes(b) => Value::Bytes(Seq::reshaped(b.items(), u)?),
            Value::List(items) => {
                let items = items
                    .items()
                    .iter()
                    .map(|v| v.retyped(u))
                    .collect::<Result<_>>()?;
                Value::List(Seq::reshaped(items, u)?)
            }
            Value::Opt(v) => Value::Opt(match v {
                Some(v) => Some(Box::new(v.retyped(u)?)),
                None => None,
            }),
            Value::Res(r) => Value::Res(match r {
                Ok(v) => Ok(Box::new(v.retyped(u)?)),
                Err(t) => Err(t.retyped(u)?),
            }),
            Value::Pair(p) => Value::Pair(Box::new((p.0.retyped(u)?, p.1.retyped(u)?))),
            Value::Triple(t) => Value::Triple(Box::new((
                t.0.retyped(u)?,
                t.1.retyped(u)?,
                t.2.retyped(u)?,
            ))),
            Value::Tree(map) => Value::Tree(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), v.retyped(u)?)))
                    .collect::<Result<_>>()?,
            ),
            Value::Map(map) => {
                let entries: Vec<(Int, Value)> = map
                    .iter()
                    .map(|(k, v)| Ok((k.retyped(u)?, v.retyped(u)?)))
                    .collect::<Result<_>>()?;
                let mut rebuilt = HashMap::with_hasher(RandomState::new());
                rebuilt.extend(entries.into_iter().rev());
                Value::Map(rebuilt)
            }
            Value::Set(set) => {
                let items: Vec<Text> = set.iter().map(|t| t.retyped(u)).collect::<Result<_>>()?;
                let mut rebuilt = HashSet::with_hasher(RandomState::new());
                rebuilt.extend(items.into_iter().rev());
                Value::Set(rebuilt)
            }
            Value::Span(r) => Value::Span(r.start.retyped(u)?..r.end.retyped(u)?),
            Value::Record { a, b } => Value::Record {
                a: Box::new(a.retyped(u)?),
                b: b.retyped(u)?,
            },
        })
    }
}

fn values(u: &mut Unstructured<'_>, narrow: bool, depth: u32) -> Result<Vec<Value>> {
    (0..u.int_in_range(0..=MAX_LEN)?)
        .map(|_| Value::arbitrary(u, narrow, depth + 1))
        .collect()
}

/// blake3 in derive-key mode with [`KEY_CONTEXT`] over `encoding`, computed
/// directly: the reference for the library's sinks.
fn reference_digest(encoding: &[u8]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new_derive_key(KEY_CONTEXT);
    hasher.update(encoding);
    *hasher.finalize().as_bytes()
}

/// `MemKey` and `persistent_digest` agree with the encoding of `value`.
fn check_keys(value: &Value, encoding: &[u8]) {
    let key = MemKey::of(value);
    let digest = reference_digest(encoding);
    if encoding.len() <= INLINE_CAP {
        assert!(
            !key.is_digest(),
            "a {}-byte encoding was not kept inline",
            encoding.len()
        );
        assert_eq!(
            key.as_bytes(),
            encoding,
            "inline key differs from the encoding"
        );
    } else {
        assert!(
            key.is_digest(),
            "a {}-byte encoding was kept inline",
            encoding.len()
        );
        assert_eq!(key.as_bytes(), &digest[..INLINE_CAP], "key digest differs");
    }
    assert_eq!(
        persistent_digest(value).0,
        digest,
        "persistent_digest differs"
    );
}

/// Runs every check on the values built from `data`. Panics (failing the fuzz
/// target or the proptest) on the first property that does not hold.
pub fn check(data: &[u8]) {
    let mut u = Unstructured::new(data);
    // Running out of input is not an error: the generators fall back to their
    // smallest choices, so every input yields values.
    let Ok((a, b, x, y)) = values_of(&mut u) else {
        return;
    };

    let enc_a = encode(&a);
    assert_eq!(enc_a, encode(&a), "encoding is not deterministic");
    assert_eq!(enc_a, encode(&a.clone()), "a clone encodes differently");
    let enc_b = encode(&b);

    assert_eq!(
        a == b,
        enc_a == enc_b,
        "values {} but encodings {}:\n a = {a:?}\n b = {b:?}\n enc(a) = {enc_a:02x?}\n enc(b) = {enc_b:02x?}",
        if a == b { "equal" } else { "differ" },
        if enc_a == enc_b { "equal" } else { "differ" },
    );
    // Concatenations stay unambiguous (prefix-freedom), checked on the pair in
    // both orders.
    assert_eq!(
        a == b,
        encode(&(&a, &b)) == encode(&(&b, &a)),
        "pairs: {a:?} / {b:?}"
    );

    check_keys(&a, &enc_a);
    check_keys(&b, &enc_b);
    assert_eq!(
        MemKey::of(&a) == MemKey::of(&b),
        enc_a == enc_b,
        "MemKey equality"
    );

    // Untyped, integers key by value; typed, by type and value.
    assert_eq!(x == y, encode(&x) == encode(&y), "integers {x:?} / {y:?}");
    assert_eq!(
        x == y && x.type_index() == y.type_index(),
        x.typed_encoding() == y.typed_encoding(),
        "typed integers {x:?} / {y:?}"
    );
}

/// Two values (the second half the time a re-typed copy of the first) and two
/// integers (the second often the first in another width).
fn values_of(u: &mut Unstructured<'_>) -> Result<(Value, Value, Int, Int)> {
    let narrow = u.arbitrary()?;
    let a = Value::arbitrary(u, narrow, 0)?;
    let b = if u.arbitrary()? {
        a.retyped(u)?
    } else {
        Value::arbitrary(u, narrow, 0)?
    };
    let x = Int::arbitrary(u, narrow)?;
    let y = if u.arbitrary()? {
        Int::of_type(u.int_in_range(0..=INT_TYPES - 1)?, x.num()).unwrap_or(x)
    } else {
        Int::arbitrary(u, narrow)?
    };
    Ok((a, b, x, y))
}
