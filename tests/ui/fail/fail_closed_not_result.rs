//! `fail_closed` on a function that cannot return an error is rejected: there
//! would be no way to hand the backend error to the caller.
use cache_core::ttl_cache;

#[ttl_cache(fail_closed)]
fn f(x: u64) -> u64 {
    x
}

fn main() {
    f(1);
}
