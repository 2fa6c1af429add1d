//! `#[ttl_cache]` on a byte store: a [`StorageBackend`] written here, in the
//! test, plugged in with `backend = STORE.clone()` and nothing else. This proves
//! a third-party byte store needs no macro support, and checks what the runtime
//! does with it: envelope bytes, serializers, corrupt entries, failures (fail
//! open), `cache_clear`, `current_size`, and single-flight within the process.
//!
//! Every test has its own store, so its counts and its failure switch are its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use cache_core::codec::Json;
use cache_core::{BackendError, CachedFn, StorageBackend, StorageKey, ttl_cache};
use cache_tests::figures::record;
use cache_tests::{Gate, join_within_deadline, wait_until};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Semaphore;

// ---- the store ------------------------------------------------------------------

/// Where an entry lives: namespace, version, digest.
type EntryKey = (String, u32, [u8; 32]);

/// An in-memory byte store with call counts and a switch that makes every call
/// fail. TTLs are recorded, not enforced (expiry is the engine's concern, tested
/// elsewhere).
#[derive(Default)]
struct TestStore {
    entries: Mutex<HashMap<EntryKey, Vec<u8>>>,
    failing: AtomicBool,
    gets: AtomicUsize,
    sets: AtomicUsize,
    len_calls: AtomicUsize,
    cleared: Mutex<Vec<String>>,
    last_ttl: Mutex<Option<Option<Duration>>>,
}

const STORE_NAME: &str = "test-store";

impl TestStore {
    fn new() -> Arc<Self> {
        Arc::default()
    }

    fn fail(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    fn check(&self, operation: &'static str) -> Result<(), BackendError> {
        if self.failing.load(Ordering::SeqCst) {
            Err(BackendError::Unavailable {
                backend: STORE_NAME,
                reason: format!("{operation}: switched off by the test"),
            })
        } else {
            Ok(())
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<EntryKey, Vec<u8>>> {
        self.entries.lock().unwrap()
    }

    /// The entries of `namespace`.
    fn entries_of(&self, namespace: &str) -> Vec<(EntryKey, Vec<u8>)> {
        self.entries()
            .iter()
            .filter(|(key, _)| key.0 == namespace)
            .map(|(key, bytes)| (key.clone(), bytes.clone()))
            .collect()
    }

    /// The single entry of `namespace`.
    fn only_entry(&self, namespace: &str) -> (EntryKey, Vec<u8>) {
        let mut entries = self.entries_of(namespace);
        assert_eq!(entries.len(), 1, "expected one entry in {namespace}");
        entries.pop().unwrap()
    }

    fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }

    fn sets(&self) -> usize {
        self.sets.load(Ordering::SeqCst)
    }
}

impl StorageBackend for TestStore {
    fn name(&self) -> &'static str {
        STORE_NAME
    }

    fn get(&self, key: &StorageKey<'_>) -> Result<Option<Vec<u8>>, BackendError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.check("get")?;
        let key = (key.namespace.to_owned(), key.version, key.digest.0);
        Ok(self.entries().get(&key).cloned())
    }

    fn set(
        &self,
        key: &StorageKey<'_>,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<(), BackendError> {
        self.sets.fetch_add(1, Ordering::SeqCst);
        self.check("set")?;
        *self.last_ttl.lock().unwrap() = Some(ttl);
        let key = (key.namespace.to_owned(), key.version, key.digest.0);
        self.entries().insert(key, value.to_vec());
        Ok(())
    }

    fn clear(&self, namespace: &str) -> Result<(), BackendError> {
        self.check("clear")?;
        self.cleared.lock().unwrap().push(namespace.to_owned());
        self.entries().retain(|key, _| key.0 != namespace);
        Ok(())
    }

    fn len(&self, namespace: &str) -> Result<u64, BackendError> {
        self.len_calls.fetch_add(1, Ordering::SeqCst);
        self.check("len")?;
        Ok(self
            .entries()
            .keys()
            .filter(|key| key.0 == namespace)
            .count() as u64)
    }
}

/// Envelope layout (see `cache_core::codec::envelope`).
const MAGIC: &[u8; 4] = b"TTLC";
const CODEC_ID_AT: usize = 5;
const HEADER_LEN: usize = 19;
const MSGPACK_ID: u8 = 1;
const JSON_ID: u8 = 2;

/// The payload of an envelope: the length field, then that many bytes.
fn payload(envelope: &[u8]) -> &[u8] {
    let len = u32::from_le_bytes(envelope[15..19].try_into().unwrap()) as usize;
    &envelope[HEADER_LEN..HEADER_LEN + len]
}

// ---- hits from the store -------------------------------------------------------

static HIT_STORE: LazyLock<Arc<TestStore>> = LazyLock::new(TestStore::new);
static HIT_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(ttl = 10, backend = HIT_STORE.clone())]
fn stored_square(x: u64) -> u64 {
    HIT_CALLS.fetch_add(1, Ordering::SeqCst);
    x * x
}

