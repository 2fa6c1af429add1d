//! The keys `#[ttl_cache]` builds for a function with a `backend` option: the
//! storage digest must be blake3 (derive-key mode) of the identity, the version
//! and the arguments' canonical encoding, however the key was built (inline in
//! registers for short encodings, spilled into blake3 for long ones), because
//! that digest is what other processes and other versions of this library look
//! up. A `backend` that turns out to be the memory backend keys exactly as
//! the default in-memory path does, long keys included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use cache_core::hash::storage_key_hasher;
use cache_core::{
    BackendError, MemoryBackend, PersistentHash, StorageBackend, StorageKey, ttl_cache,
};

/// A byte store that remembers the digest of every write.
#[derive(Default)]
struct Recorder {
    entries: Mutex<HashMap<[u8; 32], Vec<u8>>>,
    written: Mutex<Vec<[u8; 32]>>,
}

impl StorageBackend for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }

    fn get(&self, key: &StorageKey<'_>) -> Result<Option<Vec<u8>>, BackendError> {
        Ok(self.entries.lock().unwrap().get(&key.digest.0).cloned())
    }

    fn set(
        &self,
        key: &StorageKey<'_>,
        value: &[u8],
        _ttl: Option<Duration>,
    ) -> Result<(), BackendError> {
        self.written.lock().unwrap().push(key.digest.0);
        self.entries
            .lock()
            .unwrap()
            .insert(key.digest.0, value.to_vec());
        Ok(())
    }

    fn clear(&self, _namespace: &str) -> Result<(), BackendError> {
        self.entries.lock().unwrap().clear();
        Ok(())
    }

    fn len(&self, _namespace: &str) -> Result<u64, BackendError> {
        Ok(self.entries.lock().unwrap().len() as u64)
    }
}

impl Recorder {
    fn last_written(&self) -> [u8; 32] {
        *self.written.lock().unwrap().last().expect("a write")
    }
}

static STORE: LazyLock<Arc<Recorder>> = LazyLock::new(Arc::default);

/// Writes one argument's part of the canonical encoding.
type Encode<'a> = &'a dyn Fn(&mut Vec<u8>);

/// The digest a call must be stored under: the definition, written out.
fn expected(identity: &str, version: u32, args: &[Encode<'_>]) -> [u8; 32] {
    let mut encoding = Vec::new();
    for arg in args {
        arg(&mut encoding);
    }
    let mut hasher = storage_key_hasher(identity, version);
    hasher.update(&encoding);
    *hasher.finalize().as_bytes()
}

fn enc<T: PersistentHash + ?Sized>(value: &T) -> impl Fn(&mut Vec<u8>) + '_ {
    move |sink| value.persistent_hash(sink)
}

fn enc_typed<T: PersistentHash + ?Sized>(value: &T) -> impl Fn(&mut Vec<u8>) + '_ {
    move |sink| {
        T::type_fingerprint(sink);
        value.persistent_hash(sink);
    }
}

#[ttl_cache(identifier = "site-keys/short", backend = STORE.clone())]
fn short(a: u64, b: u8) -> u64 {
    a + u64::from(b)
}

#[ttl_cache(identifier = "site-keys/long", version = 3, backend = STORE.clone())]
fn long(id: u64, name: String) -> usize {
    name.len() + id as usize
}

#[ttl_cache(identifier = "site-keys/typed", typed = true, backend = STORE.clone())]
fn typed(a: u32, name: &str) -> usize {
    a as usize + name.len()
}

/// Short encodings are built inline and the digest derived from them on the
/// storage call; it must be the digest of the same bytes.
#[test]
fn a_short_key_is_stored_under_the_digest_of_its_encoding() {
    assert_eq!(short(7, 9), 16);
    assert_eq!(
        STORE.last_written(),
        expected("site-keys/short", 0, &[&enc(&7u64), &enc(&9u8)])
    );
}

/// An encoding that outgrows the inline key midway (the second argument) is
/// hashed from the inline prefix on: the digest must not depend on where the
/// spill happened.
#[test]
fn a_long_key_is_stored_under_the_digest_of_its_encoding() {
    let name = "a name far longer than the thirty-one inline bytes".to_owned();
    assert_eq!(long(5, name.clone()), name.len() + 5);
    assert_eq!(
        STORE.last_written(),
        expected("site-keys/long", 3, &[&enc(&5u64), &enc(&name)])
    );
    // Read back under the same digest: a hit.
    let before = long::cache_info().hits;
    assert_eq!(long(5, name.clone()), name.len() + 5);
    assert_eq!(long::cache_info().hits, before + 1);
}

/// With `typed`, each argument's type fingerprint precedes it, inline or spilled.
#[test]
fn typed_keys_carry_type_fingerprints_inline_and_spilled() {
    for name in ["ab", "a string long enough to spill out of the inline key"] {
        typed(1, name);
        assert_eq!(
            STORE.last_written(),
            expected("site-keys/typed", 0, &[&enc_typed(&1u32), &enc_typed(name)]),
            "{name}"
        );
    }
}

static BODIES: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(backend = MemoryBackend::default())]
fn in_memory(name: String) -> usize {
    BODIES.fetch_add(1, Ordering::SeqCst);
    name.len()
}

/// A `backend` expression that is the memory backend keys in memory, long keys
/// included: equal long keys hit, different ones (same length, same prefix) do not.
#[test]
fn a_memory_backend_option_keys_long_arguments_exactly() {
    let a = format!("{}-a", "x".repeat(60));
    let b = format!("{}-b", "x".repeat(60));
    assert_eq!(in_memory(a.clone()), 62);
    assert_eq!(in_memory(a.clone()), 62);
    assert_eq!(in_memory(b.clone()), 62);
    assert_eq!(in_memory("short".to_owned()), 5);
    assert_eq!(in_memory("short".to_owned()), 5);
    assert_eq!(BODIES.load(Ordering::SeqCst), 3);
    let info = in_memory::cache_info();
    assert_eq!((info.hits, info.misses), (2, 3));
}
