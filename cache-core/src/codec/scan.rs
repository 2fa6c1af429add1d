//! An iterative, allocation-bounded structural pre-check of MessagePack bytes.
//!
//! `rmp-serde` 1.3 counts nesting only for arrays, maps and ext values reached
//! through `deserialize_any`/`seq`/`struct`; an enum's `{variant: value}` map is
//! consumed by `deserialize_enum` without being counted, so a recursive enum fed
//! 100,000 nested one-entry maps would recurse without limit. This walk runs
//! first, without recursion, and rejects input that is truncated, has trailing
//! bytes, uses the reserved marker `0xc1`, declares more items than bytes remain,
//! or nests containers deeper than the limit. Its only allocation is a stack of
//! at most `max_depth` counters.

/// Why a MessagePack buffer failed the structural check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ScanError {
    /// The input ended inside a value.
    #[error("truncated MessagePack: input ends inside a value at byte {at}")]
    Truncated {
        /// Offset where more bytes were needed.
        at: usize,
    },
    /// A container declares more items than there are bytes left.
    #[error(
        "MessagePack container at byte {at} declares {count} items but only {left} bytes remain"
    )]
    CountTooLarge {
        /// Offset of the container marker.
        at: usize,
        /// Declared item count (map entries count twice).
        count: u64,
        /// Bytes left after the container header.
        left: usize,
    },
    /// Containers nest deeper than allowed.
    #[error("MessagePack nesting depth exceeds the limit of {limit}")]
    TooDeep {
        /// The configured limit.
        limit: usize,
    },
    /// The reserved marker `0xc1` was found.
    #[error("reserved MessagePack marker 0xc1 at byte {at}")]
    Reserved {
        /// Offset of the marker.
        at: usize,
    },
    /// Bytes follow the single top-level value.
    #[error("{extra} trailing bytes after the MessagePack value")]
    Trailing {
        /// Number of bytes after the value.
        extra: usize,
    },
}

/// What follows a marker byte.
enum Item {
    /// A scalar whose body is `skip` more bytes.
    Scalar { skip: usize },
    /// A container holding `count` more items (map entries count twice).
    Container { count: u64 },
}

