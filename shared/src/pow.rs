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

/// A 512-bit integer: room for an ASERT product of a 256-bit target and a 17-bit factor.
type U512 = ruint::aliases::U512;

/// The sign bit of a compact target's mantissa.
const COMPACT_SIGN_BIT: u32 = 0x0080_0000;
/// The mantissa bits of a compact target, sign bit excluded.
const COMPACT_MANTISSA: u32 = 0x007f_ffff;

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
        // Consensus: "Bitcoin's compact encoding; negative or overflowing values are invalid",
        // with SetCompact's exact semantics: the sign and overflow tests look at the mantissa
        // after a small exponent has shifted bytes out of it.
        let size = self.0 >> 24;
        let mut word = self.0 & COMPACT_MANTISSA;
        if size <= 3 {
            word >>= 8 * (3 - size);
        }
        if word != 0 && self.0 & COMPACT_SIGN_BIT != 0 {
            return Err(CompactTargetError::Negative);
        }
        if word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32)) {
            return Err(CompactTargetError::Overflow);
        }
        let mut target = U256::from_limbs([u64::from(word), 0, 0, 0]);
        if size > 3 {
            // At most 31 bytes here (size ≤ 34), and the checks above keep every set bit inside 256.
            target = target.wrapping_shl(8 * (size as usize - 3));
        }
        if target.is_zero() {
            return Err(CompactTargetError::Zero);
        }
        Ok(Target(target))
    }
}

impl Target {
    /// The largest 256-bit target, met by every hash.
    pub const MAX: Self = Self(U256::MAX);

    /// Builds a target from 32 bytes read as a little-endian integer (the order of hash bytes).
    pub const fn from_le_bytes(bytes: [u8; 32]) -> Self {
        Self(U256::from_le_bytes(bytes))
    }

    /// Returns the target as 32 little-endian bytes.
    pub const fn to_le_bytes(self) -> [u8; 32] {
        self.0.to_le_bytes()
    }

    /// Encodes the target like Bitcoin's `GetCompact` (the mantissa is truncated, never rounded up).
    pub fn to_compact_lossy(self) -> CompactTarget {
        // Bytes needed for the value: 0..=32.
        let mut size = self.0.bit_len().div_ceil(8);
        let mantissa = if size <= 3 {
            self.0.as_limbs()[0] << (8 * (3 - size))
        } else {
            self.0.wrapping_shr(8 * (size - 3)).as_limbs()[0]
        };
        // Both branches leave at most 24 significant bits.
        let mut compact = (mantissa & 0x00ff_ffff) as u32;
        // A set top bit would read as the sign: move the mantissa down a byte instead.
        if compact & COMPACT_SIGN_BIT != 0 {
            compact >>= 8;
            size += 1;
        }
        // size ≤ 33 fits the exponent byte.
        CompactTarget(compact | ((size as u32) << 24))
    }

    /// Returns whether `hash`, read as a little-endian 256-bit integer, is at most this target.
    pub fn is_met_by(&self, hash: &BlockHash) -> bool {
        // Consensus: "the hash read as a little-endian 256-bit integer must be ≤ the target".
        U256::from_le_bytes(*hash.as_byte_array()) <= self.0
    }

    /// Returns the work of a block at this target: 2^256 / (target + 1).
    ///
    /// A zero target (which no valid bits decode to) saturates at 2^256 − 1.
    pub fn to_work(self) -> Work {
        // Consensus: "Work of a block = 2^256 / (target + 1)". 2^256 does not fit, so compute
        // it as Bitcoin does: 2^256 / (t + 1) = (2^256 − t − 1) / (t + 1) + 1 = !t / (t + 1) + 1.
        let Some(divisor) = self.0.checked_add(U256::ONE) else {
            // t = 2^256 − 1: exactly one hash's worth of work.
            return Work(U256::ONE);
        };
        let quotient = (!self.0).checked_div(divisor).unwrap_or(U256::MAX);
        Work(quotient.checked_add(U256::ONE).unwrap_or(U256::MAX))
    }

    /// Returns the difficulty: how many times harder this target is than `pow_limit`.
    ///
    /// For display only (floating point, rounded): consensus compares targets and work.
    pub fn difficulty(self, pow_limit: Target) -> f64 {
        f64::from(pow_limit.0) / f64::from(self.0)
    }

