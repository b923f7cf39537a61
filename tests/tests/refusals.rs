//! Every refusal code of `POST /txs` and `POST /blocks` against a real node process, each
//! leaving the tip, the mempool and the balances as they were.

use oxcoin::block::{Block, Header};
use oxcoin::testkit::{self, account_of, key, transfer, transfer_with_memo};
use oxcoin::tx::{Coinbase, Tx};
use oxcoin::{Address, Amount, BlockHash, Decode, Encode, Network, Transfer};
use oxcoin_tests::NodeProcess;
use serde_json::{Value, json};

const DEV: &oxcoin::ChainParams = &oxcoin::params::DEV;

fn address(seed: u8) -> String {
    Address::new(Network::Dev, account_of(&key(seed, 0))).to_string()
}

/// Tip hash, mempool count and alice's balance: what a refusal must leave unchanged.
fn snapshot(node: &NodeProcess) -> (Value, Value, Value) {
    (
        node.get("/api/v1/blocks/tip").json["hash"].clone(),
        node.get("/api/v1/mempool").json["count"].clone(),
        node.get(&format!("/api/v1/addresses/{}", address(1))).json["balance"].clone(),
    )
}

#[track_caller]
fn refused(node: &NodeProcess, path: &str, body: &Value, status: u16, code: &str) {
    let before = snapshot(node);
    let r = node.post(path, body);
    assert_eq!((r.status, r.code()), (status, code), "{path} {body}: {}", r.body);
    assert!(r.json["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.body);
    assert_eq!(snapshot(node), before, "{code} changed nothing");
    assert_eq!(node.get("/api/v1/status").status, 200, "the node still answers");
}

fn raw(t: &Transfer) -> Value {
    json!({"raw_hex": t.encode_hex()})
}

#[test]
fn every_transfer_refusal_has_its_code_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start("dev", dir.path(), &["--no-mine"]);
    node.generate(3, &address(1));
    let alice = key(1, 0);
    let bob = account_of(&key(2, 0));
    let txs = "/api/v1/txs";

    refused(&node, txs, &json!({"raw_hex": "zz"}), 400, "malformed");
    refused(&node, txs, &json!({"raw_hex": "00"}), 400, "malformed");
    refused(&node, txs, &json!({"raw_hex": "", "extra": 1}), 400, "malformed");
    let coinbase = Tx::Coinbase(Coinbase { height: 1, to: bob, amount: Amount::ONE_OXC, extra_nonce: 0 });
    refused(&node, txs, &json!({"raw_hex": coinbase.encode_hex()}), 400, "malformed");
    let dup_key = r#"{"raw_hex": "00", "raw_hex": "01"}"#;
    let r = oxcoin_tests::http(node.addr, "POST", txs, Some(dup_key), &[]).unwrap();
    assert_eq!((r.status, r.code()), (400, "malformed"), "{}", r.body);
    let huge = json!({"raw_hex": "ab".repeat(5000)});
    refused(&node, txs, &huge, 413, "too_large");

    refused(&node, txs, &raw(&transfer(&oxcoin::params::MAIN, &alice, bob, 1, 1_000, 0)), 422, "wrong_chain");
    refused(
        &node,
        txs,
        &raw(&transfer_with_memo(DEV, &alice, bob, 1, 1_000, 0, vec![b'm'; 129])),
        422,
        "memo_too_long",
    );
    refused(&node, txs, &raw(&transfer_with_memo(DEV, &alice, bob, 1, 1_000, 0, vec![0xff])), 422, "invalid_memo");
    refused(&node, txs, &raw(&transfer(DEV, &alice, bob, 0, 1_000, 0)), 422, "zero_amount");
    refused(&node, txs, &raw(&transfer(DEV, &alice, bob, 1, 145, 0)), 422, "fee_too_low");
    let mut forged = transfer(DEV, &alice, bob, 1, 1_000, 0);
    forged.signature[5] ^= 1;
    refused(&node, txs, &raw(&forged), 422, "invalid_signature");
    refused(&node, txs, &raw(&transfer(DEV, &alice, bob, 1, 1_000, 64)), 422, "nonce_gap");
    // The next block credits block 2's reward too: 100 OXC are spendable, 101 are not.
    refused(&node, txs, &raw(&transfer(DEV, &alice, bob, 101 * 100_000_000, 1_000, 0)), 422, "insufficient_funds");

    // Accept one, then the conflicts with it.
    let first = transfer(DEV, &alice, bob, 1, 1_000, 0);
    assert_eq!(node.post(txs, &raw(&first)).status, 202);
    refused(&node, txs, &raw(&first), 409, "duplicate");
    refused(&node, txs, &raw(&transfer(DEV, &alice, bob, 2, 1_099, 0)), 409, "replacement_underpriced");
    node.generate(1, &address(9));
    refused(&node, txs, &raw(&first), 409, "duplicate");
    refused(&node, txs, &raw(&transfer(DEV, &alice, bob, 3, 1_000, 0)), 422, "nonce_too_low");
}

fn tip_header(node: &NodeProcess) -> (Header, u64) {
    let tip = node.get("/api/v1/blocks/tip").json;
    let header = Header::decode_hex(tip["header_hex"].as_str().expect("header_hex")).expect("80 bytes");
    (header, tip["height"].as_u64().expect("height"))
}

/// A valid child of the node's tip paying `to`.
fn next_block(node: &NodeProcess, transfers: Vec<Transfer>) -> Block {
    let (tip, height) = tip_header(node);
    testkit::block(DEV, tip.hash(), height + 1, tip.time + 1, account_of(&key(8, 0)), transfers)
}

fn block_body(block: &Block) -> Value {
    json!({"raw_hex": block.encode_hex()})
}

#[test]
fn every_block_refusal_has_its_code_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start("dev", dir.path(), &["--no-mine"]);
    node.generate(3, &address(1));
    let blocks = "/api/v1/blocks";
    let alice = key(1, 0);

    refused(&node, blocks, &json!({"raw_hex": "00"}), 400, "malformed");
    refused(&node, blocks, &json!({"hex": "00"}), 400, "malformed");

    let mut high = next_block(&node, Vec::new());
    while high.header.validate_pow(DEV.pow_limit).is_ok() {
        high.header.nonce += 1;
    }
    refused(&node, blocks, &block_body(&high), 422, "high_hash");

    let mut bad_bits = next_block(&node, Vec::new());
    bad_bits.header.bits = oxcoin::CompactTarget::from_consensus(0x207f_0000);
    testkit::solve(&mut bad_bits.header, DEV);
    refused(&node, blocks, &block_body(&bad_bits), 422, "bad_bits");

    let mut old = next_block(&node, Vec::new());
    old.header.time = 1_795_996_800; // genesis time: not after the median time past
    testkit::solve(&mut old.header, DEV);
    refused(&node, blocks, &block_body(&old), 422, "time_too_old");

    let mut future = next_block(&node, Vec::new());
    future.header.time = u32::try_from(oxcoin_now() + 3_600).unwrap();
    testkit::solve(&mut future.header, DEV);
    refused(&node, blocks, &block_body(&future), 422, "time_too_new");

    let mut wrong_body = next_block(&node, Vec::new());
    if let Tx::Coinbase(c) = &mut wrong_body.txs[0] {
        c.extra_nonce = 99;
    }
    refused(&node, blocks, &block_body(&wrong_body), 422, "bad_merkle_root");

    let mut empty = next_block(&node, Vec::new());
    empty.txs.clear();
    testkit::reseal(&mut empty, DEV);
    refused(&node, blocks, &block_body(&empty), 422, "no_coinbase");

    let t = transfer(DEV, &alice, account_of(&key(2, 0)), 1, 1_000, 0);
    refused(&node, blocks, &block_body(&next_block(&node, vec![t.clone(), t.clone()])), 422, "duplicate_tx");

    let mut greedy = next_block(&node, Vec::new());
    if let Tx::Coinbase(c) = &mut greedy.txs[0] {
        c.amount = c.amount.checked_add(Amount::ONE_GRAIN).unwrap();
    }
    testkit::reseal(&mut greedy, DEV);
    refused(&node, blocks, &block_body(&greedy), 422, "bad_coinbase");

    let broke = transfer(DEV, &key(5, 0), account_of(&alice), 1, 1_000, 0);
    let r_before = snapshot(&node);
    let invalid = next_block(&node, vec![broke]);
    let r = node.post(blocks, &block_body(&invalid));
    assert_eq!((r.status, r.code()), (422, "invalid_tx"), "{}", r.body);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("insufficient_funds"), "{}", r.body);
    assert_eq!(snapshot(&node), r_before);

    // Too large: over the body limit.
    let r = node.post(blocks, &json!({"raw_hex": "00".repeat(2_001_100)}));
    assert_eq!((r.status, r.code()), (413, "too_large"), "{}", &r.body[..r.body.len().min(300)]);

    // Orphan: a valid block whose parent the node does not have.
    let mut parent = [7u8; 32];
    parent[0] = 1;
    let (tip, height) = tip_header(&node);
    let orphan = testkit::block(
        DEV,
        BlockHash::from_byte_array(parent),
        height + 2,
        tip.time + 2,
        account_of(&alice),
        Vec::new(),
    );
    let r = node.post(blocks, &block_body(&orphan));
    assert_eq!((r.status, r.json["status"].as_str()), (202, Some("orphan")), "{}", r.body);

    // The right body for the hash that a wrong body failed is still accepted; then it is known.
    let good = next_block(&node, Vec::new());
    let r = node.post(blocks, &block_body(&good));
    assert_eq!(r.status, 202, "{}", r.body);
    let r = node.post(blocks, &block_body(&good));
    assert_eq!(r.status, 200, "{}", r.body);
    // A competing block at the same height is stored as a side branch.
    let side = testkit::block(DEV, tip.hash(), height + 1, tip.time + 1, account_of(&key(6, 0)), Vec::new());
    let r = node.post(blocks, &block_body(&side));
    assert_eq!((r.status, r.json["status"].as_str()), (202, Some("side")), "{}", r.body);
    let _ = Block::decode(&good.encode()).unwrap();
}

fn oxcoin_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}