/// A byte store plugged in through `backend =` must hold the result in the
/// checked envelope and serve the second call from it, as a counted hit.
#[test]
fn storage_second_call_is_a_hit_served_from_the_store() {
    check_second_call_is_a_hit_served_from_the_store(
        &HIT_STORE,
        "ttl_cache_storage::stored_square",
        stored_square,
        stored_square::cache(),
        &HIT_CALLS,
    );
}

static UNFLIGHTED_STORE: LazyLock<Arc<TestStore>> = LazyLock::new(TestStore::new);
static UNFLIGHTED_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(ttl = 10, backend = UNFLIGHTED_STORE.clone(), single_flight = false)]
fn stored_square_unflighted(x: u64) -> u64 {
    UNFLIGHTED_CALLS.fetch_add(1, Ordering::SeqCst);
    x * x
}

/// The same contract without single-flight: every call reads the store, so the
/// second one is a hit served from it.
#[test]
fn storage_second_call_is_a_hit_served_from_the_store_without_single_flight() {
    check_second_call_is_a_hit_served_from_the_store(
        &UNFLIGHTED_STORE,
        "ttl_cache_storage::stored_square_unflighted",
        stored_square_unflighted,
        stored_square_unflighted::cache(),
        &UNFLIGHTED_CALLS,
    );
}

/// Two calls, then the store's view: one entry in the envelope, one hit read from it.
fn check_second_call_is_a_hit_served_from_the_store(
    store: &TestStore,
    namespace: &str,
    square: fn(u64) -> u64,
    cache: &CachedFn,
    calls: &AtomicUsize,
) {
    assert_eq!(square(9), 81);
    assert_eq!(square(9), 81);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the body ran twice");
    let info = cache.cache_info();
    assert_eq!((info.hits, info.misses, info.computations), (1, 1, 1));
    assert_eq!(info.current_size, 1);
    assert_eq!(
        (store.gets(), store.sets()),
        (2, 1),
        "not read from the store"
    );

    let ((_, version, _), bytes) = store.only_entry(namespace);
    assert_eq!(version, 0);
    assert_eq!(&bytes[..4], MAGIC, "not an envelope: {bytes:02x?}");
    assert_eq!(bytes[CODEC_ID_AT], MSGPACK_ID);
    assert_eq!(
        *store.last_ttl.lock().unwrap(),
        Some(Some(Duration::from_secs(10))),
        "the ttl was not handed to the store"
    );

    // Served from the store, not from a copy in the process: once the entry is
    // gone, the next call recomputes.
    store.entries().clear();
    assert_eq!(square(9), 81);
    assert_eq!(calls.load(Ordering::SeqCst), 2, "served without the store");
}

static ASYNC_STORE: LazyLock<Arc<TestStore>> = LazyLock::new(TestStore::new);
static ASYNC_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(backend = ASYNC_STORE.clone())]
async fn stored_label(x: u64) -> String {
    ASYNC_CALLS.fetch_add(1, Ordering::SeqCst);
    tokio::task::yield_now().await;
    format!("label-{x}")
}

