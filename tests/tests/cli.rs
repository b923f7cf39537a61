//! The command-line surface of both binaries, run as real processes.

use oxcoin_tests::binary;
use std::process::Command;

fn run(name: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(binary(name)).args(args).output().expect("binary starts");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn oxminer_help_lists_run_and_bench() {
    let (ok, stdout, _) = run("oxminer", &["--help"]);
    assert!(ok);
    assert!(stdout.contains("run") && stdout.contains("bench"), "{stdout}");
}

#[test]
fn oxwallet_help_lists_its_commands_and_global_network_flag() {
    let (ok, stdout, _) = run("oxwallet", &["--help"]);
    assert!(ok);
    for command in ["new", "restore", "balance", "send", "history", "--network"] {
        assert!(stdout.contains(command), "{command} missing from:\n{stdout}");
    }
}

#[test]
fn an_unknown_network_is_refused_with_a_message_and_non_zero_exit() {
    let (ok, _, stderr) = run("oxwallet", &["--network", "mainnet", "list"]);
    assert!(!ok);
    assert!(stderr.contains("unknown network"), "{stderr}");
}
