//! `load_txs`: the `POST /txs` ingest benchmark — funds senders on a dev node, pre-signs transfers,
//! posts them over keep-alive HTTP/1.1 connections and sets the rate beside the same transfers
//! verified in-process.
//!
//! The node runs as its own process (spawned on a free port in a temp dir, or attached with
//! `--node` and `--cookie`); the client is plain blocking `std::net` so that it costs little of
//! the two cores it shares with the node. Each client thread keeps its connections busy round-robin:
//! one request in flight per connection, the next sent as soon as its answer is read. A latency is
//! measured from writing a request to reading the end of its answer, so it includes the time the
//! answer waited behind the answers of the thread's other connections (an upper bound).
//!
//! With `--litecoind` the same client then loads Litecoin Core (`litecoind -regtest`, prepared,
//! cached and served by `bench/litecoind_ingest.py`) with as many pre-signed payments, one JSON-RPC
//! `sendrawtransaction` per request, and reports OxCoin ÷ litecoind (issue 7: ≥ 4); only the
//! request bytes and the test of an answer differ. `--litecoind-rpc` loads a running litecoind
//! alone. Without `--json`, the run ends with one `BENCH {…}` line per figure on stdout, for
//! `bench/all.sh`.

use anyhow::{Context, bail, ensure};
use clap::Parser;
use ed25519_dalek::SigningKey;
use oxcoin::encode::{Decode, Encode};
use oxcoin::testkit::{account_of, key, transfer};
use oxcoin::{AccountId, Address, ChainParams, Network, Transfer, Tx, rules};
use oxcoin_tests::bench::BenchLine;
use oxcoin_tests::procfs::{self, MachineCpu};
use oxcoin_tests::{free_port, http};
use rayon::prelude::*;
use serde_json::{Value, json};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Nonces past the account's that the mempool queues per sender (SPEC §4).
const NONCE_WINDOW: usize = 64;
/// Transfers each sender signs at most: inside the window with room to spare.
const MAX_PER_SENDER: usize = 60;
/// Fee of every transfer, in grains: above 1 grain per byte for any memo-less transfer.
const FEE: u64 = 1_000;
/// Largest amount a load transfer moves, in grains (each moves 1 to this many).
const MAX_AMOUNT: u64 = 1_000;
/// Goal of issue 7 for OxCoin's ingest over litecoind's, same load and client.
const GOAL_LITECOIND: f64 = 4.0;
/// Ingest goal of issue 3, in transfers per second.
const GOAL_RATE: f64 = 10_000.0;
/// p99 latency goal of issue 3, in microseconds.
const GOAL_P99_US: u64 = 20_000;

/// Measures `POST /api/v1/txs` ingest on a dev node against in-process verification of the same
/// transfers.
///
/// Spawns `oxminer run --network dev --no-mine` from the same target folder (building it if
/// needed) unless `--node` is given; funds the senders with `POST /api/v1/dev/generate` and
/// fan-out transfers; pre-signs the load (untimed); then posts it over keep-alive connections.
/// Any answer other than 202 fails the run.
#[derive(Parser, Debug)]
#[command(name = "load_txs", version)]
struct Args {
    /// Attach to a running dev node at this URL (e.g. http://127.0.0.1:28334) instead of spawning one.
    #[arg(long, requires = "cookie")]
    node: Option<String>,
    /// The attached node's admin token file (`<data-dir>/dev/.cookie`).
    #[arg(long, requires = "node")]
    cookie: Option<PathBuf>,
    /// The `oxminer` to spawn (e.g. another build to compare) [default: the one next to this
    /// executable, built first].
    #[arg(long, conflicts_with = "node")]
    oxminer: Option<PathBuf>,
    /// Funded accounts that send the load.
    #[arg(long, default_value_t = 1_000)]
    senders: usize,
    /// Transfers posted in the timed phase (at most 60 per sender).
    #[arg(long, default_value_t = 60_000)]
    count: usize,
    /// Keep-alive HTTP/1.1 connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Client threads, each keeping its share of the connections busy [default: min(connections, 8)].
    #[arg(long)]
    threads: Option<usize>,
    /// Seed of the keys; give another one to run again against the same attached node [default: from the clock].
    #[arg(long)]
    seed: Option<u8>,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// After the OxCoin run, post the same number of payments to Litecoin Core (`litecoind
    /// -regtest`, prepared, cached and served by `bench/litecoind_ingest.py`; needs `litecoind` and
    /// python3) with the same client, one `sendrawtransaction` per request, and print OxCoin ÷ litecoind.
    #[arg(long)]
    litecoind: bool,
    /// The litecoind script [default: bench/litecoind_ingest.py of this source tree].
    #[arg(long)]
    litecoind_script: Option<PathBuf>,
    /// An extra flag for the served litecoind, e.g. `--litecoind-arg=-rpcthreads=16` (repeatable).
    #[arg(long, allow_hyphen_values = true)]
    litecoind_arg: Vec<String>,
    /// Where the litecoind script caches its prepared node and payments.
    #[arg(long, default_value = "/tmp/oxcoin-bench")]
    cache_root: PathBuf,
    /// Load only a running litecoind at this JSON-RPC URL (`http://user:password@127.0.0.1:PORT/`)
    /// with the first `--count` payments of `--raw-txs`; no OxCoin node.
    #[arg(long, requires = "raw_txs", conflicts_with_all = ["node", "oxminer", "litecoind"])]
    litecoind_rpc: Option<String>,
    /// The payments for `--litecoind-rpc`: one `<raw hex> [<txid>]` per line, `#` comments.
    #[arg(long, requires = "litecoind_rpc")]
    raw_txs: Option<PathBuf>,
    /// The process id of the `--litecoind-rpc` node, for its CPU time.
    #[arg(long, requires = "litecoind_rpc")]
    litecoind_pid: Option<u32>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(
        args.senders > 0 && args.count > 0 && args.connections > 0,
        "--senders, --count and --connections must be positive"
    );
    ensure!(
        args.count <= args.senders * MAX_PER_SENDER,
        "{} transfers need at least {} senders ({MAX_PER_SENDER} each); raise --senders",
        args.count,
        args.count.div_ceil(MAX_PER_SENDER)
    );
    let threads = args.threads.unwrap_or(args.connections.min(8)).clamp(1, args.connections);
    if let (Some(url), Some(raw_txs)) = (&args.litecoind_rpc, &args.raw_txs) {
        return litecoind_only(&args, url, raw_txs, threads);
    }
    let seed = args.seed.unwrap_or_else(|| {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        nanos.to_le_bytes()[1]
    });
    let params = Network::Dev.params();
    let machine = Machine::now();
    progress(format!("machine: {} ({} cores), load average {}", machine.cpu, machine.cores, machine.load));

    let mut node = NodeHandle::open(&args)?;
    let outcome = run(&args, &node, params, seed, threads, &machine);
    node.close();
    let mut report = outcome?;
    // litecoind runs after the OxCoin node has stopped: neither competes with the other for CPU.
    let litecoind_error = match args.litecoind.then(|| served_litecoind(&args, threads)) {
        Some(Ok(run)) => {
            report.litecoind = Some(run);
            None
        }
        Some(Err(e)) => Some(e),
        None => None,
    };
    if args.json {
        // One JSON document, nothing after it (it holds every figure the BENCH lines would).
        println!("{}", serde_json::to_string_pretty(&report.json())?);
    } else {
        print!("{}", report.table());
        for line in report.bench_lines() {
            line.print();
        }
    }
    if let Some(e) = litecoind_error {
        return Err(e.context("the litecoind run failed"));
    }
    if report.load.failed > 0 {
        bail!("{} of {} requests failed", report.load.failed, report.count);
    }
    if let Some(lite) = report.litecoind.as_ref().filter(|l| l.load.failed > 0) {
        bail!("{} of {} litecoind requests failed", lite.load.failed, lite.count);
    }
    Ok(())
}