/// An `async fn` on a byte store (through the default async methods) must store
/// once and serve the second call from the store, as a counted hit.
#[tokio::test]
async fn async_storage_second_call_is_a_hit_served_from_the_store() {
    assert_eq!(stored_label(4).await, "label-4");
    assert_eq!(stored_label(4).await, "label-4");
    assert_eq!(ASYNC_CALLS.load(Ordering::SeqCst), 1);
    let info = stored_label::cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
    assert_eq!(ASYNC_STORE.gets(), 2, "not read from the store");
    let (_, bytes) = ASYNC_STORE.only_entry("ttl_cache_storage::stored_label");
    assert_eq!(&bytes[..4], MAGIC);
}

static ASYNC_UNFLIGHTED_STORE: LazyLock<Arc<TestStore>> = LazyLock::new(TestStore::new);
static ASYNC_UNFLIGHTED_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(backend = ASYNC_UNFLIGHTED_STORE.clone(), single_flight = false)]
async fn stored_label_unflighted(x: u64) -> String {
    ASYNC_UNFLIGHTED_CALLS.fetch_add(1, Ordering::SeqCst);
    tokio::task::yield_now().await;
    format!("label-{x}")
}

/// The async path without single-flight: stored once, then a hit read from the store.
#[tokio::test]
async fn async_storage_second_call_is_a_hit_without_single_flight() {
    assert_eq!(stored_label_unflighted(4).await, "label-4");
    assert_eq!(stored_label_unflighted(4).await, "label-4");
    assert_eq!(ASYNC_UNFLIGHTED_CALLS.load(Ordering::SeqCst), 1);
    let info = stored_label_unflighted::cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
    assert_eq!(ASYNC_UNFLIGHTED_STORE.gets(), 2);
    let (_, bytes) =
        ASYNC_UNFLIGHTED_STORE.only_entry("ttl_cache_storage::stored_label_unflighted");
    assert_eq!(&bytes[..4], MAGIC);
}

// ---- serializers ---------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Profile {
    id: u64,
    name: String,
}

static JSON_STORE: LazyLock<Arc<TestStore>> = LazyLock::new(TestStore::new);

#[ttl_cache(backend = JSON_STORE.clone(), serializer = Json)]
fn profile(id: u64) -> Profile {
    Profile {
        id,
        name: format!("user-{id}"),
    }
}

/// `serializer = Json` must store a JSON payload tagged with JSON's codec id (2),
/// and read it back.
#[test]
fn json_serializer_stores_json_payload_with_codec_id_2() {
    let expected = Profile {
        id: 7,
        name: "user-7".into(),
    };
    assert_eq!(profile(7), expected);
    assert_eq!(profile(7), expected);
    assert_eq!(profile::cache_info().hits, 1);
    let (_, bytes) = JSON_STORE.only_entry("ttl_cache_storage::profile");
    assert_eq!(&bytes[..4], MAGIC);
    assert_eq!(bytes[CODEC_ID_AT], JSON_ID);
    assert_eq!(payload(&bytes), br#"{"id":7,"name":"user-7"}"#);
    assert_eq!(profile::cache_parameters().serializer, "json");
}

// ---- corrupt entries ---------------------------------------------------------------

static CORRUPT_STORE: LazyLock<Arc<TestStore>> = LazyLock::new(TestStore::new);
static CORRUPT_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(backend = CORRUPT_STORE.clone())]
fn fragile(x: u64) -> u64 {
    CORRUPT_CALLS.fetch_add(1, Ordering::SeqCst);
    x + 5
}

/// Stored bytes are untrusted: a corrupt entry must be a counted miss that is
/// recomputed and overwritten, never a wrong value or a panic.
#[test]
fn corrupt_stored_bytes_are_a_counted_miss_and_overwritten() {
    let store = &*CORRUPT_STORE;
    let namespace = "ttl_cache_storage::fragile";
    assert_eq!(fragile(1), 6);
    let (key, good) = store.only_entry(namespace);
    let mut bad = good.clone();
    bad[HEADER_LEN] ^= 0xff; // a payload byte: only the checksum notices
    store.entries().insert(key.clone(), bad);

    assert_eq!(fragile(1), 6, "a corrupt entry was served");
    let info = fragile::cache_info();
    assert_eq!(info.decode_errors, 1);
    assert_eq!((info.misses, info.hits, info.computations), (2, 0, 2));
    assert_eq!(CORRUPT_CALLS.load(Ordering::SeqCst), 2);
    assert_eq!(
        store.entries()[&key],
        good,
        "the corrupt entry was not overwritten"
    );

    assert_eq!(fragile(1), 6);
    let info = fragile::cache_info();
    assert_eq!(
        (info.hits, info.computations, info.decode_errors),
        (1, 2, 1)
    );
}

