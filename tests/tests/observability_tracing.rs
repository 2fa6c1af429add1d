//! The `tracing` feature: which events and spans a miss, a computation and a
//! backend failure produce, with which fields, and that no argument, key or
//! value reaches any field. A capturing layer records everything.
//!
//! Run with `--features tracing` (or `observability`).
#![cfg(feature = "tracing")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod observability_support;

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex};

use cache_core::codec::{Codec, Json, schema_id_of};
use cache_core::{Cache, ttl_cache};
use observability_support::{Failing, ObsStore, STORE_NAME, short_hex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

// ---- the capturing layer ----------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Event,
    Span,
}

/// One event or span as a subscriber saw it.
#[derive(Clone, Debug)]
struct Record {
    kind: Kind,
    level: Level,
    /// The span's name, or the event's message.
    name: String,
    fields: BTreeMap<String, String>,
    /// For an event: the name of the span it happened in.
    parent: Option<String>,
}

impl Record {
    fn field(&self, name: &str) -> &str {
        self.fields
            .get(name)
            .unwrap_or_else(|| panic!("no field {name} in {self:?}"))
    }

    /// Whether any field (the message included) contains `text`.
    fn mentions(&self, text: &str) -> bool {
        self.name.contains(text) || self.fields.values().any(|v| v.contains(text))
    }
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

struct Capture(Arc<Mutex<Vec<Record>>>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        self.0.lock().unwrap().push(Record {
            kind: Kind::Span,
            level: *attrs.metadata().level(),
            name: attrs.metadata().name().to_owned(),
            fields: fields.0,
            parent: None,
        });
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let name = fields.0.remove("message").unwrap_or_default();
        self.0.lock().unwrap().push(Record {
            kind: Kind::Event,
            level: *event.metadata().level(),
            name,
            fields: fields.0,
            parent: ctx.event_span(event).map(|span| span.name().to_owned()),
        });
    }
}

/// Runs `f` with the capturing subscriber as this thread's default; returns
/// its result and everything recorded.
fn capture<T>(f: impl FnOnce() -> T) -> (T, Vec<Record>) {
    let records = Arc::new(Mutex::new(Vec::new()));
    let subscriber = tracing_subscriber::registry().with(Capture(Arc::clone(&records)));
    let out = tracing::subscriber::with_default(subscriber, f);
    let records = records.lock().unwrap().clone();
    (out, records)
}

fn named<'a>(records: &'a [Record], name: &str) -> Vec<&'a Record> {
    records.iter().filter(|r| r.name == name).collect()
}

fn assert_hex16(key: &str) {
    assert_eq!(key.len(), 16, "key digest {key:?}");
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()), "{key:?}");
}

fn assert_never_mentions(records: &[Record], texts: &[&str]) {
    for record in records {
        for text in texts {
            assert!(!record.mentions(text), "{text:?} leaked into {record:?}");
        }
    }
}

// ---- in memory --------------------------------------------------------------------

const SECRET_ARGUMENT: &str = "hunter2-secret-argument";

#[ttl_cache(ttl = 60)]
fn greeting(secret: &str) -> String {
    tracing::info!("inside the body");
    format!("payload for {secret}")
}

