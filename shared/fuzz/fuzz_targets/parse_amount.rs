//! Fuzzes `Amount` parsing (SPEC §2: decimal OXC, at most 8 decimals, parsed exactly).
//!
//! Invariants checked:
//! - parsing never panics, whatever the string;
//! - a parsed amount is at most the total supply;
//! - Display∘parse is the identity on success: parsing the printed amount gives the same amount,
//!   and the print is canonical (printing that again gives the same text);
//! - the value is exact: it equals the grains computed here from the input's digits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxcoin::Amount;
use oxcoin::amount::GRAINS_PER_OXC;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let Ok(amount) = s.parse::<Amount>() else { return };
    assert!(amount <= Amount::MAX_SUPPLY);
    let shown = amount.to_string();
    assert_eq!(shown.parse::<Amount>(), Ok(amount));
    assert_eq!(shown.parse::<Amount>().map(|a| a.to_string()), Ok(shown));
    assert_eq!(Some(amount.to_grains()), reference_grains(s), "{s:?}");
});

/// Grains of a decimal OXC string that parsed, computed digit by digit in u128.
fn reference_grains(s: &str) -> Option<u64> {
    let (whole, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    let mut grains: u128 = 0;
    for digit in whole.bytes() {
        grains = grains.checked_mul(10)?.checked_add(u128::from(digit - b'0'))?;
        // Leading zeros may be many; any value this large already exceeds the supply.
        if grains > u128::from(u64::MAX) {
            return None;
        }
    }
    grains *= u128::from(GRAINS_PER_OXC);
    let mut scale = u128::from(GRAINS_PER_OXC);
    for digit in frac.bytes() {
        scale /= 10;
        grains += u128::from(digit - b'0') * scale;
    }
    u64::try_from(grains).ok()
}
