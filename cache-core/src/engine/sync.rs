//! The lock and the shared pointer of single-flight, as the engine runs it: std's.
//!
//! `flight.rs` takes `Arc`, `Mutex`, `MutexGuard` and `AtomicBool` from its parent module's
//! `sync`, not from std directly, so that one file compiles twice: as
//! [`flight`](super::flight), with these re-exports (no wrapper, so the engine's
//! code is exactly what it is with `std::sync`), and, under `cfg(all(test, loom))`,
//! as `flight_loom::flight`, with loom's, for the model check. The choice cannot
//! be a `cfg(loom)` switch here: the rest of the engine (`Slot`, `load.rs`) holds
//! flights in `std::sync::Arc`, and under `cfg(loom)` it still has to build.

pub(crate) use std::sync::atomic::AtomicBool;
pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};