// ---- failures --------------------------------------------------------------------

static FAILING_STORE: LazyLock<Arc<TestStore>> = LazyLock::new(TestStore::new);
static FAILING_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(backend = FAILING_STORE.clone())]
fn resilient(x: u64) -> u64 {
    FAILING_CALLS.fetch_add(1, Ordering::SeqCst);
    x * 4
}

/// A cache outage must not become an application outage: every call still
/// returns its value (the body runs), and each failed backend call is counted.
#[test]
fn failing_backend_fails_open_and_counts_errors() {
    let store = &*FAILING_STORE;
    store.fail(true);
    assert_eq!(resilient(2), 8);
    assert_eq!(resilient(2), 8);
    assert_eq!(FAILING_CALLS.load(Ordering::SeqCst), 2);
    let info = resilient::cache_info();
    assert_eq!(info.computations, 2);
    assert_eq!(info.hits, 0);
    // A failed get and a failed set per call (the failed `len` of this very
    // `cache_info` may count too).
    assert!(info.backend_errors >= 4, "{info:?}");
    assert_eq!(info.current_size, 0);
    assert!(resilient::cache().try_cache_clear().is_err());

    store.fail(false);
    resilient::cache_clear();
    assert_eq!(resilient::cache_info().backend_errors, 0);
    assert_eq!(resilient(2), 8);
    assert_eq!(resilient(2), 8);
    assert_eq!(
        FAILING_CALLS.load(Ordering::SeqCst),
        3,
        "no recovery after the outage"
    );
    let info = resilient::cache_info();
    assert_eq!(
        (info.hits, info.backend_errors, info.current_size),
        (1, 0, 1)
    );
}

// ---- fail-closed -----------------------------------------------------------------------

static CLOSED_STORE: LazyLock<Arc<TestStore>> = LazyLock::new(TestStore::new);
static CLOSED_CALLS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug)]
enum LoadError {
    Backend(String),
    Body,
}

impl From<BackendError> for LoadError {
    fn from(error: BackendError) -> Self {
        Self::Backend(error.to_string())
    }
}

#[ttl_cache(backend = CLOSED_STORE.clone(), fail_closed)]
fn guarded(x: u64) -> Result<u64, LoadError> {
    CLOSED_CALLS.fetch_add(1, Ordering::SeqCst);
    if x == 0 {
        Err(LoadError::Body)
    } else {
        Ok(x + 1)
    }
}

#[ttl_cache(backend = CLOSED_STORE.clone(), fail_closed)]
async fn guarded_async(x: u64) -> Result<u64, LoadError> {
    CLOSED_CALLS.fetch_add(1, Ordering::SeqCst);
    Ok(x + 2)
}

