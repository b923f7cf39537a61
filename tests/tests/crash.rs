//! Crash consistency in the manner of Bitcoin Core's `feature_dbcrash.py`: the real node is killed
//! with SIGKILL at random instants (a seeded generator; the seed is printed, `CRASH_SEED=<n>`
//! replays it) while it mines, while it connects blocks under a load of transfers, while it
//! switches to a longer branch, and while it syncs from a peer. After every restart:
//! - it is on a valid chain: every block from genesis links to the one below, and `/status`
//!   agrees with `GET /blocks`;
//! - nothing the API showed before the kill is lost: tips seen in `/status`, hashes answered by
//!   `/dev/generate`, transfers seen `confirmed` (a reorg may move the tip away from a shown
//!   block, but never to less work, and the block stays known);
//! - its state equals a clean reference node fed the same best chain block by block through
//!   `POST /api/v1/blocks`: same tip, and the same balance and nonce for every address the chain
//!   touches.

use oxcoin::testkit::{account_of, key, transfer};
use oxcoin::{Address, Encode, Network};
use oxcoin_tests::{NodeProcess, Response, http};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long any wait may take before a test fails.
const DEADLINE: Duration = Duration::from_secs(60);

/// splitmix64: small, seeded, good enough to pick instants.
struct Rng(u64);

impl Rng {
    /// Seeded from `CRASH_SEED` or the clock; prints the seed so a failure can be replayed.
    fn new(test: &str) -> Self {
        let seed = std::env::var("CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
        });
        println!("{test}: CRASH_SEED={seed}");
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

fn address(seed: u8) -> String {
    Address::new(Network::Dev, account_of(&key(seed, 0))).to_string()
}

fn url(node: &NodeProcess) -> String {
    format!("http://{}", node.addr)
}

#[track_caller]
fn wait_until(what: &str, node: &NodeProcess, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}\n{}", node.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn status(node: &NodeProcess) -> (u64, String, String) {
    let s = node.get("/api/v1/status").json;
    (
        s["height"].as_u64().expect("height"),
        s["best_hash"].as_str().expect("best_hash").to_owned(),
        s["chain_work"].as_str().expect("chain_work").to_owned(),
    )
}

/// What the API showed as committed before a kill.
#[derive(Default)]
struct Shown {
    /// (height, hash) pairs from `/status`, with the chain work then.
    tips: Vec<(u64, String, String)>,
    /// Block hashes `/dev/generate` answered with.
    blocks: Vec<String>,
    /// Transfers seen `confirmed`.
    txids: Vec<String>,
}

/// Walks the best chain through `GET /blocks` up to `/status`'s height and checks that it is
/// a valid chain agreeing with `/status`; returns the blocks (with their transactions). The
/// node must be still (see [`settle`]).
#[track_caller]
fn valid_chain(node: &NodeProcess) -> Vec<Value> {
    let (height, best, _) = status(node);
    let mut blocks: Vec<Value> = Vec::with_capacity(height as usize + 1);
    while blocks.len() as u64 <= height {
        let page = node.get(&format!("/api/v1/blocks?from={}&limit=100", blocks.len()));
        assert_eq!(page.status, 200, "{}", page.body);
        let page = page.json["blocks"].as_array().expect("blocks").clone();
        assert!(!page.is_empty(), "the chain ends below /status's height {height}:\n{}", node.log());
        blocks.extend(page);
    }
    blocks.truncate(height as usize + 1);
    for (h, block) in blocks.iter().enumerate() {
        assert_eq!(block["height"], h as u64, "{block}");
        assert_eq!(block["main_chain"], true, "{block}");
        if h > 0 {
            assert_eq!(block["prev_hash"], blocks[h - 1]["hash"], "block {h} does not link to block {}", h - 1);
        }
    }
    assert_eq!(blocks[height as usize]["hash"].as_str(), Some(best.as_str()), "/status and GET /blocks disagree");
    let single = node.get(&format!("/api/v1/blocks/{height}"));
    assert_eq!(single.json["hash"].as_str(), Some(best.as_str()), "{}", single.body);
    blocks
}

