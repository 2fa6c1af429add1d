//! `cache-cli keys`: the keys of one cache's stored results, to inspect.

use std::collections::BTreeSet;
use std::io::Write;

use cache_redis::RedisBackend;
use serde::Serialize;

use crate::args::KeysArgs;
use crate::error::CliError;
use crate::layout::EntryKey;
use crate::plural;
use crate::walk::{self, Extent};

/// What `keys` found.
#[derive(Debug, Serialize)]
pub struct KeysReport {
    /// The key prefix.
    pub prefix: String,
    /// The cache's identity.
    pub identity: String,
    /// The version asked for; `None`: every version.
    pub version: Option<u32>,
    /// Its stored results (keys), all of them counted.
    pub entries: u64,
    /// The first `--limit` of them in key order (lowest version first).
    pub keys: Vec<String>,
}

impl KeysReport {
    /// Walks the keyspace with `SCAN` for the cache's keys (its exact,
    /// escaped pattern, as `clear` uses; on a cluster, every master), counts
    /// them and keeps the first `args.limit` in key order. Counts follow
    /// `SCAN`'s guarantees: exact for keys present throughout the walk.
    ///
    /// # Errors
    ///
    /// [`CliError::Redis`] when Redis cannot be read.
    pub fn collect(backend: &RedisBackend, args: &KeysArgs) -> Result<Self, CliError> {
        let prefix = &args.connection.prefix;
        let mut first: BTreeSet<String> = BTreeSet::new();
        let mut entries = 0u64;
        walk::scan(
            &args.connection,
            backend,
            &backend.namespace_pattern(&args.identity),
            Extent::Whole,
            &mut |keys| {
                for key in keys {
                    let Some(entry) = EntryKey::parse(prefix, key) else {
                        continue;
                    };
                    if entry.identity != args.identity
                        || args.cache_version.is_some_and(|v| v != entry.version)
                    {
                        continue;
                    }
                    // A key kept and seen again (SCAN repeats keys when the
                    // server resizes its table) is counted once.
                    if first.contains(key) {
                        continue;
                    }
                    entries += 1;
                    first.insert(key.clone());
                    if first.len() > args.limit {
                        first.pop_last();
                    }
                }
            },
        )?;
        Ok(Self {
            prefix: prefix.clone(),
            identity: args.identity.clone(),
            version: args.cache_version,
            entries,
            keys: first.into_iter().collect(),
        })
    }

    /// What the keys are of: "cache `x` (every version)".
    pub fn cache(&self) -> String {
        match self.version {
            Some(version) => format!("cache `{}` (version {version})", self.identity),
            None => format!("cache `{}` (every version)", self.identity),
        }
    }

    /// The report as text: one key a line, then the count.
    ///
    /// # Errors
    ///
    /// The output could not be written.
    pub fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.entries == 0 {
            return writeln!(
                out,
                "no key of {} under prefix `{}`",
                self.cache(),
                self.prefix
            );
        }
        for key in &self.keys {
            writeln!(out, "{key}")?;
        }
        let shown = self.keys.len() as u64;
        if shown == self.entries {
            writeln!(
                out,
                "{} of {} under prefix `{}`",
                plural(self.entries, "key", "keys"),
                self.cache(),
                self.prefix
            )
        } else {
            writeln!(
                out,
                "{shown} of {} of {} under prefix `{}` (the first in key order; --limit shows more)",
                plural(self.entries, "key", "keys"),
                self.cache(),
                self.prefix
            )
        }
    }
}
