//! `fail_closed` needs an error type that a `BackendError` converts into; the
//! error names the missing `From` impl.
use cache_core::ttl_cache;

#[derive(Debug)]
struct MyError;

#[ttl_cache(fail_closed)]
fn f(x: u64) -> Result<u64, MyError> {
    Ok(x)
}

fn main() {
    let _ = f(1);
}
