//! Tests of the API against a real node (store in a temp dir, dev network unless said
//! otherwise, no mocks), through actix's test service.

use super::app;
use crate::config::Settings;
use crate::node::Node;
use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use oxcoin::address::AccountId;
use oxcoin::encode::Encode;
use oxcoin::hash::BlockHash;
use oxcoin::testkit::{self, account_of, key};
use oxcoin::tx::PublicKey;
use oxcoin::{Address, Amount, Block, ChainParams, CompactTarget, Memo, Network, Transfer, Tx};
use serde_json::{Value, json};
use std::sync::Arc;

const COOKIE: &str = "test-cookie-0123456789abcdef";
const OXC: u64 = 100_000_000;

/// A node on a fresh temp dir, not mining.
fn open_node(network: Network) -> (Arc<Node>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let settings = Settings::for_tests(network, dir.path());
    let node = Node::open(settings, Some(AccountId::default()), COOKIE.to_owned()).expect("the node opens");
    (node, dir)
}

fn dev() -> &'static ChainParams {
    Network::Dev.params()
}

fn addr(id: AccountId) -> String {
    Address::new(Network::Dev, id).to_string()
}

/// Status and JSON body of a response (`Value::Null` for a body that is not JSON).
async fn answer<B: MessageBody>(response: ServiceResponse<B>) -> (StatusCode, Value) {
    let status = response.status();
    let body = test::read_body(response).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Sends a request to the app and returns its status and JSON body.
macro_rules! send {
    ($app:expr, $req:expr) => {
        answer(test::call_service(&$app, $req.to_request()).await).await
    };
}

fn get(path: &str) -> TestRequest {
    TestRequest::get().uri(&format!("/api/v1{path}"))
}

fn post(path: &str, body: &Value) -> TestRequest {
    TestRequest::post().uri(&format!("/api/v1{path}")).set_json(body)
}

/// A POST with a JSON content type and `body` as written.
fn json_text(path: &str, body: String) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/api/v1{path}"))
        .insert_header(("content-type", "application/json"))
        .set_payload(body)
}

fn admin(req: TestRequest) -> TestRequest {
    req.insert_header(("Authorization", format!("Bearer {COOKIE}")))
}

