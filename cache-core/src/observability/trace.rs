//! The `tracing` events and spans (feature `tracing`). Every field is the
//! cache's name, a key digest, or a fixed phrase: never an argument, a key or
//! a value.

use super::{DecodeFailure, KeyRef, Label};
use crate::codec::{CodecError, EnvelopeError};

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
) {
    match key {
        Some(key) => tracing::warn!(
            cache = %label.name,
            key = %key,
            backend = label.backend,
            operation,
            error = %error,
            "cache backend error"
        ),
        None => tracing::warn!(
            cache = %label.name,
            backend = label.backend,
            operation,
            error = %error,
            "cache backend error"
        ),
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
/// can quote the stored bytes (serde's "invalid type: string \"…\"").
fn reason(failure: DecodeFailure<'_>) -> &'static str {
    let DecodeFailure::Decode(error) = failure else {
        return "the value cannot be encoded by the serializer";
    };
    match error {
        CodecError::Serialize(_) => "the stored value does not decode as the expected type",
        CodecError::Envelope(envelope) => match envelope {
            EnvelopeError::SchemaMismatch { .. } => "the stored value is of another type",
            EnvelopeError::CodecMismatch { .. } => "the stored value has another serializer",
            EnvelopeError::ChecksumMismatch => "checksum mismatch: corrupt entry",
            EnvelopeError::MacMissing
            | EnvelopeError::UnexpectedMac
            | EnvelopeError::MacMismatch => "MAC check failed: unsigned, forged or corrupt entry",
            EnvelopeError::PayloadTooLarge { .. } => "the stored value is larger than allowed",
            _ => "not a valid envelope: corrupt, truncated or foreign entry",
        },
    }
}