/// Waits until the tip stays the same for `quiet` (a node that still syncs or mines moves it).
fn settle(node: &NodeProcess, quiet: Duration) {
    let deadline = Instant::now() + DEADLINE;
    let mut last = status(node);
    loop {
        std::thread::sleep(quiet);
        let now = status(node);
        if now == last || Instant::now() > deadline {
            return;
        }
        last = now;
    }
}

/// Stops syncing from `peer` (until [`reconnect`]), so the node holds still for the checks.
fn disconnect(node: &NodeProcess, peer: &str) {
    let auth = format!("Bearer {}", node.cookie());
    let _ = http(
        node.addr,
        "DELETE",
        "/api/v1/admin/peers",
        Some(&json!({"url": peer}).to_string()),
        &[("Authorization", &auth)],
    );
    settle(node, Duration::from_millis(1500));
}

fn reconnect(node: &NodeProcess, peer: &str) {
    let r = node.post_admin("/api/v1/admin/peers", &json!({"url": peer}));
    assert_eq!(r.status, 200, "{}", r.body);
}

fn hashes(blocks: &[Value]) -> Vec<String> {
    blocks.iter().map(|b| b["hash"].as_str().expect("hash").to_owned()).collect()
}

/// Every address a chain's transactions touch.
fn parties(blocks: &[Value]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for tx in blocks.iter().flat_map(|b| b["txs"].as_array().cloned().unwrap_or_default()) {
        for side in ["from", "to"] {
            if let Some(a) = tx[side].as_str() {
                out.insert(a.to_owned());
            }
        }
    }
    out
}

/// Checks that everything in `shown` survived. With `reorg`, a shown block may have left the
/// best chain, but stays known, and the tip never has less work than a shown one.
#[track_caller]
fn nothing_lost(node: &NodeProcess, shown: &Shown, reorg: bool) {
    let (_, _, work) = status(node);
    for (height, hash, shown_work) in &shown.tips {
        if reorg {
            assert!(work >= *shown_work, "chain work fell from {shown_work} to {work}");
            assert_eq!(node.get(&format!("/api/v1/blocks/{hash}")).status, 200, "shown tip {hash} is gone");
        } else {
            let block = node.get(&format!("/api/v1/blocks/{height}"));
            assert_eq!(
                block.json["hash"].as_str(),
                Some(hash.as_str()),
                "shown tip {height} {hash} lost:\n{}",
                node.log()
            );
        }
    }
    for hash in &shown.blocks {
        let block = node.get(&format!("/api/v1/blocks/{hash}"));
        assert_eq!(block.status, 200, "generated block {hash} lost:\n{}", node.log());
        if !reorg {
            assert_eq!(block.json["main_chain"], true, "generated block {hash} left the best chain");
        }
    }
    if !reorg {
        for txid in &shown.txids {
            let tx = node.get(&format!("/api/v1/txs/{txid}"));
            assert_eq!(tx.json["status"], "confirmed", "confirmed transfer {txid} lost: {}", tx.body);
        }
    }
}

/// A clean node fed the crashed node's best chain through `POST /api/v1/blocks`.
struct Reference {
    node: NodeProcess,
    fed: Vec<String>,
}

impl Reference {
    fn start(dir: &Path) -> Self {
        let node = NodeProcess::start("dev", dir, &["--no-mine"]);
        let fed = vec![status(&node).1];
        Self { node, fed }
    }

    /// Feeds what differs from `chain` (a reorg included), then compares tips and every party's
    /// balance and nonce with `crashed`.
    #[track_caller]
    fn compare(&mut self, crashed: &NodeProcess, blocks: &[Value]) {
        let chain = hashes(blocks);
        let first = self.fed.iter().zip(&chain).take_while(|(a, b)| a == b).count();
        assert!(first >= 1, "the crashed node has another genesis");
        for group in chain[first..].chunks(64) {
            let raw = crashed.post("/p2p/blocks", &json!({ "hashes": group }));
            assert_eq!(raw.status, 200, "{}", raw.body);
            for block in raw.json["blocks"].as_array().expect("blocks") {
                let r = self.node.post("/api/v1/blocks", &json!({ "raw_hex": block }));
                assert!(r.status == 202 || r.status == 200, "the reference refused a block: {}", r.body);
            }
        }
        self.fed = chain.clone();
        let last = chain.last().expect("genesis at least");
        assert_eq!(status(&self.node).1, *last, "the reference did not reach the crashed node's tip");
        for party in parties(blocks) {
            let path = format!("/api/v1/addresses/{party}");
            let (ours, theirs) = (crashed.get(&path).json, self.node.get(&path).json);
            for field in ["balance", "nonce", "immature"] {
                assert_eq!(ours[field], theirs[field], "{field} of {party} differs from the reference");
            }
        }
    }
}

