//! `cache-cli clear`: one cache's stored results.

use std::io::Write;

use cache_redis::RedisBackend;
use serde::Serialize;

use crate::args::ClearArgs;
use crate::error::CliError;
use crate::plural;

/// What `clear` did.
#[derive(Debug, Serialize)]
pub struct ClearReport {
    /// The cache's identity.
    pub identity: String,
    /// The version cleared; `None`: every version (and the cache's shared
    /// counters).
    pub version: Option<u32>,
    /// The keys removed.
    pub removed: u64,
    /// The channel on which every local tier was told to drop its copies.
    pub invalidation_channel: String,
}

impl ClearReport {
    /// Clears the cache through cache-redis's `RedisBackend::clear_cache`:
    /// the same keys, and the same invalidation, as `cache_clear`.
    ///
    /// # Errors
    ///
    /// [`CliError::Redis`] when Redis cannot be reached (keys unlinked before
    /// the failure stay deleted).
    pub fn run(backend: &RedisBackend, args: &ClearArgs) -> Result<Self, CliError> {
        let removed = backend
            .clear_cache(&args.identity, args.cache_version)
            .map_err(|error| args.connection.redis_error(error))?;
        Ok(Self {
            identity: args.identity.clone(),
            version: args.cache_version,
            removed,
            invalidation_channel: format!("{}:invalidate", args.connection.prefix),
        })
    }

    /// The report as text.
    ///
    /// # Errors
    ///
    /// The output could not be written.
    pub fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let which = match self.version {
            Some(version) => format!("version {version}"),
            None => "every version".to_owned(),
        };
        writeln!(
            out,
            "removed {} of cache `{}` ({which}); local tiers told on `{}`",
            plural(self.removed, "key", "keys"),
            self.identity,
            self.invalidation_channel
        )
    }
}
