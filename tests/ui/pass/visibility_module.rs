//! `pub` and `pub(crate)` functions in a module are callable, with their handles, from outside.
use cache_core::ttl_cache;

mod m {
    use cache_core::ttl_cache;

    #[ttl_cache]
    pub fn f(x: u64) -> u64 {
        x + 1
    }

    #[ttl_cache]
    pub(crate) fn g(x: u64) -> u64 {
        x + 2
    }

    pub mod inner {
        use cache_core::ttl_cache;

        #[ttl_cache]
        pub(crate) fn h(x: u64) -> u64 {
            x + 3
        }
    }
}

#[ttl_cache]
fn local(x: u64) -> u64 {
    m::f(x)
}

fn main() {
    assert_eq!(m::f(1), 2);
    assert_eq!(m::f(1), 2);
    assert_eq!(m::g(1), 3);
    assert_eq!(m::inner::h(1), 4);
    assert_eq!(local(1), 2);
    assert_eq!(m::f::cache_info().hits, 2);
    assert_eq!(m::g::cache_info().misses, 1);
    assert_eq!(m::inner::h::cache_info().misses, 1);
    m::f::cache_clear();
    assert_eq!(m::f::cache_info().current_size, 0);
    assert!(m::f::cache_parameters().identifier.ends_with("::m::f"));
}
