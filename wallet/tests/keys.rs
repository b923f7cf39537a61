//! Keyfile commands without a node: new, restore, list, address, encrypt, change-password, and
//! every bad input that must stop before anything is written or sent.

mod common;

use common::{dead_node, fails, fixed, ok, restore_fixed, run, wallet, wallet_on};
use oxcoin::{Address, Network};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("dev")) else { return Vec::new() };
    let mut names: Vec<String> =
        entries.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn new_shows_the_phrase_once_and_restore_in_a_fresh_folder_gives_the_same_address() {
    let (a, b) = (tempfile::tempdir().expect("tmp"), tempfile::tempdir().expect("tmp"));
    let node = dead_node();
    let created: serde_json::Value =
        serde_json::from_str(&ok(wallet(a.path(), &node).args(["--json", "new", "--no-password"]))).expect("json");
    let phrase = created["phrase"].as_str().expect("phrase");
    let address = created["address"].as_str().expect("address");
    assert_eq!(phrase.split(' ').count(), 24);
    assert!(address.starts_with("oxd1"));
    let path = a.path().join("dev/default.json");
    assert_eq!(std::fs::metadata(&path).expect("keyfile").permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(a.path().join("dev")).expect("dir").permissions().mode() & 0o777, 0o700);
    // The phrase is not in the keyfile, and `address` reads the same address without a password.
    assert!(!std::fs::read_to_string(&path).expect("read").contains(phrase));
    assert_eq!(ok(wallet(a.path(), &node).arg("address")).trim(), address);

    // Never overwritten without --force.
    let before = std::fs::read(&path).expect("read");
    let line = fails(wallet(a.path(), &node).args(["new", "--no-password"]));
    assert!(line.contains("already exists") && line.contains("--force"), "{line}");
    assert_eq!(std::fs::read(&path).expect("read"), before);

    let restored = ok(wallet(b.path(), &node).args(["restore", "--no-password"]).write_stdin(format!("  {phrase}\n")));
    assert!(restored.contains(address), "{restored}");
    assert!(!restored.contains(phrase), "restore must not echo the phrase");
}

#[test]
fn new_without_a_password_source_on_a_non_terminal_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let line = fails(wallet(dir.path(), &dead_node()).arg("new"));
    assert!(line.contains("--password-file") && line.contains("--no-password"), "{line}");
    assert!(files(dir.path()).is_empty());
}

#[test]
fn bad_phrases_are_refused_with_their_reason_and_write_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = dead_node();
    let (phrase, _) = fixed(1);
    let words: Vec<&str> = phrase.split(' ').collect();

    let mut typo = words.clone();
    let misspelt = format!("{}x", words[4]);
    typo[4] = &misspelt;
    let line = fails(wallet(dir.path(), &node).args(["restore", "--no-password"]).write_stdin(typo.join(" ")));
    assert!(line.contains("word 5") && line.contains("did you mean"), "{line}");

    let short = words[..23].join(" ");
    let line = fails(wallet(dir.path(), &node).args(["restore", "--no-password"]).write_stdin(short));
    assert!(line.contains("has 23 words"), "{line}");

    // Another valid word in place of the first one breaks the checksum.
    let mut swapped = words.clone();
    swapped[0] = if words[0] == "abandon" { "ability" } else { "abandon" };
    let line = fails(wallet(dir.path(), &node).args(["restore", "--no-password"]).write_stdin(swapped.join(" ")));
    assert!(line.contains("checksum"), "{line}");

    assert!(files(dir.path()).is_empty());
}

#[test]
fn list_shows_every_wallet_without_a_password() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = dead_node();
    let empty = ok(wallet(dir.path(), &node).arg("list"));
    assert!(empty.contains("No wallets"), "{empty}");
    restore_fixed(dir.path(), &node, "alice", 1);
    restore_fixed(dir.path(), &node, "bob", 2);
    std::fs::write(dir.path().join("dev/broken.json"), "{\"version\": 1").expect("write");
    let out = ok(wallet(dir.path(), &node).arg("list"));
    let out = out.replace(&dir.path().display().to_string(), "[DIR]");
    insta::assert_snapshot!("list", out);
}

