//! A memoized recursive function. `fib` calls itself through its own cache, so
//! `fib(90)` runs the body once per `n` (91 times) instead of about 10^19
//! times. A second call is a single hit.
//!
//! Run: `cargo run --example recursion`

use std::time::Instant;

use cache_core::ttl_cache;

/// The naive definition: fast only because every `fib(k)` is computed once.
#[ttl_cache(ttl = None)]
fn fib(n: u32) -> u64 {
    if n < 2 {
        u64::from(n)
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

fn main() {
    let started = Instant::now();
    let value = fib(90);
    let cold = started.elapsed();
    let info = fib::cache_info();
    println!("fib(90) = {value} in {cold:?} (cold)");
    println!(
        "  computations {}, hits {}, misses {}, size {}",
        info.computations, info.hits, info.misses, info.current_size
    );

    let started = Instant::now();
    let again = fib(90);
    let warm = started.elapsed();
    println!("fib(90) = {again} in {warm:?} (a single hit)");

    let started = Instant::now();
    let next = fib(91);
    println!(
        "fib(91) = {next} in {:?} (one new computation: fib(90) and fib(89) are hits)",
        started.elapsed()
    );
    let info = fib::cache_info();
    println!(
        "  computations {}, hits {}, size {}",
        info.computations, info.hits, info.current_size
    );
}
