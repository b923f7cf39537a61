//! `oxminer devnet`, run as a real process: three peered nodes and two funded wallets come up,
//! the printed `oxwallet send` line works as printed, Ctrl-C stops every node, and bad flags,
//! a busy port or a node that cannot start are refused with a message.

use oxcoin_tests::{binary, http};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the devnet may take to come up, and anything after it to happen.
const DEADLINE: Duration = Duration::from_secs(120);

fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://").trim_end_matches('/').parse().expect("a socket address in the url")
}

#[test]
fn a_devnet_comes_up_funded_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(binary("oxminer"))
        .args(["devnet", "--nodes", "3", "--wallets", "2", "--base-port", "0", "--dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("oxminer starts");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    while !lines.iter().any(|l: &String| l.contains("Ctrl-C")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => panic!("the devnet did not come up:\n{}", lines.join("\n")),
        }
    }
    let text = lines.join("\n");
    let nodes: Vec<SocketAddr> = lines
        .iter()
        .filter_map(|l| l.split_whitespace().skip_while(|w| *w != "dashboard").nth(1))
        .map(addr_of)
        .collect();
    assert_eq!(nodes.len(), 3, "{text}");

    // Every node on the same tip, each with a peer, and every dashboard served.
    let tips: Vec<String> = nodes
        .iter()
        .map(|a| http(*a, "GET", "/api/v1/status", None, &[]).unwrap().json["best_hash"].as_str().unwrap().to_owned())
        .collect();
    assert!(tips.windows(2).all(|w| w[0] == w[1]), "{tips:?}");
    for addr in &nodes {
        let status = http(*addr, "GET", "/api/v1/status", None, &[]).unwrap().json;
        assert!(status["peers"].as_u64() >= Some(1), "{addr}: {status}");
        assert_eq!(http(*addr, "GET", "/", None, &[]).unwrap().status, 200);
    }

    // The wallets are funded and the printed send line works as printed (plus --yes: no TTY).
    let send = lines.iter().find(|l| l.contains("oxwallet ") && l.contains(" send ")).expect("a send line");
    let words: Vec<&str> = send.split_whitespace().skip(1).collect();
    let out = Command::new(binary("oxwallet")).args(&words).arg("--yes").output().unwrap();
    assert!(out.status.success(), "{send}\n{}", String::from_utf8_lossy(&out.stderr));
    let txid = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or("").trim().to_owned();
    let known_everywhere = || {
        nodes.iter().all(|a| {
            let status = http(*a, "GET", &format!("/api/v1/txs/{txid}"), None, &[]).unwrap().json["status"].clone();
            status == "pending" || status == "confirmed"
        })
    };
    while !known_everywhere() {
        assert!(Instant::now() < deadline, "transfer {txid} did not reach every node");
        std::thread::sleep(Duration::from_millis(100));
    }

    // Ctrl-C: the devnet and every node stop, exit 0.
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the devnet did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    for addr in &nodes {
        assert!(TcpStream::connect_timeout(addr, Duration::from_secs(1)).is_err(), "node {addr} still listens");
    }
}

#[test]
fn bad_devnet_flags_and_a_busy_port_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out =
            Command::new(binary("oxminer")).arg("devnet").args(args).arg("--dir").arg(dir.path()).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (ok, stderr) = run(&["--nodes", "0"]);
    assert!(!ok && stderr.contains("--nodes"), "{stderr}");
    let (ok, stderr) = run(&["--wallets", "9"]);
    assert!(!ok && stderr.contains("--wallets"), "{stderr}");
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let (ok, stderr) = run(&["--nodes", "1", "--base-port", &port]);
    assert!(!ok && stderr.contains("busy"), "{stderr}");
    // A node that cannot start (its store is not a database): refused, naming its log; the node,
    // already reaped, is not signalled again (its pid may be another process's by then).
    let store = dir.path().join("node-0").join("dev");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::write(store.join("chain.redb"), b"not a database, just bytes").unwrap();
    let (ok, stderr) = run(&["--nodes", "1", "--base-port", "0"]);
    assert!(!ok && stderr.contains("node 0 did not start") && stderr.contains("oxminer.log"), "{stderr}");
    assert!(!stderr.contains("kill"), "an exited node was signalled: {stderr}");
}
