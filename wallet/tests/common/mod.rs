//! Helpers shared by the wallet's end-to-end tests: run `oxwallet` as a real process in a temp
//! data folder, with no password or config leaking in from the environment.

#![allow(dead_code, unreachable_pub)] // Each test file uses its own subset.

use assert_cmd::Command;
use oxcoin::mnemonic::{Mnemonic, derive_signing_key};
use oxcoin::{Address, Network};
use std::path::Path;

/// The output of one run.
#[derive(Debug)]
pub struct Out {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// `oxwallet --network dev --data-dir DIR --node NODE` with a clean environment.
pub fn wallet(dir: &Path, node: &str) -> Command {
    wallet_on("dev", dir, node)
}

/// `oxwallet --network NETWORK --data-dir DIR --node NODE` with a clean environment.
pub fn wallet_on(network: &str, dir: &Path, node: &str) -> Command {
    let mut cmd = Command::cargo_bin("oxwallet").expect("the oxwallet binary");
    cmd.env_remove("OXWALLET_PASSWORD")
        .env_remove("OXWALLET_NEW_PASSWORD")
        .env("OXWALLET_CONFIG", "/dev/null")
        .args(["--network", network, "--data-dir"])
        .arg(dir)
        .args(["--node", node]);
    cmd
}

/// Runs and collects the output.
pub fn run(cmd: &mut Command) -> Out {
    let out = cmd.output().expect("oxwallet runs");
    Out {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs, expecting success; returns stdout.
#[track_caller]
pub fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(out.ok, "expected success, got:\nstdout: {}\nstderr: {}", out.stdout, out.stderr);
    out.stdout
}

/// Runs, expecting a failure with one `oxwallet: …` line on stderr and nothing on stdout;
/// returns that line.
#[track_caller]
pub fn fails(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(!out.ok, "expected a failure, got success:\nstdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert!(out.stdout.is_empty(), "a failure printed on stdout: {}", out.stdout);
    let line = out.stderr.trim_end();
    assert!(!line.contains('\n'), "stderr is more than one line:\n{line}");
    assert!(line.starts_with("oxwallet: "), "{line}");
    line.to_owned()
}

/// A fixed recovery phrase and its dev address, for deterministic output.
pub fn fixed(seed: u8) -> (String, String) {
    let mnemonic = Mnemonic::from_entropy(&[seed; 32]);
    let key = derive_signing_key(&mnemonic);
    let address = Address::from_public_key(Network::Dev, &key.verifying_key().to_bytes()).to_string();
    (mnemonic.phrase().to_string(), address)
}

/// Restores a fixed phrase as an unencrypted wallet `name`; returns its address.
pub fn restore_fixed(dir: &Path, node: &str, name: &str, seed: u8) -> String {
    let (phrase, address) = fixed(seed);
    let out = ok(wallet(dir, node).args(["restore", "--no-password", "--name", name]).write_stdin(phrase));
    assert!(out.contains(&address), "{out}");
    address
}

/// A URL where nothing listens.
pub fn dead_node() -> String {
    format!("http://127.0.0.1:{}", oxcoin_tests::free_port())
}

/// Replaces every `YYYY-MM-DD HH:MM` with a placeholder of the same width.
pub fn redact_times(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let candidate = bytes.get(i..i + 16);
        let is_time = candidate.is_some_and(|c| {
            c.iter().enumerate().all(|(j, b)| match j {
                4 | 7 => *b == b'-',
                10 => *b == b' ',
                13 => *b == b':',
                _ => b.is_ascii_digit(),
            })
        });
        if is_time {
            out.push_str("YYYY-MM-DD HH:MM");
            i += 16;
        } else {
            let ch = text[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}