    fn to_u512(self) -> U512 {
        let [a, b, c, d] = self.0.into_limbs();
        U512::from_limbs([a, b, c, d, 0, 0, 0, 0])
    }
}

impl Work {
    /// No work at all: the chain work before genesis.
    pub const ZERO: Self = Self(U256::ZERO);

    /// Adds two amounts of work.
    ///
    /// Returns `None` if the sum does not fit in 256 bits.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    /// Builds work from 32 big-endian bytes.
    pub const fn from_be_bytes(bytes: [u8; 32]) -> Self {
        Self(U256::from_be_bytes(bytes))
    }

    /// Returns the work as 32 big-endian bytes.
    pub const fn to_be_bytes(self) -> [u8; 32] {
        self.0.to_be_bytes()
    }

    /// Returns 64 lowercase hex digits, big-endian, as bitcoind shows `chainwork`.
    pub fn to_hex(self) -> String {
        hex::encode(self.to_be_bytes())
    }
}

/// Checks a header's proof of work and returns the proven hash.
///
/// Like Bitcoin's `CheckProofOfWork`: the bits must decode, their target must not exceed the
/// target of `pow_limit`, and the hash must meet it. A `pow_limit` that does not itself decode
/// admits no block ([`PowError::AboveLimit`]).
///
/// # Errors
/// [`PowError`] when the bits are invalid or above `pow_limit`, or the hash is above the target.
pub fn validate_pow(hash: BlockHash, bits: CompactTarget, pow_limit: CompactTarget) -> Result<BlockHash, PowError> {
    let raw_bits = bits.to_consensus();
    let target = bits.to_target().map_err(|source| PowError::InvalidBits { bits: raw_bits, source })?;
    // Consensus: "pow limit (compact bits)" — no block may claim an easier target.
    match pow_limit.to_target() {
        Ok(limit) if target <= limit => {}
        _ => return Err(PowError::AboveLimit { bits: raw_bits }),
    }
    // Consensus: "the hash read as a little-endian 256-bit integer must be ≤ the target decoded
    // from bits".
    if !target.is_met_by(&hash) {
        return Err(PowError::HighHash { hash, bits: raw_bits });
    }
    Ok(hash)
}

/// The fixed point ASERT measures from: a block's height, its parent's time and its target.
///
/// OxCoin anchors at genesis: height 0, parent time = genesis time − spacing, genesis target.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct AsertAnchor {
    /// Height of the anchor block.
    pub height: u64,
    /// Time of the anchor block's parent, Unix seconds.
    pub parent_time: i64,
    /// Target of the anchor block.
    pub target: Target,
}

/// Bound on the ASERT exponent (in 1/65536ths): any exponent of at least 2^40 in size already
/// shifts every target out of range (beyond ±300 powers of two), so clamping there changes no
/// result while keeping every later step within `i64`.
const ASERT_EXPONENT_BOUND: i128 = 1 << 40;

/// Computes the ASERT exponent `((time_diff − spacing·(height_diff + 1)) · 65536) / half_life`,
/// truncated toward zero, clamped to ±[`ASERT_EXPONENT_BOUND`].
fn asert_exponent(
    anchor: &AsertAnchor,
    target_spacing: i64,
    half_life: i64,
    parent_height: u64,
    parent_time: i64,
) -> i64 {
    let time_diff = i128::from(parent_time) - i128::from(anchor.parent_time);
    let height_diff = i128::from(parent_height) - i128::from(anchor.height);
    // Every operand fits i128 with room to spare except the product of two extremes, where
    // saturating keeps the sign and a magnitude far past the clamp.
    let scheduled = i128::from(target_spacing).saturating_mul(height_diff + 1);
    // Whenever |numerator| ≥ 2^88 the exponent's magnitude is at least 2^88·2^16/2^63 = 2^41, which
    // the final clamp maps to the bound anyway; clamping here keeps the product below 2^105.
    let numerator = time_diff.saturating_sub(scheduled).clamp(-(1 << 88), 1 << 88) * 65536;
    // Integer division truncates toward zero, like C++'s. A zero half-life is meaningless; it
    // gets the limit of a tiny positive one (instant saturation in the numerator's direction).
    let exponent = numerator
        .checked_div(i128::from(half_life))
        .unwrap_or(numerator.signum() * ASERT_EXPONENT_BOUND)
        .clamp(-ASERT_EXPONENT_BOUND, ASERT_EXPONENT_BOUND);
    // Within ±2^40 by the clamp.
    exponent as i64
}

