//! `#[ttl_cache]` on sync functions and methods: counters, clearing, what is and
//! is not stored (errors, `None`, panics), shared identifiers, `typed`, `key`,
//! `skip`, TTL expiry on a mock clock, the entry bound, recursion and
//! single-flight across threads.
//!
//! Every test uses its own cached functions (caches are per function and
//! process-global). TTLs are checked on mock clocks, and concurrent callers are
//! released by gates the test opens once the cache's own counters show every
//! caller has missed; every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, LazyLock, mpsc};
use std::thread;
use std::time::Duration;

use cache_core::clock::{Clock, MockClock};
use cache_core::{DEFAULT_MAX_ENTRIES, DEFAULT_TTL, MemoryBackend, PersistentHash, ttl_cache};
use cache_tests::figures::record;
use cache_tests::{DEADLINE, Gate, wait_until};
use serde_json::json;

/// A memory backend on its own mock clock, so a test moves only its own time.
fn mock_memory() -> (MemoryBackend, Arc<MockClock>) {
    let (clock, time) = Clock::mock();
    (MemoryBackend::with_clock(clock), time)
}

// ---- hits, misses, clearing ----------------------------------------------

static SQUARE_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
fn square(x: u64) -> u64 {
    SQUARE_CALLS.fetch_add(1, Ordering::SeqCst);
    x * x
}

/// The basic contract: the first call computes and stores, the second is a hit.
#[test]
fn second_call_with_same_args_is_a_hit() {
    assert_eq!(square(7), 49);
    assert_eq!(square(7), 49);
    let info = square::cache_info();
    assert_eq!(info.hits, 1);
    assert_eq!(info.misses, 1);
    assert_eq!(info.computations, 1);
    assert_eq!(info.current_size, 1);
    assert_eq!(SQUARE_CALLS.load(Ordering::SeqCst), 1);
}

static CLEARED_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
fn cleared(x: u64) -> u64 {
    CLEARED_CALLS.fetch_add(1, Ordering::SeqCst);
    x + 1
}

/// `cache_clear` must drop every entry and zero the counters, so the next call
/// recomputes.
#[test]
fn cache_clear_resets_counters_and_size_and_forces_recompute() {
    cleared(1);
    cleared(1);
    cleared(2);
    assert_eq!(cleared::cache_info().current_size, 2);
    cleared::cache_clear();
    let info = cleared::cache_info();
    assert_eq!(
        (info.hits, info.misses, info.computations, info.current_size),
        (0, 0, 0, 0),
        "{info:?}"
    );
    assert_eq!(cleared(1), 2);
    assert_eq!(
        CLEARED_CALLS.load(Ordering::SeqCst),
        3,
        "no recompute after clear"
    );
    let info = cleared::cache_info();
    assert_eq!(
        (info.misses, info.computations, info.current_size),
        (1, 1, 1)
    );
    assert!(cleared::cache().try_cache_clear().is_ok());
}

// ---- what is stored ----------------------------------------------------------

static PARSE_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
fn parse_even(x: u64) -> Result<u64, String> {
    PARSE_CALLS.fetch_add(1, Ordering::SeqCst);
    if x.is_multiple_of(2) {
        Ok(x / 2)
    } else {
        Err(format!("{x} is odd"))
    }
}

/// An `Err` is a transient failure: caching it would replay the failure for
/// the whole TTL. Only `Ok` values may be stored.
#[test]
fn result_errors_are_never_cached_and_ok_is() {
    assert_eq!(parse_even(3), Err("3 is odd".to_owned()));
    assert_eq!(parse_even(3), Err("3 is odd".to_owned()));
    let info = parse_even::cache_info();
    assert_eq!(info.computations, 2, "an error was served from the cache");
    assert_eq!(info.current_size, 0, "an error was stored");
    assert_eq!(PARSE_CALLS.load(Ordering::SeqCst), 2);

    assert_eq!(parse_even(4), Ok(2));
    assert_eq!(parse_even(4), Ok(2));
    let info = parse_even::cache_info();
    assert_eq!(info.computations, 3);
    assert_eq!(info.hits, 1);
    assert_eq!(info.current_size, 1);
}