/// A miss is a `cache miss` event and the body runs inside a `cache_compute`
/// span, both naming the function and a key digest only; a hit records
/// nothing; the argument and the value appear in no field.
#[test]
fn memory_miss_and_computation_carry_the_identity_and_a_digest_only() {
    let identity = greeting::cache_parameters().identifier;
    let (_, records) = capture(|| {
        greeting(SECRET_ARGUMENT);
        greeting(SECRET_ARGUMENT);
    });
    let misses = named(&records, "cache miss");
    assert_eq!(misses.len(), 1, "{records:#?}");
    let miss = misses[0];
    assert_eq!((miss.kind.clone(), miss.level), (Kind::Event, Level::DEBUG));
    assert_eq!(miss.field("cache"), identity);
    assert_hex16(miss.field("key"));
    assert_eq!(miss.fields.len(), 2, "only cache and key: {miss:?}");

    let spans = named(&records, "cache_compute");
    assert_eq!(spans.len(), 1, "{records:#?}");
    let span = spans[0];
    assert_eq!((span.kind.clone(), span.level), (Kind::Span, Level::DEBUG));
    assert_eq!(span.field("cache"), identity);
    assert_eq!(span.field("key"), miss.field("key"));
    assert_eq!(span.fields.len(), 2, "only cache and key: {span:?}");

    // The body's own event happens inside the computation's span.
    let inside = named(&records, "inside the body");
    assert_eq!(inside.len(), 1);
    assert_eq!(inside[0].parent.as_deref(), Some("cache_compute"));

    assert_eq!(records.len(), 3, "the hit recorded something: {records:#?}");
    assert_never_mentions(&records, &[SECRET_ARGUMENT, "hunter2", "payload for"]);
}

#[ttl_cache(ttl = 60)]
fn keyed(x: u64) -> u64 {
    x
}

/// The digest names the key: the same arguments give the same digest, other
/// arguments another.
#[test]
fn memory_key_digest_is_stable_per_key_and_differs_between_keys() {
    let (_, records) = capture(|| {
        keyed(1);
        keyed::cache_clear();
        keyed(1);
        keyed(2);
    });
    let keys: Vec<&str> = named(&records, "cache miss")
        .iter()
        .map(|r| r.field("key"))
        .collect();
    assert_eq!(keys.len(), 3);
    assert_eq!(keys[0], keys[1]);
    assert_ne!(keys[0], keys[2]);
}

#[ttl_cache(ttl = 60)]
async fn async_greeting(secret: String) -> String {
    tracing::info!("inside the async body");
    format!("payload for {secret}")
}

/// The async body is instrumented: its events belong to `cache_compute`.
#[test]
fn async_computation_runs_inside_its_span() {
    let identity = async_greeting::cache_parameters().identifier;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (_, records) = capture(|| {
        runtime.block_on(async {
            async_greeting(SECRET_ARGUMENT.to_owned()).await;
            async_greeting(SECRET_ARGUMENT.to_owned()).await;
        })
    });
    assert_eq!(named(&records, "cache miss").len(), 1, "{records:#?}");
    let span = named(&records, "cache_compute");
    assert_eq!(span.len(), 1);
    assert_eq!(span[0].field("cache"), identity);
    let inside = named(&records, "inside the async body");
    assert_eq!(inside[0].parent.as_deref(), Some("cache_compute"));
    assert_eq!(records.len(), 3, "{records:#?}");
    assert_never_mentions(&records, &[SECRET_ARGUMENT, "payload for"]);
}

/// A named `Cache`'s load path is traced under its name; an unnamed cache
/// and a plain `get` miss (no computation follows) record nothing.
#[test]
fn cache_load_path_is_traced_for_named_caches_only() {
    let named_cache: Cache<String, String> = Cache::builder().name("obs-traced").build();
    let unnamed: Cache<String, String> = Cache::new();
    let (_, records) = capture(|| {
        named_cache.get_or_insert_with(SECRET_ARGUMENT.to_owned(), || "payload".into());
        named_cache.get_or_insert_with(SECRET_ARGUMENT.to_owned(), || "payload".into());
        named_cache.get("absent");
        unnamed.get_or_insert_with(SECRET_ARGUMENT.to_owned(), || "payload".into());
    });
    assert_eq!(records.len(), 2, "{records:#?}");
    let miss = named(&records, "cache miss")[0];
    let span = named(&records, "cache_compute")[0];
    assert_eq!(miss.field("cache"), "obs-traced");
    assert_eq!(span.field("cache"), "obs-traced");
    assert_eq!(miss.field("key"), span.field("key"));
    assert_never_mentions(&records, &[SECRET_ARGUMENT, "payload"]);
}

// ---- storage backends -----------------------------------------------------------

static FAILING_STORE: LazyLock<Arc<ObsStore>> = LazyLock::new(ObsStore::new);

