//! What can go wrong, each with a message for stderr.

use cache_core::BackendError;
use cache_redis::RedisConfigError;

/// An error of `cache-cli`: printed on stderr, the process then exits with
/// [`exit_code`](Self::exit_code). No message contains a URL's password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The backend could not be built (cache-redis's message, which never
    /// contains the password).
    #[error(transparent)]
    Config(#[from] RedisConfigError),
    /// A URL is not a Redis URL.
    #[error(
        "invalid Redis URL `{url}`{}: expected {}",
        reason.as_ref().map(|reason| format!(" ({reason})")).unwrap_or_default(),
        crate::args::URL_FORMS
    )]
    BadUrl {
        /// The URL given, its password shown as `***`.
        url: String,
        /// What is wrong with it, when more is known than that it did not
        /// parse.
        reason: Option<String>,
    },
    /// Several URLs for a single server.
    #[error("{count} URLs given: several URLs are the nodes of a cluster, pass --cluster")]
    SeveralUrls {
        /// How many URLs were given.
        count: usize,
    },
    /// Redis could not be reached or answered with an error (cache-redis's
    /// message, which never contains the password).
    #[error("{url}: {source}")]
    Redis {
        /// The server (or the first node), its password shown as `***`.
        url: String,
        /// cache-redis's error.
        source: BackendError,
    },
    /// Neither a key nor an identity and a digest to inspect.
    #[error("name a key, or --identity and --digest")]
    NoKey,
    /// The key to inspect does not exist (never stored, expired or cleared).
    #[error("no such key: `{key}` (never stored, expired or cleared)")]
    KeyNotFound {
        /// The key.
        key: String,
        /// Where the caches are, when the prefix may be the wrong one: for
        /// stderr, after the message.
        hint: Option<String>,
    },
    /// The key to inspect holds something else than a stored result.
    #[error("`{key}` is a Redis {kind}, not a stored result (a string)")]
    NotAResult {
        /// The key.
        key: String,
        /// Its Redis type (`hash`, `list`, ...).
        kind: String,
    },
    /// The `--tls-root-cert` file could not be read.
    #[error("cannot read the TLS root certificate {}: {source}", path.display())]
    TlsRootCert {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The output could not be written (a closed pipe, a full disk).
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// The JSON output could not be written.
    #[error("cannot write the JSON output: {0}")]
    Json(#[from] serde_json::Error),
}

impl CliError {
    /// A line for stderr after the message (`hint: ...`), if there is one.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Self::KeyNotFound { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }

    /// The process's exit code for this error: 3 for a missing key, 1 for
    /// anything else (clap's usage errors exit with 2).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::KeyNotFound { .. } => 3,
            _ => 1,
        }
    }
}
