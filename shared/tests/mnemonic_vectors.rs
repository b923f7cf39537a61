//! BIP39 English (trezor/python-mnemonic) and SLIP-0010 ed25519 (satoshilabs/slips) vectors,
//! see `data/README.md`.

use oxcoin::mnemonic::{ExtendedKey, HARDENED, Mnemonic, MnemonicError};
use serde_json::Value;

const BIP39_VECTORS: &str = include_str!("data/bip39/bip39_english_vectors.json");
const BIP39_WORDLIST: &str = include_str!("data/bip39/english.txt");
const SLIP10_VECTORS: &str = include_str!("data/slip10/slip10_ed25519_vectors.json");

#[track_caller]
fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("vector file is JSON")
}

#[track_caller]
fn hex_field(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().expect("a hex string")).expect("valid hex")
}

/// Parses a SLIP-0010 path such as `m/0H/1H` into child indices.
#[track_caller]
fn parse_path(path: &str) -> Vec<u32> {
    let mut parts = path.split('/');
    assert_eq!(parts.next(), Some("m"));
    parts
        .map(|part| {
            let index: u32 = part.strip_suffix('H').expect("ed25519 paths are hardened").parse().expect("an index");
            index | HARDENED
        })
        .collect()
}

/// The crate's word list is BIP39's English list (sha256 2f5eed53…dbda, 2048 words).
#[test]
fn the_word_list_is_bip39_english() {
    let expected: Vec<&str> = BIP39_WORDLIST.lines().collect();
    assert_eq!(expected.len(), 2048);
    assert_eq!(bip39::Language::English.word_list().as_slice(), expected.as_slice());
}

/// 24-word vectors through the public API: entropy → phrase, phrase → seed with "TREZOR".
/// Shorter vectors: the public parser refuses them by their length; the `bip39` crate the module
/// wraps reproduces them (the unit tests also run them through the module's own parser).
#[test]
fn bip39_english_vectors() {
    let vectors = json(BIP39_VECTORS);
    assert_eq!(vectors["passphrase"], "TREZOR");
    let vectors = vectors["english"].as_array().expect("an english array");
    assert_eq!(vectors.len(), 24);
    let mut full_length = 0;
    for vector in vectors {
        let entropy = hex_field(&vector[0]);
        let phrase = vector[1].as_str().expect("a phrase");
        let seed = hex_field(&vector[2]);
        let words = phrase.split(' ').count();
        if let Ok(entropy) = <[u8; 32]>::try_from(entropy.as_slice()) {
            full_length += 1;
            assert_eq!(*Mnemonic::from_entropy(&entropy).phrase(), phrase);
            let parsed = Mnemonic::parse(phrase).expect("a 24-word vector parses");
            assert_eq!(parsed.to_seed_with_passphrase("TREZOR").as_slice(), seed.as_slice());
            assert_eq!(*parsed.phrase(), phrase);
        } else {
            assert_eq!(Mnemonic::parse(phrase).map(|_| ()), Err(MnemonicError::WrongWordCount(words)));
            let crate_mnemonic = bip39::Mnemonic::from_entropy(&entropy).expect("a BIP39 entropy length");
            assert_eq!(crate_mnemonic.to_string(), phrase);
            let parsed = bip39::Mnemonic::parse_normalized(phrase).expect("the vector parses");
            assert_eq!(parsed.to_seed("TREZOR").as_slice(), seed.as_slice());
        }
    }
    assert_eq!(full_length, 8);
}

/// Every chain of both SLIP-0010 ed25519 test vectors: private key, chain code and public key.
#[test]
fn slip10_ed25519_vectors() {
    let vectors = json(SLIP10_VECTORS);
    let vectors = vectors["vectors"].as_array().expect("a vector list");
    assert_eq!(vectors.len(), 2);
    let mut chains = 0;
    for vector in vectors {
        let seed = hex_field(&vector["seed_hex"]);
        for chain in vector["chains"].as_array().expect("a chain list") {
            let path = chain["path"].as_str().expect("a path");
            let key = ExtendedKey::derive_path(&seed, &parse_path(path)).expect("hardened path");
            assert_eq!(key.secret_key().as_slice(), hex_field(&chain["private"]), "{path}");
            assert_eq!(key.chain_code().as_slice(), hex_field(&chain["chain_code"]), "{path}");
            let mut public = vec![0u8];
            public.extend_from_slice(&key.signing_key().verifying_key().to_bytes());
            assert_eq!(public, hex_field(&chain["public"]), "{path}");
            chains += 1;
        }
    }
    assert_eq!(chains, 12);
}

/// Deriving step by step equals deriving the whole path at once.
#[test]
fn slip10_step_by_step_equals_the_path() {
    let vectors = json(SLIP10_VECTORS);
    let seed = hex_field(&vectors["vectors"][1]["seed_hex"]);
    let path = parse_path("m/0H/2147483647H/1H/2147483646H/2H");
    let mut key = ExtendedKey::master(&seed);
    for &index in &path {
        key = key.derive_child(index).expect("hardened");
    }
    let whole = ExtendedKey::derive_path(&seed, &path).expect("hardened");
    assert_eq!(key.secret_key(), whole.secret_key());
    assert_eq!(key.chain_code(), whole.chain_code());
    assert_eq!(
        hex::encode(whole.secret_key()),
        "551d333177df541ad876a60ea71f00447931c0a9da16f227c11ea080d7391b8d",
        "the SLIP-0010 vector 2 leaf"
    );
}
