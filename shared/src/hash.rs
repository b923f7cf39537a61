//! SHA-256, SHA-256d and the 32-byte hash newtypes, shown byte-reversed as Bitcoin shows them.

use sha2::{Digest, Sha256};

/// Computes SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Computes SHA-256d, that is SHA-256(SHA-256(`data`)).
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    sha256(&sha256(data))
}

/// Why a hex string is not a 32-byte hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseHashError {
    /// The string does not have 64 characters.
    #[error("a hash is 64 hex characters, got {0}")]
    WrongLength(usize),
    /// A character is not a hex digit.
    #[error("a hash is hex, found a character that is not a hex digit")]
    NotHex,
}

macro_rules! hash_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Holds the internal byte order (as in headers); `Display` and `FromStr` use the
        /// byte-reversed hex that Bitcoin tools print.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name([u8; 32]);

        impl $name {
            /// The all-zero hash.
            pub const ZERO: Self = Self([0; 32]);

            /// Wraps bytes in internal order.
            pub const fn from_byte_array(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// Returns the bytes in internal order.
            pub const fn to_byte_array(self) -> [u8; 32] {
                self.0
            }

            /// Borrows the bytes in internal order.
            pub const fn as_byte_array(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut reversed = self.0;
                reversed.reverse();
                f.write_str(&hex::encode(reversed))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ParseHashError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                if s.len() != 64 {
                    return Err(ParseHashError::WrongLength(s.len()));
                }
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(s, &mut bytes).map_err(|_| ParseHashError::NotHex)?;
                bytes.reverse();
                Ok(Self(bytes))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

hash_newtype! {
    /// The hash of a block: SHA-256d of its 80-byte header.
    BlockHash
}
hash_newtype! {
    /// The id of a transaction: SHA-256d of its canonical encoding, signature included.
    Txid
}
hash_newtype! {
    /// The RFC 6962 Merkle Tree Hash over a block's txids.
    MerkleRoot
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_matches_fips_180_2() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(hex::encode(sha256(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn display_reverses_and_parse_inverts_it() {
        let mut bytes = [0u8; 32];
        bytes[0] = 0x01;
        bytes[31] = 0xab;
        let hash = BlockHash::from_byte_array(bytes);
        let shown = hash.to_string();
        assert!(shown.starts_with("ab") && shown.ends_with("01"));
        assert_eq!(shown.parse::<BlockHash>(), Ok(hash));
    }

    #[test]
    fn parse_refuses_bad_length_and_bad_digits() {
        assert_eq!("00".parse::<Txid>(), Err(ParseHashError::WrongLength(2)));
        assert_eq!("zz".repeat(32).parse::<Txid>(), Err(ParseHashError::NotHex));
    }
}
