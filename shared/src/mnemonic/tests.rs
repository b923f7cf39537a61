//! Unit tests of recovery phrases: parsing rules, every BIP39 vector through the internal parser,
//! the wallet path, redaction.

use super::*;
use crate::{Address, Network};

const VECTORS: &str = include_str!("../../tests/data/bip39/bip39_english_vectors.json");

/// The 24-word phrase of 32 zero bytes.
const ZERO_PHRASE: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                           abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                           abandon art";

/// The 24-word phrase of the bytes 0, 1, …, 31.
const COUNTING_PHRASE: &str = "abandon amount liar amount expire adjust cage candy arch gather drum bullet absurd math \
                               era live bid rhythm alien crouch range attend journey unaware";

fn counting_entropy() -> [u8; 32] {
    std::array::from_fn(|i| i as u8)
}

#[track_caller]
fn parse_err(phrase: &str) -> MnemonicError {
    Mnemonic::parse(phrase).expect_err("the phrase must be refused")
}

#[track_caller]
fn words(phrase: &str) -> Vec<&str> {
    phrase.split(' ').collect()
}

/// Every vector (12, 18 and 24 words) goes through the same parser as user input: entropy →
/// phrase, phrase → entropy, phrase + "TREZOR" → seed.
#[test]
fn every_bip39_vector_through_the_internal_parser() {
    let vectors: serde_json::Value = serde_json::from_str(VECTORS).expect("vector file is JSON");
    let vectors = vectors["english"].as_array().expect("an english array");
    assert_eq!(vectors.len(), 24);
    for vector in vectors {
        let entropy = hex::decode(vector[0].as_str().expect("entropy")).expect("hex");
        let phrase = vector[1].as_str().expect("phrase");
        let seed = vector[2].as_str().expect("seed");
        let from_entropy = english_from_entropy(&entropy).expect("a BIP39 entropy length");
        assert_eq!(from_entropy.to_string(), phrase);
        let parsed = parse_english(&phrase.to_uppercase().replace(' ', " \t "), &[12, 15, 18, 21, 24])
            .expect("the vector parses");
        assert_eq!(parsed.to_entropy(), entropy);
        assert_eq!(hex::encode(Mnemonic(parsed).to_seed_with_passphrase("TREZOR")), seed);
    }
}

#[test]
fn entropy_round_trips_through_the_public_api() {
    let mnemonic = Mnemonic::from_entropy(&counting_entropy());
    assert_eq!(*mnemonic.phrase(), COUNTING_PHRASE);
    assert_eq!(mnemonic.words().count(), WORD_COUNT);
    assert_eq!(mnemonic.words().collect::<Vec<_>>(), words(COUNTING_PHRASE));
    let parsed = Mnemonic::parse(COUNTING_PHRASE).expect("valid phrase");
    assert_eq!(parsed.0.to_entropy(), counting_entropy());
    assert_eq!(*Mnemonic::from_entropy(&[0; 32]).phrase(), ZERO_PHRASE);
}

#[test]
fn extra_whitespace_and_uppercase_are_accepted() {
    let messy = format!("  \n{}\t\r\n ", COUNTING_PHRASE.to_uppercase().replace(' ', "   \t"));
    let mixed: String =
        COUNTING_PHRASE.chars().enumerate().map(|(i, c)| if i % 2 == 0 { c.to_ascii_uppercase() } else { c }).collect();
    let nbsp = COUNTING_PHRASE.replace(' ', "\u{a0}");
    for phrase in [messy.as_str(), mixed.as_str(), nbsp.as_str()] {
        assert_eq!(*Mnemonic::parse(phrase).expect("accepted").phrase(), COUNTING_PHRASE, "{phrase:?}");
    }
}