/// `--litecoind-rpc`: loads a running litecoind alone and prints its figures.
fn litecoind_only(args: &Args, url: &str, raw_txs: &Path, threads: usize) -> anyhow::Result<()> {
    let machine = Machine::now();
    progress(format!("machine: {}", machine.describe()));
    let endpoint = RpcEndpoint::parse(url)?;
    let run = litecoind_load(&endpoint, raw_txs, args.count, args.connections, threads, args.litecoind_pid)?;
    if args.json {
        let out = json!({ "machine": machine.json(), "litecoind": run.json(machine.cores) });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let mut rows = vec![("machine", machine.describe())];
        rows.extend(run.rows(machine.cores));
        print!("{}", format_rows(&rows));
        for f in &run.load.failures {
            println!("litecoind failure: {f}");
        }
    }
    ensure!(run.load.failed == 0, "{} of {} litecoind requests failed", run.load.failed, run.count);
    Ok(())
}

/// Funds, pre-signs, measures the reference and the ingest.
fn run(
    args: &Args,
    node: &NodeHandle,
    params: &'static ChainParams,
    seed: u8,
    threads: usize,
    machine: &Machine,
) -> anyhow::Result<Report> {
    let mut api = Conn::open(node.addr).context("connecting to the node")?;
    let status = api.call("GET", "/api/v1/status", None, None)?;
    ensure!(status["network"] == "dev", "the node must run the dev network, it runs {}", status["network"]);

    let senders: Vec<_> = (0..args.senders).map(|i| key(seed, i as u32)).collect();
    let per_sender = args.count.div_ceil(args.senders);
    fund(&mut api, node, params, seed, &senders, per_sender)?;

    progress(format!("pre-signing {} transfers ({per_sender} per sender at most)", args.count));
    let transfers = presign(params, seed, &senders, args.count);
    let host = node.addr.to_string();
    let requests: Vec<Vec<u8>> = transfers
        .iter()
        .map(|t| post_request(&host, "/api/v1/txs", &json!({ "raw_hex": t.encode_hex() }).to_string(), None))
        .collect();

    progress("measuring the in-process reference".to_owned());
    let reference = Reference::measure(&transfers, params)?;

    let before = mempool_count(&mut api)?;
    progress(format!("posting {} transfers over {} connections on {threads} threads", args.count, args.connections));
    let load = load(node.addr, &requests, args.connections, threads, node.pid, &accepted_by_oxcoin)?;
    let after = mempool_count(&mut api)?;
    Ok(Report {
        machine: machine.clone(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        seed,
        senders: args.senders,
        count: args.count,
        connections: args.connections,
        threads,
        load,
        reference,
        mempool_growth: after.saturating_sub(before),
        litecoind: None,
    })
}

/// The node under load: spawned (and stopped at the end) or attached.
struct NodeHandle {
    /// The API address.
    addr: SocketAddr,
    /// The admin token.
    cookie: String,
    /// The node's process id, when known (spawned), for its CPU time.
    pid: Option<u32>,
    /// The spawned node process.
    child: Option<Child>,
    /// The spawned node's data folder, removed when dropped.
    data_dir: Option<tempfile::TempDir>,
}

impl NodeHandle {
    /// Attaches to `--node` or spawns a dev node in a temp dir.
    fn open(args: &Args) -> anyhow::Result<Self> {
        if let (Some(url), Some(cookie)) = (&args.node, &args.cookie) {
            let authority = url.trim_start_matches("http://").split('/').next().unwrap_or_default();
            let addr = authority
                .to_socket_addrs()
                .with_context(|| format!("resolving {url}"))?
                .next()
                .with_context(|| format!("{url} resolves to no address"))?;
            let cookie = std::fs::read_to_string(cookie).with_context(|| format!("reading {}", cookie.display()))?;
            return Ok(Self { addr, cookie: cookie.trim().to_owned(), pid: None, child: None, data_dir: None });
        }
        let oxminer = match &args.oxminer {
            Some(path) => path.clone(),
            None => oxcoin_tests::binary("oxminer"),
        };
        let dir = tempfile::tempdir().context("creating the node's temp dir")?;
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let log_path = dir.path().join("node.log");
        let cookie_path = dir.path().join("dev").join(".cookie");
        let log = std::fs::File::create(&log_path).context("creating the node's log")?;
        progress(format!("starting {} run --network dev --no-mine --listen {addr}", oxminer.display()));
        let child = Command::new(&oxminer)
            .args(["run", "--network", "dev", "--no-mine", "--listen", &addr.to_string(), "--data-dir"])
            .arg(dir.path())
            .env_remove("OXMINER_NETWORK")
            .env_remove("OXMINER_CONFIG")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", oxminer.display()))?;
        let mut node =
            Self { addr, cookie: String::new(), pid: Some(child.id()), child: Some(child), data_dir: Some(dir) };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if http(addr, "GET", "/api/v1/status", None, &[]).is_ok_and(|r| r.status == 200) {
                break;
            }
            let exited = node.child.as_mut().map(Child::try_wait).and_then(Result::ok).flatten();
            if exited.is_some() || Instant::now() > deadline {
                node.close();
                bail!(
                    "the node did not come up ({exited:?}); its log:\n{}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        node.cookie = std::fs::read_to_string(&cookie_path)
            .with_context(|| format!("reading {}", cookie_path.display()))?
            .trim()
            .to_owned();
        Ok(node)
    }

    /// Stops a spawned node with SIGTERM (SIGKILL after 10 s) and removes its data.
    fn close(&mut self) {
        if let Some(mut child) = self.child.take() {
            let started = Instant::now();
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => {
                        progress(format!("node stopped ({status}) in {:.1?}", started.elapsed()));
                        break;
                    }
                    Ok(None) if started.elapsed() < Duration::from_secs(10) => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    _ => {
                        progress("the node did not stop within 10 s of SIGTERM: killing it".to_owned());
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                }
            }
        }
        self.data_dir.take();
    }

    /// Mines `count` blocks paying `to` through the dev route.
    fn generate(&self, api: &mut Conn, count: usize, to: AccountId) -> anyhow::Result<()> {
        let body = json!({ "count": count, "address": Address::new(Network::Dev, to).to_string() });
        api.call("POST", "/api/v1/dev/generate", Some(&body), Some(&self.cookie)).map(drop)
    }
}

impl Drop for NodeHandle {
    fn drop(&mut self) {
        self.close();
    }
}

/// Gives every sender enough for `per_sender` transfers: one block reward per funder, matured,
/// then up to [`NONCE_WINDOW`] fan-out transfers per funder, mined into blocks.
fn fund(
    api: &mut Conn,
    node: &NodeHandle,
    params: &ChainParams,
    seed: u8,
    senders: &[SigningKey],
    per_sender: usize,
) -> anyhow::Result<()> {
    // Funder indices start at 2^31: never a sender's.
    let funders: Vec<SigningKey> =
        (0..senders.len().div_ceil(NONCE_WINDOW)).map(|i| key(seed, 1 << 31 | i as u32)).collect();
    progress(format!("funding {} senders from {} funders", senders.len(), funders.len()));
    for funder in &funders {
        node.generate(api, 1, account_of(funder))?;
    }
    // Consensus: block h's reward is credited when h + coinbase_maturity connects.
    node.generate(api, params.coinbase_maturity as usize, account_of(&funders[0]))?;
    let need = per_sender as u64 * (MAX_AMOUNT + FEE);
    let fan_out: Vec<Transfer> = senders
        .par_iter()
        .enumerate()
        .map(|(i, sender)| {
            transfer(params, &funders[i / NONCE_WINDOW], account_of(sender), need, FEE, (i % NONCE_WINDOW) as u64)
        })
        .collect();
    for t in &fan_out {
        api.call("POST", "/api/v1/txs", Some(&json!({ "raw_hex": t.encode_hex() })), None)
            .context("a funding transfer was refused")?;
    }
    for _ in 0..10 {
        node.generate(api, 1, account_of(&funders[0]))?;
        if mempool_count(api)? == 0 {
            return Ok(());
        }
    }
    bail!("the mempool did not empty after 10 blocks: cannot tell that the senders are funded")
}

/// Signs `count` transfers: nonce 0 of every sender, then nonce 1, and so on (the order they are
/// posted in), each of 1 to [`MAX_AMOUNT`] grains to a random account.
fn presign(params: &ChainParams, seed: u8, senders: &[SigningKey], count: usize) -> Vec<Transfer> {
    let mut rng = SplitMix(u64::from(seed) << 32 | 0x6c6f_6164);
    let jobs: Vec<(usize, u64, AccountId, u64)> = (0..count)
        .map(|i| {
            let mut to = [0u8; 20];
            to[..8].copy_from_slice(&rng.next().to_le_bytes());
            to[8..16].copy_from_slice(&rng.next().to_le_bytes());
            to[16..].copy_from_slice(&rng.next().to_le_bytes()[..4]);
            let amount = 1 + rng.next() % MAX_AMOUNT;
            (i % senders.len(), (i / senders.len()) as u64, AccountId::from_byte_array(to), amount)
        })
        .collect();
    jobs.into_par_iter()
        .map(|(sender, nonce, to, amount)| transfer(params, &senders[sender], to, amount, FEE, nonce))
        .collect()
}

/// SplitMix64: a small deterministic generator for recipients and amounts.
struct SplitMix(u64);

impl SplitMix {
    /// Returns the next 64 random bits.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The in-process reference: the same transfers through [`rules::transfer_precheck`]
/// (well-formedness and the strict signature check).
#[derive(Clone, Debug)]
struct Reference {
    /// Transfers per second on one thread.
    one_thread: f64,
    /// Transfers per second on a rayon pool of two threads.
    two_threads: f64,
    /// Transfers per second on two threads when each also starts from its hex and is decoded
    /// and hashed (its txid), as the node does per request.
    two_threads_from_hex: f64,
}

impl Reference {
    /// Verifies `transfers` three ways; all of them must pass.
    fn measure(transfers: &[Transfer], params: &ChainParams) -> anyhow::Result<Self> {
        let started = Instant::now();
        for t in transfers {
            rules::transfer_precheck(t, params).context("a pre-signed transfer fails the precheck")?;
        }
        let one_thread = rate(transfers.len(), started.elapsed());

        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().context("building a rayon pool")?;
        let started = Instant::now();
        let bad =
            pool.install(|| transfers.par_iter().filter(|t| rules::transfer_precheck(t, params).is_err()).count());
        let two_threads = rate(transfers.len(), started.elapsed());
        ensure!(bad == 0, "{bad} pre-signed transfers fail the precheck");

        let hexes: Vec<String> = transfers.iter().map(Encode::encode_hex).collect();
        let started = Instant::now();
        let bad = pool.install(|| {
            hexes
                .par_iter()
                .filter(|h| match Tx::decode_hex(h) {
                    Ok(Tx::Transfer(t)) => {
                        std::hint::black_box(t.txid());
                        rules::transfer_precheck(&t, params).is_err()
                    }
                    _ => true,
                })
                .count()
        });
        let two_threads_from_hex = rate(transfers.len(), started.elapsed());
        ensure!(bad == 0, "{bad} pre-signed transfers fail to decode or verify");
        Ok(Self { one_thread, two_threads, two_threads_from_hex })
    }
}

/// What the timed phase measured.
#[derive(Debug, Default)]
struct Load {
    /// Requests answered 202.
    accepted: usize,
    /// Requests that failed: another status, or an I/O error.
    failed: usize,
    /// The first failures, for the report.
    failures: Vec<String>,
    /// From the first request sent to the last answer read.
    wall: Duration,
    /// Latency of every answered request, in microseconds, sorted.
    latencies_us: Vec<u64>,
    /// CPU seconds the node used during the phase, when its process is known.
    node_cpu: Option<f64>,
    /// CPU seconds this load generator used during the phase.
    client_cpu: Option<f64>,
    /// Context switches of the node's threads during the phase, and how many threads it had at the end.
    node_switches: Option<(u64, usize)>,
    /// CPU seconds the whole machine was busy during the phase, and stolen by the hypervisor.
    machine_cpu: Option<MachineCpu>,
}

impl Load {
    /// The latency at quantile `q` (0 < q ≤ 1), in microseconds.
    fn percentile(&self, q: f64) -> u64 {
        if self.latencies_us.is_empty() {
            return 0;
        }
        let rank = ((q * self.latencies_us.len() as f64).ceil() as usize).clamp(1, self.latencies_us.len());
        self.latencies_us[rank - 1]
    }

    /// Accepted transfers per second of wall time.
    fn rate(&self) -> f64 {
        rate(self.accepted, self.wall)
    }

    /// The latency at quantile `q`, in milliseconds with two decimals.
    fn ms(&self, q: f64) -> String {
        format!("{:.2} ms", self.percentile(q) as f64 / 1000.0)
    }

    /// CPU seconds and their share per item of `count`.
    fn cpu_per(&self, seconds: Option<f64>, count: usize, item: &str) -> String {
        seconds.map_or("n/a".to_owned(), |s| format!("{s:.2} s ({:.0} µs/{item})", s * 1e6 / count as f64))
    }

    /// The node's context switches, per item of `count`, and its threads at the end.
    fn switches(&self, count: usize, item: &str) -> String {
        self.node_switches.map_or("n/a".to_owned(), |(n, threads)| {
            format!("{n} ({:.1} per {item}), {threads} threads", n as f64 / count as f64)
        })
    }

    /// CPU the rest of the machine used during the phase (a noisy run shows here).
    fn others(&self, cores: usize) -> String {
        match (self.machine_cpu, self.node_cpu, self.client_cpu) {
            (Some(m), Some(node), Some(client)) => {
                format!(
                    "{:.2} s / {:.2} s (of {:.2} s on {cores} cores)",
                    (m.busy - node - client).max(0.0),
                    m.steal,
                    self.wall.as_secs_f64() * cores as f64,
                )
            }
            (Some(m), _, _) => format!("n/a (machine busy {:.2} s, steal {:.2} s)", m.busy, m.steal),
            _ => "n/a".to_owned(),
        }
    }

    /// The rate the node and the load generator would reach with every core to themselves: cores
    /// over their CPU seconds per request. Other processes and steal do not lower it.
    fn ceiling(&self, cores: usize) -> Option<f64> {
        let (node, client) = (self.node_cpu?, self.client_cpu?);
        (node + client > 0.0).then(|| cores as f64 * self.accepted as f64 / (node + client))
    }

    /// [`Self::ceiling`] as a table cell.
    fn ceiling_text(&self, cores: usize, items: &str) -> String {
        let item = items.trim_end_matches('s');
        self.ceiling(cores).map_or("n/a".to_owned(), |c| {
            format!("{c:.0} {items}/s ({cores} cores / (node + load generator CPU per {item}))")
        })
    }

    /// The phase as JSON; `rate_key` names the rate (`transfers_per_second`).
    fn json(&self, cores: usize, mempool_growth: u64, rate_key: &str) -> Value {
        let mut out = json!({
            "accepted": self.accepted,
            "failed": self.failed,
            "failures": self.failures,
            "seconds": self.wall.as_secs_f64(),
            "latency_ms": {
                "p50": self.percentile(0.5) as f64 / 1000.0,
                "p90": self.percentile(0.9) as f64 / 1000.0,
                "p99": self.percentile(0.99) as f64 / 1000.0,
                "max": self.percentile(1.0) as f64 / 1000.0,
            },
            "node_cpu_seconds": self.node_cpu,
            "client_cpu_seconds": self.client_cpu,
            "node_context_switches": self.node_switches.map(|(n, _)| n),
            "node_threads": self.node_switches.map(|(_, t)| t),
            "machine_busy_cpu_seconds": self.machine_cpu.map(|m| m.busy),
            "machine_steal_cpu_seconds": self.machine_cpu.map(|m| m.steal),
            "mempool_growth": mempool_growth,
            "cpu_bound_ceiling_per_second": self.ceiling(cores),
        });
        out[rate_key] = json!(self.rate());
        out
    }
}

/// What one client thread saw.
#[derive(Default)]
struct ThreadLoad {
    accepted: usize,
    failed: usize,
    failures: Vec<String>,
    latencies_us: Vec<u64>,
}

impl ThreadLoad {
    /// Counts a failed request, keeping the first few descriptions.
    fn fail(&mut self, index: usize, what: String) {
        self.failed += 1;
        if self.failures.len() < 10 {
            self.failures.push(format!("request {index}: {what}"));
        }
    }
}

/// Judges one answer: its request's index, status and body; `Err` holds why it failed.
type Verdict<'a> = dyn Fn(usize, u16, &[u8]) -> Result<(), String> + Sync + 'a;

/// Posts every request once over `connections` keep-alive connections spread over `threads`
/// threads, and measures it; `verdict` tells a success from a failure.
fn load(
    addr: SocketAddr,
    requests: &[Vec<u8>],
    connections: usize,
    threads: usize,
    node_pid: Option<u32>,
    verdict: &Verdict<'_>,
) -> anyhow::Result<Load> {
    let mut groups: Vec<Vec<Conn>> = (0..threads).map(|_| Vec::new()).collect();
    for i in 0..connections {
        groups[i % threads].push(Conn::open(addr).with_context(|| format!("opening connection {i}"))?);
    }
    let next = AtomicUsize::new(0);
    let barrier = Barrier::new(threads + 1);
    let (results, wall, node_cpu, client_cpu, machine_cpu, node_switches) = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|conns| {
                let (next, barrier) = (&next, &barrier);
                scope.spawn(move || drive(conns, requests, next, barrier, verdict))
            })
            .collect();
        let node_cpu0 = node_pid.and_then(procfs::cpu_seconds);
        let switches0 = node_pid.and_then(context_switches);
        let client_cpu0 = procfs::cpu_seconds("self");
        let machine_cpu0 = MachineCpu::now();
        barrier.wait();
        let started = Instant::now();
        let results: Vec<ThreadLoad> =
            handles.into_iter().map(|h| h.join().expect("a client thread panicked")).collect();
        let wall = started.elapsed();
        let node_cpu = node_pid.and_then(procfs::cpu_seconds).zip(node_cpu0).map(|(b, a)| b - a);
        let client_cpu = procfs::cpu_seconds("self").zip(client_cpu0).map(|(b, a)| b - a);
        let machine_cpu = MachineCpu::now().zip(machine_cpu0).map(|(b, a)| b.since(&a));
        let node_switches = node_pid
            .and_then(context_switches)
            .zip(switches0)
            .map(|((b, threads), (a, _))| (b.saturating_sub(a), threads));
        (results, wall, node_cpu, client_cpu, machine_cpu, node_switches)
    });
    let mut load = Load { wall, node_cpu, client_cpu, machine_cpu, node_switches, ..Load::default() };
    for r in results {
        load.accepted += r.accepted;
        load.failed += r.failed;
        load.failures.extend(r.failures);
        load.latencies_us.extend(r.latencies_us);
    }
    load.failures.truncate(10);
    load.latencies_us.sort_unstable();
    Ok(load)
}

