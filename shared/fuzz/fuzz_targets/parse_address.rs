//! Fuzzes `Address` parsing (SPEC §3, bech32m addresses).
//!
//! Invariants checked:
//! - parsing never panics, whatever the string (including non-ASCII and over-long ones);
//! - Display∘parse is the identity on success: an address prints as its input in lowercase
//!   (bech32m is case-insensitive, printed lowercase), and parsing that print gives it back;
//! - `parse_for` accepts it on its own network and refuses it with `WrongNetwork` on the others.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxcoin::{Address, AddressError, Network};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = oxcoin::address::decode_bech32m(s);
    let Ok(address) = s.parse::<Address>() else { return };
    let shown = address.to_string();
    assert_eq!(shown, s.to_ascii_lowercase(), "an address prints as its lowercase input");
    assert_eq!(shown.parse::<Address>(), Ok(address));
    for network in Network::ALL {
        let expected = if network == address.network() {
            Ok(address)
        } else {
            Err(AddressError::WrongNetwork { expected: network, found: address.network() })
        };
        assert_eq!(Address::parse_for(s, network), expected);
    }
});