/// After a restart: a valid chain, nothing shown lost, the same state as the reference.
#[track_caller]
fn check(node: &NodeProcess, shown: &Shown, reference: &mut Reference, reorg: bool) {
    let blocks = valid_chain(node);
    nothing_lost(node, shown, reorg);
    reference.compare(node, &blocks);
}

fn admin(addr: SocketAddr, cookie: &str, path: &str, body: &Value) -> std::io::Result<Response> {
    let auth = format!("Bearer {cookie}");
    http(addr, "POST", path, Some(&body.to_string()), &[("Authorization", &auth)])
}

/// A thread calling `/dev/generate` (1 to `most` blocks at a time) until the node dies or `stop`;
/// the hashes it was answered with go to `out`.
fn generator(
    node: &NodeProcess,
    most: u64,
    seed: u64,
    stop: Arc<AtomicBool>,
    out: Arc<Mutex<Vec<String>>>,
) -> JoinHandle<()> {
    let (addr, cookie) = (node.addr, node.cookie());
    std::thread::spawn(move || {
        let mut rng = Rng(seed);
        while !stop.load(Ordering::Relaxed) {
            let count = rng.range(1, most + 1);
            match admin(addr, &cookie, "/api/v1/dev/generate", &json!({"count": count, "address": address(9)})) {
                Ok(r) if r.status == 200 => {
                    let got = r.json["hashes"].as_array().cloned().unwrap_or_default();
                    out.lock().expect("lock").extend(got.iter().filter_map(|h| h.as_str().map(str::to_owned)));
                }
                // A mined block can take the tip between template and submission: try again.
                Ok(_) => {}
                Err(_) => break,
            }
        }
    })
}

/// Polls `/status` until `wait` has passed, recording the tips shown.
fn watch(node: &NodeProcess, wait: Duration, shown: &mut Shown) {
    let until = Instant::now() + wait;
    loop {
        if let Ok(r) = http(node.addr, "GET", "/api/v1/status", None, &[])
            && r.status == 200
        {
            let s = r.json;
            if let (Some(h), Some(b), Some(w)) =
                (s["height"].as_u64(), s["best_hash"].as_str(), s["chain_work"].as_str())
            {
                shown.tips.push((h, b.to_owned(), w.to_owned()));
            }
        }
        if Instant::now() >= until {
            return;
        }
        std::thread::sleep(Duration::from_millis(15));
    }
}

#[test]
fn kill_9_while_mining_and_generating_loses_nothing_shown() {
    let mut rng = Rng::new("mining");
    let (dir, refdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut node = NodeProcess::start("dev", dir.path(), &["--threads", "1", "--reward-address", &address(1)]);
    let mut reference = Reference::start(refdir.path());
    let mut shown = Shown::default();
    for round in 0..4 {
        let (stop, found) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Vec::new())));
        let thread = generator(&node, 30, rng.next(), Arc::clone(&stop), Arc::clone(&found));
        let wait = Duration::from_millis(rng.range(150, 1500));
        watch(&node, wait, &mut shown);
        node.kill9();
        stop.store(true, Ordering::Relaxed);
        thread.join().expect("generator thread");
        shown.blocks.extend(found.lock().expect("lock").drain(..));
        println!("round {round}: killed after {wait:?}, {} blocks shown so far", shown.blocks.len());
        node.restart();
        // Stop the miners so the reference compares against a still tip.
        assert_eq!(node.post_admin("/api/v1/admin/mining", &json!({"enabled": false})).status, 200);
        settle(&node, Duration::from_millis(300));
        check(&node, &shown, &mut reference, false);
        assert_eq!(node.post_admin("/api/v1/admin/mining", &json!({"enabled": true})).status, 200);
    }
    assert!(!shown.blocks.is_empty(), "the generator never got an answer");
}

