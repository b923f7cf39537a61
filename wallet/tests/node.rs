//! The wallet against a real dev node (`oxminer run --network dev --no-mine`): the whole story
//! from `new` to history on both sides, several sends in a row, refusals, and snapshots of the
//! human output.

mod common;

use common::{fails, ok, restore_fixed, run, wallet, wallet_on};
use oxcoin_tests::NodeProcess;
use serde_json::Value;

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn start(dir: &std::path::Path) -> (NodeProcess, String) {
    let node = NodeProcess::start("dev", &dir.join("node"), &["--no-mine"]);
    let url = format!("http://{}", node.addr);
    (node, url)
}

#[test]
fn new_fund_send_history_restore() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (node, url) = start(tmp.path());
    let data = tmp.path().join("wallets");

    let created = json(&ok(wallet(&data, &url).args(["--json", "new"]).env("OXWALLET_PASSWORD", "pw")));
    assert_eq!(created["encrypted"], true);
    let alice = created["address"].as_str().expect("address").to_owned();
    let phrase = created["phrase"].as_str().expect("phrase").to_owned();
    let bob = json(&ok(wallet(&data, &url).args(["--json", "new", "--name", "bob", "--no-password"])))["address"]
        .as_str()
        .expect("address")
        .to_owned();

    // Three blocks: the first reward is mature on dev (maturity 2), the other two are not.
    node.generate(3, &alice);
    let balance = json(&ok(wallet(&data, &url).args(["--json", "balance"])));
    assert_eq!(balance["balance"], 50 * 100_000_000u64);
    assert_eq!(balance["immature"], 100 * 100_000_000u64);
    assert_eq!(balance["height"], 3);

    // Two sends in a row: the second takes the next nonce from the node's pending view.
    let send = |amount: &str| {
        ok(wallet(&data, &url)
            .args(["send", "--yes", "--to", &bob, "--amount", amount, "--memo", "thanks"])
            .env("OXWALLET_PASSWORD", "pw"))
        .trim()
        .to_owned()
    };
    let first = send("10");
    let second = send("2.5");
    assert_eq!(first.len(), 64);
    assert_ne!(first, second);
    let pending = json(&ok(wallet(&data, &url).args(["--json", "balance", "--wallet", "bob"])));
    assert_eq!(pending["pending_in"], 1_250_000_000u64);

    // A wrong password: non-zero, keyfile untouched, nothing sent.
    let keyfile = data.join("dev/default.json");
    let before = std::fs::read(&keyfile).expect("read");
    let line = fails(
        wallet(&data, &url).args(["send", "--yes", "--to", &bob, "--amount", "1"]).env("OXWALLET_PASSWORD", "nope"),
    );
    assert!(line.contains("wrong password"), "{line}");
    assert_eq!(std::fs::read(&keyfile).expect("read"), before);

    // More than the wallet has: the node's refusal as a sentence.
    let line = fails(
        wallet(&data, &url).args(["send", "--yes", "--to", &bob, "--amount", "1000"]).env("OXWALLET_PASSWORD", "pw"),
    );
    assert!(line.contains("cannot pay 1000 OXC plus the") && line.contains("spendable 50 OXC"), "{line}");
    let after = json(&ok(wallet(&data, &url).args(["--json", "balance"])));
    assert_eq!(after["next_nonce"], 2, "nothing more was sent");

    node.generate(1, &bob);
    for (name, direction) in [("default", "out"), ("bob", "in")] {
        let history = json(&ok(wallet(&data, &url).args(["--json", "history", "--wallet", name])));
        let rows = history["txs"].as_array().expect("rows");
        for txid in [&first, &second] {
            let row = rows.iter().find(|r| r["txid"] == txid.as_str()).unwrap_or_else(|| panic!("{txid} in {history}"));
            assert_eq!(row["direction"], direction);
            assert_eq!(row["confirmations"], 1);
        }
        let table = ok(wallet(&data, &url).args(["history", "--wallet", name]));
        assert!(table.contains(&first[..6]) && table.contains("1 conf"), "{table}");
    }
    let tx = ok(wallet(&data, &url).args(["tx", &first]));
    assert!(tx.contains("confirmed, 1 confirmation") && tx.contains("memo     thanks"), "{tx}");
    let line = fails(wallet(&data, &url).args(["tx", &"0".repeat(64)]));
    assert!(line.contains("knows no transaction"), "{line}");

    // --wait: a block arrives while the wallet waits.
    let waiter = std::thread::spawn({
        let (data, url, bob) = (data.clone(), url.clone(), bob.clone());
        move || {
            run(wallet(&data, &url)
                .args(["send", "--yes", "--to", &bob, "--amount", "1", "--wait", "1", "--timeout", "60"])
                .env("OXWALLET_PASSWORD", "pw"))
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while node.get("/api/v1/mempool").json["count"] != 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    node.generate(1, &bob);
    let waited = waiter.join().expect("thread");
    assert!(waited.ok, "{}", waited.stderr);
    assert!(waited.stderr.contains("confirmed: 1 confirmation"), "{}", waited.stderr);

    // The phrase restores the same address in a fresh folder.
    let fresh = tmp.path().join("fresh");
    let restored = ok(wallet(&fresh, &url).args(["restore", "--no-password"]).write_stdin(phrase));
    assert!(restored.contains(&alice), "{restored}");
}

#[test]
fn a_node_of_another_network_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (_node, url) = start(tmp.path());
    let data = tmp.path().join("wallets");
    let mut restore = wallet_on("test", &data, &url);
    let (phrase, _) = common::fixed(20);
    ok(restore.args(["restore", "--no-password"]).write_stdin(phrase));
    let line = fails(wallet_on("test", &data, &url).arg("balance"));
    assert!(line.contains("is on the dev network, but this wallet is on test"), "{line}");
}

#[test]
fn snapshots_of_balance_history_and_list() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (node, url) = start(tmp.path());
    let data = tmp.path().join("wallets");
    let alice = restore_fixed(&data, &url, "alice", 30);
    let bob = restore_fixed(&data, &url, "bob", 31);
    node.generate(3, &alice);
    ok(wallet(&data, &url)
        .args(["send", "--yes", "--wallet", "alice", "--to", &bob, "--amount", "1.5", "--fee", "0.001"]));
    node.generate(1, &bob);
    ok(wallet(&data, &url)
        .args(["send", "--yes", "--wallet", "alice", "--to", &bob, "--amount", "0.25", "--memo", "tea"]));

    let redact = |text: String| {
        let mut text = common::redact_times(&text).replace(&url, "[NODE]");
        // Coinbase txids may depend on the miner's extra nonce: keep 2 + 2 digits of each, same width.
        for name in ["alice", "bob"] {
            let history = json(&ok(wallet(&data, &url).args(["--json", "history", "--wallet", name])));
            for row in history["txs"].as_array().expect("rows") {
                let txid = row["txid"].as_str().expect("txid");
                text = text.replace(
                    &format!("{}…{}", &txid[..6], &txid[58..]),
                    &format!("{}....…....{}", &txid[..2], &txid[62..]),
                );
            }
        }
        text
    };
    insta::assert_snapshot!("balance", redact(ok(wallet(&data, &url).args(["balance", "--wallet", "alice"]))));
    insta::assert_snapshot!("history_alice", redact(ok(wallet(&data, &url).args(["history", "--wallet", "alice"]))));
    insta::assert_snapshot!("history_bob", redact(ok(wallet(&data, &url).args(["history", "--wallet", "bob"]))));
    let list = ok(wallet(&data, &url).arg("list")).replace(&data.display().to_string(), "[DIR]");
    insta::assert_snapshot!("list", list);
}
