//! `PersistentHash` stability and injectivity (R15, R16).
//!
//! - Golden vectors: `tests/golden/persistent_hash.txt` holds, for every
//!   implemented type, a few derived ones and some type fingerprints,
//!   `<name> <hex of the encoding> <hex of the persistent digest>`. The test
//!   recomputes every line and fails on any difference: a changed line changes
//!   keys already stored in Redis or on disk. After an *intended* format change,
//!   regenerate the file with `UPDATE_GOLDEN=1 cargo nextest run -p cache-tests
//!   --test persistent_hash golden` and review the diff.
//! - Hashed collections: insertion order and the hasher's seed do not show.
//! - Another process (the `digest-probe` binary) computes the same digests.
//! - Property tests: values that differ encode differently, integers of every
//!   width encode by value; [`value`] round-trips a recursive value type through
//!   an independent decoder of the format.

#[path = "persistent_hash/value.rs"]
mod value;

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cache_core::{Digest, HashSink, PersistentHash, persistent_digest};
use cache_tests::figures::record;
use proptest::prelude::*;
use serde_json::json;

include!("../src/digest_probe_values.rs");

/// Counts a passed case of property `test` (and, for a property of two
/// inputs, whether they were distinct) and, once `cases` have passed, records
/// the counts. Proptest stops at `cases` passes when none fails, so the last
/// write holds the totals.
fn passed_case(row: &str, test: &'static str, cases: u32, distinct: Option<bool>) {
    static PASSED: Mutex<BTreeMap<&'static str, (u32, u32)>> = Mutex::new(BTreeMap::new());
    let mut passed = PASSED.lock().unwrap_or_else(|e| e.into_inner());
    let (count, distinct_count) = passed.entry(test).or_default();
    *count += 1;
    *distinct_count += u32::from(distinct == Some(true));
    if *count >= cases {
        let figures = match distinct {
            Some(_) => json!({ "cases_passed": *count, "distinct_input_pairs": *distinct_count }),
            None => json!({ "cases_passed": *count }),
        };
        record(row, &format!("persistent_hash::{test}"), figures);
    }
}

/// The number of cases a `proptest!` without its own config runs
/// (`PROPTEST_CASES` or proptest's default).
fn default_cases() -> u32 {
    ProptestConfig::default().cases
}

fn enc<T: PersistentHash + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.persistent_hash(&mut out);
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hashes as the type fingerprint of `T`, so fingerprints get golden lines too.
struct Fingerprint<T: ?Sized>(std::marker::PhantomData<T>);

impl<T: PersistentHash + ?Sized> PersistentHash for Fingerprint<T> {
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        T::type_fingerprint(sink);
    }
}

fn fingerprint<T: PersistentHash + ?Sized>() -> Fingerprint<T> {
    Fingerprint(std::marker::PhantomData)
}

#[derive(PersistentHash)]
struct Account {
    id: u64,
    owner: String,
    #[persistent_hash(skip)]
    _session: u32,
    tags: Vec<&'static str>,
}

#[derive(PersistentHash)]
struct Meters(f64);

#[derive(PersistentHash)]
struct Marker;

#[derive(PersistentHash)]
enum Command {
    Stop,
    Go(u8, bool),
    Turn { degrees: i16 },
}

#[derive(PersistentHash)]
struct Page<T> {
    items: Vec<T>,
    next: Option<u32>,
}

