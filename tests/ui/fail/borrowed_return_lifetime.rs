//! A return type with a non-`'static` lifetime (`Cow<'a, str>`) is rejected on the lifetime.
use std::borrow::Cow;

use cache_core::ttl_cache;

#[ttl_cache]
fn f<'a>(s: &'a str) -> Cow<'a, str> {
    Cow::Borrowed(s)
}

fn main() {
    f("x");
}