type Fallible<T> = Result<T, String>;

static ALIAS_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(result)]
fn parse_even_aliased(x: u64) -> Fallible<u64> {
    ALIAS_CALLS.fetch_add(1, Ordering::SeqCst);
    if x.is_multiple_of(2) {
        Ok(x / 2)
    } else {
        Err(format!("{x} is odd"))
    }
}

/// The macro recognizes `Result` by name; `result` must give an alias the same
/// "errors are never cached" treatment.
#[test]
fn result_option_on_type_alias_never_caches_errors() {
    assert!(parse_even_aliased(5).is_err());
    assert!(parse_even_aliased(5).is_err());
    let info = parse_even_aliased::cache_info();
    assert_eq!(info.computations, 2, "an aliased error was cached");
    assert_eq!(info.current_size, 0);

    assert_eq!(parse_even_aliased(8), Ok(4));
    assert_eq!(parse_even_aliased(8), Ok(4));
    let info = parse_even_aliased::cache_info();
    assert_eq!((info.computations, info.hits, info.current_size), (3, 1, 1));
    assert_eq!(ALIAS_CALLS.load(Ordering::SeqCst), 3);
}

#[ttl_cache]
fn lookup_default(x: u64) -> Option<u64> {
    (x > 10).then_some(x)
}

/// `None` is a real answer ("not found") and is cached unless told otherwise.
#[test]
fn option_none_is_cached_by_default() {
    assert_eq!(lookup_default(1), None);
    assert_eq!(lookup_default(1), None);
    let info = lookup_default::cache_info();
    assert_eq!((info.hits, info.computations, info.current_size), (1, 1, 1));
}

#[ttl_cache(cache_none = false)]
fn lookup_no_none(x: u64) -> Option<u64> {
    (x > 10).then_some(x)
}

/// `cache_none = false` must recompute `None` every time but still store `Some`.
#[test]
fn cache_none_false_skips_none_but_caches_some() {
    assert_eq!(lookup_no_none(1), None);
    assert_eq!(lookup_no_none(1), None);
    let info = lookup_no_none::cache_info();
    assert_eq!(info.computations, 2, "None was cached");
    assert_eq!(info.current_size, 0);

    assert_eq!(lookup_no_none(11), Some(11));
    assert_eq!(lookup_no_none(11), Some(11));
    let info = lookup_no_none::cache_info();
    assert_eq!((info.computations, info.hits, info.current_size), (3, 1, 1));
    assert!(!lookup_no_none::cache_parameters().cache_none);
}

static FLAKY_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
fn flaky(x: u64) -> u64 {
    if FLAKY_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
        panic!("first call fails");
    }
    x * 10
}

/// A panicking body must leave no entry (nor a stuck in-flight slot) behind:
/// the next call recomputes.
#[test]
fn panicking_body_is_not_cached_and_next_call_recomputes() {
    let first = catch_unwind(AssertUnwindSafe(|| flaky(4)));
    assert!(first.is_err(), "the body's panic must reach the caller");
    assert_eq!(flaky::cache_info().current_size, 0);
    assert_eq!(flaky(4), 40);
    assert_eq!(flaky(4), 40);
    assert_eq!(FLAKY_CALLS.load(Ordering::SeqCst), 2);
    let info = flaky::cache_info();
    assert_eq!((info.computations, info.hits, info.current_size), (2, 1, 1));
}

// ---- identifiers ---------------------------------------------------------------

static SHARED_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(identifier = "ttl_cache_behaviour shared price")]
fn price_a(x: u64) -> u64 {
    SHARED_CALLS.fetch_add(1, Ordering::SeqCst);
    x * 3
}

#[ttl_cache(identifier = "ttl_cache_behaviour shared price")]
fn price_b(x: u64) -> u64 {
    SHARED_CALLS.fetch_add(1, Ordering::SeqCst);
    x * 3
}