#[test]
fn a_typo_names_the_word_its_position_and_a_suggestion() {
    let mut typo = words(COUNTING_PHRASE);
    typo[4] = "expier";
    assert_eq!(
        parse_err(&typo.join(" ")),
        MnemonicError::UnknownWord { word: "expier".into(), position: 5, suggestion: Some("expire") }
    );
    typo[4] = "EXPIRE";
    typo[23] = "Unawarr";
    let error = parse_err(&typo.join(" "));
    assert_eq!(error, MnemonicError::UnknownWord { word: "unawarr".into(), position: 24, suggestion: Some("unaware") });
    assert_eq!(
        error.to_string(),
        "word 24 (\"unawarr\") is not in the BIP39 English word list; did you mean \"unaware\"?"
    );
}

#[test]
fn suggestions_cover_each_kind_of_typo_and_only_unique_ones() {
    assert_eq!(suggest("abandn"), Some("abandon")); // a letter dropped
    assert_eq!(suggest("abandonn"), Some("abandon")); // a letter added
    assert_eq!(suggest("abendon"), Some("abandon")); // a letter changed
    assert_eq!(suggest("abnadon"), Some("abandon")); // neighbours swapped
    assert_eq!(suggest("abanxyz"), Some("abandon")); // the first four letters are unique
    assert_eq!(suggest("zzzzzz"), None);
    assert_eq!(suggest("at"), None); // act, art, … are all one edit away
    assert_eq!(suggest("café"), None);
    assert!(one_edit_apart(b"ab", b"ba"));
    assert!(!one_edit_apart(b"same", b"same"));
    assert!(!one_edit_apart(b"abc", b"cab"));
}

#[test]
fn unknown_words_are_reported_before_the_checksum_and_cut_when_long() {
    let mut phrase = words(ZERO_PHRASE);
    phrase[0] = "naïve";
    assert!(matches!(parse_err(&phrase.join(" ")), MnemonicError::UnknownWord { position: 1, suggestion: None, .. }));
    let long = "x".repeat(1000);
    phrase[0] = &long;
    let MnemonicError::UnknownWord { word, .. } = parse_err(&phrase.join(" ")) else {
        panic!("expected an unknown word");
    };
    assert_eq!(word, format!("{}…", "x".repeat(MAX_WORD_SHOWN)));
}

#[test]
fn swapped_words_fail_the_checksum() {
    let mut swapped = words(COUNTING_PHRASE);
    swapped.swap(0, 1);
    assert_eq!(parse_err(&swapped.join(" ")), MnemonicError::BadChecksum);
    let mut wrong_last = words(ZERO_PHRASE);
    wrong_last[23] = "abandon";
    assert_eq!(parse_err(&wrong_last.join(" ")), MnemonicError::BadChecksum);
}

#[test]
fn only_24_words_are_accepted() {
    let all = words(COUNTING_PHRASE);
    assert_eq!(parse_err(&all[..23].join(" ")), MnemonicError::WrongWordCount(23));
    assert_eq!(parse_err(&format!("{COUNTING_PHRASE} abandon")), MnemonicError::WrongWordCount(25));
    assert_eq!(parse_err(""), MnemonicError::WrongWordCount(0));
    assert_eq!(parse_err(" \n\t "), MnemonicError::WrongWordCount(0));
    // A valid 12-word BIP39 phrase is refused by its length, not by its words.
    let twelve = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    assert_eq!(parse_err(twelve), MnemonicError::WrongWordCount(12));
    assert_eq!(
        MnemonicError::WrongWordCount(12).to_string(),
        "the recovery phrase has 12 words, but an OxCoin recovery phrase has 24"
    );
}