#[track_caller]
fn assert_error(got: &(StatusCode, Value), status: u16, code: &str) {
    assert_eq!(got.0.as_u16(), status, "{}", got.1);
    assert_eq!(got.1["error"]["code"], code, "{}", got.1);
    assert!(got.1["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", got.1);
}

/// A transfer as the JSON fields of `POST /txs`.
fn transfer_fields(t: &Transfer) -> Value {
    json!({
        "kind": "transfer",
        "chain_id": t.chain_id,
        "from_pubkey": hex::encode(t.from.0),
        "to": addr(t.to),
        "amount": t.amount.to_grains(),
        "fee": t.fee.to_grains(),
        "nonce": t.nonce,
        "memo": String::from_utf8_lossy(t.memo.as_bytes()),
        "signature": hex::encode(t.signature),
    })
}

fn raw_tx(t: &Transfer) -> Value {
    json!({ "raw_hex": t.encode_hex() })
}

fn raw_block(b: &Block) -> Value {
    json!({ "raw_hex": b.encode_hex() })
}

/// The tip's hash, height and time, read from the node.
fn tip_of(node: &Node) -> (BlockHash, u64, u32) {
    let chain = node.chain_read();
    (chain.tip_hash(), chain.height().0, chain.tip().header.time)
}

#[actix_web::test]
async fn status_blocks_generate_and_routing() {
    let (node, _dir) = open_node(Network::Dev);
    let app = test::init_service(app(Arc::clone(&node))).await;

    let (status, body) = send!(app, get("/status"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["network"], "dev");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["height"], 0);
    assert_eq!(body["best_hash"], dev().genesis_block().header.hash().to_string());
    assert_eq!(body["bits"], "207fffff");
    assert_eq!(body["difficulty"], 1.0);
    assert_eq!(body["chain_work"].as_str().map(str::len), Some(64));
    assert_eq!(body["mempool"], json!({"count": 0, "bytes": 0}));
    assert_eq!(body["peers"], 0);
    assert_eq!(body["mining"]["enabled"], false);
    assert_eq!(body["mining"]["hashrate"], 0.0);

    // Generating needs the token, a count in 1..=1000 and an address of this network.
    let to = addr(account_of(&key(9, 0)));
    let request = json!({"count": 3, "address": to});
    assert_error(&send!(app, post("/dev/generate", &request)), 401, "unauthorized");
    let wrong = post("/dev/generate", &request).insert_header(("Authorization", "Bearer nope"));
    assert_error(&send!(app, wrong), 401, "unauthorized");
    assert_error(&send!(app, admin(post("/dev/generate", &json!({"count": 0, "address": to})))), 400, "malformed");
    let main_address = Address::new(Network::Main, account_of(&key(9, 0))).to_string();
    let refused = send!(app, admin(post("/dev/generate", &json!({"count": 1, "address": main_address}))));
    assert_error(&refused, 400, "malformed");
    assert!(refused.1["error"]["message"].as_str().is_some_and(|m| m.contains("address")));
    let (status, body) = send!(app, admin(post("/dev/generate", &request)));
    assert_eq!(status, StatusCode::OK, "{body}");
    let hashes: Vec<String> =
        body["hashes"].as_array().expect("hashes").iter().map(|h| h.as_str().expect("a hash").to_owned()).collect();
    assert_eq!(hashes.len(), 3);
    let (_, body) = send!(app, get("/status"));
    assert_eq!(body["height"], 3);
    assert_eq!(body["best_hash"], hashes[2]);

    // Blocks: tip, by height, by hash, unknown, unparsable.
    let (status, tip) = send!(app, get("/blocks/tip"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tip["hash"], hashes[2]);
    assert_eq!(tip["height"], 3);
    assert_eq!(tip["confirmations"], 1);
    assert_eq!(tip["main_chain"], true);
    assert_eq!(tip["header_hex"].as_str().map(str::len), Some(160));
    assert_eq!(tip["prev_hash"], hashes[1]);
    assert_eq!(tip["bits"], "207fffff");
    assert_eq!(tip["txs"][0]["kind"], "coinbase");
    assert_eq!(tip["txs"][0]["height"], 3);
    assert_eq!(tip["txs"][0]["to"], to);
    assert_eq!(tip["txs"][0]["amount"], 50 * OXC);
    let (_, first) = send!(app, get("/blocks/1"));
    assert_eq!(first["hash"], hashes[0]);
    assert_eq!(first["confirmations"], 3);
    let (_, second) = send!(app, get(&format!("/blocks/{}", hashes[1])));
    assert_eq!(second["height"], 2);
    assert_error(&send!(app, get("/blocks/4")), 404, "not_found");
    assert_error(&send!(app, get(&format!("/blocks/{}", "0".repeat(64)))), 404, "not_found");
    assert_error(&send!(app, get("/blocks/xyz")), 400, "malformed");
    assert_error(&send!(app, get(&format!("/blocks/{}", "g".repeat(64)))), 400, "malformed");
    assert_error(&send!(app, get("/blocks/99999999999999999999999")), 400, "malformed");

    // The list: ascending, latest `limit` by default, empty past the tip.
    let heights = |body: &Value| -> Vec<u64> {
        body["blocks"].as_array().expect("blocks").iter().filter_map(|b| b["height"].as_u64()).collect()
    };
    assert_eq!(heights(&send!(app, get("/blocks")).1), vec![0, 1, 2, 3]);
    assert_eq!(heights(&send!(app, get("/blocks?limit=2")).1), vec![2, 3]);
    assert_eq!(heights(&send!(app, get("/blocks?from=1&limit=2")).1), vec![1, 2]);
    assert_eq!(heights(&send!(app, get("/blocks?from=2&limit=100")).1), vec![2, 3]);
    assert_eq!(heights(&send!(app, get("/blocks?from=10")).1), Vec::<u64>::new());
    assert_error(&send!(app, get("/blocks?limit=101")), 400, "malformed");
    assert_error(&send!(app, get("/blocks?limit=0")), 400, "malformed");
    let refused = send!(app, get("/blocks?limit=abc"));
    assert_error(&refused, 400, "malformed");
    assert!(refused.1["error"]["message"].as_str().is_some_and(|m| m.starts_with("limit")), "{}", refused.1);
    assert_error(&send!(app, get("/blocks?bogus=1")), 400, "malformed");

    // Routing: unknown paths, wrong methods, the dashboard.
    assert_error(&send!(app, get("/nope")), 404, "not_found");
    assert_error(&send!(app, TestRequest::get().uri("/nope")), 404, "not_found");
    assert_error(&send!(app, TestRequest::delete().uri("/api/v1/status")), 405, "method_not_allowed");
    let response = test::call_service(&app, TestRequest::put().uri("/api/v1/blocks").to_request()).await;
    assert_eq!(response.status().as_u16(), 405);
    let allow = response.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert_error(&send!(app, TestRequest::post().uri("/")), 405, "method_not_allowed");
    let response = test::call_service(&app, TestRequest::get().uri("/").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = test::read_body(response).await;
    assert!(String::from_utf8_lossy(&page).contains("<title>OxCoin node</title>"));

    // Peers, fees, admin.
    assert_eq!(send!(app, get("/peers")).1, json!({"peers": []}));
    let (_, fees) = send!(app, get("/fees"));
    assert_eq!(fees, json!({"min_fee_rate": 1, "suggested_fee_rate": 1, "typical_size": 146, "typical_fee": 146}));
    assert_error(&send!(app, post("/admin/mining", &json!({"enabled": false}))), 401, "unauthorized");
    let (status, body) = send!(app, admin(post("/admin/mining", &json!({"enabled": false}))));
    assert_eq!((status, body), (StatusCode::OK, json!({"enabled": false})));
    assert_error(&send!(app, admin(post("/admin/mining", &json!({"enabled": "yes"})))), 400, "malformed");
    let peer = json!({"url": "http://127.0.0.1:28335"});
    assert_error(&send!(app, post("/admin/peers", &peer)), 401, "unauthorized");
    assert_error(&send!(app, admin(post("/admin/peers", &peer))), 501, "not_implemented");
    let delete = TestRequest::delete().uri("/api/v1/admin/peers").set_json(&peer);
    assert_error(&send!(app, admin(delete)), 501, "not_implemented");
}

#[actix_web::test]
async fn generate_is_forbidden_off_the_dev_network() {
    let (node, _dir) = open_node(Network::Test);
    let app = test::init_service(app(Arc::clone(&node))).await;
    let (_, status) = send!(app, get("/status"));
    assert_eq!(status["network"], "test");
    let to = Address::new(Network::Test, account_of(&key(9, 0))).to_string();
    let request = json!({"count": 1, "address": to});
    assert_error(&send!(app, post("/dev/generate", &request)), 401, "unauthorized");
    assert_error(&send!(app, admin(post("/dev/generate", &request))), 403, "forbidden");
    assert_eq!(node.height().0, 0);
}

#[actix_web::test]
async fn a_transfer_from_pending_to_confirmed_and_its_history() {
    let (node, _dir) = open_node(Network::Dev);
    let app = test::init_service(app(Arc::clone(&node))).await;
    let sender = key(1, 0);
    let (a, b, c) = (account_of(&sender), account_of(&key(2, 0)), account_of(&key(3, 0)));
    // Maturity 2 on dev: at height 3 the reward of block 1 is credited, those of 2 and 3 are not.
    node.generate(3, a).expect("blocks");
    let (_, account) = send!(app, get(&format!("/addresses/{}", addr(a))));
    assert_eq!(
        account,
        json!({"address": addr(a), "balance": 50 * OXC, "immature": 100 * OXC, "pending_in": 0, "pending_out": 0,
               "nonce": 0, "next_nonce": 0})
    );

    let transfer = testkit::transfer_with_memo(dev(), &sender, b, 1000, 1000, 0, b"hi".to_vec());
    let (status, body) = send!(app, post("/txs", &transfer_fields(&transfer)));
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let txid = transfer.txid().to_string();
    assert_eq!(body, json!({"txid": txid}));

    let (status, tx) = send!(app, get(&format!("/txs/{txid}")));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tx["status"], "pending");
    assert_eq!(tx["confirmations"], 0);
    assert_eq!(tx["kind"], "transfer");
    assert_eq!(tx["from"], addr(a));
    assert_eq!(tx["to"], addr(b));
    assert_eq!(tx["memo"], "hi");
    assert_eq!(tx["memo_hex"], "6869");
    assert_eq!(tx["raw_hex"], transfer.encode_hex());
    assert_eq!(tx["block_hash"], Value::Null);
    let (_, account) = send!(app, get(&format!("/addresses/{}", addr(a))));
    assert_eq!((account["pending_out"].as_u64(), account["next_nonce"].as_u64()), (Some(2000), Some(1)));
    assert_eq!(account["balance"], 50 * OXC);
    let (_, account) = send!(app, get(&format!("/addresses/{}", addr(b))));
    assert_eq!(account["pending_in"], 1000);
    let (_, pool) = send!(app, get("/mempool"));
    assert_eq!(pool["count"], 1);
    assert_eq!(pool["bytes"], transfer.encoded_len());
    assert_eq!(pool["transfers"][0]["txid"], txid);
    assert!(pool["transfers"][0]["fee_rate"].as_f64().is_some_and(|r| r > 6.0));
    let (_, history) = send!(app, get(&format!("/addresses/{}/txs", addr(a))));
    assert_eq!(history["txs"][0]["txid"], txid);
    assert_eq!(history["txs"][0]["status"], "pending");
    assert_eq!(history["txs"][0]["direction"], "out");
    assert_eq!(history["txs"][0]["counterparty"], addr(b));
    assert_eq!(history["txs"][0]["height"], Value::Null);

    let mined = node.generate(1, c).expect("a block");
    let (_, tx) = send!(app, get(&format!("/txs/{txid}")));
    assert_eq!(tx["status"], "confirmed");
    assert_eq!(tx["confirmations"], 1);
    assert_eq!(tx["height"], 4);
    assert_eq!(tx["block_hash"], mined[0].to_string());
    let (_, block) = send!(app, get("/blocks/4"));
    assert_eq!(block["txs"][1]["txid"], txid);
    let (_, account) = send!(app, get(&format!("/addresses/{}", addr(a))));
    // Block 2's reward matured with block 4; the transfer paid 1000 + 1000 fee.
    assert_eq!(
        account,
        json!({"address": addr(a), "balance": 100 * OXC - 2000, "immature": 50 * OXC, "pending_in": 0, "pending_out": 0,
               "nonce": 1, "next_nonce": 1})
    );

    // History of the sender: the transfer, then rewards 3 (immature), 2 and 1.
    let (_, history) = send!(app, get(&format!("/addresses/{}/txs", addr(a))));
    let rows = history["txs"].as_array().expect("rows").clone();
    let summary: Vec<(Value, Value, Value)> =
        rows.iter().map(|r| (r["direction"].clone(), r["height"].clone(), r["status"].clone())).collect();
    assert_eq!(
        summary,
        vec![
            (json!("out"), json!(4), json!("confirmed")),
            (json!("reward"), json!(3), json!("immature")),
            (json!("reward"), json!(2), json!("confirmed")),
            (json!("reward"), json!(1), json!("confirmed")),
        ]
    );
    assert_eq!(rows[0]["fee"], 1000);
    assert_eq!(rows[0]["amount"], 1000);
    assert_eq!(rows[0]["confirmations"], 1);
    assert_eq!(rows[1]["counterparty"], Value::Null);
    assert_eq!(rows[1]["kind"], "coinbase");
    assert_eq!(rows[0]["time"], block["time"]);
    // The recipient's side.
    let (_, history) = send!(app, get(&format!("/addresses/{}/txs", addr(b))));
    assert_eq!(history["txs"].as_array().map(Vec::len), Some(1));
    assert_eq!(history["txs"][0]["direction"], "in");
    assert_eq!(history["txs"][0]["counterparty"], addr(a));
    assert_eq!(history["txs"][0]["amount"], 1000);
    // Pages: `before` is the last row of the previous page.
    let (_, page) = send!(app, get(&format!("/addresses/{}/txs?limit=2", addr(a))));
    assert_eq!(page["txs"].as_array().map(Vec::len), Some(2));
    let last = page["txs"][1]["txid"].as_str().expect("a txid").to_owned();
    let (_, page) = send!(app, get(&format!("/addresses/{}/txs?limit=2&before={last}", addr(a))));
    let heights: Vec<Value> = page["txs"].as_array().expect("rows").iter().map(|r| r["height"].clone()).collect();
    assert_eq!(heights, vec![json!(2), json!(1)]);
    let foreign = format!("/addresses/{}/txs?before={}", addr(b), rows[1]["txid"].as_str().expect("a txid"));
    assert_error(&send!(app, get(&foreign)), 404, "not_found");
    assert_error(&send!(app, get(&format!("/addresses/{}/txs?before=xyz", addr(a)))), 400, "malformed");
    assert_error(&send!(app, get(&format!("/addresses/{}/txs?limit=501", addr(a)))), 400, "malformed");

    // Bad addresses and txids.
    let main_address = Address::new(Network::Main, a).to_string();
    assert_error(&send!(app, get(&format!("/addresses/{main_address}"))), 400, "malformed");
    let mut typo = addr(a);
    let last_char = if typo.ends_with('q') { "p" } else { "q" };
    typo.replace_range(typo.len() - 1.., last_char);
    assert_error(&send!(app, get(&format!("/addresses/{typo}"))), 400, "malformed");
    assert_error(&send!(app, get("/txs/abc")), 400, "malformed");
    assert_error(&send!(app, get(&format!("/txs/{}", "0".repeat(64)))), 404, "not_found");
}

/// What a refusal must leave untouched: the tip, the mempool and the sender's account.
macro_rules! snapshot {
    ($app:expr, $who:expr) => {{
        let (_, status) = send!($app, get("/status"));
        let (_, account) = send!($app, get(&format!("/addresses/{}", addr($who))));
        json!({"tip": status["best_hash"], "mempool": status["mempool"], "account": account})
    }};
}

#[actix_web::test]
async fn every_refusal_of_post_txs_changes_nothing() {
    let (node, _dir) = open_node(Network::Dev);
    let app = test::init_service(app(Arc::clone(&node))).await;
    let sender = key(1, 0);
    let (a, b) = (account_of(&sender), account_of(&key(2, 0)));
    node.generate(3, a).expect("blocks");
    // Nonce 0 confirmed, nonce 1 pending.
    let confirmed = testkit::transfer(dev(), &sender, b, 1000, 1000, 0);
    assert_eq!(send!(app, post("/txs", &raw_tx(&confirmed))).0, StatusCode::ACCEPTED);
    node.generate(1, b).expect("a block");
    let pending = testkit::transfer(dev(), &sender, b, 1000, 1000, 1);
    assert_eq!(send!(app, post("/txs", &raw_tx(&pending))).0, StatusCode::ACCEPTED);
    let before = snapshot!(app, a);
    assert_eq!(before["mempool"]["count"], 1);

    let mut cases: Vec<(&str, TestRequest, u16, &str)> = Vec::new();
    // Parse failures: 400 malformed (413 for an oversize body).
    cases.push(("bad hex", post("/txs", &json!({"raw_hex": "zz"})), 400, "malformed"));
    cases.push(("truncated", post("/txs", &json!({"raw_hex": &pending.encode_hex()[..100]})), 400, "malformed"));
    let mut unknown = raw_tx(&pending);
    unknown["bogus"] = json!(1);
    cases.push(("unknown field", post("/txs", &unknown), 400, "malformed"));
    let mut unknown = transfer_fields(&pending);
    unknown["extra"] = json!("x");
    cases.push(("unknown field among fields", post("/txs", &unknown), 400, "malformed"));
    let repeated = format!(r#"{{"raw_hex": "{0}", "raw_hex": "{0}"}}"#, pending.encode_hex());
    cases.push(("duplicate key", json_text("/txs", repeated), 400, "malformed"));
    let mut missing = transfer_fields(&pending);
    missing.as_object_mut().expect("an object").remove("nonce");
    cases.push(("missing field", post("/txs", &missing), 400, "malformed"));
    let mut both = transfer_fields(&pending);
    both["raw_hex"] = json!(pending.encode_hex());
    cases.push(("raw_hex with fields", post("/txs", &both), 400, "malformed"));
    let big = json!({"raw_hex": "00".repeat(2100)});
    cases.push(("oversize", post("/txs", &big), 413, "too_large"));
    let declared = post("/txs", &raw_tx(&pending)).insert_header(("content-length", "5000"));
    cases.push(("declared oversize", declared, 413, "too_large"));
    let text = TestRequest::post().uri("/api/v1/txs").insert_header(("content-type", "text/plain"));
    cases.push(("content type", text.set_payload(raw_tx(&pending).to_string()), 400, "malformed"));
    cases.push(("not json", json_text("/txs", "{".to_owned()), 400, "malformed"));
    let coinbase = Tx::Coinbase(oxcoin::Coinbase { height: 1, to: a, amount: Amount::ONE_OXC, extra_nonce: 0 });
    cases.push(("coinbase", post("/txs", &json!({"raw_hex": coinbase.encode_hex()})), 400, "malformed"));
    let mut kind = transfer_fields(&pending);
    kind["kind"] = json!("coinbase");
    cases.push(("kind", post("/txs", &kind), 400, "malformed"));
    let mut foreign = transfer_fields(&pending);
    foreign["to"] = json!(Address::new(Network::Main, b).to_string());
    cases.push(("foreign address", post("/txs", &foreign), 400, "malformed"));
    let mut long = transfer_fields(&pending);
    long["memo"] = json!("m".repeat(256));
    cases.push(("unencodable memo", post("/txs", &long), 400, "malformed"));
    let mut short_key = transfer_fields(&pending);
    short_key["from_pubkey"] = json!("abcd");
    cases.push(("short key", post("/txs", &short_key), 400, "malformed"));
    let mut negative = transfer_fields(&pending);
    negative["amount"] = json!(-1);
    cases.push(("negative amount", post("/txs", &negative), 400, "malformed"));

    // Rules, in the order of SPEC §6.
    let next = |amount: u64, fee: u64, nonce: u64| testkit::transfer(dev(), &sender, b, amount, fee, nonce);
    cases.push(("duplicate", post("/txs", &raw_tx(&pending)), 409, "duplicate"));
    cases.push(("duplicate of a confirmed one", post("/txs", &raw_tx(&confirmed)), 409, "duplicate"));
    let main_chain = testkit::transfer(Network::Main.params(), &sender, b, 1000, 1000, 2);
    cases.push(("wrong_chain", post("/txs", &raw_tx(&main_chain)), 422, "wrong_chain"));
    let memo = testkit::transfer_with_memo(dev(), &sender, b, 1000, 1000, 2, vec![b'm'; 200]);
    cases.push(("memo_too_long", post("/txs", &transfer_fields(&memo)), 422, "memo_too_long"));
    let memo = testkit::transfer_with_memo(dev(), &sender, b, 1000, 1000, 2, vec![0xff, 0xfe]);
    cases.push(("invalid_memo", post("/txs", &raw_tx(&memo)), 422, "invalid_memo"));
    cases.push(("zero_amount", post("/txs", &raw_tx(&next(0, 1000, 2))), 422, "zero_amount"));
    cases.push(("fee_too_low", post("/txs", &raw_tx(&next(1000, 145, 2))), 422, "fee_too_low"));
    let mut forged = next(1000, 1000, 2);
    forged.signature[0] ^= 1;
    cases.push(("invalid_signature", post("/txs", &raw_tx(&forged)), 422, "invalid_signature"));
    let mut stranger = next(1000, 1000, 2);
    stranger.from = PublicKey(key(7, 0).verifying_key().to_bytes());
    cases.push(("signed by another key", post("/txs", &transfer_fields(&stranger)), 422, "invalid_signature"));
    cases.push(("nonce_too_low", post("/txs", &raw_tx(&next(1001, 1000, 0))), 422, "nonce_too_low"));
    cases.push(("nonce_gap", post("/txs", &raw_tx(&next(1000, 1000, 65))), 422, "nonce_gap"));
    cases.push(("insufficient_funds", post("/txs", &raw_tx(&next(1000 * OXC, 1000, 2))), 422, "insufficient_funds"));
    let underpriced = next(999, 1099, 1);
    cases.push(("replacement_underpriced", post("/txs", &raw_tx(&underpriced)), 409, "replacement_underpriced"));

    for (name, request, status, code) in cases {
        let got = send!(app, request);
        assert_eq!(got.0.as_u16(), status, "{name}: {}", got.1);
        assert_eq!(got.1["error"]["code"], code, "{name}: {}", got.1);
        assert_eq!(snapshot!(app, a), before, "{name} changed the node");
    }

    // Boundaries: a memo of 128 bytes and the minimum fee pass; a replacement at +10 % wins.
    let memo = testkit::transfer_with_memo(dev(), &sender, b, 1000, 146 + 128, 2, vec![b'm'; 128]);
    assert_eq!(send!(app, post("/txs", &transfer_fields(&memo))).0, StatusCode::ACCEPTED);
    let replacement = next(999, 1100, 1);
    assert_eq!(send!(app, post("/txs", &raw_tx(&replacement))).0, StatusCode::ACCEPTED);
    let (_, status) = send!(app, get("/status"));
    assert_eq!(status["mempool"]["count"], 2);
}

/// A block of `size` bytes exactly on `prev`, with junk transfers (size is checked first).
fn block_of_size(prev: BlockHash, height: u64, time: u32, size: usize) -> Block {
    let mut block = testkit::block(dev(), prev, height, time, AccountId::default(), Vec::new());
    let junk = |memo: usize| {
        Tx::Transfer(Transfer {
            chain_id: dev().chain_id,
            from: PublicKey([1; 32]),
            to: AccountId::default(),
            amount: Amount::ONE_GRAIN,
            fee: Amount::ONE_OXC,
            nonce: 0,
            memo: Memo::new(vec![b'x'; memo]).expect("at most 255 bytes"),
            signature: [2; 64],
        })
    };
    let full = 2 + oxcoin::tx::TRANSFER_BASE_LEN + 255;
    while size - block.encoded_len() > 2 * full {
        block.txs.push(junk(255));
    }
    // Two more transfers fill the rest exactly (each between 53 and 255 memo bytes).
    let rest = size - block.encoded_len() - 2 * (2 + oxcoin::tx::TRANSFER_BASE_LEN);
    block.txs.push(junk(rest / 2));
    block.txs.push(junk(rest - rest / 2));
    assert_eq!(block.encoded_len(), size);
    block
}

#[actix_web::test]
async fn post_blocks_outcomes() {
    let (node, _dir) = open_node(Network::Dev);
    let app = test::init_service(app(Arc::clone(&node))).await;
    let miner = account_of(&key(4, 0));
    node.generate(1, miner).expect("a block");
    let (tip, height, time) = tip_of(&node);
    let next = |reward: AccountId| testkit::block(dev(), tip, height + 1, time + 1, reward, Vec::new());

    let mut cases: Vec<(&str, TestRequest, u16, &str)> = Vec::new();
    cases.push(("bad hex", post("/blocks", &json!({"raw_hex": "xyz"})), 400, "malformed"));
    cases.push(("not a block", post("/blocks", &json!({"raw_hex": "00"})), 400, "malformed"));
    cases.push(("unknown field", post("/blocks", &json!({"raw_hex": "00", "more": 1})), 400, "malformed"));
    let limit = 2 * dev().max_block_size + 1024;
    let body = json!({"raw_hex": "0".repeat(limit)});
    cases.push(("body over the limit", post("/blocks", &body), 413, "too_large"));
    let oversize = block_of_size(tip, height + 1, time + 1, dev().max_block_size + 1);
    cases.push(("block over the maximum size", post("/blocks", &raw_block(&oversize)), 413, "too_large"));
    let mut high = next(miner);
    while high.header.validate_pow(dev().pow_limit).is_ok() {
        high.header.nonce = high.header.nonce.wrapping_add(1);
    }
    cases.push(("high_hash", post("/blocks", &raw_block(&high)), 422, "high_hash"));
    let mut bits = next(miner);
    bits.header.bits = CompactTarget::from_consensus(0x2000_ffff);
    testkit::solve(&mut bits.header, dev());
    cases.push(("bad_bits", post("/blocks", &raw_block(&bits)), 422, "bad_bits"));
    let mut old = next(miner);
    old.header.time = dev().genesis.time;
    testkit::solve(&mut old.header, dev());
    cases.push(("time_too_old", post("/blocks", &raw_block(&old)), 422, "time_too_old"));
    let mut future = next(miner);
    future.header.time = u32::try_from(crate::node::unix_now() + 3600).expect("a 32-bit time");
    testkit::solve(&mut future.header, dev());
    cases.push(("time_too_new", post("/blocks", &raw_block(&future)), 422, "time_too_new"));
    let mut merkle = next(miner);
    merkle.header.merkle_root =
        testkit::block(dev(), tip, height + 1, time + 1, AccountId::default(), Vec::new()).header.merkle_root;
    testkit::solve(&mut merkle.header, dev());
    cases.push(("bad_merkle_root", post("/blocks", &raw_block(&merkle)), 422, "bad_merkle_root"));
    let mut coinbase = next(miner);
    if let Some(Tx::Coinbase(c)) = coinbase.txs.first_mut() {
        c.amount = Amount::from_grains(c.amount.to_grains() + 1);
    }
    testkit::reseal(&mut coinbase, dev());
    cases.push(("bad_coinbase", post("/blocks", &raw_block(&coinbase)), 422, "bad_coinbase"));
    let mut empty = next(miner);
    empty.txs.clear();
    testkit::reseal(&mut empty, dev());
    cases.push(("no_coinbase", post("/blocks", &raw_block(&empty)), 422, "no_coinbase"));
    let payer = key(1, 0);
    let spend = testkit::transfer(dev(), &payer, miner, 1000, 1000, 0);
    let twice = testkit::block(dev(), tip, height + 1, time + 1, miner, vec![spend.clone(), spend.clone()]);
    cases.push(("duplicate_tx", post("/blocks", &raw_block(&twice)), 422, "duplicate_tx"));
    let unfunded = testkit::block(dev(), tip, height + 1, time + 1, miner, vec![spend]);
    cases.push(("invalid_tx", post("/blocks", &raw_block(&unfunded)), 422, "invalid_tx"));
    cases.push(("known invalid", post("/blocks", &raw_block(&coinbase)), 422, "bad_coinbase"));
    let child = testkit::block(dev(), coinbase.header.hash(), height + 2, time + 2, miner, Vec::new());
    cases.push(("bad_prev_block", post("/blocks", &raw_block(&child)), 422, "bad_prev_block"));
    let before = snapshot!(app, miner);
    for (name, request, status, code) in cases {
        let got = send!(app, request);
        assert_eq!(got.0.as_u16(), status, "{name}: {}", got.1);
        assert_eq!(got.1["error"]["code"], code, "{name}: {}", got.1);
        assert_eq!(snapshot!(app, miner), before, "{name} changed the node");
    }

    // An unknown parent: kept as an orphan.
    let orphan = testkit::block(dev(), BlockHash::from_byte_array([7; 32]), 9, time + 1, miner, Vec::new());
    let (status, body) = send!(app, post("/blocks", &raw_block(&orphan)));
    assert_eq!(
        (status, body),
        (StatusCode::ACCEPTED, json!({"status": "orphan", "hash": orphan.header.hash().to_string()}))
    );
    // A valid block: connected, then known.
    let valid = next(miner);
    let hash = valid.header.hash().to_string();
    let (status, body) = send!(app, post("/blocks", &raw_block(&valid)));
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"status": "connected", "hash": hash})));
    assert_eq!(send!(app, get("/blocks/tip")).1["hash"], hash);
    let (status, body) = send!(app, post("/blocks", &raw_block(&valid)));
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "known", "hash": hash})));
    // Its sibling has no more work: stored on a side branch, served by hash.
    let sibling = next(account_of(&key(5, 0)));
    let side = sibling.header.hash().to_string();
    let (status, body) = send!(app, post("/blocks", &raw_block(&sibling)));
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"status": "side", "hash": side})));
    let (_, block) = send!(app, get(&format!("/blocks/{side}")));
    assert_eq!((block["main_chain"].clone(), block["confirmations"].clone()), (json!(false), json!(0)));
    assert_eq!(block["height"], height + 1);
    assert_eq!(send!(app, get("/blocks/tip")).1["hash"], hash);
}

