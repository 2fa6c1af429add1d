//! A method taking `&self` keys on the receiver (which derives `PersistentHash`).
use cache_core::{PersistentHash, ttl_cache};

#[derive(PersistentHash)]
struct Account {
    id: u64,
}

impl Account {
    #[ttl_cache]
    fn balance(&self, scale: u64) -> u64 {
        self.id * scale
    }
}

fn main() {
    let a = Account { id: 3 };
    let b = Account { id: 4 };
    assert_eq!(a.balance(10), 30);
    assert_eq!(a.balance(10), 30);
    assert_eq!(b.balance(10), 40);
    let info = Account::balance_cache().cache_info();
    assert_eq!((info.hits, info.misses), (1, 2));
}