/// Functions naming one `identifier` are one cache: a result stored by one is a
/// hit for the other, and both report the same counters.
#[test]
fn shared_identifier_gives_a_hit_across_functions() {
    assert_eq!(price_a(5), 15);
    assert_eq!(price_b(5), 15);
    assert_eq!(SHARED_CALLS.load(Ordering::SeqCst), 1, "price_b recomputed");
    let a = price_a::cache_info();
    let b = price_b::cache_info();
    assert_eq!(a, b, "the two views of one shared cache differ");
    assert_eq!((a.hits, a.misses, a.current_size), (1, 1, 1));
    assert_eq!(
        price_a::cache_parameters().identifier,
        "ttl_cache_behaviour shared price"
    );
}

static SEPARATE_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
fn separate_a(x: u64) -> u64 {
    SEPARATE_CALLS.fetch_add(1, Ordering::SeqCst);
    x
}

#[ttl_cache]
fn separate_b(x: u64) -> u64 {
    SEPARATE_CALLS.fetch_add(1, Ordering::SeqCst);
    x
}

/// Without an `identifier`, two functions with identical signatures must never
/// see each other's results.
#[test]
fn functions_without_identifier_have_separate_caches() {
    separate_a(5);
    separate_b(5);
    assert_eq!(SEPARATE_CALLS.load(Ordering::SeqCst), 2);
    assert_eq!(separate_a::cache_info().misses, 1);
    assert_eq!(separate_a::cache_info().hits, 0);
    assert_eq!(separate_b::cache_info().misses, 1);
    assert_eq!(separate_b::cache_info().current_size, 1);
}

// ---- methods -----------------------------------------------------------------

#[derive(PersistentHash)]
struct Account {
    base: u64,
}

static BALANCE_CALLS: AtomicUsize = AtomicUsize::new(0);
static SHARED_BALANCE_CALLS: AtomicUsize = AtomicUsize::new(0);

impl Account {
    #[ttl_cache]
    fn balance(&self, delta: u64) -> u64 {
        BALANCE_CALLS.fetch_add(1, Ordering::SeqCst);
        self.base + delta
    }

    #[ttl_cache(skip(self))]
    fn rate(&self, delta: u64) -> u64 {
        SHARED_BALANCE_CALLS.fetch_add(1, Ordering::SeqCst);
        self.base + delta
    }
}

/// `self` is part of the key: two instances with different state must not
/// share a result, and each repeats as a hit.
#[test]
fn method_results_are_keyed_by_instance_state() {
    let (a, b) = (Account { base: 100 }, Account { base: 200 });
    assert_eq!(a.balance(1), 101);
    assert_eq!(b.balance(1), 201);
    assert_eq!(a.balance(1), 101);
    assert_eq!(b.balance(1), 201);
    assert_eq!(BALANCE_CALLS.load(Ordering::SeqCst), 2);
    let info = Account::balance_cache().cache_info();
    assert_eq!((info.misses, info.hits, info.current_size), (2, 2, 2));
}

/// `skip(self)` leaves the receiver out of the key, so every instance shares
/// the entries (the documented meaning: the result does not depend on `self`).
#[test]
fn skip_self_makes_instances_share_entries() {
    let (a, b) = (Account { base: 100 }, Account { base: 200 });
    assert_eq!(a.rate(1), 101);
    assert_eq!(b.rate(1), 101, "skip(self) must serve a's entry to b");
    assert_eq!(SHARED_BALANCE_CALLS.load(Ordering::SeqCst), 1);
    let info = Account::rate_cache().cache_info();
    assert_eq!((info.misses, info.hits, info.current_size), (1, 1, 1));
}

// ---- TTL on a mock clock -----------------------------------------------------

static TEN_SECONDS: LazyLock<(MemoryBackend, Arc<MockClock>)> = LazyLock::new(mock_memory);

#[ttl_cache(ttl = 10, backend = TEN_SECONDS.0.clone())]
fn ten_seconds(x: u64) -> u64 {
    x + 1
}

