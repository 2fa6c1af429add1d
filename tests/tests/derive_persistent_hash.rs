//! `#[derive(PersistentHash)]`: structs, enums, `skip`, generics, lifetimes,
//! const generics and the `crate` override, checked against hand-written
//! encodings built from the tags.

use std::marker::PhantomData;

use cache_core::hash::tag;
use cache_core::{HashSink, PersistentHash, persistent_digest};

fn enc<T: PersistentHash + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.persistent_hash(&mut out);
    out
}

fn fp<T: PersistentHash + ?Sized>() -> Vec<u8> {
    let mut out = Vec::new();
    T::type_fingerprint(&mut out);
    out
}

/// The encoding a derive must produce: a header, then the fields' encodings.
fn expected(header: impl FnOnce(&mut Vec<u8>), fields: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    header(&mut out);
    out.write_len(fields.len());
    for field in fields {
        out.extend_from_slice(field);
    }
    out
}

fn struct_of(fields: &[Vec<u8>]) -> Vec<u8> {
    expected(|out| out.write_tag(tag::STRUCT), fields)
}

fn variant_of(name: &str, fields: &[Vec<u8>]) -> Vec<u8> {
    expected(
        |out| out.write_tagged_bytes(tag::ENUM, name.as_bytes()),
        fields,
    )
}

#[derive(PersistentHash)]
struct Named {
    id: u64,
    name: String,
}

#[derive(PersistentHash)]
struct Tuple(u8, &'static str);

#[derive(PersistentHash)]
struct Unit;

#[derive(PersistentHash)]
enum Shape {
    Empty,
    Circle(f64),
    Rect { w: u32, h: u32 },
    Square(u32),
    Side(u32),
}

#[derive(PersistentHash)]
struct WithSkip {
    kept: u32,
    #[persistent_hash(skip)]
    #[allow(dead_code)]
    cache: Vec<u8>,
    also_kept: bool,
}

#[derive(PersistentHash)]
#[allow(dead_code)]
enum SkipInVariant {
    Both(u8, #[persistent_hash(skip)] u8),
    Named {
        a: u8,
        #[persistent_hash(skip)]
        b: u8,
    },
}

#[derive(PersistentHash)]
struct Pair<A, B: Clone>
where
    A: Copy,
{
    first: A,
    second: Vec<B>,
}

/// `T` is only used by a skipped field: it needs no `PersistentHash` bound.
#[derive(PersistentHash)]
struct Marked<T> {
    id: u32,
    #[persistent_hash(skip)]
    _marker: PhantomData<T>,
}

/// Not `PersistentHash`: only usable through a skipped field.
struct Opaque;

#[derive(PersistentHash)]
struct Ref<'a> {
    s: &'a str,
}

#[derive(PersistentHash)]
struct Fixed<const N: usize> {
    bytes: [u8; N],
}

#[derive(PersistentHash)]
#[persistent_hash(crate = "::cache_core")]
struct Overridden(u8);

mod renamed {
    pub(crate) use cache_core as core_again;
}

#[derive(PersistentHash)]
#[persistent_hash(crate = "crate::renamed::core_again")]
struct OverriddenPath(u8);

#[derive(PersistentHash)]
#[allow(non_camel_case_types)]
enum r#Raw {
    r#type,
}

#[derive(PersistentHash)]
enum Never {}

#[derive(PersistentHash)]
struct Recursive {
    value: u32,
    next: Option<Box<Recursive>>,
}

#[test]
fn named_struct_writes_its_fields_in_order() {
    let value = Named {
        id: 7,
        name: "x".into(),
    };
    assert_eq!(enc(&value), struct_of(&[enc(&7u64), enc("x")]));
}

#[test]
fn tuple_and_unit_structs() {
    assert_eq!(enc(&Tuple(1, "a")), struct_of(&[enc(&1u8), enc("a")]));
    assert_eq!(enc(&Unit), struct_of(&[]));
    // A struct is not the tuple of its fields.
    assert_ne!(enc(&Tuple(1, "a")), enc(&(1u8, "a")));
}

#[test]
fn enum_variants_write_their_name_and_fields() {
    assert_eq!(enc(&Shape::Empty), variant_of("Empty", &[]));
    assert_eq!(
        enc(&Shape::Circle(0.5)),
        variant_of("Circle", &[enc(&0.5f64)])
    );
    assert_eq!(
        enc(&Shape::Rect { w: 2, h: 3 }),
        variant_of("Rect", &[enc(&2u32), enc(&3u32)])
    );
}

