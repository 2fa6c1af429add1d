//! Implementations of `PersistentHash` for standard types.
