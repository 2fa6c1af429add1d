//! What the observability tests share: a byte store written here (a
//! [`StorageBackend`] over a map) whose calls can be switched to fail, and
//! whose entries a test can overwrite.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use cache_core::{BackendError, StorageBackend, StorageKey};

/// The store's name, as `backend` in events, metrics and the registry.
pub(crate) const STORE_NAME: &str = "obs-store";

/// How the store's calls fail, if they do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failing {
    No,
    /// `BackendError::Failed`: the store tried and failed.
    Failed,
    /// `BackendError::Unavailable`: refused without trying.
    Unavailable,
}

/// Stored bytes by namespace and digest.
type Entries = HashMap<(String, [u8; 32]), Vec<u8>>;

/// An in-memory byte store; TTLs are ignored.
#[derive(Default)]
pub(crate) struct ObsStore {
    entries: Mutex<Entries>,
    failing: AtomicU8,
    /// Digests of every `get`, in order.
    gets: Mutex<Vec<[u8; 32]>>,
}

impl ObsStore {
    pub(crate) fn new() -> Arc<Self> {
        Arc::default()
    }

    pub(crate) fn fail(&self, failing: Failing) {
        self.failing.store(failing as u8, Ordering::SeqCst);
    }

    fn check(&self, operation: &'static str) -> Result<(), BackendError> {
        match self.failing.load(Ordering::SeqCst) {
            x if x == Failing::Failed as u8 => Err(BackendError::Failed {
                backend: STORE_NAME,
                operation,
                source: "switched off by the test".into(),
            }),
            x if x == Failing::Unavailable as u8 => Err(BackendError::Unavailable {
                backend: STORE_NAME,
                reason: "refused by the test".into(),
            }),
            _ => Ok(()),
        }
    }

    fn entries(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap()
    }

    /// The digests of every entry of `namespace`.
    pub(crate) fn digests(&self, namespace: &str) -> Vec<[u8; 32]> {
        self.entries()
            .keys()
            .filter(|(ns, _)| ns == namespace)
            .map(|(_, digest)| *digest)
            .collect()
    }

    /// Replaces the bytes of every entry of `namespace`.
    pub(crate) fn overwrite(&self, namespace: &str, bytes: &[u8]) {
        for ((ns, _), stored) in self.entries().iter_mut() {
            if ns == namespace {
                *stored = bytes.to_vec();
            }
        }
    }

    /// The digest of the last `get`.
    pub(crate) fn last_get(&self) -> [u8; 32] {
        *self.gets.lock().unwrap().last().expect("no get yet")
    }
}

impl StorageBackend for ObsStore {
    fn name(&self) -> &'static str {
        STORE_NAME
    }

    fn get(&self, key: &StorageKey<'_>) -> Result<Option<Vec<u8>>, BackendError> {
        self.gets.lock().unwrap().push(key.digest.0);
        self.check("get")?;
        Ok(self
            .entries()
            .get(&(key.namespace.to_owned(), key.digest.0))
            .cloned())
    }

    fn set(
        &self,
        key: &StorageKey<'_>,
        value: &[u8],
        _ttl: Option<Duration>,
    ) -> Result<(), BackendError> {
        self.check("set")?;
        self.entries()
            .insert((key.namespace.to_owned(), key.digest.0), value.to_vec());
        Ok(())
    }

    fn clear(&self, namespace: &str) -> Result<(), BackendError> {
        self.check("clear")?;
        self.entries().retain(|(ns, _), _| ns != namespace);
        Ok(())
    }

    fn len(&self, namespace: &str) -> Result<u64, BackendError> {
        self.check("len")?;
        Ok(self.digests(namespace).len() as u64)
    }
}

/// The first 16 hex digits of a digest: the `key` of events.
pub(crate) fn short_hex(digest: &[u8; 32]) -> String {
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}
