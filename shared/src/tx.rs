//! Transactions: the coinbase (kind 0) and the signed transfer (kind 1), their canonical
//! encodings, txids, and Ed25519 signing over the domain-separated message.

use crate::address::AccountId;
use crate::amount::Amount;
use crate::encode::{Decode, DecodeError, Encode, Reader};
use crate::hash::{Txid, sha256d};
use crate::signature::{self, Signed};
use ed25519_dalek::{Signer, SigningKey};

/// Kind byte of a coinbase.
pub const COINBASE_KIND: u8 = 0;
/// Kind byte of a transfer.
pub const TRANSFER_KIND: u8 = 1;
/// Length of an encoded coinbase.
pub const COINBASE_LEN: usize = 1 + 8 + 20 + 8 + 8;
/// Length of an encoded transfer with an empty memo.
pub const TRANSFER_BASE_LEN: usize = 1 + 4 + 32 + 20 + 8 + 8 + 8 + 1 + 64;
/// Longest memo a valid transfer may carry, in bytes. Longer ones decode, then fail the rule.
pub const MAX_MEMO_LEN: usize = 128;
/// Domain separator signed before the transfer's bytes, so a transfer signature can never be
/// replayed as a signature over anything else.
pub const SIGNING_DOMAIN: &[u8] = b"oxcoin-tx-v1";

/// A transfer's memo as raw bytes: at most 255, since its length is one byte on the wire.
///
/// A *valid* transfer's memo is also at most [`MAX_MEMO_LEN`] bytes of UTF-8; those are rules
/// with their own error codes, checked after decoding, so this type admits any 255 bytes.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Memo(Vec<u8>);

/// The memo has more bytes than its one-byte length can count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("memo is {0} bytes; no transfer can carry more than 255 (and a valid one at most 128)")]
pub struct MemoLengthError(pub usize);

impl Memo {
    /// Most bytes any encoding can carry.
    pub const MAX_ENCODABLE: usize = u8::MAX as usize;

    /// Wraps `bytes`.
    ///
    /// # Errors
    /// [`MemoLengthError`] over 255 bytes.
    pub fn new(bytes: Vec<u8>) -> Result<Self, MemoLengthError> {
        if bytes.len() > Self::MAX_ENCODABLE {
            return Err(MemoLengthError(bytes.len()));
        }
        Ok(Self(bytes))
    }

    /// Borrows the bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Returns the memo as text, if it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// Returns the number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Returns whether the memo is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<Vec<u8>> for Memo {
    type Error = MemoLengthError;

    fn try_from(bytes: Vec<u8>) -> Result<Self, Self::Error> {
        Self::new(bytes)
    }
}

impl TryFrom<&str> for Memo {
    type Error = MemoLengthError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        Self::new(text.as_bytes().to_vec())
    }
}

/// An Ed25519 public key as carried in a transfer: 32 bytes, not yet checked to be a point.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// Returns the account this key controls.
    pub fn account_id(&self) -> AccountId {
        AccountId::from_public_key(&self.0)
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.0))
    }
}

/// The block reward transaction: first in every block, creating the subsidy plus the fees.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Coinbase {
    /// Height of the block that carries it.
    pub height: u64,
    /// Account credited once the reward matures.
    pub to: AccountId,
    /// Subsidy plus the block's fees.
    pub amount: Amount,
    /// Extra search space miners roll when the 32-bit header nonce runs out.
    pub extra_nonce: u64,
}

/// A payment from the owner of `from` to `to`, signed by `from`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Transfer {
    /// Network the signature is bound to.
    pub chain_id: u32,
    /// Sender's public key; the sender's account is derived from it.
    pub from: PublicKey,
    /// Recipient account.
    pub to: AccountId,
    /// Grains the recipient gains.
    pub amount: Amount,
    /// Grains the miner gains.
    pub fee: Amount,
    /// Sender's transfer count: must equal the sender's nonce in the state it applies to.
    pub nonce: u64,
    /// Free text, at most 128 bytes of UTF-8 in a valid transfer (kept as raw bytes so that a
    /// bad memo is a rule failure with its own code, not a parse failure).
    pub memo: Memo,
    /// Ed25519 signature over [`SIGNING_DOMAIN`] followed by every byte before it.
    pub signature: [u8; 64],
}

