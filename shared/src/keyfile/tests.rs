//! Unit tests of the keyfile format: round trips, every refusal, tampering, KDF bounds, redaction.
//!
//! Argon2id at the default 64 MiB runs 4 times here (one test); the other encrypted keyfiles use
//! the cheapest cost argon2id allows.

use super::*;
use proptest::prelude::*;
use serde_json::{Value, json};

const PASSWORD: &[u8] = b"correct horse battery staple";
const SALT: [u8; SALT_LEN] = [7; SALT_LEN];
const NONCE: [u8; NONCE_LEN] = [9; NONCE_LEN];
const CHEAP: KdfParams = KdfParams { memory_kib: 8, iterations: 1, parallelism: 1 };

fn key(byte: u8) -> SigningKey {
    SigningKey::from_bytes(&[byte; 32])
}

fn plain() -> Keyfile {
    Keyfile::new_plain("main-wallet", Network::Main, &key(1)).expect("valid name")
}

/// An encrypted keyfile at the cheapest cost.
fn cheap_encrypted() -> Keyfile {
    plain().encrypt_with(PASSWORD, CHEAP, SALT, NONCE).expect("encrypts")
}

fn to_value(keyfile: &Keyfile) -> Value {
    serde_json::from_slice(&keyfile.to_json()).expect("a keyfile is JSON")
}

/// Rewrites a keyfile's JSON through `change` and reads it back.
#[track_caller]
fn read_edited(keyfile: &Keyfile, change: impl FnOnce(&mut Value)) -> Result<Keyfile, KeyfileError> {
    let mut value = to_value(keyfile);
    change(&mut value);
    Keyfile::from_json(&serde_json::to_vec(&value).expect("serializes"))
}

#[track_caller]
fn refused(keyfile: &Keyfile, change: impl FnOnce(&mut Value)) -> KeyfileError {
    read_edited(keyfile, change).expect_err("the edited keyfile must be refused")
}