/// A result is served while younger than its TTL and recomputed once it is not.
#[test]
fn ttl_entry_hits_before_expiry_and_misses_after() {
    let time = &TEN_SECONDS.1;
    assert_eq!(ten_seconds(1), 2);
    time.advance(Duration::from_millis(9_999));
    assert_eq!(ten_seconds(1), 2);
    assert_eq!(ten_seconds::cache_info().hits, 1, "expired before its ttl");
    time.advance(Duration::from_millis(2));
    assert_eq!(ten_seconds(1), 2);
    let info = ten_seconds::cache_info();
    assert_eq!(info.computations, 2, "served after its ttl");
    assert_eq!(info.hits, 1);
    assert!(info.expirations >= 1, "{info:?}");
    assert_eq!(
        ten_seconds::cache_parameters().ttl,
        Some(Duration::from_secs(10))
    );
}

static NEVER: LazyLock<(MemoryBackend, Arc<MockClock>)> = LazyLock::new(mock_memory);

#[ttl_cache(ttl = None, backend = NEVER.0.clone())]
fn never_expires(x: u64) -> u64 {
    x + 1
}

/// `ttl = None` means "never expires", however much time passes.
#[test]
fn ttl_none_never_expires() {
    assert_eq!(never_expires(1), 2);
    NEVER
        .1
        .advance(Duration::from_secs(100 * 365 * 24 * 60 * 60));
    assert_eq!(never_expires(1), 2);
    let info = never_expires::cache_info();
    assert_eq!((info.computations, info.hits, info.expirations), (1, 1, 0));
    assert_eq!(never_expires::cache_parameters().ttl, None);
}

static FRACTIONAL: LazyLock<(MemoryBackend, Arc<MockClock>)> = LazyLock::new(mock_memory);

#[ttl_cache(ttl = 1.5, backend = FRACTIONAL.0.clone())]
fn fractional(x: u64) -> u64 {
    x + 1
}

/// A float TTL is fractional seconds, not truncated: 1.5 s expires between
/// 1.4 s and 1.6 s.
#[test]
fn float_ttl_expires_between_1_4_and_1_6_seconds() {
    let time = &FRACTIONAL.1;
    fractional(1);
    time.advance(Duration::from_millis(1_400));
    fractional(1);
    assert_eq!(fractional::cache_info().hits, 1, "expired before 1.4 s");
    time.advance(Duration::from_millis(200));
    fractional(1);
    let info = fractional::cache_info();
    assert_eq!((info.hits, info.computations), (1, 2), "alive after 1.6 s");
    assert_eq!(
        fractional::cache_parameters().ttl,
        Some(Duration::from_millis(1_500))
    );
}

// ---- typed -------------------------------------------------------------------

static WIDTH_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(identifier = "ttl_cache_behaviour width untyped")]
fn width_small(x: u8) -> u64 {
    WIDTH_CALLS.fetch_add(1, Ordering::SeqCst);
    u64::from(x) * 2
}

#[ttl_cache(identifier = "ttl_cache_behaviour width untyped")]
fn width_big(x: u64) -> u64 {
    WIDTH_CALLS.fetch_add(1, Ordering::SeqCst);
    x * 2
}

/// Untyped keys encode values, not types: `7u8` and `7u64` are the same key.
#[test]
fn untyped_keys_share_entries_across_integer_widths() {
    assert_eq!(width_small(7), 14);
    assert_eq!(width_big(7), 14);
    assert_eq!(WIDTH_CALLS.load(Ordering::SeqCst), 1, "7u8 and 7u64 differ");
    assert_eq!(width_big::cache_info().hits, 1);
    assert!(!width_big::cache_parameters().typed);
}

static TYPED_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(identifier = "ttl_cache_behaviour width typed", typed)]
fn typed_small(x: u8) -> u64 {
    TYPED_CALLS.fetch_add(1, Ordering::SeqCst);
    u64::from(x) * 2
}

#[ttl_cache(identifier = "ttl_cache_behaviour width typed", typed)]
fn typed_big(x: u64) -> u64 {
    TYPED_CALLS.fetch_add(1, Ordering::SeqCst);
    x * 2
}

/// `typed` puts argument types in the key: `7u8` and `7u64` must not collide.
#[test]
fn typed_keys_separate_integer_widths() {
    typed_small(7);
    typed_big(7);
    assert_eq!(TYPED_CALLS.load(Ordering::SeqCst), 2, "typed keys collided");
    let info = typed_big::cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (0, 2, 2));
    assert!(typed_big::cache_parameters().typed);
}