#[actix_web::test]
async fn openapi_describes_every_route() {
    let (node, _dir) = open_node(Network::Dev);
    let app = test::init_service(app(Arc::clone(&node))).await;
    let (status, doc) = send!(app, get("/openapi.json"));
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", doc["openapi"]);
    let routes: [(&str, &[&str]); 15] = [
        ("/status", &["get"]),
        ("/blocks", &["get", "post"]),
        ("/blocks/tip", &["get"]),
        ("/blocks/{id}", &["get"]),
        ("/txs", &["post"]),
        ("/txs/{txid}", &["get"]),
        ("/addresses/{address}", &["get"]),
        ("/addresses/{address}/txs", &["get"]),
        ("/mempool", &["get"]),
        ("/fees", &["get"]),
        ("/peers", &["get"]),
        ("/openapi.json", &["get"]),
        ("/admin/mining", &["post"]),
        ("/admin/peers", &["post", "delete"]),
        ("/dev/generate", &["post"]),
    ];
    let paths = doc["paths"].as_object().expect("paths");
    for (path, methods) in routes {
        let item = &paths.get(&format!("/api/v1{path}")).unwrap_or_else(|| panic!("{path} is missing"));
        for method in methods {
            assert!(item.get(method).is_some(), "{method} {path} is missing");
        }
    }
    assert_eq!(paths.len(), routes.len(), "{:?}", paths.keys().collect::<Vec<_>>());
    assert!(doc["components"]["securitySchemes"]["cookie"].is_object());
    assert!(doc["components"]["schemas"]["TxJson"].is_object());
    assert!(doc["paths"]["/api/v1/dev/generate"]["post"]["security"].is_array());
}
