//! `restart_bench`: restart time and memory of the real node on a large dev chain.
//!
//! ```text
//! cargo run --release -p oxcoin-tests --bin restart_bench -- --data-dir /tmp/oxchain-100k
//! ```
//!
//! Generates the chain first when `<data-dir>/dev/chain.redb` does not exist (`--blocks`,
//! `--transfers`, see `oxcoin_tests::chaingen`). Then, `--runs` times: spawns
//! `oxminer run --network dev --no-mine --data-dir <data-dir> --listen 127.0.0.1:<free port>`,
//! measures the time from spawning the process to the first `200` of `GET /api/v1/status`, reads
//! `VmRSS`/`VmHWM` from `/proc/<pid>/status` at that moment, sends `--queries` GET requests
//! (`/api/v1/addresses/{a}` and `/api/v1/blocks/{height}` alternately, random accounts and
//! heights), reads the memory again, and stops the node with SIGTERM (timed; exit status 0
//! required). Every run after the first is a restart after a graceful stop. With `--kill9 K`,
//! K more runs end with SIGKILL instead, and one last run measures the start after the crash.
//!
//! With `--mempool-per-sender K`, the chain's senders first post K transfers each to the node,
//! which saves them on the graceful stop, so every measured start reloads (and re-verifies) them.

use anyhow::{Context, bail, ensure};
use clap::Parser;
use oxcoin::encode::Encode;
use oxcoin::testkit::{account_of, transfer};
use oxcoin::{Address, Network};
use oxcoin_tests::bench::{BenchLine, Rng};
use oxcoin_tests::chaingen::{self, Plan};
use oxcoin_tests::{Response, free_port, http, procfs};
use rayon::prelude::*;
use serde_json::json;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Measures restart time and memory of `oxminer` on a generated dev chain.
#[derive(Parser, Debug)]
#[command(name = "restart_bench", version)]
struct Args {
    /// The node's data folder (the chain is `<data-dir>/dev/chain.redb`; generated when missing).
    #[arg(long)]
    data_dir: PathBuf,
    /// Blocks of the chain to generate when it is missing.
    #[arg(long, default_value_t = 100_000)]
    blocks: u64,
    /// Transfers of the chain to generate when it is missing.
    #[arg(long, default_value_t = 1_000_000)]
    transfers: u64,
    /// The `oxminer` to run [default: the release build next to this executable, built first].
    #[arg(long)]
    oxminer: Option<PathBuf>,
    /// Starts measured (the first one after whatever stop came before, the others after a graceful stop).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// GET requests sent after each start before the memory is read again.
    #[arg(long, default_value_t = 1_000)]
    queries: usize,
    /// Pending transfers each of the chain's senders posts before the measured starts (0: none).
    #[arg(long, default_value_t = 0)]
    mempool_per_sender: u64,
    /// Runs ended with SIGKILL after the graceful ones (each followed by a measured start).
    #[arg(long, default_value_t = 0)]
    kill9: usize,
}

/// How the node before a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Before {
    /// Whatever happened before this program ran.
    Unknown,
    /// SIGTERM, exit 0.
    Term,
    /// SIGKILL.
    Kill,
}

/// Memory of a process from `/proc/<pid>/status`, in kB.
#[derive(Clone, Copy, Debug, Default)]
struct Memory {
    rss_kb: u64,
    hwm_kb: u64,
}

fn memory(pid: u32) -> anyhow::Result<Memory> {
    let field = |name: &str| procfs::status_kb(pid, name).with_context(|| format!("no {name} in /proc/{pid}/status"));
    Ok(Memory { rss_kb: field("VmRSS")?, hwm_kb: field("VmHWM")? })
}

/// One measured start.
#[derive(Debug)]
struct Run {
    ready: Duration,
    at_ready: Memory,
    after_queries: Memory,
    latencies_us: Vec<u64>,
    stop: Option<Duration>,
    height: u64,
    mempool: u64,
    before: Before,
}

struct NodeProc {
    child: Child,
    addr: SocketAddr,
    started: Instant,
}