/// `fail_closed`: while the backend cannot be read, calls return the backend
/// error converted into the function's error type and the body never runs;
/// once it is back, the function caches as usual.
#[test]
fn fail_closed_returns_backend_errors_without_running_the_body() {
    let store = &*CLOSED_STORE;
    assert!(guarded::cache_parameters().fail_closed);
    assert!(!resilient::cache_parameters().fail_closed);
    store.fail(true);
    match guarded(1) {
        Err(LoadError::Backend(message)) => assert!(message.contains("switched off"), "{message}"),
        other => panic!("expected the backend error, got {other:?}"),
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert!(matches!(
        runtime.block_on(guarded_async(1)),
        Err(LoadError::Backend(_))
    ));
    assert_eq!(CLOSED_CALLS.load(Ordering::SeqCst), 0, "the body ran");
    assert_eq!(store.sets(), 0);
    let info = guarded::cache().cache_info();
    assert!(info.backend_errors >= 1, "{info:?}");
    assert_eq!((info.hits, info.computations), (0, 0));

    store.fail(false);
    assert_eq!(guarded(1).unwrap(), 2);
    assert_eq!(guarded(1).unwrap(), 2);
    assert!(matches!(guarded(0), Err(LoadError::Body)));
    assert_eq!(runtime.block_on(guarded_async(1)).unwrap(), 3);
    assert_eq!(runtime.block_on(guarded_async(1)).unwrap(), 3);
    assert_eq!(CLOSED_CALLS.load(Ordering::SeqCst), 3);
    assert_eq!(guarded::cache_info().hits, 1);
}

// ---- clear and size ------------------------------------------------------------------

static CLEAR_STORE: LazyLock<Arc<TestStore>> = LazyLock::new(TestStore::new);
static CLEAR_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(backend = CLEAR_STORE.clone())]
fn clear_me(x: u64) -> u64 {
    CLEAR_CALLS.fetch_add(1, Ordering::SeqCst);
    x
}

#[ttl_cache(backend = CLEAR_STORE.clone())]
fn keep_me(x: u64) -> u64 {
    x
}

/// `cache_clear` must ask the store to clear exactly this function's namespace
/// (and reset the counters), leaving other functions' entries alone.
#[test]
fn cache_clear_clears_the_backend_namespace() {
    let store = &*CLEAR_STORE;
    clear_me(1);
    clear_me(2);
    clear_me(2);
    keep_me(1);
    clear_me::cache_clear();
    assert_eq!(
        *store.cleared.lock().unwrap(),
        ["ttl_cache_storage::clear_me"]
    );
    assert!(store.entries_of("ttl_cache_storage::clear_me").is_empty());
    assert_eq!(store.entries_of("ttl_cache_storage::keep_me").len(), 1);
    let info = clear_me::cache_info();
    assert_eq!(
        (info.hits, info.misses, info.computations, info.current_size),
        (0, 0, 0, 0)
    );
    clear_me(2);
    assert_eq!(
        CLEAR_CALLS.load(Ordering::SeqCst),
        3,
        "no recompute after clear"
    );
}

static CLEAR_FLIGHT_STORE: LazyLock<Arc<TestStore>> = LazyLock::new(TestStore::new);
static CLEAR_FLIGHT_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(backend = CLEAR_FLIGHT_STORE.clone())]
fn clear_me_flighted(x: u64) -> u64 {
    CLEAR_FLIGHT_CALLS.fetch_add(1, Ordering::SeqCst);
    x
}

/// With single-flight on (the default), a call right after `cache_clear` must
/// still recompute: a cleared result must never be served.
#[test]
fn storage_cache_clear_forces_recompute_with_single_flight() {
    assert_eq!(clear_me_flighted(1), 1);
    clear_me_flighted::cache_clear();
    assert!(
        CLEAR_FLIGHT_STORE
            .entries_of("ttl_cache_storage::clear_me_flighted")
            .is_empty()
    );
    assert_eq!(clear_me_flighted(1), 1);
    assert_eq!(
        CLEAR_FLIGHT_CALLS.load(Ordering::SeqCst),
        2,
        "a cleared result was served"
    );
    let info = clear_me_flighted::cache_info();
    assert_eq!(
        (info.misses, info.computations, info.current_size),
        (1, 1, 1)
    );
}

static SIZE_STORE: LazyLock<Arc<TestStore>> = LazyLock::new(TestStore::new);

#[ttl_cache(backend = SIZE_STORE.clone())]
fn sized(x: u64) -> u64 {
    x
}

/// For a byte store the size is the store's own count (entries written by other
/// processes included), not a local tally.
#[test]
fn current_size_comes_from_backend_len() {
    let store = &*SIZE_STORE;
    let namespace = "ttl_cache_storage::sized";
    for x in 0..3 {
        sized(x);
    }
    let before = store.len_calls.load(Ordering::SeqCst);
    assert_eq!(sized::cache_info().current_size, 3);
    assert_eq!(store.len_calls.load(Ordering::SeqCst), before + 1);
    // An entry another process wrote.
    store
        .entries()
        .insert((namespace.to_owned(), 0, [7; 32]), b"foreign".to_vec());
    assert_eq!(sized::cache_info().current_size, 4);
}