/// The fields of a transfer before it is signed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UnsignedTransfer {
    /// Network the signature binds to.
    pub chain_id: u32,
    /// Recipient account.
    pub to: AccountId,
    /// Grains sent.
    pub amount: Amount,
    /// Grains offered to the miner.
    pub fee: Amount,
    /// Sender's next nonce.
    pub nonce: u64,
    /// Memo bytes.
    pub memo: Memo,
}

impl UnsignedTransfer {
    /// Signs with `key` and returns the complete transfer.
    pub fn sign(self, key: &SigningKey) -> Transfer {
        let mut transfer = Transfer {
            chain_id: self.chain_id,
            from: PublicKey(key.verifying_key().to_bytes()),
            to: self.to,
            amount: self.amount,
            fee: self.fee,
            nonce: self.nonce,
            memo: self.memo,
            signature: [0; 64],
        };
        transfer.signature = key.sign(&transfer.signing_message()).to_bytes();
        transfer
    }
}

/// The transfer's signature does not verify strictly under its public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("signature does not verify under the sender's public key")]
pub struct InvalidSignatureError;

impl Transfer {
    /// Returns the sender's account.
    pub fn sender(&self) -> AccountId {
        self.from.account_id()
    }

    /// Returns the bytes the signature covers: the domain separator, then the encoding
    /// without its last 64 bytes.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut message = Vec::with_capacity(SIGNING_DOMAIN.len() + self.encoded_len());
        message.extend_from_slice(SIGNING_DOMAIN);
        self.encode_unsigned_to(&mut message);
        message
    }

    /// Verifies the signature strictly: it passes exactly when dalek's `verify_strict` accepts
    /// it (a canonical `s`, no small-order key or `R`, `R` the canonical encoding of
    /// `[s]B − [k]A`).
    ///
    /// # Errors
    /// [`InvalidSignatureError`] when the key is not a valid point or the signature fails.
    pub fn verify_signature(&self) -> Result<(), InvalidSignatureError> {
        Self::verify_signatures(&[self]).pop().unwrap_or(Err(InvalidSignatureError))
    }

    /// [`Transfer::verify_signature`] for each of `transfers`, in order, computed together
    /// (see [`signature`](crate::signature)): pass up to [`signature::BATCH`] at a time.
    pub fn verify_signatures(transfers: &[&Transfer]) -> Vec<Result<(), InvalidSignatureError>> {
        let messages: Vec<Vec<u8>> = transfers.iter().map(|t| t.signing_message()).collect();
        let items: Vec<Signed<'_>> = transfers
            .iter()
            .zip(&messages)
            .map(|(t, message)| Signed { key: &t.from.0, signature: &t.signature, message })
            .collect();
        signature::verify_strict_each(&items)
            .into_iter()
            .map(|ok| ok.then_some(()).ok_or(InvalidSignatureError))
            .collect()
    }

    /// Returns the txid.
    pub fn txid(&self) -> Txid {
        Txid::from_byte_array(sha256d(&self.encode()))
    }

    fn encode_unsigned_to(&self, out: &mut Vec<u8>) {
        out.push(TRANSFER_KIND);
        out.extend_from_slice(&self.chain_id.to_le_bytes());
        out.extend_from_slice(&self.from.0);
        out.extend_from_slice(self.to.as_bytes());
        out.extend_from_slice(&self.amount.to_grains().to_le_bytes());
        out.extend_from_slice(&self.fee.to_grains().to_le_bytes());
        out.extend_from_slice(&self.nonce.to_le_bytes());
        let memo_len = u8::try_from(self.memo.len()).expect("a Memo holds at most 255 bytes");
        out.push(memo_len);
        out.extend_from_slice(self.memo.as_bytes());
    }

    fn decode_body(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let chain_id = reader.read_u32()?;
        let from = PublicKey(reader.read_array()?);
        let to = AccountId::from_byte_array(reader.read_array()?);
        let amount = Amount::from_grains(reader.read_u64()?);
        let fee = Amount::from_grains(reader.read_u64()?);
        let nonce = reader.read_u64()?;
        let memo_len = usize::from(reader.read_u8()?);
        let memo = Memo(reader.read_slice(memo_len)?.to_vec());
        let signature = reader.read_array()?;
        Ok(Self { chain_id, from, to, amount, fee, nonce, memo, signature })
    }
}

