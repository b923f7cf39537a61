//! `oxminer devnet`: a local dev network in one command. Starts `--nodes` dev nodes on
//! loopback as child processes of this binary (node 0 mines with one thread, each later node
//! peers with every earlier one), creates `--wallets` unencrypted wallets where `oxwallet`
//! finds them, funds each with mined blocks, prints the dashboards, the wallets and a
//! ready-to-paste `oxwallet send` line, and stops every node cleanly on Ctrl-C (or SIGTERM).
//!
//! Everything lives in one folder (default `<data dir>/devnet`): `node-<i>/` for each node's
//! data (its log in `node-<i>/oxminer.log`) and `wallets/dev/<name>.json`. A second run reuses
//! the folder (same chain, same wallets); `--fresh` starts over.

use crate::node::write_atomically;
use anyhow::{Context, bail};
use oxcoin::keyfile::Keyfile;
use oxcoin::{Address, Network};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Names given to the devnet's wallets, in order.
const WALLET_NAMES: [&str; 8] = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
/// Most nodes one devnet runs.
pub const MAX_NODES: usize = 8;
/// How long a node may take to answer its first request.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the nodes may take to agree on a tip.
const AGREE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a node may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Timeout of each request to a node.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Flags of `oxminer devnet`.
#[derive(Debug, Clone, clap::Args)]
pub struct DevnetArgs {
    /// How many nodes (1 to 8).
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// How many funded wallets (0 to 8), named alice, bob, carol, …
    #[arg(long, default_value_t = 2)]
    pub wallets: usize,
    /// Folder for the nodes' data and the wallets (default: `<data dir>/devnet`).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Port of node 0 on 127.0.0.1; node i listens on this + i. 0 picks free ports.
    #[arg(long, default_value_t = 18334)]
    pub base_port: u16,
    /// Delete the folder first: a new chain and new wallets.
    #[arg(long)]
    pub fresh: bool,
}

/// A running node of the devnet.
struct DevNode {
    addr: SocketAddr,
    data_dir: PathBuf,
    child: Child,
}

