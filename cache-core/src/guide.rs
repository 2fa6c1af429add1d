//! The guide: every feature of the toolkit, each with an example that runs.
//!
//! Each chapter teaches one part of the toolkit with examples that are doctests:
//! `cargo test -p cache-core --doc` runs them all. The option-by-option reference
//! of `#[ttl_cache]` is the documentation of [`ttl_cache`](macro@crate::ttl_cache);
//! this guide links to it rather than repeating it.
//!
//! The examples name the crates of the workspace: `cache_core` (this crate),
//! `cache_redis` and `cache_disk`. Through the facade crate `ttl-cache` the same
//! items are `ttl_cache::…` (the whole of `cache_core`), `ttl_cache::redis::…`
//! and `ttl_cache::disk::…`; see [Cargo features](#cargo-features).
//!
//! 1. [A first cached function](#a-first-cached-function)
//! 2. [Options](#options)
//! 3. [Async functions and methods](#async-functions-and-methods)
//! 4. [`Result`, `Option` and panics](#result-option-and-panics)
//! 5. [Recursion](#recursion)
//! 6. [`cache_info`, `cache_clear`, `cache_parameters`](#cache_info-cache_clear-cache_parameters)
//! 7. [The standalone `Cache`](#the-standalone-cache)
//! 8. [`DefaultMap` and `AsyncDefaultMap`](#defaultmap-and-asyncdefaultmap)
//! 9. [Keys: `PersistentHash`](#keys-persistenthash)
//! 10. [Serializers and the envelope](#serializers-and-the-envelope)
//! 11. [Mock clocks for tests](#mock-clocks-for-tests)
//! 12. [Redis](#redis)
//! 13. [A cache in a file: `cache-disk`](#a-cache-in-a-file-cache-disk)
//! 14. [Cargo features](#cargo-features)
//!
//! # A first cached function
//!
//! Put `#[ttl_cache]` on a function. Its signature stays as written; the body runs
//! on a miss only, and its result is kept for the TTL (60 s by default) in a
//! bounded in-memory cache (10,000 entries by default).
//!
//! ```
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use cache_core::ttl_cache;
//!
//! static RUNS: AtomicU32 = AtomicU32::new(0);
//!
//! #[ttl_cache]
//! fn word_count(text: &str) -> usize {
//!     RUNS.fetch_add(1, Ordering::Relaxed); // something slow, in real code
//!     text.split_whitespace().count()
//! }
//!
//! assert_eq!(word_count("to be or not to be"), 6); // a miss: the body runs
//! assert_eq!(word_count("to be or not to be"), 6); // a hit: a clone of the stored value
//! assert_eq!(word_count("be"), 1); // another key: a miss
//! assert_eq!(RUNS.load(Ordering::Relaxed), 2);
//!
//! let info = word_count::cache_info();
//! assert_eq!((info.hits, info.misses, info.current_size), (1, 2, 2));
//! ```
//!
//! What every cached function does:
//!
//! - The key is the arguments' [`PersistentHash`](crate::PersistentHash)
//!   encoding, read by reference: arguments are never cloned and need no `Hash`
//!   or `Eq`. See [Keys](#keys-persistenthash).
//! - A hit returns a clone of the stored value, so the return type is
//!   `Clone + Send + Sync + 'static`. Wrap a large value in an `Arc` and a hit is
//!   one reference-count increment.
//! - Concurrent misses on one key run the body once (single-flight); other keys
//!   never wait, and no lock is held while the body runs.
//! - Errors and panics are never stored ([chapter 4](#result-option-and-panics)).
//! - The function gets a companion, `word_count::cache_info()` and friends
//!   ([chapter 6](#cache_info-cache_clear-cache_parameters)).
//!
//! # Options
//!
//! Options go in the attribute, in any order:
//! `#[ttl_cache(ttl = 30, max_entries = 1_000, typed)]`. The
//! [option table](macro@crate::ttl_cache#options) lists them all; each has a
//! section there with its own doctest. The ones most programs use:
//!
//! ```
//! use std::time::Duration;
//! use cache_core::ttl_cache;
//!
//! const ONE_HOUR: Duration = Duration::from_secs(3600);
//!
//! #[ttl_cache(ttl = 30)] // seconds, checked at compile time
//! fn a(x: u32) -> u32 { x }
//!
//! #[ttl_cache(ttl = 0.25)] // fractions of a second
//! fn b(x: u32) -> u32 { x }
//!
//! #[ttl_cache(ttl = ONE_HOUR)] // any `IntoTtl` expression: Duration, Option<Duration>, u64/u32 seconds
//! fn c(x: u32) -> u32 { x }
//!
//! #[ttl_cache(ttl = None)] // never expires; still bounded by max_entries
//! fn d(x: u32) -> u32 { x }
//!
//! #[ttl_cache(ttl = 0)] // stores nothing
//! fn e(x: u32) -> u32 { x }
//!
//! #[ttl_cache(max_entries = 2)] // the bound: past it, expired entries go first, then S3-FIFO
//! fn f(x: u32) -> u32 { x }
//!
//! assert_eq!(a::cache_parameters().ttl, Some(Duration::from_secs(30)));
//! assert_eq!(b::cache_parameters().ttl, Some(Duration::from_millis(250)));
//! assert_eq!(c::cache_parameters().ttl, Some(ONE_HOUR));
//! assert_eq!(d::cache_parameters().ttl, None);
//! e(1);
//! e(1);
//! assert_eq!((e::cache_info().computations, e::cache_info().current_size), (2, 0));
//! for x in 0..10 {
//!     f(x);
//! }
//! assert!(f::cache_info().current_size <= 2);
//! assert!(f::cache_info().evictions >= 8);
//! ```
//!
//! An entry lives for its TTL as the cache's clock measures it. On the system
//! clock that is a millisecond ticker, so an entry may be served up to about a
//! millisecond past its TTL or stop up to a millisecond early; on a
//! [mock clock](#mock-clocks-for-tests) it is exact.
//!
//! **Sharing a cache** (`identifier`) and **invalidating** (`version`): functions
//! naming one identifier share one cache, and the first of them to touch it sets
//! its `ttl` and bound. `version` is part of every key, so bumping it hides
//! everything stored before (it matters most for Redis and disk, which outlive
//! the process).
//!
//! ```
//! use cache_core::ttl_cache;
//!
//! #[ttl_cache(identifier = "guide-rates")]
//! fn rate(currency: &str) -> f64 {
//!     if currency == "EUR" { 1.08 } else { 1.0 }
//! }
//!
//! #[ttl_cache(identifier = "guide-rates")]
//! fn rate_again(currency: &str) -> f64 {
//!     unreachable!("rate(\"EUR\") stored this key already")
//! }
//!
//! #[ttl_cache(identifier = "guide-rates", version = 2)]
//! fn rate_v2(currency: &str) -> f64 {
//!     if currency == "EUR" { 1.10 } else { 1.0 }
//! }
//!
//! assert_eq!(rate("EUR"), 1.08);
//! assert_eq!(rate_again("EUR"), 1.08); // a hit on rate's result
//! assert_eq!(rate_v2("EUR"), 1.10); // another version: a miss
//! assert_eq!(rate::cache_parameters().identifier, "guide-rates");
//! ```
//!
//! **Choosing the key** (`typed`, `skip`, `key = …`): without `typed`, integers
//! key by value whatever their width (`3u8` and `3u64` are one key); with it,
//! argument types are part of the key. `skip(arg)` leaves an argument out of the
//! key (a connection, a logger, `self`), and `key = expr` replaces the key
//! altogether.
//!
//! ```
//! use cache_core::ttl_cache;
//!
//! struct Db; // not PersistentHash: skipped
//!
//! #[ttl_cache(skip(db))]
//! fn user_name(db: &Db, id: u64) -> String {
//!     format!("user {id}")
//! }
//!
//! struct Request { user: u64, lang: String, trace_id: u128 }
//!
//! #[ttl_cache(key = (request.user, &request.lang))] // the trace id is not part of the key
//! fn greeting(request: &Request) -> String {
//!     format!("[{}] hello {}", request.lang, request.user)
//! }
//!
//! #[ttl_cache(identifier = "guide-typed", typed)]
//! fn small(x: u8) -> &'static str { "u8" }
//!
//! #[ttl_cache(identifier = "guide-typed", typed)]
//! fn wide(x: u64) -> &'static str { "u64" }
//!
//! assert_eq!(user_name(&Db, 7), "user 7");
//! assert_eq!(user_name(&Db, 7), "user 7");
//! assert_eq!(user_name::cache_info().hits, 1);
//!
//! greeting(&Request { user: 1, lang: "en".into(), trace_id: 1 });
//! greeting(&Request { user: 1, lang: "en".into(), trace_id: 2 }); // a hit
//! assert_eq!(greeting::cache_info().hits, 1);
//!
//! assert_eq!(small(3), "u8");
//! assert_eq!(wide(3), "u64"); // typed: u8 3 and u64 3 are two keys
//! ```
//!
//! **Return kinds** (`cache_none`, `result`, `option`): see
//! [chapter 4](#result-option-and-panics). **Concurrency** (`single_flight`):
//! single-flight is on by default; `single_flight = false` lets concurrent misses
//! each run the body, and `single_flight = fleet` extends it to every process on
//! one Redis ([Redis](#fleet-wide-single-flight)). Here eight threads miss one
//! cold key and the body runs once; every caller counts its miss before it waits,
//! which is how the example knows they all wait before letting the body finish:
//!
//! ```
//! use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
//! use cache_core::ttl_cache;
//!
//! static RUNS: AtomicU32 = AtomicU32::new(0);
//! static RELEASE: AtomicBool = AtomicBool::new(false);
//!
//! #[ttl_cache]
//! fn report(id: u32) -> String {
//!     RUNS.fetch_add(1, Ordering::SeqCst);
//!     while !RELEASE.load(Ordering::SeqCst) {
//!         std::thread::yield_now(); // held until every caller waits on this run
//!     }
//!     format!("report {id}")
//! }
//!
//! std::thread::scope(|s| {
//!     let callers: Vec<_> = (0..8).map(|_| s.spawn(|| report(1))).collect();
//!     while report::cache_info().misses < 8 {
//!         std::thread::yield_now();
//!     }
//!     RELEASE.store(true, Ordering::SeqCst);
//!     for caller in callers {
//!         assert_eq!(caller.join().unwrap(), "report 1");
//!     }
//! });
//! assert_eq!(RUNS.load(Ordering::SeqCst), 1); // eight callers, one run
//! assert_eq!(report::cache_info().computations, 1);
//! ```
//!
//! The remaining options are `backend` and `serializer` (where results live and
//! how they become bytes: [Redis](#redis), [disk](#a-cache-in-a-file-cache-disk),
//! [serializers](#serializers-and-the-envelope)), `fail_closed`
//! ([Redis](#failures)), `associated` and `crate`; each has its section in the
//! [macro's documentation](macro@crate::ttl_cache#options). A misused option is a
//! compile error pointing at it ([the list](macro@crate::ttl_cache#compile-errors)).
//!
//! # Async functions and methods
//!
//! An `async fn` is cached the same way. A hit never polls the body's future:
//! the lookup happens when the function's future is first polled, and a hit
//! returns its value from that poll (a miss boxes the rest of the call, so the
//! function's future stays the size of its arguments). Concurrent callers of one cold key wait for one run without
//! blocking the executor, and no runtime is needed beyond the one driving your
//! code: here, Tokio's current-thread runtime.
//!
//! ```
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use cache_core::ttl_cache;
//! use tokio::sync::Notify;
//!
//! static RUNS: AtomicU32 = AtomicU32::new(0);
//!
//! /// `release` is not part of the key: it lets the example decide when the body ends.
//! #[ttl_cache(skip(release))]
//! async fn fetch(id: u32, release: &Notify) -> String {
//!     RUNS.fetch_add(1, Ordering::SeqCst);
//!     release.notified().await;
//!     format!("item {id}")
//! }
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! runtime.block_on(async {
//!     let release = Notify::new();
//!     // Both calls miss; the second waits for the first's run, then the body is released.
//!     let (first, second, ()) = tokio::join!(fetch(1, &release), fetch(1, &release), async {
//!         release.notify_one();
//!     });
//!     assert_eq!((first.as_str(), second.as_str()), ("item 1", "item 1"));
//!     assert_eq!(RUNS.load(Ordering::SeqCst), 1);
//!     assert_eq!(fetch(1, &release).await, "item 1"); // a hit: the body's future is not polled
//! });
//! let info = fetch::cache_info();
//! assert_eq!((info.hits, info.computations), (1, 1));
//! ```
//!
//! If the caller running the body is cancelled (its future dropped), one waiting
//! caller takes over and runs its own body.
//!
//! On a method, `self` is part of the key (its type implements `PersistentHash`),
//! so two receivers with equal encodings share results and others do not;
//! `skip(self)` keys on the other arguments only and also allows `&mut self`. The
//! cache of a method is reached through `Type::name_cache()`:
//!
//! ```
//! use cache_core::{PersistentHash, ttl_cache};
//!
//! #[derive(PersistentHash)]
//! struct Account { id: u64 }
//!
//! struct Client { calls: u32 }
//!
//! impl Account {
//!     #[ttl_cache]
//!     fn statement(&self, month: u32) -> String {
//!         format!("account {} month {month}", self.id)
//!     }
//! }
//!
//! impl Client {
//!     #[ttl_cache(skip(self))] // every Client shares results
//!     fn lookup(&mut self, id: u64) -> u64 {
//!         self.calls += 1;
//!         id * 2
//!     }
//! }
//!
//! let (a, b) = (Account { id: 1 }, Account { id: 2 });
//! a.statement(5);
//! a.statement(5); // a hit
//! b.statement(5); // another receiver: a miss
//! assert_eq!(Account::statement_cache().cache_info().hits, 1);
//!
//! let (mut one, mut two) = (Client { calls: 0 }, Client { calls: 0 });
//! one.lookup(4);
//! two.lookup(4); // a hit: self is skipped
//! assert_eq!((one.calls, two.calls), (1, 0));
//! ```
//!
//! Associated functions (no receiver) work too, with `associated` when the
//! function never mentions `Self`. Trait impls are not supported: the extra item
//! the macro adds is not a member of the trait. The
//! [call forms](macro@crate::ttl_cache#call-forms) section has the details.
//!
//! # `Result`, `Option` and panics
//!
//! The return type decides what is stored, read from the last segment of its
//! path:
//!
//! - `Result<T, E>` (and `io::Result<T>`, anything ending in `Result`): only `Ok`
//!   is stored; an `Err` goes back to its caller and the next call runs the body
//!   again. `E` needs no bounds.
//! - `Option<T>`: `Some` and `None` are both stored; `cache_none = false` stores
//!   only `Some`.
//! - Anything else is stored as it is. An alias is not recognised: give `result`
//!   or `option` for one.
//!
//! A body that panics stores nothing: the panic reaches only the caller whose
//! body panicked, callers waiting on that run get a value from a new run, and the
//! next call runs the body again. Nothing is poisoned.
//!
//! ```
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use cache_core::ttl_cache;
//!
//! static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
//!
//! #[ttl_cache]
//! fn connect(host: &str) -> Result<u16, String> {
//!     // Fails twice, then works: a flaky upstream.
//!     match ATTEMPTS.fetch_add(1, Ordering::SeqCst) {
//!         0 | 1 => Err(format!("{host}: timed out")),
//!         _ => Ok(443),
//!     }
//! }
//!
//! #[ttl_cache(cache_none = false)] // "not found yet": look again next time
//! fn find(name: &str) -> Option<u32> {
//!     (name == "ada").then_some(1)
//! }
//!
//! type Answer = Result<u32, String>;
//!
//! #[ttl_cache(result)] // an alias of Result: only Ok is stored
//! fn parse(text: &str) -> Answer {
//!     text.parse().map_err(|_| format!("not a number: {text}"))
//! }
//!
//! #[ttl_cache]
//! fn checked_div(a: u32, b: u32) -> u32 {
//!     a / b // panics when b == 0
//! }
//!
//! assert!(connect("db").is_err());
//! assert!(connect("db").is_err()); // the error was not stored: the body ran again
//! assert_eq!(connect("db"), Ok(443));
//! assert_eq!(connect("db"), Ok(443)); // a hit
//! assert_eq!(ATTEMPTS.load(Ordering::SeqCst), 3);
//!
//! assert_eq!(find("bob"), None);
//! assert_eq!(find("bob"), None); // not stored
//! assert_eq!(find::cache_info().current_size, 0);
//!
//! assert!(parse("x").is_err());
//! assert_eq!(parse("7"), Ok(7));
//! assert_eq!(parse::cache_info().current_size, 1);
//!
//! assert!(std::panic::catch_unwind(|| checked_div(1, 0)).is_err());
//! assert_eq!(checked_div::cache_info().current_size, 0); // the panic stored nothing
//! assert_eq!(checked_div(6, 3), 2);
//! ```
//!
//! To store errors too, return a type that is not read as a `Result`: an alias
//! without `result` is stored whole, `Err` included.
//!
//! # Recursion
//!
//! A memoized function may call itself: each call goes through the cache, so a
//! recursive `fib` computes each value once. A call that recurses into *its own*
//! key (on the same thread, or within the same poll for an `async fn`) cannot wait
//! for itself: it runs the body without single-flight instead of deadlocking, and
//! `reentrant_bypass` counts it.
//!
//! ```
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use cache_core::ttl_cache;
//!
//! #[ttl_cache(ttl = None, max_entries = 1_000)]
//! fn fib(n: u64) -> u64 {
//!     if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
//! }
//!
//! assert_eq!(fib(90), 2_880_067_194_370_816_120);
//! let info = fib::cache_info();
//! assert_eq!((info.computations, info.hits), (91, 88)); // each of 0..=90 computed once
//!
//! static DEPTH: AtomicU32 = AtomicU32::new(0);
//!
//! #[ttl_cache]
//! fn calls_itself(x: u64) -> u64 {
//!     if DEPTH.fetch_add(1, Ordering::SeqCst) == 0 {
//!         calls_itself(x) + 1 // the same key, from inside its own run
//!     } else {
//!         x
//!     }
//! }
//!
//! assert_eq!(calls_itself(10), 11); // no deadlock
//! assert_eq!(calls_itself::cache_info().reentrant_bypass, 1);
//! ```
//!
//! # `cache_info`, `cache_clear`, `cache_parameters`
//!
//! Each cached function has a handle: `name::cache()` for a free function,
//! `Type::name_cache()` for a method or associated function, both a
//! `&'static` [`CachedFn`](crate::CachedFn). A free function also gets the three
//! calls directly as `name::cache_info()`, `name::cache_clear()` and
//! `name::cache_parameters()`.
//!
//! - [`cache_info()`](crate::CachedFn::cache_info) returns a
//!   [`CacheInfo`](crate::CacheInfo): `hits`, `misses` (a caller that waited for
//!   another's run counts one), `computations` (bodies run), `evictions`,
//!   `expirations`, `reentrant_bypass`, `backend_errors` and `decode_errors`
//!   (storage backends), `current_size` and `max_entries`, plus
//!   [`hit_ratio()`](crate::CacheInfo::hit_ratio). Counts are exact and per
//!   process; for a shared identifier they cover the whole shared cache.
//! - [`cache_clear()`](crate::CachedFn::cache_clear) removes every result and
//!   resets the counters. On a storage backend a failure is counted in
//!   `backend_errors`; [`try_cache_clear()`](crate::CachedFn::try_cache_clear)
//!   returns it.
//! - [`cache_parameters()`](crate::CachedFn::cache_parameters) returns the
//!   settings in force as a [`CacheParameters`](crate::CacheParameters): `ttl`,
//!   `max_entries`, `identifier`, `version`, `typed`, `backend` (`"memory"`,
//!   `"redis"`, `"disk"`, …), `serializer` (`"none"` in memory, where values are
//!   not serialized), `single_flight`, `fleet_single_flight`, `cache_none` and
//!   `fail_closed`.
//!
//! ```
//! use std::time::Duration;
//! use cache_core::{CachedFn, ttl_cache};
//!
//! #[ttl_cache(ttl = 5, max_entries = 100)]
//! fn square(x: u64) -> u64 {
//!     x * x
//! }
//!
//! square(3);
//! square(3);
//! square(4);
//! let info = square::cache_info();
//! assert_eq!((info.hits, info.misses, info.computations), (1, 2, 2));
//! assert_eq!((info.current_size, info.max_entries), (2, 100));
//! assert!((info.hit_ratio() - 1.0 / 3.0).abs() < 1e-9);
//!
//! let parameters = square::cache_parameters();
//! assert_eq!(parameters.ttl, Some(Duration::from_secs(5)));
//! assert!(parameters.identifier.ends_with("::square")); // module_path::function
//! assert_eq!((parameters.backend, parameters.serializer), ("memory", "none"));
//! assert!(parameters.single_flight && !parameters.typed);
//!
//! let handle: &'static CachedFn = square::cache(); // pass it around, e.g. to a registry
//! handle.cache_clear(); // the same as square::cache_clear()
//! let info = square::cache_info();
//! assert_eq!((info.hits, info.misses, info.current_size), (0, 0, 0));
//! ```
//!
//! # The standalone `Cache`
//!
//! [`Cache<K, V>`](crate::Cache) is the engine behind `#[ttl_cache]`, usable
//! directly: a typed, concurrent, bounded map with per-entry TTLs, single-flight
//! loading and the same counters. Cloning a `Cache` gives another handle to the
//! same cache. Keys and values are `Clone + Send + Sync + 'static`, keys also
//! `Eq + Hash`; lookups take any borrowed form
//! ([`Equivalent`](crate::Equivalent)), such as `&str` for `String` keys.
//!
//! ```
//! use std::time::Duration;
//! use cache_core::{Cache, Expiry};
//!
//! let cache: Cache<String, u64> = Cache::builder()
//!     .ttl(Duration::from_secs(60)) // for entries inserted without one (default: never expire)
//!     .max_entries(10_000) // the bound (default DEFAULT_MAX_ENTRIES); inserting never fails
//!     .build();
//!
//! cache.insert("a".to_string(), 1); // the cache's TTL
//! cache.insert_with_ttl("b".to_string(), 2, Duration::from_secs(5)); // its own TTL
//! cache.insert_with_expiry("c".to_string(), 3, Expiry::Never); // until removed or evicted
//! assert_eq!(cache.get("a"), Some(1)); // &str finds a String key
//! assert!(cache.contains_key("b"));
//! let (value, remaining) = cache.get_with_ttl("c").unwrap();
//! assert_eq!((value, remaining), (3, None));
//!
//! // The producer runs only on a miss, once per key however many callers miss together.
//! assert_eq!(cache.get_or_insert_with("d".to_string(), || 4), 4);
//! assert_eq!(cache.get_or_insert_with("d".to_string(), || unreachable!()), 4);
//!
//! // Fallible producers: an Err goes back to this caller and is never stored.
//! let failed: Result<u64, String> = cache.try_get_or_insert_with("e".to_string(), || Err("down".into()));
//! assert!(failed.is_err() && !cache.contains_key("e"));
//!
//! assert_eq!(cache.remove("a"), Some(1));
//! assert_eq!(cache.len(), 3); // exact: live entries only
//! let mut keys = cache.keys();
//! keys.sort();
//! assert_eq!(keys, ["b", "c", "d"]);
//! for (_key, _value, _remaining_ttl) in cache.iter() { /* a snapshot of the live entries */ }
//!
//! let info = cache.info(); // hits, misses, computations, evictions, expirations, current_size, ...
//! assert_eq!(info.computations, 2); // "d", and the failed "e"
//! cache.clear(); // every entry, and the counters
//! assert!(cache.is_empty());
//! ```
//!
//! The async forms take a future instead of a closure. It is not polled on a hit;
//! callers waiting for another's run do not block the executor; and if the
//! leading caller is cancelled, a waiting caller takes over with its own future.
//!
//! ```
//! use cache_core::Cache;
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! runtime.block_on(async {
//!     let users: Cache<u64, String> = Cache::new();
//!     let name = users.get_or_insert_with_async(7, async { format!("user {}", 7) }).await;
//!     assert_eq!(name, "user 7");
//!     let again = users.get_or_insert_with_async(7, async { unreachable!() }).await;
//!     assert_eq!(again, "user 7");
//!
//!     let failed = users
//!         .try_get_or_insert_with_async(8, async { Err::<String, _>("timeout") })
//!         .await;
//!     assert_eq!(failed, Err("timeout"));
//!     assert_eq!(users.len(), 1);
//! });
//! ```
//!
//! Expiry is lazy on reads plus a background sweep (one thread per process, every
//! [`SWEEP_INTERVAL`](crate::maintenance::SWEEP_INTERVAL), bounded work per round)
//! that reclaims expired entries nobody reads; [`sweep()`](crate::Cache::sweep)
//! does it at once. Past `max_entries`, an insert evicts expired entries first,
//! then by S3-FIFO: new entries wait in a small FIFO queue, those read there
//! move to a main CLOCK queue, and keys evicted unread come back to the main
//! queue when they are stored again soon, so keys called once do not push out
//! the keys called again.
//!
//! ```
//! use std::time::Duration;
//! use cache_core::{Cache, clock::Clock};
//!
//! let (clock, time) = Clock::mock();
//! let cache: Cache<&str, u32> = Cache::builder().ttl(Duration::from_secs(10)).clock(clock).build();
//! cache.insert("k", 1);
//! cache.insert_with_ttl("short", 2, Duration::from_secs(1));
//! time.advance(Duration::from_secs(2));
//! assert_eq!(cache.sweep(), 1); // "short" expired, removed without a read
//! assert_eq!(cache.info().expirations, 1);
//! assert_eq!(cache.get_with_ttl(&"k"), Some((1, Some(Duration::from_secs(8)))));
//!
//! let tiny: Cache<u32, u32> = Cache::builder().max_entries(3).build();
//! for n in 0..10 {
//!     tiny.insert(n, n);
//! }
//! assert!(tiny.len() <= 3);
//! assert!(tiny.info().evictions >= 7);
//! ```
//!
//! # `DefaultMap` and `AsyncDefaultMap`
//!
//! A [`DefaultMap`](crate::DefaultMap) reads a missing key by producing its value
//! from the key, storing it and returning it: once per key, even when several
//! threads read the same missing key together. Entries follow the underlying
//! cache's TTL and bound. [`AsyncDefaultMap`](crate::AsyncDefaultMap) does the
//! same with an async producer.
//!
//! ```
//! use std::time::Duration;
//! use cache_core::{AsyncDefaultMap, Cache, DefaultMap};
//!
//! let lengths = DefaultMap::new(Cache::with_ttl(Duration::from_secs(60)), |word: &String| word.len());
//! assert_eq!(lengths.get("four".to_string()), 4);
//! assert_eq!(lengths.get_many(["a".to_string(), "four".to_string()]), [1, 4]);
//! assert_eq!(lengths.cache().info().computations, 2); // "four" was produced once
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! runtime.block_on(async {
//!     let squares = AsyncDefaultMap::new(Cache::new(), |n: &u64| {
//!         let n = *n;
//!         async move { n * n }
//!     });
//!     assert_eq!(squares.get(12).await, 144);
//!     assert_eq!(squares.get_many([2, 12]).await, [4, 144]);
//!     assert_eq!(squares.cache().info().computations, 2);
//! });
//! ```
//!
//! # Keys: `PersistentHash`
//!
//! Every key is built from a canonical encoding of the arguments:
//! [`PersistentHash`](crate::PersistentHash) writes each value type-tagged,
//! length-prefixed, little-endian and fixed-width, and never through
//! `std::hash::Hash` (whose output may change between compiler versions). So
//! `("ab", "c")` and `("a", "bc")` differ, as do `Some(0)` and `0`, `"a"` and
//! `b"a"`, `1i64`, `1.0f64` and `true`; integers key by value across widths;
//! `-0.0` and `0.0` are two keys and every NaN is one; a `HashMap` or `HashSet`
//! keys the same whatever its insertion order or hasher seed. The
//! [module](crate::hash) states the rules.
//!
//! - In memory the key *is* the encoding ([`MemKey`](crate::MemKey): inline up to
//!   31 bytes, else a blake3 digest), compared exactly.
//! - For Redis and disk, it is a blake3 digest in derive-key mode
//!   ([`persistent_digest`](crate::persistent_digest) for a value alone;
//!   storage keys also cover the cache's identity and version), the same in every
//!   process, on every machine and in every release: golden vectors in
//!   `tests/golden/` pin the format.
//!
//! Derive it for your own types; `#[persistent_hash(skip)]` leaves a field out:
//!
//! ```
//! use std::collections::HashMap;
//! use cache_core::{PersistentHash, persistent_digest, ttl_cache};
//!
//! #[derive(PersistentHash)]
//! struct Query {
//!     user: u64,
//!     terms: Vec<String>,
//!     filters: HashMap<String, String>,
//!     #[persistent_hash(skip)]
//!     trace_id: u128, // differs per request: not part of the key
//! }
//!
//! #[derive(PersistentHash)]
//! enum Scope { All, Team(u32), Range { from: u64, to: u64 } }
//!
//! #[ttl_cache]
//! fn search(query: &Query, scope: &Scope) -> usize {
//!     query.terms.len()
//! }
//!
//! let query = |trace_id, filters: &[(&str, &str)]| Query {
//!     user: 1,
//!     terms: vec!["rust".into()],
//!     filters: filters.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
//!     trace_id,
//! };
//! search(&query(1, &[("lang", "en"), ("year", "2024")]), &Scope::Team(4));
//! search(&query(2, &[("year", "2024"), ("lang", "en")]), &Scope::Team(4)); // a hit
//! assert_eq!(search::cache_info().hits, 1);
//! search(&query(3, &[]), &Scope::Range { from: 0, to: 9 });
//! search(&query(3, &[]), &Scope::All);
//! assert_eq!(search::cache_info().misses, 3);
//!
//! // Values of different shapes never collide.
//! assert_ne!(persistent_digest(&("ab", "c")), persistent_digest(&("a", "bc")));
//! assert_ne!(persistent_digest(&Some(0u8)), persistent_digest(&0u8));
//! assert_ne!(persistent_digest(&1i64), persistent_digest(&1.0f64));
//! assert_eq!(persistent_digest(&3u8), persistent_digest(&3u64)); // by value
//! let one: HashMap<&str, u8> = [("a", 1), ("b", 2)].into();
//! let other: HashMap<&str, u8> = [("b", 2), ("a", 1)].into(); // another order, another seed
//! assert_eq!(persistent_digest(&one), persistent_digest(&other));
//! ```
//!
//! **Stability.** Keys in Redis and on disk outlive the code that wrote them, so
//! know what moves them. A derived struct encodes its non-skipped fields in
//! declaration order, without the struct's or the fields' names; an enum encodes
//! its variant's name, then its fields. Renaming a struct or a field keeps its
//! keys; reordering, adding or removing a field, changing a field's type to one
//! that encodes differently, or renaming a variant gives new keys. With `typed`
//! the type's name is part of the key too. A changed return type keeps the key,
//! but each stored value carries a schema id of its type, so an old value is a
//! counted decode error (a miss, recomputed and overwritten), never misread. When
//! the meaning of a result changes without its types, bump `version`.
//!
//! ```
//! use cache_core::{PersistentHash, persistent_digest};
//!
//! #[derive(PersistentHash)]
//! struct Before { id: u64, name: String }
//!
//! #[derive(PersistentHash)]
//! struct Renamed { key: u64, label: String } // new names, same field order and types
//!
//! #[derive(PersistentHash)]
//! struct Reordered { name: String, id: u64 }
//!
//! let before = persistent_digest(&Before { id: 1, name: "a".into() });
//! assert_eq!(before, persistent_digest(&Renamed { key: 1, label: "a".into() }));
//! assert_ne!(before, persistent_digest(&Reordered { name: "a".into(), id: 1 }));
//! ```
//!
//! A hand-written implementation writes a tag of its own, then delegates to the
//! fields (what the derive does); the [trait's documentation](crate::PersistentHash)
//! says what an implementation must keep, and
//! [`type_fingerprint`](crate::PersistentHash::type_fingerprint) is what `typed`
//! adds to keys.
//!
//! # Serializers and the envelope
//!
//! In memory, values are kept as they are and never serialized. A storage backend
//! (Redis, a file, your own) stores bytes: a [`Serializer`](crate::codec::Serializer)
//! turns the value into a payload ([`MessagePack`](crate::codec::MessagePack) with
//! named fields by default, [`Json`](crate::codec::Json), or your own), and a
//! [`Codec`](crate::codec::Codec) wraps it in a checked envelope: magic, format
//! version, codec id, schema id, payload length, then a checksum, or a keyed
//! blake3 MAC when a [`MacKey`](crate::codec::MacKey) is set. Stored bytes are
//! untrusted: corrupt, truncated, oversized, wrong-schema, wrongly signed or
//! deeply nested input is a typed [`CodecError`](crate::codec::CodecError), never
//! a panic, and never allocates by a declared length. A cached function treats
//! such a value as a miss, counts it in `decode_errors` and overwrites it.
//!
//! ```
//! use cache_core::codec::{Codec, CodecError, EnvelopeError, Json, MessagePack, schema_id_of};
//!
//! #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
//! struct User { id: u64, name: String }
//!
//! let codec = Codec::new(MessagePack, schema_id_of::<User>());
//! let bytes = codec.encode_value(&User { id: 1, name: "ada".into() }).unwrap();
//! assert_eq!(codec.decode_value::<User>(&bytes).unwrap().name, "ada");
//!
//! // Damage is detected, never misread.
//! let mut damaged = bytes.clone();
//! *damaged.last_mut().unwrap() ^= 1;
//! assert!(codec.decode_value::<User>(&damaged).is_err());
//! assert!(codec.decode_value::<User>(&bytes[..bytes.len() - 3]).is_err());
//!
//! // Another value type (schema id) or another serializer (codec id) is refused too.
//! let other_schema = Codec::new(MessagePack, schema_id_of::<String>());
//! assert!(matches!(
//!     other_schema.decode_value::<User>(&bytes),
//!     Err(CodecError::Envelope(EnvelopeError::SchemaMismatch { .. }))
//! ));
//! assert!(Codec::new(Json, schema_id_of::<User>()).decode_value::<User>(&bytes).is_err());
//!
//! // Signed envelopes: read without the key or with another, nothing decodes;
//! // and a reader with the key refuses unsigned envelopes.
//! let signed = Codec::new(MessagePack, 7).with_mac_key([42; 32]);
//! let sealed = signed.encode_value(&"secret").unwrap();
//! assert_eq!(signed.decode_value::<String>(&sealed).unwrap(), "secret");
//! assert!(Codec::new(MessagePack, 7).decode_value::<String>(&sealed).is_err());
//! assert!(Codec::new(MessagePack, 7).with_mac_key([43; 32]).decode_value::<String>(&sealed).is_err());
//! let unsigned = Codec::new(MessagePack, 7).encode_value(&"forged").unwrap();
//! assert!(signed.decode_value::<String>(&unsigned).is_err());
//! ```
//!
//! A cached function on a storage backend picks its serializer with
//! `serializer = Path` (a `Serializer + Default` type); its values then need
//! `serde::Serialize + serde::de::DeserializeOwned`. Your own serializer
//! implements four methods, with a codec id of 128 or more; the
//! [`Serializer`](crate::codec::Serializer) documentation has a complete one. The
//! envelope's layout is in [`codec::envelope`](crate::codec::envelope).
//!
//! ```
//! use std::sync::LazyLock;
//! use cache_core::codec::Json;
//! use cache_core::ttl_cache;
//! use cache_disk::DiskBackend;
//!
//! static DISK: LazyLock<DiskBackend> = LazyLock::new(|| {
//!     let path = std::env::temp_dir().join(format!("guide-json-{}.cache", std::process::id()));
//!     DiskBackend::builder(path).open().expect("the cache file")
//! });
//!
//! #[derive(Clone, serde::Serialize, serde::Deserialize)]
//! struct Tags(Vec<String>);
//!
//! #[ttl_cache(backend = DISK.clone(), serializer = Json)]
//! fn tags(id: u32) -> Tags {
//!     Tags(vec![format!("tag-{id}")])
//! }
//!
//! assert_eq!(tags(1).0, ["tag-1"]);
//! assert_eq!(tags(1).0, ["tag-1"]); // read back from the file, as JSON
//! assert_eq!(tags::cache_parameters().serializer, "json");
//! # DISK.close().unwrap();
//! # std::fs::remove_file(DISK.path()).unwrap();
//! ```
//!
//! # Mock clocks for tests
//!
//! Tests of expiry should not sleep. [`Clock::mock()`](crate::clock::Clock::mock)
//! returns a clock that moves only when told, and a handle to move it:
//!
//! - a [`Cache`](crate::Cache) takes it with [`CacheBuilder::clock`](crate::CacheBuilder::clock);
//! - a cached function takes it through
//!   [`MemoryBackend::with_clock`](crate::MemoryBackend::with_clock), kept in a
//!   `static` and named as `backend = &*STATIC` (every function naming it sees the
//!   same backend, with its own set of shared caches);
//! - `cache_disk::DiskBackendBuilder::clock` takes it too (its elapsed time is
//!   read as time since the Unix epoch).
//!
//! ```
//! use std::sync::{Arc, LazyLock};
//! use std::time::Duration;
//! use cache_core::clock::{Clock, MockClock};
//! use cache_core::{MemoryBackend, ttl_cache};
//!
//! static CLOCK: LazyLock<(Clock, Arc<MockClock>)> = LazyLock::new(Clock::mock);
//! static BACKEND: LazyLock<MemoryBackend> =
//!     LazyLock::new(|| MemoryBackend::with_clock(CLOCK.0.clone()));
//!
//! #[ttl_cache(ttl = 10, backend = &*BACKEND)]
//! fn token(user: u32) -> String {
//!     format!("token for {user}")
//! }
//!
//! token(1);
//! CLOCK.1.advance(Duration::from_secs(10) - Duration::from_nanos(1));
//! token(1); // a hit: one nanosecond before expiry
//! CLOCK.1.advance(Duration::from_nanos(1));
//! token(1); // expired at exactly ten seconds: the body runs again
//! let info = token::cache_info();
//! assert_eq!((info.hits, info.misses, info.expirations), (1, 2, 1));
//! assert_eq!(CLOCK.1.elapsed(), Duration::from_secs(10));
//! ```
//!
//! Tokio's paused time (`tokio::time::pause`) is for the timeouts and sleeps of
//! your own async code: the cache's expiry follows only its `Clock`.
//!
//! # Redis
//!
//! `cache-redis` stores results in Redis or Redis Cluster, shared by every
//! process that uses the same server and prefix; the README's Redis sections and
//! the crate's documentation describe it in full (key layout, connections, ACLs,
//! costs). The examples below are compiled by `cargo test --doc` but not run
//! (`no_run`): a doctest cannot reach a server. To run them, start a server and
//! use the runnable examples, which do the same:
//!
//! ```sh
//! redis-server --port 6379 --save "" --appendonly no &    # Debian: apt-get install redis-server
//! cargo run --example redis         # sync and async fns; run twice, the second run only hits
//! cargo run --example redis_tier    # the local tier
//! cargo run --example redis_fleet   # fleet-wide single-flight: run it in several terminals
//! cargo run --example redis_lock    # distributed locks
//! cargo run --example redis_map     # RedisMap
//! ```
//!
//! The test suite runs all of this against a `redis-server` and a 3-master
//! cluster that it starts itself (`scripts/test`).
//!
//! ## The backend
//!
//! ```no_run
//! use std::sync::LazyLock;
//! use std::time::Duration;
//! use cache_core::ttl_cache;
//! use cache_redis::RedisBackend;
//!
//! // A cheap handle: clones share the connections. Nothing connects until the
//! // first call, so the process starts while Redis is down.
//! static REDIS: LazyLock<RedisBackend> = LazyLock::new(|| {
//!     RedisBackend::builder("redis://127.0.0.1:6379/") // redis://[user[:password]@]host:port[/db]
//!         .prefix("app") // keys: app:<identity>:v<version>:<64 hex digits>
//!         .op_timeout(Duration::from_millis(250)) // the budget of one call, connecting included
//!         .breaker_threshold(5) // consecutive failures that open the circuit breaker
//!         .breaker_cooldown(Duration::from_secs(1)) // how long it refuses calls before a probe
//!         .build()
//!         .expect("a valid URL")
//! });
//!
//! #[derive(Clone, serde::Serialize, serde::Deserialize)]
//! struct Profile { id: u64, name: String }
//!
//! #[ttl_cache(ttl = 300, backend = REDIS.clone())] // values need serde, as here
//! fn profile(id: u64) -> Profile {
//!     Profile { id, name: format!("user {id}") }
//! }
//!
//! #[ttl_cache(ttl = 300, backend = REDIS.clone())]
//! async fn profile_async(id: u64) -> Profile {
//!     Profile { id, name: format!("user {id}") }
//! }
//!
//! let cold = profile(1); // a miss: computed, then SET app:…::profile:v0000000000:<hex> … PX 300000
//! let warm = profile(1); // a hit, in this process or any other
//! assert_eq!(profile::cache_parameters().backend, "redis");
//! profile::cache_clear(); // SCAN + UNLINK of this function's keys only
//! # let _ = (cold, warm, profile_async(1));
//! ```
//!
//! A cluster is named by any of its nodes; the rest of the builder is the same,
//! and a cache's keys spread over every slot:
//!
//! ```no_run
//! use cache_redis::RedisBackend;
//!
//! let cluster = RedisBackend::cluster(["redis://10.0.0.1:7000/", "redis://10.0.0.2:7000/"])
//!     .prefix("app")
//!     .build()?;
//! # Ok::<(), cache_redis::RedisConfigError>(())
//! ```
//!
//! With the `tls` feature of `cache-redis`, `rediss://` URLs work, and
//! `tls_root_cert(pem)` trusts a private certificate authority.
//!
//! ## Failures
//!
//! A Redis error or timeout is a miss: the body runs, its value is returned, and
//! `backend_errors` counts it. After `breaker_threshold` consecutive failures the
//! breaker answers "miss" without touching the network for `breaker_cooldown`, so
//! an outage does not add a timeout to every call;
//! `RedisBackend::breaker_opens()` counts its openings. A function that must not
//! run while the cache is down says `fail_closed`: it returns `Result<T, E>` with
//! `E: From<BackendError>`, and a failed read is returned as `Err` without running
//! the body.
//!
//! ```no_run
//! # use std::sync::LazyLock;
//! # use cache_redis::RedisBackend;
//! # static REDIS: LazyLock<RedisBackend> =
//! #     LazyLock::new(|| RedisBackend::builder("redis://127.0.0.1:6379/").build().unwrap());
//! use cache_core::{BackendError, ttl_cache};
//!
//! #[derive(Debug)]
//! enum QuoteError { CacheDown(BackendError), Upstream }
//!
//! impl From<BackendError> for QuoteError {
//!     fn from(error: BackendError) -> Self { QuoteError::CacheDown(error) }
//! }
//!
//! /// An upstream that is rate-limited: never call it unthrottled.
//! #[ttl_cache(ttl = 60, backend = REDIS.clone(), fail_closed)]
//! fn quote(symbol: &str) -> Result<u64, QuoteError> {
//!     Ok(42)
//! }
//!
//! match quote("ACME") {
//!     Ok(price) => println!("{price}"),
//!     Err(QuoteError::CacheDown(error)) => eprintln!("cache unavailable: {error}"),
//!     Err(QuoteError::Upstream) => eprintln!("upstream failed"),
//! }
//! println!("breaker opened {} times", REDIS.breaker_opens());
//! ```
//!
//! ## Signed values, shared counters
//!
//! `mac_key` signs every value with keyed blake3, with a key derived per entry
//! from its storage key: a value planted by someone without the key, or a genuine
//! value copied to another key, is refused (a counted `decode_errors` miss,
//! recomputed and overwritten). Every process sharing the cache needs the same
//! key. `shared_counters` also keeps each cache's hit and miss counts in Redis,
//! summed over all processes; calls count locally and a background thread adds
//! them up every interval, so the call path gains no round trip.
//!
//! ```no_run
//! use std::time::Duration;
//! use cache_redis::RedisBackend;
//!
//! let key: [u8; 32] = *b"32 bytes from your secret store!"; // the same key in every process
//! let redis = RedisBackend::builder("redis://127.0.0.1:6379/")
//!     .prefix("app")
//!     .mac_key(key)
//!     .shared_counters(Duration::from_secs(1))
//!     .build()?;
//!
//! let fleet = redis.shared_counters("billing::invoice")?; // the cache's identity
//! println!("hits {} misses {} across all processes", fleet.hits, fleet.misses);
//! redis.flush_counters()?; // before exiting: this process's last counts
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## The local tier
//!
//! `local_tier(max_entries, ttl)` keeps decoded copies of the values this process
//! reads or writes, for at most `ttl` (never past their own TTL), and serves hits
//! from them without a round trip. `cache_clear` in any process is published on
//! `<prefix>:invalidate` and makes every process's copies stale (all copies of
//! the backend: the invalidation is not per cache); while that subscription is
//! not in place, nothing is kept locally. A value another process
//! overwrites after it expired can be served from a copy for up to `ttl`: choose
//! it as the staleness you accept.
//!
//! ```no_run
//! use std::sync::LazyLock;
//! use std::time::Duration;
//! use cache_core::ttl_cache;
//! use cache_redis::RedisBackend;
//!
//! static REDIS: LazyLock<RedisBackend> = LazyLock::new(|| {
//!     RedisBackend::builder("redis://127.0.0.1:6379/")
//!         .prefix("app")
//!         .local_tier(10_000, Duration::from_secs(5))
//!         .build()
//!         .expect("a valid URL")
//! });
//!
//! #[ttl_cache(ttl = 300, backend = REDIS.clone())]
//! fn settings(tenant: u64) -> Vec<String> {
//!     vec![format!("tenant {tenant}")]
//! }
//!
//! settings(1); // Redis, then a local copy
//! settings(1); // served from memory: no round trip
//! settings::cache_clear(); // every process drops its copies
//! ```
//!
//! ## Fleet-wide single-flight
//!
//! `single_flight = fleet` runs the body once across every process sharing the
//! Redis: the first process to miss takes the key's lease (`SET … NX PX`) and
//! computes, the others poll every `fleet_poll` (default 20 ms) until the value is
//! stored. If the holder dies, its lease expires after `fleet_lease` (default 10 s:
//! set it above the longest computation) and one waiter computes. Lease errors
//! fail open: the body runs.
//!
//! ```no_run
//! use std::sync::LazyLock;
//! use std::time::Duration;
//! use cache_core::ttl_cache;
//! use cache_redis::RedisBackend;
//!
//! static REDIS: LazyLock<RedisBackend> = LazyLock::new(|| {
//!     RedisBackend::builder("redis://127.0.0.1:6379/")
//!         .fleet_lease(Duration::from_secs(30))
//!         .fleet_poll(Duration::from_millis(20))
//!         .build()
//!         .expect("a valid URL")
//! });
//!
//! #[ttl_cache(ttl = 3600, backend = REDIS.clone(), single_flight = fleet)]
//! fn nightly_report(day: u32) -> String {
//!     format!("report {day}") // one process of the fleet computes it
//! }
//!
//! nightly_report(20);
//! assert!(nightly_report::cache_parameters().fleet_single_flight);
//! ```
//!
//! ## Locks
//!
//! `RedisBackend::lock(name)` is a lock shared by every process on the same Redis
//! and prefix (key `<prefix>:lock:<name>`). Acquiring retries `SET NX PX` until
//! `blocking_timeout`; a timeout is an error and the critical section does **not**
//! run. The lock expires after `timeout` unless extended, so a crashed holder
//! does not block everyone; release and extend act only while the lock is still
//! ours.
//!
//! ```no_run
//! use std::time::Duration;
//! use cache_redis::{LockError, RedisBackend};
//!
//! let redis = RedisBackend::builder("redis://127.0.0.1:6379/").prefix("app").build()?;
//!
//! match redis.with_lock("nightly-report", || 42) {
//!     Ok(value) => assert_eq!(value, 42),
//!     Err(LockError::Timeout { .. }) => { /* someone else holds it: skipped */ }
//!     Err(other) => return Err(other.into()),
//! }
//!
//! let guard = redis
//!     .lock("rebuild-index")
//!     .timeout(Duration::from_secs(30)) // expiry unless extended (default 5 s)
//!     .blocking_timeout(Duration::from_secs(1)) // give up after (default 10 s)
//!     .acquire()?; // or acquire_async().await, try_acquire()
//! guard.renew()?; // back to the full 30 s
//! guard.release()?; // or drop the guard
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! An in-process lock that async code awaits is `tokio::sync::Mutex`; the
//! documentation of `cache_redis::RedisLock` says why no other is added.
//!
//! ## `RedisMap`
//!
//! A typed map stored in Redis under the backend's prefix, read and written in
//! batches: keys `<prefix>:<map name>:<key>`, values in the checked envelope. A
//! map is a store, not a cache: failures are errors (`MapError`), and a value that
//! does not decode is a miss counted by `decode_errors()`.
//!
//! ```no_run
//! use std::time::Duration;
//! use cache_redis::{RedisBackend, RedisMap};
//!
//! #[derive(Clone, serde::Serialize, serde::Deserialize)]
//! struct Profile { name: String }
//!
//! let redis = RedisBackend::builder("redis://127.0.0.1:6379/").prefix("app").build()?;
//! let profiles: RedisMap<u64, Profile> = RedisMap::new(&redis, "profiles")
//!     .ttl(Duration::from_secs(600)) // every write: SET … PX 600000
//!     .with_default(|id| Profile { name: format!("user {id}") });
//!
//! profiles.set(&1, &Profile { name: "ada".into() })?;
//! profiles.set_many(&[(2, Profile { name: "bob".into() })])?; // one pipeline
//! let found = profiles.get_many(&[1, 2, 3])?; // one MGET: [Some, Some, None]
//! let all = profiles.get_many_or_default(&[1, 2, 3])?; // produces and stores 3
//! profiles.remove(&2)?;
//! # let _ = (found, all);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every call has an `_async` form; `with_default_async` takes an async producer,
//! and `add_get`/`add_set`/`decode` put the map's commands into a pipeline of your
//! own.
//!
//! # A cache in a file: `cache-disk`
//!
//! For programs without a Redis (CLIs, batch jobs, build steps), `cache-disk`
//! keeps results in one file that survives restarts and crashes. These examples
//! run, each against a file of its own in the temporary directory.
//!
//! ```
//! use std::sync::LazyLock;
//! use cache_core::ttl_cache;
//! use cache_disk::DiskBackend;
//!
//! // A cheap handle: every function naming it shares the open file.
//! static DISK: LazyLock<DiskBackend> = LazyLock::new(|| {
//!     let path = std::env::temp_dir().join(format!("guide-disk-{}.cache", std::process::id()));
//!     DiskBackend::builder(path).open().expect("the cache file")
//! });
//!
//! #[ttl_cache(ttl = 86_400, backend = DISK.clone())]
//! fn thumbnail(name: String) -> Vec<u8> {
//!     name.bytes().rev().collect() // something slow, in real code
//! }
//!
//! assert_eq!(thumbnail("cat.png".into()), b"gnp.tac");
//! assert_eq!(thumbnail("cat.png".into()), b"gnp.tac"); // read from the file, in this run and the next
//! assert_eq!(thumbnail::cache_info().current_size, 1);
//! assert_eq!(thumbnail::cache_parameters().backend, "disk");
//! DISK.close().unwrap(); // a `static` is never dropped: mark the shutdown clean
//! # std::fs::remove_file(DISK.path()).unwrap();
//! ```
//!
//! - **Atomic and durable.** Each write is one transaction, fsynced before the
//!   call returns (`Durability::Immediate`, the default); `Durability::Buffered`
//!   skips the fsync, and a crash then loses the last commits whole, never half of
//!   one.
//! - **Recovers by itself.** Opening sets a durable dirty flag and a clean
//!   `close()` clears it; after a crash the next open repairs the file and sweeps
//!   expired entries (`open_report()` says so).
//! - **Never serves a wrong value.** Records carry a keyed check and values the
//!   checked envelope; opening verifies every page checksum, and a damaged file is
//!   refused with `DiskError::Corrupt`. A file written by another format or key
//!   scheme is refused (`VersionMismatch`) or emptied with
//!   `OnVersionMismatch::Flush`.
//! - **One process at a time.** The file is locked: a second open gets
//!   `DiskError::Locked`.
//! - **Bounded.** `max_entries` and `max_bytes` (default 256 MiB) evict the
//!   entries that expire soonest, expired ones first.
//!
//! `DiskCache<K, V>` is the typed API, without the macro:
//!
//! ```
//! use std::time::Duration;
//! use cache_disk::{DiskBackend, DiskCache, DiskError, Durability};
//!
//! let path = std::env::temp_dir().join(format!("guide-typed-{}.cache", std::process::id()));
//! let disk = DiskBackend::builder(&path)
//!     .durability(Durability::Buffered) // no fsync per write: flush() or close() make it durable
//!     .max_entries(100_000)
//!     .open()?;
//! assert!(disk.open_report().created);
//!
//! let pages: DiskCache<str, String> = DiskCache::new(&disk, "pages").ttl(Duration::from_secs(3600));
//! pages.insert("/", &"<h1>home</h1>".to_string())?;
//! assert_eq!(pages.get("/")?.as_deref(), Some("<h1>home</h1>"));
//! let about = pages.get_or_insert_with("/about", || "<h1>about</h1>".to_string());
//! assert_eq!(about, "<h1>about</h1>");
//! assert_eq!(pages.len()?, 2);
//!
//! // The file has one owner: a second open is refused, naming the file.
//! assert!(matches!(DiskBackend::open(&path), Err(DiskError::Locked { .. })));
//!
//! disk.close()?;
//! # drop((pages, disk));
//! # std::fs::remove_file(&path).unwrap();
//! # Ok::<(), DiskError>(())
//! ```
//!
//! # Cargo features
//!
//! Applications can depend on one crate, the facade `ttl-cache`, and turn on what
//! they use:
//!
//! ```toml
//! [dependencies]
//! # not on crates.io yet: a path to a checkout of the repository (or a git URL)
//! ttl-cache = { path = "../ttl-cache/ttl-cache", features = ["redis", "disk"] }
//! serde = { version = "1", features = ["derive"] } # values stored in Redis or a file
//! ```
//!
//! Then `use ttl_cache::ttl_cache;` brings in the macro, the root of `ttl_cache`
//! holds all of `cache_core` (`ttl_cache::Cache`, `ttl_cache::PersistentHash`, …),
//! `ttl_cache::redis` is `cache_redis` and `ttl_cache::disk` is `cache_disk`.
//!
//! | feature | adds |
//! |---|---|
//! | *(none: `default = []`)* | the in-memory cache, `#[ttl_cache]`, `Cache`, `DefaultMap`, `PersistentHash`, `codec`; no tokio, no network or storage crates |
//! | `redis` | `ttl_cache::redis`: `RedisBackend` (Redis and Redis Cluster), locks, `RedisMap`, the local tier, shared counters |
//! | `tls` | `redis` with `rediss://` URLs and `tls_root_cert` |
//! | `disk` | `ttl_cache::disk`: `DiskBackend` and `DiskCache` |
//! | `tracing`, `metrics` | observability: see the README's Observability section |
//!
//! `#[ttl_cache]` works for a crate that depends on `ttl-cache` alone. `async fn`s
//! work with every feature set: the in-memory cache needs no runtime of its own.
//! The README's "Cargo features" section is the reference.
