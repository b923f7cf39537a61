//! Proof of work: 256-bit targets, Bitcoin's compact "bits" encoding, work, the PoW check and
//! the ASERT (aserti3-2d) difficulty algorithm.

use crate::hash::BlockHash;
use ruint::aliases::U256;

/// A 256-bit proof-of-work target: a block hash read as a little-endian integer must not exceed it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Target(U256);

/// A target in Bitcoin's 32-bit compact form ("bits"): 1 byte exponent, 3 bytes mantissa.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct CompactTarget(u32);

/// Expected number of hashes to meet a target: 2^256 / (target + 1). Chain work is their sum.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Work(U256);

/// Why compact bits do not decode to a usable target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CompactTargetError {
    /// The sign bit is set on a non-zero mantissa.
    #[error("compact target is negative")]
    Negative,
    /// The value does not fit in 256 bits.
    #[error("compact target overflows 256 bits")]
    Overflow,
    /// The target is zero: no hash can meet it.
    #[error("compact target is zero")]
    Zero,
}

/// Why a header's proof of work is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PowError {
    /// The bits do not decode to a target.
    #[error("bits {bits:08x} are not a valid target: {source}")]
    InvalidBits {
        /// The bits in the header.
        bits: u32,
        /// Why they are invalid.
        source: CompactTargetError,
    },
    /// The target is easier than the network allows.
    #[error("bits {bits:08x} are easier than the proof-of-work limit")]
    AboveLimit {
        /// The bits in the header.
        bits: u32,
    },
    /// The hash does not meet the target.
    #[error("hash {hash} is above the target of bits {bits:08x}")]
    HighHash {
        /// The header's hash.
        hash: BlockHash,
        /// The bits in the header.
        bits: u32,
    },
}

// ---- API placeholder: bodies are being written (helper), signatures are fixed. ----

impl CompactTarget {
    /// Wraps consensus bits as found in a header.
    pub const fn from_consensus(bits: u32) -> Self {
        Self(bits)
    }

    /// Returns the bits as found in a header.
    pub const fn to_consensus(self) -> u32 {
        self.0
    }

    /// Decodes the bits like Bitcoin's `SetCompact`, refusing negative, overflowing and zero targets.
    ///
    /// # Errors
    /// The [`CompactTargetError`] that makes these bits unusable.
    pub fn to_target(self) -> Result<Target, CompactTargetError> {
        todo!()
    }
}

impl Target {
    /// Encodes the target like Bitcoin's `GetCompact` (the mantissa is truncated, never rounded up).
    pub fn to_compact_lossy(self) -> CompactTarget {
        todo!()
    }

    /// Returns whether `hash`, read as a little-endian 256-bit integer, is at most this target.
    pub fn is_met_by(&self, hash: &BlockHash) -> bool {
        let _ = hash;
        todo!()
    }

    /// Returns the work of a block at this target: 2^256 / (target + 1).
    pub fn to_work(self) -> Work {
        todo!()
    }
}

/// Checks a header's proof of work and returns the proven hash.
///
/// # Errors
/// [`PowError`] when the bits are invalid or above `pow_limit`, or the hash is above the target.
pub fn validate_pow(hash: BlockHash, bits: CompactTarget, pow_limit: CompactTarget) -> Result<BlockHash, PowError> {
    let _ = (hash, bits, pow_limit);
    todo!()
}