// ---- parameters ---------------------------------------------------------------------

static PARAMS_STORE: LazyLock<Arc<TestStore>> = LazyLock::new(TestStore::new);

#[ttl_cache(
    backend = PARAMS_STORE.clone(),
    identifier = "ttl_cache_storage params",
    version = 7
)]
fn with_params(x: u64) -> u64 {
    x
}

/// `cache_parameters` must name the store and the default serializer
/// (MessagePack), and the version must reach the store's keys.
#[test]
fn cache_parameters_report_store_name_and_msgpack_by_default() {
    let params = with_params::cache_parameters();
    assert_eq!(params.backend, PARAMS_STORE.name());
    assert_eq!(params.backend, STORE_NAME);
    assert_eq!(params.serializer, "msgpack");
    assert_eq!(params.version, 7);
    with_params(1);
    let ((namespace, version, _), bytes) = PARAMS_STORE.only_entry("ttl_cache_storage params");
    assert_eq!(
        (namespace.as_str(), version),
        ("ttl_cache_storage params", 7)
    );
    assert_eq!(bytes[CODEC_ID_AT], MSGPACK_ID);
}

// ---- R17: namespace versioning ------------------------------------------------------

/// One store for the deployments of one function: its first version and the
/// edits a later build makes, all under the identifier the function keeps.
static VERSIONS_STORE: LazyLock<Arc<TestStore>> = LazyLock::new(TestStore::new);
const VERSIONS_NS: &str = "ttl_cache_storage rate";

#[ttl_cache(backend = VERSIONS_STORE.clone(), identifier = "ttl_cache_storage rate")]
fn rate_v0(x: u64) -> u64 {
    x * 10
}

/// The body's meaning changed, so the author bumped `version`.
#[ttl_cache(
    backend = VERSIONS_STORE.clone(),
    identifier = "ttl_cache_storage rate",
    version = 1
)]
fn rate_v1(x: u64) -> u64 {
    x * 20
}

/// An argument added to the signature.
#[ttl_cache(backend = VERSIONS_STORE.clone(), identifier = "ttl_cache_storage rate")]
fn rate_scaled(x: u64, scale: u64) -> u64 {
    x * scale
}

/// The argument's type changed from a number to text.
#[ttl_cache(backend = VERSIONS_STORE.clone(), identifier = "ttl_cache_storage rate")]
fn rate_named(x: String) -> u64 {
    x.parse::<u64>().unwrap() * 30
}

/// The return type changed (same arguments).
#[ttl_cache(backend = VERSIONS_STORE.clone(), identifier = "ttl_cache_storage rate")]
fn rate_wide(x: u64) -> i128 {
    i128::from(x) * 40
}

/// The store's keys (namespace, version, digest) under the shared identifier.
fn rate_keys() -> std::collections::HashSet<EntryKey> {
    VERSIONS_STORE
        .entries_of(VERSIONS_NS)
        .into_iter()
        .map(|(key, _)| key)
        .collect()
}

