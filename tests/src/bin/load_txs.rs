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

use anyhow::{Context, bail, ensure};
use clap::Parser;
use ed25519_dalek::SigningKey;
use oxcoin::encode::{Decode, Encode};
use oxcoin::testkit::{account_of, key, transfer};
use oxcoin::{AccountId, Address, ChainParams, Network, Transfer, Tx, rules};
use oxcoin_tests::procfs::{self, MachineCpu};
use oxcoin_tests::{free_port, http};
use rayon::prelude::*;
use serde_json::{Value, json};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
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
    let report = outcome?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.json())?);
    } else {
        print!("{}", report.table());
    }
    if report.load.failed > 0 {
        bail!("{} of {} requests failed", report.load.failed, report.count);
    }
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
    let load = load(node.addr, &requests, args.connections, threads, node.pid)?;
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

/// Posts every request once over `connections` keep-alive connections spread over `threads`
/// threads, and measures it.
fn load(
    addr: SocketAddr,
    requests: &[Vec<u8>],
    connections: usize,
    threads: usize,
    node_pid: Option<u32>,
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
                scope.spawn(move || drive(conns, requests, next, barrier))
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
fn drive(mut conns: Vec<Conn>, requests: &[Vec<u8>], next: &AtomicUsize, barrier: &Barrier) -> ThreadLoad {
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
                    if answer.status == 202 {
                        out.accepted += 1;
                    } else {
                        let body = String::from_utf8_lossy(&conn.body).into_owned();
                        out.fail(i, format!("status {}: {body}", answer.status));
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
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
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
}

impl Report {
    /// Ingest over the two-thread in-process reference.
    fn ratio(&self) -> f64 {
        self.load.rate() / self.reference.two_threads
    }

    /// CPU the rest of the machine used during the timed phase (a noisy run shows here).
    fn others(&self) -> String {
        let l = &self.load;
        match (l.machine_cpu, l.node_cpu, l.client_cpu) {
            (Some(m), Some(node), Some(client)) => {
                format!(
                    "{:.2} s / {:.2} s (of {:.2} s on {} cores)",
                    (m.busy - node - client).max(0.0),
                    m.steal,
                    l.wall.as_secs_f64() * self.machine.cores as f64,
                    self.machine.cores
                )
            }
            (Some(m), _, _) => format!("n/a (machine busy {:.2} s, steal {:.2} s)", m.busy, m.steal),
            _ => "n/a".to_owned(),
        }
    }

    /// The rate the node and the load generator would reach with every core to themselves: cores
    /// over their CPU seconds per transfer. Other processes and steal do not lower it.
    fn ceiling(&self) -> Option<f64> {
        let (node, client) = (self.load.node_cpu?, self.load.client_cpu?);
        (node + client > 0.0).then(|| self.machine.cores as f64 * self.load.accepted as f64 / (node + client))
    }

    fn rate_met(&self) -> bool {
        self.load.rate() >= GOAL_RATE && self.load.failed == 0
    }

    fn p99_met(&self) -> bool {
        self.load.percentile(0.99) < GOAL_P99_US
    }

    /// The summary as a plain-text table.
    fn table(&self) -> String {
        let l = &self.load;
        let ms = |q: f64| format!("{:.2} ms", l.percentile(q) as f64 / 1000.0);
        let met = |ok: bool| if ok { "met" } else { "NOT met" };
        let cpu = |s: Option<f64>| {
            s.map_or("n/a".to_owned(), |s| format!("{s:.2} s ({:.0} µs/transfer)", s * 1e6 / self.count as f64))
        };
        let rows = [
            (
                "machine",
                format!("{} ({} cores), load average {}", self.machine.cpu, self.machine.cores, self.machine.load),
            ),
            (
                "load",
                format!(
                    "{} transfers from {} senders, {} keep-alive connections on {} threads",
                    self.count, self.senders, self.connections, self.threads
                ),
            ),
            ("ingest (POST /txs)", format!("{:.0} transfers/s ({} accepted in {:.2?})", l.rate(), l.accepted, l.wall)),
            ("errors", format!("{}", l.failed)),
            ("latency p50 / p90", format!("{} / {}", ms(0.5), ms(0.9))),
            ("latency p99 / max", format!("{} / {}", ms(0.99), ms(1.0))),
            ("node CPU during ingest", cpu(l.node_cpu)),
            (
                "node context switches",
                l.node_switches.map_or("n/a".to_owned(), |(n, threads)| {
                    format!("{n} ({:.1} per transfer), {threads} threads", n as f64 / self.count as f64)
                }),
            ),
            ("load generator CPU", cpu(l.client_cpu)),
            ("other processes' CPU / steal", self.others()),
            (
                "CPU-bound ceiling",
                self.ceiling().map_or("n/a".to_owned(), |c| {
                    format!(
                        "{c:.0} transfers/s ({} cores / (node + load generator CPU per transfer))",
                        self.machine.cores
                    )
                }),
            ),
            ("mempool growth", format!("{}", self.mempool_growth)),
            ("in-process precheck, 1 thread", format!("{:.0} transfers/s", self.reference.one_thread)),
            ("in-process precheck, 2 threads", format!("{:.0} transfers/s", self.reference.two_threads)),
            ("  + hex decode and txid, 2 threads", format!("{:.0} transfers/s", self.reference.two_threads_from_hex)),
            ("ratio ingest / in-process (2 threads)", format!("{:.2}", self.ratio())),
            ("goal ≥ 10,000 transfers/s", met(self.rate_met()).to_owned()),
            ("goal p99 < 20 ms", met(self.p99_met()).to_owned()),
        ];
        let width = rows.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
        let mut out = String::new();
        for (k, v) in rows {
            out.push_str(&format!("{k:<width$}  {v}\n"));
        }
        for f in &l.failures {
            out.push_str(&format!("failure: {f}\n"));
        }
        out
    }

    /// The summary as JSON.
    fn json(&self) -> Value {
        let l = &self.load;
        json!({
            "machine": { "cpu": self.machine.cpu, "cores": self.machine.cores, "load_average": self.machine.load, "unix_time": self.machine.unix_time },
            "command": self.command,
            "seed": self.seed,
            "senders": self.senders,
            "count": self.count,
            "connections": self.connections,
            "threads": self.threads,
            "ingest": {
                "accepted": l.accepted,
                "failed": l.failed,
                "failures": l.failures,
                "seconds": l.wall.as_secs_f64(),
                "transfers_per_second": l.rate(),
                "latency_ms": {
                    "p50": l.percentile(0.5) as f64 / 1000.0,
                    "p90": l.percentile(0.9) as f64 / 1000.0,
                    "p99": l.percentile(0.99) as f64 / 1000.0,
                    "max": l.percentile(1.0) as f64 / 1000.0,
                },
                "node_cpu_seconds": l.node_cpu,
                "client_cpu_seconds": l.client_cpu,
                "node_context_switches": l.node_switches.map(|(n, _)| n),
                "node_threads": l.node_switches.map(|(_, t)| t),
                "machine_busy_cpu_seconds": l.machine_cpu.map(|m| m.busy),
                "machine_steal_cpu_seconds": l.machine_cpu.map(|m| m.steal),
                "mempool_growth": self.mempool_growth,
                "cpu_bound_ceiling_per_second": self.ceiling(),
            },
            "reference": {
                "precheck_1_thread_per_second": self.reference.one_thread,
                "precheck_2_threads_per_second": self.reference.two_threads,
                "decode_txid_precheck_2_threads_per_second": self.reference.two_threads_from_hex,
            },
            "ratio_ingest_to_reference_2_threads": self.ratio(),
            "goals": { "rate_10000_per_second": self.rate_met(), "p99_under_20_ms": self.p99_met() },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Conn;
    use std::io::{Read, Write};
    use std::net::TcpListener;

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