fn golden_lines() -> Vec<String> {
    let mut lines = Vec::new();
    let mut add = |name: &str, value: &dyn Fn(&mut Vec<u8>) -> Digest| {
        let mut bytes = Vec::new();
        let digest = value(&mut bytes);
        lines.push(format!("{name} {} {}", hex(&bytes), digest.to_hex()));
    };
    macro_rules! golden {
        ($($name:literal => $value:expr;)*) => {$(
            add($name, &|bytes| {
                let value = $value;
                value.persistent_hash(bytes);
                persistent_digest(&value)
            });
        )*};
    }
    golden! {
        "unit" => ();
        "bool_true" => true;
        "u8_1" => 1u8;
        "u16_max" => u16::MAX;
        "u32_7" => 7u32;
        "u64_max" => u64::MAX;
        "u128_above_u64" => u128::from(u64::MAX) + 1;
        "u128_max" => u128::MAX;
        "usize_42" => 42usize;
        "i8_minus_1" => -1i8;
        "i16_min" => i16::MIN;
        "i32_minus_7" => -7i32;
        "i64_min" => i64::MIN;
        "i128_below_i64" => i128::from(i64::MIN) - 1;
        "i128_min" => i128::MIN;
        "isize_minus_3" => -3isize;
        "f32_1_5" => 1.5f32;
        "f64_pi" => std::f64::consts::PI;
        "f64_minus_zero" => -0.0f64;
        "f64_nan" => f64::NAN;
        "f64_neg_infinity" => f64::NEG_INFINITY;
        "char_e_acute" => 'é';
        "str_empty" => "";
        "str_hello" => "hello";
        "string_unicode" => String::from("ßü€😀");
        "bytes_slice" => b"\x00\xff".as_slice();
        "array_u8_3" => [1u8, 2, 3];
        "array_u32_2" => [1u32, 2];
        "slice_i64" => [-1i64, 1].as_slice();
        "vec_u8_empty" => Vec::<u8>::new();
        "vec_u32_empty" => Vec::<u32>::new();
        "vec_string" => vec!["a".to_string(), "bc".to_string()];
        "vecdeque_u16" => VecDeque::from([5u16, 6]);
        "tuple1" => (9u8,);
        "tuple3" => ("ab", "c", 1u8);
        "tuple12" => (0u8, 1u8, 2u8, 3u8, 4u8, 5u8, 6u8, 7u8, 8u8, 9u8, 10u8, 11u8);
        "option_none" => None::<u32>;
        "option_some_0" => Some(0u32);
        "result_ok" => Ok::<u8, String>(1);
        "result_err" => Err::<u8, String>("no".into());
        "ref_str" => &"ref";
        "box_str" => Box::<str>::from("box");
        "rc_u8" => Rc::new(3u8);
        "arc_slice" => Arc::<[u8]>::from([1u8, 2].as_slice());
        "cow_str" => Cow::<str>::Borrowed("cow");
        "btreemap" => BTreeMap::from([("b", 2u8), ("a", 1u8)]);
        "btreeset" => BTreeSet::from([3i32, -3]);
        "hashmap" => HashMap::from([("x".to_string(), 1u64), ("y".to_string(), 2u64)]);
        "hashset" => HashSet::from([10u32, 20, 30]);
        "duration" => Duration::new(90, 5);
        "range" => 1u32..3;
        "range_inclusive" => 1u32..=3;
        "range_from" => 1u32..;
        "range_to" => ..3u32;
        "range_to_inclusive" => ..=3u32;
        "range_full" => ..;
        "path_relative" => Path::new("a//b/./c/");
        "pathbuf_absolute" => PathBuf::from("/usr/../lib");
        "osstr" => OsStr::new("os");
        "osstring" => OsString::from("os");
        "derived_struct" => Account { id: 7, owner: "ann".into(), _session: 99, tags: vec!["x"] };
        "derived_tuple_struct" => Meters(2.5);
        "derived_unit_struct" => Marker;
        "derived_enum_unit" => Command::Stop;
        "derived_enum_tuple" => Command::Go(3, true);
        "derived_enum_struct" => Command::Turn { degrees: -90 };
        "derived_generic" => Page { items: vec![(1u8, 'a')], next: Some(2) };
        "type_u8" => fingerprint::<u8>();
        "type_u64" => fingerprint::<u64>();
        "type_str" => fingerprint::<&str>();
        "type_array" => fingerprint::<[u16; 4]>();
        "type_tuple" => fingerprint::<(u8, String)>();
        "type_hashmap" => fingerprint::<HashMap<String, Vec<u64>>>();
        "type_derived_generic" => fingerprint::<Page<Option<i32>>>();
    }
    lines
}

const GOLDEN_HEADER: &str = "\
# Golden vectors of the PersistentHash encoding (see tests/tests/persistent_hash.rs).
# <name> <hex of the encoding> <hex of persistent_digest>
# Never edit by hand; a changed line is a changed cache key.
";

#[test]
fn golden_vectors_are_stable() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/persistent_hash.txt");
    let lines = golden_lines();
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        let text = format!("{GOLDEN_HEADER}{}\n", lines.join("\n"));
        std::fs::write(&path, text).unwrap();
        return;
    }
    let stored = std::fs::read_to_string(&path).unwrap();
    let stored: Vec<&str> = stored
        .lines()
        .filter(|line| !line.starts_with('#'))
        .collect();
    for line in &lines {
        let name = line.split(' ').next().unwrap();
        let old = stored
            .iter()
            .find(|old| old.split(' ').next() == Some(name));
        assert_eq!(
            old.copied(),
            Some(line.as_str()),
            "golden vector `{name}` changed"
        );
    }
    assert_eq!(
        stored.len(),
        lines.len(),
        "golden file has lines no test computes"
    );
    record(
        "R16",
        "persistent_hash::golden_vectors_are_stable",
        json!({ "golden_vectors": lines.len(), "changed": 0 }),
    );
}

