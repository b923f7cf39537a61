//! Account ids (the first 20 bytes of SHA-256 of an Ed25519 public key) and their bech32m
//! address form with a per-network prefix.

use crate::hash::sha256;
use crate::params::Network;
use bech32::primitives::decode::{CharError, ChecksumError, UncheckedHrpstring, UncheckedHrpstringError};
use bech32::{Bech32, Bech32m, Hrp};
use std::fmt;
use std::str::FromStr;

/// The longest string BIP-173 and BIP-350 allow, separator and checksum included.
pub const MAX_ADDRESS_LENGTH: usize = 90;

/// The number of checksum characters at the end of a bech32m string.
const CHECKSUM_LENGTH: usize = 6;

/// The 20-byte account an address names: the first 20 bytes of SHA-256 of a public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct AccountId([u8; 20]);

impl AccountId {
    /// Wraps 20 bytes.
    pub const fn from_byte_array(bytes: [u8; 20]) -> Self {
        Self(bytes)
    }

    /// Borrows the 20 bytes.
    pub const fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Derives the account of an Ed25519 public key.
    pub fn from_public_key(public_key: &[u8; 32]) -> Self {
        let digest = sha256(public_key);
        let mut id = [0u8; 20];
        id.copy_from_slice(&digest[..20]);
        Self(id)
    }
}

impl std::fmt::Debug for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AccountId({})", hex::encode(self.0))
    }
}

/// An account on one network, written as bech32m of the account's 20 bytes under the network's
/// prefix (`ox1…`, `oxt1…`, `oxd1…`).
///
/// `Display` writes the lowercase address; `FromStr` reads an address of any network (all
/// lowercase or all uppercase) and [`Address::parse_for`] one of a given network.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Address {
    network: Network,
    account: AccountId,
}

impl Address {
    /// Names `account` on `network`.
    pub const fn new(network: Network, account: AccountId) -> Self {
        Self { network, account }
    }

    /// Derives the address of an Ed25519 public key on `network`.
    pub fn from_public_key(network: Network, public_key: &[u8; 32]) -> Self {
        Self::new(network, AccountId::from_public_key(public_key))
    }

    /// Returns the network the address belongs to.
    pub const fn network(&self) -> Network {
        self.network
    }

    /// Returns the account the address names.
    pub const fn account(&self) -> AccountId {
        self.account
    }

