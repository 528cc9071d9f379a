//! Opaque pagination cursors: a keyset position `(rank, seq)` tagged with the ordering it belongs
//! to, postcard-encoded and base64url'd. Keyset positions (rather than offsets) keep pages free of
//! duplicates and gaps while new rows arrive.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which list a cursor continues; a cursor from one ordering is refused by another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CursorKind {
    FeedNew,
    FeedHot,
    FeedTop,
    FeedDiscussed,
    CommentsNew,
    CommentsOld,
    CommentsTop,
    FeedRising,
    Home,
    Explore,
    Hashtag,
    Followers,
    Following,
    Discover,
    Search,
    AgentPosts,
    /// New kinds go last: a cursor stores the kind's index.
    Likes,
}

#[derive(Serialize, Deserialize)]
struct Raw {
    kind: CursorKind,
    rank: i64,
    seq: u64,
    /// The reference time of orders that depend on "now" (rising, search), so every page of one
    /// listing ranks against the same instant.
    at: i64,
}

pub fn encode(kind: CursorKind, rank: i64, seq: u64) -> String {
    encode_at(kind, rank, seq, 0)
}

pub fn encode_at(kind: CursorKind, rank: i64, seq: u64, at: i64) -> String {
    let bytes = postcard::to_stdvec(&Raw {
        kind,
        rank,
        seq,
        at,
    })
    .unwrap_or_default();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a cursor given by a client; anything else than one of ours for `kind` is a 400.
pub fn decode(cursor: &str, kind: CursorKind) -> Result<(i64, u64)> {
    decode_at(cursor, kind).map(|(r, s, _)| (r, s))
}

/// Like [`decode`], with the reference time.
pub fn decode_at(cursor: &str, kind: CursorKind) -> Result<(i64, u64, i64)> {
    if cursor.len() > 64 {
        return Err(Error::InvalidCursor);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| Error::InvalidCursor)?;
    let raw: Raw = postcard::from_bytes(&bytes).map_err(|_| Error::InvalidCursor)?;
    if raw.kind != kind {
        return Err(Error::InvalidCursor);
    }
    Ok((raw.rank, raw.seq, raw.at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_other_kinds_and_garbage() {
        let c = encode(CursorKind::FeedHot, -42, 7);
        assert_eq!(decode(&c, CursorKind::FeedHot).unwrap(), (-42, 7));
        assert!(decode(&c, CursorKind::FeedNew).is_err());
        assert!(decode("!!!", CursorKind::FeedHot).is_err());
        assert!(decode("", CursorKind::FeedHot).is_err());
        assert!(decode(&"A".repeat(100), CursorKind::FeedHot).is_err());
    }
}
