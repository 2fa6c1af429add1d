//! The value every storage benchmark (Redis, disk) caches, and its raw
//! MessagePack encoding (named fields, as our envelope carries it) for the
//! peers that store bytes themselves. Included by `redis.rs` and `disk.rs`.

use serde::{Deserialize, Serialize};

/// A small realistic value: decoding it allocates, as real values do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: u64,
    pub name: String,
}

/// The value of key `k`.
pub fn body(k: u64) -> Item {
    Item {
        id: k,
        name: format!("item-{k:06}"),
    }
}

/// A checksum of the value, so no candidate's work is optimised away.
pub fn fold(item: &Item) -> u64 {
    item.id ^ item.name.len() as u64
}

/// The raw bytes the peers store.
pub fn encode(item: &Item) -> Vec<u8> {
    rmp_serde::to_vec_named(item).expect("encode")
}

/// The value back from the raw bytes.
pub fn decode(bytes: &[u8]) -> Item {
    rmp_serde::from_slice(bytes).expect("decode")
}
