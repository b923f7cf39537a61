//! The benchmark programs' machine-readable output: `load_txs --json` is one JSON document
//! (nothing after it), and without `--json` the run ends with `BENCH` lines `bench/all.sh`
//! reads. A small real load against a real node; the figures themselves are not judged.

use std::process::Command;

fn load_txs(extra: &[&str]) -> String {
    let oxminer = oxcoin_tests::binary("oxminer");
    let output = Command::new(env!("CARGO_BIN_EXE_load_txs"))
        .args(["--count", "60", "--senders", "6", "--connections", "4", "--oxminer"])
        .arg(&oxminer)
        .args(extra)
        .output()
        .expect("load_txs runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(output.status.success(), "load_txs failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

#[test]
fn load_txs_json_is_one_document_and_the_table_ends_with_bench_lines() {
    let json = load_txs(&["--json"]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert!(report.is_object(), "{json}");
    assert!(!json.contains("BENCH "), "{json}");

    let table = load_txs(&[]);
    let bench: Vec<serde_json::Value> = table
        .lines()
        .filter_map(|line| line.strip_prefix("BENCH "))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(!bench.is_empty(), "{table}");
    assert!(bench.iter().all(|b| b["figure"].is_string() && b["value"].is_number()), "{table}");
}