// ---- key, skip, version, parameters ------------------------------------------

static BUCKET_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(key = a % 10)]
fn last_digit_bucket(a: u64) -> u64 {
    BUCKET_CALLS.fetch_add(1, Ordering::SeqCst);
    a
}

/// `key = expr` replaces the arguments as the key: calls with equal keys share
/// a result even when their arguments differ.
#[test]
fn key_expression_replaces_arguments_in_key() {
    assert_eq!(last_digit_bucket(3), 3);
    assert_eq!(last_digit_bucket(13), 3, "13 % 10 == 3 must hit 3's entry");
    assert_eq!(last_digit_bucket(4), 4);
    assert_eq!(BUCKET_CALLS.load(Ordering::SeqCst), 2);
    let info = last_digit_bucket::cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 2, 2));
}

static SKIP_CALLS: AtomicUsize = AtomicUsize::new(0);

/// `calls` is not `PersistentHash`: this compiles only because it is skipped.
#[ttl_cache(skip(calls))]
fn skip_counter(x: u64, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, Ordering::SeqCst);
    x + 100
}

/// A skipped argument takes no part in the key: a different value for it still hits.
#[test]
fn skipped_argument_is_left_out_of_the_key() {
    let other = AtomicUsize::new(0);
    assert_eq!(skip_counter(1, &SKIP_CALLS), 101);
    assert_eq!(skip_counter(1, &other), 101);
    assert_eq!(SKIP_CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(
        other.load(Ordering::SeqCst),
        0,
        "skipped arg changed the key"
    );
    assert_eq!(skip_counter(2, &other), 102);
    assert_eq!(skip_counter::cache_info().hits, 1);
}

#[ttl_cache(version = 3)]
fn versioned(x: u64) -> u64 {
    x
}

/// `version` is part of every persistent key; it must be reported as given.
#[test]
fn version_is_reported_in_cache_parameters() {
    assert_eq!(versioned::cache_parameters().version, 3);
    assert_eq!(versioned(1), 1);
}

#[ttl_cache]
fn defaults(x: u64) -> u64 {
    x
}

/// With no options, the reported settings are the documented defaults and the
/// identifier is `module_path::function`.
#[test]
fn cache_parameters_report_the_defaults() {
    let params = defaults::cache_parameters();
    assert_eq!(params.ttl, Some(DEFAULT_TTL));
    assert_eq!(params.ttl, Some(Duration::from_secs(60)));
    assert_eq!(params.max_entries, DEFAULT_MAX_ENTRIES);
    assert_eq!(params.identifier, "ttl_cache_behaviour::defaults");
    assert_eq!(params.version, 0);
    assert!(!params.typed);
    assert_eq!(params.backend, "memory");
    assert_eq!(params.serializer, "none");
    assert!(params.single_flight);
    assert!(params.cache_none);
    assert_eq!(
        defaults::cache_info().max_entries,
        DEFAULT_MAX_ENTRIES as u64
    );
}

#[ttl_cache(
    ttl = Duration::from_millis(250),
    max_entries = 42,
    identifier = "ttl_cache_behaviour configured",
    version = 9,
    typed,
    single_flight = false
)]
fn configured(x: u64) -> u64 {
    x
}

/// Every option given must be reported back by `cache_parameters`, including a
/// `Duration` expression as the TTL.
#[test]
fn cache_parameters_report_every_given_option() {
    let params = configured::cache_parameters();
    assert_eq!(params.ttl, Some(Duration::from_millis(250)));
    assert_eq!(params.max_entries, 42);
    assert_eq!(params.identifier, "ttl_cache_behaviour configured");
    assert_eq!(params.version, 9);
    assert!(params.typed);
    assert_eq!(params.backend, "memory");
    assert_eq!(params.serializer, "none");
    assert!(!params.single_flight);
    assert_eq!(configured(1), 1);
    assert_eq!(configured::cache_info().max_entries, 42);
}

// ---- bound, single_flight = false, recursion -----------------------------------

#[ttl_cache(max_entries = 5)]
fn bounded(x: u64) -> u64 {
    x * 2
}