#[ttl_cache(ttl = 60, backend = FAILING_STORE.clone())]
fn stored_greeting(secret: String) -> String {
    format!("payload for {secret}")
}

/// A failed read and a failed write are `WARN` events naming the function,
/// the stored key's digest, the backend, the operation and its error; the
/// call still returns the body's value (fail-open).
#[test]
fn storage_failures_are_warnings_naming_the_operation() {
    let identity = stored_greeting::cache_parameters().identifier;
    FAILING_STORE.fail(Failing::Failed);
    let (value, records) = capture(|| stored_greeting(SECRET_ARGUMENT.to_owned()));
    assert_eq!(value, format!("payload for {SECRET_ARGUMENT}"));
    let errors = named(&records, "cache backend error");
    assert_eq!(errors.len(), 2, "{records:#?}");
    let digest = short_hex(&FAILING_STORE.last_get());
    for (error, operation) in errors.iter().zip(["get", "set"]) {
        assert_eq!(error.level, Level::WARN);
        assert_eq!(error.field("cache"), identity);
        assert_eq!(error.field("key"), digest, "the stored key's digest");
        assert_eq!(error.field("backend"), STORE_NAME);
        assert_eq!(error.field("operation"), operation);
        assert!(error.field("error").contains("switched off by the test"));
    }
    // The miss and the computation carry the stored key's digest too.
    assert_eq!(named(&records, "cache miss")[0].field("key"), digest);
    assert_eq!(named(&records, "cache_compute")[0].field("key"), digest);
    assert_never_mentions(&records, &[SECRET_ARGUMENT, "payload for"]);
}

static REFUSING_STORE: LazyLock<Arc<ObsStore>> = LazyLock::new(ObsStore::new);

#[ttl_cache(ttl = 60, backend = REFUSING_STORE.clone())]
fn refused_greeting(x: u64) -> u64 {
    x
}

/// A call the backend refused without trying (an open breaker, a closed
/// file) is a `DEBUG` event: the backend reports the cause once, and an
/// outage must not log a warning per call.
#[test]
fn calls_refused_without_trying_are_debug_events() {
    REFUSING_STORE.fail(Failing::Unavailable);
    let (_, records) = capture(|| refused_greeting(1));
    let errors = named(&records, "cache backend error");
    assert_eq!(errors.len(), 2, "{records:#?}");
    assert!(
        errors.iter().all(|e| e.level == Level::DEBUG),
        "{errors:#?}"
    );
}

static CORRUPT_STORE: LazyLock<Arc<ObsStore>> = LazyLock::new(ObsStore::new);

// JSON: serde_json's errors quote the value they met.
#[ttl_cache(ttl = 60, backend = CORRUPT_STORE.clone(), serializer = Json)]
fn stored_number(x: u64) -> u64 {
    x + 1
}

/// A stored value that does not decode is a `WARN` event with a fixed
/// reason: the decoder's own message quotes the stored bytes, and must not
/// reach the event.
#[test]
fn undecodable_values_are_warnings_with_a_fixed_reason_not_the_payload() {
    let identity = stored_number::cache_parameters().identifier;
    stored_number(1);
    // A well-formed envelope of the right schema whose payload is a string,
    // not the function's u64.
    let codec = Codec::new(Json, schema_id_of::<u64>());
    let bytes = codec.encode_value(&"secret-payload-text").unwrap();
    let decoder_message = codec.decode_value::<u64>(&bytes).unwrap_err().to_string();
    assert!(
        decoder_message.contains("secret-payload-text"),
        "the decoder quotes the payload: {decoder_message}"
    );
    CORRUPT_STORE.overwrite(&identity, &bytes);

    let (value, records) = capture(|| stored_number(1));
    assert_eq!(value, 2);
    let decode = named(&records, "cache decode error");
    assert_eq!(decode.len(), 1, "{records:#?}");
    let decode = decode[0];
    assert_eq!(decode.level, Level::WARN);
    assert_eq!(decode.field("cache"), identity);
    assert_eq!(
        decode.field("key"),
        short_hex(&CORRUPT_STORE.digests(&identity)[0])
    );
    assert_eq!(decode.field("backend"), STORE_NAME);
    assert_eq!(
        decode.field("reason"),
        "the stored value does not decode as the expected type"
    );
    assert_never_mentions(&records, &["secret-payload-text"]);

    // Random bytes: another fixed reason.
    CORRUPT_STORE.overwrite(&identity, b"secret-payload-text, not an envelope");
    let (_, records) = capture(|| stored_number(1));
    assert_eq!(
        named(&records, "cache decode error")[0].field("reason"),
        "not a valid envelope: corrupt, truncated or foreign entry"
    );
    assert_never_mentions(&records, &["secret-payload-text"]);
}

