//! `Duration`, ranges, paths and OS strings.

use std::ffi::{OsStr, OsString};
use std::ops::{Range, RangeFrom, RangeFull, RangeInclusive, RangeTo, RangeToInclusive};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use super::super::{HashSink, PersistentHash, tag};

impl PersistentHash for Duration {
    /// [`tag::DURATION`], whole seconds as 8 bytes, sub-second nanoseconds as 4 bytes.
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        let mut buf = [tag::DURATION; 13];
        buf[1..9].copy_from_slice(&self.as_secs().to_le_bytes());
        buf[9..].copy_from_slice(&self.subsec_nanos().to_le_bytes());
        sink.write(&buf);
    }

    fingerprint!("Duration");
}

/// The byte after [`tag::RANGE`]: which kind of range follows. Part of the format.
mod range_kind {
    /// `start..end`: start, then end.
    pub(super) const EXCLUSIVE: u8 = 0;
    /// `start..=end`: start, then end.
    pub(super) const INCLUSIVE: u8 = 1;
    /// `start..`: start.
    pub(super) const FROM: u8 = 2;
    /// `..end`: end.
    pub(super) const TO: u8 = 3;
    /// `..=end`: end.
    pub(super) const TO_INCLUSIVE: u8 = 4;
    /// `..`: nothing.
    pub(super) const FULL: u8 = 5;
}

/// Writes [`tag::RANGE`], the kind byte, then the bounds in order.
macro_rules! ranges {
    ($(
        $ty:ty, $kind:ident, $name:literal $(, $param:ident)? => |$range:ident| [$($bound:expr),*];
    )*) => {$(
        impl$(<$param: PersistentHash>)? PersistentHash for $ty {
            #[inline]
            fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
                let $range = self;
                sink.write(&[tag::RANGE, range_kind::$kind]);
                $(PersistentHash::persistent_hash($bound, sink);)*
            }

            fingerprint!($name $(, $param)?);
        }
    )*};
}

ranges! {
    Range<T>, EXCLUSIVE, "Range", T => |r| [&r.start, &r.end];
    // An exhausted inclusive range (after iteration) encodes as its bounds.
    RangeInclusive<T>, INCLUSIVE, "RangeInclusive", T => |r| [r.start(), r.end()];
    RangeFrom<T>, FROM, "RangeFrom", T => |r| [&r.start];
    RangeTo<T>, TO, "RangeTo", T => |r| [&r.end];
    RangeToInclusive<T>, TO_INCLUSIVE, "RangeToInclusive", T => |r| [&r.end];
    RangeFull, FULL, "RangeFull" => |_r| [];
}

/// The byte that opens each path component. Part of the format.
mod component_kind {
    /// A Windows prefix (`C:`, `\\server\share`): length, then its bytes.
    pub(super) const PREFIX: u8 = 0;
    /// The root directory.
    pub(super) const ROOT_DIR: u8 = 1;
    /// `.` (only ever the first component).
    pub(super) const CUR_DIR: u8 = 2;
    /// `..`.
    pub(super) const PARENT_DIR: u8 = 3;
    /// A name: length, then its bytes.
    pub(super) const NORMAL: u8 = 4;
}

impl PersistentHash for Path {
    /// [`tag::PATH`], the number of components, then each component: a kind byte,
    /// plus the length and bytes of prefixes and names. Built from
    /// [`Path::components`], like `Path`'s equality, so `a/b`, `a//b`, `a/./b`
    /// and `a/b/` key alike. The bytes are `OsStr::as_encoded_bytes`: the same
    /// path text gives the same key on every platform of one family.
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        sink.write_tag(tag::PATH);
        sink.write_len(self.components().count());
        for component in self.components() {
            match component {
                Component::Prefix(prefix) => {
                    sink.write_tagged_bytes(
                        component_kind::PREFIX,
                        prefix.as_os_str().as_encoded_bytes(),
                    );
                }
                Component::RootDir => sink.write_tag(component_kind::ROOT_DIR),
                Component::CurDir => sink.write_tag(component_kind::CUR_DIR),
                Component::ParentDir => sink.write_tag(component_kind::PARENT_DIR),
                Component::Normal(name) => {
                    sink.write_tagged_bytes(component_kind::NORMAL, name.as_encoded_bytes());
                }
            }
        }
    }

    fingerprint!("Path");
}

impl PersistentHash for PathBuf {
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        self.as_path().persistent_hash(sink);
    }

    fingerprint!("PathBuf");
}

impl PersistentHash for OsStr {
    /// Valid Unicode encodes as the `str` with the same text; anything else as
    /// [`tag::BYTES`] of `OsStr::as_encoded_bytes`. The two never overlap within
    /// `OsStr`, so distinct OS strings still key differently.
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        match self.to_str() {
            Some(text) => text.persistent_hash(sink),
            None => sink.write_tagged_bytes(tag::BYTES, self.as_encoded_bytes()),
        }
    }

    fingerprint!("OsStr");
}

impl PersistentHash for OsString {
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        self.as_os_str().persistent_hash(sink);
    }

    fingerprint!("OsString");
}
