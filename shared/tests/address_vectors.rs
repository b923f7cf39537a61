//! BIP-350 vectors (bitcoin/bips, see `data/README.md`) run through the decoder that address
//! parsing uses, [`oxcoin::address::decode_bech32m`].
//!
//! What each part checks:
//! - valid bech32m strings: the checksum verifies; when the 5-bit data converts to whole bytes the
//!   result re-encodes to the input, otherwise the only complaint is `InvalidPadding` (these
//!   generic vectors need not carry bytes; an address must);
//! - invalid bech32m strings: each is refused, with the error its stated reason calls for;
//! - segwit addresses: only their checksum layer is ours to judge (witness versions and program
//!   lengths are Bitcoin's rules). Each verdict is compared with an independent transcription of
//!   BIP-350's reference checksum (below): a bech32m checksum verifies, a bech32 one (witness
//!   version 0, and a few invalid vectors) is reported as `Bech32NotBech32m`. Reasons that name
//!   the checksum or the characters are also checked one by one. None is an OxCoin address.

use bech32::{Bech32m, Hrp};
use oxcoin::address::{Address, AddressError, decode_bech32m};
use serde_json::Value;

const VECTORS: &str = include_str!("data/bip350/bip350_vectors.json");
const CHARSET: &str = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn vectors() -> Value {
    serde_json::from_str(VECTORS).expect("vector file is JSON")
}

#[track_caller]
fn list<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key].as_array().expect("a list")
}

/// Which checksum a string carries, by BIP-350's reference algorithm.
#[derive(Debug, PartialEq, Eq)]
enum Reference {
    Bech32,
    Bech32m,
    Neither,
}