    /// Parses an address and checks that it belongs to `network`.
    ///
    /// # Errors
    ///
    /// Returns [`AddressError::WrongNetwork`] for a valid address of another network, and any
    /// error of [`Address::from_str`] for a string that is not an address.
    pub fn parse_for(s: &str, network: Network) -> Result<Self, AddressError> {
        let address: Self = s.parse()?;
        if address.network != network {
            return Err(AddressError::WrongNetwork { expected: network, found: address.network });
        }
        Ok(address)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Neither step can fail for the fixed, short network prefixes (a unit test checks each).
        let hrp = Hrp::parse(self.network.params().address_prefix).map_err(|_| fmt::Error)?;
        bech32::encode_lower_to_fmt::<Bech32m, _>(f, hrp, self.account.as_bytes()).map_err(|_| fmt::Error)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

impl FromStr for Address {
    type Err = AddressError;

    /// Parses an address of any network, telling the network by the prefix.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (prefix, data) = decode_bech32m(s)?;
        let network = Network::ALL
            .into_iter()
            .find(|network| network.params().address_prefix == prefix)
            .ok_or(AddressError::UnknownPrefix(prefix))?;
        let bytes: [u8; 20] =
            data.as_slice().try_into().map_err(|_| AddressError::WrongLength { bytes: data.len() })?;
        Ok(Self::new(network, AccountId::from_byte_array(bytes)))
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a string is not an address (or not a bech32m string at all).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The string is longer than the 90 characters BIP-173 and BIP-350 allow.
    #[error("address is too long: {length} characters, at most 90 are allowed")]
    TooLong {
        /// The length of the string, in characters.
        length: usize,
    },
    /// The string mixes uppercase and lowercase letters.
    #[error("address mixes uppercase and lowercase letters: write it in one case")]
    MixedCase,
    /// The string holds a character bech32m does not allow where it stands.
    #[error("address contains the invalid character {0:?}")]
    InvalidCharacter(char),
    /// The string has no `1` separating the prefix from the data.
    #[error("address has no separator '1' between its prefix and its data")]
    MissingSeparator,
    /// The prefix is empty or longer than the 83 characters BIP-173 allows.
    #[error("address prefix has {length} characters, it must have 1 to 83")]
    InvalidPrefixLength {
        /// The length of the prefix, in characters.
        length: usize,
    },
    /// The part after the separator is shorter than the 6-character checksum.
    #[error("address is too short: the part after the separator '1' must hold a 6-character checksum")]
    TooShort,
    /// The checksum does not match: most likely a typo.
    #[error("address checksum is invalid: check for a typo")]
    InvalidChecksum,
    /// The string carries a valid bech32 (BIP-173) checksum instead of a bech32m one.
    #[error("address has a bech32 (BIP-173) checksum where bech32m (BIP-350) is required: it is not an oxcoin address")]
    Bech32NotBech32m,
    /// The data does not convert to whole bytes: more than 4 padding bits, or non-zero ones.
    #[error("address data has invalid padding: it is not a whole number of bytes")]
    InvalidPadding,
    /// The prefix names no OxCoin network.
    #[error("address prefix {0:?} is unknown: expected ox, oxt or oxd")]
    UnknownPrefix(String),
    /// The address is valid but belongs to another network.
    #[error("address is for the {found} network, expected a {expected} network address")]
    WrongNetwork {
        /// The network the caller asked for.
        expected: Network,
        /// The network the address belongs to.
        found: Network,
    },
    /// The data is not the 20 bytes of an account.
    #[error("address holds {bytes} bytes of data, an account is 20 bytes")]
    WrongLength {
        /// The number of data bytes found.
        bytes: usize,
    },
    /// The string is not well-formed bech32m in a way the other variants do not name.
    #[error("address is not a well-formed bech32m string")]
    Malformed,
}

/// Decodes a bech32m (BIP-350) string into its lowercase prefix and its data bytes, the way
/// [`Address`] parsing does.
///
/// The checks run in this order: length (at most 90 characters), case (all lowercase or all
/// uppercase, normalised to lowercase), characters and separator, prefix length, checksum, then
/// the conversion of the 5-bit data to bytes (at most 4 padding bits, all zero, as BIP-173 asks).
/// A string whose checksum is valid therefore never fails with a checksum error, even when its
/// data does not convert to whole bytes.
///
/// # Errors
///
/// Returns [`AddressError::TooLong`], [`AddressError::MixedCase`],
/// [`AddressError::InvalidCharacter`], [`AddressError::MissingSeparator`],
/// [`AddressError::InvalidPrefixLength`] or [`AddressError::TooShort`] for a string that is not
/// shaped like bech32; [`AddressError::InvalidChecksum`] when the checksum does not verify, or
/// [`AddressError::Bech32NotBech32m`] when it verifies as bech32 instead; and
/// [`AddressError::InvalidPadding`] when the data is not a whole number of bytes.
pub fn decode_bech32m(s: &str) -> Result<(String, Vec<u8>), AddressError> {
    // Bytes bound characters from above, so only a long string needs counting.
    if s.len() > MAX_ADDRESS_LENGTH {
        let length = s.chars().count();
        if length > MAX_ADDRESS_LENGTH {
            return Err(AddressError::TooLong { length });
        }
    }
    let has_upper = s.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = s.bytes().any(|b| b.is_ascii_lowercase());
    if has_upper && has_lower {
        return Err(AddressError::MixedCase);
    }
    // BIP-173: decoders must accept all-uppercase strings; the checksum covers the lowercase form.
    let lower = s.to_ascii_lowercase();

    // Checked first: without a separator, bech32 would blame the first non-data character.
    if !lower.contains('1') {
        return Err(AddressError::MissingSeparator);
    }
    let unchecked = UncheckedHrpstring::new(&lower).map_err(parse_error)?;
    if unchecked.data_part_ascii().len() < CHECKSUM_LENGTH {
        return Err(AddressError::TooShort);
    }
    if let Err(error) = unchecked.validate_checksum::<Bech32m>() {
        return Err(if unchecked.has_valid_checksum::<Bech32>() {
            AddressError::Bech32NotBech32m
        } else {
            checksum_error(error)
        });
    }
    let checked = unchecked.remove_checksum::<Bech32m>();
    // The segwit padding rule is BIP-173's generic 5-to-8 bit rule; no witness version is removed
    // here, so it applies to the whole data part.
    checked.validate_segwit_padding().map_err(|_| AddressError::InvalidPadding)?;
    Ok((checked.hrp().to_lowercase(), checked.byte_iter().collect()))
}

/// Names what is wrong with a string bech32 could not parse.
fn parse_error(error: UncheckedHrpstringError) -> AddressError {
    use bech32::primitives::hrp::Error as HrpError;
    match error {
        UncheckedHrpstringError::Char(CharError::MissingSeparator) => AddressError::MissingSeparator,
        UncheckedHrpstringError::Char(CharError::NothingAfterSeparator) => AddressError::TooShort,
        UncheckedHrpstringError::Char(CharError::InvalidChar(c))
        | UncheckedHrpstringError::Hrp(HrpError::NonAsciiChar(c)) => AddressError::InvalidCharacter(c),
        UncheckedHrpstringError::Hrp(HrpError::InvalidAsciiByte(b)) => AddressError::InvalidCharacter(char::from(b)),
        UncheckedHrpstringError::Char(CharError::MixedCase) | UncheckedHrpstringError::Hrp(HrpError::MixedCase) => {
            AddressError::MixedCase
        }
        UncheckedHrpstringError::Hrp(HrpError::Empty) => AddressError::InvalidPrefixLength { length: 0 },
        UncheckedHrpstringError::Hrp(HrpError::TooLong(length)) => AddressError::InvalidPrefixLength { length },
        // The bech32 error enums are non-exhaustive; 0.12 has no other variant.
        _ => AddressError::Malformed,
    }
}

/// Names what is wrong with a checksum that does not verify as bech32m.
fn checksum_error(error: ChecksumError) -> AddressError {
    match error {
        ChecksumError::InvalidLength => AddressError::TooShort,
        ChecksumError::CodeLength(e) => AddressError::TooLong { length: e.encoded_length },
        _ => AddressError::InvalidChecksum,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The bech32 data alphabet, in value order.
    const CHARSET: &str = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

    fn sample(network: Network) -> Address {
        Address::new(network, AccountId::from_byte_array(*b"oxcoin-test-account!"))
    }

    #[track_caller]
    fn encode_raw<Ck: bech32::Checksum>(prefix: &str, data: &[u8]) -> String {
        let hrp = Hrp::parse(prefix).expect("test prefix is valid");
        bech32::encode_lower::<Ck>(hrp, data).expect("test data fits")
    }

    fn network_strategy() -> impl Strategy<Value = Network> {
        prop::sample::select(Network::ALL.to_vec())
    }

    #[test]
    fn every_network_prefix_encodes() {
        for network in Network::ALL {
            let shown = sample(network).to_string();
            let prefix = network.params().address_prefix;
            assert!(shown.starts_with(&format!("{prefix}1")), "{shown}");
            // 20 bytes are 32 data characters, plus prefix, separator and 6 checksum characters.
            assert_eq!(shown.len(), prefix.len() + 1 + 32 + 6);
            assert_eq!(shown, shown.to_lowercase());
        }
    }

    #[test]
    fn round_trips_on_every_network() {
        for network in Network::ALL {
            let address = sample(network);
            let shown = address.to_string();
            assert_eq!(shown.parse::<Address>(), Ok(address));
            assert_eq!(Address::parse_for(&shown, network), Ok(address));
        }
    }

    #[test]
    fn known_address_is_stable() {
        // Pins the encoding: the all-zero account on main (bech32m of 20 zero bytes under "ox").
        let zero = Address::new(Network::Main, AccountId::from_byte_array([0; 20]));
        let shown = zero.to_string();
        assert_eq!(shown, encode_raw::<Bech32m>("ox", &[0; 20]));
        assert!(shown.starts_with("ox1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"));
    }

    #[test]
    fn from_public_key_uses_the_account_derivation() {
        let key = [9u8; 32];
        let address = Address::from_public_key(Network::Test, &key);
        assert_eq!(address.network(), Network::Test);
        assert_eq!(address.account(), AccountId::from_public_key(&key));
    }

    #[test]
    fn parse_for_refuses_another_network() {
        let shown = sample(Network::Test).to_string();
        assert_eq!(
            Address::parse_for(&shown, Network::Main),
            Err(AddressError::WrongNetwork { expected: Network::Main, found: Network::Test })
        );
    }

    #[test]
    fn one_character_typo_is_an_invalid_checksum() {
        let shown = sample(Network::Main).to_string();
        let mut typo: Vec<char> = shown.chars().collect();
        let i = typo.len() - 10;
        typo[i] = if typo[i] == 'q' { 'p' } else { 'q' };
        let typo: String = typo.into_iter().collect();
        assert_eq!(typo.parse::<Address>(), Err(AddressError::InvalidChecksum));
    }

    #[test]
    fn every_single_substitution_is_an_invalid_checksum() {
        // The checksum is affine in the characters: a substitution adds a residue term that
        // depends only on its position and difference, not on the rest of the data. Trying every
        // position and every replacement in one address per network therefore covers every
        // address of that network.
        for network in Network::ALL {
            let shown = sample(network).to_string();
            let data_start = network.params().address_prefix.len() + 1;
            for i in data_start..shown.len() {
                for replacement in CHARSET.chars() {
                    if shown.as_bytes()[i] == replacement as u8 {
                        continue;
                    }
                    let mut typo = shown.clone();
                    typo.replace_range(i..=i, replacement.encode_utf8(&mut [0; 4]));
                    assert_eq!(typo.parse::<Address>(), Err(AddressError::InvalidChecksum), "{typo}");
                }
            }
        }
    }

    #[test]
    fn wrong_payload_length_is_refused() {
        for bytes in [0, 19, 21, 32] {
            let s = encode_raw::<Bech32m>("ox", &vec![7; bytes]);
            assert_eq!(s.parse::<Address>(), Err(AddressError::WrongLength { bytes }));
        }
    }

    #[test]
    fn uppercase_is_accepted_and_normalised() {
        let address = sample(Network::Dev);
        let upper = address.to_string().to_uppercase();
        assert_eq!(upper.parse::<Address>(), Ok(address));
        assert_eq!(address.to_string(), upper.to_lowercase());
    }

    #[test]
    fn mixed_case_is_refused() {
        let shown = sample(Network::Main).to_string();
        let mixed = format!("OX{}", &shown[2..]);
        assert_eq!(mixed.parse::<Address>(), Err(AddressError::MixedCase));
    }

    #[test]
    fn bech32_checksum_is_told_apart() {
        let s = encode_raw::<Bech32>("ox", &[1; 20]);
        assert_eq!(s.parse::<Address>(), Err(AddressError::Bech32NotBech32m));
    }

    #[test]
    fn unknown_prefix_is_named() {
        let s = encode_raw::<Bech32m>("bc", &[1; 20]);
        assert_eq!(s.parse::<Address>(), Err(AddressError::UnknownPrefix("bc".to_owned())));
    }

    #[test]
    fn length_limit_is_90_characters() {
        // 90 characters: an 83-character prefix, the separator and the checksum.
        let ninety = encode_raw::<Bech32m>(&"a".repeat(83), &[]);
        assert_eq!(ninety.len(), 90);
        assert_eq!(decode_bech32m(&ninety), Ok(("a".repeat(83), vec![])));
        let ninety_one = format!("{ninety}q");
        assert_eq!(decode_bech32m(&ninety_one), Err(AddressError::TooLong { length: 91 }));
    }

    #[test]
    fn structural_errors_are_named() {
        assert_eq!(decode_bech32m("oxqqqqqq"), Err(AddressError::MissingSeparator));
        assert_eq!(decode_bech32m("1qqqqqq"), Err(AddressError::InvalidPrefixLength { length: 0 }));
        assert_eq!(
            decode_bech32m(&format!("{}1qqqqq", "a".repeat(84))),
            Err(AddressError::InvalidPrefixLength { length: 84 })
        );
        assert_eq!(decode_bech32m("ox1qqqqq"), Err(AddressError::TooShort));
        assert_eq!(decode_bech32m("ox1"), Err(AddressError::TooShort));
        assert_eq!(decode_bech32m("ox1qqqqqqb"), Err(AddressError::InvalidCharacter('b')));
        assert_eq!(decode_bech32m("o x1qqqqqq"), Err(AddressError::InvalidCharacter(' ')));
        assert_eq!(decode_bech32m(""), Err(AddressError::MissingSeparator));
        assert_eq!("ox1q".repeat(30).parse::<Address>(), Err(AddressError::TooLong { length: 120 }));
    }

    #[test]
    fn invalid_padding_is_refused() {
        // One data character is 5 bits: more than 4 bits of padding and no whole byte.
        let hrp = Hrp::parse("ox").expect("valid prefix");
        let one_char: String =
            bech32::Fe32IterExt::with_checksum::<Bech32m>([bech32::Fe32::P].into_iter(), &hrp).chars().collect();
        assert!(one_char.starts_with("ox1p"), "{one_char}");
        assert_eq!(decode_bech32m(&one_char), Err(AddressError::InvalidPadding));
    }

    #[test]
    fn errors_read_as_lowercase_sentences() {
        let errors = [
            AddressError::InvalidChecksum,
            AddressError::Bech32NotBech32m,
            AddressError::UnknownPrefix("bc".into()),
            AddressError::WrongNetwork { expected: Network::Main, found: Network::Dev },
            AddressError::WrongLength { bytes: 19 },
            AddressError::MixedCase,
            AddressError::TooLong { length: 91 },
        ];
        for error in errors {
            let message = error.to_string();
            assert!(message.starts_with("address"), "{message}");
            assert!(!message.ends_with('.'), "{message}");
        }
        assert_eq!(
            AddressError::WrongNetwork { expected: Network::Main, found: Network::Dev }.to_string(),
            "address is for the dev network, expected a main network address"
        );
    }

    #[test]
    fn serde_uses_the_string_form() {
        let address = sample(Network::Main);
        let json = serde_json::to_string(&address).expect("serialises");
        assert_eq!(json, format!("\"{address}\""));
        let back: Address = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, address);
        let bad = serde_json::from_str::<Address>("\"ox1qqqq\"");
        assert!(bad.is_err());
    }

    #[test]
    fn debug_shows_the_address() {
        let address = sample(Network::Main);
        assert_eq!(format!("{address:?}"), format!("Address({address})"));
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(
            bytes in any::<[u8; 20]>(),
            network in network_strategy(),
        ) {
            let address = Address::new(network, AccountId::from_byte_array(bytes));
            let shown = address.to_string();
            prop_assert_eq!(shown.parse::<Address>(), Ok(address));
            prop_assert_eq!(Address::parse_for(&shown, network), Ok(address));
            prop_assert_eq!(shown.to_uppercase().parse::<Address>(), Ok(address));
        }

        #[test]
        fn parsing_arbitrary_strings_never_panics(s in any::<String>()) {
            let _ = s.parse::<Address>();
            let _ = decode_bech32m(&s);
        }

        #[test]
        fn parsing_bech32_looking_strings_never_panics(s in "[oxOX]{0,3}1?[qpzry9x8gf2tvdw0s3jn54khce6mua7lbio1A-Z ]{0,95}") {
            let _ = s.parse::<Address>();
            let _ = decode_bech32m(&s);
        }

        #[test]
        fn truncated_or_extended_addresses_are_refused(
            bytes in any::<[u8; 20]>(),
            network in network_strategy(),
            cut in 1usize..10,
            extra in "[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{1,8}",
        ) {
            let shown = Address::new(network, AccountId::from_byte_array(bytes)).to_string();
            prop_assert!(shown[..shown.len() - cut].parse::<Address>().is_err());
            let extended = format!("{shown}{extra}");
            prop_assert!(extended.parse::<Address>().is_err());
        }
    }
}
