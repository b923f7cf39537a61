//! `sync_bench`: the fresh-node sync benchmark (issues 5 and 7). A dev chain of `--blocks` blocks
//! holding `--transfers` transfers (generated once by `oxcoin_tests::chaingen` and cached) is served
//! by node A; a fresh node B syncs it from A over loopback. Measured: wall time from B's start until
//! its `/api/v1/status` height equals A's (polled every 100 ms), B's peak RSS (`VmHWM`), the CPU
//! time of A, B and everything else on the machine.
//!
//! References, measured in the same run:
//! - **in-process validation of the same blocks**: a fresh `oxminer::chain::Chain` in a temp dir
//!   connects every block with `process_block` (the node's acceptance pipeline: state checks,
//!   redb commits), blocks already decoded in memory, in the node's sync groups (64-block download
//!   batches, one durable commit per group of up to 2,000 transactions) — *pipelined* as the
//!   node's sync does (the ratio's reference: each batch's signatures checked ahead as one rayon
//!   job while the previous batch is connected, then `Chain::batch_verified`), *grouped* with the
//!   signatures checked inside `process_block`, and with `--per-block` one durable commit per block;
//! - **signatures alone**: every transfer of the chain through `rules::transfer_precheck` on
//!   rayon's pool, the floor of any validation;
//! - with `--litecoind`, **Litecoin Core**: `bench/litecoind_sync.py` syncs a regtest chain of the
//!   same shape (same block count, the same number of payments) between two `litecoind` on
//!   loopback; its JSON line is read back.
//!
//! Each run does the references and the syncs back to back, so that their ratios come from the
//! same minutes of this shared machine.

use anyhow::{Context, bail, ensure};
use clap::Parser;
use oxcoin::{Block, Height, Network, Tx, Txid, rules};
use oxcoin_tests::bench::BenchLine;
use oxcoin_tests::procfs::{self, MachineCpu};
use oxcoin_tests::{chaingen, free_port, http};
use oxminer::chain::{Accepted, Chain};
use oxminer::p2p::wire::MAX_BLOCKS;
use rayon::prelude::*;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Sync goal of issues 5 and 7, in transfers per second.
const GOAL_RATE: f64 = 20_000.0;
/// Goal of issue 7 for sync / in-process validation.
const GOAL_RATIO: f64 = 0.5;
/// Goal of issue 7 for OxCoin's sync rate over litecoind's.
const GOAL_LITECOIND: f64 = 2.0;
/// Bumped when the cached chain's layout changes.
const CACHE_VERSION: u32 = 2;

/// Measures a fresh node's sync of a dev chain from one loopback peer, beside in-process
/// validation of the same blocks and (with `--litecoind`) Litecoin Core doing the same.
#[derive(Parser, Debug)]
#[command(name = "sync_bench", version)]
struct Args {
    /// Height of the chain to sync.
    #[arg(long, default_value_t = 10_000)]
    blocks: u64,
    /// Transfers in the chain (the senders' funding included).
    #[arg(long, default_value_t = 200_000)]
    transfers: u64,
    /// Where generated chains are kept between runs (one folder per parameter set).
    #[arg(long, default_value = "/tmp/oxcoin-bench")]
    cache_root: PathBuf,
    /// Runs (each: in-process reference, OxCoin sync, litecoind sync).
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// The `oxminer` to run [default: the one next to this executable, built first].
    #[arg(long)]
    oxminer: Option<PathBuf>,
    /// Also measure litecoind in each run with `bench/litecoind_sync.py` (needs `litecoind` and python3).
    #[arg(long)]
    litecoind: bool,
    /// The litecoind script [default: bench/litecoind_sync.py of this source tree].
    #[arg(long)]
    litecoind_script: Option<PathBuf>,
    /// Folder for node B's data dir and the in-process reference's store [default: the system
    /// temp dir]; e.g. /dev/shm to see what the sync costs without disk writes and fsyncs.
    #[arg(long)]
    tmp_root: Option<PathBuf>,
    /// Also time the in-process reference with one durable commit per block (as a node connects
    /// single blocks), about twice as long as the rest of a run.
    #[arg(long)]
    per_block: bool,
    /// Skip the in-process references.
    #[arg(long)]
    no_reference: bool,
    /// Copy node B's log (RUST_LOG=info: sync progress) of each run into this folder.
    #[arg(long)]
    log_dir: Option<PathBuf>,
    /// Give up a sync after this many seconds.
    #[arg(long, default_value_t = 1_800)]
    timeout: u64,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let oxminer = match &args.oxminer {
        Some(path) => path.clone(),
        None => oxcoin_tests::binary("oxminer"),
    };
    let machine = machine();
    progress(format!("machine: {machine}"));
    let chain = cached_chain(&args)?;
    progress(format!(
        "chain: height {} tip {} with {} transfers in {}",
        chain.height,
        chain.tip,
        chain.transfers,
        chain.dir.display()
    ));
    let blocks = if args.no_reference { Vec::new() } else { load_blocks(&chain)? };

