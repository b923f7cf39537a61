//! Storage faults against the real node: a damaged store (truncated, garbage in the file header,
//! a flipped byte in the newest block, in a block-index entry, in an account) and a full disk.
//! The node must stop with a message naming the file and the way to recover, exit non-zero and
//! never go on from the damage; `oxminer run --reindex` rebuilds the store from its blocks; after
//! a full disk is freed, the node restarts with nothing it showed lost.
//!
//! The full disk is a small tmpfs mount (the tests run as root in CI); where mounting is not
//! permitted, the node runs under a file-size limit (`prlimit --fsize`, SIGXFSZ ignored) instead,
//! and the test says so. A second test always runs under the file-size limit.

use oxcoin::testkit::{account_of, key, transfer};
use oxcoin::{Address, Encode, Network};
use oxcoin_tests::{NodeProcess, binary, free_port, http};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(60);

fn address(seed: u8) -> String {
    Address::new(Network::Dev, account_of(&key(seed, 0))).to_string()
}

fn store_of(dir: &Path) -> PathBuf {
    dir.join("dev").join("chain.redb")
}

/// A dev node's story to damage: blocks to several addresses, confirmed transfers, a side block.
struct Pristine {
    dir: tempfile::TempDir,
    tip: (u64, String),
    chain: Vec<String>,
    accounts: Vec<(String, Value, Value)>,
    txids: Vec<String>,
    side: String,
    /// Raw hex of every best-chain block, by height.
    raw: Vec<String>,
}

fn tip(node: &NodeProcess) -> (u64, String) {
    let s = node.get("/api/v1/status").json;
    (s["height"].as_u64().unwrap_or(0), s["best_hash"].as_str().unwrap_or("").to_owned())
}

fn chain(node: &NodeProcess) -> Vec<String> {
    let (height, _) = tip(node);
    let mut out = Vec::new();
    while out.len() as u64 <= height {
        let page = node.get(&format!("/api/v1/blocks?from={}&limit=100", out.len())).json;
        let blocks = page["blocks"].as_array().cloned().unwrap_or_default();
        assert!(!blocks.is_empty());
        out.extend(blocks.iter().map(|b| b["hash"].as_str().unwrap_or("").to_owned()));
    }
    out
}

fn account(node: &NodeProcess, address: &str) -> (Value, Value) {
    let a = node.get(&format!("/api/v1/addresses/{address}")).json;
    (a["balance"].clone(), a["nonce"].clone())
}

fn parties() -> Vec<String> {
    (1..=5).map(address).collect()
}

fn build_pristine() -> Pristine {
    let dir = tempfile::tempdir().unwrap();
    let side_dir = tempfile::tempdir().unwrap();
    let mut node = NodeProcess::start("dev", dir.path(), &["--no-mine"]);
    node.generate(4, &address(1));
    // A side branch: another node mines a sibling of block 5.
    let other = NodeProcess::start("dev", side_dir.path(), &["--no-mine"]);
    let first = chain(&node);
    let raw = node.post("/p2p/blocks", &json!({ "hashes": first[1..] }));
    for block in raw.json["blocks"].as_array().unwrap() {
        assert_eq!(other.post("/api/v1/blocks", &json!({"raw_hex": block})).status, 202);
    }
    let side = other.generate(1, &address(5)).remove(0);
    let mut txids = Vec::new();
    for n in 0..6u64 {
        let t =
            transfer(Network::Dev.params(), &key(1, 0), account_of(&key(2 + (n % 3) as u8, 0)), 123_457 + n, 1_000, n);
        let r = node.post("/api/v1/txs", &json!({"raw_hex": t.encode_hex()}));
        assert_eq!(r.status, 202, "{}", r.body);
        txids.push(r.json["txid"].as_str().unwrap().to_owned());
        node.generate(1, &address(4));
    }
    let side_raw = other.post("/p2p/blocks", &json!({ "hashes": [side] }));
    let r = node.post("/api/v1/blocks", &json!({"raw_hex": side_raw.json["blocks"][0]}));
    assert_eq!(r.status, 202, "{}", r.body);
    node.generate(40, &address(5));
    let chain = chain(&node);
    let mut raw = Vec::new();
    for group in chain.chunks(64) {
        let r = node.post("/p2p/blocks", &json!({ "hashes": group }));
        raw.extend(r.json["blocks"].as_array().unwrap().iter().map(|b| b.as_str().unwrap().to_owned()));
    }
    let accounts = parties()
        .into_iter()
        .map(|a| {
            let (balance, nonce) = account(&node, &a);
            (a, balance, nonce)
        })
        .collect();
    let pristine = Pristine { tip: tip(&node), chain, accounts, txids, side, raw, dir };
    let (status, _) = node.stop_with("TERM", Duration::from_secs(10));
    assert!(status.success());
    pristine
}