#[test]
fn encrypt_and_change_password_keep_the_address_and_a_wrong_password_changes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = dead_node();
    let address = restore_fixed(dir.path(), &node, "default", 3);
    let path = dir.path().join("dev/default.json");

    ok(wallet(dir.path(), &node).arg("encrypt").env("OXWALLET_PASSWORD", "one"));
    let sealed = std::fs::read(&path).expect("read");
    assert!(String::from_utf8_lossy(&sealed).contains("argon2id"));
    assert_eq!(std::fs::metadata(&path).expect("file").permissions().mode() & 0o777, 0o600);
    let line = fails(wallet(dir.path(), &node).arg("encrypt").env("OXWALLET_PASSWORD", "one"));
    assert!(line.contains("already encrypted"), "{line}");

    let line = fails(
        wallet(dir.path(), &node)
            .arg("change-password")
            .env("OXWALLET_PASSWORD", "wrong")
            .env("OXWALLET_NEW_PASSWORD", "two"),
    );
    assert!(line.contains("wrong password"), "{line}");
    assert_eq!(std::fs::read(&path).expect("read"), sealed, "a wrong password must leave the keyfile byte for byte");

    let new_password = dir.path().join("new.txt");
    std::fs::write(&new_password, "two\n").expect("write");
    ok(wallet(dir.path(), &node)
        .arg("change-password")
        .arg("--new-password-file")
        .arg(&new_password)
        .env("OXWALLET_PASSWORD", "one"));
    assert_ne!(std::fs::read(&path).expect("read"), sealed);
    assert_eq!(ok(wallet(dir.path(), &node).arg("address")).trim(), address);
    // The old password no longer opens it.
    let line = fails(
        wallet(dir.path(), &node)
            .arg("change-password")
            .env("OXWALLET_PASSWORD", "one")
            .env("OXWALLET_NEW_PASSWORD", "x"),
    );
    assert!(line.contains("wrong password"), "{line}");
}

#[test]
fn truncated_tampered_and_absurd_keyfiles_are_refused_at_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = dead_node();
    restore_fixed(dir.path(), &node, "default", 4);
    let path = dir.path().join("dev/default.json");
    let good = std::fs::read_to_string(&path).expect("read");

    std::fs::write(&path, &good[..good.len() / 2]).expect("write");
    let line = fails(wallet(dir.path(), &node).arg("address"));
    assert!(line.contains("not valid"), "{line}");

    let (_, other) = fixed(5);
    let json: serde_json::Value = serde_json::from_str(&good).expect("json");
    let tampered = good.replace(json["address"].as_str().expect("address"), &other);
    std::fs::write(&path, tampered).expect("write");
    let line = fails(wallet(dir.path(), &node).arg("address"));
    assert!(line.contains("altered or is corrupt"), "{line}");

    // An encrypted file asking for an absurd argon2 cost is refused without trying it.
    std::fs::write(&path, &good).expect("write");
    ok(wallet(dir.path(), &node).arg("encrypt").env("OXWALLET_PASSWORD", "pw"));
    let sealed = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, sealed.replace("\"memory_kib\": 65536", "\"memory_kib\": 4294967295")).expect("write");
    let started = std::time::Instant::now();
    let line = fails(wallet(dir.path(), &node).arg("address"));
    assert!(line.contains("refusing to try"), "{line}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn a_keyfile_readable_by_others_gets_a_warning() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = dead_node();
    restore_fixed(dir.path(), &node, "default", 6);
    let path = dir.path().join("dev/default.json");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = run(wallet(dir.path(), &node).arg("address"));
    assert!(out.ok);
    assert!(out.stderr.contains("warning") && out.stderr.contains("chmod 600"), "{}", out.stderr);
}

#[test]
fn keyfile_of_another_network_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = dead_node();
    restore_fixed(dir.path(), &node, "default", 7);
    std::fs::create_dir_all(dir.path().join("test")).expect("mkdir");
    std::fs::copy(dir.path().join("dev/default.json"), dir.path().join("test/default.json")).expect("copy");
    let line = fails(wallet_on("test", dir.path(), &node).arg("address"));
    assert!(line.contains("is for the dev network"), "{line}");
}