#[test]
fn kill_9_while_connecting_blocks_under_transfer_load_loses_nothing_shown() {
    let mut rng = Rng::new("load");
    let (dir, refdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut node = NodeProcess::start("dev", dir.path(), &["--no-mine"]);
    let mut reference = Reference::start(refdir.path());
    let senders: Vec<u8> = (1..=4).collect();
    for s in &senders {
        node.generate(3, &address(*s));
    }
    node.generate(3, &address(9)); // matures the last sender's rewards
    let mut shown = Shown::default();
    for round in 0..4 {
        let stop = Arc::new(AtomicBool::new(false));
        let found = Arc::new(Mutex::new(Vec::new()));
        let posted = Arc::new(Mutex::new(Vec::<String>::new()));
        let nonces: Vec<u64> = senders
            .iter()
            .map(|s| node.get(&format!("/api/v1/addresses/{}", address(*s))).json["next_nonce"].as_u64().unwrap_or(0))
            .collect();
        let sender_thread = {
            let (addr, stop, posted, senders, seed) =
                (node.addr, Arc::clone(&stop), Arc::clone(&posted), senders.clone(), rng.next());
            std::thread::spawn(move || {
                let (mut rng, mut nonces) = (Rng(seed), nonces);
                'send: while !stop.load(Ordering::Relaxed) {
                    for (i, s) in senders.iter().enumerate() {
                        let to = account_of(&key(senders[(i + 1) % senders.len()], 0));
                        let t =
                            transfer(Network::Dev.params(), &key(*s, 0), to, rng.range(1, 10_000), 1_000, nonces[i]);
                        match http(
                            addr,
                            "POST",
                            "/api/v1/txs",
                            Some(&json!({"raw_hex": t.encode_hex()}).to_string()),
                            &[],
                        ) {
                            Ok(r) if r.status == 202 => {
                                nonces[i] += 1;
                                posted.lock().expect("lock").push(t.txid().to_string());
                            }
                            Ok(_) => {}
                            Err(_) => break 'send,
                        }
                    }
                }
            })
        };
        let gen_thread = generator(&node, 4, rng.next(), Arc::clone(&stop), Arc::clone(&found));
        let until = Instant::now() + Duration::from_millis(rng.range(200, 1500));
        while Instant::now() < until {
            watch(&node, Duration::from_millis(30), &mut shown);
            let candidates: Vec<String> = posted.lock().expect("lock").iter().rev().take(20).cloned().collect();
            for txid in candidates {
                if let Ok(r) = http(node.addr, "GET", &format!("/api/v1/txs/{txid}"), None, &[])
                    && r.json["status"] == "confirmed"
                    && !shown.txids.contains(&txid)
                {
                    shown.txids.push(txid);
                }
            }
        }
        node.kill9();
        stop.store(true, Ordering::Relaxed);
        sender_thread.join().expect("sender thread");
        gen_thread.join().expect("generator thread");
        shown.blocks.extend(found.lock().expect("lock").drain(..));
        println!(
            "round {round}: {} transfers posted, {} seen confirmed so far, {} blocks shown",
            posted.lock().expect("lock").len(),
            shown.txids.len(),
            shown.blocks.len()
        );
        node.restart();
        check(&node, &shown, &mut reference, false);
    }
    assert!(!shown.txids.is_empty(), "no transfer was ever seen confirmed: the load did not run");
}