impl Pristine {
    /// A copy of the data folder, to damage.
    fn copy(&self) -> tempfile::TempDir {
        let to = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(to.path().join("dev")).unwrap();
        std::fs::copy(store_of(self.dir.path()), store_of(to.path())).unwrap();
        to
    }

    /// Asserts `node` holds the whole story.
    #[track_caller]
    fn assert_same(&self, node: &NodeProcess) {
        assert_eq!(tip(node), self.tip, "{}", node.log());
        assert_eq!(chain(node), self.chain);
        for (a, balance, nonce) in &self.accounts {
            assert_eq!(account(node, a), (balance.clone(), nonce.clone()), "account {a}");
        }
        for txid in &self.txids {
            assert_eq!(node.get(&format!("/api/v1/txs/{txid}")).json["status"], "confirmed", "{txid}");
        }
        let side = node.get(&format!("/api/v1/blocks/{}", self.side));
        assert_eq!((side.status, side.json["main_chain"].as_bool()), (200, Some(false)), "the side block");
    }
}

/// Runs `oxminer run` on `dir` until it exits (it must, within the deadline); returns its status
/// and stderr.
fn run_to_exit(dir: &Path, extra: &[&str]) -> (ExitStatus, String) {
    run_to_exit_on("dev", dir, extra)
}

