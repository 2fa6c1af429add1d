//! An argument whose type lacks `PersistentHash` is reported on that argument's type.
use cache_core::ttl_cache;

struct Opaque;

#[ttl_cache]
fn f(x: u64, o: Opaque) -> u64 {
    let _ = o;
    x
}

fn main() {
    f(1, Opaque);
}
