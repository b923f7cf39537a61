//! Peer-to-peer between real nodes on 127.0.0.1: relay of blocks and transfers along a chain of
//! peers, a fresh node syncing a long chain, a healed partition (most work wins, the loser's
//! transfer returns to its mempool), one- and twelve-block reorganizations, pending transfers
//! for a late peer, bans (kept over a restart, never on a forged name), and peers that send
//! garbage or never answer.

use oxcoin::testkit::{account_of, key, transfer};
use oxcoin::{Address, Encode, Network};
use oxcoin_tests::{NodeProcess, http};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long any propagation may take before a test fails.
const DEADLINE: Duration = Duration::from_secs(60);

fn address(seed: u8) -> String {
    Address::new(Network::Dev, account_of(&key(seed, 0))).to_string()
}

fn url(node: &NodeProcess) -> String {
    format!("http://{}", node.addr)
}

fn start(dir: &Path, peers: &[String]) -> NodeProcess {
    let mut args = vec!["--no-mine"];
    for peer in peers {
        args.extend(["--peer", peer.as_str()]);
    }
    NodeProcess::start("dev", dir, &args)
}

/// Polls `done` every 50 ms until it holds, failing with `what` and the nodes' logs at the deadline.
#[track_caller]
fn wait_until(what: &str, nodes: &[&NodeProcess], mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !done() {
        if Instant::now() > deadline {
            let logs: Vec<String> = nodes.iter().map(|n| format!("--- {}\n{}", n.addr, n.log())).collect();
            panic!("timed out waiting for {what}\n{}", logs.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn tip(node: &NodeProcess) -> (u64, String) {
    let s = node.get("/api/v1/status").json;
    (s["height"].as_u64().unwrap_or(0), s["best_hash"].as_str().unwrap_or("").to_owned())
}

fn peer_urls(node: &NodeProcess) -> Vec<String> {
    let peers = node.get("/api/v1/peers").json;
    peers["peers"]
        .as_array()
        .map_or_else(Vec::new, |a| a.iter().filter_map(|p| p["url"].as_str().map(str::to_owned)).collect())
}

/// Hands `hashes` (stored on `from`) to `to` through the public API, as a miner would.
fn share(from: &NodeProcess, to: &NodeProcess, hashes: &[String]) {
    let raw = from.post("/p2p/blocks", &json!({ "hashes": hashes }));
    assert_eq!(raw.status, 200, "{}", raw.body);
    for block in raw.json["blocks"].as_array().unwrap() {
        let r = to.post("/api/v1/blocks", &json!({"raw_hex": block}));
        assert_eq!(r.status, 202, "{}", r.body);
    }
    assert_eq!(tip(to), tip(from));
}

fn tx_status(node: &NodeProcess, txid: &str) -> String {
    node.get(&format!("/api/v1/txs/{txid}")).json["status"].as_str().unwrap_or("").to_owned()
}

#[test]
fn blocks_and_transfers_travel_along_a_chain_of_three_nodes() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let a = start(dirs[0].path(), &[]);
    let b = start(dirs[1].path(), &[url(&a)]);
    let c = start(dirs[2].path(), &[url(&b)]);
    // Each node learns the one that polls it, so A relays to B and B to C.
    wait_until("A and B to know their callers", &[&a, &b, &c], || {
        peer_urls(&a).contains(&url(&b)) && peer_urls(&b).contains(&url(&c))
    });
    assert!(a.get("/api/v1/status").json["peers"].as_u64() >= Some(1), "/status counts connected peers");

    let hashes = a.generate(3, &address(1));
    wait_until("C to reach A's tip", &[&a, &b, &c], || tip(&c) == (3, hashes[2].clone()));

    let t = transfer(Network::Dev.params(), &key(1, 0), account_of(&key(2, 0)), 100_000_000, 1_000, 0);
    let r = a.post("/api/v1/txs", &json!({"raw_hex": t.encode_hex()}));
    assert_eq!(r.status, 202, "{}", r.body);
    let txid = r.json["txid"].as_str().unwrap().to_owned();
    wait_until("the transfer in C's mempool", &[&a, &b, &c], || tx_status(&c, &txid) == "pending");

    // A block mined on C travels back to A, with the transfer confirmed everywhere.
    let mined = c.generate(1, &address(3));
    wait_until("A to take C's block", &[&a, &b, &c], || tip(&a) == (4, mined[0].clone()));
    assert_eq!(tx_status(&a, &txid), "confirmed");
}

#[test]
fn a_fresh_node_syncs_a_long_chain_from_its_peer() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(da.path(), &[]);
    let hashes = a.generate(200, &address(1));
    let b = start(db.path(), &[url(&a)]);
    wait_until("B to sync 200 blocks", &[&a, &b], || tip(&b) == (200, hashes[199].clone()));
    let block = b.get("/api/v1/blocks/100").json;
    assert_eq!(block["hash"], hashes[99].as_str());
    wait_until("B to report the sync over", &[&a, &b], || b.get("/api/v1/status").json["syncing"] == false);
    let status = b.get("/api/v1/status").json;
    assert_eq!((status["target_height"].as_u64(), status["progress"].as_f64()), (Some(200), Some(1.0)));
}

/// A chain longer than several locate answers (500 hashes each) with transfers in it: each
/// answer's last group is still being connected while the next locate continues after its last
/// hash, and checked blocks wait across answers. B ends on A's chain with A's balances.
#[test]
fn a_fresh_node_syncs_a_chain_longer_than_several_locate_answers() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let plan = oxcoin_tests::chaingen::Plan { senders: 30, ..oxcoin_tests::chaingen::Plan::new(1_234, 3_000) };
    let summary = oxcoin_tests::chaingen::generate_with(da.path(), &plan, |_| {}).unwrap();
    let a = start(da.path(), &[]);
    let b = start(db.path(), &[url(&a)]);
    wait_until("B to sync 1,234 blocks", &[&a, &b], || tip(&b) == (1_234, summary.tip.to_string()));
    for height in [499, 500, 501, 1_000, 1_001, 1_233] {
        let path = format!("/api/v1/blocks/{height}");
        assert_eq!(b.get(&path).json["hash"], a.get(&path).json["hash"], "block {height}");
    }
    for (id, account) in summary.accounts.iter().take(60) {
        let got = b.get(&format!("/api/v1/addresses/{}", Address::new(Network::Dev, *id)));
        assert_eq!(got.json["balance"], account.balance.to_grains(), "{}", got.body);
        assert_eq!(got.json["nonce"], account.nonce, "{}", got.body);
    }
}

#[test]
fn a_healed_partition_converges_on_the_most_work_and_returns_the_losers_transfer() {
    let (dx, dy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let x = start(dx.path(), &[]);
    let y = start(dy.path(), &[]);
    // A common history: X's first blocks, handed to Y by hand.
    let common = x.generate(3, &address(1));
    share(&x, &y, &common);

    // Partitioned: X confirms a transfer in one block, Y mines three.
    let t = transfer(Network::Dev.params(), &key(1, 0), account_of(&key(2, 0)), 100_000_000, 1_000, 0);
    let r = x.post("/api/v1/txs", &json!({"raw_hex": t.encode_hex()}));
    assert_eq!(r.status, 202, "{}", r.body);
    let txid = r.json["txid"].as_str().unwrap().to_owned();
    x.generate(1, &address(9));
    assert_eq!(tx_status(&x, &txid), "confirmed");
    let winner = y.generate(3, &address(8));
    assert_eq!(tx_status(&y, &txid), "");

    // Healed through the admin API.
    let r = x.post_admin("/api/v1/admin/peers", &json!({"url": url(&y)}));
    assert_eq!(r.status, 200, "{}", r.body);
    wait_until("X to switch to Y's chain", &[&x, &y], || tip(&x) == (6, winner[2].clone()));
    assert_eq!(tip(&y), (6, winner[2].clone()), "the most-work chain stays");
    wait_until("the orphaned transfer back in X's mempool", &[&x, &y], || tx_status(&x, &txid) == "pending");

    // Removing a peer through the admin API; an unknown one is 404.
    let auth = format!("Bearer {}", x.cookie());
    let delete = |url: &str| {
        let body = json!({ "url": url }).to_string();
        http(x.addr, "DELETE", "/api/v1/admin/peers", Some(&body), &[("Authorization", &auth)]).unwrap()
    };
    let r = delete(&url(&y));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = delete("http://127.0.0.1:1");
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
    // Y keeps polling X (X announced itself to Y), but X does not take it back on its own.
    std::thread::sleep(Duration::from_secs(3));
    assert!(!peer_urls(&x).contains(&url(&y)), "a removed peer came back: {:?}", peer_urls(&x));
    assert!(peer_urls(&y).contains(&url(&x)), "Y still reaches X");
}

#[test]
fn a_one_block_fork_holds_on_both_sides_until_one_branch_grows() {
    let (dx, dy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let x = start(dx.path(), &[]);
    let y = start(dy.path(), &[]);
    let common = x.generate(2, &address(1));
    share(&x, &y, &common);
    let ours = x.generate(1, &address(2));
    let theirs = y.generate(1, &address(3));
    let r = x.post_admin("/api/v1/admin/peers", &json!({"url": url(&y)}));
    assert_eq!(r.status, 200, "{}", r.body);
    wait_until("X and Y to know each other", &[&x, &y], || {
        peer_urls(&x).contains(&url(&y)) && peer_urls(&y).contains(&url(&x))
    });
    // Equal work: each keeps the block it saw first.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(tip(&x), (3, ours[0].clone()));
    assert_eq!(tip(&y), (3, theirs[0].clone()));
    // One more block on Y's branch: X gives up its tip, a one-block reorganization.
    let next = y.generate(1, &address(3));
    wait_until("X to reorganize one block", &[&x, &y], || tip(&x) == (4, next[0].clone()));
    assert_eq!(x.get("/api/v1/blocks/3").json["hash"], theirs[0].as_str());
    let old = x.get(&format!("/api/v1/blocks/{}", ours[0]));
    assert_eq!(old.status, 200, "the losing block stays stored: {}", old.body);
    assert_eq!(tip(&y), (4, next[0].clone()));
}

#[test]
fn a_peer_that_connects_later_gets_the_pending_transfers() {
    let (dx, dy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let x = start(dx.path(), &[]);
    let y = start(dy.path(), &[]);
    let common = x.generate(3, &address(1));
    share(&x, &y, &common);
    let t = transfer(Network::Dev.params(), &key(1, 0), account_of(&key(2, 0)), 100_000_000, 1_000, 0);
    let r = x.post("/api/v1/txs", &json!({"raw_hex": t.encode_hex()}));
    assert_eq!(r.status, 202, "{}", r.body);
    let txid = r.json["txid"].as_str().unwrap().to_owned();
    assert_eq!(tx_status(&y, &txid), "", "not relayed: Y was not a peer yet");
    let r = y.post_admin("/api/v1/admin/peers", &json!({"url": url(&x)}));
    assert_eq!(r.status, 200, "{}", r.body);
    wait_until("Y to take X's pending transfer", &[&x, &y], || tx_status(&y, &txid) == "pending");
}

#[test]
fn a_twelve_block_branch_loses_to_a_thirteen_block_one_on_both_sides() {
    let (dx, dy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let x = start(dx.path(), &[]);
    let y = start(dy.path(), &[]);
    x.generate(12, &address(1));
    let winner = y.generate(13, &address(2));
    // Y learns X too (X's polls announce it), so the heavier chain must win on both sides.
    let r = x.post_admin("/api/v1/admin/peers", &json!({"url": url(&y)}));
    assert_eq!(r.status, 200, "{}", r.body);
    wait_until("X to reorganize 12 blocks deep", &[&x, &y], || tip(&x) == (13, winner[12].clone()));
    assert_eq!(tip(&y), (13, winner[12].clone()));
    let block = x.get("/api/v1/blocks/1").json;
    assert_eq!(block["hash"], winner[0].as_str(), "the whole branch was replaced");
}

#[test]
fn a_peer_relaying_an_invalid_block_is_banned_but_the_block_is_not_poisoned() {
    let (da, dz) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(da.path(), &[]);
    let mut z = start(dz.path(), &[]);
    let hashes = a.generate(1, &address(1));
    let raw = a.post("/p2p/blocks", &json!({"hashes": hashes}));
    let good = raw.json["blocks"][0].as_str().unwrap().to_owned();
    // Same header, another coinbase extra nonce: the body no longer matches the merkle root.
    let last = if good.ends_with('0') { "1" } else { "0" };
    let bad = format!("{}{last}", &good[..good.len() - 1]);
    let liar = "http://127.0.0.1:9";
    let r = z.post("/p2p/block", &json!({"raw_hex": bad, "from": liar}));
    assert_eq!((r.status, r.code()), (422, "bad_merkle_root"), "{}", r.body);
    let r = z.post("/p2p/block", &json!({"raw_hex": good, "from": liar}));
    assert_eq!((r.status, r.code()), (403, "forbidden"), "a banned peer is refused: {}", r.body);
    let r = z.post("/p2p/tx", &json!({"raw_hex": "00", "from": liar}));
    assert_eq!((r.status, r.code()), (403, "forbidden"), "{}", r.body);
    // Garbage bodies are refused like any other bad input.
    let r = z.post("/p2p/block", &json!({"raw_hex": "zz"}));
    assert_eq!((r.status, r.code()), (400, "malformed"), "{}", r.body);
    let r = z.post("/p2p/locate", &json!({"locator": ["nope"]}));
    assert_eq!((r.status, r.code()), (400, "malformed"), "{}", r.body);
    let r = z.post("/p2p/blocks", &json!({"hashes": [], "extra": 1}));
    assert_eq!((r.status, r.code()), (400, "malformed"), "{}", r.body);
    // A claimed name that does not match the connection is not believed, so not banned: else
    // anyone could get an honest peer banned by sending junk in its name.
    let framed = "http://10.1.2.3:8334";
    let r = z.post("/p2p/block", &json!({"raw_hex": bad, "from": framed}));
    assert_eq!((r.status, r.code()), (422, "bad_merkle_root"), "{}", r.body);
    // Bans are written when made: they outlive even a kill -9.
    z.kill9();
    z.restart();
    let r = z.post("/p2p/block", &json!({"raw_hex": good, "from": liar}));
    assert_eq!((r.status, r.code()), (403, "forbidden"), "after a restart: {}", r.body);
    // The right block with that hash is still accepted from anyone else.
    let r = z.post("/p2p/block", &json!({"raw_hex": good, "from": framed}));
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(tip(&z), (1, hashes[0].clone()));
}

/// A listener that answers every connection with `answer` and closes it, or (`None`) keeps
/// every connection open without a word. Its thread lives as long as the test process.
fn bad_peer(answer: Option<&'static [u8]>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            match answer {
                Some(bytes) => {
                    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
                    let _ = stream.read(&mut [0u8; 4096]);
                    let _ = stream.write_all(bytes);
                }
                None => held.push(stream),
            }
        }
    });
    format!("http://{addr}")
}

#[test]
fn garbage_and_silent_peers_stall_nothing() {
    let (dg, dn) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let good = start(dg.path(), &[]);
    let hashes = good.generate(20, &address(1));
    let junk_json =
        bad_peer(Some(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":[1"));
    let junk_bytes = bad_peer(Some(b"\x00\xff not http at all \r\n\r\n\x13\x37"));
    let silent = bad_peer(None);
    let node = start(dn.path(), &[junk_json, junk_bytes, silent, url(&good)]);
    wait_until("the node to sync from its good peer", &[&good, &node], || {
        let started = Instant::now();
        let r = http(node.addr, "GET", "/api/v1/status", None, &[]).unwrap();
        assert!(started.elapsed() < Duration::from_secs(1), "/status took {:?}", started.elapsed());
        assert_eq!(r.status, 200);
        r.json["height"] == 20 && r.json["best_hash"] == hashes[19].as_str()
    });
    assert_eq!(peer_urls(&node), vec![url(&good)], "only the good peer counts as connected");
}
