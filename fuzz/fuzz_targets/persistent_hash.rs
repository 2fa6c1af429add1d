//! Structured values built from arbitrary bytes through `PersistentHash`,
//! `MemKey` and `persistent_digest`; see `cache_fuzz::persistent_hash` for the
//! properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cache_fuzz::persistent_hash::check(data));