    let mut runs = Vec::new();
    for run in 1..=args.runs {
        progress(format!("run {run}/{}", args.runs));
        let reference = if args.no_reference { None } else { Some(Reference::measure(&blocks, &args)?) };
        let sync = measure_sync(&args, &oxminer, &chain, run)?;
        let litecoind = if args.litecoind { Some(litecoind(&args)?) } else { None };
        let outcome = Run { reference, sync, litecoind };
        progress(outcome.summary(chain.transfers));
        runs.push(outcome);
    }
    let report = report(&args, &machine, &chain, &runs);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", table(&chain, &runs, &machine));
        let medians = Medians {
            rate: median(&runs.iter().map(|r| r.sync.rate()).collect::<Vec<_>>()),
            in_process: runs.iter().filter_map(|r| r.reference.as_ref().map(Reference::pipelined_rate)).collect(),
            ratio: runs.iter().filter_map(Run::ratio).collect(),
            litecoind: runs.iter().filter_map(Run::litecoind_rate).collect(),
            vs_litecoind: runs.iter().filter_map(|r| r.litecoind_rate().map(|l| r.sync.rate() / l)).collect(),
        };
        for line in bench_lines(chain.height, chain.transfers, &medians) {
            line.print();
        }
    }
    Ok(())
}

/// What the summary lines report: the median sync rate, and per run the references and ratios.
struct Medians {
    rate: f64,
    in_process: Vec<f64>,
    ratio: Vec<f64>,
    litecoind: Vec<f64>,
    vs_litecoind: Vec<f64>,
}

/// The summary lines for `bench/all.sh`: the sync rate against in-process validation, and with
/// `--litecoind` against litecoind; medians over the runs.
fn bench_lines(blocks: u64, transfers: u64, m: &Medians) -> Vec<BenchLine> {
    let figure = format!("fresh-node sync, {}k blocks / {}k transfers", blocks / 1_000, transfers / 1_000);
    let mut sync = BenchLine::new(figure.clone(), m.rate, "transfers/s");
    if !m.ratio.is_empty() {
        let ratio = median(&m.ratio);
        sync = sync
            .reference("in-process validation, pipelined", median(&m.in_process))
            .ratio(ratio)
            .with("ratio_goal", format!(">= {GOAL_RATIO}"))
            .with("ratio_met", ratio >= GOAL_RATIO);
    }
    let mut lines = vec![sync.goal(format!(">= {GOAL_RATE:.0} transfers/s"), m.rate >= GOAL_RATE)];
    if !m.vs_litecoind.is_empty() {
        let ratio = median(&m.vs_litecoind);
        lines.push(
            BenchLine::new(format!("{figure}, vs litecoind"), m.rate, "transfers/s")
                .reference("litecoind sync, payments/s", median(&m.litecoind))
                .ratio(ratio)
                .goal(format!(">= {GOAL_LITECOIND}x litecoind"), ratio >= GOAL_LITECOIND),
        );
    }
    lines
}

/// The cached chain node A serves.
struct CachedChain {
    /// A's `--data-dir`.
    dir: PathBuf,
    height: u64,
    tip: String,
    transfers: u64,
}

