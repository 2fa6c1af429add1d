//! R11 in CI: the fuzz targets' properties under proptest ("fuzz-lite").
//!
//! CI has only a stable toolchain, so it cannot run the cargo-fuzz targets in
//! `fuzz/` (nightly and libFuzzer). This test runs the very same checks,
//! included by path from `fuzz/src/`, on random inputs instead of
//! coverage-guided ones:
//!
//! - random bytes through the envelope decoder and the backends' typed decode
//!   path (`Codec::decode_value`) into several types, raw and wrapped in a valid
//!   envelope, keyed and not, MessagePack and JSON: no panic, accepted
//!   envelopes are canonical, decoded values round-trip;
//! - valid encodings of sample values with a few bytes overwritten, which
//!   random bytes alone rarely reach;
//! - random bytes turned into pairs of structured values through `arbitrary`,
//!   checked for the `PersistentHash` properties (injectivity by value across
//!   integer widths, determinism, hashed-collection order, `MemKey` and digest
//!   agreement, `typed` integer keys).
//!
//! `tests/tests/codec.rs` and `tests/tests/persistent_hash.rs` hold the
//! hand-written cases and the type-specific properties; this file adds the
//! fuzzers' entry points. See `fuzz/README.md` for running the real fuzzers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

// `pub`: the included modules are written as the fuzz crate's public API.
#[path = "../../fuzz/src/envelope.rs"]
pub mod envelope;
#[path = "../../fuzz/src/persistent_hash.rs"]
pub mod persistent_hash;

use proptest::prelude::*;
use proptest::sample::Index;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Any bytes, read as the fuzz target reads them (mode byte first).
    #[test]
    fn fuzz_lite_envelope_random_input(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        envelope::check(&data);
    }

    /// A random payload in a valid envelope, under every mode.
    #[test]
    fn fuzz_lite_envelope_random_payload(
        mode in any::<u8>(),
        payload in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let data = [&[mode | envelope::MODE_WRAP][..], &payload].concat();
        envelope::check(&data);
    }

    /// A valid encoding of a sample value with a few bytes overwritten (the
    /// mode byte included), so that decoding gets deep into the value.
    #[test]
    fn fuzz_lite_envelope_mutated_seed(
        seed in any::<Index>(),
        edits in proptest::collection::vec((any::<Index>(), any::<u8>()), 0..4),
        cut in any::<Index>(),
        truncate in any::<bool>(),
    ) {
        let seeds = envelope::seeds();
        let mut data = seeds[seed.index(seeds.len())].clone();
        for (at, byte) in &edits {
            let i = at.index(data.len());
            data[i] = *byte;
        }
        if truncate {
            data.truncate(cut.index(data.len() + 1));
        }
        envelope::check(&data);
    }

    /// Structured values built from random bytes.
    #[test]
    fn fuzz_lite_persistent_hash_random_values(data in proptest::collection::vec(any::<u8>(), 0..1024)) {
        persistent_hash::check(&data);
    }
}

/// Every seed holds a value of one of the checked types: without that the
/// mutated-seed property above would only ever see rejected inputs.
#[test]
fn fuzz_lite_seeds_decode() {
    use cache_core::codec::{Json, MessagePack, Serializer};

    fn decodes<S: Serializer>(serializer: S, payload: &[u8]) -> bool {
        serializer.deserialize::<envelope::Doc>(payload).is_ok()
            || serializer
                .deserialize::<Vec<(String, Option<i64>)>>(payload)
                .is_ok()
            || serializer.deserialize::<u64>(payload).is_ok()
            || serializer.deserialize::<String>(payload).is_ok()
            || serializer.deserialize::<(f32, f64)>(payload).is_ok()
    }

    let seeds = envelope::seeds();
    assert!(seeds.len() >= 10, "{} seeds", seeds.len());
    for data in &seeds {
        let (mode, payload) = data.split_first().unwrap();
        assert_ne!(mode & envelope::MODE_WRAP, 0, "a seed is a payload to wrap");
        let ok = if mode & envelope::MODE_JSON != 0 {
            decodes(Json, payload)
        } else {
            decodes(MessagePack, payload)
        };
        assert!(ok, "seed {data:02x?} holds none of the checked types");
    }
}
