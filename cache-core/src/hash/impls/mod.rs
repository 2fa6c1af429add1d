//! Implementations of `PersistentHash` for standard types.
//!
//! This module holds the scalars, the transparent pointers, `Option`, `Result`
//! and tuples; [`collections`] the sequences, maps and sets; [`misc`] `Duration`,
//! the ranges, paths and OS strings.
//!
//! Type fingerprints are a [`tag::TYPE`] name followed by the fingerprints of the
//! type's parameters, in order; the name fixes how many follow, so the encoding
//! is prefix-free. References and smart pointers are transparent in their
//! fingerprint as in their value.

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

use super::{HashSink, PersistentHash, tag};

/// Writes `fn type_fingerprint`: a name, then the fingerprints of the listed
/// type parameters.
macro_rules! fingerprint {
    ($name:literal $(, $param:ty)*) => {
        #[inline]
        fn type_fingerprint<S: HashSink + ?Sized>(sink: &mut S) {
            sink.write_tagged_bytes(tag::TYPE, $name.as_bytes());
            $(<$param as PersistentHash>::type_fingerprint(sink);)*
        }
    };
}

mod collections;
mod misc;
#[cfg(test)]
mod tests;

// Integers are the usual keys, and the writers of those that fit a word are
// `inline(always)` down to the sink's word write (the 128-bit fallbacks are
// left to the inliner): a key builder kept in registers must see every write
// inline. Left to the inliner, an async fn on a storage backend called
// `u64::persistent_hash` out of line (R4's benchmark binary), so its key
// builder went through memory and was read back with wider loads than were
// stored (store-forwarding stalls): its local tier hit took 1.5-1.6x the sync
// fn's time for the same instructions, and about the same time once inline.

/// Writes a tag and an 8-byte little-endian word in one call.
#[inline(always)]
fn write_word<S: HashSink + ?Sized>(sink: &mut S, tag: u8, word: [u8; 8]) {
    sink.write_tagged_word(tag, u64::from_le_bytes(word));
}

/// Same bytes as [`HashSink::write_tagged_bytes`], in two writes instead of three.
#[inline]
fn write_tagged_bytes<S: HashSink + ?Sized>(sink: &mut S, tag: u8, bytes: &[u8]) {
    write_word(sink, tag, (bytes.len() as u64).to_le_bytes());
    sink.write(bytes);
}

/// An integer that fits in `u64`: [`tag::UINT`] + 8 bytes.
#[inline(always)]
fn write_uint<S: HashSink + ?Sized>(sink: &mut S, value: u64) {
    write_word(sink, tag::UINT, value.to_le_bytes());
}

/// An integer that fits in `i64`: [`tag::UINT`] when non-negative, else [`tag::NEG_INT`].
#[inline(always)]
fn write_int<S: HashSink + ?Sized>(sink: &mut S, value: i64) {
    match u64::try_from(value) {
        Ok(unsigned) => write_uint(sink, unsigned),
        Err(_) => write_word(sink, tag::NEG_INT, value.to_le_bytes()),
    }
}

/// Any unsigned integer: the `u64` form when it fits, else [`tag::UINT128`] + 16 bytes.
#[inline]
fn write_u128<S: HashSink + ?Sized>(sink: &mut S, value: u128) {
    match u64::try_from(value) {
        Ok(small) => write_uint(sink, small),
        Err(_) => {
            let mut buf = [tag::UINT128; 17];
            buf[1..].copy_from_slice(&value.to_le_bytes());
            sink.write(&buf);
        }
    }
}

/// Any signed integer: the 8-byte forms when they fit, else [`tag::NEG_INT128`] + 16 bytes.
#[inline]
fn write_i128<S: HashSink + ?Sized>(sink: &mut S, value: i128) {
    if let Ok(unsigned) = u128::try_from(value) {
        write_u128(sink, unsigned);
    } else if let Ok(small) = i64::try_from(value) {
        write_int(sink, small);
    } else {
        let mut buf = [tag::NEG_INT128; 17];
        buf[1..].copy_from_slice(&value.to_le_bytes());
        sink.write(&buf);
    }
}

/// Integers key by value: every width goes through one of the writers above.
macro_rules! integers {
    ($($ty:ty => $writer:ident as $wide:ty, $name:literal;)*) => {$(
        impl PersistentHash for $ty {
            #[inline(always)]
            fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
                $writer(sink, <$wide>::from(*self));
            }

            fingerprint!($name);
        }
    )*};
}

integers! {
    u16 => write_uint as u64, "u16";
    u32 => write_uint as u64, "u32";
    u64 => write_uint as u64, "u64";
    u128 => write_u128 as u128, "u128";
    i8 => write_int as i64, "i8";
    i16 => write_int as i64, "i16";
    i32 => write_int as i64, "i32";
    i64 => write_int as i64, "i64";
    i128 => write_i128 as i128, "i128";
}

impl PersistentHash for u8 {
    #[inline(always)]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        write_uint(sink, u64::from(*self));
    }

    /// Byte sequences are their own kind: [`tag::BYTES`], the length, the bytes
    /// in one piece.
    #[inline]
    fn persistent_hash_slice<S: HashSink + ?Sized>(items: &[Self], sink: &mut S) {
        write_tagged_bytes(sink, tag::BYTES, items);
    }

    fingerprint!("u8");
}

