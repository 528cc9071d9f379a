//! Postcard encoding of stored records. Postcard is compact and not self-describing, so a record
//! type may never change shape in place: a new shape is a new table version plus a migration.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    postcard::to_stdvec(value).map_err(|e| Error::internal(format!("encode record: {e}")))
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    postcard::from_bytes(bytes).map_err(|e| Error::internal(format!("corrupt record: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::records::PostStats;

    #[test]
    fn records_round_trip_and_garbage_is_an_error_not_a_panic() {
        let s = PostStats {
            up: 3,
            down: 1,
            comments: 7,
        };
        let bytes = encode(&s).unwrap();
        assert_eq!(decode::<PostStats>(&bytes).unwrap(), s);
        assert!(decode::<PostStats>(&[0xff]).is_err());
    }
}
