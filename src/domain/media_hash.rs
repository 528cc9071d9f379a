//! [`MediaHash`]: the blake3 hash of an original upload. A content hash names a folder of files
//! and keys the media tables, so it is its own type rather than any 32 bytes.

use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MediaHash(pub [u8; 32]);

impl MediaHash {
    pub fn of(bytes: &[u8]) -> Self {
        MediaHash(*blake3::hash(bytes).as_bytes())
    }

    /// Parses the 64 lowercase hex digits used in media URLs.
    pub fn parse_hex(s: &str) -> Option<Self> {
        if s.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        // Only the canonical lowercase spelling names a file.
        (MediaHash(out).to_string() == s).then_some(MediaHash(out))
    }
}

impl fmt::Display for MediaHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for MediaHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MediaHash({self})")
    }
}

/// Serialized as its 64 lowercase hex digits, the spelling its URLs use.
impl serde::Serialize for MediaHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
