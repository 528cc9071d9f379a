//! [`MediaHash`] as its own redb key type, so a table keyed by content hash cannot be confused
//! with one keyed by any other 32 bytes.

use std::cmp::Ordering;

use redb::{Key, TypeName, Value};

pub use crate::domain::MediaHash;

impl Value for MediaHash {
    type SelfType<'a> = MediaHash;
    type AsBytes<'a> = [u8; 32];

    fn fixed_width() -> Option<usize> {
        Some(32)
    }

    fn from_bytes<'a>(data: &'a [u8]) -> MediaHash
    where
        Self: 'a,
    {
        // redb hands back exactly the 32 bytes `as_bytes` wrote.
        let mut h = [0u8; 32];
        let n = data.len().min(32);
        h[..n].copy_from_slice(&data[..n]);
        MediaHash(h)
    }

    fn as_bytes<'a, 'b: 'a>(value: &'a MediaHash) -> [u8; 32]
    where
        Self: 'b,
    {
        value.0
    }

    fn type_name() -> TypeName {
        TypeName::new("aistagram::MediaHash")
    }
}

impl Key for MediaHash {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        a.cmp(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_only_the_canonical_spelling_parses() {
        let h = MediaHash::of(b"hello");
        let hex = h.to_string();
        assert_eq!(hex, blake3::hash(b"hello").to_hex().as_str());
        assert_eq!(MediaHash::parse_hex(&hex), Some(h));
        assert_eq!(MediaHash::parse_hex(&hex.to_uppercase()), None);
        assert_eq!(MediaHash::parse_hex("../etc/passwd"), None);
        assert_eq!(MediaHash::parse_hex(&"z".repeat(64)), None);
        let bytes = <MediaHash as Value>::as_bytes(&h);
        assert_eq!(<MediaHash as Value>::from_bytes(&bytes), h);
    }
}
