//! Kernel tests: both paths against `Header::hash`, Bitcoin's genesis nonce, target boundaries.

use super::*;
use oxcoin::{BlockHash, CompactTarget, Header, MerkleRoot};
use proptest::prelude::*;

const PATHS: [KernelPath; 2] = [KernelPath::ShaNi, KernelPath::Portable];

/// Bitcoin's genesis header, with its nonce zeroed.
fn bitcoin_genesis() -> Header {
    Header {
        version: 1,
        prev_hash: BlockHash::ZERO,
        merkle_root: "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
            .parse::<MerkleRoot>()
            .expect("a valid hash"),
        time: 1_231_006_505,
        bits: CompactTarget::from_consensus(0x1d00_ffff),
        nonce: 0,
    }
}

const GENESIS_NONCE: u32 = 2_083_236_893;

#[track_caller]
fn target_of(bits: u32) -> Target {
    CompactTarget::from_consensus(bits).to_target().expect("valid test bits")
}

/// Reports whether the test really exercises SHA-NI on this machine.
fn note_sha_ni() {
    if !KernelPath::ShaNi.is_available() {
        eprintln!("this CPU has no SHA-NI: the SHA-NI cases ran the portable fallback");
    }
}

/// `hash` as a little-endian integer minus one (`hash` must not be zero).
fn minus_one(hash: BlockHash) -> Target {
    let mut bytes = hash.to_byte_array();
    for byte in &mut bytes {
        let (value, borrow) = byte.overflowing_sub(1);
        *byte = value;
        if !borrow {
            break;
        }
    }
    Target::from_le_bytes(bytes)
}

/// A target whose top 32 bits are `top` and whose other bits are all `fill`.
fn target_with_top(top: u32, fill: u8) -> Target {
    let mut bytes = [fill; 32];
    bytes[28..].copy_from_slice(&top.to_le_bytes());
    Target::from_le_bytes(bytes)
}

#[test]
fn bitcoin_genesis_hash_matches() {
    let header = Header { nonce: GENESIS_NONCE, ..bitcoin_genesis() };
    let expected = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
    let job = HeaderJob::new(&header, target_of(0x1d00_ffff));
    for path in PATHS {
        assert_eq!(hash_nonces(path, &job, GENESIS_NONCE, 1), [header.hash()], "{path:?}");
        assert_eq!(header.hash().to_string(), expected);
    }
}

#[test]
fn both_paths_find_bitcoin_genesis_nonce() {
    note_sha_ni();
    let job = HeaderJob::new(&bitcoin_genesis(), target_of(0x1d00_ffff));
    for path in PATHS {
        // The genesis hash's top 32 bits are zero, like the target's: this also takes the
        // full-comparison path for a tied top word.
        assert_eq!(scan_with(path, &job, 2_083_000_000, 240_000), Some(GENESIS_NONCE), "{path:?}");
        assert_eq!(scan_with(path, &job, GENESIS_NONCE, 1), Some(GENESIS_NONCE), "{path:?}");
        assert_eq!(scan_with(path, &job, GENESIS_NONCE - 3, 3), None, "{path:?}");
        assert_eq!(scan_with(path, &job, GENESIS_NONCE + 1, 2000), None, "{path:?}");
    }
    assert_eq!(scan(&job, GENESIS_NONCE - 5, 6), Some(GENESIS_NONCE));
}

#[test]
fn target_equal_to_the_hash_is_met_and_one_less_is_not() {
    let header = Header { nonce: 77, ..bitcoin_genesis() };
    let hash = header.hash();
    let top = u32::from_le_bytes(hash.to_byte_array()[28..].try_into().expect("4 bytes"));
    let cases = [
        (Target::from_le_bytes(hash.to_byte_array()), true),
        (minus_one(hash), false),
        // Decided by the top word alone, both ways.
        (target_with_top(top + 1, 0), true),
        (target_with_top(top - 1, 0xff), false),
        (Target::MAX, true),
    ];
    for (target, met) in cases {
        assert_eq!(target.is_met_by(&hash), met, "the case agrees with oxcoin's rule");
        let job = HeaderJob::new(&header, target);
        for path in PATHS {
            // The same nonce as the last of a group of four lanes.
            let expected = (74..78).find(|&nonce| target.is_met_by(&Header { nonce, ..header }.hash()));
            assert_eq!(scan_with(path, &job, 74, 4), expected, "{path:?} {target:?}");
            assert_eq!(scan_with(path, &job, 77, 1), met.then_some(77), "{path:?} {target:?}");
        }
    }
}

#[test]
fn scan_returns_the_first_nonce_that_meets_the_target() {
    // About one hash in eight meets this target: several hits per group of four lanes.
    let target = target_with_top(0x2000_0000, 0);
    let mut header = bitcoin_genesis();
    for seed in 0..6u8 {
        header.time = header.time.wrapping_add(u32::from(seed));
        let job = HeaderJob::new(&header, target);
        let hashes = hash_nonces(KernelPath::Portable, &job, 1000, 64);
        for start in 1000..1032u32 {
            let expected = (start..1064).find(|&nonce| target.is_met_by(&hashes[(nonce - 1000) as usize]));
            for path in PATHS {
                assert_eq!(scan_with(path, &job, start, 1064 - start), expected, "{path:?} start {start}");
            }
        }
    }
}

#[test]
fn scan_never_wraps_past_the_last_nonce() {
    let job = HeaderJob::new(&bitcoin_genesis(), Target::MAX);
    let none = HeaderJob::new(&bitcoin_genesis(), Target::from_le_bytes([0; 32]));
    for path in PATHS {
        assert_eq!(scan_with(path, &job, u32::MAX, u32::MAX), Some(u32::MAX), "{path:?}");
        assert_eq!(scan_with(path, &job, 5, 0), None, "{path:?}");
        assert_eq!(scan_with(path, &none, u32::MAX - 9, 100), None, "{path:?}");
        assert_eq!(hash_nonces(path, &job, u32::MAX - 2, 100).len(), 3, "{path:?}");
    }
}

#[test]
fn reference_loops_hash_the_same_headers() {
    // Both references fold the same final states, so on equal ranges they agree.
    let job = HeaderJob::new(&bitcoin_genesis(), Target::MAX);
    let portable = reference_compress256(&job, 10, 64);
    if let Some(sha_ni) = reference_sha_ni_x4(&job, 10, 64) {
        assert_eq!(sha_ni, portable);
    }
    assert_ne!(portable, 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sha_ni_and_portable_agree_with_header_hash(
        bytes in any::<[u8; 80]>(),
        start in prop_oneof![any::<u32>(), (u32::MAX - 8)..=u32::MAX],
        count in 0u32..11,
    ) {
        let header = Header::from_bytes(&bytes);
        let job = HeaderJob::new(&header, Target::MAX);
        let expected: Vec<BlockHash> =
            (start..=u32::MAX).take(count as usize).map(|nonce| Header { nonce, ..header }.hash()).collect();
        for path in PATHS {
            prop_assert_eq!(&hash_nonces(path, &job, start, count), &expected, "{:?}", path);
        }
    }
}
