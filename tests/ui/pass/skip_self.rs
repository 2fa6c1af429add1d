//! `skip(self)` leaves the receiver out of the key; its type need not be `PersistentHash`.
use cache_core::ttl_cache;

struct Client {
    calls: u64,
}

impl Client {
    #[ttl_cache(skip(self))]
    fn lookup(&self, id: u64) -> u64 {
        self.calls + id
    }

    #[ttl_cache(skip(self))]
    fn lookup_mut(&mut self, id: u64) -> u64 {
        self.calls += 1;
        id
    }
}

fn main() {
    let mut client = Client { calls: 0 };
    assert_eq!(client.lookup(5), 5);
    assert_eq!(client.lookup_mut(5), 5);
    assert_eq!(client.lookup_mut(5), 5);
    assert_eq!(client.calls, 1);
    assert_eq!(Client::lookup_cache().cache_info().misses, 1);
}
