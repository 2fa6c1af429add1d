//! `cache-cli inspect`: one stored result.

use std::io::Write;
use std::time::Duration;

use bytesize::ByteSize;
use cache_core::StorageKey;
use cache_redis::RedisBackend;
use redis::Cmd;
use serde::Serialize;

use crate::args::InspectArgs;
use crate::error::CliError;
use crate::layout::EntryKey;
use crate::plural;

/// What `inspect` found: a stored result, or any other string key.
#[derive(Debug, Serialize)]
pub struct InspectReport {
    /// The key.
    pub key: String,
    /// The key prefix (`--prefix`).
    #[serde(skip)]
    pub prefix: String,
    /// The cache's identity, when the key has the layout of a stored result
    /// under the prefix; `None` for any other string key.
    pub identity: Option<String>,
    /// The cache's version, likewise.
    pub version: Option<u32>,
    /// The call's digest, likewise.
    pub digest: Option<String>,
    /// The time left before it expires (`PTTL`), in milliseconds; `None`
    /// when it never expires.
    pub ttl_ms: Option<u64>,
    /// Its value's length in bytes (`STRLEN`): the stored envelope.
    pub size_bytes: u64,
    /// What Redis spends on it, key and overhead included (`MEMORY USAGE`).
    pub memory_bytes: u64,
}

/// `value`, or [`CliError::KeyNotFound`] when the key vanished between two
/// round trips.
fn found<T>(key: &str, value: Option<T>) -> Result<T, CliError> {
    value.ok_or_else(|| CliError::KeyNotFound {
        key: key.to_owned(),
        hint: None,
    })
}

impl InspectReport {
    /// Reads the key's type, length, memory and TTL (one round trip each).
    /// Any string key is read; one that is not a stored result of the
    /// prefix has no identity, version or digest.
    ///
    /// # Errors
    ///
    /// [`CliError::KeyNotFound`] for a missing key, [`CliError::NotAResult`]
    /// for a key that is not a string, [`CliError::Redis`] when Redis cannot
    /// be read.
    pub fn collect(backend: &RedisBackend, args: &InspectArgs) -> Result<Self, CliError> {
        let key = match (&args.key, &args.identity, args.digest) {
            (Some(key), _, _) => key.clone(),
            (None, Some(identity), Some(digest)) => backend.key(&StorageKey {
                namespace: identity,
                version: args.cache_version.unwrap_or(0),
                digest,
            }),
            _ => return Err(CliError::NoKey),
        };
        let command = |name: &str| {
            let mut cmd = Cmd::new();
            for word in name.split(' ') {
                cmd.arg(word);
            }
            cmd.arg(&key);
            cmd
        };
        let redis = |error| args.connection.redis_error(error);
        let kind: String = backend.command(command("TYPE")).map_err(redis)?;
        match kind.as_str() {
            "string" => {}
            "none" => return Err(CliError::KeyNotFound { key, hint: None }),
            _ => return Err(CliError::NotAResult { key, kind }),
        }
        let size_bytes: u64 = backend.command(command("STRLEN")).map_err(redis)?;
        let memory: Option<u64> = backend.command(command("MEMORY USAGE")).map_err(redis)?;
        let memory_bytes = found(&key, memory)?;
        // -2: gone since; -1: no expiry.
        let ttl_ms = match backend.command::<i64>(command("PTTL")).map_err(redis)? {
            -2 => return Err(CliError::KeyNotFound { key, hint: None }),
            ms => u64::try_from(ms).ok(),
        };
        let entry = EntryKey::parse(&args.connection.prefix, &key);
        Ok(Self {
            prefix: args.connection.prefix.clone(),
            identity: entry.map(|e| e.identity.to_owned()),
            version: entry.map(|e| e.version),
            digest: entry.map(|e| e.digest.to_owned()),
            key,
            ttl_ms,
            size_bytes,
            memory_bytes,
        })
    }

    /// The report as text, one field a line.
    ///
    /// # Errors
    ///
    /// The output could not be written.
    pub fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "key     {}", self.key)?;
        match (&self.identity, self.version) {
            (Some(identity), Some(version)) => {
                writeln!(out, "cache   {identity} (version {version})")?;
            }
            _ => writeln!(
                out,
                "cache   none: not a stored result of prefix `{}`",
                self.prefix
            )?,
        }
        match self.ttl_ms {
            Some(ms) => writeln!(
                out,
                "ttl     {} ({ms} ms)",
                humantime::format_duration(Duration::from_millis(ms))
            )?,
            None => writeln!(out, "ttl     none (never expires)")?,
        }
        writeln!(
            out,
            "size    {} ({}, STRLEN)",
            ByteSize::b(self.size_bytes),
            plural(self.size_bytes, "byte", "bytes")
        )?;
        writeln!(
            out,
            "memory  {} ({}, MEMORY USAGE)",
            ByteSize::b(self.memory_bytes),
            plural(self.memory_bytes, "byte", "bytes")
        )
    }
}