/// `max_entries` is a hard bound: 50 distinct results leave at most 5 stored,
/// the rest counted as evictions.
#[test]
fn max_entries_bound_holds_after_many_distinct_calls() {
    for x in 0..50 {
        assert_eq!(bounded(x), x * 2);
    }
    let info = bounded::cache_info();
    assert!(info.current_size <= 5, "bound exceeded: {info:?}");
    assert!(info.evictions >= 45, "too few evictions: {info:?}");
    assert_eq!(info.computations, 50);
    assert_eq!(info.max_entries, 5);
}

static UNFLIGHTED_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(single_flight = false)]
fn unflighted(x: u64) -> u64 {
    UNFLIGHTED_CALLS.fetch_add(1, Ordering::SeqCst);
    x + 7
}

/// Turning single-flight off only drops the dedup of concurrent misses; results
/// must still be stored and served.
#[test]
fn single_flight_false_still_caches() {
    assert_eq!(unflighted(1), 8);
    assert_eq!(unflighted(1), 8);
    assert_eq!(UNFLIGHTED_CALLS.load(Ordering::SeqCst), 1);
    let info = unflighted::cache_info();
    assert_eq!((info.hits, info.misses, info.computations), (1, 1, 1));
    assert_eq!(info.current_size, 1);
}

#[ttl_cache(ttl = None)]
fn fib(n: u64) -> u64 {
    if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
}

/// A memoized function calling itself on other keys must neither deadlock on
/// its own single-flight nor recompute: fib(90) needs exactly 91 bodies.
#[test]
fn recursive_fib_computes_each_value_once() {
    assert_eq!(fib(90), 2_880_067_194_370_816_120);
    let info = fib::cache_info();
    assert_eq!(info.computations, 91, "{info:?}");
    assert_eq!(info.misses, 91, "{info:?}");
    // fib(n) for n >= 3 finds fib(n - 2) stored by its fib(n - 1) call.
    assert_eq!(info.hits, 88, "{info:?}");
    assert_eq!(info.reentrant_bypass, 0, "{info:?}");
    assert_eq!(info.current_size, 91);
    record(
        "R6",
        "ttl_cache_behaviour::recursive_fib_computes_each_value_once",
        json!({
            "computations": info.computations,
            "misses": info.misses,
            "hits": info.hits,
            "reentrant_bypass": info.reentrant_bypass,
        }),
    );
}

static SELF_CALLS: AtomicUsize = AtomicUsize::new(0);

/// Calls itself once with the same argument, from inside its own body.
#[ttl_cache(ttl = None)]
fn calls_itself(x: u64) -> u64 {
    if SELF_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
        calls_itself(x) + 1
    } else {
        x
    }
}

/// R6 through the macro: a body that calls its own function with the same
/// arguments bypasses the flight it is the leader of (counted) instead of
/// waiting on itself forever; the outer body's value is the one stored.
#[test]
fn recursion_on_the_same_arguments_bypasses_instead_of_deadlocking() {
    let (tx, rx) = mpsc::channel();
    // On its own thread, so a deadlock fails the test instead of hanging it.
    thread::spawn(move || {
        let _ = tx.send(calls_itself(10));
    });
    let value = rx
        .recv_timeout(DEADLINE)
        .expect("deadlocked on its own key");
    assert_eq!(value, 11);
    assert_eq!(calls_itself(10), 11, "the outer value is the one stored");
    let info = calls_itself::cache_info();
    assert_eq!(info.reentrant_bypass, 1, "{info:?}");
    assert_eq!((info.computations, info.hits), (2, 1), "{info:?}");
    assert_eq!(info.current_size, 1);
    record(
        "R6",
        "ttl_cache_behaviour::recursion_on_the_same_arguments_bypasses_instead_of_deadlocking",
        json!({
            "computations": info.computations,
            "hits": info.hits,
            "reentrant_bypass": info.reentrant_bypass,
        }),
    );
}

// ---- single-flight across threads ------------------------------------------------

const CALLERS: usize = 16;