// ---- cache-disk -----------------------------------------------------------------

/// `DiskCache`'s misses and computations are traced like the runtime's, under
/// its namespace and the stored key's digest; opening a new file says so.
#[test]
fn disk_cache_traces_misses_computations_and_the_open() {
    let dir = std::env::temp_dir().join(format!("obs-tracing-disk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (disk, opened) = capture(|| cache_disk::DiskBackend::open(dir.join("obs.cache")).unwrap());
    let created = named(&opened, "disk cache file created");
    assert_eq!(created.len(), 1, "{opened:#?}");
    assert!(created[0].field("path").ends_with("obs.cache"));

    let cache: cache_disk::DiskCache<str, String> = cache_disk::DiskCache::new(&disk, "obs-disk");
    let (_, records) = capture(|| {
        cache.get_or_insert_with(SECRET_ARGUMENT, || "payload".into());
        cache.get_or_insert_with(SECRET_ARGUMENT, || "payload".into());
    });
    assert_eq!(records.len(), 2, "{records:#?}");
    let digest = cache.digest(SECRET_ARGUMENT).to_hex();
    for record in [
        named(&records, "cache miss")[0],
        named(&records, "cache_compute")[0],
    ] {
        assert_eq!(record.field("cache"), "obs-disk");
        assert_eq!(record.field("key"), &digest[..16]);
    }
    assert_never_mentions(&records, &[SECRET_ARGUMENT, "payload"]);
    drop((cache, disk));
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- cache-redis ----------------------------------------------------------------

/// The Redis backend reports its circuit breaker: a `WARN` when it opens
/// (after the failure that crossed the threshold) and an `INFO` when a probe
/// succeeds and it closes.
#[test]
fn redis_breaker_opening_and_closing_are_reported() {
    let Some(server) = cache_tests::redis_server::RedisServer::start() else {
        return;
    };
    let backend = cache_redis::RedisBackend::builder(server.url())
        .prefix("obs-breaker")
        .op_timeout(std::time::Duration::from_millis(100))
        .breaker_threshold(1)
        .breaker_cooldown(std::time::Duration::ZERO)
        .build()
        .unwrap();
    let key = cache_core::StorageKey {
        namespace: "obs",
        version: 0,
        digest: cache_core::Digest([7; 32]),
    };
    use cache_core::StorageBackend;
    assert!(backend.get(&key).is_ok(), "the server answers");
    let (_, records) = capture(|| {
        {
            let _paused = server.pause();
            assert!(backend.get(&key).is_err(), "a stopped server times out");
        }
        // Cooldown zero: the next call is the half-open probe.
        assert!(backend.get(&key).is_ok(), "the resumed server answers");
    });
    let opened = named(
        &records,
        "redis circuit breaker open: calls are refused (each a miss) until a probe succeeds",
    );
    assert_eq!(opened.len(), 1, "{records:#?}");
    assert_eq!(opened[0].level, Level::WARN);
    assert_eq!(opened[0].field("prefix"), "obs-breaker");
    assert_eq!(opened[0].field("backend"), "redis");
    let closed = named(
        &records,
        "redis circuit breaker closed: calls reach the server again",
    );
    assert_eq!(closed.len(), 1, "{records:#?}");
    assert_eq!(closed[0].level, Level::INFO);
    assert_eq!(backend.breaker_opens(), 1);
}
