//! Strict Ed25519 verification of many signatures at once, accepting exactly what ed25519-dalek's
//! [`VerifyingKey::verify_strict`](ed25519_dalek::VerifyingKey::verify_strict) accepts.
//!
//! `verify_strict` (ed25519-dalek 3) accepts a signature `(R, s)` by key `A` on message `M` when:
//! 1. `s` is a canonical scalar (below the group order ℓ);
//! 2. `A` decompresses to a point (done when the `VerifyingKey` is made) and `R` decompresses too;
//! 3. neither `A` nor `R` has small order;
//! 4. the point `E = [s]B − [k]A`, with `k = SHA-512(R ‖ A ‖ M) mod ℓ` over the bytes as given,
//!    compresses to exactly the bytes `R`.
//!
//! [`verify_strict_each`] checks the same conditions with curve25519-dalek's primitives, in two
//! ways cheaper per signature, and with no change in the outcome:
//! - **No decompression of `R`.** Condition 4 says `R`'s bytes are the canonical encoding of `E`,
//!   so when it holds `R` decompresses, to `E` itself, and `R` has small order exactly when `E`
//!   does. Checking 4 first and then `E`'s order (three doublings) decides 2 and 3 for `R`
//!   without its square root. When 4 fails, `verify_strict` rejects whatever 2 and 3 say.
//! - **One field inversion per batch.** Compressing `E` needs `1/Z`; the batch's points are
//!   compressed together with one inversion (Montgomery's trick, curve25519-dalek's
//!   `EdwardsPoint::compress_batch_alloc`), instead of one each.
//!
//! This is not the randomized batch equation (`verify_batch`, ∑ zᵢ(Rᵢ − [sᵢ]B + [kᵢ]Aᵢ) = 0),
//! which can accept a signature whose equation is off by a small-order point: every signature's
//! own equation is checked here, point for point. The tests compare every answer with
//! `verify_strict` over C2SP's complete set of point edge cases and over random and mutated
//! signatures.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};

/// How many signatures callers hand to [`verify_strict_each`] at a time when they have many:
/// enough that the shared inversion costs under 1 % of each, few enough to spread a block's
/// signatures over a thread pool in even chunks.
pub const BATCH: usize = 64;

/// One signature to check: the signer's public key and signature as encoded, and the message.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// The public key `A`, as encoded (32 bytes).
    pub key: &'a [u8; 32],
    /// The signature `R ‖ s`, as encoded (64 bytes).
    pub signature: &'a [u8; 64],
    /// The message the signature covers.
    pub message: &'a [u8],
}

/// Returns, for each of `items` in order, whether `verify_strict` accepts it (see the module
/// documentation for why the answers are the same).
pub fn verify_strict_each(items: &[Signed<'_>]) -> Vec<bool> {
    let expected: Vec<Option<EdwardsPoint>> = items.iter().map(expected_r).collect();
    let points: Vec<EdwardsPoint> = expected.iter().flatten().copied().collect();
    let mut compressed = EdwardsPoint::compress_batch_alloc(&points).into_iter();
    items
        .iter()
        .zip(&expected)
        .map(|(item, expected)| {
            expected.is_some_and(|point| {
                // Conditions 4, then 2 and 3 for R (R is now known to encode `point`).
                compressed.next().is_some_and(|e| e.as_bytes()[..] == item.signature[..32]) && !point.is_small_order()
            })
        })
        .collect()
}

/// Checks conditions 1 to 3 for `s` and `A`, and returns `E = [s]B − [k]A`: the point `R` must
/// encode. `None` when `verify_strict` rejects before its equation.
fn expected_r(item: &Signed<'_>) -> Option<EdwardsPoint> {
    let (r, s) = item.signature.split_at(32);
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s.try_into().ok()?))?;
    let a = CompressedEdwardsY(*item.key).decompress()?;
    if a.is_small_order() {
        return None;
    }
    let hash = Sha512::new().chain_update(r).chain_update(item.key).chain_update(item.message).finalize();
    let k = Scalar::from_bytes_mod_order_wide(&hash.into());
    Some(EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &-a, &s))
}

#[cfg(test)]
mod tests;