/// Pinned against an independent computation (Python: hashlib PBKDF2 and HMAC-SHA512, the
/// `cryptography` package for the ed25519 public key).
#[test]
fn the_wallet_key_matches_an_independent_derivation() {
    let cases = [
        (
            ZERO_PHRASE,
            "408b285c123836004f4b8842c89324c1f01382450c0d439af345ba7fc49acf705489c6fc77dbd4e3dc1dd8cc6bc9f043db8ada1e243c4a0eafb290d399480840",
            "72933e02455fc5dff24ffbfc254ffdaadbc19243ed8ab6ab7ec0ddb59c00f6e0",
            "60ab5a95f4186d2a21d82eece8c58b32e6485b72442dd10fb66372d7b3e8283e",
        ),
        (
            COUNTING_PHRASE,
            "0a6d060f6242aece4b074e48e7d8166f792a9b2bb7b295fa5ac289eda7647290c3d80e7436d6e9e34e72769c06f6582192d0b57ae4a97e9e24c8972a770a57d9",
            "6e325b183010af9ee926c14d8ff2e4b478e69dc69143ef928d0f9630e7f84eb4",
            "71078fe70d83c9cb92b7679195753b5e66a94ad7b8db7199dabdb4161b53b122",
        ),
    ];
    for (phrase, seed, secret, public) in cases {
        let mnemonic = Mnemonic::parse(phrase).expect("valid phrase");
        assert_eq!(hex::encode(mnemonic.to_seed()), seed);
        let key = derive_signing_key(&mnemonic);
        assert_eq!(hex::encode(key.to_bytes()), secret);
        assert_eq!(hex::encode(key.verifying_key().to_bytes()), public);
        let by_path = ExtendedKey::derive_path(&mnemonic.to_seed()[..], &WALLET_PATH).expect("hardened path");
        assert_eq!(hex::encode(by_path.secret_key()), secret);
    }
}

#[test]
fn the_same_phrase_always_gives_the_same_address() {
    let address = |phrase: &str, network| {
        let key = derive_signing_key(&Mnemonic::parse(phrase).expect("valid phrase"));
        Address::from_public_key(network, &key.verifying_key().to_bytes())
    };
    let first = address(COUNTING_PHRASE, Network::Main);
    assert_eq!(address(&COUNTING_PHRASE.to_uppercase(), Network::Main), first);
    assert_eq!(address(&format!(" {COUNTING_PHRASE}\n"), Network::Main), first);
    let fresh = Mnemonic::from_entropy(&counting_entropy());
    assert_eq!(address(&fresh.phrase(), Network::Main), first);
    assert_ne!(address(ZERO_PHRASE, Network::Main), first);
    assert_eq!(address(COUNTING_PHRASE, Network::Dev).account(), first.account());
}

#[test]
fn a_passphrase_changes_the_seed() {
    let mnemonic = Mnemonic::parse(ZERO_PHRASE).expect("valid phrase");
    assert_eq!(*mnemonic.to_seed(), *mnemonic.to_seed_with_passphrase(""));
    assert_ne!(*mnemonic.to_seed(), *mnemonic.to_seed_with_passphrase("TREZOR"));
}

#[test]
fn slip10_refuses_normal_children() {
    let master = ExtendedKey::master(&[0; 32]);
    assert_eq!(master.derive_child(0).map(|_| ()), Err(MnemonicError::NotHardened(0)));
    assert_eq!(ExtendedKey::derive_path(&[0; 32], &[HARDENED, 7]).map(|_| ()), Err(MnemonicError::NotHardened(7)));
    let child = master.derive_child(HARDENED).expect("hardened");
    assert_ne!(child.secret_key(), master.secret_key());
    assert_eq!(child.signing_key().to_bytes(), *child.secret_key());
}

#[test]
fn debug_output_shows_no_secret() {
    let mnemonic = Mnemonic::from_entropy(&counting_entropy());
    let shown = format!("{mnemonic:?}");
    assert!(!shown.contains("abandon") && !shown.contains("amount"), "{shown}");
    let key = ExtendedKey::master(&mnemonic.to_seed()[..]);
    let shown = format!("{key:?}");
    assert!(!shown.contains(&hex::encode(key.secret_key())) && !shown.contains(&hex::encode(key.chain_code())));
}