/// Reads a big-endian unsigned integer of `width` bytes at `*pos`.
fn read_be(bytes: &[u8], pos: &mut usize, width: usize) -> Result<u64, ScanError> {
    let end = pos
        .checked_add(width)
        .ok_or(ScanError::Truncated { at: *pos })?;
    let slice = bytes
        .get(*pos..end)
        .ok_or(ScanError::Truncated { at: *pos })?;
    *pos = end;
    Ok(slice.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// Reads a length field of `width` bytes as a `usize` skip count.
fn read_len(bytes: &[u8], pos: &mut usize, width: usize) -> Result<usize, ScanError> {
    let at = *pos;
    let len = read_be(bytes, pos, width)?;
    usize::try_from(len).map_err(|_| ScanError::Truncated { at })
}

/// Decodes the header of the item whose marker is `marker` (already consumed).
fn classify(marker: u8, bytes: &[u8], pos: &mut usize) -> Result<Item, ScanError> {
    let scalar = |skip: usize| Ok(Item::Scalar { skip });
    match marker {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => scalar(0),
        0x80..=0x8f => Ok(Item::Container {
            count: u64::from(marker & 0x0f) * 2,
        }),
        0x90..=0x9f => Ok(Item::Container {
            count: u64::from(marker & 0x0f),
        }),
        0xa0..=0xbf => scalar(usize::from(marker & 0x1f)),
        0xc1 => Err(ScanError::Reserved {
            at: pos.saturating_sub(1),
        }),
        // bin8/16/32, str8/16/32: a length, then that many bytes.
        0xc4 | 0xd9 => scalar(read_len(bytes, pos, 1)?),
        0xc5 | 0xda => scalar(read_len(bytes, pos, 2)?),
        0xc6 | 0xdb => scalar(read_len(bytes, pos, 4)?),
        // ext8/16/32: a length, a type byte, then the data.
        0xc7 => scalar(read_len(bytes, pos, 1)?.saturating_add(1)),
        0xc8 => scalar(read_len(bytes, pos, 2)?.saturating_add(1)),
        0xc9 => scalar(read_len(bytes, pos, 4)?.saturating_add(1)),
        0xca => scalar(4),
        0xcb => scalar(8),
        0xcc | 0xd0 => scalar(1),
        0xcd | 0xd1 => scalar(2),
        0xce | 0xd2 => scalar(4),
        0xcf | 0xd3 => scalar(8),
        // fixext 1/2/4/8/16: a type byte, then the data.
        0xd4 => scalar(2),
        0xd5 => scalar(3),
        0xd6 => scalar(5),
        0xd7 => scalar(9),
        0xd8 => scalar(17),
        0xdc => Ok(Item::Container {
            count: read_be(bytes, pos, 2)?,
        }),
        0xdd => Ok(Item::Container {
            count: read_be(bytes, pos, 4)?,
        }),
        0xde => Ok(Item::Container {
            count: read_be(bytes, pos, 2)? * 2,
        }),
        0xdf => Ok(Item::Container {
            count: read_be(bytes, pos, 4)? * 2,
        }),
    }
}

/// Checks that `bytes` holds exactly one well-formed MessagePack value whose
/// containers nest at most `max_depth` deep.
pub(crate) fn check(bytes: &[u8], max_depth: usize) -> Result<(), ScanError> {
    // Remaining item counts of the open containers, innermost last.
    let mut open: Vec<u64> = Vec::with_capacity(max_depth.min(16));
    let mut pos = 0usize;
    loop {
        let at = pos;
        let marker = *bytes.get(pos).ok_or(ScanError::Truncated { at })?;
        pos += 1;
        match classify(marker, bytes, &mut pos)? {
            Item::Scalar { skip } => {
                pos = pos
                    .checked_add(skip)
                    .filter(|&end| end <= bytes.len())
                    .ok_or(ScanError::Truncated { at: pos })?;
            }
            Item::Container { count } => {
                if open.len() >= max_depth {
                    return Err(ScanError::TooDeep { limit: max_depth });
                }
                let left = bytes.len() - pos;
                // Every item takes at least one byte.
                if count > left as u64 {
                    return Err(ScanError::CountTooLarge { at, count, left });
                }
                if count > 0 {
                    open.push(count);
                    continue;
                }
            }
        }
        // One item is complete: credit it to the enclosing containers.
        loop {
            let Some(top) = open.last_mut() else {
                return match bytes.len() - pos {
                    0 => Ok(()),
                    extra => Err(ScanError::Trailing { extra }),
                };
            };
            *top -= 1;
            if *top > 0 {
                break;
            }
            open.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_arrays(depth: usize) -> Vec<u8> {
        let mut v = vec![0x91; depth];
        v.push(0x01);
        v
    }

    #[test]
    fn scan_accepts_encoder_output() {
        #[derive(serde::Serialize)]
        struct S {
            a: Vec<Option<u32>>,
            b: String,
            c: std::collections::BTreeMap<String, (i64, f64, bool)>,
            d: Vec<u8>,
        }
        let value = S {
            a: vec![Some(1), None, Some(u32::MAX)],
            b: "x".repeat(300),
            c: [("k".to_owned(), (-5, 1.5, true))].into_iter().collect(),
            d: vec![7; 70_000],
        };
        let bytes = rmp_serde::to_vec_named(&value).unwrap();
        assert_eq!(check(&bytes, 8), Ok(()));
    }

    #[test]
    fn scan_depth_limit_is_exact() {
        assert_eq!(check(&nested_arrays(256), 256), Ok(()));
        assert_eq!(
            check(&nested_arrays(257), 256),
            Err(ScanError::TooDeep { limit: 256 })
        );
        assert_eq!(
            check(&nested_arrays(100_000), 256),
            Err(ScanError::TooDeep { limit: 256 })
        );
    }

    #[test]
    fn scan_rejects_malformed() {
        assert_eq!(check(&[], 4), Err(ScanError::Truncated { at: 0 }));
        assert_eq!(
            check(&[0x92, 0x01], 4),
            Err(ScanError::CountTooLarge {
                at: 0,
                count: 2,
                left: 1
            })
        );
        assert_eq!(
            check(&[0xdd, 0xff, 0xff, 0xff, 0xff, 0x01], 4),
            Err(ScanError::CountTooLarge {
                at: 0,
                count: u64::from(u32::MAX),
                left: 1
            })
        );
        assert_eq!(
            check(&[0xdb, 0xff, 0xff, 0xff, 0xff, b'a'], 4),
            Err(ScanError::Truncated { at: 5 })
        );
        assert_eq!(check(&[0xc1], 4), Err(ScanError::Reserved { at: 0 }));
        assert_eq!(
            check(&[0x01, 0x02], 4),
            Err(ScanError::Trailing { extra: 1 })
        );
        assert_eq!(check(&[0xcb, 0, 0], 4), Err(ScanError::Truncated { at: 1 }));
    }
}
