//! Explicit lifetime parameters are accepted (`fn f<'a>(s: &'a str) -> usize`).
use cache_core::ttl_cache;

#[ttl_cache]
fn length<'a>(s: &'a str) -> usize {
    s.len()
}

#[ttl_cache]
fn longest<'a, 'b: 'a>(a: &'a str, b: &'b str) -> String {
    if a.len() >= b.len() {
        a.to_owned()
    } else {
        b.to_owned()
    }
}

fn main() {
    let owned = String::from("hello");
    assert_eq!(length(&owned), 5);
    assert_eq!(length("hello"), 5);
    assert_eq!(length::cache_info().hits, 1);
    assert_eq!(longest("ab", "abc"), "abc");
}
