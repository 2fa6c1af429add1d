//! `single_flight` takes a flag or `fleet`; anything else is spanned on the value.
use cache_core::ttl_cache;

#[ttl_cache(single_flight = everywhere)]
fn f(x: u64) -> u64 {
    x
}

fn main() {
    f(1);
}
