//! The node as a real process: blocks on demand, transfers, balances and history, crash and
//! graceful stop, restart without loss, configuration layering and the zero-config start.

use oxcoin::testkit::{account_of, key, transfer};
use oxcoin::{Address, Encode, Network};
use oxcoin_tests::{NodeProcess, binary, free_port, http};
use serde_json::json;
use std::process::Command;
use std::time::Duration;

fn address(seed: u8) -> String {
    Address::new(Network::Dev, account_of(&key(seed, 0))).to_string()
}

fn dev_node(dir: &std::path::Path) -> NodeProcess {
    NodeProcess::start("dev", dir, &["--no-mine"])
}

fn post_transfer(node: &NodeProcess, t: &oxcoin::Transfer) -> oxcoin_tests::Response {
    node.post("/api/v1/txs", &json!({"raw_hex": t.encode_hex()}))
}

#[test]
fn blocks_transfers_balances_and_history_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let node = dev_node(dir.path());
    let alice = key(1, 0);
    let bob = address(2);
    node.generate(3, &address(1)); // rewards of blocks 1..=3; maturity 2 credits block 1 at height 3
    let status = node.get("/api/v1/status");
    assert_eq!((status.json["network"].as_str(), status.json["height"].as_u64()), (Some("dev"), Some(3)));

    let t = transfer(Network::Dev.params(), &alice, account_of(&key(2, 0)), 5 * 100_000_000, 1_000, 0);
    let r = post_transfer(&node, &t);
    assert_eq!(r.status, 202, "{}", r.body);
    let txid = r.json["txid"].as_str().unwrap().to_owned();
    let pending = node.get(&format!("/api/v1/txs/{txid}"));
    assert_eq!(pending.json["status"], "pending", "{}", pending.body);
    let a = node.get(&format!("/api/v1/addresses/{}", address(1)));
    assert_eq!(a.json["next_nonce"], 1, "{}", a.body);
    assert_eq!(a.json["pending_out"], 5 * 100_000_000 + 1_000);

    node.generate(1, &address(9));
    let confirmed = node.get(&format!("/api/v1/txs/{txid}"));
    assert_eq!(confirmed.json["status"], "confirmed", "{}", confirmed.body);
    assert_eq!(confirmed.json["confirmations"], 1);
    let b = node.get(&format!("/api/v1/addresses/{bob}"));
    assert_eq!(b.json["balance"], 5 * 100_000_000, "{}", b.body);
    let history = node.get(&format!("/api/v1/addresses/{bob}/txs"));
    let rows = history.json.as_array().or_else(|| history.json["txs"].as_array()).expect("history rows").clone();
    assert_eq!(rows.len(), 1, "{}", history.body);
    assert_eq!(rows[0]["direction"], "in");
    assert_eq!(rows[0]["counterparty"], address(1));

    // A refused transfer changes nothing.
    let again = post_transfer(&node, &t);
    assert_eq!((again.status, again.code()), (409, "duplicate"), "{}", again.body);
    let broke = transfer(Network::Dev.params(), &key(3, 0), account_of(&alice), 1, 1_000, 0);
    let r = post_transfer(&node, &broke);
    assert_eq!((r.status, r.code()), (422, "insufficient_funds"), "{}", r.body);
    assert_eq!(node.get("/api/v1/mempool").json["count"], 0);
}

#[test]
fn kill_9_loses_nothing_committed_and_sigterm_stops_cleanly_keeping_the_mempool() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = dev_node(dir.path());
    node.generate(5, &address(1));
    let tip = node.get("/api/v1/blocks/tip").json["hash"].clone();
    let balance = node.get(&format!("/api/v1/addresses/{}", address(1))).json["balance"].clone();

    node.kill9();
    node.restart();
    assert_eq!(node.get("/api/v1/blocks/tip").json["hash"], tip, "the tip the API showed survives kill -9");
    assert_eq!(node.get(&format!("/api/v1/addresses/{}", address(1))).json["balance"], balance);

    let t = transfer(Network::Dev.params(), &key(1, 0), account_of(&key(2, 0)), 1_000, 1_000, 0);
    assert_eq!(post_transfer(&node, &t).status, 202);
    let (status, took) = node.stop_with("TERM", Duration::from_secs(5));
    assert!(status.success(), "exit status {status}:\n{}", node.log());
    assert!(took < Duration::from_secs(5), "{took:?}");
    node.restart();
    assert_eq!(node.get("/api/v1/mempool").json["count"], 1, "the mempool is saved and reloaded");
    let (status, _) = node.stop_with("INT", Duration::from_secs(5));
    assert!(status.success());
}

