//! The properties the fuzz targets check, one module per target.
//!
//! The modules depend only on `cache-core`, `serde`, `arbitrary` and `blake3`,
//! and are self-contained files: `tests/tests/fuzz_lite.rs` includes them by
//! path to run the same checks under proptest on stable (CI has no nightly,
//! so it cannot run libFuzzer).

pub mod envelope;
pub mod persistent_hash;
