//! A `key = …` expression cannot see the expansion's `__ttl_cache_site` binding.
use cache_core::ttl_cache;

#[ttl_cache(key = (a, __ttl_cache_site.cache_info().hits))]
fn f(a: u64) -> u64 {
    a
}

fn main() {
    f(1);
}