static GATED_GATE: LazyLock<Gate> = LazyLock::new(Gate::new);
static GATED_CALLS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
fn gated(x: u64) -> u64 {
    GATED_CALLS.fetch_add(1, Ordering::SeqCst);
    // Held until every caller has missed and waits on this computation.
    GATED_GATE.wait();
    x * 1_000
}

/// Concurrent misses on one cold key must run the body once and hand its value
/// to every caller (single-flight).
#[test]
fn concurrent_callers_on_one_cold_key_compute_once() {
    let barrier = Barrier::new(CALLERS);
    let values: Vec<u64> = thread::scope(|s| {
        let callers: Vec<_> = (0..CALLERS)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    gated(9)
                })
            })
            .collect();
        // Every caller counts its miss before it waits on the flight.
        let all_missed = wait_until(|| gated::cache_info().misses == CALLERS as u64);
        GATED_GATE.open();
        assert!(
            all_missed,
            "only {} of {CALLERS} callers missed",
            gated::cache_info().misses
        );
        callers.into_iter().map(|c| c.join().unwrap()).collect()
    });
    assert_eq!(
        GATED_CALLS.load(Ordering::SeqCst),
        1,
        "the body ran more than once"
    );
    let info = gated::cache_info();
    assert_eq!(info.computations, 1);
    assert_eq!(info.current_size, 1);
    assert_eq!(values, vec![9_000; CALLERS]);
}

#[ttl_cache(identifier = "behaviour-shared-bound", max_entries = 5, ttl = 7)]
fn bound_first(x: u64) -> u64 {
    x
}

#[ttl_cache(identifier = "behaviour-shared-bound", max_entries = 500, ttl = 70)]
fn bound_second(x: u64) -> u64 {
    x
}

/// The first function to touch a shared cache decides its TTL and bound, and
/// every function sharing it reports (and gets) those settings.
#[test]
fn shared_identifier_reports_the_settings_in_force() {
    bound_first(0);
    for x in 0..50 {
        bound_second(x);
    }
    for info in [bound_first::cache_info(), bound_second::cache_info()] {
        assert_eq!(info.max_entries, 5);
        assert!(info.current_size <= 5, "{info:?}");
    }
    let second = bound_second::cache_parameters();
    assert_eq!(
        (second.max_entries, second.ttl),
        (5, Some(Duration::from_secs(7)))
    );
}

#[ttl_cache(key = *id)]
fn with_scratch(id: &u32, scratch: &mut Vec<u32>) -> u32 {
    scratch.push(*id);
    *id * 2
}

/// With `key = …` the arguments are not part of the key, so a `&mut` argument
/// needs no `skip`.
#[test]
fn key_expression_allows_mut_arguments() {
    let mut scratch = Vec::new();
    assert_eq!(with_scratch(&4, &mut scratch), 8);
    assert_eq!(with_scratch(&4, &mut scratch), 8);
    assert_eq!(scratch, [4], "the second call is a hit");
    assert_eq!(with_scratch::cache_info().hits, 1);
}

/// Hashes as a `u64` but cannot be cloned, and counts how often it is hashed.
struct NotClone(u64, &'static AtomicUsize);

impl cache_core::PersistentHash for NotClone {
    fn persistent_hash<S: cache_core::HashSink + ?Sized>(&self, sink: &mut S) {
        self.1.fetch_add(1, Ordering::SeqCst);
        self.0.persistent_hash(sink);
    }
}

static NOT_CLONE_HASHES: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
fn owned_not_clone(arg: NotClone, by_ref: &NotClone) -> u64 {
    arg.0 + by_ref.0
}

/// Arguments are hashed by reference, never cloned: a by-value argument that is
/// not `Clone` works, and each argument is hashed exactly once per call.
#[test]
fn arguments_are_hashed_by_reference_once_per_call() {
    let other = NotClone(2, &NOT_CLONE_HASHES);
    assert_eq!(owned_not_clone(NotClone(1, &NOT_CLONE_HASHES), &other), 3);
    assert_eq!(owned_not_clone(NotClone(1, &NOT_CLONE_HASHES), &other), 3);
    assert_eq!(NOT_CLONE_HASHES.load(Ordering::SeqCst), 4);
    assert_eq!(owned_not_clone::cache_info().hits, 1);
}
