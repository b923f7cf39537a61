//! Fuzzes `CompactTarget::to_target` and `Target::to_compact_lossy` (SPEC §3, compact bits).
//!
//! Invariants checked:
//! - decoding any 32-bit bits never panics;
//! - a decoded target is never zero, and re-encoding it loses nothing: compact∘decode∘compact is
//!   the identity on the re-encoded bits, and decoding them gives the same target back;
//! - the work of a decoded target is never zero and computing it never panics;
//! - encoding any 256-bit target never panics and never rounds up: the re-decoded target is at
//!   most the original (only the zero target has no valid encoding).
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxcoin::pow::CompactTargetError;
use oxcoin::{CompactTarget, Target, Work};

fuzz_target!(|input: (u32, [u8; 32])| {
    let (bits, target_bytes) = input;
    if let Ok(target) = CompactTarget::from_consensus(bits).to_target() {
        assert_ne!(target, Target::from_le_bytes([0; 32]));
        let again = target.to_compact_lossy();
        assert_eq!(again.to_target(), Ok(target));
        assert_eq!(again.to_target().map(Target::to_compact_lossy), Ok(again));
        assert_ne!(target.to_work(), Work::ZERO);
    }

    let any_target = Target::from_le_bytes(target_bytes);
    match any_target.to_compact_lossy().to_target() {
        Ok(back) => assert!(back <= any_target),
        Err(error) => {
            assert_eq!(error, CompactTargetError::Zero);
            assert_eq!(target_bytes, [0; 32]);
        }
    }
    let _ = any_target.to_work();
});