#[test]
fn golden_names_are_unique() {
    let lines = golden_lines();
    let names: HashSet<&str> = lines.iter().filter_map(|l| l.split(' ').next()).collect();
    assert_eq!(names.len(), lines.len());
}

/// A `HashMap` filled in the given key order, with a fresh random seed.
fn map_in_order(keys: &[u32], hasher: RandomState) -> HashMap<u32, String, RandomState> {
    let mut map = HashMap::with_hasher(hasher);
    for key in keys {
        map.insert(*key, format!("v{key}"));
    }
    map
}

#[test]
fn thousand_entry_maps_ignore_order_and_seed() {
    let forward: Vec<u32> = (0..1000).collect();
    let mut shuffled = forward.clone();
    // A fixed permutation: multiply by a unit modulo 1000.
    for (i, slot) in shuffled.iter_mut().enumerate() {
        *slot = (i as u32 * 7) % 1000;
    }
    let a = map_in_order(&forward, RandomState::new());
    let b = map_in_order(&shuffled, RandomState::new());
    let c = map_in_order(
        &forward.iter().rev().copied().collect::<Vec<_>>(),
        RandomState::new(),
    );
    assert_ne!(
        a.hasher().hash_one(1u32),
        b.hasher().hash_one(1u32),
        "seeds must differ"
    );
    assert_ne!(
        a.iter().next(),
        b.iter().next(),
        "iteration orders should differ"
    );
    assert_eq!(enc(&a), enc(&b));
    assert_eq!(enc(&a), enc(&c));
    assert_eq!(persistent_digest(&a), persistent_digest(&b));
    let set_a: HashSet<u32> = forward.iter().copied().collect();
    let set_b: HashSet<u32> = shuffled.iter().copied().collect();
    assert_eq!(persistent_digest(&set_a), persistent_digest(&set_b));
    let mut smaller = a.clone();
    smaller.remove(&500);
    assert_ne!(enc(&a), enc(&smaller));
    record(
        "R16",
        "persistent_hash::thousand_entry_maps_ignore_order_and_seed",
        json!({ "entries": 1_000, "insertion_orders": 3, "random_seeds": 3 }),
    );
}

#[test]
fn digests_agree_across_processes() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_digest-probe"))
        .output()
        .unwrap();
    assert!(output.status.success(), "digest-probe failed: {output:?}");
    let printed = String::from_utf8(output.stdout).unwrap();
    let expected: Vec<String> = probe_digests()
        .into_iter()
        .map(|(name, hex)| format!("{name} {hex}"))
        .collect();
    assert_eq!(printed.lines().collect::<Vec<_>>(), expected);
}

