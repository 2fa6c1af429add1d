// The fixed values of the cross-process digest check, `include!`d by the
// `digest-probe` binary and by `tests/persistent_hash.rs`, so both sides hash
// exactly the same values. The hashed collections matter most here: every
// process seeds `RandomState` differently, and the digests must not notice.

/// The values the probe hashes, as `(name, hex persistent digest)` pairs.
fn probe_digests() -> Vec<(&'static str, String)> {
    use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
    use std::path::Path;
    use std::time::Duration;

    use cache_core::{PersistentHash, persistent_digest};

    #[derive(PersistentHash)]
    struct Probe<'a, T> {
        name: &'a str,
        items: Vec<T>,
        #[persistent_hash(skip)]
        _ignored: u8,
    }

    #[derive(PersistentHash)]
    enum Event {
        Start,
        Move { x: i32, y: i32 },
    }

    let map: HashMap<String, u64> = (0..500).map(|i| (format!("key-{i}"), i * 7)).collect();
    let set: HashSet<(u8, String)> = (0..100).map(|i| (i, i.to_string())).collect();
    let nested: HashMap<u32, HashSet<i64>> = (0..20)
        .map(|i| (i, (-(i64::from(i))..=i64::from(i)).collect()))
        .collect();
    vec![
        ("u64", persistent_digest(&42u64).to_hex()),
        ("i128_min", persistent_digest(&i128::MIN).to_hex()),
        ("f64_nan", persistent_digest(&f64::NAN).to_hex()),
        ("str", persistent_digest("hello, world").to_hex()),
        (
            "bytes",
            persistent_digest(b"\x00\x01\xff".as_slice()).to_hex(),
        ),
        (
            "tuple",
            persistent_digest(&("ab", 'c', Some(-1i8), ())).to_hex(),
        ),
        (
            "deque",
            persistent_digest(&VecDeque::from([3u8, 1, 2])).to_hex(),
        ),
        (
            "btree",
            persistent_digest(&BTreeMap::from([("b", 2u8), ("a", 1)])).to_hex(),
        ),
        ("hashmap_500", persistent_digest(&map).to_hex()),
        ("hashset_100", persistent_digest(&set).to_hex()),
        ("hash_nested", persistent_digest(&nested).to_hex()),
        (
            "duration",
            persistent_digest(&Duration::from_millis(1500)).to_hex(),
        ),
        ("range", persistent_digest(&(1u32..=9)).to_hex()),
        (
            "path",
            persistent_digest(Path::new("/var//cache/./app")).to_hex(),
        ),
        (
            "derived",
            persistent_digest(&Probe {
                name: "p",
                items: vec![1u16, 2],
                _ignored: 9,
            })
            .to_hex(),
        ),
        (
            "derived_enum",
            persistent_digest(&[Event::Start, Event::Move { x: -1, y: 2 }]).to_hex(),
        ),
    ]
}
