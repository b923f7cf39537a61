//! Block headers and blocks: their canonical encodings, hashes and size.

use crate::encode::{Decode, DecodeError, Encode, Reader};
use crate::hash::{BlockHash, MerkleRoot, Txid, sha256d};
use crate::pow::{self, CompactTarget, PowError};
use crate::tx::Tx;

/// Length of an encoded header: exactly Bitcoin's 80 bytes.
pub const HEADER_LEN: usize = 80;

/// A block header, field for field Bitcoin's.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Header {
    /// Block version; carries no rule today.
    pub version: u32,
    /// Hash of the previous block's header (internal byte order).
    pub prev_hash: BlockHash,
    /// RFC 6962 Merkle root of the block's txids.
    pub merkle_root: MerkleRoot,
    /// Unix time in seconds.
    pub time: u32,
    /// The target this block claims to meet, in compact form.
    pub bits: CompactTarget,
    /// The nonce the miner varied.
    pub nonce: u32,
}

impl Header {
    /// Returns the 80-byte encoding.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&self.version.to_le_bytes());
        out[4..36].copy_from_slice(self.prev_hash.as_byte_array());
        out[36..68].copy_from_slice(self.merkle_root.as_byte_array());
        out[68..72].copy_from_slice(&self.time.to_le_bytes());
        out[72..76].copy_from_slice(&self.bits.to_consensus().to_le_bytes());
        out[76..80].copy_from_slice(&self.nonce.to_le_bytes());
        out
    }

    /// Reads a header from its 80 bytes.
    pub fn from_bytes(bytes: &[u8; HEADER_LEN]) -> Self {
        let word = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let hash = |at: usize| {
            let mut h = [0u8; 32];
            h.copy_from_slice(&bytes[at..at + 32]);
            h
        };
        Self {
            version: word(0),
            prev_hash: BlockHash::from_byte_array(hash(4)),
            merkle_root: MerkleRoot::from_byte_array(hash(36)),
            time: word(68),
            bits: CompactTarget::from_consensus(word(72)),
            nonce: word(76),
        }
    }

    /// Computes the block hash: SHA-256d of the 80 bytes.
    pub fn hash(&self) -> BlockHash {
        BlockHash::from_byte_array(sha256d(&self.to_bytes()))
    }

    /// Checks the proof of work against the header's own bits and the network's limit, and
    /// returns the proven hash.
    ///
    /// # Errors
    /// [`PowError`] when the bits are unusable or the hash does not meet them.
    pub fn validate_pow(&self, pow_limit: CompactTarget) -> Result<BlockHash, PowError> {
        pow::validate_pow(self.hash(), self.bits, pow_limit)
    }
}

impl Encode for Header {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }

    fn encoded_len(&self) -> usize {
        HEADER_LEN
    }
}

impl Decode for Header {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self::from_bytes(&reader.read_array()?))
    }
}

/// A block: a header and its transactions, the coinbase first.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// The transactions in order.
    pub txs: Vec<Tx>,
}

/// Smallest possible encoding of a transaction inside a block: its u16 length prefix plus a
/// coinbase, the shortest kind. Bounds the count a block's bytes can hold.
const MIN_TX_IN_BLOCK: usize = 2 + crate::tx::COINBASE_LEN;

impl Block {
    /// Computes the txid of every transaction, in order.
    pub fn txids(&self) -> Vec<Txid> {
        self.txs.iter().map(Tx::txid).collect()
    }

    /// Computes the Merkle root the header should carry.
    pub fn compute_merkle_root(&self) -> MerkleRoot {
        crate::merkle::merkle_root_of_txids(&self.txids())
    }
}

impl Encode for Block {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        let count = u32::try_from(self.txs.len()).expect("a block in memory holds fewer than 2^32 transactions");
        out.extend_from_slice(&count.to_le_bytes());
        for tx in &self.txs {
            let len = u16::try_from(tx.encoded_len()).expect("every transaction encoding is shorter than 2^16 bytes");
            out.extend_from_slice(&len.to_le_bytes());
            tx.encode_to(out);
        }
    }

    fn encoded_len(&self) -> usize {
        HEADER_LEN + 4 + self.txs.iter().map(|tx| 2 + tx.encoded_len()).sum::<usize>()
    }
}

impl Decode for Block {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = Header::decode_from(reader)?;
        let count = reader.read_u32()?;
        // Cap the count by what the remaining bytes could hold before allocating anything.
        let remaining = reader.remaining();
        if count as usize > remaining / MIN_TX_IN_BLOCK {
            return Err(DecodeError::TooManyTransactions { count, remaining });
        }
        let mut txs = Vec::with_capacity(count as usize);
        for index in 0..count as usize {
            let declared = usize::from(reader.read_u16()?);
            let mut tx_reader = reader.sub_reader(declared)?;
            let tx = Tx::decode_from(&mut tx_reader)?;
            if tx_reader.remaining() != 0 {
                return Err(DecodeError::TransactionLength { index, declared, actual: tx_reader.position() });
            }
            txs.push(tx);
        }
        Ok(Self { header, txs })
    }
}