/// R17: `version = N` and a changed argument list each give new keys (a miss
/// that leaves the old entry alone, which the old build still hits); a changed
/// return type keeps the key but its schema id refuses the stored value (a
/// counted decode error, recomputed and overwritten), never a misread.
#[test]
fn r17_version_and_signature_changes_give_new_keys() {
    assert_eq!(rate_v0(1), 10);
    let v0 = rate_keys();
    assert_eq!(v0.len(), 1);
    let v0_key = v0.iter().next().unwrap().clone();
    assert_eq!(v0_key.1, 0);

    // version = 1: a new key with version 1 in it, the old entry untouched.
    assert_eq!(rate_v1(1), 20);
    let info = rate_v1::cache_info();
    assert_eq!((info.hits, info.misses, info.computations), (0, 1, 1));
    let after_v1 = rate_keys();
    let v1_key = after_v1.difference(&v0).next().expect("no new key").clone();
    assert_eq!((after_v1.len(), v1_key.1), (2, 1));
    assert_ne!(v1_key.2, v0_key.2, "the digest ignores the version");
    assert_eq!(rate_v0(1), 10, "the old build lost its entry");
    assert_eq!(rate_v0::cache_info().hits, 1);

    // An added argument, an argument of another type: new keys (version 0).
    assert_eq!(rate_scaled(1, 10), 10);
    assert_eq!(rate_named("1".to_owned()), 30);
    for changed in [rate_scaled::cache_info(), rate_named::cache_info()] {
        assert_eq!(
            (changed.hits, changed.misses, changed.decode_errors),
            (0, 1, 0)
        );
    }
    let after_signatures = rate_keys();
    assert_eq!(
        after_signatures.len(),
        4,
        "a changed signature reused a key"
    );
    assert_eq!(after_signatures.iter().filter(|k| k.1 == 0).count(), 3);

    // A changed return type: the same key, refused by the schema id.
    assert_eq!(rate_wide(1), 40);
    let wide = rate_wide::cache_info();
    assert_eq!(
        (
            wide.hits,
            wide.misses,
            wide.computations,
            wide.decode_errors
        ),
        (0, 1, 1, 1)
    );
    assert_eq!(rate_keys(), after_signatures, "overwritten in place");
    assert_eq!(rate_wide(1), 40);
    assert_eq!(rate_wide::cache_info().hits, 1);
    // …and the old build refuses the new type's value the same way.
    assert_eq!(rate_v0(1), 10);
    let old = rate_v0::cache_info();
    assert_eq!((old.hits, old.decode_errors), (1, 1));

    record(
        "R17",
        "ttl_cache_storage::r17_version_and_signature_changes_give_new_keys",
        json!({
            "changes": 4,
            "new_keys": after_signatures.len() - 1,
            "versions_seen": [v0_key.1, v1_key.1],
            "old_entry_hits_after_bump": 1,
            "return_type_change_decode_errors": wide.decode_errors,
        }),
    );
}

// ---- single-flight -------------------------------------------------------------------

const CALLERS: usize = 8;

/// Sync callers, observed through the kernel's view of their threads (Linux).
#[cfg(target_os = "linux")]
mod sync_flight {
    use std::sync::Barrier;
    use std::thread;

    use super::*;

    static FLIGHT_STORE: LazyLock<Arc<TestStore>> = LazyLock::new(TestStore::new);
    static FLIGHT_GATE: LazyLock<Gate> = LazyLock::new(Gate::new);
    static FLIGHT_CALLS: AtomicUsize = AtomicUsize::new(0);
    static FLIGHT_LEADER: Mutex<Option<String>> = Mutex::new(None);

    #[ttl_cache(backend = FLIGHT_STORE.clone())]
    fn flown(x: u64) -> u64 {
        FLIGHT_CALLS.fetch_add(1, Ordering::SeqCst);
        *FLIGHT_LEADER.lock().unwrap() = Some(task_id());
        FLIGHT_GATE.wait();
        x + 1
    }

    /// The kernel's id of the calling thread.
    fn task_id() -> String {
        let link = std::fs::read_link("/proc/thread-self").expect("Linux /proc");
        link.file_name().unwrap().to_string_lossy().into_owned()
    }

