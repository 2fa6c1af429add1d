//! Arbitrary bytes into the envelope decoder and the backends' typed decode
//! path; see `cache_fuzz::envelope` for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cache_fuzz::envelope::check(data));
