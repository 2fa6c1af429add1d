//! Time sources.
