//! Procedural macros for `cache-core`. Use them through `ttl-cache` (the
//! facade crate) or `cache-core`, which re-export them. Generated code names
//! only `<runtime>::…` paths, where `<runtime>` is `::ttl_cache` when the
//! calling crate depends on `ttl-cache`, else `::cache_core` (each under the
//! name the caller's `Cargo.toml` gives it), or the `crate = "path"` option.
#![deny(missing_docs)]

use proc_macro::TokenStream;

mod ctxt;
mod derive;
mod runtime;
mod ttl_cache;

/// Derives `PersistentHash` for a struct or an enum.
///
/// Fields marked `#[persistent_hash(skip)]` do not take part in the encoding.
/// See `cache_core::PersistentHash` for the encoding rules.
#[proc_macro_derive(PersistentHash, attributes(persistent_hash))]
pub fn derive_persistent_hash(input: TokenStream) -> TokenStream {
    derive::expand(syn::parse_macro_input!(input as syn::DeriveInput)).into()
}

/// Caches a function's results for a time-to-live.
///
/// Put `#[ttl_cache]` on a function, an `async fn`, a method or an associated
/// function. The signature stays as written and the body runs only on a miss. Its
/// result is kept for `ttl` (60 seconds by default), in a bounded in-memory cache
/// (10,000 entries by default) or in a storage backend (Redis, a file) that
/// `backend = …` names. Use the macro through `ttl_cache` (the facade crate) or
/// `cache_core`, which re-export it.
///
/// ```rust
/// use cache_core::ttl_cache;
///
/// #[ttl_cache(ttl = 30, max_entries = 1_000)]
/// fn price(symbol: &str, day: u32) -> f64 {
///     // Something slow: a database, a remote service...
///     symbol.len() as f64 * 10.0 + f64::from(day)
/// }
///
/// assert_eq!(price("ACME", 3), 43.0); // a miss: the body runs
/// assert_eq!(price("ACME", 3), 43.0); // a hit: a clone of the stored value
/// let info = price::cache_info();
/// assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
///
/// let parameters = price::cache_parameters();
/// assert_eq!(parameters.ttl, Some(std::time::Duration::from_secs(30)));
/// assert_eq!(parameters.max_entries, 1_000);
///
/// price::cache_clear(); // removes every result and resets the counters
/// assert_eq!(price::cache_info().current_size, 0);
/// ```
///
/// Every cached function works like this:
///
/// - **Keys.** The key is the arguments' `PersistentHash` encoding. Arguments are
///   read by reference and never cloned. Each argument's type must implement
///   `PersistentHash`: `&str`, `String`, integers, floats, `bool`, tuples, `Vec`,
///   `Option`, maps, …, and your own types with `#[derive(PersistentHash)]`.
///   Integers key by value whatever their width (`3u8` and `3u64` are one key)
///   unless `typed` is given. Leave arguments out of the key with `skip(..)`, or
///   replace the key with `key = …`.
/// - **Values.** A hit returns a clone of the stored value, so the stored type must
///   be `Clone + Send + Sync + 'static`. Wrap large values in an `Arc`.
/// - **Single-flight.** When several callers miss on the same key at once, the
///   body runs once and the others wait for its result. Other keys never wait, and
///   no lock is held while the body runs.
/// - **Errors and panics are never cached.** An `Err` is returned and not
///   stored. A panic reaches only the caller whose body panicked, nothing is
///   stored, and the next call runs the body again.
/// - **Recursion works.** A memoized `fib` calls itself through its own cache. A
///   call that recurses into its own key runs without dedup, so it cannot
///   deadlock.
/// - **Bodies.** The body is moved into a closure, or into an `async move` block
///   for an `async fn`. `return` and `?` inside it work as usual.
///
/// # Call forms
///
/// | written on | the cache handle |
/// |---|---|
/// | a free `fn name` or `async fn name` | `name::cache()`, `name::cache_info()`, `name::cache_clear()`, `name::cache_parameters()` |
/// | a method (`&self`, `self`) | `Type::name_cache()` |
/// | an associated fn (no receiver) | `Type::name_cache()`. Add `associated` if neither its signature nor its body mentions `Self` |
///
/// For a free function, the macro emits a braced `struct name {}` beside the
/// function. The struct lives in the type namespace, so `name(..)` still calls the
/// function and `name::cache_info()` reaches the cache. An attribute on a method can
/// emit only impl items, so methods and associated functions get an associated
/// `name_cache()` instead. Both forms give a `&'static cache_core::CachedFn`. It has
/// `cache_info()`, `cache_clear()`, `try_cache_clear()` (which returns a storage
/// backend's error) and `cache_parameters()`.
///
/// A method's receiver is part of the key: two values with the same
/// `PersistentHash` encoding share results, and different ones do not. The
/// receiver's type must implement `PersistentHash` unless `skip(self)` is given.
/// `&mut self` can only be skipped.
///
/// ```rust
/// use cache_core::{PersistentHash, ttl_cache};
///
/// #[derive(PersistentHash, Clone)]
/// struct Portfolio {
///     owner: String,
///     shares: Vec<(String, u64)>,
/// }
///
/// impl Portfolio {
///     /// A method: `self` is part of the key.
///     #[ttl_cache(ttl = 30)]
///     fn value(&self, price_per_share: u64) -> u64 {
///         self.shares.iter().map(|(_, n)| n * price_per_share).sum()
///     }
///
///     /// An associated fn that mentions `Self` is recognised without `associated`.
///     #[ttl_cache]
///     fn named(owner: &str) -> Self {
///         Self { owner: owner.to_owned(), shares: vec![("ACME".into(), 10)] }
///     }
/// }
///
/// let alice = Portfolio::named("alice");
/// let bob = Portfolio { owner: "bob".into(), shares: vec![("ACME".into(), 1)] };
/// assert_eq!(alice.value(5), 50);
/// assert_eq!(alice.value(5), 50); // a hit: same receiver, same argument
/// assert_eq!(bob.value(5), 5); // a miss: another receiver
/// let info = Portfolio::value_cache().cache_info();
/// assert_eq!((info.hits, info.misses), (1, 2));
/// assert_eq!(Portfolio::named_cache().cache_info().misses, 1);
/// ```
///
/// An `async fn` is cached the same way. The lookup happens before the body's
/// future is first polled, so a hit never polls it. Waiting for another caller's
/// computation does not block the executor.
///
/// ```rust
/// use cache_core::ttl_cache;
///
/// #[ttl_cache(ttl = 30)]
/// async fn fetch(url: &str) -> Result<String, String> {
///     // An HTTP call, say.
///     if url.starts_with("https://") {
///         Ok(format!("<body of {url}>"))
///     } else {
///         Err(format!("refusing {url}"))
///     }
/// }
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// runtime.block_on(async {
///     assert!(fetch("https://example.org").await.is_ok());
///     assert!(fetch("https://example.org").await.is_ok()); // a hit
///     assert!(fetch("http://example.org").await.is_err()); // not stored
///     let info = fetch::cache_info();
///     assert_eq!((info.hits, info.current_size), (1, 1));
/// });
/// ```
///
/// # Return types
///
/// The return type decides what is stored. The macro reads the last segment of
/// its path:
///
/// - **`Result<T, E>`**, and any path ending in `Result`, such as `io::Result<T>`:
///   only `Ok` values are stored. `T` must be `Clone + Send + Sync + 'static`, and
///   `E` has no bounds. Errors go back to the caller and the next call runs the
///   body again.
/// - **`Option<T>`**: `Some` and `None` are both stored. With `cache_none = false`
///   only `Some` is stored.
/// - **Anything else**: stored as it is.
///
/// An alias is not recognised: `type Answer = Result<u32, String>` is stored
/// whole, errors included. Give `result` or `option` for an alias. The return type
/// must be owned: a function with no return type, returning `impl Trait`, or
/// returning a borrow (any reference or lifetime other than `'static`) is a compile
/// error.
///
/// ```rust
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use cache_core::ttl_cache;
///
/// static RUNS: AtomicU32 = AtomicU32::new(0);
///
/// #[ttl_cache]
/// fn parse_port(text: &str) -> Result<u16, std::num::ParseIntError> {
///     RUNS.fetch_add(1, Ordering::Relaxed);
///     text.parse()
/// }
///
/// assert!(parse_port("http").is_err());
/// assert!(parse_port("http").is_err()); // errors are not stored: the body runs again
/// assert_eq!(parse_port("8080"), Ok(8080));
/// assert_eq!(parse_port("8080"), Ok(8080)); // a hit
/// assert_eq!(RUNS.load(Ordering::Relaxed), 3);
/// assert_eq!(parse_port::cache_info().current_size, 1);
/// ```
///
/// # Options
///
/// Options are written `#[ttl_cache(name = value, flag, ...)]`, in any order. Each
/// can be given only once. A flag on its own means `true`, and `flag = false` is
/// accepted too.
///
/// | option | default | what it does |
/// |---|---|---|
/// | `ttl = 30` / `1.5` / `expr` / `None` | 60 s (`DEFAULT_TTL`) | how long a result lives. `None` means it never expires |
/// | `max_entries = N` | 10,000 (`DEFAULT_MAX_ENTRIES`) | the bound of the in-memory cache |
/// | `identifier = "name"` | `module_path::function` | the cache's identity. Functions that name the same one share a cache |
/// | `version = N` | `0` | part of every stored key. Bump it to invalidate stored results |
/// | `typed` | off | argument types take part in the key |
/// | `skip(arg, self)` | none | leaves arguments out of the key |
/// | `key = expr` | the arguments | keys on `expr`'s `PersistentHash` instead |
/// | `backend = expr` | the process-wide `MemoryBackend` | where results live: anything `IntoBackend` |
/// | `serializer = Path` | `MessagePack` | how values are serialized for a storage backend |
/// | `single_flight = false` / `fleet` | `true` | whether concurrent misses on one key run the body once; `fleet`: across processes too (storage backends with leases, e.g. Redis) |
/// | `cache_none = false` | `true` | whether `None` results are stored |
/// | `fail_closed` | off (fail-open) | a storage backend's read error is returned as `Err` instead of being a miss |
/// | `result` / `option` | off | the return type is an alias of `Result` / `Option` |
/// | `associated` | off | an associated fn that never mentions `Self` |
/// | `crate = "path"` | `::ttl_cache` if the crate depends on `ttl-cache`, else `::cache_core` | where the runtime crate is |
///
/// ## `ttl`
///
/// How long each result lives. An integer or float literal is a number of seconds,
/// checked at compile time. Any other expression must produce an `IntoTtl`
/// (`Duration`, `Option<Duration>`, `u64` or `u32` seconds). `None` means results
/// never expire, though they are still bounded by `max_entries`. An expression is
/// evaluated once, on the first use of the cache, in a closure that captures
/// nothing. It can name constants, statics and functions, but not the arguments.
/// Expiry is judged by a clock that a background thread refreshes every
/// millisecond, and an entry's expiry is computed from that same clock, so an
/// entry lives for its TTL to within about one millisecond either way. To test
/// expiry, see [`backend`](#backend).
///
/// ```rust
/// use std::time::Duration;
/// use cache_core::ttl_cache;
///
/// const TTL_SECS: u64 = 600;
///
/// #[ttl_cache(ttl = 30)]
/// fn seconds(x: u32) -> u32 { x }
///
/// #[ttl_cache(ttl = 1.5)]
/// fn fractional(x: u32) -> u32 { x }
///
/// #[ttl_cache(ttl = Duration::from_millis(250))]
/// fn duration(x: u32) -> u32 { x }
///
/// #[ttl_cache(ttl = TTL_SECS)]
/// fn constant(x: u32) -> u32 { x }
///
/// #[ttl_cache(ttl = None)]
/// fn forever(x: u32) -> u32 { x }
///
/// #[ttl_cache]
/// fn default(x: u32) -> u32 { x }
///
/// assert_eq!(seconds::cache_parameters().ttl, Some(Duration::from_secs(30)));
/// assert_eq!(fractional::cache_parameters().ttl, Some(Duration::from_millis(1500)));
/// assert_eq!(duration::cache_parameters().ttl, Some(Duration::from_millis(250)));
/// assert_eq!(constant::cache_parameters().ttl, Some(Duration::from_secs(600)));
/// assert_eq!(forever::cache_parameters().ttl, None);
/// assert_eq!(default::cache_parameters().ttl, Some(cache_core::DEFAULT_TTL));
/// assert_eq!(cache_core::DEFAULT_TTL, Duration::from_secs(60));
/// ```
///
/// ## `max_entries`
///
/// The most results the in-memory cache holds: a literal (checked at compile time)
/// or any `usize` expression, evaluated once like `ttl`. Past the bound, each
/// insert evicts an expired entry first, then one chosen by S3-FIFO (keys called
/// once go before keys called again). It never fails. A storage backend keeps its own bound.
///
/// ```rust
/// use cache_core::ttl_cache;
///
/// #[ttl_cache(max_entries = 2)]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// #[ttl_cache]
/// fn cube(x: u64) -> u64 {
///     x * x * x
/// }
///
/// for x in 0..10 {
///     square(x);
/// }
/// let info = square::cache_info();
/// assert_eq!(info.max_entries, 2);
/// assert!(info.current_size <= 2);
/// assert!(info.evictions >= 8);
/// assert_eq!(square::cache_parameters().max_entries, 2);
/// assert_eq!(cube::cache_parameters().max_entries, cache_core::DEFAULT_MAX_ENTRIES);
/// assert_eq!(cache_core::DEFAULT_MAX_ENTRIES, 10_000);
/// ```
///
/// ## `identifier`
///
/// The cache's identity, which is also its namespace in a storage backend. The
/// default is `module_path!()` followed by `::` and the function's name, which is
/// stable across runs and processes. Functions naming the same identifier
/// share one cache: a result stored by one is a hit for the other when the key is
/// the same. Each function's `cache_info()` then reports the whole shared cache.
/// The first function to touch the shared cache sets its `ttl` and `max_entries`
/// for all of them (each function's `cache_info()` and `cache_parameters()` report
/// the settings in force); giving every function of a shared cache the same
/// settings avoids surprises.
///
/// ```rust
/// use cache_core::ttl_cache;
///
/// #[ttl_cache(identifier = "doc-identifier-rates")]
/// fn rate(currency: &str) -> f64 {
///     if currency == "EUR" { 1.08 } else { 1.0 }
/// }
///
/// #[ttl_cache(identifier = "doc-identifier-rates")]
/// fn rate_again(currency: &str) -> f64 {
///     unreachable!("rate(\"EUR\") already stored this key")
/// }
///
/// #[ttl_cache]
/// fn unnamed(x: u32) -> u32 { x }
///
/// assert_eq!(rate("EUR"), 1.08);
/// assert_eq!(rate_again("EUR"), 1.08); // a hit on the result `rate` stored
/// let info = rate_again::cache_info();
/// assert_eq!((info.hits, info.misses), (1, 1));
/// assert_eq!(rate::cache_info().hits, 1); // the same, shared cache
/// assert_eq!(rate::cache_parameters().identifier, "doc-identifier-rates");
/// assert!(unnamed::cache_parameters().identifier.ends_with("::unnamed"));
/// ```
///
/// ## `version`
///
/// A `u32` literal that is part of every key in a storage backend, so results
/// stored under one version are never read by another. Bump it when a change to
/// the body or to the stored type makes old results wrong. This matters most for
/// Redis and disk, which outlive the process. In memory, a shared cache is one per
/// identifier and version.
///
/// ```rust
/// use cache_core::ttl_cache;
///
/// #[ttl_cache(identifier = "doc-version-report", version = 1)]
/// fn report_v1(id: u32) -> String {
///     format!("report {id}, old layout")
/// }
///
/// #[ttl_cache(identifier = "doc-version-report", version = 2)]
/// fn report_v2(id: u32) -> String {
///     format!("report {id}, new layout")
/// }
///
/// assert_eq!(report_v1(7), "report 7, old layout");
/// assert_eq!(report_v2(7), "report 7, new layout"); // a miss: another version
/// assert_eq!(report_v2::cache_info().misses, 1);
/// assert_eq!(report_v1::cache_parameters().version, 1);
/// assert_eq!(report_v2::cache_parameters().version, 2);
/// ```
///
/// ## `typed`
///
/// Makes each argument's type part of the key. Without it, integers key by value
/// whatever their width, so `3u8` and `3u64` are the same key. With it they are
/// different keys. This shows when a cache is shared, or when an argument is
/// `impl PersistentHash`.
///
/// ```rust
/// use cache_core::ttl_cache;
///
/// #[ttl_cache(identifier = "doc-untyped")]
/// fn untyped_u8(x: u8) -> String { format!("u8 {x}") }
///
/// #[ttl_cache(identifier = "doc-untyped")]
/// fn untyped_u64(x: u64) -> String { format!("u64 {x}") }
///
/// #[ttl_cache(identifier = "doc-typed", typed)]
/// fn typed_u8(x: u8) -> String { format!("u8 {x}") }
///
/// #[ttl_cache(identifier = "doc-typed", typed)]
/// fn typed_u64(x: u64) -> String { format!("u64 {x}") }
///
/// untyped_u8(3);
/// assert_eq!(untyped_u64(3), "u8 3"); // one key: 3 is 3
/// typed_u8(3);
/// assert_eq!(typed_u64(3), "u64 3"); // two keys: u8 3 is not u64 3
/// assert!(typed_u8::cache_parameters().typed);
/// assert!(!untyped_u8::cache_parameters().typed);
/// ```
///
/// ## `skip`
///
/// Leaves the named parameters out of the key. Use it for an argument that does
/// not change the result (a logger, a connection, a `&mut` buffer) or that does
/// not implement `PersistentHash`. `skip(self)` keys a method on its arguments
/// only, so all instances share results. It is the only way to cache a method that
/// takes `&mut self`. Naming a parameter that does not exist is a compile error.
///
/// ```rust
/// use cache_core::ttl_cache;
///
/// struct Connection; // not PersistentHash
///
/// #[ttl_cache(skip(conn))]
/// fn user_name(conn: &Connection, id: u32) -> String {
///     format!("user {id}")
/// }
///
/// struct Client {
///     requests: u32,
/// }
///
/// impl Client {
///     #[ttl_cache(skip(self))]
///     fn fetch(&mut self, id: u32) -> String {
///         self.requests += 1;
///         format!("item {id}")
///     }
/// }
///
/// assert_eq!(user_name(&Connection, 1), "user 1");
/// assert_eq!(user_name(&Connection, 1), "user 1");
/// assert_eq!(user_name::cache_info().hits, 1);
///
/// let mut a = Client { requests: 0 };
/// let mut b = Client { requests: 0 };
/// a.fetch(1);
/// b.fetch(1); // a hit: `self` is not in the key
/// assert_eq!((a.requests, b.requests), (1, 0));
/// assert_eq!(Client::fetch_cache().cache_info().hits, 1);
/// ```
///
/// ## `key`
///
/// Keys on an expression's `PersistentHash` encoding instead of the arguments. The
/// expression is evaluated on every call, with the arguments (and `self`) in
/// scope, and borrowed. The arguments are then not part of the key: they need no
/// `PersistentHash`, and `&mut` arguments (or `&mut self`) and argument patterns
/// are allowed.
///
/// ```rust
/// use cache_core::ttl_cache;
///
/// struct User {
///     id: u64,
///     name: String,
///     request_id: u128, // differs on every request
/// }
///
/// #[ttl_cache(key = (user.id, lang))]
/// fn greeting(user: &User, lang: &str) -> String {
///     format!("[{lang}] hello {}", user.name)
/// }
///
/// let first = User { id: 7, name: "Ada".into(), request_id: 1 };
/// let again = User { id: 7, name: "Ada".into(), request_id: 2 };
/// assert_eq!(greeting(&first, "en"), "[en] hello Ada");
/// assert_eq!(greeting(&again, "en"), "[en] hello Ada"); // a hit: same id and lang
/// assert_eq!(greeting(&again, "fr"), "[fr] hello Ada"); // a miss
/// let info = greeting::cache_info();
/// assert_eq!((info.hits, info.misses), (1, 2));
/// # let _ = (first.request_id, again.request_id);
/// ```
///
/// ## `backend`
///
/// Where results live. The expression is evaluated once, on the first use of the
/// cache, in a closure that captures nothing, and must be `IntoBackend`:
///
/// - `MemoryBackend::default()`: the process-wide in-memory backend, which is what
///   the macro uses when `backend` is not given.
/// - `MemoryBackend::with_clock(clock)`: a separate in-memory backend reading time
///   from `clock`, such as `Clock::mock()` in tests. Keep it in a `static` and pass
///   `&*STATIC` so every function that names it sees the same one (shared
///   identifiers are per backend).
/// - An `Arc<impl StorageBackend>`, or an `Arc<dyn StorageBackend>`: a byte store
///   (Redis, a file). Values are serialized (see [`serializer`](#serializer)) into
///   a checked envelope. Backend failures count as misses and are counted in
///   `backend_errors`.
///
/// With a `backend` option the stored type must also be `serde::Serialize +
/// serde::de::DeserializeOwned`, even when the backend is in memory.
///
/// ```rust
/// use std::sync::{Arc, LazyLock};
/// use std::time::Duration;
/// use cache_core::clock::{Clock, MockClock};
/// use cache_core::{MemoryBackend, ttl_cache};
///
/// static CLOCK: LazyLock<(Clock, Arc<MockClock>)> = LazyLock::new(Clock::mock);
/// static BACKEND: LazyLock<MemoryBackend> =
///     LazyLock::new(|| MemoryBackend::with_clock(CLOCK.0.clone()));
///
/// #[ttl_cache(ttl = 10, backend = &*BACKEND)]
/// fn token(user: u32) -> String {
///     format!("token for {user}")
/// }
///
/// token(1);
/// token(1); // a hit
/// CLOCK.1.advance(Duration::from_secs(11));
/// token(1); // expired: the body runs again
/// let info = token::cache_info();
/// assert_eq!((info.hits, info.misses), (1, 2));
/// assert_eq!(token::cache_parameters().backend, "memory");
/// ```
///
/// A storage backend implements `StorageBackend`, which gets, sets, clears and
/// counts bytes under a `StorageKey`:
///
/// ```rust
/// use std::collections::HashMap;
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use cache_core::{BackendError, Digest, StorageBackend, StorageKey, ttl_cache};
///
/// /// A toy byte store that ignores TTLs (real ones: Redis, a file).
/// #[derive(Default)]
/// struct MapStore(Mutex<HashMap<(String, u32, Digest), Vec<u8>>>);
///
/// impl StorageBackend for MapStore {
///     fn name(&self) -> &'static str {
///         "map"
///     }
///     fn get(&self, key: &StorageKey<'_>) -> Result<Option<Vec<u8>>, BackendError> {
///         let map = self.0.lock().unwrap();
///         Ok(map.get(&(key.namespace.to_owned(), key.version, key.digest)).cloned())
///     }
///     fn set(&self, key: &StorageKey<'_>, value: &[u8], _: Option<Duration>) -> Result<(), BackendError> {
///         let mut map = self.0.lock().unwrap();
///         map.insert((key.namespace.to_owned(), key.version, key.digest), value.to_vec());
///         Ok(())
///     }
///     fn clear(&self, namespace: &str) -> Result<(), BackendError> {
///         self.0.lock().unwrap().retain(|(ns, _, _), _| ns != namespace);
///         Ok(())
///     }
///     fn len(&self, namespace: &str) -> Result<u64, BackendError> {
///         Ok(self.0.lock().unwrap().keys().filter(|(ns, _, _)| ns == namespace).count() as u64)
///     }
/// }
///
/// #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
/// struct Profile {
///     name: String,
///     karma: u32,
/// }
///
/// #[ttl_cache(ttl = 300, backend = Arc::new(MapStore::default()))]
/// fn profile(id: u64) -> Profile {
///     Profile { name: format!("user {id}"), karma: 42 }
/// }
///
/// assert_eq!(profile(1).karma, 42);
/// assert_eq!(profile(1).karma, 42); // from the cache: the body does not run again
/// let info = profile::cache_info();
/// assert_eq!((info.computations, info.current_size), (1, 1));
/// let parameters = profile::cache_parameters();
/// assert_eq!((parameters.backend, parameters.serializer), ("map", "msgpack"));
/// ```
///
/// ## `serializer`
///
/// The type that turns stored values into bytes for a storage backend. It must be
/// a path to a type implementing `cache_core::codec::Serializer + Default`. The
/// default is MessagePack with named fields (`cache_core::codec::MessagePack`),
/// and `cache_core::codec::Json` is the other built-in one. In memory, values are
/// kept as they are and never serialized, so the option has no effect there and
/// `cache_parameters().serializer` is `"none"`.
///
/// ```rust
/// use std::sync::Arc;
/// use cache_core::ttl_cache;
/// # use std::collections::HashMap;
/// # use std::sync::Mutex;
/// # use std::time::Duration;
/// # use cache_core::{BackendError, Digest, StorageBackend, StorageKey};
/// # #[derive(Default)]
/// # struct MapStore(Mutex<HashMap<(String, u32, Digest), Vec<u8>>>);
/// # impl StorageBackend for MapStore {
/// #     fn name(&self) -> &'static str { "map" }
/// #     fn get(&self, key: &StorageKey<'_>) -> Result<Option<Vec<u8>>, BackendError> {
/// #         Ok(self.0.lock().unwrap().get(&(key.namespace.to_owned(), key.version, key.digest)).cloned())
/// #     }
/// #     fn set(&self, key: &StorageKey<'_>, value: &[u8], _: Option<Duration>) -> Result<(), BackendError> {
/// #         self.0.lock().unwrap().insert((key.namespace.to_owned(), key.version, key.digest), value.to_vec());
/// #         Ok(())
/// #     }
/// #     fn clear(&self, namespace: &str) -> Result<(), BackendError> {
/// #         self.0.lock().unwrap().retain(|(ns, _, _), _| ns != namespace);
/// #         Ok(())
/// #     }
/// #     fn len(&self, namespace: &str) -> Result<u64, BackendError> {
/// #         Ok(self.0.lock().unwrap().keys().filter(|(ns, _, _)| ns == namespace).count() as u64)
/// #     }
/// # }
///
/// #[ttl_cache(backend = Arc::new(MapStore::default()), serializer = cache_core::codec::Json)]
/// fn tags(id: u32) -> Vec<String> {
///     vec![format!("tag-{id}"), "cached".to_owned()]
/// }
///
/// #[ttl_cache]
/// fn in_memory(id: u32) -> u32 { id }
///
/// assert_eq!(tags(1), ["tag-1", "cached"]); // stored as JSON
/// assert_eq!(tags(1), ["tag-1", "cached"]);
/// assert_eq!(tags::cache_info().computations, 1);
/// assert_eq!(tags::cache_parameters().serializer, "json");
/// assert_eq!(in_memory::cache_parameters().serializer, "none");
/// ```
///
/// ## `single_flight`
///
/// On by default: concurrent misses on one key run the body once, and the other
/// callers wait for its result. `single_flight = false` lets each of them run the
/// body. That suits a body cheaper than waiting, or one that must not make callers
/// wait on each other. Results are cached either way.
///
/// ```rust
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
/// use cache_core::ttl_cache;
///
/// static RUNS: AtomicU32 = AtomicU32::new(0);
///
/// #[ttl_cache]
/// fn slow(x: u32) -> u32 {
///     RUNS.fetch_add(1, Ordering::Relaxed);
///     std::thread::sleep(Duration::from_millis(20));
///     x * 2
/// }
///
/// #[ttl_cache(single_flight = false)]
/// fn cheap(x: u32) -> u32 {
///     x + 1
/// }
///
/// std::thread::scope(|s| {
///     for _ in 0..8 {
///         s.spawn(|| assert_eq!(slow(21), 42));
///     }
/// });
/// assert_eq!(RUNS.load(Ordering::Relaxed), 1); // eight callers, one run
/// assert!(slow::cache_parameters().single_flight);
///
/// assert_eq!(cheap(1), 2);
/// assert_eq!(cheap(1), 2);
/// assert_eq!(cheap::cache_info().hits, 1);
/// assert!(!cheap::cache_parameters().single_flight);
/// ```
///
/// ### `single_flight = fleet`
///
/// With a storage backend that offers leases (`cache-redis`'s `RedisBackend`),
/// concurrent misses of one key run the body once in the whole fleet of
/// processes: the first process to miss takes the key's lease (`SET … NX PX`)
/// and computes; the others poll (`fleet_poll`, default 20 ms) until the value
/// is stored, then read it. A process that takes the lease reads once more
/// before computing, so a value stored just before is not computed again. If
/// the holder dies, its lease expires (`fleet_lease`, default 10 s) and one of
/// the waiters computes. Backend errors while leasing fail open: the body runs.
/// On the memory backend `fleet` is the same as `true`.
///
/// ## `cache_none`
///
/// For a function returning `Option`: `cache_none = false` stores only `Some`
/// results, so a `None` is looked up again on the next call. This suits "not found
/// yet". The default stores `None` too. Giving `cache_none` on a function that does
/// not return `Option` is a compile error. For an alias of `Option`, add `option`.
///
/// ```rust
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use cache_core::ttl_cache;
///
/// static LOOKUPS: AtomicU32 = AtomicU32::new(0);
///
/// #[ttl_cache(cache_none = false)]
/// fn find(name: &str) -> Option<u32> {
///     LOOKUPS.fetch_add(1, Ordering::Relaxed);
///     (name == "alice").then_some(1)
/// }
///
/// #[ttl_cache]
/// fn find_or_remember(name: &str) -> Option<u32> {
///     (name == "alice").then_some(1)
/// }
///
/// assert_eq!(find("bob"), None);
/// assert_eq!(find("bob"), None); // not stored: the body runs again
/// assert_eq!(find("alice"), Some(1));
/// assert_eq!(find("alice"), Some(1)); // a hit
/// assert_eq!(LOOKUPS.load(Ordering::Relaxed), 3);
/// assert_eq!(find::cache_info().current_size, 1);
/// assert!(!find::cache_parameters().cache_none);
///
/// assert_eq!(find_or_remember("bob"), None);
/// assert_eq!(find_or_remember("bob"), None); // a hit: None is stored by default
/// assert_eq!(find_or_remember::cache_info().hits, 1);
/// assert!(find_or_remember::cache_parameters().cache_none);
/// ```
///
/// ## `fail_closed`
///
/// By default a storage backend that cannot be read (Redis down, a timeout, an
/// open circuit breaker) is a counted miss: the body runs and its value is
/// returned (fail-open). With `fail_closed`, a failed read is returned to the
/// caller as `Err(E::from(error))` and the body does not run, for bodies that
/// must not run unthrottled when the cache is gone (an expensive or rate-limited
/// upstream). The function must return `Result<T, E>` with
/// `E: From<BackendError>`; on any other return type `fail_closed` is a compile
/// error. A failed write after the body ran is still only counted: the value is
/// returned.
///
/// ```rust
/// use std::sync::{Arc, LazyLock};
/// use std::time::Duration;
/// use cache_core::{BackendError, StorageBackend, StorageKey, ttl_cache};
///
/// /// A backend that is always down.
/// struct Down;
///
/// impl StorageBackend for Down {
///     fn name(&self) -> &'static str { "down" }
///     fn get(&self, _: &StorageKey<'_>) -> Result<Option<Vec<u8>>, BackendError> {
///         Err(BackendError::Unavailable { backend: "down", reason: "test".into() })
///     }
///     fn set(&self, _: &StorageKey<'_>, _: &[u8], _: Option<Duration>) -> Result<(), BackendError> {
///         Err(BackendError::Unavailable { backend: "down", reason: "test".into() })
///     }
///     fn clear(&self, _: &str) -> Result<(), BackendError> { Ok(()) }
///     fn len(&self, _: &str) -> Result<u64, BackendError> { Ok(0) }
/// }
///
/// static DOWN: LazyLock<Arc<Down>> = LazyLock::new(|| Arc::new(Down));
///
/// #[derive(Debug)]
/// enum QuoteError { CacheDown }
///
/// impl From<BackendError> for QuoteError {
///     fn from(_: BackendError) -> Self { QuoteError::CacheDown }
/// }
///
/// #[ttl_cache(backend = DOWN.clone(), fail_closed)]
/// fn quote(symbol: &str) -> Result<u64, QuoteError> {
///     unreachable!("the body never runs while the cache is down")
/// }
///
/// #[ttl_cache(backend = DOWN.clone())]
/// fn quote_open(symbol: &str) -> Result<u64, QuoteError> {
///     Ok(42)
/// }
///
/// assert!(matches!(quote("ACME"), Err(QuoteError::CacheDown)));
/// assert_eq!(quote_open("ACME").unwrap(), 42); // fail-open: computed anyway
/// assert!(quote::cache_parameters().fail_closed);
/// ```
///
/// ## `result`
///
/// Says that the return type is a `Result` under another name, such as an alias
/// like `type Answer<T> = Result<T, MyError>`. Then only `Ok` values are stored.
/// Without it, the macro sees a plain type and stores errors too.
///
/// ```rust
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use cache_core::ttl_cache;
///
/// type Answer<T> = Result<T, String>;
///
/// static RUNS: AtomicU32 = AtomicU32::new(0);
///
/// #[ttl_cache(result)]
/// fn parse(text: &str) -> Answer<u32> {
///     RUNS.fetch_add(1, Ordering::Relaxed);
///     text.parse().map_err(|e| format!("{text:?}: {e}"))
/// }
///
/// assert!(parse("x").is_err());
/// assert!(parse("x").is_err()); // the error was not stored
/// assert_eq!(parse("42"), Ok(42));
/// assert_eq!(parse("42"), Ok(42)); // a hit
/// assert_eq!(RUNS.load(Ordering::Relaxed), 3);
/// assert_eq!(parse::cache_info().current_size, 1);
/// ```
///
/// ## `option`
///
/// Says that the return type is an `Option` under another name. This matters only
/// with `cache_none = false`, which needs to know the type is an `Option`.
///
/// ```rust
/// use cache_core::ttl_cache;
///
/// type Maybe<T> = Option<T>;
///
/// #[ttl_cache(option, cache_none = false)]
/// fn nickname(id: u32) -> Maybe<String> {
///     (id == 1).then(|| "ada".to_owned())
/// }
///
/// assert_eq!(nickname(2), None);
/// assert_eq!(nickname(2), None); // None is not stored
/// assert_eq!(nickname(1).as_deref(), Some("ada"));
/// let info = nickname::cache_info();
/// assert_eq!((info.misses, info.current_size), (3, 1));
/// ```
///
/// ## `associated`
///
/// Marks an associated function (one without a receiver) that never mentions
/// `Self` in its signature or body. The macro cannot tell such a function from a
/// free one. Taken for a free function, it would get a `struct` wrapper, which is
/// not allowed inside an `impl`. With `associated` it gets
/// `Type::name_cache()` like a method. A function that does mention `Self` is
/// recognised without the flag.
///
/// ```rust
/// use cache_core::ttl_cache;
///
/// struct Currency;
///
/// impl Currency {
///     #[ttl_cache(associated, ttl = 3600)]
///     fn rate(code: &str) -> f64 {
///         match code {
///             "EUR" => 1.08,
///             _ => 1.0,
///         }
///     }
/// }
///
/// assert_eq!(Currency::rate("EUR"), 1.08);
/// assert_eq!(Currency::rate("EUR"), 1.08);
/// let cache = Currency::rate_cache();
/// assert_eq!(cache.cache_info().hits, 1);
/// assert_eq!(cache.cache_parameters().ttl, Some(std::time::Duration::from_secs(3600)));
/// ```
///
/// ## `crate`
///
/// The path of the runtime crate, for code that reaches `ttl_cache` or
/// `cache_core` through a re-export and does not depend on either by name. The
/// generated code names only `<path>::__private::…`. By default the macro reads
/// the calling crate's `Cargo.toml`: `::ttl_cache` when it depends on
/// `ttl-cache`, else `::cache_core`, each under the name given there (a
/// `package = "ttl-cache"` rename is followed), and `::cache_core` when neither
/// is found. `#[derive(PersistentHash)]` takes the same option, as
/// `#[persistent_hash(crate = "path")]`.
///
/// ```rust
/// mod runtime {
///     pub use cache_core as memo;
/// }
///
/// use runtime::memo::ttl_cache;
///
/// #[ttl_cache(crate = "runtime::memo", ttl = 5)]
/// fn double(x: u32) -> u32 {
///     x * 2
/// }
///
/// fn main() {
///     assert_eq!(double(4), 8);
///     assert_eq!(double(4), 8);
///     assert_eq!(double::cache_info().hits, 1);
///     assert_eq!(double::cache_parameters().ttl, Some(std::time::Duration::from_secs(5)));
/// }
/// ```
///
/// # Compile errors
///
/// On any of these errors the function is emitted unchanged beside the errors.
/// This keeps the rest of the crate compiling, and every error is reported at
/// once, each pointing at the mistake.
///
/// - `#[ttl_cache]` on something other than a function.
/// - An unknown option (the message lists the valid ones), or an option given
///   twice (reported at the second one).
/// - A malformed value: a negative, non-numeric or non-finite `ttl` literal, or
///   one that overflows a `u64` of seconds; a `max_entries` literal that is not a
///   `usize` or is negative; an `identifier` that is not a non-empty string
///   literal; a `version` that is not a `u32` literal; a flag given something
///   other than `true` or `false`; an empty `skip()`; a `serializer` that is not a
///   path; a `crate` that is not a string holding a path.
/// - `skip(name)` where `name` is not a parameter of the function.
/// - `cache_none` on a function that does not return `Option`, or `result` and
///   `option` together.
/// - A `const fn`, or a function with type or const generic parameters.
///   Lifetimes are fine, and so are `impl Trait` arguments.
/// - No return type, an `impl Trait` return type, or a borrowed return type (a
///   reference or a lifetime other than `'static`).
/// - An argument written as a pattern (`(a, b): (u32, u32)`). Bind it to a name
///   and destructure it in the body.
/// - A `&mut` argument, or `&mut self`, that is part of the key. Add
///   `skip(name)` or `skip(self)`, or key on an expression with `key = …`.
///
/// The type checker then reports:
///
/// - an argument whose type does not implement `PersistentHash`, at that
///   argument;
/// - a stored type that is not `Clone + Send + Sync + 'static`, or, with a
///   `backend`, not `Serialize + DeserializeOwned`;
/// - on a method of a trait impl, the emitted `name_cache()`, which is not a
///   member of the trait. Cache a method of an inherent impl instead.
///
/// ```compile_fail
/// use cache_core::ttl_cache;
///
/// #[ttl_cache(tll = 30)] // unknown option `tll`; expected one of: ttl, max_entries, ...
/// fn f(x: u32) -> u32 { x }
/// ```
///
/// ```compile_fail
/// use cache_core::ttl_cache;
///
/// #[ttl_cache] // a `&mut` argument cannot be part of the key; add `skip(buf)` ...
/// fn g(buf: &mut Vec<u8>) -> usize { buf.len() }
/// ```
#[proc_macro_attribute]
pub fn ttl_cache(args: TokenStream, item: TokenStream) -> TokenStream {
    ttl_cache::expand(args.into(), item.into()).into()
}
