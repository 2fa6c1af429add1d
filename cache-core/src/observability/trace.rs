//! The `tracing` events and spans (feature `tracing`). Every field is the
//! cache's name, a key digest, or a fixed phrase: never an argument, a key or
//! a value.

use super::{DecodeFailure, KeyRef, Label};

pub(super) fn miss(label: &Label, key: KeyRef<'_>) {
    tracing::debug!(cache = %label.name, key = %key, "cache miss");
}

pub(super) fn compute_span(label: &Label, key: KeyRef<'_>) -> tracing::Span {
    tracing::debug_span!("cache_compute", cache = %label.name, key = %key)
}

pub(super) fn backend_error(
    label: &Label,
    key: Option<KeyRef<'_>>,
    operation: &'static str,
    error: &dyn std::fmt::Display,
    unavailable: bool,
) {
    // `tracing`'s level is a constant per call site: one event per level.
    macro_rules! at {
        ($level:expr) => {
            match key {
                Some(key) => tracing::event!(
                    $level,
                    cache = %label.name,
                    key = %key,
                    backend = label.backend,
                    operation,
                    error = %error,
                    "cache backend error"
                ),
                None => tracing::event!(
                    $level,
                    cache = %label.name,
                    backend = label.backend,
                    operation,
                    error = %error,
                    "cache backend error"
                ),
            }
        };
    }
    if unavailable {
        at!(tracing::Level::DEBUG);
    } else {
        at!(tracing::Level::WARN);
    }
}

pub(super) fn decode_error(label: &Label, key: KeyRef<'_>, failure: DecodeFailure<'_>) {
    tracing::warn!(
        cache = %label.name,
        key = %key,
        backend = label.backend,
        reason = reason(failure),
        "cache decode error"
    );
}

/// A fixed phrase for why a value was not decoded: the decoder's own message
/// can quote the stored bytes.
fn reason(failure: DecodeFailure<'_>) -> &'static str {
    match failure {
        DecodeFailure::Decode(error) => error.summary(),
        DecodeFailure::Encode => "the value cannot be encoded by the serializer",
    }
}
