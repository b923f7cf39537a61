//! [`verify_strict_each`] against ed25519-dalek's `verify_strict` itself, on signatures made to
//! sit at the edges: keys and `R` points with small-order components, small-order points,
//! non-canonical scalars, flipped bits, in batches of every size. The external edge-case sets
//! are in `tests/signature_vectors.rs`.

use super::*;
use curve25519_dalek::constants::EIGHT_TORSION;
use ed25519_dalek::{Signer, SigningKey};
use proptest::prelude::*;

/// The group order ℓ, little-endian.
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// A key, signature and message, owned.
#[derive(Debug, Clone)]
struct Case {
    key: [u8; 32],
    signature: [u8; 64],
    message: Vec<u8>,
}

impl Case {
    fn signed(&self) -> Signed<'_> {
        Signed { key: &self.key, signature: &self.signature, message: &self.message }
    }

    fn dalek_accepts(&self) -> bool {
        crate::testkit::dalek_verify_strict(&self.key, &self.signature, &self.message)
    }
}

fn scalar_from(seed: u64, tag: u8) -> Scalar {
    let hash = Sha512::new().chain_update([tag]).chain_update(seed.to_le_bytes()).finalize();
    Scalar::from_bytes_mod_order_wide(&hash.into())
}

/// Which prime-order parts a hand-made signature's key and `R` have.
#[derive(Debug, Clone, Copy)]
enum Parts {
    /// Both: a key `aB + T` and an `R` of `rB + T'`.
    Both,
    /// `a = 0`: the key is the small-order point alone.
    NoKey,
    /// `r = 0`: `R` is the small-order point alone.
    NoR,
}

/// A signature made by hand so the key is `aB + T[key_torsion]` and `R` is `rB + T[r_torsion]`
/// (torsion index 0 is the identity: an ordinary signature), with `a` or `r` zero as `parts`
/// says. Its equation `R = [s]B − [k]A` holds exactly when the two small-order parts cancel,
/// `T[r] = −k·T[key]`: about one time in eight for a small-order key part, always for two zero
/// parts. `verify_strict` accepts it when the equation holds and neither the key nor `R` is of
/// small order.
fn with_torsion(seed: u64, key_torsion: usize, r_torsion: usize, parts: Parts, message: &[u8]) -> Case {
    let a = if matches!(parts, Parts::NoKey) { Scalar::ZERO } else { scalar_from(seed, 0) };
    let r = if matches!(parts, Parts::NoR) { Scalar::ZERO } else { scalar_from(seed, 1) };
    let key = (EdwardsPoint::mul_base(&a) + EIGHT_TORSION[key_torsion]).compress().to_bytes();
    let big_r = (EdwardsPoint::mul_base(&r) + EIGHT_TORSION[r_torsion]).compress().to_bytes();
    let hash = Sha512::new().chain_update(big_r).chain_update(key).chain_update(message).finalize();
    let k = Scalar::from_bytes_mod_order_wide(&hash.into());
    let s = r + k * a;
    let mut signature = [0; 64];
    signature[..32].copy_from_slice(&big_r);
    signature[32..].copy_from_slice(s.as_bytes());
    Case { key, signature, message: message.to_vec() }
}

/// Adds two 256-bit little-endian numbers, dropping the carry out of the top.
fn add_le(x: &[u8; 32], y: &[u8; 32]) -> [u8; 32] {
    let mut sum = [0; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let total = u16::from(x[i]) + u16::from(y[i]) + carry;
        sum[i] = total as u8;
        carry = total >> 8;
    }
    sum
}

/// Ways to spoil (or not) a good signature.
#[derive(Debug, Clone, Copy)]
enum Mutation {
    None,
    /// Flip one bit of the key, the signature or the message.
    FlipKey(u8),
    FlipSignature(u16),
    FlipMessage(u8),
    /// `s + ℓ`: the same scalar, not canonical.
    NonCanonicalS,
    /// `R` replaced by one of the eight small-order points.
    SmallOrderR(usize),
    /// The key replaced by one of the eight small-order points.
    SmallOrderKey(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => Just(Mutation::None),
        1 => any::<u8>().prop_map(Mutation::FlipKey),
        1 => (0u16..512).prop_map(Mutation::FlipSignature),
        1 => (0u8..16).prop_map(Mutation::FlipMessage),
        1 => Just(Mutation::NonCanonicalS),
        1 => (0usize..8).prop_map(Mutation::SmallOrderR),
        1 => (0usize..8).prop_map(Mutation::SmallOrderKey),
    ]
}

fn mutated(mut case: Case, mutation: Mutation) -> Case {
    match mutation {
        Mutation::None => {}
        Mutation::FlipKey(bit) => case.key[usize::from(bit / 8)] ^= 1 << (bit % 8),
        Mutation::FlipSignature(bit) => case.signature[usize::from(bit / 8)] ^= 1 << (bit % 8),
        Mutation::FlipMessage(bit) => case.message[usize::from(bit / 8)] ^= 1 << (bit % 8),
        Mutation::NonCanonicalS => {
            let s: [u8; 32] = case.signature[32..].try_into().expect("32 bytes");
            case.signature[32..].copy_from_slice(&add_le(&s, &ELL));
        }
        Mutation::SmallOrderR(i) => case.signature[..32].copy_from_slice(EIGHT_TORSION[i].compress().as_bytes()),
        Mutation::SmallOrderKey(i) => case.key = EIGHT_TORSION[i].compress().to_bytes(),
    }
    case
}