/// One client thread: keeps each of its connections busy with one request at a time, taking the
/// next request from the shared counter, until all are taken and answered.
fn drive(
    mut conns: Vec<Conn>,
    requests: &[Vec<u8>],
    next: &AtomicUsize,
    barrier: &Barrier,
    verdict: &Verdict<'_>,
) -> ThreadLoad {
    let mut out = ThreadLoad { latencies_us: Vec::with_capacity(requests.len() / 4), ..ThreadLoad::default() };
    let take = || {
        let i = next.fetch_add(1, Ordering::Relaxed);
        (i < requests.len()).then_some(i)
    };
    let mut in_flight: Vec<Option<(usize, Instant)>> = vec![None; conns.len()];
    barrier.wait();
    for (slot, conn) in in_flight.iter_mut().zip(&mut conns) {
        if let Some(i) = take() {
            *slot = send(conn, i, requests, &mut out);
        }
    }
    loop {
        let mut busy = false;
        for (slot, conn) in in_flight.iter_mut().zip(&mut conns) {
            let Some((i, sent)) = slot.take() else { continue };
            busy = true;
            match conn.receive() {
                Ok(answer) => {
                    out.latencies_us.push(sent.elapsed().as_micros() as u64);
                    match verdict(i, answer.status, &conn.body) {
                        Ok(()) => out.accepted += 1,
                        Err(why) => out.fail(i, why),
                    }
                    if answer.close && conn.reconnect().is_err() {
                        continue;
                    }
                }
                Err(e) => {
                    out.fail(i, format!("reading the answer: {e}"));
                    if conn.reconnect().is_err() {
                        continue;
                    }
                }
            }
            if let Some(j) = take() {
                *slot = send(conn, j, requests, &mut out);
            }
        }
        if !busy {
            return out;
        }
    }
}

