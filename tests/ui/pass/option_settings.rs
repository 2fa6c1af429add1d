//! `max_entries`, `identifier`, `version`, `typed` and `single_flight = false`.
use cache_core::ttl_cache;

#[ttl_cache(max_entries = 100)]
fn bounded(x: u64) -> u64 {
    x
}

#[ttl_cache(identifier = "shared", version = 2)]
fn first(x: u64) -> u64 {
    x + 1
}

#[ttl_cache(identifier = "shared", version = 2)]
fn second(x: u64) -> u64 {
    x + 1
}

#[ttl_cache(typed)]
fn typed(x: u64) -> u64 {
    x
}

#[ttl_cache(typed = false, single_flight = false)]
fn loose(x: u64) -> u64 {
    x
}

fn main() {
    assert_eq!(bounded(1), 1);
    assert_eq!(bounded::cache_parameters().max_entries, 100);

    // One shared cache: `second` hits what `first` stored.
    assert_eq!(first(1), 2);
    assert_eq!(second(1), 2);
    assert_eq!(second::cache_info().hits, 1);
    let parameters = first::cache_parameters();
    assert_eq!(
        (parameters.identifier.as_str(), parameters.version),
        ("shared", 2)
    );

    assert_eq!(typed(1), 1);
    assert!(typed::cache_parameters().typed);

    assert_eq!(loose(1), 1);
    assert_eq!(loose(1), 1);
    let parameters = loose::cache_parameters();
    assert!(!parameters.typed && !parameters.single_flight);
    assert_eq!(loose::cache_info().hits, 1);
}
