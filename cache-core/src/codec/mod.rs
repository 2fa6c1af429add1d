//! Serializers and the checked envelope for stored bytes.