#[test]
fn a_mining_dev_node_mines_at_its_pace_and_stops_within_five_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let reward = address(4);
    let mut node = NodeProcess::start("dev", dir.path(), &["--threads", "1", "--reward-address", &reward]);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while node.get("/api/v1/status").json["height"].as_u64().unwrap_or(0) < 2 {
        assert!(std::time::Instant::now() < deadline, "no blocks mined:\n{}", node.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = node.get("/api/v1/status");
    assert_eq!(status.json["mining"]["enabled"], true, "{}", status.body);
    let tip = node.get("/api/v1/blocks/tip");
    assert_eq!(tip.json["txs"][0]["to"], reward.as_str(), "{}", tip.body);
    let (status, took) = node.stop_with("TERM", Duration::from_secs(5));
    assert!(status.success() && took < Duration::from_secs(5), "{status} after {took:?}");
}

#[test]
fn settings_layer_file_under_environment_under_flags() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("node.toml");
    let flag_port = free_port();
    std::fs::write(&config, format!("network = \"test\"\nmine = false\nlisten = \"127.0.0.1:{}\"\n", free_port()))
        .unwrap();
    // File says test; the environment says dev; the flag sets the port.
    let out = Command::new(binary("oxminer"))
        .args(["run", "--config", config.to_str().unwrap(), "--data-dir", dir.path().to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{flag_port}")])
        .env("OXMINER_NETWORK", "dev")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Guard(out);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], flag_port));
    let mut answered = None;
    for _ in 0..600 {
        if let Ok(r) = http(addr, "GET", "/api/v1/status", None, &[]) {
            answered = Some(r);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let r = answered.expect("the node listens on the flag's port");
    assert_eq!(r.json["network"], "dev", "environment beats the file");
    assert_eq!(r.json["mining"]["enabled"], false, "the file beats the default");
    let _ = child.0.kill();
}

struct Guard(std::process::Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_typo_in_the_config_file_stops_the_node_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("node.toml");
    std::fs::write(&config, "netwrok = \"dev\"\n").unwrap();
    let out = Command::new(binary("oxminer"))
        .args(["run", "--config", config.to_str().unwrap(), "--data-dir", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("netwrok"), "{stderr}");
}

#[test]
fn zero_config_start_mines_on_main_with_a_private_default_wallet() {
    let home = tempfile::tempdir().unwrap();
    let port_free = std::net::TcpListener::bind("127.0.0.1:8334").is_ok();
    if !port_free {
        eprintln!("port 8334 is busy on this machine; the zero-config start needs it");
        return;
    }
    let child = Command::new(binary("oxminer"))
        .env("HOME", home.path())
        .env_remove("XDG_DATA_HOME")
        .env("OXMINER_THREADS", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Guard(child);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 8334));
    let mut status = None;
    for _ in 0..600 {
        if let Ok(r) = http(addr, "GET", "/api/v1/status", None, &[]) {
            status = Some(r);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = status.expect("the zero-config node answers on 127.0.0.1:8334");
    assert_eq!(status.json["network"], "main");
    assert_eq!(status.json["mining"]["enabled"], true, "{}", status.body);
    let main_dir = home.path().join(".local/share/oxcoin/main");
    let wallet = main_dir.join("default.json");
    assert!(wallet.exists(), "default wallet in {}", main_dir.display());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&wallet).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(main_dir.join(".cookie")).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let keyfile = oxcoin::keyfile::Keyfile::from_json(&std::fs::read(&wallet).unwrap()).unwrap();
    assert!(keyfile.address().to_string().starts_with("ox1"));
    Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    let started = std::time::Instant::now();
    let exit = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "did not stop within 5 s");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.0.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("UNENCRYPTED") && stderr.contains("encrypt"), "{stderr}");
}

#[test]
fn mining_switched_on_through_the_admin_api_creates_the_default_wallet_and_mines() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start("dev", dir.path(), &["--no-mine", "--threads", "1"]);
    assert!(!node.network_dir().join("default.json").exists(), "no wallet for a node that does not mine");
    let unauthorized = node.post("/api/v1/admin/mining", &json!({"enabled": true}));
    assert_eq!((unauthorized.status, unauthorized.code()), (401, "unauthorized"));
    let r = node.post_admin("/api/v1/admin/mining", &json!({"enabled": true}));
    assert_eq!((r.status, &r.json["enabled"]), (200, &json!(true)), "{}", r.body);
    assert!(node.network_dir().join("default.json").exists());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while node.get("/api/v1/status").json["height"].as_u64().unwrap_or(0) < 1 {
        assert!(std::time::Instant::now() < deadline, "no block mined:\n{}", node.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = node.post_admin("/api/v1/admin/mining", &json!({"enabled": false}));
    assert_eq!(r.json["enabled"], false, "{}", r.body);
    assert_eq!(node.get("/api/v1/status").json["mining"]["enabled"], false);
}