#[track_caller]
fn assert_malformed(error: KeyfileError, needle: &str) {
    match error {
        KeyfileError::Malformed(text) => assert!(text.contains(needle), "{text:?} should mention {needle:?}"),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// Flips the lowest bit of the first hex digit of a string field.
fn flip_hex(value: &mut Value) {
    let text = value.as_str().expect("a hex string");
    let first = u8::from_str_radix(&text[..1], 16).expect("a hex digit") ^ 1;
    *value = Value::String(format!("{first:x}{}", &text[1..]));
}

#[test]
fn plain_round_trip() {
    let keyfile = plain();
    let json = keyfile.to_json();
    assert!(json.ends_with(b"}\n"));
    assert!(json.starts_with(b"{\n  \"version\": 1,\n"), "pretty JSON, version first");
    let read = Keyfile::from_json(&json).expect("reads back");
    assert_eq!(*read.to_json(), *json);
    assert_eq!(read.name(), "main-wallet");
    assert_eq!(read.network(), Network::Main);
    assert_eq!(read.public_key(), &key(1).verifying_key().to_bytes());
    assert_eq!(read.address(), Address::from_public_key(Network::Main, read.public_key()));
    assert!(read.address().to_string().starts_with("ox1"));
    assert!(!read.is_encrypted());
    assert_eq!(read.kdf_params(), None);
    assert_eq!(read.unlock(None).expect("no password needed").to_bytes(), key(1).to_bytes());
    assert_eq!(read.unlock(Some(b"ignored")).expect("password ignored").to_bytes(), key(1).to_bytes());
    assert_eq!(
        to_value(&read),
        json!({
            "version": 1,
            "name": "main-wallet",
            "network": "main",
            "address": read.address().to_string(),
            "public_key": hex::encode(read.public_key()),
            "secret": {"type": "plain", "secret_key": hex::encode([1u8; 32])},
        })
    );
}

/// The only test that runs argon2id at the default cost: 4 runs.
#[test]
fn encrypted_round_trip_at_the_default_cost() {
    let created = Keyfile::new_encrypted("savings", Network::Test, &key(2), PASSWORD, SALT, NONCE).expect("encrypts");
    let json = created.to_json();
    let value: Value = serde_json::from_slice(&json).expect("JSON");
    assert_eq!(
        value["secret"]["kdf"],
        json!({"algorithm": "argon2id", "memory_kib": 65536, "iterations": 3, "parallelism": 1, "salt": hex::encode(SALT)})
    );
    assert_eq!(value["secret"]["cipher"]["algorithm"], "xchacha20poly1305");
    assert_eq!(value["secret"]["cipher"]["nonce"], hex::encode(NONCE));
    assert_eq!(value["secret"]["cipher"]["ciphertext"].as_str().map(str::len), Some(96));
    assert!(!String::from_utf8_lossy(&json).contains(&hex::encode([2u8; 32])), "no clear secret");

    let read = Keyfile::from_json(&json).expect("reads back");
    assert_eq!(*read.to_json(), *json);
    assert!(read.is_encrypted());
    assert_eq!(read.kdf_params(), Some(KdfParams::DEFAULT));
    assert_eq!(read.address().network(), Network::Test);
    assert_eq!(read.unlock(Some(PASSWORD)).expect("right password").to_bytes(), key(2).to_bytes());
    assert_eq!(read.unlock(Some(b"correct horse battery stapler")).map(|_| ()), Err(KeyfileError::WrongPassword));
    assert_eq!(read.unlock(None).map(|_| ()), Err(KeyfileError::PasswordRequired));

    // Encrypting the plain keyfile with the same salt and nonce gives the same bytes.
    let plain = Keyfile::new_plain("savings", Network::Test, &key(2)).expect("valid name");
    assert_eq!(*plain.encrypt(PASSWORD, SALT, NONCE).expect("encrypts").to_json(), *json);
}

#[test]
fn cheap_encrypted_round_trip_and_refusals_before_any_kdf_run() {
    let keyfile = cheap_encrypted();
    let read = Keyfile::from_json(&keyfile.to_json()).expect("reads back");
    assert_eq!(read.kdf_params(), Some(CHEAP));
    assert_eq!(read.unlock(Some(PASSWORD)).expect("right password").to_bytes(), key(1).to_bytes());
    assert_eq!(read.unlock(Some(b"")).map(|_| ()), Err(KeyfileError::WrongPassword));
    assert_eq!(read.encrypt(PASSWORD, SALT, NONCE).map(|_| ()), Err(KeyfileError::AlreadyEncrypted));
    assert_eq!(plain().encrypt(b"", SALT, NONCE).map(|_| ()), Err(KeyfileError::EmptyPassword));
    assert_eq!(
        Keyfile::new_encrypted("x", Network::Main, &key(1), b"", SALT, NONCE).map(|_| ()),
        Err(KeyfileError::EmptyPassword)
    );
    assert!(matches!(
        Keyfile::new_encrypted("../x", Network::Main, &key(1), PASSWORD, SALT, NONCE),
        Err(KeyfileError::InvalidName { .. })
    ));
}

#[test]
fn each_clear_field_altered_is_refused() {
    let other = Keyfile::new_plain("other", Network::Main, &key(3)).expect("valid name");
    let other_address = other.address().to_string();
    let other_public_key = hex::encode(other.public_key());
    for keyfile in [plain(), cheap_encrypted()] {
        let address = other_address.clone();
        assert!(matches!(refused(&keyfile, |v| v["address"] = json!(address)), KeyfileError::Tampered(_)));
        let public_key = other_public_key.clone();
        assert!(matches!(refused(&keyfile, |v| v["public_key"] = json!(public_key)), KeyfileError::Tampered(_)));
        let error = refused(&keyfile, |v| v["network"] = json!("dev"));
        assert_eq!(
            error,
            KeyfileError::Tampered("the address is for the main network but the keyfile says dev".into())
        );
        assert_eq!(
            error.to_string(),
            "the keyfile was altered or is corrupt: the address is for the main network but the keyfile says dev"
        );
        assert_eq!(refused(&keyfile, |v| v["version"] = json!(2)), KeyfileError::UnsupportedVersion(2));
        // The name is not bound: a renamed keyfile still reads and unlocks.
        let renamed = read_edited(&keyfile, |v| v["name"] = json!("renamed")).expect("the name is not bound");
        assert_eq!(renamed.name(), "renamed");
        assert_eq!(renamed.unlock(Some(PASSWORD)).expect("unlocks").to_bytes(), key(1).to_bytes());
    }
    // A clear secret that is not the public key's.
    let secret = hex::encode([3u8; 32]);
    assert!(matches!(refused(&plain(), |v| v["secret"]["secret_key"] = json!(secret)), KeyfileError::Tampered(_)));
}

/// Consistent clear fields of another key or network parse, but the associated data no longer
/// matches, so the secret does not open.
#[test]
fn consistent_clear_fields_moved_onto_a_sealed_secret_do_not_open() {
    let keyfile = cheap_encrypted();
    let other = Keyfile::new_plain("other", Network::Main, &key(3)).expect("valid name");
    let moved = read_edited(&keyfile, |v| {
        v["address"] = json!(other.address().to_string());
        v["public_key"] = json!(hex::encode(other.public_key()));
    })
    .expect("the clear fields agree with each other");
    assert_eq!(moved.unlock(Some(PASSWORD)).map(|_| ()), Err(KeyfileError::WrongPassword));

    let dev_address = Address::from_public_key(Network::Dev, keyfile.public_key()).to_string();
    let moved = read_edited(&keyfile, |v| {
        v["network"] = json!("dev");
        v["address"] = json!(dev_address);
    })
    .expect("the clear fields agree with each other");
    assert_eq!(moved.unlock(Some(PASSWORD)).map(|_| ()), Err(KeyfileError::WrongPassword));
}

#[test]
fn a_flipped_bit_in_the_sealed_secret_does_not_open() {
    let keyfile = cheap_encrypted();
    let edits: [fn(&mut Value); 5] = [
        |v| flip_hex(&mut v["secret"]["cipher"]["ciphertext"]),
        |v| {
            let text = v["secret"]["cipher"]["ciphertext"].as_str().expect("hex").to_owned();
            let (body, last) = text.split_at(95);
            let last = u8::from_str_radix(last, 16).expect("a hex digit") ^ 8;
            v["secret"]["cipher"]["ciphertext"] = json!(format!("{body}{last:x}"));
        },
        |v| flip_hex(&mut v["secret"]["cipher"]["nonce"]),
        |v| flip_hex(&mut v["secret"]["kdf"]["salt"]),
        |v| v["secret"]["kdf"]["iterations"] = json!(2),
    ];
    for edit in edits {
        let altered = read_edited(&keyfile, edit).expect("still well-formed");
        assert_eq!(altered.unlock(Some(PASSWORD)).map(|_| ()), Err(KeyfileError::WrongPassword));
    }
    assert_eq!(KeyfileError::WrongPassword.to_string(), "wrong password, or the keyfile was altered");
}

#[test]
fn every_truncation_is_refused() {
    for keyfile in [plain(), cheap_encrypted()] {
        let json = keyfile.to_json();
        for end in 0..json.len() - 1 {
            assert_malformed(Keyfile::from_json(&json[..end]).expect_err("truncated"), "line");
        }
        // Only the final newline may go.
        Keyfile::from_json(&json[..json.len() - 1]).expect("whitespace is optional");
    }
}

#[test]
fn an_absurd_kdf_cost_is_refused_at_once() {
    let keyfile = cheap_encrypted();
    let started = std::time::Instant::now();
    let error = refused(&keyfile, |v| v["secret"]["kdf"]["memory_kib"] = json!(4_000_000_000u64));
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert_eq!(error, KeyfileError::KdfTooExpensive { memory_kib: 4_000_000_000, iterations: 1, parallelism: 1 });
    assert!(error.to_string().starts_with("the keyfile asks for an argon2id cost of 4000000000 KiB"));
    let error = refused(&keyfile, |v| v["secret"]["kdf"]["memory_kib"] = json!(u64::MAX));
    assert!(matches!(error, KeyfileError::KdfTooExpensive { .. }));
    assert_malformed(refused(&keyfile, |v| v["secret"]["kdf"]["memory_kib"] = json!(1e30)), "expected u64");
}

#[test]
fn kdf_bounds_on_both_sides() {
    let too_expensive = |m, t, p| {
        KdfParams::new(m, t, p) == Err(KeyfileError::KdfTooExpensive { memory_kib: m, iterations: t, parallelism: p })
    };
    assert_eq!(
        KdfParams::new(1_048_576, 64, 16),
        Ok(KdfParams { memory_kib: 1_048_576, iterations: 64, parallelism: 16 })
    );
    assert!(too_expensive(1_048_577, 1, 1));
    assert!(too_expensive(65_536, 65, 1));
    assert!(too_expensive(65_536, 1, 17));
    assert_eq!(KdfParams::new(8, 1, 1), Ok(CHEAP));
    assert_eq!(KdfParams::new(128, 1, 16).map(|k| k.parallelism), Ok(16));
    assert!(matches!(KdfParams::new(127, 1, 16), Err(KeyfileError::KdfInvalid(_))));
    assert!(matches!(KdfParams::new(7, 1, 1), Err(KeyfileError::KdfInvalid(_))));
    assert!(matches!(KdfParams::new(8, 0, 1), Err(KeyfileError::KdfInvalid(_))));
    assert!(matches!(KdfParams::new(8, 1, 0), Err(KeyfileError::KdfInvalid(_))));

    let keyfile = cheap_encrypted();
    assert!(matches!(refused(&keyfile, |v| v["secret"]["kdf"]["iterations"] = json!(0)), KeyfileError::KdfInvalid(_)));
    assert!(matches!(
        refused(&keyfile, |v| v["secret"]["kdf"]["parallelism"] = json!(17)),
        KeyfileError::KdfTooExpensive { parallelism: 17, .. }
    ));
    read_edited(&keyfile, |v| v["secret"]["kdf"]["memory_kib"] = json!(1_048_576)).expect("1 GiB is the limit");
}

#[test]
fn unknown_duplicate_and_misplaced_fields_are_refused() {
    let keyfile = cheap_encrypted();
    assert_malformed(refused(&keyfile, |v| v["comment"] = json!("hi")), "unknown field `comment`");
    assert_malformed(refused(&keyfile, |v| v["secret"]["extra"] = json!(1)), "unknown field `extra`");
    assert_malformed(refused(&keyfile, |v| v["secret"]["kdf"]["pepper"] = json!("")), "unknown field `pepper`");
    assert_malformed(refused(&keyfile, |v| v["secret"]["cipher"]["aad"] = json!("")), "unknown field `aad`");
    assert_malformed(refused(&keyfile, |v| v["secret"]["kdf"]["algorithm"] = json!("scrypt")), "unknown variant");
    assert_malformed(refused(&keyfile, |v| v["secret"]["cipher"]["algorithm"] = json!("aes")), "unknown variant");
    assert_malformed(refused(&keyfile, |v| v["secret"]["type"] = json!("plain")), "exactly the fields");
    assert_malformed(refused(&plain(), |v| v["secret"]["type"] = json!("encrypted")), "exactly the fields");
    assert_malformed(refused(&plain(), |v| v["secret"]["kdf"] = json!({})), "missing field");
    assert_malformed(refused(&plain(), |v| v["network"] = json!("regtest")), "unknown variant `regtest`");
    let without_name = refused(&plain(), |v| {
        v.as_object_mut().expect("an object").remove("name");
    });
    assert_malformed(without_name, "missing field `name`");

    let json = String::from_utf8(plain().to_json().to_vec()).expect("utf-8");
    let duplicated = json.replacen("\"name\": \"main-wallet\",", "\"name\": \"main-wallet\",\n  \"name\": \"x\",", 1);
    assert_malformed(Keyfile::from_json(duplicated.as_bytes()).expect_err("duplicate"), "duplicate field `name`");
    assert_malformed(Keyfile::from_json(format!("{json}{json}").as_bytes()).expect_err("two documents"), "trailing");
    assert_malformed(Keyfile::from_json(b"[1, \"a\"]").expect_err("an array"), "a JSON object");
    assert_malformed(Keyfile::from_json(b"").expect_err("empty"), "EOF");
    // Struct-shaped arrays are refused inside too.
    assert_malformed(refused(&keyfile, |v| v["secret"]["kdf"] = json!(["argon2id", 8, 1, 1, "00"])), "a JSON object");
}

#[test]
fn malformed_json_says_where() {
    let error = Keyfile::from_json(b"{\n  \"version\": 1,\n  \"name\": oops\n}").expect_err("bad JSON");
    assert_eq!(error, KeyfileError::Malformed("expected value at line 3 column 11".into()));
    assert_eq!(error.to_string(), "the keyfile is not valid: expected value at line 3 column 11");
}

#[test]
fn other_versions_are_refused_whatever_their_fields() {
    assert_eq!(
        Keyfile::from_json(b"{\"version\": 2, \"keys\": []}").map(|_| ()),
        Err(KeyfileError::UnsupportedVersion(2))
    );
    assert_eq!(refused(&plain(), |v| v["version"] = json!(0)), KeyfileError::UnsupportedVersion(0));
    assert_malformed(refused(&plain(), |v| v["version"] = json!("1")), "expected u64");
    assert_malformed(refused(&plain(), |v| v["version"] = json!(-1)), "expected u64");
}

#[test]
fn hex_fields_have_exact_lengths() {
    let keyfile = cheap_encrypted();
    let invalid = |field| KeyfileError::InvalidField { field, expected: "" };
    let field_of = |error: KeyfileError| match error {
        KeyfileError::InvalidField { field, .. } => invalid(field),
        other => other,
    };
    let salt_15 = hex::encode([0u8; 15]);
    assert_eq!(field_of(refused(&keyfile, |v| v["secret"]["kdf"]["salt"] = json!(salt_15))), invalid("salt"));
    let salt_17 = hex::encode([0u8; 17]);
    assert_eq!(field_of(refused(&keyfile, |v| v["secret"]["kdf"]["salt"] = json!(salt_17))), invalid("salt"));
    let nonce = format!("zz{}", hex::encode([0u8; 23]));
    assert_eq!(field_of(refused(&keyfile, |v| v["secret"]["cipher"]["nonce"] = json!(nonce))), invalid("nonce"));
    let short = hex::encode([0u8; 47]);
    assert_eq!(
        field_of(refused(&keyfile, |v| v["secret"]["cipher"]["ciphertext"] = json!(short))),
        invalid("ciphertext")
    );
    assert_eq!(field_of(refused(&plain(), |v| v["public_key"] = json!("00"))), invalid("public_key"));
    assert_eq!(field_of(refused(&plain(), |v| v["secret"]["secret_key"] = json!("0x01"))), invalid("secret_key"));
    let error = refused(&keyfile, |v| v["secret"]["kdf"]["salt"] = json!("00"));
    assert_eq!(error.to_string(), "the keyfile field `salt` must be 32 hex digits (16 bytes)");
}

#[test]
fn the_address_must_parse_and_the_public_key_must_be_a_point() {
    let error = refused(&plain(), |v| v["address"] = json!("ox1notanaddress"));
    assert!(matches!(error, KeyfileError::InvalidAddress(_)), "{error:?}");
    let not_a_point = (0..=255u8)
        .map(|byte| {
            let mut bytes = [byte; 32];
            bytes[31] &= 0x7f;
            bytes
        })
        .find(|bytes| VerifyingKey::from_bytes(bytes).is_err())
        .expect("some y has no x on the curve");
    let address = Address::from_public_key(Network::Main, &not_a_point).to_string();
    let error = refused(&plain(), |v| {
        v["public_key"] = json!(hex::encode(not_a_point));
        v["address"] = json!(address);
    });
    assert_eq!(error, KeyfileError::Tampered("the public key is not an ed25519 point".into()));
}

#[test]
fn names_must_be_safe_file_stems() {
    for good in ["a", "default", "my-wallet_2.old", "A.b", &"x".repeat(64)] {
        validate_name(good).expect(good);
    }
    for bad in ["", ".hidden", "..", "a/b", "a\\b", "with space", "é", "a\0b", &"x".repeat(65)] {
        let error = validate_name(bad).expect_err(bad);
        assert!(matches!(error, KeyfileError::InvalidName { .. }), "{bad:?}");
    }
    assert_eq!(
        validate_name("a/b").expect_err("slash").to_string(),
        "invalid wallet name \"a/b\": only ASCII letters, digits, '-', '_' and '.' are allowed"
    );
    assert!(matches!(refused(&plain(), |v| v["name"] = json!("../../etc/passwd")), KeyfileError::InvalidName { .. }));
    assert!(matches!(Keyfile::new_plain("", Network::Dev, &key(1)), Err(KeyfileError::InvalidName { .. })));
}

#[test]
fn debug_shows_no_secret() {
    let secret = hex::encode([1u8; 32]);
    let plain = plain();
    let shown = format!("{plain:?}");
    assert!(!shown.contains(&secret) && !shown.contains("1, 1, 1"), "{shown}");
    assert!(shown.contains("redacted") && shown.contains(&plain.address().to_string()));
    let encrypted = cheap_encrypted();
    let shown = format!("{encrypted:?}");
    let ciphertext = to_value(&encrypted)["secret"]["cipher"]["ciphertext"].as_str().expect("hex").to_owned();
    assert!(!shown.contains(&secret) && !shown.contains(&ciphertext), "{shown}");
}

#[test]
fn error_messages_are_lowercase_without_a_final_period() {
    let errors = [
        KeyfileError::Malformed("x".into()),
        KeyfileError::UnsupportedVersion(2),
        KeyfileError::InvalidName { name: "x".into(), reason: "r" },
        KeyfileError::InvalidField { field: "salt", expected: "e" },
        KeyfileError::Tampered("r".into()),
        KeyfileError::WrongPassword,
        KeyfileError::PasswordRequired,
        KeyfileError::EmptyPassword,
        KeyfileError::AlreadyEncrypted,
        KeyfileError::KdfTooExpensive { memory_kib: 1, iterations: 1, parallelism: 1 },
        KeyfileError::KdfInvalid("r"),
        KeyfileError::KdfFailed("r".into()),
    ];
    for error in errors {
        let text = error.to_string();
        assert!(text.starts_with(|c: char| c.is_lowercase()) && !text.ends_with('.'), "{text}");
    }
}

proptest! {
    #[test]
    fn from_json_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Keyfile::from_json(&bytes);
    }

    #[test]
    fn from_json_never_panics_on_a_mutated_keyfile(
        encrypted in any::<bool>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let keyfile = if encrypted { cheap_encrypted() } else { plain() };
        let mut json = keyfile.to_json().to_vec();
        for (at, byte) in edits {
            let at = at.index(json.len());
            json[at] = byte;
        }
        if let Ok(read) = Keyfile::from_json(&json) {
            // Whatever still reads is consistent.
            prop_assert_eq!(read.address(), Address::from_public_key(read.network(), read.public_key()));
        }
    }

    #[test]
    fn plain_keyfiles_round_trip(
        secret in any::<[u8; 32]>(),
        name in "[a-zA-Z0-9_-][a-zA-Z0-9._-]{0,63}",
        network in prop::sample::select(Network::ALL.to_vec()),
    ) {
        let keyfile = Keyfile::new_plain(&name, network, &SigningKey::from_bytes(&secret)).expect("valid name");
        let json = keyfile.to_json();
        let read = Keyfile::from_json(&json).expect("reads back");
        prop_assert_eq!(&*read.to_json(), &*json);
        prop_assert_eq!(read.unlock(None).expect("plain").to_bytes(), secret);
    }
}
