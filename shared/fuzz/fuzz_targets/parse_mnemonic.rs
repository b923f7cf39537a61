//! Fuzzes `Mnemonic::parse` (BIP39 recovery phrases typed or pasted by users).
//!
//! Invariants checked:
//! - parsing never panics, whatever the text;
//! - a phrase that parses prints (`phrase`) 24 known words that parse to the same mnemonic and
//!   the same seed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxcoin::mnemonic::Mnemonic;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(mnemonic) = Mnemonic::parse(text) else { return };
    let phrase = mnemonic.phrase();
    assert_eq!(phrase.split(' ').count(), 24);
    let again = Mnemonic::parse(&phrase).expect("a printed phrase parses");
    assert_eq!(*again.to_seed(), *mnemonic.to_seed());
});