impl NodeProc {
    fn spawn(oxminer: &Path, data_dir: &Path, log: &Path) -> anyhow::Result<Self> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let log = std::fs::OpenOptions::new().create(true).append(true).open(log).context("opening the node log")?;
        let started = Instant::now();
        let child = Command::new(oxminer)
            .args(["run", "--network", "dev", "--no-mine", "--data-dir"])
            .arg(data_dir)
            .args(["--listen", &addr.to_string()])
            .env_remove("OXMINER_NETWORK")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", oxminer.display()))?;
        Ok(Self { child, addr, started })
    }

    /// Polls `GET /api/v1/status` until it answers 200; returns the time since the spawn.
    fn wait_ready(&mut self) -> anyhow::Result<(Duration, Response)> {
        loop {
            if let Ok(r) = http(self.addr, "GET", "/api/v1/status", None, &[])
                && r.status == 200
            {
                return Ok((self.started.elapsed(), r));
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("oxminer exited with {status} before answering");
            }
            if self.started.elapsed() > Duration::from_secs(300) {
                bail!("oxminer did not answer within 300 s");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn get(&self, path: &str) -> anyhow::Result<Response> {
        http(self.addr, "GET", path, None, &[]).with_context(|| format!("GET {path}"))
    }

    /// SIGKILL, and reaps the process.
    fn kill9(mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// SIGTERM, then waits for exit 0; returns how long the stop took.
    fn stop(mut self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let pid = self.child.id().to_string();
        ensure!(Command::new("kill").args(["-TERM", &pid]).status()?.success(), "kill -TERM {pid} failed");
        loop {
            if let Some(status) = self.child.try_wait()? {
                ensure!(status.success(), "oxminer exited with {status} after SIGTERM");
                return Ok(started.elapsed());
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                bail!("oxminer did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The query burst: addresses (senders and recipients) and blocks at random heights, alternately.
fn queries(node: &NodeProc, count: usize, height: u64, senders: u32) -> anyhow::Result<Vec<u64>> {
    let mut rng = Rng::new();
    let mut latencies = Vec::with_capacity(count);
    for i in 0..count {
        let path = if i % 2 == 0 {
            let account = if rng.below(2) == 0 {
                account_of(&chaingen::sender_key(rng.below(u64::from(senders)) as u32))
            } else {
                chaingen::recipient(rng.below(50_000) as u32)
            };
            format!("/api/v1/addresses/{}", Address::new(Network::Dev, account))
        } else {
            format!("/api/v1/blocks/{}", rng.below(height + 1))
        };
        let started = Instant::now();
        let r = node.get(&path)?;
        latencies.push(started.elapsed().as_micros() as u64);
        ensure!(r.status == 200, "GET {path}: {} {}", r.status, r.body);
    }
    Ok(latencies)
}

/// Every sender posts `per_sender` transfers of 1 grain at the minimum fee, from its next nonce.
fn fill_mempool(node: &NodeProc, senders: u32, per_sender: u64) -> anyhow::Result<u64> {
    let params = Network::Dev.params();
    let fee = oxcoin::tx::TRANSFER_BASE_LEN as u64 * params.min_fee_rate;
    let accepted: anyhow::Result<Vec<u64>> = (0..senders)
        .into_par_iter()
        .map(|i| {
            let key = chaingen::sender_key(i);
            let address = Address::new(Network::Dev, account_of(&key));
            let a = node.get(&format!("/api/v1/addresses/{address}"))?;
            let nonce = a.json["next_nonce"].as_u64().context("next_nonce")?;
            let balance = a.json["balance"].as_u64().context("balance")?;
            let affordable = balance / (fee + 1);
            let mut accepted = 0;
            for k in 0..per_sender.min(affordable) {
                let t = transfer(params, &key, chaingen::recipient(i), 1, fee, nonce + k);
                let r =
                    http(node.addr, "POST", "/api/v1/txs", Some(&json!({"raw_hex": t.encode_hex()}).to_string()), &[])?;
                ensure!(r.status == 202, "POST /txs: {} {}", r.status, r.body);
                accepted += 1;
            }
            Ok(accepted)
        })
        .collect();
    Ok(accepted?.iter().sum())
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let store = chaingen::store_path(&args.data_dir);
    let plan = Plan::new(args.blocks, args.transfers);
    if !store.exists() {
        println!("generating {} blocks with {} transfers into {}", plan.blocks, plan.transfers, store.display());
        let mut last = Duration::ZERO;
        let summary = chaingen::generate_with(&args.data_dir, &plan, |p| {
            if p.elapsed >= last + Duration::from_secs(10) {
                last = p.elapsed;
                println!("  height {}/{}, {:.0} s", p.height, p.blocks, p.elapsed.as_secs_f64());
            }
        })?;
        println!("generated in {:.1} s", summary.elapsed.as_secs_f64());
    }
    let oxminer = match &args.oxminer {
        Some(path) => path.clone(),
        None => oxcoin_tests::binary("oxminer"),
    };
    let log = args.data_dir.join("restart_bench-node.log");
    let store_mb = std::fs::metadata(&store).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    println!("machine   {} ({} cores), load average {}", procfs::cpu_model(), procfs::cores(), procfs::load_average());
    println!("node      {}", oxminer.display());
    println!("store     {} ({store_mb:.1} MB)", store.display());

    if args.mempool_per_sender > 0 {
        let mut node = NodeProc::spawn(&oxminer, &args.data_dir, &log)?;
        node.wait_ready()?;
        let started = Instant::now();
        let posted = fill_mempool(&node, plan.senders, args.mempool_per_sender)?;
        let count = node.get("/api/v1/status")?.json["mempool"]["count"].as_u64().unwrap_or(0);
        println!(
            "mempool   {posted} transfers posted in {:.1} s; the node holds {count}",
            started.elapsed().as_secs_f64()
        );
        node.stop()?;
    }

    let mut runs: Vec<Run> = Vec::new();
    let total = args.runs + if args.kill9 > 0 { args.kill9 + 1 } else { 0 };
    for run in 1..=total {
        let kill = run > args.runs && run < total;
        let before = match runs.last() {
            None => Before::Unknown,
            Some(previous) if previous.stop.is_none() => Before::Kill,
            Some(_) => Before::Term,
        };
        let mut node = NodeProc::spawn(&oxminer, &args.data_dir, &log)?;
        let pid = node.child.id();
        let (ready, status) = node.wait_ready()?;
        let at_ready = memory(pid)?;
        let height = status.json["height"].as_u64().context("status has a height")?;
        let mempool = status.json["mempool"]["count"].as_u64().unwrap_or(0);
        let latencies_us = queries(&node, args.queries, height, plan.senders)?;
        let after_queries = memory(pid)?;
        let stop = if kill {
            node.kill9()?;
            None
        } else {
            Some(node.stop()?)
        };
        let r = Run { ready, at_ready, after_queries, latencies_us, stop, height, mempool, before };
        let after = match before {
            Before::Unknown => "first start ",
            Before::Term => "after SIGTERM",
            Before::Kill => "after SIGKILL",
        };
        let stop = match r.stop {
            Some(took) => format!("SIGTERM stop {:6.1} ms", took.as_secs_f64() * 1e3),
            None => "SIGKILL".to_owned(),
        };
        println!(
            "run {run} ({after}): ready {:7.1} ms (height {}, mempool {})  RSS {:6.1} MB (peak {:6.1})  after {} queries RSS {:6.1} MB (peak {:6.1})  {stop}",
            r.ready.as_secs_f64() * 1e3,
            r.height,
            r.mempool,
            mb(r.at_ready.rss_kb),
            mb(r.at_ready.hwm_kb),
            args.queries,
            mb(r.after_queries.rss_kb),
            mb(r.after_queries.hwm_kb),
        );
        runs.push(r);
    }
    let mut ready: Vec<u64> = runs.iter().map(|r| r.ready.as_micros() as u64).collect();
    ready.sort_unstable();
    let mut latencies: Vec<u64> = runs.iter().flat_map(|r| r.latencies_us.iter().copied()).collect();
    latencies.sort_unstable();
    let peak = runs.iter().map(|r| r.after_queries.hwm_kb).max().unwrap_or(0);
    let rss = runs.iter().map(|r| r.after_queries.rss_kb).max().unwrap_or(0);
    let restarts: Vec<u64> =
        runs.iter().filter(|r| r.before == Before::Term).map(|r| r.ready.as_micros() as u64).collect();
    let crash_restarts: Vec<u64> =
        runs.iter().filter(|r| r.before == Before::Kill).map(|r| r.ready.as_micros() as u64).collect();
    let worst_restart = restarts.iter().max().copied().unwrap_or(0);
    println!(
        "ready     median {:.1} ms, min {:.1}, max {:.1} over {} starts",
        percentile(&ready, 50.0) as f64 / 1e3,
        ready.first().copied().unwrap_or(0) as f64 / 1e3,
        ready.last().copied().unwrap_or(0) as f64 / 1e3,
        ready.len()
    );
    println!(
        "queries   p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} requests, one connection each)",
        percentile(&latencies, 50.0) as f64 / 1e3,
        percentile(&latencies, 99.0) as f64 / 1e3,
        latencies.last().copied().unwrap_or(0) as f64 / 1e3,
        latencies.len()
    );
    println!("memory    largest RSS after queries {:.1} MB, largest peak (VmHWM) {:.1} MB", mb(rss), mb(peak));
    println!("goal RSS ≤ 150 MB          {}", if mb(peak) <= 150.0 { "met (peak)" } else { "NOT met (peak)" });
    if !restarts.is_empty() {
        println!(
            "goal restart < 1 s         {} (slowest restart after a graceful stop: {:.1} ms)",
            if worst_restart < 1_000_000 { "met" } else { "NOT met" },
            worst_restart as f64 / 1e3
        );
    }
    if let Some(worst) = crash_restarts.iter().max() {
        println!(
            "goal restart < 1 s         {} after SIGKILL (slowest: {:.1} ms)",
            if *worst < 1_000_000 { "met" } else { "NOT met" },
            *worst as f64 / 1e3
        );
    }
    for line in bench_lines(&runs) {
        line.print();
    }
    Ok(())
}

/// Goal of issue 7 for a restart, in seconds.
const GOAL_RESTART_S: f64 = 1.0;
/// Goal of issue 7 for the node's memory, in MB.
const GOAL_RSS_MB: f64 = 150.0;

/// The summary lines for `bench/all.sh`: the slowest restart after a graceful stop (the slowest
/// start of any kind when there was none), after SIGKILL when measured, and the peak RSS.
fn bench_lines(runs: &[Run]) -> Vec<BenchLine> {
    let Some(last) = runs.last() else { return Vec::new() };
    let chain = format!("{}k blocks", last.height / 1_000);
    let slowest = |before: Option<Before>| {
        runs.iter().filter(|r| before.is_none_or(|b| r.before == b)).map(|r| r.ready.as_secs_f64()).reduce(f64::max)
    };
    let restart = |figure: String, seconds: f64| {
        BenchLine::new(figure, seconds, "s")
            .goal(format!("< {GOAL_RESTART_S} s"), seconds < GOAL_RESTART_S)
            .with("mempool", last.mempool)
            .with("starts", runs.len())
    };
    let mut lines = Vec::new();
    match slowest(Some(Before::Term)) {
        Some(s) => lines.push(restart(format!("restart, {chain}"), s)),
        None => lines.extend(slowest(None).map(|s| restart(format!("start, {chain}"), s))),
    }
    if let Some(s) = slowest(Some(Before::Kill)) {
        lines.push(restart(format!("restart after SIGKILL, {chain}"), s));
    }
    let peak = runs.iter().map(|r| r.after_queries.hwm_kb).max().unwrap_or(0);
    lines.push(
        BenchLine::new(format!("RSS (peak), {chain}"), mb(peak), "MB")
            .goal(format!("<= {GOAL_RSS_MB} MB"), mb(peak) <= GOAL_RSS_MB)
            .with("mempool", last.mempool),
    );
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(before: Before, ready_ms: u64, hwm_kb: u64) -> Run {
        let memory = Memory { rss_kb: hwm_kb, hwm_kb };
        Run {
            ready: Duration::from_millis(ready_ms),
            at_ready: memory,
            after_queries: memory,
            latencies_us: Vec::new(),
            stop: Some(Duration::ZERO),
            height: 100_000,
            mempool: 0,
            before,
        }
    }

    #[test]
    fn bench_lines_take_the_slowest_graceful_restart_and_the_peak() {
        let runs =
            [run(Before::Unknown, 2_000, 80_000), run(Before::Term, 400, 90_000), run(Before::Term, 600, 70_000)];
        let lines = bench_lines(&runs);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].figure, "restart, 100k blocks");
        assert_eq!(lines[0].value, 0.6);
        assert_eq!(lines[0].met, Some(true));
        assert_eq!(lines[1].figure, "RSS (peak), 100k blocks");
        assert_eq!(lines[1].met, Some(true));
    }

    #[test]
    fn a_single_start_is_reported_as_a_start() {
        let lines = bench_lines(&[run(Before::Unknown, 1_500, 200_000)]);
        assert_eq!(lines[0].figure, "start, 100k blocks");
        assert_eq!(lines[0].met, Some(false));
        assert_eq!(lines[1].met, Some(false));
        assert!(bench_lines(&[]).is_empty());
    }
}