fn run_to_exit_on(network: &str, dir: &Path, extra: &[&str]) -> (ExitStatus, String) {
    let port = free_port().to_string();
    let out = Command::new(binary("oxminer"))
        .args(["run", "--network", network, "--no-mine", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + DEADLINE;
    let mut child = out;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            return (status, err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("oxminer kept running on a damaged store");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The refusal every damaged store must get: non-zero exit, the file named, the way out given.
#[track_caller]
fn assert_refused(case: &str, dir: &Path, status: ExitStatus, stderr: &str) {
    assert!(!status.success(), "{case}: the node exited 0:\n{stderr}");
    let last = stderr.lines().filter(|l| !l.contains(" INFO ")).collect::<Vec<_>>().join("\n");
    assert!(last.contains(&store_of(dir).display().to_string()), "{case}: the file is not named:\n{last}");
    assert!(last.contains("oxminer run --reindex"), "{case}: no recovery command:\n{last}");
    assert!(last.contains("restore a backup"), "{case}: no word on the unreadable case:\n{last}");
}

/// A way to damage the store's bytes.
type Damage = dyn Fn(&mut Vec<u8>);

fn find(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack.windows(needle.len()).enumerate().filter(|(_, w)| *w == needle).map(|(i, _)| i).collect()
}

fn damage(dir: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    let path = store_of(dir);
    let mut bytes = std::fs::read(&path).unwrap();
    f(&mut bytes);
    std::fs::write(&path, bytes).unwrap();
}

#[test]
fn a_damaged_store_stops_the_node_at_start_and_reindex_recovers_what_the_blocks_hold() {
    let pristine = build_pristine();
    let size = std::fs::metadata(store_of(pristine.dir.path())).unwrap().len();

    // Files redb itself cannot open: refused; reindex cannot read them either and says so.
    let cases: [(&str, Box<Damage>); 3] = [
        ("truncated to half", Box::new(move |b: &mut Vec<u8>| b.truncate(size as usize / 2))),
        ("truncated to 100 bytes", Box::new(|b: &mut Vec<u8>| b.truncate(100))),
        ("garbage over the file header", Box::new(|b: &mut Vec<u8>| b[..512].fill(0xa5))),
    ];
    for (case, how) in cases {
        let dir = pristine.copy();
        damage(dir.path(), how);
        let (status, err) = run_to_exit(dir.path(), &[]);
        assert_refused(case, dir.path(), status, &err);
        let (status, err) = run_to_exit(dir.path(), &["--reindex"]);
        assert!(!status.success(), "{case}: reindex of an unreadable file exited 0");
        assert!(err.contains("restore a backup") && err.contains("peers"), "{case}: {err}");
    }

    // A flipped byte in the newest block's body: the start check reads it back and refuses.
    let dir = pristine.copy();
    let tip_raw = hex::decode(pristine.raw.last().unwrap()).unwrap();
    damage(dir.path(), |bytes| {
        let at = find(bytes, &tip_raw);
        assert!(!at.is_empty(), "the tip block is in the file");
        for i in at {
            bytes[i + 80 + 20] ^= 0x01; // inside the coinbase: the Merkle root no longer matches
        }
    });
    let (status, err) = run_to_exit(dir.path(), &[]);
    assert_refused("flipped byte in the tip block", dir.path(), status, &err);
    assert!(err.contains("Merkle root"), "{err}");
    // Reindex keeps every block that still validates: all but the damaged tip, which a peer (or
    // anyone) can hand back.
    let mut node = NodeProcess::start("dev", dir.path(), &["--no-mine", "--reindex"]);
    assert_eq!(tip(&node), (pristine.tip.0 - 1, pristine.chain[pristine.chain.len() - 2].clone()));
    let r = node.post("/api/v1/blocks", &json!({"raw_hex": pristine.raw.last().unwrap()}));
    assert_eq!(r.status, 202, "{}", r.body);
    pristine.assert_same(&node);
    node.kill9();

    // A flipped byte in the index entry of a block deep in the chain: its header no longer
    // hashes to its key. Reindex rebuilds the index from the blocks: nothing is lost.
    let dir = pristine.copy();
    let deep = &pristine.chain[20];
    let header = hex::decode(&pristine.raw[20]).unwrap()[..80].to_vec();
    damage(dir.path(), |bytes| {
        let mut entry = header.clone();
        entry.extend_from_slice(&20u64.to_le_bytes());
        let at = find(bytes, &entry);
        assert!(!at.is_empty(), "the index entry of {deep} is in the file");
        for i in at {
            bytes[i + 76] ^= 0x01; // the nonce
        }
    });
    let (status, err) = run_to_exit(dir.path(), &[]);
    assert_refused("flipped byte in an index entry", dir.path(), status, &err);
    assert!(err.contains(deep.as_str()), "the block is named: {err}");
    let node = NodeProcess::start("dev", dir.path(), &["--no-mine", "--reindex"]);
    pristine.assert_same(&node);
    assert!(!store_of(dir.path()).with_extension("redb.old").exists(), "the replaced store is removed");
    assert!(!store_of(dir.path()).with_extension("redb.reindex").exists());
}

#[test]
fn reindex_rebuilds_the_same_state_and_repairs_a_damaged_account() {
    let pristine = build_pristine();
    // Reindexing a healthy store changes nothing.
    let dir = pristine.copy();
    let mut node = NodeProcess::start("dev", dir.path(), &["--no-mine", "--reindex"]);
    pristine.assert_same(&node);
    assert!(node.log().contains("reindex done"), "{}", node.log());
    node.kill9();

    // An account record overwritten on disk (its 16 bytes: balance, nonce) is not something a
    // start can see — the value is plausible — but reindex recomputes it from the blocks.
    let dir = pristine.copy();
    let (victim, balance, nonce) = pristine.accounts[2].clone();
    let record: Vec<u8> = [balance.as_u64().unwrap().to_le_bytes(), nonce.as_u64().unwrap().to_le_bytes()].concat();
    damage(dir.path(), |bytes| {
        let at = find(bytes, &record);
        assert!(!at.is_empty(), "the account record of {victim} is in the file");
        for i in at {
            bytes[i + 5] ^= 0x40;
        }
    });
    let mut node = NodeProcess::start("dev", dir.path(), &["--no-mine"]);
    assert_ne!(account(&node, &victim).0, balance, "the damage took effect");
    let (status, _) = node.stop_with("TERM", Duration::from_secs(10));
    assert!(status.success());
    let node = NodeProcess::start("dev", dir.path(), &["--no-mine", "--reindex"]);
    pristine.assert_same(&node);
}

#[test]
fn a_sound_store_of_another_network_is_refused_without_the_advice_for_damage() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = NodeProcess::start("dev", dir.path(), &["--no-mine"]);
    let (status, _) = node.stop_with("TERM", Duration::from_secs(10));
    assert!(status.success());
    let misplaced = dir.path().join("test");
    std::fs::create_dir_all(&misplaced).unwrap();
    std::fs::copy(store_of(dir.path()), misplaced.join("chain.redb")).unwrap();
    let (status, err) = run_to_exit_on("test", dir.path(), &[]);
    assert!(!status.success(), "the node started on another network's store:\n{err}");
    assert!(err.contains("belongs to network \"dev\", not test"), "{err}");
    // The file is sound: no word of damage, and no reindex, which would refuse it too.
    assert!(!err.contains("cannot be trusted") && !err.contains("--reindex"), "{err}");
}

/// A small tmpfs mounted for the test, unmounted when dropped; or, where mounting is refused,
/// nothing (the node then runs under a file-size limit).
struct SmallDisk {
    mount: Option<PathBuf>,
}

impl SmallDisk {
    fn try_mount(at: &Path) -> Self {
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=8m", "tmpfs"])
            .arg(at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        Self { mount: mounted.then(|| at.to_owned()) }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if let Some(at) = &self.mount {
            let _ = Command::new("umount").arg(at).status();
        }
    }
}

fn free_bytes(dir: &Path) -> u64 {
    let out = Command::new("df").args(["-B1", "--output=avail"]).arg(dir).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().nth(1).and_then(|l| l.trim().parse().ok()).unwrap()
}

/// Starts the node with its log outside `data` (which fills up), under `limit` bytes per file
/// when given.
fn spawn_node(data: &Path, log: &Path, port: u16, limit: Option<u64>) -> Child {
    let oxminer = binary("oxminer");
    let mut args: Vec<String> = vec![
        "run".into(),
        "--network".into(),
        "dev".into(),
        "--no-mine".into(),
        "--data-dir".into(),
        data.display().to_string(),
        "--listen".into(),
        format!("127.0.0.1:{port}"),
    ];
    let mut command = match limit {
        None => Command::new(oxminer),
        Some(bytes) => {
            // Ignored SIGXFSZ survives exec: the write fails with EFBIG instead of killing the node.
            let mut c = Command::new("sh");
            c.args(["-c", "trap '' XFSZ; exec prlimit --fsize=\"$0\" -- \"$@\"", &bytes.to_string()]);
            c.arg(oxminer);
            c
        }
    };
    command.args(args.drain(..));
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    let mut child =
        command.env("RUST_LOG", "warn").stdin(Stdio::null()).stdout(Stdio::null()).stderr(log).spawn().unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + DEADLINE;
    while http(addr, "GET", "/api/v1/status", None, &[]).map_or(true, |r| r.status != 200) {
        assert!(child.try_wait().unwrap().is_none(), "the node exited at start");
        assert!(Instant::now() < deadline, "the node did not answer");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

#[test]
fn a_full_disk_stops_the_node_and_after_freeing_space_nothing_shown_is_lost() {
    full_disk(true);
}

/// The same under a file-size limit, so that path runs everywhere too.
#[test]
fn a_file_size_limit_stops_the_node_and_after_lifting_it_nothing_shown_is_lost() {
    full_disk(false);
}

fn full_disk(mount: bool) {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("disk");
    std::fs::create_dir_all(&data).unwrap();
    let disk = if mount { SmallDisk::try_mount(&data) } else { SmallDisk { mount: None } };
    let log = root.path().join("node.log");
    let port = free_port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut child = if disk.mount.is_some() {
        println!("full disk: an 8 MiB tmpfs at {}", data.display());
        let child = spawn_node(&data, &log, port, None);
        // Leave the store about 300 KiB to grow into.
        let filler = vec![0u8; (free_bytes(&data).saturating_sub(300 * 1024)) as usize];
        std::fs::write(data.join("filler"), filler).unwrap();
        child
    } else {
        let limit = std::fs::metadata(store_of(&data)).map_or(0, |m| m.len()).max(256 * 1024) + 300 * 1024;
        if mount {
            println!("full disk: mounting a tmpfs is not permitted here; a file-size limit of {limit} bytes instead");
        }
        spawn_node(&data, &log, port, Some(limit))
    };
    let cookie = std::fs::read_to_string(data.join("dev").join(".cookie")).unwrap();
    let auth = format!("Bearer {cookie}");

    // Blocks with transfers until the disk is full.
    let mut shown = Vec::new();
    let mut nonce = 0;
    let request =
        |path: &str, body: &Value| http(addr, "POST", path, Some(&body.to_string()), &[("Authorization", &auth)]);
    let full = loop {
        assert!(shown.len() < 100_000, "the disk never filled");
        if nonce < 500 && shown.len() > 3 {
            let t = transfer(Network::Dev.params(), &key(1, 0), account_of(&key(2, 0)), 1_000, 1_000, nonce);
            if request("/api/v1/txs", &json!({"raw_hex": t.encode_hex()})).is_ok_and(|r| r.status == 202) {
                nonce += 1;
            }
        }
        match request("/api/v1/dev/generate", &json!({"count": 10, "address": address(1)})) {
            Ok(r) if r.status == 200 => {
                shown.extend(r.json["hashes"].as_array().unwrap().iter().map(|h| h.as_str().unwrap().to_owned()));
            }
            Ok(r) => break r,
            Err(e) => panic!("the node died without answering: {e}"),
        }
    };
    assert_eq!(full.status, 500, "{}", full.body);
    // The node stops by itself, non-zero, saying what happened.
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the node did not stop after the disk filled");
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!status.success(), "exit status {status}:\n{text}");
    assert!(text.contains("refuses writes after an I/O error"), "{text}");
    assert!(text.contains(&store_of(&data).display().to_string()) && text.contains("free space"), "{text}");
    println!("stopped after {} blocks shown", shown.len());

    // Space freed (or no limit): the node restarts with everything it showed.
    let _ = std::fs::remove_file(data.join("filler"));
    let node = NodeProcess::start("dev", &data, &["--no-mine"]);
    let height = tip(&node).0;
    assert!(height as usize >= shown.len(), "height {height} below the {} blocks shown", shown.len());
    let best = chain(&node);
    for hash in &shown {
        let block = node.get(&format!("/api/v1/blocks/{hash}"));
        assert_eq!((block.status, &block.json["main_chain"]), (200, &json!(true)), "shown block {hash} lost");
    }
    for pair in best.windows(2) {
        let block = node.get(&format!("/api/v1/blocks/{}", pair[1]));
        assert_eq!(block.json["prev_hash"].as_str(), Some(pair[0].as_str()));
    }
    assert_eq!(node.generate(1, &address(1)).len(), 1, "the node writes again");
    drop(node);
    drop(disk);
}