impl Encode for Transfer {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.encode_unsigned_to(out);
        out.extend_from_slice(&self.signature);
    }

    fn encoded_len(&self) -> usize {
        TRANSFER_BASE_LEN + self.memo.len()
    }
}

impl Decode for Transfer {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.read_u8()? {
            TRANSFER_KIND => Self::decode_body(reader),
            found => Err(DecodeError::WrongKind { expected: "transfer", found }),
        }
    }
}

impl Coinbase {
    /// Returns the txid.
    pub fn txid(&self) -> Txid {
        Txid::from_byte_array(sha256d(&self.encode()))
    }

    fn decode_body(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            height: reader.read_u64()?,
            to: AccountId::from_byte_array(reader.read_array()?),
            amount: Amount::from_grains(reader.read_u64()?),
            extra_nonce: reader.read_u64()?,
        })
    }
}

impl Encode for Coinbase {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(COINBASE_KIND);
        out.extend_from_slice(&self.height.to_le_bytes());
        out.extend_from_slice(self.to.as_bytes());
        out.extend_from_slice(&self.amount.to_grains().to_le_bytes());
        out.extend_from_slice(&self.extra_nonce.to_le_bytes());
    }

    fn encoded_len(&self) -> usize {
        COINBASE_LEN
    }
}

impl Decode for Coinbase {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.read_u8()? {
            COINBASE_KIND => Self::decode_body(reader),
            found => Err(DecodeError::WrongKind { expected: "coinbase", found }),
        }
    }
}

/// Any transaction.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Tx {
    /// A block reward.
    Coinbase(Coinbase),
    /// A signed payment.
    Transfer(Transfer),
}

impl Tx {
    /// Returns the txid.
    pub fn txid(&self) -> Txid {
        Txid::from_byte_array(sha256d(&self.encode()))
    }

    /// Returns the transfer, if this is one.
    pub fn as_transfer(&self) -> Option<&Transfer> {
        match self {
            Tx::Transfer(t) => Some(t),
            Tx::Coinbase(_) => None,
        }
    }

    /// Returns the coinbase, if this is one.
    pub fn as_coinbase(&self) -> Option<&Coinbase> {
        match self {
            Tx::Coinbase(c) => Some(c),
            Tx::Transfer(_) => None,
        }
    }
}

impl Encode for Tx {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Tx::Coinbase(c) => c.encode_to(out),
            Tx::Transfer(t) => t.encode_to(out),
        }
    }

    fn encoded_len(&self) -> usize {
        match self {
            Tx::Coinbase(c) => c.encoded_len(),
            Tx::Transfer(t) => t.encoded_len(),
        }
    }
}

impl Decode for Tx {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.read_u8()? {
            COINBASE_KIND => Coinbase::decode_body(reader).map(Tx::Coinbase),
            TRANSFER_KIND => Transfer::decode_body(reader).map(Tx::Transfer),
            kind => Err(DecodeError::UnknownKind(kind)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memo_holds_255_bytes_and_refuses_256() {
        assert_eq!(Memo::new(vec![0; 255]).map(|m| m.len()), Ok(255));
        assert_eq!(Memo::new(vec![0; 256]), Err(MemoLengthError(256)));
        assert_eq!(Memo::try_from("hé").map(|m| m.as_str().map(str::to_owned)), Ok(Some("hé".to_owned())));
        assert_eq!(Memo::new(vec![0xff]).expect("short").as_str(), None);
    }
}