#[test]
fn bad_amounts_and_addresses_are_refused_before_any_network_call() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = dead_node();
    restore_fixed(dir.path(), &node, "default", 8);
    let (_, to) = fixed(9);
    let send = |to: &str, amount: &str| {
        fails(wallet(dir.path(), &node).args(["send", "--yes", "--to", to, "--amount", amount]))
    };

    for (amount, reason) in [
        ("-1", "negative"),
        ("1.123456789", "more than 8 decimals"),
        ("21000001", "total supply"),
        ("ten", "not a decimal number"),
        ("", "empty"),
        ("0", "is 0"),
    ] {
        let line = send(&to, amount);
        assert!(line.contains("--amount") && line.contains(reason), "{amount}: {line}");
    }
    let line = fails(wallet(dir.path(), &node).args(["send", "--yes", "--to", &to, "--amount", "1", "--fee", "-2"]));
    assert!(line.contains("--fee") && line.contains("negative"), "{line}");
    let long_memo = "m".repeat(129);
    let line =
        fails(wallet(dir.path(), &node).args(["send", "--yes", "--to", &to, "--amount", "1", "--memo", &long_memo]));
    assert!(line.contains("--memo"), "{line}");

    // One character changed: the checksum catches it.
    let last = to.chars().last().expect("char");
    let typo = format!("{}{}", &to[..to.len() - 1], if last == 'q' { 'p' } else { 'q' });
    assert!(send(&typo, "1").contains("checksum is invalid"));
    let main = Address::from_public_key(Network::Main, &[9; 32]).to_string();
    assert!(send(&main, "1").contains("for the main network"));
    let hrp = bech32::Hrp::parse("oxd").expect("hrp");
    let short = bech32::encode::<bech32::Bech32m>(hrp, &[1u8; 19]).expect("encode");
    assert!(send(&short, "1").contains("19 bytes"));
    // None of these got as far as the node.
    let line = send(&to, "1");
    assert!(line.contains("cannot reach the node"), "{line}");
}

#[test]
fn send_without_yes_on_a_non_terminal_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = dead_node();
    restore_fixed(dir.path(), &node, "default", 10);
    let (_, to) = fixed(11);
    let line = fails(wallet(dir.path(), &node).args(["send", "--to", &to, "--amount", "1"]));
    assert!(line.contains("--yes"), "{line}");
}

#[test]
fn an_unreachable_node_is_one_sentence_naming_its_url() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = dead_node();
    restore_fixed(dir.path(), &node, "default", 12);
    for command in [&["balance"][..], &["history"], &["tx", &"ab".repeat(32)]] {
        let line = fails(wallet(dir.path(), &node).args(command));
        assert_eq!(line, format!("oxwallet: cannot reach the node at {node}: connection refused"));
    }
}

#[test]
fn the_config_file_supplies_network_and_node() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = dead_node();
    let config = dir.path().join("wallet.toml");
    std::fs::write(&config, format!("network = \"dev\"\nnode = \"{node}\"\ndata_dir = {:?}\n", dir.path()))
        .expect("write");
    let mut cmd = assert_cmd::Command::cargo_bin("oxwallet").expect("bin");
    cmd.env_remove("OXWALLET_PASSWORD").arg("--config").arg(&config);
    let (phrase, address) = fixed(13);
    let out = ok(cmd.args(["restore", "--no-password"]).write_stdin(phrase));
    assert!(out.contains(&address));
    let mut cmd = assert_cmd::Command::cargo_bin("oxwallet").expect("bin");
    let line = fails(cmd.arg("--config").arg(&config).arg("balance"));
    assert!(line.contains(&node), "{line}");
    std::fs::write(&config, "nodes = 1\n").expect("write");
    let mut cmd = assert_cmd::Command::cargo_bin("oxwallet").expect("bin");
    let line = fails(cmd.arg("--config").arg(&config).arg("list"));
    assert!(line.contains("nodes"), "{line}");
}

#[test]
fn help_shows_an_example_for_each_command() {
    for command in
        ["new", "restore", "list", "address", "encrypt", "change-password", "balance", "send", "history", "tx"]
    {
        let mut cmd = assert_cmd::Command::cargo_bin("oxwallet").expect("bin");
        let out = ok(cmd.args([command, "--help"]));
        assert!(out.contains("Example:\n  oxwallet"), "{command}:\n{out}");
    }
}
