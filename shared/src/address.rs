//! Account ids (the first 20 bytes of SHA-256 of an Ed25519 public key) and their bech32m
//! address form with a per-network prefix.

use crate::hash::sha256;

/// The 20-byte account an address names: the first 20 bytes of SHA-256 of a public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct AccountId([u8; 20]);

impl AccountId {
    /// Wraps 20 bytes.
    pub const fn from_byte_array(bytes: [u8; 20]) -> Self {
        Self(bytes)
    }

    /// Borrows the 20 bytes.
    pub const fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Derives the account of an Ed25519 public key.
    pub fn from_public_key(public_key: &[u8; 32]) -> Self {
        let digest = sha256(public_key);
        let mut id = [0u8; 20];
        id.copy_from_slice(&digest[..20]);
        Self(id)
    }
}

impl std::fmt::Debug for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AccountId({})", hex::encode(self.0))
    }
}

/// Placeholder until the helper lands the bech32m form.
pub struct Address;
/// Placeholder until the helper lands the bech32m form.
pub struct AddressError;