proptest! {
    #[test]
    fn hashed_maps_ignore_insertion_order_and_seed(
        entries in prop::collection::hash_map("[a-c]{0,3}", any::<u64>(), 0..40),
    ) {
        let pairs: Vec<(String, u64)> = entries.into_iter().collect();
        let forward: HashMap<String, u64> = pairs.iter().cloned().collect();
        let backward: HashMap<String, u64> = pairs.iter().rev().cloned().collect();
        prop_assert_eq!(enc(&forward), enc(&backward));
        prop_assert_eq!(persistent_digest(&forward), persistent_digest(&backward));
        let keys: HashSet<&String> = forward.keys().collect();
        let keys_back: HashSet<&String> = pairs.iter().rev().map(|(k, _)| k).collect();
        prop_assert_eq!(enc(&keys), enc(&keys_back));
        passed_case("R16", "hashed_maps_ignore_insertion_order_and_seed", default_cases(), None);
    }

    #[test]
    fn integers_of_every_width_encode_by_value(
        small in any::<i8>(),
        byte in any::<u8>(),
        wide in any::<i64>(),
    ) {
        let by_value = enc(&i128::from(small));
        prop_assert_eq!(enc(&small), by_value.clone());
        prop_assert_eq!(enc(&i16::from(small)), by_value.clone());
        prop_assert_eq!(enc(&i32::from(small)), by_value.clone());
        prop_assert_eq!(enc(&i64::from(small)), by_value.clone());
        prop_assert_eq!(enc(&(small as isize)), by_value);
        let by_value = enc(&u128::from(byte));
        for encoding in [
            enc(&byte),
            enc(&u16::from(byte)),
            enc(&u32::from(byte)),
            enc(&u64::from(byte)),
            enc(&usize::from(byte)),
            enc(&i16::from(byte)),
            enc(&i32::from(byte)),
            enc(&i128::from(byte)),
        ] {
            prop_assert_eq!(&encoding, &by_value);
        }
        prop_assert_eq!(enc(&wide), enc(&i128::from(wide)));
    }

    #[test]
    fn integers_equal_by_value_iff_encodings_equal(a in boundary_int(), b in boundary_int()) {
        prop_assert_eq!(a == b, enc(&a) == enc(&b));
        if let (Ok(unsigned), true) = (u128::try_from(a), a != b) {
            prop_assert_ne!(enc(&unsigned), enc(&b));
        }
        passed_case("R15", "integers_equal_by_value_iff_encodings_equal", default_cases(), Some(a != b));
    }

    #[test]
    fn distinct_sequences_of_pairs_encode_distinctly(
        a in prop::collection::vec(("[ab]{0,2}", prop::option::of(0u32..3)), 0..4),
        b in prop::collection::vec(("[ab]{0,2}", prop::option::of(0u32..3)), 0..4),
    ) {
        prop_assert_eq!(a == b, enc(&a) == enc(&b));
    }

    #[test]
    fn distinct_string_pairs_encode_distinctly(
        a in ("[ab]{0,3}", "[ab]{0,3}"),
        b in ("[ab]{0,3}", "[ab]{0,3}"),
    ) {
        prop_assert_eq!(a == b, enc(&a) == enc(&b));
        prop_assume!(a != b);
        prop_assert_ne!(persistent_digest(&a), persistent_digest(&b));
        passed_case("R15", "distinct_string_pairs_encode_distinctly", default_cases(), Some(true));
    }

    #[test]
    fn distinct_byte_splits_encode_distinctly(
        a in prop::collection::vec(prop::collection::vec(0u8..2, 0..3), 0..4),
        b in prop::collection::vec(prop::collection::vec(0u8..2, 0..3), 0..4),
    ) {
        prop_assert_eq!(a == b, enc(&a) == enc(&b));
        let deque_a: VecDeque<Vec<u8>> = a.iter().cloned().collect();
        prop_assert_eq!(enc(&deque_a), enc(&a));
    }

    #[test]
    fn distinct_hash_maps_encode_distinctly(
        a in prop::collection::hash_map("[ab]{0,2}", 0u64..3, 0..4),
        b in prop::collection::hash_map("[ab]{0,2}", 0u64..3, 0..4),
    ) {
        prop_assert_eq!(a == b, enc(&a) == enc(&b));
        let set_a: HashSet<(String, u64)> = a.clone().into_iter().collect();
        let set_b: HashSet<(String, u64)> = b.clone().into_iter().collect();
        prop_assert_eq!(set_a == set_b, enc(&set_a) == enc(&set_b));
    }

    #[test]
    fn distinct_options_results_and_ranges_encode_distinctly(
        a in small_mix(),
        b in small_mix(),
    ) {
        prop_assert_eq!(a == b, enc(&a) == enc(&b));
        let (ra, rb) = (a.2..a.3, b.2..b.3);
        prop_assert_eq!(ra == rb, enc(&ra) == enc(&rb));
        prop_assert_ne!(enc(&ra), enc(&(a.2..=a.3)));
    }
}

/// Nested options, a result and range bounds over tiny domains.
fn small_mix() -> impl Strategy<Value = (Option<Option<u8>>, Result<u8, u8>, u8, u8)> {
    (
        prop::option::of(prop::option::of(0u8..2)),
        prop::result::maybe_ok(0u8..2, 0u8..2),
        0u8..3,
        0u8..3,
    )
}

/// Integers around the boundaries of the encoding's forms.
fn boundary_int() -> impl Strategy<Value = i128> {
    prop_oneof![
        Just(0i128),
        Just(-1),
        Just(i128::from(u64::MAX)),
        Just(i128::from(u64::MAX) + 1),
        Just(i128::from(i64::MIN)),
        Just(i128::from(i64::MIN) - 1),
        Just(i128::MIN),
        Just(i128::MAX),
        -300i128..300,
        any::<i128>(),
    ]
}