/// Computes the target ASERT (aserti3-2d) requires of the child of a block at `parent_height`
/// with time `parent_time`.
///
/// Matches the Bitcoin Cash C++ reference `CalculateASERT` bit for bit wherever the reference's
/// own arithmetic is exact (every realistic input). It also never panics on inputs the reference
/// asserts against (a parent below the anchor, a target above `pow_limit`, a zero or negative
/// half-life, times whose `i64` products overflow), and keeps the product `target · factor` in
/// 512 bits, so pow limits near 2^256 lose nothing.
pub fn asert_next_target(
    anchor: &AsertAnchor,
    target_spacing: i64,
    half_life: i64,
    pow_limit: Target,
    parent_height: u64,
    parent_time: i64,
) -> Target {
    // Consensus: "exponent = ((P.time − anchor_parent_time − spacing·(P.height − 0 + 1)) · 65536)
    // / half_life   // truncates toward 0".
    let exponent = asert_exponent(anchor, target_spacing, half_life, parent_height, parent_time);
    // Consensus: "shifts = exponent >> 16 (arithmetic); frac = exponent − shifts·65536".
    let mut shifts = exponent >> 16;
    // The low 16 bits of the two's complement are exactly exponent − shifts·65536.
    let frac = u64::from(exponent as u16);
    // Consensus: "factor = 65536 + ((195766423245049·frac + 971821376·frac² + 5127·frac³ + 2^47)
    // >> 48)". With frac < 2^16 the sum stays below 2^64 (a test checks every frac), so this is
    // the reference's u64 arithmetic exactly.
    let factor = 65536
        + ((195_766_423_245_049 * frac + 971_821_376 * frac * frac + 5127 * frac * frac * frac + (1 << 47)) >> 48);
    // Consensus: "target = (anchor_target · factor) shifted by (shifts − 16)". A target below
    // 2^256 times a factor below 2^17 fits 512 bits.
    let mut next = anchor.target.to_u512().wrapping_mul(U512::from_limbs([factor, 0, 0, 0, 0, 0, 0, 0]));
    shifts -= 16;
    let limit = pow_limit.to_u512();
    if shifts <= 0 {
        // Shifting 512 bits or more leaves zero.
        next = next.wrapping_shr(usize::try_from(-shifts).unwrap_or(usize::MAX));
    } else {
        // Bits shifted out of 512 would have made the target ≥ 2^256, above any limit; the
        // reference maps a 256-bit overflow to the limit as well.
        next = usize::try_from(shifts).ok().and_then(|s| next.checked_shl(s)).unwrap_or(limit);
    }
    // Consensus: "0 → 1; above pow limit → pow limit".
    if next.is_zero() {
        return Target(U256::ONE);
    }
    if next > limit {
        return pow_limit;
    }
    let [a, b, c, d, ..] = next.into_limbs();
    // next ≤ limit < 2^256, so the high limbs are zero.
    Target(U256::from_limbs([a, b, c, d]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[track_caller]
    fn target(bits: u32) -> Target {
        CompactTarget::from_consensus(bits).to_target().expect("test bits are valid")
    }

    #[track_caller]
    fn decode_err(bits: u32) -> CompactTargetError {
        CompactTarget::from_consensus(bits).to_target().expect_err("test bits are invalid")
    }

    fn u256(value: u128) -> Target {
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(&value.to_le_bytes());
        Target::from_le_bytes(bytes)
    }

    fn hash_of(target: Target) -> BlockHash {
        BlockHash::from_byte_array(target.to_le_bytes())
    }

    #[test]
    fn known_compacts_round_trip() {
        for bits in
            [0x1d00_ffff, 0x1f00_ffff, 0x207f_ffff, 0x1b04_04cb, 0x1d00_d86a, 0x0300_8000, 0x0200_8000, 0x0101_0000]
        {
            assert_eq!(target(bits).to_compact_lossy().to_consensus(), bits, "{bits:08x}");
        }
    }

    #[test]
    fn known_compacts_decode_to_bitcoin_values() {
        // Bitcoin's genesis target: 0x00000000ffff0000…0000.
        let mut be = [0u8; 32];
        be[4] = 0xff;
        be[5] = 0xff;
        be.reverse();
        assert_eq!(target(0x1d00_ffff), Target::from_le_bytes(be));
        assert_eq!(target(0x1b04_04cb), Target(u256(0x0004_04cb).0 << (8 * (0x1b - 3))));
        assert_eq!(target(0x0101_0000), u256(1));
        assert_eq!(target(0x0200_8000), u256(0x80));
        // A small exponent shifts bytes out of the mantissa, as SetCompact does.
        assert_eq!(target(0x0112_3456), u256(0x12));
        assert_eq!(target(0x0212_3456), u256(0x1234));
    }

    #[test]
    fn negative_overflowing_and_zero_bits_are_refused() {
        assert_eq!(decode_err(0x0480_0001), CompactTargetError::Negative);
        assert_eq!(decode_err(0x1d80_ffff), CompactTargetError::Negative);
        // The sign bit on a mantissa that is shifted out entirely is just a zero target.
        assert_eq!(decode_err(0x0180_3456), CompactTargetError::Zero);
        assert_eq!(decode_err(0x2301_0000), CompactTargetError::Overflow);
        assert_eq!(decode_err(0x2200_0100), CompactTargetError::Overflow);
        assert_eq!(decode_err(0x2101_0000), CompactTargetError::Overflow);
        assert_eq!(decode_err(0xff12_3456), CompactTargetError::Overflow);
        // Just inside each overflow boundary.
        assert!(CompactTarget::from_consensus(0x2200_00ff).to_target().is_ok());
        assert!(CompactTarget::from_consensus(0x2100_ffff).to_target().is_ok());
        assert!(CompactTarget::from_consensus(0x207f_ffff).to_target().is_ok());
        assert_eq!(decode_err(0x0000_0000), CompactTargetError::Zero);
        assert_eq!(decode_err(0x1d00_0000), CompactTargetError::Zero);
        assert_eq!(decode_err(0xff00_0000), CompactTargetError::Zero);
        assert_eq!(decode_err(0x0100_ffff), CompactTargetError::Zero);
    }

    #[test]
    fn compact_of_zero_and_max() {
        assert_eq!(u256(0).to_compact_lossy().to_consensus(), 0);
        assert_eq!(Target::MAX.to_compact_lossy().to_consensus(), 0x2100_ffff);
        // GetCompact truncates: 0x1234_5678 keeps its top three bytes.
        assert_eq!(u256(0x1234_5678).to_compact_lossy().to_consensus(), 0x0412_3456);
        assert_eq!(u256(0x80).to_compact_lossy().to_consensus(), 0x0200_8000);
    }

    #[test]
    fn hash_equal_to_target_meets_it_and_one_more_does_not() {
        let t = target(0x1d00_ffff);
        assert!(t.is_met_by(&hash_of(t)));
        let above = Target(t.0 + U256::ONE);
        assert!(!t.is_met_by(&hash_of(above)));
        assert!(t.is_met_by(&BlockHash::ZERO));
        assert!(Target::MAX.is_met_by(&hash_of(Target::MAX)));
    }

    #[test]
    fn work_matches_bitcoin() {
        // Bitcoin's work per block at difficulty 1: 0x100010001 (chainwork of block 1 is twice it).
        assert_eq!(target(0x1d00_ffff).to_work(), Work(U256::from_limbs([0x1_0001_0001, 0, 0, 0])));
        assert_eq!(Target::MAX.to_work(), Work(U256::ONE));
        assert_eq!(u256(1).to_work(), Work(U256::ONE << 255));
        assert_eq!(u256(0).to_work(), Work(U256::MAX));
        let two = target(0x1d00_ffff).to_work().checked_add(target(0x1d00_ffff).to_work());
        assert_eq!(
            two.map(Work::to_hex).as_deref(),
            Some("0000000000000000000000000000000000000000000000000000000200020002")
        );
        assert_eq!(Work(U256::MAX).checked_add(Work(U256::ONE)), None);
        assert_eq!(Work::ZERO.checked_add(Work::ZERO), Some(Work::ZERO));
    }

    #[test]
    fn work_bytes_round_trip_big_endian() {
        let work = target(0x1d00_ffff).to_work();
        let bytes = work.to_be_bytes();
        assert_eq!(bytes[27..], [0x01, 0x00, 0x01, 0x00, 0x01]);
        assert_eq!(Work::from_be_bytes(bytes), work);
        assert_eq!(work.to_hex().len(), 64);
    }

    #[test]
    fn difficulty_is_limit_over_target() {
        let limit = target(0x1d00_ffff);
        assert_eq!(limit.difficulty(limit), 1.0);
        let d = target(0x1b04_04cb).difficulty(limit);
        assert!((d - 16_307.420_938_523_983).abs() < 1e-6, "{d}");
    }

    #[test]
    fn validate_pow_checks_bits_limit_and_hash() {
        let limit = CompactTarget::from_consensus(0x1d00_ffff);
        let t = target(0x1d00_ffff);
        let at = hash_of(t);
        assert_eq!(validate_pow(at, limit, limit), Ok(at));
        let above = hash_of(Target(t.0 + U256::ONE));
        assert_eq!(validate_pow(above, limit, limit), Err(PowError::HighHash { hash: above, bits: 0x1d00_ffff }));
        assert_eq!(
            validate_pow(at, CompactTarget::from_consensus(0x1d01_0000), limit),
            Err(PowError::AboveLimit { bits: 0x1d01_0000 })
        );
        assert_eq!(
            validate_pow(at, CompactTarget::from_consensus(0x1d80_ffff), limit),
            Err(PowError::InvalidBits { bits: 0x1d80_ffff, source: CompactTargetError::Negative })
        );
        assert_eq!(
            validate_pow(at, CompactTarget::from_consensus(0), limit),
            Err(PowError::InvalidBits { bits: 0, source: CompactTargetError::Zero })
        );
        // An undecodable limit admits nothing.
        assert_eq!(
            validate_pow(BlockHash::ZERO, limit, CompactTarget::from_consensus(0)),
            Err(PowError::AboveLimit { bits: 0x1d00_ffff })
        );
    }

    #[test]
    fn asert_factor_polynomial_never_overflows_u64() {
        for frac in 0u64..65536 {
            let sum = (195_766_423_245_049u64.checked_mul(frac))
                .and_then(|a| a.checked_add(971_821_376u64.checked_mul(frac * frac)?))
                .and_then(|a| a.checked_add(5127u64.checked_mul(frac * frac * frac)?))
                .and_then(|a| a.checked_add(1 << 47));
            let factor = 65536 + (sum.expect("the reference polynomial fits u64") >> 48);
            assert!((65536..131072).contains(&factor), "frac {frac}: factor {factor}");
        }
    }

    fn anchor(bits: u32) -> AsertAnchor {
        AsertAnchor { height: 0, parent_time: 1_000_000 - 600, target: target(bits) }
    }

    #[test]
    fn asert_on_schedule_keeps_the_anchor_target() {
        let a = anchor(0x1c0f_ffff);
        let limit = target(0x1d00_ffff);
        for height in [0u64, 1, 100, 10_000] {
            let time = 1_000_000 + 600 * i64::try_from(height).expect("small height");
            assert_eq!(asert_next_target(&a, 600, 172_800, limit, height, time), a.target, "height {height}");
        }
    }

    #[test]
    fn asert_one_half_life_late_doubles_and_early_halves() {
        let a = anchor(0x1c0f_ffff);
        let limit = target(0x1d00_ffff);
        let late = asert_next_target(&a, 600, 172_800, limit, 0, 1_000_000 + 172_800);
        assert_eq!(late, Target(a.target.0 << 1));
        let early = asert_next_target(&a, 600, 172_800, limit, 0, 1_000_000 - 172_800);
        assert_eq!(early, Target(a.target.0 >> 1));
    }

    #[test]
    fn asert_keeps_high_bits_of_targets_near_2_pow_256() {
        // 0x207fffff ≈ 2^255: target · factor needs up to 273 bits.
        let a = anchor(0x207f_ffff);
        let limit = a.target;
        // One second early: exponent −1/65536 of a half-life, the factor is just under 2^17.
        let next = asert_next_target(&a, 600, 65536, limit, 0, 1_000_000 - 1);
        assert!(next < a.target && next.0 > (a.target.0 >> 1) + (a.target.0 >> 2), "{next:?}");
        // Late: capped at the limit.
        assert_eq!(asert_next_target(&a, 600, 3600, limit, 0, 1_000_000 + 3600), limit);
        // Very early: never zero.
        assert_eq!(asert_next_target(&a, 600, 1, limit, 1_000_000, 0), u256(1));
    }

    #[test]
    fn asert_survives_absurd_inputs() {
        let a = anchor(0x1d00_ffff);
        let limit = target(0x1d00_ffff);
        assert_eq!(asert_next_target(&a, 600, 0, limit, 0, i64::MAX), limit);
        assert_eq!(asert_next_target(&a, 600, 0, limit, u64::MAX, i64::MIN), u256(1));
        assert_eq!(asert_next_target(&a, 600, 0, limit, 0, 1_000_000), a.target);
        assert_eq!(asert_next_target(&a, i64::MIN, -1, limit, u64::MAX, i64::MIN), u256(1));
        assert_eq!(asert_next_target(&a, i64::MAX, i64::MAX, limit, u64::MAX, i64::MAX), u256(1));
        let zero = AsertAnchor { target: u256(0), ..a };
        assert_eq!(asert_next_target(&zero, 600, 3600, limit, 0, i64::MAX), u256(1));
    }

    fn any_target() -> impl Strategy<Value = Target> {
        (any::<[u8; 32]>(), 0usize..=256)
            .prop_map(|(bytes, shift)| Target(U256::from_le_bytes(bytes).wrapping_shr(shift)))
    }

    fn canonical_compact() -> impl Strategy<Value = u32> {
        prop_oneof![
            (3u32..=32, 0x8000u32..=0x7f_ffff).prop_map(|(size, mantissa)| size << 24 | mantissa),
            (0x8000u32..=0xffff).prop_map(|mantissa| 33 << 24 | mantissa),
            (1u32..=0x7f).prop_map(|byte| 0x0100_0000 | byte << 16),
            (0x80u32..=0x7fff).prop_map(|value| 0x0200_0000 | value << 8),
        ]
    }

    proptest! {
        #[test]
        fn lossy_compact_never_exceeds_the_target(t in any_target()) {
            match t.to_compact_lossy().to_target() {
                Ok(back) => prop_assert!(back <= t),
                // Only the zero target encodes to bits that do not decode.
                Err(e) => prop_assert!(e == CompactTargetError::Zero && t.0.is_zero()),
            }
        }

        #[test]
        fn canonical_compacts_round_trip(bits in canonical_compact()) {
            let t = CompactTarget::from_consensus(bits).to_target();
            prop_assert!(t.is_ok(), "{:08x}: {:?}", bits, t);
            let t = t.expect("checked above");
            prop_assert_eq!(t.to_compact_lossy().to_consensus(), bits);
        }

        #[test]
        fn any_bits_decode_without_panicking_and_valid_ones_are_exact(bits in any::<u32>()) {
            if let Ok(t) = CompactTarget::from_consensus(bits).to_target() {
                // A decoded target has at most 23 significant bits, so re-encoding loses none.
                let again = t.to_compact_lossy();
                prop_assert_eq!(again.to_target(), Ok(t));
                prop_assert_eq!(again.to_target().map(Target::to_compact_lossy), Ok(again));
            }
        }

        #[test]
        fn asert_never_panics_and_stays_in_range(
            height in any::<u64>(),
            parent_time in any::<i64>(),
            target_bytes in any::<[u8; 32]>(),
            spacing in any::<i64>(),
            half_life in any::<i64>(),
            parent_height in any::<u64>(),
            time in any::<i64>(),
            limit in any_target(),
        ) {
            let a = AsertAnchor { height, parent_time, target: Target::from_le_bytes(target_bytes) };
            let next = asert_next_target(&a, spacing, half_life, limit, parent_height, time);
            prop_assert!(next == u256(1) || next <= limit);
            prop_assert!(next.0 > U256::ZERO);
        }

        #[test]
        fn asert_is_monotonic_in_time(time in -1_000_000_000i64..1_000_000_000, delta in 0i64..1_000_000) {
            let a = anchor(0x1c0f_ffff);
            let limit = target(0x1d00_ffff);
            let earlier = asert_next_target(&a, 600, 172_800, limit, 1000, time);
            let later = asert_next_target(&a, 600, 172_800, limit, 1000, time + delta);
            prop_assert!(earlier <= later);
        }
    }
}
