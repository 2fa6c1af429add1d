//! Starting many tokio tasks together: each waits on one barrier, and the time
//! runs from its release to the last task's end (spawning stays out of it).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

/// Spawns every future of `works` on `rt` behind a barrier, releases them at
/// once, and returns the time from the release to the last end, with each
/// task's output in order.
pub fn fan_out<Fut>(rt: &Runtime, works: Vec<Fut>) -> (Duration, Vec<u64>)
where
    Fut: Future<Output = u64> + Send + 'static,
{
    rt.block_on(async {
        let barrier = Arc::new(tokio::sync::Barrier::new(works.len() + 1));
        let handles: Vec<_> = works
            .into_iter()
            .map(|work| {
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    work.await
                })
            })
            .collect();
        barrier.wait().await;
        let start = Instant::now();
        let mut outputs = Vec::with_capacity(handles.len());
        for h in handles {
            outputs.push(h.await.expect("task"));
        }
        (start.elapsed(), outputs)
    })
}
