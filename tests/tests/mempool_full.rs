//! A full mempool: with a small bound set on the command line, a transfer whose fee rate does not
//! beat what the pool holds is refused with 503 `mempool_full`, and nothing changes.

use oxcoin::testkit::{account_of, key, transfer};
use oxcoin::{Address, Encode, Network, Transfer};
use oxcoin_tests::{NodeProcess, Response};
use serde_json::json;

fn address(seed: u8) -> String {
    Address::new(Network::Dev, account_of(&key(seed, 0))).to_string()
}

fn post(node: &NodeProcess, t: &Transfer) -> Response {
    node.post("/api/v1/txs", &json!({"raw_hex": t.encode_hex()}))
}

/// A transfer of 1,000 grains from sender `seed` to account 9, nonce 0.
fn pay(seed: u8, fee: u64) -> Transfer {
    transfer(Network::Dev.params(), &key(seed, 0), account_of(&key(9, 0)), 1_000, fee, 0)
}

#[test]
fn a_full_mempool_answers_503_mempool_full_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start("dev", dir.path(), &["--no-mine", "--mempool-max-count", "3"]);
    for seed in 1..=4 {
        node.generate(1, &address(seed));
    }
    node.generate(2, &address(9)); // maturity 2: the four rewards are spendable

    let pending: Vec<String> = (1..=3)
        .map(|seed| {
            let r = post(&node, &pay(seed, 500));
            assert_eq!(r.status, 202, "{}", r.body);
            r.json["txid"].as_str().unwrap().to_owned()
        })
        .collect();
    let mempool = node.get("/api/v1/mempool");
    assert_eq!(mempool.json["count"], 3, "{}", mempool.body);
    let status = node.get("/api/v1/status");
    let sender = node.get(&format!("/api/v1/addresses/{}", address(4)));

    // Same fee rate as everything pending: nothing may be evicted for it.
    let refused = pay(4, 500);
    let r = post(&node, &refused);
    assert_eq!((r.status, r.code()), (503, "mempool_full"), "{}", r.body);

    assert_eq!(node.get("/api/v1/mempool").body, mempool.body, "the mempool is unchanged");
    let after = node.get("/api/v1/status");
    assert_eq!((&after.json["height"], &after.json["best_hash"]), (&status.json["height"], &status.json["best_hash"]));
    assert_eq!(after.json["mempool"], status.json["mempool"]);
    assert_eq!(node.get(&format!("/api/v1/addresses/{}", address(4))).body, sender.body, "the sender is unchanged");
    assert_eq!(node.get(&format!("/api/v1/txs/{}", refused.txid())).status, 404);

    // A better fee rate evicts the lowest instead: the bound, not the node, refused the first one.
    let better = post(&node, &pay(4, 800));
    assert_eq!(better.status, 202, "{}", better.body);
    let mempool = node.get("/api/v1/mempool");
    assert_eq!(mempool.json["count"], 3, "{}", mempool.body);
    let kept: Vec<&str> =
        mempool.json["transfers"].as_array().unwrap().iter().filter_map(|t| t["txid"].as_str()).collect();
    assert_eq!(kept.iter().filter(|txid| pending.iter().any(|p| p == *txid)).count(), 2, "{}", mempool.body);
}
