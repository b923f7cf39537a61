//! Fuzzes `Keyfile::from_json` (the wallet's keyfile, SPEC §7), which reads files a user may
//! have copied from anywhere.
//!
//! Invariants checked:
//! - parsing never panics and never runs the KDF (it must refuse absurd costs before any work;
//!   libFuzzer's timeout catches a slow input);
//! - a keyfile that parses writes back (`to_json`) to JSON that parses to the same keyfile:
//!   same name, network, address, public key and encryption state;
//! - its address is the public key's on its network.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxcoin::Address;
use oxcoin::keyfile::Keyfile;

fuzz_target!(|data: &[u8]| {
    let Ok(keyfile) = Keyfile::from_json(data) else { return };
    assert_eq!(Address::from_public_key(keyfile.network(), keyfile.public_key()), keyfile.address());
    let again = Keyfile::from_json(&keyfile.to_json()).expect("a keyfile's own JSON parses");
    assert_eq!(again.name(), keyfile.name());
    assert_eq!(again.network(), keyfile.network());
    assert_eq!(again.address(), keyfile.address());
    assert_eq!(again.public_key(), keyfile.public_key());
    assert_eq!(again.is_encrypted(), keyfile.is_encrypted());
    assert_eq!(again.kdf_params(), keyfile.kdf_params());
});
