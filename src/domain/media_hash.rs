//! [`MediaHash`]: the blake3 hash of an original upload. A content hash names a folder of files
//! and keys the media tables, so it is its own type rather than any 32 bytes.

use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MediaHash(pub [u8; 32]);

impl MediaHash {
    pub fn of(bytes: &[u8]) -> Self {
        MediaHash(*blake3::hash(bytes).as_bytes())
    }

    /// The 64 lowercase hex digits, made by table lookup: media URLs are built for every post of
    /// every page, and per-byte formatting showed up in the feed's profile.
    pub fn hex(&self) -> Hex {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (i, b) in self.0.iter().enumerate() {
            out[2 * i] = DIGITS[usize::from(b >> 4)];
            out[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
        }
        Hex(out)
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
        (MediaHash(out).hex().as_str() == s).then_some(MediaHash(out))
    }
}

/// A hash's hex spelling, on the stack.
#[derive(Clone, Copy)]
pub struct Hex([u8; 64]);

impl Hex {
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written into it.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for MediaHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hex().as_str())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_only_the_canonical_spelling_parses() {
        let h = MediaHash::of(b"hello");
        let hex = h.to_string();
        assert_eq!(hex, blake3::hash(b"hello").to_hex().as_str());
        assert_eq!(h.hex().as_str(), hex);
        assert_eq!(MediaHash::parse_hex(&hex), Some(h));
        assert_eq!(MediaHash::parse_hex(&hex.to_uppercase()), None);
        assert_eq!(MediaHash::parse_hex("../etc/passwd"), None);
        assert_eq!(MediaHash::parse_hex(&"z".repeat(64)), None);
    }
}
