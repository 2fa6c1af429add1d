//! Sequences, maps and sets.
//!
//! Every sequence (`[T]`, `[T; N]`, `Vec<T>`, `VecDeque<T>`) encodes as the slice
//! of its items, through [`PersistentHash::persistent_hash_slice`], so a `Vec<u8>`,
//! a `[u8; 3]` and a `VecDeque<u8>` holding the same bytes key alike. Ordered maps
//! and sets write their entries in order; hashed ones write them sorted by their
//! encodings.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use super::super::{HashSink, PersistentHash, tag};

impl<T: PersistentHash> PersistentHash for [T] {
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        T::persistent_hash_slice(self, sink);
    }

    fingerprint!("[_]", T);
}

impl<T: PersistentHash, const N: usize> PersistentHash for [T; N] {
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        T::persistent_hash_slice(self.as_slice(), sink);
    }

    #[inline]
    fn type_fingerprint<S: HashSink + ?Sized>(sink: &mut S) {
        sink.write_tagged_bytes(tag::TYPE, b"[_; N]");
        sink.write_len(N);
        T::type_fingerprint(sink);
    }
}

impl<T: PersistentHash> PersistentHash for Vec<T> {
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        T::persistent_hash_slice(self.as_slice(), sink);
    }

    fingerprint!("Vec", T);
}

impl<T: PersistentHash> PersistentHash for VecDeque<T> {
    /// The encoding of the `Vec` of the same items, written without copying them
    /// even when the ring buffer wraps around.
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        let (front, back) = self.as_slices();
        if back.is_empty() {
            T::persistent_hash_slice(front, sink);
        } else if front.is_empty() {
            T::persistent_hash_slice(back, sink);
        } else {
            // Both halves write a slice header (tag + count). The first one is
            // rewritten with the total count, the second one is dropped; the
            // items that follow concatenate into the encoding of the whole.
            // The splice holds the sink as `dyn HashSink`: a generic wrapper
            // would make a type that holds a `VecDeque` of itself instantiate
            // `HeaderSplice<HeaderSplice<..>>` without end (a compile error).
            let mut outer: &mut S = sink;
            let mut first = HeaderSplice {
                inner: &mut outer,
                seen: 0,
                count: Some(self.len()),
            };
            T::persistent_hash_slice(front, &mut first);
            let mut second = HeaderSplice {
                inner: &mut outer,
                seen: 0,
                count: None,
            };
            T::persistent_hash_slice(back, &mut second);
        }
    }

    fingerprint!("VecDeque", T);
}

/// Length of the header that opens every slice encoding: a tag and an 8-byte count.
const SLICE_HEADER: usize = 9;

/// A sink that rewrites or drops the header of a slice encoding, so that the
/// encodings of two slices can be spliced into the encoding of their
/// concatenation (see the contract of [`PersistentHash::persistent_hash_slice`]).
struct HeaderSplice<'a> {
    inner: &'a mut dyn HashSink,
    /// How many header bytes have gone by.
    seen: usize,
    /// The count written in place of the original one; `None` drops the header.
    count: Option<usize>,
}

impl HashSink for HeaderSplice<'_> {
    fn write(&mut self, bytes: &[u8]) {
        let skip = SLICE_HEADER.saturating_sub(self.seen).min(bytes.len());
        if self.seen == 0
            && skip > 0
            && let (Some(count), Some(&tag)) = (self.count, bytes.first())
        {
            self.inner.write_tag(tag);
            self.inner.write_len(count);
        }
        self.seen += skip;
        if let Some(rest) = bytes.get(skip..)
            && !rest.is_empty()
        {
            self.inner.write(rest);
        }
    }
}

/// One map entry: its key, then its value (no tuple header).
struct MapEntry<'a, K, V>(&'a K, &'a V);

impl<K: PersistentHash, V: PersistentHash> PersistentHash for MapEntry<'_, K, V> {
    #[inline]
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        self.0.persistent_hash(sink);
        self.1.persistent_hash(sink);
    }
}

/// Writes `tag`, the count, then the items in iteration order.
fn write_ordered<S, I>(sink: &mut S, tag: u8, items: I)
where
    S: HashSink + ?Sized,
    I: ExactSizeIterator,
    I::Item: PersistentHash,
{
    sink.write_tag(tag);
    sink.write_len(items.len());
    for item in items {
        item.persistent_hash(sink);
    }
}

/// Writes `tag`, the count, then the items' encodings sorted bytewise, so that
/// neither the iteration order nor the hasher's seed shows. Encodings are
/// prefix-free, so the sorted concatenation still determines the multiset.
fn write_unordered<S, I>(sink: &mut S, tag: u8, items: I)
where
    S: HashSink + ?Sized,
    I: ExactSizeIterator,
    I::Item: PersistentHash,
{
    if items.len() <= 1 {
        return write_ordered(sink, tag, items);
    }
    // One buffer for all the encodings, not one allocation per item.
    let mut buf = Vec::new();
    let mut spans = Vec::with_capacity(items.len());
    for item in items {
        let start = buf.len();
        item.persistent_hash(&mut buf);
        spans.push(start..buf.len());
    }
    spans.sort_unstable_by(|a, b| buf.get(a.clone()).cmp(&buf.get(b.clone())));
    sink.write_tag(tag);
    sink.write_len(spans.len());
    for span in spans {
        if let Some(bytes) = buf.get(span) {
            sink.write(bytes);
        }
    }
}

impl<K: PersistentHash, V: PersistentHash> PersistentHash for BTreeMap<K, V> {
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        write_ordered(sink, tag::MAP, self.iter().map(|(k, v)| MapEntry(k, v)));
    }

    fingerprint!("BTreeMap", K, V);
}

impl<T: PersistentHash> PersistentHash for BTreeSet<T> {
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        write_ordered(sink, tag::SET, self.iter());
    }

    fingerprint!("BTreeSet", T);
}

/// Any hasher: the hasher and its seed do not take part in the encoding.
impl<K: PersistentHash, V: PersistentHash, H> PersistentHash for HashMap<K, V, H> {
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        write_unordered(sink, tag::MAP, self.iter().map(|(k, v)| MapEntry(k, v)));
    }

    fingerprint!("HashMap", K, V);
}

/// Any hasher: the hasher and its seed do not take part in the encoding.
impl<T: PersistentHash, H> PersistentHash for HashSet<T, H> {
    fn persistent_hash<S: HashSink + ?Sized>(&self, sink: &mut S) {
        write_unordered(sink, tag::SET, self.iter());
    }

    fingerprint!("HashSet", T);
}