    /// Whether thread `tid` of this process is blocked (sleeping), per the kernel.
    fn is_blocked(tid: &str) -> bool {
        let stat =
            std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap_or_default();
        // The state follows the parenthesized command name, which may contain spaces.
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('S'))
    }

    /// Concurrent sync misses on one cold key must run the body once with a byte
    /// store too (single-flight happens in the process, before the store).
    ///
    /// Waiters on a storage flight leave no trace in the counters until it ends,
    /// so the gate opens once the kernel reports every other caller blocked: on
    /// the flight when single-flight works, inside the body when it does not.
    #[test]
    fn storage_concurrent_callers_on_one_cold_key_compute_once() {
        let barrier = Barrier::new(CALLERS);
        let callers_tids = Mutex::new(Vec::new());
        let values: Vec<u64> = thread::scope(|s| {
            let callers: Vec<_> = (0..CALLERS)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        callers_tids.lock().unwrap().push(task_id());
                        flown(41)
                    })
                })
                .collect();
            let all_blocked = wait_until(|| {
                let leader = FLIGHT_LEADER.lock().unwrap().clone();
                let tids = callers_tids.lock().unwrap();
                leader.is_some_and(|leader| {
                    tids.len() == CALLERS
                        && tids.iter().filter(|t| **t != leader).all(|t| is_blocked(t))
                })
            });
            FLIGHT_GATE.open();
            assert!(all_blocked, "the callers did not all block");
            callers.into_iter().map(|c| c.join().unwrap()).collect()
        });
        assert_eq!(values, vec![42; CALLERS]);
        assert_eq!(
            FLIGHT_CALLS.load(Ordering::SeqCst),
            1,
            "the body ran more than once"
        );
        let info = flown::cache_info();
        assert_eq!(info.computations, 1);
        assert_eq!(info.hits + info.misses, CALLERS as u64);
        assert_eq!(FLIGHT_STORE.sets(), 1);
    }
}

static ASYNC_FLIGHT_STORE: LazyLock<Arc<TestStore>> = LazyLock::new(TestStore::new);
/// An async gate: closed (no permits) until the test adds one, which every
/// passer hands back, so once open it stays open.
static ASYNC_FLIGHT_GATE: Semaphore = Semaphore::const_new(0);
static ASYNC_FLIGHT_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(backend = ASYNC_FLIGHT_STORE.clone())]
async fn flown_async(x: u64) -> u64 {
    ASYNC_FLIGHT_CALLS.fetch_add(1, Ordering::SeqCst);
    drop(ASYNC_FLIGHT_GATE.acquire().await.unwrap());
    x + 1
}

/// Concurrent async misses on one cold key must poll one body with a byte store:
/// the waiters wait on the flight, never even reading the store.
///
/// On a current-thread runtime with paused time, the test's `sleep` ends only
/// when every task is blocked, which makes "all tasks are waiting" exact.
#[tokio::test(start_paused = true)]
async fn async_storage_concurrent_callers_on_one_cold_key_compute_once() {
    let tasks: Vec<_> = (0..CALLERS).map(|_| tokio::spawn(flown_async(9))).collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        ASYNC_FLIGHT_CALLS.load(Ordering::SeqCst),
        1,
        "bodies ran concurrently"
    );
    assert_eq!(ASYNC_FLIGHT_STORE.gets(), 1, "waiters read the store");
    ASYNC_FLIGHT_GATE.add_permits(1);
    let values = join_within_deadline(tasks).await;
    assert_eq!(values, vec![10; CALLERS]);
    let info = flown_async::cache_info();
    assert_eq!(info.computations, 1);
    assert_eq!((info.misses, info.hits), (CALLERS as u64, 0));
    assert_eq!(ASYNC_FLIGHT_STORE.sets(), 1);
}

/// A cached `async fn`'s future holds its arguments and the boxed miss only:
/// the miss's future (the backend's calls, single-flight) is boxed when a call
/// misses, so a hit never creates or moves it, and a hit's value is returned
/// from the function's own poll, so the future holds no slot for it either.
/// Unboxed, `stored_label`'s future was 4,984 bytes; with the hit awaited as a
/// ready future, 48; now 32 (the argument, the box, the state).
#[test]
fn an_async_fn_future_is_the_size_of_its_hit_not_its_miss() {
    let storage = std::mem::size_of_val(&stored_label(1));
    let memory = std::mem::size_of_val(&memory_label(1));
    assert!(
        storage <= 40,
        "a storage-backed async fn's future is {storage} bytes"
    );
    assert!(
        memory <= 40,
        "an in-memory async fn's future is {memory} bytes"
    );
}

#[ttl_cache]
async fn memory_label(x: u64) -> String {
    tokio::task::yield_now().await;
    format!("memory-{x}")
}