#[test]
fn two_variants_with_equal_fields_differ() {
    assert_ne!(enc(&Shape::Square(4)), enc(&Shape::Side(4)));
    assert_ne!(
        persistent_digest(&Shape::Square(4)),
        persistent_digest(&Shape::Side(4))
    );
    assert_ne!(enc(&Shape::Empty), enc(&Unit));
}

#[test]
fn skipped_fields_do_not_count() {
    let a = WithSkip {
        kept: 1,
        cache: vec![1, 2],
        also_kept: true,
    };
    let b = WithSkip {
        kept: 1,
        cache: vec![],
        also_kept: true,
    };
    assert_eq!(enc(&a), enc(&b));
    assert_eq!(enc(&a), struct_of(&[enc(&1u32), enc(&true)]));
    assert_eq!(
        enc(&SkipInVariant::Both(1, 2)),
        variant_of("Both", &[enc(&1u8)])
    );
    assert_eq!(
        enc(&SkipInVariant::Named { a: 1, b: 2 }),
        variant_of("Named", &[enc(&1u8)])
    );
    assert_eq!(
        enc(&SkipInVariant::Both(1, 2)),
        enc(&SkipInVariant::Both(1, 3))
    );
}

#[test]
fn generic_structs_are_bounded_and_fingerprinted() {
    let pair = Pair {
        first: 1u8,
        second: vec!["b".to_string()],
    };
    assert_eq!(
        enc(&pair),
        struct_of(&[enc(&1u8), enc(&vec!["b".to_string()])])
    );
    assert_ne!(fp::<Pair<u8, String>>(), fp::<Pair<u16, String>>());
    let mut expected = Vec::new();
    expected.write_tagged_bytes(tag::TYPE, b"Pair");
    u8::type_fingerprint(&mut expected);
    String::type_fingerprint(&mut expected);
    assert_eq!(fp::<Pair<u8, String>>(), expected);

    let marked = Marked::<Opaque> {
        id: 3,
        _marker: PhantomData,
    };
    assert_eq!(enc(&marked), struct_of(&[enc(&3u32)]));
}

#[test]
fn lifetimes_pass_through() {
    let text = String::from("borrowed");
    let value = Ref { s: &text };
    assert_eq!(enc(&value), struct_of(&[enc("borrowed")]));
    assert_eq!(enc(&value), enc(&Ref { s: "borrowed" }));
}

#[test]
fn const_generics_pass_through_and_enter_the_fingerprint() {
    assert_eq!(
        enc(&Fixed { bytes: [1, 2] }),
        struct_of(&[enc(&vec![1u8, 2])])
    );
    assert_ne!(fp::<Fixed<2>>(), fp::<Fixed<3>>());
}

#[test]
fn crate_override_is_honoured() {
    assert_eq!(enc(&Overridden(5)), struct_of(&[enc(&5u8)]));
    assert_eq!(enc(&OverriddenPath(5)), enc(&Overridden(5)));
}

#[test]
fn raw_identifiers_are_written_without_prefix() {
    assert_eq!(enc(&Raw::r#type), variant_of("type", &[]));
    let mut expected = Vec::new();
    expected.write_tagged_bytes(tag::TYPE, b"Raw");
    assert_eq!(fp::<Raw>(), expected);
}

#[test]
fn empty_enums_and_recursive_types_compile() {
    fn assert_hashable<T: PersistentHash>() {}
    assert_hashable::<Never>();
    let list = Recursive {
        value: 1,
        next: Some(Box::new(Recursive {
            value: 2,
            next: None,
        })),
    };
    let inner = struct_of(&[enc(&2u32), enc(&None::<u8>)]);
    let mut some_inner = vec![tag::SOME];
    some_inner.extend(inner);
    assert_eq!(enc(&list), struct_of(&[enc(&1u32), some_inner]));
}

#[test]
fn fingerprints_name_the_type() {
    let mut expected = Vec::new();
    expected.write_tagged_bytes(tag::TYPE, b"Named");
    assert_eq!(fp::<Named>(), expected);
    assert_ne!(fp::<Named>(), fp::<Tuple>());
    assert_ne!(fp::<Shape>(), fp::<Unit>());
}
