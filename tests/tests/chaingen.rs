//! The dev-chain generator: a generated chain is one the real node opens and serves, with the
//! balances and nonces the generator tracked on its own.

use oxcoin::testkit::account_of;
use oxcoin::{Address, Network};
use oxcoin_tests::NodeProcess;
use oxcoin_tests::chaingen::{self, Plan};

fn address(id: oxcoin::AccountId) -> String {
    Address::new(Network::Dev, id).to_string()
}

#[test]
fn a_generated_chain_is_served_by_the_real_node() {
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan { senders: 40, ..Plan::new(300, 2_000) };
    let mut reports = 0;
    let summary = chaingen::generate_with(dir.path(), &plan, |_| reports += 1).unwrap();
    assert_eq!((summary.height, summary.transfers, reports), (300, 2_000, 300));

    // A second run refuses to write over the chain.
    let err = chaingen::generate(dir.path(), 10, 100, |_| {}).unwrap_err();
    assert!(err.to_string().contains("already holds a chain of height 300"), "{err}");

    let node = NodeProcess::start("dev", dir.path(), &["--no-mine"]);
    let status = node.get("/api/v1/status");
    assert_eq!(status.json["height"], 300, "{}", status.body);
    assert_eq!(status.json["best_hash"], summary.tip.to_string());

    for i in [0, 17, 39] {
        let id = account_of(&chaingen::sender_key(i));
        let expected = summary.accounts[&id];
        let a = node.get(&format!("/api/v1/addresses/{}", address(id)));
        assert_eq!(a.json["balance"], expected.balance.to_grains(), "sender {i}: {}", a.body);
        assert_eq!(a.json["nonce"], expected.nonce, "sender {i}: {}", a.body);
        assert!(expected.nonce >= 49, "sender {i} sent {} transfers", expected.nonce);
    }
    let receiver = chaingen::recipient(0);
    let a = node.get(&format!("/api/v1/addresses/{}", address(receiver)));
    assert_eq!(a.json["balance"], summary.accounts[&receiver].balance.to_grains(), "{}", a.body);
    assert!(summary.accounts[&receiver].balance.to_grains() > 0);

    // Transfers are spread over the blocks after the fan-out, several per block.
    let block = node.get("/api/v1/blocks/150");
    let transfers = block.json["txs"].as_array().unwrap().iter().filter(|t| t["kind"] == "transfer").count();
    assert!((5..=8).contains(&transfers), "{transfers} transfers in block 150");
}
