#![allow(missing_docs, clippy::unwrap_used)]
use cache_core::{Cache, clock::Clock};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
#[test]
fn scratch() {
    const N: u64 = 200_000;
    let (clock, time) = Clock::mock();
    let cache: Cache<u64, u64> = Cache::builder()
        .ttl(Duration::from_secs(1))
        .max_entries(N as usize)
        .clock(clock)
        .build();
    let done = AtomicBool::new(false);
    let mut sweeps = 0;
    std::thread::scope(|s| {
        s.spawn(|| {
            for k in 0..N {
                if k % 2 == 0 {
                    cache.insert(k, k);
                } else {
                    cache.get_or_insert_with(k, || k);
                }
            }
            done.store(true, Ordering::SeqCst);
        });
        while !done.load(Ordering::SeqCst) {
            cache.sweep();
            sweeps += 1;
        }
    });
    time.advance(Duration::from_secs(2));
    cache.sweep();
    let info = cache.info();
    eprintln!("sweeps {sweeps} {info:?}");
}
