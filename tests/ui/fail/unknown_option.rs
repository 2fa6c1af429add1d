//! An unknown option is reported on its name, with the list of valid options.
use cache_core::ttl_cache;

#[ttl_cache(tll = 3)]
fn f(x: u64) -> u64 {
    x
}

fn main() {
    f(1);
}