/// A case: an ordinary signature or one with small-order parts, then maybe spoiled.
fn case() -> impl Strategy<Value = Case> {
    let parts = prop_oneof![6 => Just(Parts::Both), 1 => Just(Parts::NoKey), 1 => Just(Parts::NoR)];
    (any::<u64>(), 0usize..8, 0usize..8, any::<bool>(), parts, mutation()).prop_map(
        |(seed, key_t, r_t, plain, parts, m)| {
            let message = seed.to_le_bytes().repeat(2);
            let case = if plain {
                let key = SigningKey::from_bytes(&scalar_from(seed, 2).to_bytes());
                Case { key: key.verifying_key().to_bytes(), signature: key.sign(&message).to_bytes(), message }
            } else {
                with_torsion(seed, key_t, r_t, parts, &message)
            };
            mutated(case, m)
        },
    )
}

fn check_against_dalek(cases: &[Case]) -> Result<(), TestCaseError> {
    let items: Vec<Signed<'_>> = cases.iter().map(Case::signed).collect();
    let answers = verify_strict_each(&items);
    prop_assert_eq!(answers.len(), cases.len());
    for (case, answer) in cases.iter().zip(answers) {
        prop_assert_eq!(answer, case.dalek_accepts(), "{:?}", case);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_answer_in_a_batch_is_dalek_verify_strict_s(cases in prop::collection::vec(case(), 0..=BATCH + 3)) {
        check_against_dalek(&cases)?;
    }
}

/// Every pair of torsion parts with every choice of prime-order parts, over enough seeds that
/// the equation holds for some of each (`(parts, key torsion, R torsion, case)`).
fn every_torsion_pair() -> Vec<(Parts, usize, usize, Case)> {
    let mut cases = Vec::new();
    for parts in [Parts::Both, Parts::NoKey, Parts::NoR] {
        for key_t in 0..8 {
            for r_t in 0..8 {
                for seed in 0..24 {
                    cases.push((parts, key_t, r_t, with_torsion(seed, key_t, r_t, parts, b"edge")));
                }
            }
        }
    }
    cases
}

#[test]
fn signatures_with_small_order_parts_are_accepted_exactly_when_verify_strict_accepts_them() {
    let cases = every_torsion_pair();
    let answers = verify_strict_each(&cases.iter().map(|(.., case)| case.signed()).collect::<Vec<_>>());
    for ((parts, key_t, r_t, case), answer) in cases.iter().zip(&answers) {
        assert_eq!(*answer, case.dalek_accepts(), "{parts:?}, key torsion {key_t}, R torsion {r_t}: {case:?}");
    }
    // The test means something only if both verdicts occur where they can: a mixed key and R
    // whose parts cancel are accepted (strict is cofactorless, it does not ask for torsion-free
    // points), and a small-order key or R is refused although its equation holds.
    let holds = |parts: Parts| {
        cases
            .iter()
            .zip(&answers)
            .filter(move |((p, ..), _)| std::mem::discriminant(p) == std::mem::discriminant(&parts))
    };
    assert!(holds(Parts::Both).any(|((_, key_t, r_t, _), answer)| *answer && (*key_t, *r_t) != (0, 0)));
    assert!(holds(Parts::Both).filter(|((_, key_t, r_t, _), _)| (*key_t, *r_t) == (0, 0)).all(|(_, answer)| *answer));
    assert!(holds(Parts::NoKey).chain(holds(Parts::NoR)).all(|(_, answer)| !*answer));
    for (parts, key_t, r_t, case) in &cases {
        if !matches!(parts, Parts::Both) && (*key_t, *r_t) == (0, 0) {
            assert!(equation_holds(case), "{parts:?}: the equation should hold, only the small order refuse it");
        }
    }
}

/// Whether `R` encodes `[s]B − [k]A`, small orders aside: the equation alone.
fn equation_holds(case: &Case) -> bool {
    let Some(a) = CompressedEdwardsY(case.key).decompress() else { return false };
    let s = Scalar::from_bytes_mod_order(case.signature[32..].try_into().expect("32 bytes"));
    let hash =
        Sha512::new().chain_update(&case.signature[..32]).chain_update(case.key).chain_update(&case.message).finalize();
    let k = Scalar::from_bytes_mod_order_wide(&hash.into());
    EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &-a, &s).compress().as_bytes()[..] == case.signature[..32]
}

#[test]
fn the_answers_do_not_depend_on_the_batch_they_are_checked_in() {
    let cases: Vec<Case> = (0..40)
        .map(|seed| with_torsion(seed, (seed % 8) as usize, 0, Parts::Both, b"order"))
        .chain(
            (0..8)
                .map(|i| mutated(with_torsion(100 + i as u64, 0, 0, Parts::Both, b"order"), Mutation::SmallOrderR(i))),
        )
        .collect();
    let items: Vec<Signed<'_>> = cases.iter().map(Case::signed).collect();
    let together = verify_strict_each(&items);
    let alone: Vec<bool> = items.iter().map(|item| verify_strict_each(&[*item])[0]).collect();
    assert_eq!(together, alone);
    let mut reversed = items.clone();
    reversed.reverse();
    let mut backwards = verify_strict_each(&reversed);
    backwards.reverse();
    assert_eq!(together, backwards);
    assert!(together.iter().any(|a| *a) && together.iter().any(|a| !*a));
}

#[test]
fn an_empty_batch_has_no_answers() {
    assert!(verify_strict_each(&[]).is_empty());
}
