//! The hints printed on stderr when a command finds nothing: most often the
//! prefix is not the application's, so they name the prefixes that do hold
//! stored results on the server.

use std::collections::BTreeSet;

use cache_redis::RedisBackend;

use crate::args::Connection;
use crate::error::CliError;
use crate::layout::prefix_of;
use crate::walk::{self, Extent, SCAN_COUNT};

/// `SCAN` steps per node for a hint: a bounded look, about
/// `HINT_STEPS * SCAN_COUNT` keys of each node.
pub const HINT_STEPS: u32 = 5;

/// The prefixes holding stored results, as far as a bounded walk saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixSurvey {
    /// Every prefix with at least one key of the stored-result layout.
    pub prefixes: BTreeSet<String>,
    /// Whether every node was walked to its end (else the survey is a sample).
    pub complete: bool,
}

impl PrefixSurvey {
    /// Walks at most [`HINT_STEPS`] `SCAN` steps of each node (every master
    /// of a cluster) for keys of the stored-result layout,
    /// `<prefix>:<identity>:v<10 digits>:<64 hex digits>`, whatever the
    /// prefix.
    ///
    /// # Errors
    ///
    /// As [`walk::scan`].
    pub fn take(connection: &Connection, backend: &RedisBackend) -> Result<Self, CliError> {
        let pattern = format!("*:v{}:{}", "?".repeat(10), "?".repeat(64));
        let mut prefixes = BTreeSet::new();
        let complete = walk::scan(
            connection,
            backend,
            &pattern,
            Extent::Steps(HINT_STEPS),
            &mut |keys| {
                prefixes.extend(
                    keys.iter()
                        .filter_map(|key| prefix_of(key))
                        .map(str::to_owned),
                );
            },
        )?;
        Ok(Self { prefixes, complete })
    }

    /// The hint line (`hint: ...`) after a command found nothing under
    /// `prefix`; `lead` says what it did not find.
    pub fn hint(&self, prefix: &str, lead: Option<&str>) -> String {
        let mut parts: Vec<String> = lead.map(str::to_owned).into_iter().collect();
        let here = self.prefixes.contains(prefix);
        let others: Vec<&str> = self
            .prefixes
            .iter()
            .map(String::as_str)
            .filter(|p| *p != prefix)
            .collect();
        if here {
            parts.push(format!(
                "prefix `{prefix}` holds caches (`cache-cli list --prefix {prefix}` names them)"
            ));
        }
        match (others.is_empty(), here) {
            (false, true) => parts.push(format!(
                "other prefixes with caches on this server: {}",
                others.join(", ")
            )),
            (false, false) => parts.push(format!(
                "prefixes with caches on this server: {} (--prefix must be the prefix the \
                 application's backend was built with, RedisBackendBuilder::prefix)",
                others.join(", ")
            )),
            (true, false) => parts.push("no prefix on this server holds a cache entry".to_owned()),
            (true, true) => {}
        }
        let mut line = format!("hint: {}", parts.join("; "));
        if !self.complete {
            line.push_str(&format!(
                " (from about the first {} keys of each node)",
                u64::from(HINT_STEPS) * SCAN_COUNT
            ));
        }
        line
    }
}

/// The hint after a command found nothing under the prefix, or `None` when
/// the survey itself failed (the command's own result stands; a hint is
/// only a help).
pub fn after_nothing(
    connection: &Connection,
    backend: &RedisBackend,
    lead: Option<&str>,
) -> Option<String> {
    PrefixSurvey::take(connection, backend)
        .ok()
        .map(|survey| survey.hint(&connection.prefix, lead))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survey(prefixes: &[&str], complete: bool) -> PrefixSurvey {
        PrefixSurvey {
            prefixes: prefixes.iter().map(|p| (*p).to_owned()).collect(),
            complete,
        }
    }

    #[test]
    fn a_hint_names_the_prefixes_that_hold_caches() {
        let lead = Some("no cache under prefix `cache`");
        assert_eq!(
            survey(&["walk", "example"], true).hint("cache", lead),
            "hint: no cache under prefix `cache`; prefixes with caches on this server: \
             example, walk (--prefix must be the prefix the application's backend was built \
             with, RedisBackendBuilder::prefix)"
        );
        assert_eq!(
            survey(&["walk", "cache"], true).hint("cache", None),
            "hint: prefix `cache` holds caches (`cache-cli list --prefix cache` names \
             them); other prefixes with caches on this server: walk"
        );
        assert_eq!(
            survey(&[], false).hint("cache", lead),
            "hint: no cache under prefix `cache`; no prefix on this server holds a cache entry \
             (from about the first 5000 keys of each node)"
        );
    }
}