impl DevNode {
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The nodes, stopped with SIGTERM (then killed) however `run` ends.
struct Nodes(Vec<DevNode>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for node in &mut self.0 {
            // Only a child still running: one already reaped (a node that failed to start) may
            // have its pid reused by another process by now.
            if let Ok(None) = node.child.try_wait() {
                let _ =
                    Command::new("kill").args(["-TERM", &node.child.id().to_string()]).stderr(Stdio::null()).status();
            }
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        for node in &mut self.0 {
            loop {
                match node.child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() > deadline => {
                        let _ = node.child.kill();
                        let _ = node.child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        }
    }
}

/// Runs the devnet until Ctrl-C or SIGTERM.
///
/// # Errors
/// Bad flags, a busy port, a node that does not start or stops by itself, or I/O failures.
pub fn run(args: &DevnetArgs) -> anyhow::Result<()> {
    if !(1..=MAX_NODES).contains(&args.nodes) {
        bail!("--nodes: expected 1 to {MAX_NODES}, got {}", args.nodes);
    }
    if args.wallets > WALLET_NAMES.len() {
        bail!("--wallets: expected 0 to {}, got {}", WALLET_NAMES.len(), args.wallets);
    }
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => crate::config::default_data_dir()
            .context("no platform data folder on this system: pass --dir")?
            .join("devnet"),
    };
    if args.fresh && dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    crate::create_private_dir(&dir)?;
    let ports = ports(args.base_port, args.nodes)?;
    let wallets = wallets(&dir.join("wallets"), args.wallets)?;
    let exe = std::env::current_exe().context("finding the oxminer binary")?;

    let mut nodes = Nodes(Vec::with_capacity(args.nodes));
    for (i, port) in ports.iter().enumerate() {
        let addr = SocketAddr::from(([127, 0, 0, 1], *port));
        let data_dir = dir.join(format!("node-{i}"));
        crate::create_private_dir(&data_dir)?;
        let log_path = data_dir.join("oxminer.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let mut command = Command::new(&exe);
        command.args(["run", "--network", "dev", "--listen", &addr.to_string()]).arg("--data-dir").arg(&data_dir);
        if i == 0 {
            command.args(["--threads", "1"]);
        } else {
            command.arg("--no-mine");
        }
        for earlier in &nodes.0 {
            command.args(["--peer", &earlier.url()]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting node {i}"))?;
        nodes.0.push(DevNode { addr, data_dir, child });
    }

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let client = awc::Client::builder().timeout(REQUEST_TIMEOUT).finish();
        for (i, node) in nodes.0.iter_mut().enumerate() {
            wait_ready(&client, node).await.with_context(|| format!("node {i} did not start"))?;
        }
        let first = &nodes.0[0];
        let cookie_path = first.data_dir.join("dev").join(crate::node::COOKIE_FILE);
        let cookie =
            std::fs::read_to_string(&cookie_path).with_context(|| format!("reading {}", cookie_path.display()))?;
        fund(&client, first, cookie.trim(), &wallets).await?;
        let height = agree(&client, &nodes.0).await?;
        print_summary(&dir, &nodes.0, &wallets, height);
        watch(&mut nodes.0).await
    })
}

/// The ports to listen on: `base + i`, each checked free now, or free ports picked by the
/// system when `base` is 0.
fn ports(base: u16, count: usize) -> anyhow::Result<Vec<u16>> {
    let mut held = Vec::with_capacity(count);
    for i in 0..count {
        let port = if base == 0 {
            0
        } else {
            base.checked_add(i as u16).with_context(|| format!("--base-port {base}: too high for {count} nodes"))?
        };
        let listener = TcpListener::bind(("127.0.0.1", port))
            .with_context(|| format!("port {port} on 127.0.0.1 is busy: stop what uses it or pass --base-port"))?;
        held.push(listener);
    }
    // Released only now, so the free ports picked are all different.
    held.iter().map(|l| Ok(l.local_addr()?.port())).collect()
}

/// The devnet's wallets: read when they exist, else created unencrypted (mode 0600), as
/// `oxwallet --network dev --data-dir <wallets>` expects them.
fn wallets(wallet_dir: &Path, count: usize) -> anyhow::Result<Vec<(String, Address)>> {
    let folder = wallet_dir.join(Network::Dev.as_str());
    crate::create_private_dir(wallet_dir)?;
    crate::create_private_dir(&folder)?;
    WALLET_NAMES[..count]
        .iter()
        .map(|name| {
            let path = folder.join(format!("{name}.json"));
            let keyfile = if path.exists() {
                let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                Keyfile::from_json(&bytes).with_context(|| format!("reading keyfile {}", path.display()))?
            } else {
                let secret = zeroize::Zeroizing::new(crate::random_bytes::<32>()?);
                let keyfile = Keyfile::new_plain(name, Network::Dev, &ed25519_dalek::SigningKey::from_bytes(&secret))?;
                write_atomically(&path, &keyfile.to_json(), 0o600)
                    .with_context(|| format!("writing {}", path.display()))?;
                keyfile
            };
            if keyfile.network() != Network::Dev {
                bail!("keyfile {} belongs to network {}", path.display(), keyfile.network());
            }
            Ok(((*name).to_owned(), keyfile.address()))
        })
        .collect()
}

async fn get_json(client: &awc::Client, url: &str) -> anyhow::Result<serde_json::Value> {
    let mut response = client.get(url).send().await.map_err(|e| anyhow::anyhow!("GET {url}: {e}"))?;
    let body = response.json::<serde_json::Value>().await.map_err(|e| anyhow::anyhow!("GET {url}: {e}"))?;
    if !response.status().is_success() {
        bail!("GET {url}: {} {body}", response.status());
    }
    Ok(body)
}

/// Waits until `node` answers `/status`, failing early when its process ends.
async fn wait_ready(client: &awc::Client, node: &mut DevNode) -> anyhow::Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    let url = format!("{}/api/v1/status", node.url());
    loop {
        if let Some(status) = node.child.try_wait()? {
            bail!("it exited ({status}); see {}", node.data_dir.join("oxminer.log").display());
        }
        if get_json(client, &url).await.is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("no answer within {START_TIMEOUT:?}; see {}", node.data_dir.join("oxminer.log").display());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Mines blocks on node 0 paying each wallet, then enough more for the last rewards to mature.
async fn fund(client: &awc::Client, node: &DevNode, cookie: &str, wallets: &[(String, Address)]) -> anyhow::Result<()> {
    let maturity = Network::Dev.params().coinbase_maturity;
    let url = format!("{}/api/v1/dev/generate", node.url());
    for (i, (_, address)) in wallets.iter().enumerate() {
        let count = if i + 1 == wallets.len() { 2 + maturity } else { 2 };
        let body = serde_json::json!({ "count": count, "address": address.to_string() });
        let mut response = client
            .post(&url)
            .bearer_auth(cookie)
            .send_json(&body)
            .await
            .map_err(|e| anyhow::anyhow!("funding {address}: {e}"))?;
        if !response.status().is_success() {
            let text = response.body().await.unwrap_or_default();
            bail!("funding {address}: {} {}", response.status(), String::from_utf8_lossy(&text));
        }
    }
    Ok(())
}

/// Waits until every node has node 0's tip; returns its height.
async fn agree(client: &awc::Client, nodes: &[DevNode]) -> anyhow::Result<u64> {
    let deadline = Instant::now() + AGREE_TIMEOUT;
    loop {
        let mut tips = Vec::with_capacity(nodes.len());
        for node in nodes {
            let status = get_json(client, &format!("{}/api/v1/status", node.url())).await?;
            tips.push((status["height"].as_u64().unwrap_or(0), status["best_hash"].as_str().unwrap_or("").to_owned()));
        }
        if tips.windows(2).all(|w| w[0].1 == w[1].1) {
            return Ok(tips[0].0);
        }
        if Instant::now() > deadline {
            bail!("the nodes did not agree on a tip within {AGREE_TIMEOUT:?}: {tips:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn print_summary(dir: &Path, nodes: &[DevNode], wallets: &[(String, Address)], height: u64) {
    println!("OxCoin devnet ready: {} nodes at height {height}, data in {}", nodes.len(), dir.display());
    for (i, node) in nodes.iter().enumerate() {
        let role = if i == 0 { "mining" } else { "peer" };
        println!(
            "  node {i}  dashboard {}/  ({role}; log {})",
            node.url(),
            node.data_dir.join("oxminer.log").display()
        );
    }
    let wallet_dir = dir.join("wallets");
    if !wallets.is_empty() {
        println!("Wallets (unencrypted, dev only) in {}:", wallet_dir.join("dev").display());
        for (name, address) in wallets {
            println!("  {name:<6} {address}");
        }
    }
    let node = nodes.last().map_or_else(String::new, DevNode::url);
    if let [(from, _), (_, to), ..] = wallets {
        println!("Try:");
        println!(
            "  oxwallet --network dev --data-dir {} --node {node} send --wallet {from} --to {to} --amount 1.5",
            wallet_dir.display()
        );
    }
    println!("Ctrl-C stops every node.");
}

/// Waits for Ctrl-C or SIGTERM (then the nodes are stopped by [`Nodes`]' drop), or fails when
/// a node stops by itself.
async fn watch(nodes: &mut [DevNode]) -> anyhow::Result<()> {
    let signal = crate::shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal => {
                println!("stopping the devnet");
                return Ok(());
            }
            () = tokio::time::sleep(Duration::from_millis(500)) => {
                for (i, node) in nodes.iter_mut().enumerate() {
                    if let Some(status) = node.child.try_wait()? {
                        bail!("node {i} stopped ({status}); see {}", node.data_dir.join("oxminer.log").display());
                    }
                }
            }
        }
    }
}