#[test]
fn kill_9_during_a_reorg_to_a_longer_branch_ends_on_the_most_work() {
    let mut rng = Rng::new("reorg");
    let (dir, refdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut x = NodeProcess::start("dev", dir.path(), &["--no-mine"]);
    let mut reference = Reference::start(refdir.path());
    x.generate(4, &address(1));
    for round in 0..4 {
        // Y starts from X's chain, then each mines its own branch; Y's is longer.
        let ydir = tempfile::tempdir().unwrap();
        let y = NodeProcess::start("dev", ydir.path(), &["--no-mine"]);
        let common = hashes(&valid_chain(&x));
        for group in common[1..].chunks(64) {
            let raw = x.post("/p2p/blocks", &json!({ "hashes": group }));
            for block in raw.json["blocks"].as_array().expect("blocks") {
                assert_eq!(y.post("/api/v1/blocks", &json!({"raw_hex": block})).status, 202);
            }
        }
        let nonce = x.get(&format!("/api/v1/addresses/{}", address(1))).json["next_nonce"].as_u64().unwrap_or(0);
        let t = transfer(Network::Dev.params(), &key(1, 0), account_of(&key(2, 0)), 1_000, 1_000, nonce);
        assert_eq!(x.post("/api/v1/txs", &json!({"raw_hex": t.encode_hex()})).status, 202);
        let mut shown = Shown { blocks: x.generate(rng.range(1, 4) as usize, &address(3)), ..Shown::default() };
        let longer = rng.range(20, 120) as usize;
        y.generate(longer, &address(4));
        let target = status(&y);
        watch(&x, Duration::from_millis(20), &mut shown);

        let r = x.post_admin("/api/v1/admin/peers", &json!({"url": url(&y)}));
        assert_eq!(r.status, 200, "{}", r.body);
        // Killed at a random instant, or soon after the tip first moves (the switch under way).
        let (start, deadline) = (status(&x).1, Instant::now() + Duration::from_millis(rng.range(0, 1300)));
        while Instant::now() < deadline {
            watch(&x, Duration::ZERO, &mut shown);
            if shown.tips.last().is_some_and(|t| t.1 != start) {
                std::thread::sleep(Duration::from_millis(rng.range(0, 40)));
                break;
            }
        }
        x.kill9();
        let at = shown.tips.last().map_or(0, |t| t.0);
        println!("round {round}: killed with a branch of {longer} on offer; X last shown at {at} of {}", target.0);
        x.restart();
        disconnect(&x, &url(&y));
        check(&x, &shown, &mut reference, true);
        // Connected again, X ends on Y's branch.
        reconnect(&x, &url(&y));
        wait_until("X to take Y's branch", &x, || status(&x).1 == target.1);
        disconnect(&x, &url(&y));
        check(&x, &shown, &mut reference, true);
    }
}

#[test]
fn kill_9_during_sync_from_a_peer_resumes_without_loss() {
    let mut rng = Rng::new("sync");
    let (adir, bdir, refdir) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = NodeProcess::start("dev", adir.path(), &["--no-mine"]);
    // A chain of 400 blocks with transfers in some of them.
    a.generate(3, &address(1));
    for n in 0..20u64 {
        let t =
            transfer(Network::Dev.params(), &key(1, 0), account_of(&key(2 + (n % 3) as u8, 0)), 10_000 + n, 1_000, n);
        assert_eq!(a.post("/api/v1/txs", &json!({"raw_hex": t.encode_hex()})).status, 202);
        a.generate(1, &address(5));
    }
    a.generate(377, &address(6));
    let target = status(&a);
    assert_eq!(target.0, 400);

    let mut b = NodeProcess::start("dev", bdir.path(), &["--no-mine", "--peer", &url(&a)]);
    let mut reference = Reference::start(refdir.path());
    let mut shown = Shown::default();
    let mut mid_sync = 0;
    for round in 0..5 {
        // Killed once B passes a random height, then a random instant later.
        let at = status(&b).0;
        let threshold = if at < target.0 { rng.range(at + 1, at + 2 + (target.0 - at) / 5) } else { at };
        wait_until("B to sync further", &b, || {
            watch(&b, Duration::ZERO, &mut shown);
            shown.tips.last().is_some_and(|t| t.0 >= threshold)
        });
        std::thread::sleep(Duration::from_millis(rng.range(0, 30)));
        b.kill9();
        let at = shown.tips.last().map_or(0, |t| t.0);
        mid_sync += usize::from(at < target.0);
        println!("round {round}: killed B past height {threshold}, last shown {at} of {}", target.0);
        b.restart();
        disconnect(&b, &url(&a));
        check(&b, &shown, &mut reference, false);
        reconnect(&b, &url(&a));
    }
    println!("{mid_sync} of 5 kills landed mid-sync");
    wait_until("B to finish syncing", &b, || status(&b).1 == target.1);
    check(&b, &shown, &mut reference, false);
    for party in parties(&valid_chain(&a)) {
        let path = format!("/api/v1/addresses/{party}");
        assert_eq!(a.get(&path).json["balance"], b.get(&path).json["balance"], "{party}");
    }
}