/// Returns the chain of `--blocks` / `--transfers`, generating it into the cache when missing.
fn cached_chain(args: &Args) -> anyhow::Result<CachedChain> {
    let dir = args.cache_root.join(format!("oxcoin-dev-b{}-t{}-v{CACHE_VERSION}", args.blocks, args.transfers));
    let marker = dir.join("chain.json");
    if let Ok(text) = std::fs::read_to_string(&marker) {
        let saved: Value = serde_json::from_str(&text).context("reading the cache marker")?;
        if let (Some(height), Some(tip), Some(transfers)) =
            (saved["height"].as_u64(), saved["tip"].as_str(), saved["transfers"].as_u64())
        {
            return Ok(CachedChain { dir, height, tip: tip.to_owned(), transfers });
        }
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing the incomplete {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    progress(format!("generating {} blocks with {} transfers into {}", args.blocks, args.transfers, dir.display()));
    let mut last = Duration::ZERO;
    let summary = chaingen::generate(&dir, args.blocks, args.transfers, |p| {
        if p.elapsed >= last + Duration::from_secs(10) {
            last = p.elapsed;
            progress(format!("  height {}/{}, {} transfers, {:.0?}", p.height, p.blocks, p.transfers, p.elapsed));
        }
    })?;
    progress(format!("generated in {:.1?}", summary.elapsed));
    let chain = CachedChain { dir, height: summary.height, tip: summary.tip.to_string(), transfers: summary.transfers };
    let saved = json!({ "height": chain.height, "tip": chain.tip, "transfers": chain.transfers });
    std::fs::write(&marker, saved.to_string()).context("writing the cache marker")?;
    Ok(chain)
}

/// Reads the best chain's blocks 1..=height from the cached store (A must not be running).
fn load_blocks(chain: &CachedChain) -> anyhow::Result<Vec<Block>> {
    let store = chaingen::store_path(&chain.dir);
    let source = Chain::open(&store, Network::Dev.params()).with_context(|| format!("opening {}", store.display()))?;
    ensure!(source.height().0 == chain.height, "the cached store is at height {}", source.height().0);
    let blocks = (1..=chain.height)
        .map(|h| {
            let hash = source.hash_at(Height(h)).context("a best-chain hash is missing")?;
            source.store().block(&hash)?.with_context(|| format!("block {hash} is missing"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let transfers = blocks.iter().map(transfer_count).sum::<usize>();
    ensure!(
        transfers as u64 == chain.transfers,
        "the cached chain holds {transfers} transfers, not {}",
        chain.transfers
    );
    Ok(blocks)
}

fn transfer_count(block: &Block) -> usize {
    block.txs.iter().filter(|tx| matches!(tx, Tx::Transfer(_))).count()
}

/// Transactions per group of blocks the node's sync submits under one durable commit (as
/// `GROUP_TXS` in `oxminer::p2p::client`).
const GROUP_TXS: usize = 2_000;

/// Splits a download batch into the groups the node's sync submits: consecutive blocks of at most
/// [`GROUP_TXS`] transactions (at least one block each).
fn groups_of(batch: Vec<Block>) -> Vec<Vec<Block>> {
    let mut groups: Vec<Vec<Block>> = Vec::new();
    let mut txs = 0;
    for block in batch {
        if groups.is_empty() || txs + block.txs.len() > GROUP_TXS {
            groups.push(Vec::new());
            txs = 0;
        }
        txs += block.txs.len();
        groups.last_mut().expect("a group was pushed").push(block);
    }
    groups
}

/// The in-process references.
#[derive(Clone, Debug)]
struct Reference {
    /// `Chain::process_block` of every block into a fresh store, one durable commit per block
    /// (with `--per-block`).
    per_block: Option<Duration>,
    /// The same in groups as the node's sync submits them: each download batch of
    /// `wire::MAX_BLOCKS` blocks split into groups of at most [`GROUP_TXS`] transactions, each
    /// group inside one `Chain::batch` (one durable commit).
    grouped: Duration,
    /// As the node's sync does since `bf10d92`: each 64-block batch's signatures checked ahead as
    /// one rayon job while the previous batch is connected on another thread, then the batch
    /// connected in its groups with `Chain::batch_verified` (state checks only).
    pipelined: Duration,
    /// `transfer_precheck` of every transfer on rayon's pool.
    signatures: Duration,
    transfers: usize,
    blocks: usize,
}

impl Reference {
    fn measure(blocks: &[Block], args: &Args) -> anyhow::Result<Self> {
        let params = Network::Dev.params();
        let transfers: Vec<_> = blocks
            .iter()
            .flat_map(|b| &b.txs)
            .filter_map(|tx| match tx {
                Tx::Transfer(t) => Some(t),
                Tx::Coinbase(_) => None,
            })
            .collect();
        progress(format!("in-process: signatures of {} transfers", transfers.len()));
        let started = Instant::now();
        let bad = transfers.par_iter().filter(|t| rules::transfer_precheck(t, params).is_err()).count();
        let signatures = started.elapsed();
        ensure!(bad == 0, "{bad} transfers of the chain fail the precheck");

        progress(format!("in-process: {} blocks, signatures ahead overlapping the store, as in sync", blocks.len()));
        let pipelined = Self::pipelined(blocks, args)?;
        progress(format!("in-process: {} blocks grouped as in sync, signatures inside process_block", blocks.len()));
        let grouped = Self::connect(blocks, args, true)?;
        let per_block = if args.per_block {
            progress(format!(
                "in-process: process_block of {} blocks into a fresh store, one commit each",
                blocks.len()
            ));
            Some(Self::connect(blocks, args, false)?)
        } else {
            None
        };
        Ok(Self { per_block, grouped, pipelined, signatures, transfers: transfers.len(), blocks: blocks.len() })
    }

    /// Connects `blocks` to a fresh chain in a temp dir; returns the time taken (blocks already
    /// decoded and copied before the clock starts).
    fn connect(blocks: &[Block], args: &Args, grouped: bool) -> anyhow::Result<Duration> {
        let dir = temp_dir(args).context("creating the reference's temp dir")?;
        let mut chain =
            Chain::open(&dir.path().join("chain.redb"), Network::Dev.params()).context("opening a fresh chain")?;
        let groups: Vec<Vec<Block>> = if grouped {
            blocks.chunks(MAX_BLOCKS).flat_map(|batch| groups_of(batch.to_vec())).collect()
        } else {
            blocks.iter().map(|b| vec![b.clone()]).collect()
        };
        let now = unix_now();
        let started = Instant::now();
        for group in groups {
            let results = if grouped {
                chain.batch(|c| group.into_iter().map(|b| c.process_block(b, now).0).collect::<Vec<_>>())?
            } else {
                group.into_iter().map(|b| chain.process_block(b, now).0).collect()
            };
            if let Some(refused) = results.iter().find(|r| !matches!(r, Ok(Accepted::Connected))) {
                bail!("the reference chain did not connect a block: {refused:?}");
            }
        }
        Ok(started.elapsed())
    }

    /// The node's sync pipeline in-process: batch k + 1's signatures on rayon's pool (from a
    /// scoped thread) while batch k is connected on this thread with its txids marked verified.
    fn pipelined(blocks: &[Block], args: &Args) -> anyhow::Result<Duration> {
        let params = Network::Dev.params();
        let dir = temp_dir(args).context("creating the reference's temp dir")?;
        let mut chain = Chain::open(&dir.path().join("chain.redb"), params).context("opening a fresh chain")?;
        let batches: Vec<Vec<Block>> = blocks.chunks(MAX_BLOCKS).map(<[Block]>::to_vec).collect();
        let verify = |batch: &[Block]| -> HashSet<Txid> {
            let transfers: Vec<_> = batch.iter().flat_map(|b| b.txs.iter().filter_map(Tx::as_transfer)).collect();
            transfers.par_iter().filter(|t| rules::transfer_precheck(t, params).is_ok()).map(|t| t.txid()).collect()
        };
        let now = unix_now();
        let started = Instant::now();
        std::thread::scope(|scope| -> anyhow::Result<()> {
            let mut batches = batches.into_iter();
            let Some(first) = batches.next() else { return Ok(()) };
            let mut current = (verify(&first), first);
            for next in batches.map(Some).chain(std::iter::once(None)) {
                let ahead = next.map(|batch| scope.spawn(move || (verify(&batch), batch)));
                let (verified, batch) = current;
                for group in groups_of(batch) {
                    let results = chain.batch_verified(verified.clone(), |c| {
                        group.into_iter().map(|b| c.process_block(b, now).0).collect::<Vec<_>>()
                    })?;
                    if let Some(refused) = results.iter().find(|r| !matches!(r, Ok(Accepted::Connected))) {
                        bail!("the reference chain did not connect a block: {refused:?}");
                    }
                }
                match ahead {
                    Some(handle) => {
                        current = handle.join().map_err(|_| anyhow::anyhow!("the verifying thread panicked"))?;
                    }
                    None => break,
                }
            }
            Ok(())
        })?;
        Ok(started.elapsed())
    }

    fn pipelined_rate(&self) -> f64 {
        self.transfers as f64 / self.pipelined.as_secs_f64()
    }

    fn grouped_rate(&self) -> f64 {
        self.transfers as f64 / self.grouped.as_secs_f64()
    }

    fn per_block_rate(&self) -> Option<f64> {
        self.per_block.map(|d| self.transfers as f64 / d.as_secs_f64())
    }

    fn signature_rate(&self) -> f64 {
        self.transfers as f64 / self.signatures.as_secs_f64()
    }
}

/// One measured OxCoin sync.
#[derive(Clone, Debug)]
struct Sync {
    seconds: f64,
    /// From B's spawn to its API's first answer.
    startup: f64,
    peak_rss: u64,
    b_cpu: f64,
    a_cpu: f64,
    others_cpu: f64,
    steal: f64,
    load_before: String,
    load_after: String,
    blocks: u64,
    transfers: u64,
}

impl Sync {
    fn rate(&self) -> f64 {
        self.transfers as f64 / self.seconds
    }
}

/// Starts A on the cached chain and a fresh B peering with it; times B until it has A's tip.
fn measure_sync(args: &Args, oxminer: &Path, chain: &CachedChain, run: usize) -> anyhow::Result<Sync> {
    let mut a = Node::start(oxminer, &chain.dir, &[], "warn", "A")?;
    a.wait_ready(Duration::from_secs(120))?;
    let status = a.status()?;
    ensure!(
        status["height"].as_u64() == Some(chain.height) && status["best_hash"].as_str() == Some(chain.tip.as_str()),
        "node A serves height {} tip {}, the cache says {} {}",
        status["height"],
        status["best_hash"],
        chain.height,
        chain.tip
    );
    let b_dir = temp_dir(args).context("creating B's temp dir")?;
    let peer = format!("http://{}", a.addr);
    let load_before = procfs::load_average();
    let a_cpu = cpu_seconds(a.pid())?;
    let self_cpu = cpu_seconds(std::process::id())?;
    let machine_before = MachineCpu::now().context("reading /proc/stat")?;
    progress(format!("syncing {} blocks from A ({peer}) into a fresh node B", chain.height));
    let started = Instant::now();
    let mut b = Node::start(oxminer, b_dir.path(), &["--peer", &peer], "info", "B")?;
    let outcome = (|| {
        let startup = b.wait_ready(Duration::from_secs(120))?.as_secs_f64();
        let deadline = started + Duration::from_secs(args.timeout);
        let mut last_log = Instant::now();
        loop {
            // A status that fails to answer in time is retried: B is busy, not gone.
            let height = b.status().ok().and_then(|s| s["height"].as_u64()).unwrap_or(0);
            if height >= chain.height {
                break;
            }
            if let Some(status) = b.exited() {
                bail!("node B exited ({status}) at height {height}; its log:\n{}", b.log_tail());
            }
            if Instant::now() > deadline {
                bail!(
                    "node B reached only {height}/{} within {} s; its log:\n{}",
                    chain.height,
                    args.timeout,
                    b.log_tail()
                );
            }
            if last_log.elapsed() >= Duration::from_secs(10) {
                last_log = Instant::now();
                progress(format!("  B at {height}/{} after {:.0?}", chain.height, started.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let seconds = started.elapsed().as_secs_f64();
        let peak_rss = procfs::status_kb(b.pid(), "VmHWM").context("no VmHWM")? * 1024;
        let b_cpu = cpu_seconds(b.pid())?;
        let a_cpu = cpu_seconds(a.pid())? - a_cpu;
        let self_cpu = cpu_seconds(std::process::id())? - self_cpu;
        let machine = MachineCpu::now().context("reading /proc/stat")?.since(&machine_before);
        let tip = b.status()?;
        ensure!(tip["best_hash"].as_str() == Some(chain.tip.as_str()), "node B synced another tip: {tip}");
        Ok(Sync {
            seconds,
            startup,
            peak_rss,
            b_cpu,
            a_cpu,
            others_cpu: (machine.busy - b_cpu - a_cpu - self_cpu).max(0.0),
            steal: machine.steal,
            load_before: load_before.clone(),
            load_after: procfs::load_average(),
            blocks: chain.height,
            transfers: chain.transfers,
        })
    })();
    b.stop();
    a.stop();
    if let Some(dir) = &args.log_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let to = dir.join(format!("sync-B-{}-run{run}.log", unix_now()));
        std::fs::copy(&b.log, &to).with_context(|| format!("copying B's log to {}", to.display()))?;
        progress(format!("B's log: {}", to.display()));
    }
    outcome
}

/// A spawned `oxminer run --network dev --no-mine --connect-only` on a free loopback port.
struct Node {
    name: &'static str,
    addr: SocketAddr,
    child: Option<Child>,
    log: PathBuf,
    started: Instant,
}

impl Node {
    fn start(
        oxminer: &Path,
        data_dir: &Path,
        extra: &[&str],
        log_level: &str,
        name: &'static str,
    ) -> anyhow::Result<Self> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let log = data_dir.join(format!("node-{name}.log"));
        let log_file = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let started = Instant::now();
        let child = Command::new(oxminer)
            .args(["run", "--network", "dev", "--no-mine", "--connect-only", "--listen", &addr.to_string()])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env_remove("OXMINER_NETWORK")
            .env_remove("OXMINER_CONFIG")
            .env("RUST_LOG", log_level)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting {}", oxminer.display()))?;
        Ok(Self { name, addr, child: Some(child), log, started })
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// Waits until the API answers; returns the time since the spawn.
    fn wait_ready(&mut self, limit: Duration) -> anyhow::Result<Duration> {
        loop {
            if self.status().is_ok() {
                return Ok(self.started.elapsed());
            }
            if let Some(status) = self.exited() {
                bail!("node {} exited ({status}); its log:\n{}", self.name, self.log_tail());
            }
            if self.started.elapsed() > limit {
                bail!("node {} did not answer within {limit:?}; its log:\n{}", self.name, self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn status(&self) -> anyhow::Result<Value> {
        let r = http(self.addr, "GET", "/api/v1/status", None, &[])?;
        ensure!(r.status == 200, "status answered {}", r.status);
        Ok(r.json)
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// SIGTERM, then SIGKILL after 10 s.
    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let started = Instant::now();
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        loop {
            match child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) if started.elapsed() < Duration::from_secs(10) => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    progress(format!("node {} did not stop within 10 s of SIGTERM: killing it", self.name));
                    let _ = child.kill();
                    let _ = child.wait();
                    return;
                }
            }
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs `bench/litecoind_sync.py` for one sync and returns its JSON line.
fn litecoind(args: &Args) -> anyhow::Result<Value> {
    let script = args
        .litecoind_script
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/litecoind_sync.py"));
    progress(format!("litecoind: {}", script.display()));
    let output = Command::new("python3")
        .arg(&script)
        .args(["--blocks", &args.blocks.to_string(), "--transfers", &args.transfers.to_string(), "--cache-root"])
        .arg(&args.cache_root)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    ensure!(output.status.success(), "{} failed ({})", script.display(), output.status);
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().rev().find(|l| l.starts_with('{')).context("the litecoind script printed no JSON line")?;
    serde_json::from_str(line).context("parsing the litecoind script's JSON line")
}

/// One run's measurements.
struct Run {
    reference: Option<Reference>,
    sync: Sync,
    litecoind: Option<Value>,
}

impl Run {
    fn ratio(&self) -> Option<f64> {
        self.reference.as_ref().map(|r| self.sync.rate() / r.pipelined_rate())
    }

    fn litecoind_rate(&self) -> Option<f64> {
        self.litecoind.as_ref().and_then(|l| l["payments_per_s"].as_f64())
    }

    fn summary(&self, transfers: u64) -> String {
        let mut s = format!(
            "sync: {transfers} transfers in {:.2} s = {:.0} transfers/s, peak RSS {:.1} MB",
            self.sync.seconds,
            self.sync.rate(),
            mb(self.sync.peak_rss)
        );
        if let Some(r) = &self.reference {
            s.push_str(&format!(
                "; in-process pipelined {:.0}/s (ratio {:.2}), grouped {:.0}/s, signatures alone {:.0}/s",
                r.pipelined_rate(),
                self.ratio().unwrap_or_default(),
                r.grouped_rate(),
                r.signature_rate()
            ));
            if let Some(rate) = r.per_block_rate() {
                s.push_str(&format!(", one commit per block {rate:.0}/s"));
            }
        }
        if let Some(l) = self.litecoind_rate() {
            s.push_str(&format!("; litecoind {l:.0} payments/s (OxCoin/litecoind {:.2})", self.sync.rate() / l));
        }
        s
    }
}

fn table(chain: &CachedChain, runs: &[Run], machine: &str) -> String {
    let mut out = format!(
        "machine             {machine}\nchain               {} blocks, {} transfers (dev), tip {}\n",
        chain.height, chain.transfers, chain.tip
    );
    for (i, r) in runs.iter().enumerate() {
        let s = &r.sync;
        out.push_str(&format!(
            "\nrun {}               load average {} before the sync, {} after\n",
            i + 1,
            s.load_before,
            s.load_after
        ));
        out.push_str(&format!(
            "  OxCoin sync       {:.2} s: {:.0} blocks/s, {:.0} transfers/s, peak RSS {:.1} MB (B answered after {:.2} s)\n",
            s.seconds,
            s.blocks as f64 / s.seconds,
            s.rate(),
            mb(s.peak_rss),
            s.startup
        ));
        out.push_str(&format!(
            "  CPU during it     B {:.1} s ({:.0} µs/transfer), A {:.1} s, other processes {:.1} s, steal {:.1} s\n",
            s.b_cpu,
            s.b_cpu * 1e6 / s.transfers as f64,
            s.a_cpu,
            s.others_cpu,
            s.steal
        ));
        if let Some(x) = &r.reference {
            out.push_str(&format!(
                "  in-process        pipelined as in sync {:.0} transfers/s ({:.1} s); grouped, signatures inside {:.0} transfers/s ({:.1} s); signatures alone {:.0} transfers/s ({:.1} s)\n",
                x.pipelined_rate(),
                x.pipelined.as_secs_f64(),
                x.grouped_rate(),
                x.grouped.as_secs_f64(),
                x.signature_rate(),
                x.signatures.as_secs_f64()
            ));
            if let (Some(rate), Some(took)) = (x.per_block_rate(), x.per_block) {
                out.push_str(&format!(
                    "                    process_block with one durable commit per block {rate:.0} transfers/s ({:.1} s)\n",
                    took.as_secs_f64()
                ));
            }
            out.push_str(&format!(
                "  ratios            sync / in-process pipelined {:.2}; sync / signatures alone {:.2}\n",
                r.ratio().unwrap_or_default(),
                s.rate() / x.signature_rate()
            ));
        }
        if let (Some(l), Some(rate)) = (&r.litecoind, r.litecoind_rate()) {
            out.push_str(&format!(
                "  litecoind sync    {:.2} s: {:.0} blocks/s, {:.0} payments/s, peak RSS {:.1} MB; CPU B {:.1} s, A {:.1} s\n",
                l["seconds"].as_f64().unwrap_or_default(),
                l["blocks_per_s"].as_f64().unwrap_or_default(),
                rate,
                l["peak_rss_mb"].as_f64().unwrap_or_default(),
                l["b_cpu_seconds"].as_f64().unwrap_or_default(),
                l["a_cpu_seconds"].as_f64().unwrap_or_default()
            ));
            out.push_str(&format!("  OxCoin/litecoind  {:.2}\n", s.rate() / rate));
        }
    }
    out.push('\n');
    let rates: Vec<f64> = runs.iter().map(|r| r.sync.rate()).collect();
    let best = rates.iter().copied().fold(0.0, f64::max);
    out.push_str(&format!(
        "\ngoal ≥ {GOAL_RATE:.0} transfers/s        {} (median {:.0}, best {best:.0})\n",
        met(median(&rates) >= GOAL_RATE),
        median(&rates)
    ));
    let ratios: Vec<f64> = runs.iter().filter_map(Run::ratio).collect();
    if !ratios.is_empty() {
        out.push_str(&format!(
            "goal sync / in-process ≥ {GOAL_RATIO}   {} (median {:.2})\n",
            met(median(&ratios) >= GOAL_RATIO),
            median(&ratios)
        ));
    }
    let vs: Vec<f64> = runs.iter().filter_map(|r| r.litecoind_rate().map(|l| r.sync.rate() / l)).collect();
    if !vs.is_empty() {
        out.push_str(&format!(
            "goal OxCoin / litecoind ≥ {GOAL_LITECOIND}   {} (median {:.2})\n",
            met(median(&vs) >= GOAL_LITECOIND),
            median(&vs)
        ));
    }
    out
}

fn report(args: &Args, machine: &str, chain: &CachedChain, runs: &[Run]) -> Value {
    json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "machine": machine,
        "chain": { "blocks": chain.height, "transfers": chain.transfers, "tip": chain.tip, "dir": chain.dir },
        "runs": runs.iter().map(|r| json!({
            "sync": {
                "seconds": r.sync.seconds,
                "startup_seconds": r.sync.startup,
                "blocks_per_s": r.sync.blocks as f64 / r.sync.seconds,
                "transfers_per_s": r.sync.rate(),
                "peak_rss_mb": mb(r.sync.peak_rss),
                "b_cpu_seconds": r.sync.b_cpu,
                "a_cpu_seconds": r.sync.a_cpu,
                "others_cpu_seconds": r.sync.others_cpu,
                "steal_seconds": r.sync.steal,
                "loadavg_before": r.sync.load_before,
                "loadavg_after": r.sync.load_after,
            },
            "in_process": r.reference.as_ref().map(|x| json!({
                "blocks": x.blocks,
                "transfers": x.transfers,
                "pipelined_seconds": x.pipelined.as_secs_f64(),
                "pipelined_transfers_per_s": x.pipelined_rate(),
                "grouped_seconds": x.grouped.as_secs_f64(),
                "grouped_transfers_per_s": x.grouped_rate(),
                "per_block_seconds": x.per_block.map(|d| d.as_secs_f64()),
                "per_block_transfers_per_s": x.per_block_rate(),
                "signatures_seconds": x.signatures.as_secs_f64(),
                "signatures_transfers_per_s": x.signature_rate(),
                "ratio_sync_to_pipelined": r.ratio(),
                "ratio_sync_to_signatures": r.sync.rate() / x.signature_rate(),
            })),
            "litecoind": r.litecoind,
            "ratio_oxcoin_to_litecoind": r.litecoind_rate().map(|l| r.sync.rate() / l),
        })).collect::<Vec<_>>(),
        "goals": { "transfers_per_s": GOAL_RATE, "ratio_to_in_process": GOAL_RATIO, "ratio_to_litecoind": GOAL_LITECOIND },
        "runs_requested": args.runs,
        "tmp_root": args.tmp_root.as_ref().map_or_else(|| std::env::temp_dir().display().to_string(), |p| p.display().to_string()),
    })
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1u32 << 20)
}

/// CPU model, core count and load average.
fn machine() -> String {
    format!("{} ({} cores), load average {}", procfs::cpu_model(), procfs::cores(), procfs::load_average())
}

/// User + system CPU seconds of a process.
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    procfs::cpu_seconds(pid).with_context(|| format!("reading /proc/{pid}/stat"))
}

/// A temp dir in `--tmp-root` or the system's.
fn temp_dir(args: &Args) -> std::io::Result<tempfile::TempDir> {
    match &args.tmp_root {
        Some(root) => tempfile::tempdir_in(root),
        None => tempfile::tempdir(),
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A progress line on stderr, stamped with the UTC time of day.
fn progress(message: String) {
    let day = unix_now() % 86_400;
    eprintln!("[sync_bench {:02}:{:02}:{:02}] {message}", day / 3_600, day / 60 % 60, day % 60);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_lines_judge_the_rate_and_each_ratio() {
        let m = Medians {
            rate: 6_000.0,
            in_process: vec![5_000.0, 4_000.0],
            ratio: vec![1.25, 1.5],
            litecoind: vec![8_000.0],
            vs_litecoind: vec![0.75],
        };
        let lines = bench_lines(10_000, 200_000, &m);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].figure, "fresh-node sync, 10k blocks / 200k transfers");
        assert_eq!(lines[0].ratio, Some(1.375));
        assert_eq!(lines[0].reference, Some(("in-process validation, pipelined".to_owned(), 4_500.0)));
        assert_eq!(lines[0].met, Some(false));
        assert_eq!(lines[0].extra["ratio_met"], true);
        assert_eq!(lines[1].met, Some(false));
        let alone =
            Medians { rate: 25_000.0, in_process: vec![], ratio: vec![], litecoind: vec![], vs_litecoind: vec![] };
        let lines = bench_lines(10_000, 200_000, &alone);
        assert_eq!(lines.len(), 1);
        assert_eq!((lines[0].reference.clone(), lines[0].met), (None, Some(true)));
    }
}