/// Writes request `i`; returns what is then in flight (nothing if the write failed).
fn send(conn: &mut Conn, i: usize, requests: &[Vec<u8>], out: &mut ThreadLoad) -> Option<(usize, Instant)> {
    let sent = Instant::now();
    match conn.send(&requests[i]) {
        Ok(()) => Some((i, sent)),
        Err(e) => {
            out.fail(i, format!("writing the request: {e}"));
            let _ = conn.reconnect();
            None
        }
    }
}

/// An OxCoin answer to `POST /txs` succeeds with 202.
fn accepted_by_oxcoin(_: usize, status: u16, body: &[u8]) -> Result<(), String> {
    if status == 202 { Ok(()) } else { Err(format!("status {status}: {}", String::from_utf8_lossy(body))) }
}

/// The head of an HTTP answer.
#[derive(Debug)]
struct Answer {
    /// Status code.
    status: u16,
    /// The server closes the connection after this answer.
    close: bool,
}

/// A keep-alive HTTP/1.1 client connection over a blocking socket.
struct Conn {
    addr: SocketAddr,
    reader: BufReader<TcpStream>,
    /// The line being parsed.
    line: Vec<u8>,
    /// The body of the last answer.
    body: Vec<u8>,
    /// When the last answer was read (servers close idle keep-alive connections).
    last_used: Instant,
}

impl Conn {
    /// Largest status or header line accepted.
    const MAX_LINE: usize = 16 * 1024;
    /// Largest body accepted.
    const MAX_BODY: usize = 64 * 1024 * 1024;

    /// Connects to `addr`.
    fn open(addr: SocketAddr) -> io::Result<Self> {
        let reader = BufReader::new(Self::connect(addr)?);
        Ok(Self { addr, reader, line: Vec::new(), body: Vec::new(), last_used: Instant::now() })
    }

    fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        stream.set_write_timeout(Some(Duration::from_secs(30)))?;
        Ok(stream)
    }

    /// Replaces the socket with a new connection.
    fn reconnect(&mut self) -> io::Result<()> {
        self.reader = BufReader::new(Self::connect(self.addr)?);
        Ok(())
    }

    /// Writes a whole request.
    fn send(&mut self, request: &[u8]) -> io::Result<()> {
        self.reader.get_mut().write_all(request)
    }

    /// Reads one answer: status line, headers, then the body by `Content-Length`, chunked
    /// transfer coding, or up to the end of the connection; the body lands in `self.body`.
    fn receive(&mut self) -> io::Result<Answer> {
        loop {
            let status_line = self.read_line()?;
            let mut parts = status_line.splitn(3, ' ');
            let version = parts.next().unwrap_or_default();
            if !version.starts_with("HTTP/1.") {
                return Err(invalid(format!("not an HTTP/1 status line: {status_line:?}")));
            }
            let status: u16 = parts
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| invalid(format!("no status code in {status_line:?}")))?;
            let mut close = version == "HTTP/1.0";
            let (mut length, mut chunked) = (None, false);
            loop {
                let line = self.read_line()?;
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').ok_or_else(|| invalid(format!("bad header {line:?}")))?;
                let value = value.trim().to_ascii_lowercase();
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => {
                        length = Some(value.parse::<usize>().map_err(|_| invalid(format!("bad length {value:?}")))?);
                    }
                    "transfer-encoding" => chunked = value.split(',').any(|c| c.trim() == "chunked"),
                    "connection" => {
                        close = value.split(',').any(|c| c.trim() == "close")
                            || (close && !value.split(',').any(|c| c.trim() == "keep-alive"));
                    }
                    _ => {}
                }
            }
            self.body.clear();
            // An interim answer (100 Continue) precedes the real one.
            if (100..200).contains(&status) {
                continue;
            }
            if status == 204 || status == 304 {
                return Ok(Answer { status, close });
            }
            if chunked {
                self.read_chunked()?;
            } else if let Some(n) = length {
                if n > Self::MAX_BODY {
                    return Err(invalid(format!("body of {n} bytes")));
                }
                self.body.resize(n, 0);
                self.reader.read_exact(&mut self.body)?;
            } else {
                (&mut self.reader).take(Self::MAX_BODY as u64).read_to_end(&mut self.body)?;
                close = true;
            }
            return Ok(Answer { status, close });
        }
    }

    /// Reads a chunked body and its trailers.
    fn read_chunked(&mut self) -> io::Result<()> {
        loop {
            let line = self.read_line()?;
            let size = line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16).map_err(|_| invalid(format!("bad chunk size {line:?}")))?;
            if size == 0 {
                while !self.read_line()?.is_empty() {}
                return Ok(());
            }
            if self.body.len() + size > Self::MAX_BODY {
                return Err(invalid("body too large".to_owned()));
            }
            let start = self.body.len();
            self.body.resize(start + size, 0);
            self.reader.read_exact(&mut self.body[start..])?;
            if !self.read_line()?.is_empty() {
                return Err(invalid("no CRLF after a chunk".to_owned()));
            }
        }
    }

    /// Reads one CRLF-terminated line, without its terminator.
    fn read_line(&mut self) -> io::Result<String> {
        self.line.clear();
        let n = (&mut self.reader).take(Self::MAX_LINE as u64).read_until(b'\n', &mut self.line)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the connection"));
        }
        if self.line.last() != Some(&b'\n') {
            return Err(invalid("line too long or cut short".to_owned()));
        }
        let line = self.line.strip_suffix(b"\r\n").or_else(|| self.line.strip_suffix(b"\n")).unwrap_or(&self.line);
        String::from_utf8(line.to_vec()).map_err(|_| invalid("a header line is not UTF-8".to_owned()))
    }

    /// Sends a request with an optional JSON body and admin token; returns the JSON answer.
    ///
    /// # Errors
    /// An I/O error, or an answer other than 2xx (with its body).
    fn call(&mut self, method: &str, path: &str, body: Option<&Value>, token: Option<&str>) -> anyhow::Result<Value> {
        let host = self.addr.to_string();
        let request = match body {
            Some(body) => post_request(&host, path, &body.to_string(), token),
            None => format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes(),
        };
        debug_assert!(body.is_none() || method == "POST");
        // The server may have closed the connection while it was idle (actix: after 5 s).
        if self.last_used.elapsed() > Duration::from_secs(1) {
            self.reconnect()?;
        }
        self.send(&request).with_context(|| format!("{method} {path}"))?;
        let answer = self.receive().with_context(|| format!("{method} {path}"))?;
        let text = String::from_utf8_lossy(&self.body).into_owned();
        self.last_used = Instant::now();
        if answer.close {
            self.reconnect()?;
        }
        ensure!((200..300).contains(&answer.status), "{method} {path}: status {}: {text}", answer.status);
        serde_json::from_str(&text).with_context(|| format!("{method} {path}: the answer is not JSON: {text}"))
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// The bytes of a `POST` with a JSON body (and the admin token, if given).
fn post_request(host: &str, path: &str, body: &str, token: Option<&str>) -> Vec<u8> {
    http_post(host, path, body, token.map(|t| format!("Bearer {t}")).as_deref())
}

/// The bytes of a `POST` with a JSON body and, if given, an `Authorization` header of this value.
fn http_post(host: &str, path: &str, body: &str, authorization: Option<&str>) -> Vec<u8> {
    let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Pending transfers in the node's mempool.
fn mempool_count(api: &mut Conn) -> anyhow::Result<u64> {
    let status = api.call("GET", "/api/v1/status", None, None)?;
    status["mempool"]["count"].as_u64().context("/status has no mempool.count")
}

/// Context switches (voluntary and not) summed over a process's threads, and its thread count,
/// from `/proc/<pid>/task/*/status`. Threads that exited in between are not counted.
fn context_switches(pid: u32) -> Option<(u64, usize)> {
    let mut total = 0;
    let mut threads = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else { continue };
        threads += 1;
        total += status
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    Some((total, threads))
}

fn rate(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64().max(1e-9)
}

fn progress(message: String) {
    eprintln!("load_txs: {message}");
}

/// The machine the run happened on.
#[derive(Clone, Debug)]
struct Machine {
    /// CPU model name.
    cpu: String,
    /// Logical cores.
    cores: usize,
    /// 1, 5 and 15 minute load averages at the start.
    load: String,
    /// Unix time of the start.
    unix_time: u64,
}

impl Machine {
    /// The machine in one line.
    fn describe(&self) -> String {
        format!("{} ({} cores), load average {}", self.cpu, self.cores, self.load)
    }

    /// The machine as JSON.
    fn json(&self) -> Value {
        json!({ "cpu": self.cpu, "cores": self.cores, "load_average": self.load, "unix_time": self.unix_time })
    }

    /// Reads `/proc` now.
    fn now() -> Self {
        Self {
            cpu: procfs::cpu_model(),
            cores: procfs::cores(),
            load: procfs::load_average(),
            unix_time: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        }
    }
}

/// Everything one run measured.
struct Report {
    machine: Machine,
    command: String,
    seed: u8,
    senders: usize,
    count: usize,
    connections: usize,
    threads: usize,
    load: Load,
    reference: Reference,
    /// How much the mempool grew during the timed phase.
    mempool_growth: u64,
    /// The same load against Litecoin Core (`--litecoind`).
    litecoind: Option<LitecoindRun>,
}

impl Report {
    /// Ingest over the two-thread in-process reference.
    fn ratio(&self) -> f64 {
        self.load.rate() / self.reference.two_threads
    }

    /// OxCoin's ingest over litecoind's.
    fn ratio_to_litecoind(&self) -> Option<f64> {
        self.litecoind.as_ref().map(|l| self.load.rate() / l.load.rate().max(1e-9))
    }

    fn rate_met(&self) -> bool {
        self.load.rate() >= GOAL_RATE && self.load.failed == 0
    }

    fn p99_met(&self) -> bool {
        self.load.percentile(0.99) < GOAL_P99_US
    }

    /// Whether OxCoin ingests at least [`GOAL_LITECOIND`] times as fast as litecoind, both without failures.
    fn litecoind_met(&self) -> Option<bool> {
        let l = self.litecoind.as_ref()?;
        Some(self.ratio_to_litecoind()? >= GOAL_LITECOIND && self.load.failed == 0 && l.load.failed == 0)
    }

    /// The summary as a plain-text table.
    fn table(&self) -> String {
        let l = &self.load;
        let cores = self.machine.cores;
        let met = |ok: bool| if ok { "met" } else { "NOT met" };
        let mut rows: Vec<(&str, String)> = vec![
            ("machine", self.machine.describe()),
            (
                "load",
                format!(
                    "{} transfers from {} senders, {} keep-alive connections on {} threads",
                    self.count, self.senders, self.connections, self.threads
                ),
            ),
            ("ingest (POST /txs)", format!("{:.0} transfers/s ({} accepted in {:.2?})", l.rate(), l.accepted, l.wall)),
            ("errors", format!("{}", l.failed)),
            ("latency p50 / p90", format!("{} / {}", l.ms(0.5), l.ms(0.9))),
            ("latency p99 / max", format!("{} / {}", l.ms(0.99), l.ms(1.0))),
            ("node CPU during ingest", l.cpu_per(l.node_cpu, self.count, "transfer")),
            ("node context switches", l.switches(self.count, "transfer")),
            ("load generator CPU", l.cpu_per(l.client_cpu, self.count, "transfer")),
            ("other processes' CPU / steal", l.others(cores)),
            ("CPU-bound ceiling", l.ceiling_text(cores, "transfers")),
            ("mempool growth", format!("{}", self.mempool_growth)),
            ("in-process precheck, 1 thread", format!("{:.0} transfers/s", self.reference.one_thread)),
            ("in-process precheck, 2 threads", format!("{:.0} transfers/s", self.reference.two_threads)),
            ("  + hex decode and txid, 2 threads", format!("{:.0} transfers/s", self.reference.two_threads_from_hex)),
            ("ratio ingest / in-process (2 threads)", format!("{:.2}", self.ratio())),
            ("goal ≥ 10,000 transfers/s", met(self.rate_met()).to_owned()),
            ("goal p99 < 20 ms", met(self.p99_met()).to_owned()),
        ];
        if let (Some(lite), Some(ratio), Some(ok)) = (&self.litecoind, self.ratio_to_litecoind(), self.litecoind_met())
        {
            rows.extend(lite.rows(cores));
            rows.push(("ratio OxCoin / litecoind", format!("{ratio:.2}")));
            rows.push(("goal OxCoin ≥ 4 × litecoind", met(ok).to_owned()));
        }
        let mut out = format_rows(&rows);
        for f in &l.failures {
            out.push_str(&format!("failure: {f}\n"));
        }
        if let Some(lite) = &self.litecoind {
            for f in &lite.load.failures {
                out.push_str(&format!("litecoind failure: {f}\n"));
            }
        }
        out
    }

    /// The summary as JSON.
    fn json(&self) -> Value {
        let l = &self.load;
        json!({
            "machine": self.machine.json(),
            "command": self.command,
            "seed": self.seed,
            "senders": self.senders,
            "count": self.count,
            "connections": self.connections,
            "threads": self.threads,
            "ingest": l.json(self.machine.cores, self.mempool_growth, "transfers_per_second"),
            "reference": {
                "precheck_1_thread_per_second": self.reference.one_thread,
                "precheck_2_threads_per_second": self.reference.two_threads,
                "decode_txid_precheck_2_threads_per_second": self.reference.two_threads_from_hex,
            },
            "ratio_ingest_to_reference_2_threads": self.ratio(),
            "litecoind": self.litecoind.as_ref().map(|lite| lite.json(self.machine.cores)),
            "ratio_ingest_to_litecoind": self.ratio_to_litecoind(),
            "goals": {
                "rate_10000_per_second": self.rate_met(),
                "p99_under_20_ms": self.p99_met(),
                "litecoind_4x": self.litecoind_met(),
            },
        })
    }

    /// The machine-readable summary lines (`BENCH {…}`), one per figure, for `bench/all.sh`.
    fn bench_lines(&self) -> Vec<BenchLine> {
        let p99_ms = self.load.percentile(0.99) as f64 / 1000.0;
        let mut lines = vec![
            BenchLine::new("POST /txs ingest", self.load.rate(), "transfers/s")
                .reference("in-process strict verification, 2 threads", self.reference.two_threads)
                .goal(">= 10,000/s, p99 < 20 ms", self.rate_met() && self.p99_met())
                .with("p99_ms", p99_ms),
        ];
        if let (Some(lite), Some(met)) = (&self.litecoind, self.litecoind_met()) {
            let reference =
                format!("litecoind -regtest sendrawtransaction, {} keep-alive connections", self.connections);
            lines.push(
                BenchLine::new("ingest vs litecoind", self.load.rate(), "transfers/s")
                    .reference(reference, lite.load.rate())
                    .goal(">= 4", met)
                    .with("p99_ms", p99_ms)
                    .with("reference_p99_ms", lite.load.percentile(0.99) as f64 / 1000.0),
            );
        }
        lines
    }
}

/// Rows of `key  value`, the keys padded to one width.
fn format_rows(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in rows {
        let pad = width - k.chars().count();
        out.push_str(&format!("{k}{:pad$}  {v}\n", ""));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Litecoin Core: the same load as `sendrawtransaction` JSON-RPC requests.

/// Payments the script prepares per address at most (its `sendmany` pays each address once).
const LITECOIND_ADDRESSES: usize = 1_000;

/// What the litecoind run measured.
struct LitecoindRun {
    /// `litecoind -version`'s first line, when the script served the node.
    version: Option<String>,
    /// The node's flags (credentials and data dir left out), when the script served it.
    flags: Vec<String>,
    /// The script's description of the prepared payments.
    setup: Value,
    /// The JSON-RPC endpoint, without its credentials.
    endpoint: String,
    /// Payments posted.
    count: usize,
    /// Keep-alive connections and client threads.
    connections: usize,
    threads: usize,
    /// The timed phase.
    load: Load,
    /// How much the mempool grew during the timed phase.
    mempool_growth: u64,
    /// Load average when the timed phase began.
    load_average: String,
}

impl LitecoindRun {
    /// The table rows of this run.
    fn rows(&self, cores: usize) -> Vec<(&'static str, String)> {
        let l = &self.load;
        let shape = match (self.setup["payment_bytes"].as_u64(), self.setup["payment_vbytes"].as_u64()) {
            (Some(b), Some(v)) => format!("1 input, 2 outputs, P2WPKH, {b} B / {v} vB"),
            _ => "from the --raw-txs file".to_owned(),
        };
        vec![
            (
                "litecoind",
                format!(
                    "{} at {}; load average {}",
                    self.version.as_deref().unwrap_or("attached node"),
                    self.endpoint,
                    self.load_average
                ),
            ),
            ("litecoind flags", if self.flags.is_empty() { "n/a".to_owned() } else { self.flags.join(" ") }),
            (
                "litecoind load",
                format!(
                    "{} payments ({shape}), one sendrawtransaction each, {} keep-alive connections on {} threads",
                    self.count, self.connections, self.threads
                ),
            ),
            ("litecoind ingest", format!("{:.0} payments/s ({} accepted in {:.2?})", l.rate(), l.accepted, l.wall)),
            ("litecoind errors", format!("{}", l.failed)),
            ("litecoind latency p50 / p90", format!("{} / {}", l.ms(0.5), l.ms(0.9))),
            ("litecoind latency p99 / max", format!("{} / {}", l.ms(0.99), l.ms(1.0))),
            ("litecoind CPU during ingest", l.cpu_per(l.node_cpu, self.count, "payment")),
            ("litecoind context switches", l.switches(self.count, "payment")),
            ("load generator CPU (litecoind)", l.cpu_per(l.client_cpu, self.count, "payment")),
            ("other processes' CPU / steal (litecoind)", l.others(cores)),
            ("litecoind CPU-bound ceiling", l.ceiling_text(cores, "payments")),
            ("litecoind mempool growth", format!("{}", self.mempool_growth)),
        ]
    }

    /// This run as JSON.
    fn json(&self, cores: usize) -> Value {
        json!({
            "node": self.version,
            "flags": self.flags,
            "endpoint": self.endpoint,
            "setup": self.setup,
            "count": self.count,
            "connections": self.connections,
            "threads": self.threads,
            "load_average": self.load_average,
            "ingest": self.load.json(cores, self.mempool_growth, "payments_per_second"),
        })
    }
}

/// Measures the `--raw-txs` payments posted to a running litecoind as `sendrawtransaction`
/// requests, with the same client as the OxCoin run; `pid` gives the node's CPU time.
fn litecoind_load(
    endpoint: &RpcEndpoint,
    raw_txs: &Path,
    count: usize,
    connections: usize,
    threads: usize,
    pid: Option<u32>,
) -> anyhow::Result<LitecoindRun> {
    let text = std::fs::read_to_string(raw_txs).with_context(|| format!("reading {}", raw_txs.display()))?;
    let txs = parse_raw_txs(&text).with_context(|| format!("parsing {}", raw_txs.display()))?;
    ensure!(txs.len() >= count, "{} holds {} payments, {count} wanted", raw_txs.display(), txs.len());
    let txs = &txs[..count];
    let requests: Vec<Vec<u8>> =
        txs.iter().enumerate().map(|(i, t)| endpoint.request(i, "sendrawtransaction", &json!([t.hex]))).collect();
    let before = litecoind_mempool(endpoint)?;
    let load_average = procfs::load_average();
    progress(format!("litecoind: posting {count} payments over {connections} connections on {threads} threads"));
    let verdict = |i: usize, status: u16, body: &[u8]| sent_as_expected(status, body, txs[i].txid.as_deref());
    let load = load(endpoint.addr, &requests, connections, threads, pid, &verdict)?;
    let after = litecoind_mempool(endpoint)?;
    Ok(LitecoindRun {
        version: None,
        flags: Vec::new(),
        setup: Value::Null,
        endpoint: endpoint.shown.clone(),
        count,
        connections,
        threads,
        load,
        mempool_growth: after.saturating_sub(before),
        load_average,
    })
}

/// Transactions in litecoind's mempool.
fn litecoind_mempool(endpoint: &RpcEndpoint) -> anyhow::Result<u64> {
    let info = endpoint.call("getmempoolinfo", &json!([]))?;
    info["size"].as_u64().context("getmempoolinfo has no size")
}

/// Runs `bench/litecoind_ingest.py` (which prepares, caches and serves a regtest litecoind), loads
/// the node it serves, then lets the script stop it.
fn served_litecoind(args: &Args, threads: usize) -> anyhow::Result<LitecoindRun> {
    let script = args
        .litecoind_script
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/litecoind_ingest.py"));
    let mut command = Command::new("python3");
    command
        .arg(&script)
        .args(["--count", &args.count.to_string()])
        .args(["--addresses", &args.senders.min(LITECOIND_ADDRESSES).to_string()])
        .arg("--cache-root")
        .arg(&args.cache_root);
    for a in &args.litecoind_arg {
        command.arg(format!("--node-arg={a}"));
    }
    progress(format!("litecoind: {} (the first run prepares the payments, a few minutes)", script.display()));
    let child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("running python3 {}", script.display()))?;
    let mut served = Served(child);
    let stdout = served.0.stdout.take().context("the script's stdout")?;
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    while !line.starts_with('{') {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            let status = served.finish()?;
            bail!("{} ended ({status}) before serving litecoind", script.display());
        }
    }
    let info: Value = serde_json::from_str(&line).context("parsing the script's JSON line")?;
    let endpoint = RpcEndpoint::parse(info["rpc_url"].as_str().context("the script gave no rpc_url")?)?;
    let raw_txs = PathBuf::from(info["raw_txs"].as_str().context("the script gave no raw_txs")?);
    let pid = info["pid"].as_u64().and_then(|p| u32::try_from(p).ok());
    let mut run = litecoind_load(&endpoint, &raw_txs, args.count, args.connections, threads, pid)?;
    run.version = info["node"].as_str().map(str::to_owned);
    run.flags = info["flags"]
        .as_array()
        .map_or(Vec::new(), |f| f.iter().filter_map(|a| a.as_str().map(str::to_owned)).collect());
    run.setup = info["setup"].clone();
    let status = served.finish()?;
    ensure!(status.success(), "{} ended with {status}", script.display());
    Ok(run)
}

/// The script serving litecoind: closing its stdin makes it stop the node and exit.
struct Served(Child);

impl Served {
    /// Closes the script's stdin and waits for it.
    fn finish(&mut self) -> io::Result<ExitStatus> {
        drop(self.0.stdin.take());
        self.0.wait()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// A JSON-RPC endpoint from a URL such as `http://user:password@127.0.0.1:19443/`.
#[derive(Debug, PartialEq)]
struct RpcEndpoint {
    addr: SocketAddr,
    /// The request path (`/`, or `/wallet/<name>`).
    path: String,
    /// The `Authorization` header's value, when the URL has credentials.
    authorization: Option<String>,
    /// The URL without its credentials, for the report.
    shown: String,
}

impl RpcEndpoint {
    /// Parses an `http://[user:password@]host:port[/path]` URL.
    fn parse(url: &str) -> anyhow::Result<Self> {
        let rest = url.strip_prefix("http://").with_context(|| format!("{url:?} is not an http:// URL"))?;
        let (authority, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
        let (credentials, host) = match authority.rsplit_once('@') {
            Some((c, h)) => (Some(c), h),
            None => (None, authority),
        };
        let addr = host
            .to_socket_addrs()
            .with_context(|| format!("resolving {host:?}"))?
            .next()
            .with_context(|| format!("{host:?} resolves to no address"))?;
        Ok(Self {
            addr,
            shown: format!("http://{host}{path}"),
            path,
            authorization: credentials.map(|c| format!("Basic {}", base64(c.as_bytes()))),
        })
    }

    /// The bytes of one JSON-RPC 1.0 request (`id` = `id`), as litecoind's clients send it.
    fn request(&self, id: usize, method: &str, params: &Value) -> Vec<u8> {
        let body = json!({ "jsonrpc": "1.0", "id": id, "method": method, "params": params }).to_string();
        http_post(&self.addr.to_string(), &self.path, &body, self.authorization.as_deref())
    }

    /// Calls `method` on a connection of its own; returns the result.
    fn call(&self, method: &str, params: &Value) -> anyhow::Result<Value> {
        let mut conn = Conn::open(self.addr).with_context(|| format!("connecting to {}", self.shown))?;
        conn.send(&self.request(0, method, params)).with_context(|| format!("{method} to {}", self.shown))?;
        let answer = conn.receive().with_context(|| format!("{method} to {}", self.shown))?;
        rpc_result(answer.status, &conn.body).map_err(|why| anyhow::anyhow!("{method}: {why}"))
    }
}

/// Standard base64 (RFC 4648 §4) with padding, for HTTP basic authentication.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One signed payment of the `--raw-txs` file.
#[derive(Debug, PartialEq)]
struct RawTx {
    /// The transaction in hex, as `sendrawtransaction` takes it.
    hex: String,
    /// Its txid in hex, when the file gives it: the answer must name it.
    txid: Option<String>,
}

/// Parses the payments file: one `<raw hex> [<txid>]` per line; blank lines and `#` comments skipped.
fn parse_raw_txs(text: &str) -> anyhow::Result<Vec<RawTx>> {
    let is_hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    let mut txs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let hex = fields.next().unwrap_or_default();
        let txid = fields.next();
        ensure!(fields.next().is_none(), "line {}: more than a transaction and its txid", n + 1);
        ensure!(is_hex(hex) && hex.len().is_multiple_of(2), "line {}: the transaction is not hex bytes", n + 1);
        if let Some(txid) = txid {
            ensure!(is_hex(txid) && txid.len() == 64, "line {}: {txid:?} is not a txid", n + 1);
        }
        txs.push(RawTx { hex: hex.to_owned(), txid: txid.map(str::to_ascii_lowercase) });
    }
    ensure!(!txs.is_empty(), "no transactions");
    Ok(txs)
}

/// The result of a JSON-RPC answer: status 200 and a `null` error; else why not.
fn rpc_result(status: u16, body: &[u8]) -> Result<Value, String> {
    let text = || {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        if text.chars().count() > 200 {
            format!("{}…", text.chars().take(200).collect::<String>())
        } else {
            text.to_owned()
        }
    };
    let Ok(answer) = serde_json::from_slice::<Value>(body) else {
        return Err(format!("status {status}: {}", text()));
    };
    match &answer["error"] {
        Value::Null if status == 200 => Ok(answer["result"].clone()),
        Value::Null => Err(format!("status {status}: {}", text())),
        error => Err(format!("status {status}: error {} {}", error["code"], error["message"])),
    }
}

/// Whether a `sendrawtransaction` answer accepted the transaction: a success naming a txid (the
/// expected one, when known).
fn sent_as_expected(status: u16, body: &[u8], expected: Option<&str>) -> Result<(), String> {
    let result = rpc_result(status, body)?;
    let txid = result.as_str().filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()));
    match (txid, expected) {
        (None, _) => Err(format!("status {status}: result {result} is not a txid")),
        (Some(txid), Some(expected)) if !txid.eq_ignore_ascii_case(expected) => {
            Err(format!("txid {txid}, expected {expected}"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::{Conn, RawTx, RpcEndpoint, accepted_by_oxcoin, base64, parse_raw_txs, rpc_result, sent_as_expected};
    use serde_json::{Value, json};
    use std::io::{Read, Write};
    use std::net::TcpListener;

    const TXID: &str = "8f1ca5d4b9a0e5c3d2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9";

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let vectors =
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE=")];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn raw_txs_file_gives_hex_and_optional_txid_in_order() {
        let text = format!("# comment\n\n0200aBcd {TXID}\n  0300  \n");
        let txs = parse_raw_txs(&text).expect("valid");
        assert_eq!(
            txs,
            [
                RawTx { hex: "0200aBcd".to_owned(), txid: Some(TXID.to_owned()) },
                RawTx { hex: "0300".to_owned(), txid: None },
            ]
        );
        assert_eq!(
            parse_raw_txs(&format!("00 {}", TXID.to_uppercase())).expect("valid")[0].txid.as_deref(),
            Some(TXID)
        );
    }

    #[test]
    fn raw_txs_file_refuses_what_is_not_a_transaction() {
        for bad in ["", "# only a comment\n", "0g00\n", "000\n", "00 abcd\n", &format!("00 {TXID} extra\n")] {
            assert!(parse_raw_txs(bad).is_err(), "{bad:?} must be refused");
        }
        let error = parse_raw_txs("00\n0x\n").expect_err("line 2 is bad");
        assert!(error.to_string().contains("line 2"), "{error}");
    }

    #[test]
    fn rpc_url_gives_address_path_and_basic_authorization() {
        let endpoint = RpcEndpoint::parse("http://bench:s3cret@127.0.0.1:19443/").expect("valid");
        assert_eq!(endpoint.addr, "127.0.0.1:19443".parse().expect("address"));
        assert_eq!(endpoint.path, "/");
        assert_eq!(endpoint.authorization.as_deref(), Some(format!("Basic {}", base64(b"bench:s3cret")).as_str()));
        assert_eq!(endpoint.shown, "http://127.0.0.1:19443/", "no password in the report");

        let endpoint = RpcEndpoint::parse("http://127.0.0.1:8332/wallet/w").expect("valid");
        assert_eq!((endpoint.path.as_str(), endpoint.authorization), ("/wallet/w", None));
        let endpoint = RpcEndpoint::parse("http://127.0.0.1:8332").expect("valid");
        assert_eq!(endpoint.path, "/");
        assert!(RpcEndpoint::parse("https://127.0.0.1:8332/").is_err());
        assert!(RpcEndpoint::parse("http://127.0.0.1/").is_err(), "no port");
    }

    #[test]
    fn rpc_request_is_one_json_rpc_post_with_credentials() {
        let endpoint = RpcEndpoint::parse("http://u:p@127.0.0.1:19443/").expect("valid");
        let request = String::from_utf8(endpoint.request(7, "sendrawtransaction", &json!(["00ff"]))).expect("text");
        let (head, body) = request.split_once("\r\n\r\n").expect("head and body");
        let lines: Vec<&str> = head.split("\r\n").collect();
        assert_eq!(lines[0], "POST / HTTP/1.1");
        assert!(lines.contains(&"Host: 127.0.0.1:19443"), "{head}");
        assert!(lines.contains(&"Authorization: Basic dTpw"), "{head}");
        assert!(lines.contains(&format!("Content-Length: {}", body.len()).as_str()), "{head}");
        let body: Value = serde_json::from_str(body).expect("JSON body");
        assert_eq!(body, json!({ "jsonrpc": "1.0", "id": 7, "method": "sendrawtransaction", "params": ["00ff"] }));
    }

    #[test]
    fn a_sendrawtransaction_answer_succeeds_only_with_the_expected_txid() {
        let ok = format!("{{\"result\":\"{TXID}\",\"error\":null,\"id\":3}}\n");
        assert_eq!(sent_as_expected(200, ok.as_bytes(), Some(TXID)), Ok(()));
        assert_eq!(sent_as_expected(200, ok.as_bytes(), None), Ok(()));
        let other = "00".repeat(32);
        assert!(sent_as_expected(200, ok.as_bytes(), Some(&other)).is_err_and(|e| e.contains("expected")));

        let rejected = br#"{"result":null,"error":{"code":-26,"message":"bad-txns-inputs-missingorspent"},"id":3}"#;
        let why = sent_as_expected(500, rejected, Some(TXID)).expect_err("an RPC error");
        assert!(why.contains("-26") && why.contains("missingorspent"), "{why}");
        let why = sent_as_expected(503, b"Work queue depth exceeded", None).expect_err("not JSON");
        assert!(why.contains("503") && why.contains("Work queue"), "{why}");
        assert!(sent_as_expected(200, br#"{"result":null,"error":null,"id":3}"#, None).is_err(), "no txid");
        assert!(sent_as_expected(200, br#"{"result":"abc","error":null,"id":3}"#, None).is_err(), "not a txid");
        assert!(sent_as_expected(401, b"", None).is_err(), "unauthorised, empty body");
        assert!(rpc_result(500, br#"{"result":1,"error":null}"#).is_err(), "a success needs status 200");
    }

    #[test]
    fn an_oxcoin_answer_succeeds_only_with_202() {
        assert_eq!(accepted_by_oxcoin(0, 202, b"{}"), Ok(()));
        assert_eq!(
            accepted_by_oxcoin(0, 409, b"{\"code\":\"nonce\"}"),
            Err("status 409: {\"code\":\"nonce\"}".to_owned())
        );
    }

    /// Serves `answers` in order on one connection, one per request read, and returns the
    /// client's connection to it.
    #[track_caller]
    fn serve(answers: &'static [&'static str]) -> Conn {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut buf = [0u8; 4096];
            for answer in answers {
                let _ = stream.read(&mut buf).expect("a request");
                stream.write_all(answer.as_bytes()).expect("write");
            }
        });
        Conn::open(addr).expect("connect")
    }

    #[test]
    fn reads_length_and_chunked_answers_on_one_connection() {
        let mut conn = serve(&[
            "HTTP/1.1 202 Accepted\r\ncontent-length: 11\r\ncontent-type: application/json\r\n\r\n{\"txid\":1}\n",
            "HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nX-Trailer: y\r\n\r\n",
            "HTTP/1.1 204 No Content\r\n\r\n",
        ]);
        conn.send(b"GET / HTTP/1.1\r\n\r\n").expect("send");
        let answer = conn.receive().expect("first");
        assert_eq!((answer.status, answer.close, conn.body.as_slice()), (202, false, &b"{\"txid\":1}\n"[..]));
        conn.send(b"GET / HTTP/1.1\r\n\r\n").expect("send");
        let answer = conn.receive().expect("second");
        assert_eq!((answer.status, answer.close, conn.body.as_slice()), (409, false, &b"{\"a\":1}"[..]));
        conn.send(b"GET / HTTP/1.1\r\n\r\n").expect("send");
        let answer = conn.receive().expect("third");
        assert_eq!((answer.status, conn.body.len()), (204, 0));
    }

    #[test]
    fn a_closing_answer_without_length_is_read_to_the_end() {
        let mut conn = serve(&["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 500 Oops\r\n\r\nbody"]);
        conn.send(b"GET / HTTP/1.1\r\n\r\n").expect("send");
        let answer = conn.receive().expect("answer");
        assert_eq!((answer.status, answer.close, conn.body.as_slice()), (500, true, &b"body"[..]));
        assert!(conn.receive().is_err(), "the connection is closed");
    }
}