/// BIP-350 reference `bech32_polymod`.
fn polymod(values: impl Iterator<Item = u32>) -> u32 {
    const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let mut chk = 1u32;
    for value in values {
        let top = chk >> 25;
        chk = ((chk & 0x1ffffff) << 5) ^ value;
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// BIP-350 reference `bech32_verify_checksum` over the lowercase string, for strings made of the
/// bech32 alphabet after the last `1`.
fn reference_checksum(s: &str) -> Reference {
    let lower = s.to_ascii_lowercase();
    let sep = lower.rfind('1').expect("separator");
    let (hrp, data) = (&lower[..sep], &lower[sep + 1..]);
    let expanded = hrp.bytes().map(|b| u32::from(b >> 5)).chain([0]).chain(hrp.bytes().map(|b| u32::from(b & 31)));
    let data = data.chars().map(|c| {
        let value = CHARSET.find(c).expect("bech32 character");
        u32::try_from(value).expect("below 32")
    });
    match polymod(expanded.chain(data)) {
        1 => Reference::Bech32,
        0x2bc8_30a3 => Reference::Bech32m,
        _ => Reference::Neither,
    }
}

/// Decides independently of the crate whether the data part (checksum excluded) converts to
/// whole bytes under BIP-173's rule: at most 4 padding bits, all zero.
fn data_is_whole_bytes(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let data_part = &lower[lower.rfind('1').expect("separator") + 1..];
    let data = &data_part[..data_part.len() - 6];
    let padding = data.len() * 5 % 8;
    if padding > 4 {
        return false;
    }
    let Some(last) = data.chars().last() else {
        return true;
    };
    let value = CHARSET.find(last).expect("bech32 character");
    value & ((1 << padding) - 1) == 0
}

/// Asserts that the decoder's checksum verdict on a well-formed string matches the reference.
#[track_caller]
fn assert_checksum_verdict(s: &str) {
    let result = decode_bech32m(s);
    match reference_checksum(s) {
        Reference::Bech32m if data_is_whole_bytes(s) => assert!(result.is_ok(), "{s}: {result:?}"),
        Reference::Bech32m => assert_eq!(result, Err(AddressError::InvalidPadding), "{s}"),
        Reference::Bech32 => assert_eq!(result, Err(AddressError::Bech32NotBech32m), "{s}"),
        Reference::Neither => assert_eq!(result, Err(AddressError::InvalidChecksum), "{s}"),
    }
}

#[test]
fn valid_bech32m_strings_verify() {
    let v = vectors();
    let valid = list(&v, "valid_bech32m");
    assert_eq!(valid.len(), 7);
    let mut whole = 0;
    for entry in valid {
        let s = entry.as_str().expect("a string");
        assert_eq!(reference_checksum(s), Reference::Bech32m, "{s}");
        assert_checksum_verdict(s);
        if let Ok((hrp, bytes)) = decode_bech32m(s) {
            let hrp = Hrp::parse(&hrp).expect("decoded prefix is valid");
            let again = bech32::encode_lower::<Bech32m>(hrp, &bytes).expect("fits");
            assert_eq!(again, s.to_ascii_lowercase(), "{s}");
            whole += 1;
        }
        assert!(s.parse::<Address>().is_err(), "{s}");
    }
    // All but `11lll…` (82 symbols: 2 left-over bits, both set) carry whole bytes, so the byte
    // path is exercised, not skipped.
    assert_eq!(whole, 6);
}

#[test]
fn invalid_bech32m_strings_are_refused_for_their_reason() {
    let v = vectors();
    let invalid = list(&v, "invalid_bech32m");
    assert_eq!(invalid.len(), 14);
    for entry in invalid {
        let s = entry["string"].as_str().expect("a string");
        let reason = entry["reason"].as_str().expect("a reason");
        let error = decode_bech32m(s).expect_err(s);
        let expected = match reason {
            "HRP character out of range" | "Invalid data character" | "Invalid character in checksum" => {
                matches!(error, AddressError::InvalidCharacter(_))
            }
            "overall max length exceeded" => error == AddressError::TooLong { length: 91 },
            "No separator character" => error == AddressError::MissingSeparator,
            "Empty HRP" | "empty HRP" => error == AddressError::InvalidPrefixLength { length: 0 },
            "Too short checksum" => error == AddressError::TooShort,
            "checksum calculated with uppercase form of HRP" => error == AddressError::InvalidChecksum,
            other => panic!("vector reason not mapped: {other}"),
        };
        assert!(expected, "{s:?} ({reason}): got {error:?}");
        assert!(s.parse::<Address>().is_err(), "{s:?}");
    }
}

#[test]
fn valid_segwit_addresses_pass_the_checksum_layer() {
    let v = vectors();
    let valid = list(&v, "valid_segwit_addresses");
    assert_eq!(valid.len(), 8);
    for entry in valid {
        let address = entry["address"].as_str().expect("a string");
        let script = entry["scriptPubKey_hex"].as_str().expect("a string");
        // Witness version 0 (script starting with OP_0) keeps BIP-173's bech32; 1+ use bech32m.
        let version_zero = script.starts_with("00");
        if version_zero {
            assert_eq!(decode_bech32m(address), Err(AddressError::Bech32NotBech32m));
        } else {
            assert!(matches!(decode_bech32m(address), Ok(_) | Err(AddressError::InvalidPadding)), "{address}");
        }
        assert_checksum_verdict(address);
        assert!(address.parse::<Address>().is_err(), "{address}");
    }
}

#[test]
fn invalid_segwit_addresses_fail_at_the_layer_their_reason_names() {
    let v = vectors();
    let invalid = list(&v, "invalid_segwit_addresses");
    assert_eq!(invalid.len(), 15);
    for entry in invalid {
        let address = entry["address"].as_str().expect("a string");
        let reason = entry["reason"].as_str().expect("a reason");
        let result = decode_bech32m(address);
        match reason {
            "Invalid checksum (Bech32 instead of Bech32m)" => {
                assert_eq!(result, Err(AddressError::Bech32NotBech32m), "{address}");
            }
            "Invalid checksum (Bech32m instead of Bech32)" => {
                // A valid bech32m string; only segwit's "v0 uses bech32" rule refuses it.
                assert!(matches!(result, Ok(_) | Err(AddressError::InvalidPadding)), "{address}");
            }
            "Invalid character in checksum" => {
                assert_eq!(result, Err(AddressError::InvalidCharacter('o')), "{address}");
            }
            "Mixed case" => assert_eq!(result, Err(AddressError::MixedCase), "{address}"),
            // Segwit-only rules (prefix, witness version, program length, padding after the
            // version symbol, empty program): the checksum layer must agree with the reference.
            _ => assert_checksum_verdict(address),
        }
        assert!(address.parse::<Address>().is_err(), "{address}");
    }
}

/// An OxCoin-shaped address whose prefix is Bitcoin's is refused by prefix, after the checksum.
#[test]
fn valid_bech32m_segwit_address_is_an_unknown_prefix() {
    let address = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0";
    assert_eq!(reference_checksum(address), Reference::Bech32m);
    assert!(data_is_whole_bytes(address));
    assert_eq!(address.parse::<Address>(), Err(AddressError::UnknownPrefix("bc".to_owned())));
}
