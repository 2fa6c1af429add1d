//! `cache-cli list`: every cache under the prefix.

use std::collections::BTreeMap;
use std::io::Write;

use bytesize::ByteSize;
use cache_redis::RedisBackend;
use redis::Cmd;
use serde::Serialize;

use crate::args::ListArgs;
use crate::error::CliError;
use crate::layout::EntryKey;
use crate::plural;

/// What `list` found.
#[derive(Debug, Serialize)]
pub struct ListReport {
    /// The server (or the first node), its password shown as `***`.
    pub url: String,
    /// The key prefix.
    pub prefix: String,
    /// Every cache with at least one stored result, by identity.
    pub caches: Vec<CacheSummary>,
    /// Stored results over every cache.
    pub entries: u64,
}

/// One cache.
#[derive(Debug, Serialize)]
pub struct CacheSummary {
    /// Its identity (`module::function`, or its `identifier`).
    pub identity: String,
    /// Its stored results (keys), every version.
    pub entries: u64,
    /// `MEMORY USAGE` of its keys, summed; estimated from the keys measured
    /// when `memory_sampled`. `None` when no key was measured.
    pub memory_bytes: Option<u64>,
    /// Whether `memory_bytes` is an estimate from some of the keys.
    pub memory_sampled: bool,
    /// How many keys were measured.
    pub memory_keys_measured: u64,
    /// The versions present, each with its stored results, lowest first.
    pub versions: Vec<VersionCount>,
}

/// The stored results of one version of a cache.
#[derive(Debug, Serialize)]
pub struct VersionCount {
    /// The version.
    pub version: u32,
    /// Its stored results.
    pub entries: u64,
}

/// The counts of one cache while the keyspace is walked.
#[derive(Default)]
struct Tally {
    versions: BTreeMap<u32, u64>,
    measured: u64,
    memory: u64,
}

impl ListReport {
    /// Walks the keyspace with `SCAN` (never `KEYS`; on a cluster, every
    /// master) and measures up to `args.memory_keys` keys of each cache with
    /// `MEMORY USAGE`. Counts follow `SCAN`'s guarantees: exact for keys
    /// present throughout the walk.
    ///
    /// # Errors
    ///
    /// [`CliError::Redis`] when Redis cannot be read.
    pub fn collect(backend: &RedisBackend, args: &ListArgs) -> Result<Self, CliError> {
        let prefix = &args.connection.prefix;
        let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
        backend
            .scan_entries(|keys| {
                for key in keys {
                    let Some(entry) = EntryKey::parse(prefix, key) else {
                        continue;
                    };
                    if !tallies.contains_key(entry.identity) {
                        tallies.insert(entry.identity.to_owned(), Tally::default());
                    }
                    let Some(tally) = tallies.get_mut(entry.identity) else {
                        continue;
                    };
                    *tally.versions.entry(entry.version).or_default() += 1;
                    if args.memory_keys.allows(tally.measured) {
                        let mut cmd = Cmd::new();
                        cmd.arg("MEMORY").arg("USAGE").arg(key);
                        // Nil: the key expired since SCAN returned it.
                        if let Some(bytes) = backend.command::<Option<u64>>(cmd)? {
                            tally.measured += 1;
                            tally.memory += bytes;
                        }
                    }
                }
                Ok(())
            })
            .map_err(|error| args.connection.redis_error(error))?;
        let caches: Vec<CacheSummary> = tallies
            .into_iter()
            .map(|(identity, tally)| summary(identity, tally))
            .collect();
        Ok(Self {
            url: args.connection.display_url(),
            prefix: prefix.clone(),
            entries: caches.iter().map(|c| c.entries).sum(),
            caches,
        })
    }

    /// The report as text: one aligned row per cache.
    ///
    /// # Errors
    ///
    /// The output could not be written.
    pub fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.caches.is_empty() {
            return writeln!(
                out,
                "no cache under prefix `{}` at {}",
                self.prefix, self.url
            );
        }
        let mut rows = vec![[
            "IDENTITY".to_owned(),
            "ENTRIES".to_owned(),
            "MEMORY".to_owned(),
            "VERSIONS".to_owned(),
        ]];
        for cache in &self.caches {
            let memory = match cache.memory_bytes {
                None => "-".to_owned(),
                Some(bytes) if cache.memory_sampled => format!(
                    "~{} ({} of {} keys measured)",
                    ByteSize::b(bytes),
                    cache.memory_keys_measured,
                    cache.entries
                ),
                Some(bytes) => ByteSize::b(bytes).to_string(),
            };
            let versions: Vec<String> = cache
                .versions
                .iter()
                .map(|v| format!("{} ({})", v.version, v.entries))
                .collect();
            rows.push([
                cache.identity.clone(),
                cache.entries.to_string(),
                memory,
                versions.join(", "),
            ]);
        }
        let width = |column: usize| rows.iter().map(|row| row[column].chars().count()).max();
        let widths = [width(0), width(1), width(2)].map(Option::unwrap_or_default);
        for [identity, entries, memory, versions] in &rows {
            writeln!(
                out,
                "{identity:<w0$}  {entries:>w1$}  {memory:<w2$}  {versions}",
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            )?;
        }
        let sampled = self.caches.iter().any(|c| c.memory_sampled);
        writeln!(
            out,
            "{}, {} under prefix `{}` at {}{}",
            plural(self.caches.len() as u64, "cache", "caches"),
            plural(self.entries, "entry", "entries"),
            self.prefix,
            self.url,
            if sampled {
                "; ~ marks memory estimated from the keys measured (--memory-keys)"
            } else {
                ""
            }
        )
    }
}

fn summary(identity: String, tally: Tally) -> CacheSummary {
    let entries: u64 = tally.versions.values().sum();
    let sampled = tally.measured > 0 && tally.measured < entries;
    let memory_bytes = (tally.measured > 0).then(|| {
        if sampled {
            // The measured keys' mean, times the keys.
            let estimate =
                u128::from(tally.memory) * u128::from(entries) / u128::from(tally.measured);
            u64::try_from(estimate).unwrap_or(u64::MAX)
        } else {
            tally.memory
        }
    });
    CacheSummary {
        identity,
        entries,
        memory_bytes,
        memory_sampled: sampled,
        memory_keys_measured: tally.measured,
        versions: tally
            .versions
            .into_iter()
            .map(|(version, entries)| VersionCount { version, entries })
            .collect(),
    }
}