impl PersistentHash for usize {
    #[inline(always)]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        // `usize` is at most 64 bits on every supported target; the 128-bit path
        // keeps the encoding by value even if it were not.
        match u64::try_from(*self) {
            Ok(value) => write_uint(sink, value),
            Err(_) => write_u128(sink, *self as u128),
        }
    }

    fingerprint!("usize");
}

impl PersistentHash for isize {
    #[inline(always)]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        match i64::try_from(*self) {
            Ok(value) => write_int(sink, value),
            Err(_) => write_i128(sink, *self as i128),
        }
    }

    fingerprint!("isize");
}

/// The IEEE bits of a float under the float policy: every NaN is one key.
#[inline]
fn float_bits(value: f64) -> [u8; 8] {
    const CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;
    let bits = if value.is_nan() {
        CANONICAL_NAN
    } else {
        value.to_bits()
    };
    bits.to_le_bytes()
}

impl PersistentHash for f64 {
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        write_word(sink, tag::FLOAT, float_bits(*self));
    }

    fingerprint!("f64");
}

impl PersistentHash for f32 {
    /// Widened to `f64` (exact), so `1.5f32` and `1.5f64` key alike.
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        write_word(sink, tag::FLOAT, float_bits(f64::from(*self)));
    }

    fingerprint!("f32");
}

impl PersistentHash for bool {
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        sink.write(&[tag::BOOL, u8::from(*self)]);
    }

    fingerprint!("bool");
}

impl PersistentHash for char {
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        let mut buf = [tag::CHAR; 5];
        buf[1..].copy_from_slice(&u32::from(*self).to_le_bytes());
        sink.write(&buf);
    }

    fingerprint!("char");
}

impl PersistentHash for () {
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        sink.write_tag(tag::UNIT);
    }

    fingerprint!("()");
}

impl PersistentHash for str {
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        write_tagged_bytes(sink, tag::STR, self.as_bytes());
    }

    fingerprint!("str");
}

impl PersistentHash for String {
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        self.as_str().persistent_hash(sink);
    }

    fingerprint!("String");
}

/// References and smart pointers encode as the value they point to, and share
/// its fingerprint.
macro_rules! transparent_pointers {
    ($($ty:ty),*) => {$(
        impl<T: PersistentHash + ?Sized> PersistentHash for $ty {
            #[inline]
            fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
                (**self).persistent_hash(sink);
            }

            #[inline]
            fn type_fingerprint<S: HashSink + ?Sized>(sink: &mut S) {
                T::type_fingerprint(sink);
            }
        }
    )*};
}

transparent_pointers!(&T, &mut T, Box<T>, Rc<T>, Arc<T>);

impl<B: PersistentHash + ToOwned + ?Sized> PersistentHash for Cow<'_, B> {
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        (**self).persistent_hash(sink);
    }

    #[inline]
    fn type_fingerprint<S: HashSink + ?Sized>(sink: &mut S) {
        B::type_fingerprint(sink);
    }
}

impl<T: PersistentHash> PersistentHash for Option<T> {
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        match self {
            None => sink.write_tag(tag::NONE),
            Some(value) => {
                sink.write_tag(tag::SOME);
                value.persistent_hash(sink);
            }
        }
    }

    fingerprint!("Option", T);
}

impl<T: PersistentHash, E: PersistentHash> PersistentHash for Result<T, E> {
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        match self {
            Ok(value) => {
                sink.write_tag(tag::OK);
                value.persistent_hash(sink);
            }
            Err(error) => {
                sink.write_tag(tag::ERR);
                error.persistent_hash(sink);
            }
        }
    }

    fingerprint!("Result", T, E);
}

/// Tuples: [`tag::TUPLE`], the arity as 8 bytes, then the items in order.
macro_rules! tuples {
    ($($arity:literal $name:literal => ($($item:ident . $index:tt),+);)*) => {$(
        impl<$($item: PersistentHash),+> PersistentHash for ($($item,)+) {
            #[inline]
            fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
                write_word(sink, tag::TUPLE, (($arity) as u64).to_le_bytes());
                $(self.$index.persistent_hash(sink);)+
            }

            fingerprint!($name $(, $item)+);
        }
    )*};
}

tuples! {
    1 "(_,)" => (A.0);
    2 "(_,_)" => (A.0, B.1);
    3 "(_,_,_)" => (A.0, B.1, C.2);
    4 "(_,_,_,_)" => (A.0, B.1, C.2, D.3);
    5 "(_,_,_,_,_)" => (A.0, B.1, C.2, D.3, E.4);
    6 "(_,_,_,_,_,_)" => (A.0, B.1, C.2, D.3, E.4, F.5);
    7 "(_,_,_,_,_,_,_)" => (A.0, B.1, C.2, D.3, E.4, F.5, G.6);
    8 "(_,_,_,_,_,_,_,_)" => (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7);
    9 "(_,_,_,_,_,_,_,_,_)" => (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8);
    10 "(_,_,_,_,_,_,_,_,_,_)" => (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9);
    11 "(_,_,_,_,_,_,_,_,_,_,_)" => (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9, K.10);
    12 "(_,_,_,_,_,_,_,_,_,_,_,_)" =>
        (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7, I.8, J.9, K.10, L.11);
}
