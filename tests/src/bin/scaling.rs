//! `scaling`: how the real node's costs grow with the chain's length (issue 7: "costs stay flat
//! per block, no O(chain) work per block, no O(history) work per balance query").
//!
//! ```text
//! cargo run --release -p oxcoin-tests --bin scaling [-- --lengths 1000,10000,100000]
//! ```
//!
//! For each length N, a dev chain of N blocks with `--transfers-per-block` transfers each
//! (`oxcoin_tests::chaingen`, as `gen_chain` makes it) is taken from the cache under
//! `--cache-root` (generated there when missing, or copied from a `--seed`), copied into a
//! temp folder (a run never writes into the cache), and served by the release `oxminer` with
//! `--no-mine`. Then, over HTTP on 127.0.0.1 (exempt from rate limits), one keep-alive connection:
//!
//! 1. `GET /addresses/{a}` of random accounts (the chain's senders and recipients): p50, p99;
//! 2. `GET /addresses/{a}/txs` (the first page) of the funder, whose history holds every
//!    coinbase (N rows and more), and of sender 0 (N × transfers-per-block / 1,000 rows): p50, p99;
//! 3. `GET /status`: p50;
//! 4. connecting new blocks at the tip through `POST /blocks`: one untimed block in which the
//!    funder pays `--block-transfers` fresh senders, then `--extend-blocks` blocks of
//!    `--block-transfers` transfers (one from each fresh sender, to the chain's recipients), then
//!    `--small-blocks` blocks of 10 transfers, where fixed per-block costs are not hidden behind
//!    signature checks: wall time and the node's CPU time per block, µs per transfer;
//! 5. restarts after SIGTERM: time from the spawn to the first `200` of `/status`, `VmRSS` then,
//!    and `VmRSS`/`VmHWM` after a burst of balance queries.
//!
//! The lengths are measured side by side, not one after the other: one node per length, all
//! started first, and each step done on every node in turn (a query, a block, a restart), so a
//! change in the shared machine's load weighs on every length alike. The transfers of step 4 do
//! not depend on the chain: they are signed once and reused for every length, so every length
//! connects the same work. Prints one table of costs (a row per length), one of their ratios to
//! the first length (flat ≈ 1.0), and `BENCH` lines. Timings are printed, never asserted.

use anyhow::{Context, ensure};
use clap::Parser;
use ed25519_dalek::SigningKey;
use oxcoin::encode::Encode;
use oxcoin::testkit::{self, account_of};
use oxcoin::{Address, Block, BlockHash, Network, Transfer};
use oxcoin_tests::bench::{BenchLine, Rng, percentile, table};
use oxcoin_tests::chaingen::{self, Plan};
use oxcoin_tests::{KeepAlive, NodeProcess, http, procfs};
use rayon::prelude::*;
use serde_json::{Value, json};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Seed byte of the fresh senders' keys (`testkit::key(EXTENSION_SEED, i)`).
const EXTENSION_SEED: u8 = 0xE7;
/// Transfers in each of the `--small-blocks`.
const SMALL_BLOCK_TRANSFERS: usize = 10;
/// Bumped when the cached chains' layout changes (shared with `sync_bench`'s cache names).
const CACHE_VERSION: u32 = 2;
/// A cost is called flat when it is at most this many times its value at the first length.
const FLAT: f64 = 2.0;

/// Measures how the node's costs grow with the chain's length.
#[derive(Parser, Debug)]
#[command(name = "scaling", version)]
struct Args {
    /// Chain lengths in blocks, the first one the reference of the ratios.
    #[arg(long, value_delimiter = ',', default_values_t = [1_000u64, 10_000, 100_000])]
    lengths: Vec<u64>,
    /// Transfers per block of the generated chains.
    #[arg(long, default_value_t = 10)]
    transfers_per_block: u64,
    /// Where generated chains are kept (`oxcoin-dev-b<blocks>-t<transfers>-v2`, as `sync_bench`).
    #[arg(long, default_value = "/tmp/oxcoin-bench")]
    cache_root: PathBuf,
    /// `LENGTH=DIR`: a data dir holding a generated chain of that length (e.g. made by
    /// `gen_chain`) to copy into the cache instead of generating it; only its store is read.
    #[arg(long, default_value = "100000=/tmp/oxchain-100k")]
    seed: Vec<String>,
    /// Folder of the temp copies [default: the system temp dir].
    #[arg(long)]
    tmp_root: Option<PathBuf>,
    /// Full-ish blocks connected at the tip.
    #[arg(long, default_value_t = 200)]
    extend_blocks: usize,
    /// Transfers in each of them (6,755 fill a block).
    #[arg(long, default_value_t = 6_000)]
    block_transfers: usize,
    /// Blocks of 10 transfers connected after them.
    #[arg(long, default_value_t = 200)]
    small_blocks: usize,
    /// Balance queries (and half as many of each history).
    #[arg(long, default_value_t = 2_000)]
    queries: usize,
    /// Restarts after SIGTERM measured per length.
    #[arg(long, default_value_t = 3)]
    restarts: usize,
}

/// A cached chain.
struct Cached {
    dir: PathBuf,
    plan: Plan,
}

/// The costs measured at one length.
#[derive(Clone, Debug, Default)]
struct Costs {
    blocks: u64,
    store_mb: f64,
    balance_p50: f64,
    balance_p99: f64,
    funder_history_p50: f64,
    funder_history_p99: f64,
    sender_history_p50: f64,
    sender_history_p99: f64,
    status_p50: f64,
    full_block_ms: f64,
    full_block_cpu_ms: f64,
    transfer_us: f64,
    small_block_ms: f64,
    small_block_cpu_ms: f64,
    restart_ms: f64,
    rss_ready_mb: f64,
    rss_mb: f64,
    peak_mb: f64,
    load: String,
}

/// One column of the tables: its header, unit, how to read it, and whether it should stay flat.
struct Metric {
    name: &'static str,
    unit: &'static str,
    get: fn(&Costs) -> f64,
    goal: Goal,
}

enum Goal {
    /// At most [`FLAT`] × the first length's figure.
    Flat,
    /// Below an absolute limit.
    Below(f64, &'static str),
    /// At most an absolute limit.
    AtMost(f64, &'static str),
}

const METRICS: [Metric; 11] = [
    Metric { name: "full block", unit: "ms", get: |c| c.full_block_ms, goal: Goal::Flat },
    Metric { name: "per transfer", unit: "µs", get: |c| c.transfer_us, goal: Goal::Flat },
    Metric { name: "small block", unit: "ms", get: |c| c.small_block_ms, goal: Goal::Flat },
    Metric { name: "small block CPU", unit: "ms", get: |c| c.small_block_cpu_ms, goal: Goal::Flat },
    Metric { name: "balance p50", unit: "ms", get: |c| c.balance_p50, goal: Goal::Flat },
    Metric { name: "balance p99", unit: "ms", get: |c| c.balance_p99, goal: Goal::Flat },
    Metric { name: "history p50", unit: "ms", get: |c| c.funder_history_p50, goal: Goal::Flat },
    Metric { name: "history p99", unit: "ms", get: |c| c.funder_history_p99, goal: Goal::Flat },
    Metric { name: "status p50", unit: "ms", get: |c| c.status_p50, goal: Goal::Flat },
    Metric { name: "restart", unit: "ms", get: |c| c.restart_ms, goal: Goal::Below(1_000.0, "< 1 s") },
    Metric { name: "RSS", unit: "MB", get: |c| c.peak_mb, goal: Goal::AtMost(150.0, "<= 150 MB (peak)") },
];

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(!args.lengths.is_empty(), "--lengths needs at least one length");
    ensure!(
        args.block_transfers >= SMALL_BLOCK_TRANSFERS,
        "--block-transfers must be at least {SMALL_BLOCK_TRANSFERS}"
    );
    let load_start = procfs::load_average();
    println!("machine   {} ({} cores), load average {load_start}", procfs::cpu_model(), procfs::cores());
    let oxminer = oxcoin_tests::binary("oxminer");
    println!("node      {}", oxminer.display());

    let started = Instant::now();
    let extension = Extension::sign(&args);
    println!(
        "signed    {} transfers for the new blocks in {:.1} s (reused for every length)",
        extension.full.iter().map(Vec::len).sum::<usize>() + extension.small.iter().map(Vec::len).sum::<usize>(),
        started.elapsed().as_secs_f64()
    );

    let cached: Vec<Cached> = args.lengths.iter().map(|&n| cached_chain(&args, n)).collect::<anyhow::Result<_>>()?;
    let all = measure(&args, &cached, &extension)?;
    for costs in &all {
        println!("\n== {} blocks (load average {} when its node started)", thousands(costs.blocks), costs.load);
        print_costs(costs);
    }

    println!("\nscaling: costs by chain length ({} transfers per block in the chain)", args.transfers_per_block);
    print!("{}", costs_table(&all));
    println!("\nratio to the {}-block row (flat ≈ 1.0)", thousands(all[0].blocks));
    print!("{}", ratios_table(&all));
    println!(
        "full block: {} transfers; small block: {SMALL_BLOCK_TRANSFERS} transfers; history: the funder's first page",
        args.block_transfers
    );
    println!("load average {load_start} at the start, {} at the end", procfs::load_average());
    for line in bench_lines(&all) {
        line.print();
    }
    Ok(())
}

/// The transfers of the new blocks, signed once for every length.
struct Extension {
    /// The fresh senders' keys.
    senders: Vec<SigningKey>,
    /// What each fresh sender needs in all (amounts and fees).
    needs: Vec<u64>,
    /// The full-ish blocks' transfers.
    full: Vec<Vec<Transfer>>,
    /// The small blocks' transfers.
    small: Vec<Vec<Transfer>>,
}

impl Extension {
    fn sign(args: &Args) -> Self {
        let params = Network::Dev.params();
        let fee = oxcoin::tx::TRANSFER_BASE_LEN as u64 * params.min_fee_rate;
        let count = args.block_transfers;
        let senders: Vec<SigningKey> =
            (0..count as u32).into_par_iter().map(|i| testkit::key(EXTENSION_SEED, i)).collect();
        let transfer = |block: usize, i: usize, nonce: u64| {
            let to = chaingen::recipient(((block * count + i) * 7_919 % 50_000) as u32);
            testkit::transfer(params, &senders[i], to, 1 + (i as u64 % 100), fee, nonce)
        };
        let full: Vec<Vec<Transfer>> = (0..args.extend_blocks)
            .map(|b| (0..count).into_par_iter().map(|i| transfer(b, i, b as u64)).collect())
            .collect();
        let small: Vec<Vec<Transfer>> = (0..args.small_blocks)
            .map(|b| {
                (0..SMALL_BLOCK_TRANSFERS)
                    .map(|i| transfer(args.extend_blocks + b, i, (args.extend_blocks + b) as u64))
                    .collect()
            })
            .collect();
        // Transfer i of every block comes from fresh sender i.
        let mut needs = vec![0u64; count];
        for block in full.iter().chain(&small) {
            for (i, t) in block.iter().enumerate() {
                needs[i] += t.amount.to_grains() + t.fee.to_grains();
            }
        }
        Self { senders, needs, full, small }
    }

    /// The untimed first block's transfers: the funder pays every fresh sender what it needs.
    fn fan_out(&self, funder_nonce: u64) -> Vec<Transfer> {
        let params = Network::Dev.params();
        let fee = oxcoin::tx::TRANSFER_BASE_LEN as u64 * params.min_fee_rate;
        let funder = chaingen::funder_key();
        (0..self.senders.len())
            .into_par_iter()
            .map(|i| {
                let to = account_of(&self.senders[i]);
                testkit::transfer(params, &funder, to, self.needs[i].max(1), fee, funder_nonce + i as u64)
            })
            .collect()
    }
}

/// The cached chain of `n` blocks: found, copied from a seed, or generated.
fn cached_chain(args: &Args, n: u64) -> anyhow::Result<Cached> {
    let plan = Plan::new(n, n * args.transfers_per_block);
    let dir = args.cache_root.join(format!("oxcoin-dev-b{}-t{}-v{CACHE_VERSION}", plan.blocks, plan.transfers));
    let marker = dir.join("chain.json");
    if marker.exists() {
        return Ok(Cached { dir, plan });
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing the incomplete {}", dir.display()))?;
    }
    let seed = args.seed.iter().filter_map(|s| s.split_once('=')).find(|(length, _)| length.parse() == Ok(n));
    let started = Instant::now();
    let (height, tip) = if let Some((_, seed)) = seed {
        let from = chaingen::store_path(Path::new(seed));
        let to = chaingen::store_path(&dir);
        println!("cache     copying {} into {}", from.display(), dir.display());
        std::fs::create_dir_all(to.parent().context("the store has a folder")?)?;
        std::fs::copy(&from, &to).with_context(|| format!("copying {}", from.display()))?;
        let chain = oxminer::chain::Chain::open(&to, Network::Dev.params())
            .with_context(|| format!("opening the copy {}", to.display()))?;
        ensure!(chain.height().0 == n, "the seed {} holds {} blocks, not {n}", from.display(), chain.height().0);
        (chain.height().0, chain.tip_hash().to_string())
    } else {
        println!(
            "cache     generating {} blocks with {} transfers into {}",
            plan.blocks,
            plan.transfers,
            dir.display()
        );
        let mut last = Duration::ZERO;
        let summary = chaingen::generate_with(&dir, &plan, |p| {
            if p.elapsed >= last + Duration::from_secs(30) {
                last = p.elapsed;
                println!("          height {}/{}, {:.0} s", p.height, p.blocks, p.elapsed.as_secs_f64());
            }
        })?;
        (summary.height, summary.tip.to_string())
    };
    println!("cache     ready in {:.1} s", started.elapsed().as_secs_f64());
    let saved = json!({ "height": height, "tip": tip, "transfers": plan.transfers });
    std::fs::write(&marker, saved.to_string()).context("writing the cache marker")?;
    Ok(Cached { dir, plan })
}

fn address(id: oxcoin::AccountId) -> String {
    Address::new(Network::Dev, id).to_string()
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// One length's node, on its own copy of the cached chain, and what was measured on it.
struct Lane {
    n: u64,
    plan: Plan,
    node: NodeProcess,
    /// The keep-alive connection of the queries (closed before a stop: the node's graceful stop
    /// waits for open connections).
    client: Option<KeepAlive>,
    store_mb: f64,
    /// The tip new blocks go on, its height, and the next new block's time.
    tip: BlockHash,
    height: u64,
    time: u64,
    /// Query latencies in ms.
    balance: Vec<f64>,
    funder_history: Vec<f64>,
    sender_history: Vec<f64>,
    status: Vec<f64>,
    /// Each new block's `POST /blocks` time in s, and the node's CPU seconds over each phase.
    full_posts: Vec<f64>,
    small_posts: Vec<f64>,
    full_cpu: f64,
    small_cpu: f64,
    full_transfers: usize,
    /// Restart times in ms, and memory in kB.
    restarts: Vec<f64>,
    rss_ready_kb: u64,
    rss_kb: u64,
    peak_kb: u64,
    load: String,
    _dir: tempfile::TempDir,
}

impl Lane {
    /// Copies the cached chain into a temp dir and starts the node on it.
    fn start(args: &Args, cached: &Cached) -> anyhow::Result<Self> {
        let n = cached.plan.blocks;
        let dir = match &args.tmp_root {
            Some(root) => tempfile::tempdir_in(root),
            None => tempfile::tempdir(),
        }
        .context("creating a temp dir")?;
        let (from, to) = (chaingen::store_path(&cached.dir), chaingen::store_path(dir.path()));
        std::fs::create_dir_all(to.parent().context("the store has a folder")?)?;
        let started = Instant::now();
        std::fs::copy(&from, &to).with_context(|| format!("copying {}", from.display()))?;
        let store_mb = std::fs::metadata(&to).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
        println!("copied    {} ({store_mb:.0} MB) in {:.1} s", from.display(), started.elapsed().as_secs_f64());
        let node = NodeProcess::start("dev", dir.path(), &["--no-mine"]);
        let status = node.get("/api/v1/status").json;
        ensure!(status["height"].as_u64() == Some(n), "the node serves height {}, not {n}", status["height"]);
        Ok(Self {
            n,
            plan: cached.plan.clone(),
            node,
            client: None,
            store_mb,
            tip: BlockHash::from_byte_array([0; 32]),
            height: n,
            time: 0,
            balance: Vec::new(),
            funder_history: Vec::new(),
            sender_history: Vec::new(),
            status: Vec::new(),
            full_posts: Vec::new(),
            small_posts: Vec::new(),
            full_cpu: 0.0,
            small_cpu: 0.0,
            full_transfers: 0,
            restarts: Vec::new(),
            rss_ready_kb: 0,
            rss_kb: 0,
            peak_kb: 0,
            load: procfs::load_average(),
            _dir: dir,
        })
    }

    /// Times one GET on the keep-alive connection, in ms.
    fn time_get(&mut self, path: &str) -> anyhow::Result<f64> {
        let client = match &mut self.client {
            Some(client) => client,
            None => self
                .client
                .insert(KeepAlive::connect(IpAddr::from([127, 0, 0, 1]), self.node.addr).context("connecting")?),
        };
        let started = Instant::now();
        let answer = client.get(path).with_context(|| format!("GET {path}"))?;
        let took = started.elapsed().as_secs_f64() * 1e3;
        ensure!(answer.status == 200, "GET {path}: {} {}", answer.status, answer.body);
        Ok(took)
    }

    /// A random account of the chain: one of its senders or recipients.
    fn random_account(&self, rng: &mut Rng) -> String {
        let id = if rng.below(2) == 0 {
            account_of(&chaingen::sender_key(rng.below(u64::from(self.plan.senders)) as u32))
        } else {
            chaingen::recipient(rng.below(u64::from(self.plan.recipients)) as u32)
        };
        address(id)
    }

    /// Reads the tip and picks the new blocks' times: after the tip's, and up to the clock.
    fn prepare_blocks(&mut self, count: usize) -> anyhow::Result<()> {
        let tip = self.node.get("/api/v1/blocks/tip").json;
        self.tip = tip["hash"].as_str().context("the tip's hash")?.parse().context("the tip's hash")?;
        self.height = tip["height"].as_u64().context("the tip's height")?;
        let tip_time = tip["time"].as_u64().context("the tip's time")?;
        self.time = (tip_time + 1).max(unix_now().saturating_sub(count as u64));
        Ok(())
    }

    /// Posts the block of `transfers` on top of the lane's tip; returns the POST's time in s.
    fn submit(&mut self, transfers: &[Transfer]) -> anyhow::Result<f64> {
        let params = Network::Dev.params();
        let funder = account_of(&chaingen::funder_key());
        let time = u32::try_from(self.time).context("block time past 2106")?;
        let block: Block = testkit::block(params, self.tip, self.height + 1, time, funder, transfers.to_vec());
        let body = json!({ "raw_hex": block.encode_hex() }).to_string();
        let started = Instant::now();
        let r = http(self.node.addr, "POST", "/api/v1/blocks", Some(&body), &[]).context("POST /blocks")?;
        let took = started.elapsed().as_secs_f64();
        ensure!(r.status == 202 && r.json["status"] == "connected", "POST /blocks: {} {}", r.status, r.body);
        self.tip = block.header.hash();
        self.height += 1;
        self.time += 1;
        Ok(took)
    }

    fn cpu(&self) -> anyhow::Result<f64> {
        procfs::cpu_seconds(self.node.pid()).context("reading the node's CPU time")
    }

    fn costs(&self) -> Costs {
        let sorted = |v: &[f64]| {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            v
        };
        let (balance, funder, sender, status) =
            (sorted(&self.balance), sorted(&self.funder_history), sorted(&self.sender_history), sorted(&self.status));
        let full_blocks = self.full_posts.len().max(1) as f64;
        let full_transfers = self.full_transfers as f64;
        let small_blocks = self.small_posts.len().max(1) as f64;
        let full_wall: f64 = self.full_posts.iter().sum();
        let small_wall: f64 = self.small_posts.iter().sum();
        Costs {
            blocks: self.n,
            store_mb: self.store_mb,
            balance_p50: percentile(&balance, 50.0),
            balance_p99: percentile(&balance, 99.0),
            funder_history_p50: percentile(&funder, 50.0),
            funder_history_p99: percentile(&funder, 99.0),
            sender_history_p50: percentile(&sender, 50.0),
            sender_history_p99: percentile(&sender, 99.0),
            status_p50: percentile(&status, 50.0),
            full_block_ms: full_wall * 1e3 / full_blocks,
            full_block_cpu_ms: self.full_cpu * 1e3 / full_blocks,
            transfer_us: full_wall * 1e6 / full_transfers.max(1.0),
            small_block_ms: small_wall * 1e3 / small_blocks,
            small_block_cpu_ms: self.small_cpu * 1e3 / small_blocks,
            restart_ms: percentile(&sorted(&self.restarts), 50.0),
            rss_ready_mb: mb(self.rss_ready_kb),
            rss_mb: mb(self.rss_kb),
            peak_mb: mb(self.peak_kb),
            load: self.load.clone(),
        }
    }
}

/// Measures every length side by side: one node per length, all running, each step done on
/// every node in turn (a query, a block, a restart), so that a change in the machine's load
/// during the run weighs on every length alike.
fn measure(args: &Args, cached: &[Cached], extension: &Extension) -> anyhow::Result<Vec<Costs>> {
    let mut lanes: Vec<Lane> = cached.iter().map(|c| Lane::start(args, c)).collect::<anyhow::Result<_>>()?;
    let funder = address(account_of(&chaingen::funder_key()));
    let sender0 = address(account_of(&chaingen::sender_key(0)));

    // 1–3. Queries on the chains as generated, after a tenth as many unmeasured ones.
    let phase = Instant::now();
    println!(
        "queries   {} balances, {} of each history, {} /status on each node",
        args.queries,
        args.queries / 2,
        args.queries / 2
    );
    let mut rng = Rng::new();
    let warm = args.queries / 10;
    for i in 0..warm + args.queries {
        for lane in &mut lanes {
            let account = lane.random_account(&mut rng);
            let took = lane.time_get(&format!("/api/v1/addresses/{account}"))?;
            if i >= warm {
                lane.balance.push(took);
            }
        }
    }
    for i in 0..warm + args.queries / 2 {
        for lane in &mut lanes {
            let funder_took = lane.time_get(&format!("/api/v1/addresses/{funder}/txs"))?;
            let sender_took = lane.time_get(&format!("/api/v1/addresses/{sender0}/txs"))?;
            let status_took = lane.time_get("/api/v1/status")?;
            if i >= warm {
                lane.funder_history.push(funder_took);
                lane.sender_history.push(sender_took);
                lane.status.push(status_took);
            }
        }
    }

    println!("          done in {:.1} s", phase.elapsed().as_secs_f64());
    let phase = Instant::now();

    // 4. New blocks: the untimed fan-out, then the full-ish and the small blocks, one node after
    // the other for each block.
    let count = 1 + extension.full.len() + extension.small.len();
    for lane in &mut lanes {
        let next_nonce = lane.node.get(&format!("/api/v1/addresses/{funder}")).json["next_nonce"].as_u64();
        let fan_out = extension.fan_out(next_nonce.context("the funder's next_nonce")?);
        lane.prepare_blocks(count)?;
        lane.submit(&fan_out)?;
    }
    println!(
        "blocks    {} of {} transfers, then {} of {SMALL_BLOCK_TRANSFERS}, on each node",
        extension.full.len(),
        args.block_transfers,
        extension.small.len()
    );
    for (blocks, small) in [(&extension.full, false), (&extension.small, true)] {
        let before: Vec<f64> = lanes.iter().map(Lane::cpu).collect::<anyhow::Result<_>>()?;
        for transfers in blocks {
            for lane in &mut lanes {
                let took = lane.submit(transfers)?;
                if small {
                    lane.small_posts.push(took);
                } else {
                    lane.full_posts.push(took);
                    lane.full_transfers += transfers.len();
                }
            }
        }
        for (lane, before) in lanes.iter_mut().zip(before) {
            let cpu = lane.cpu()? - before;
            if small { lane.small_cpu = cpu } else { lane.full_cpu = cpu }
        }
    }
    for lane in &lanes {
        let height = lane.node.get("/api/v1/status").json["height"].as_u64();
        ensure!(
            height == Some(lane.n + count as u64),
            "height {height:?} after the new blocks on the {}-block chain",
            lane.n
        );
    }

    println!("          done in {:.1} s", phase.elapsed().as_secs_f64());

    // 5. Restarts after SIGTERM, and memory after a burst of balance queries.
    let phase = Instant::now();
    println!("restarts  {} on each node", args.restarts);
    for _ in 0..args.restarts {
        for lane in &mut lanes {
            lane.client = None;
            lane.node.stop_with("TERM", Duration::from_secs(60));
            let ready = lane.node.restart_timed();
            lane.restarts.push(ready.as_secs_f64() * 1e3);
            let pid = lane.node.pid();
            lane.rss_ready_kb = lane.rss_ready_kb.max(procfs::status_kb(pid, "VmRSS").unwrap_or(0));
            for _ in 0..200 {
                let account = lane.random_account(&mut rng);
                lane.time_get(&format!("/api/v1/addresses/{account}"))?;
            }
            lane.rss_kb = lane.rss_kb.max(procfs::status_kb(pid, "VmRSS").unwrap_or(0));
            lane.peak_kb = lane.peak_kb.max(procfs::status_kb(pid, "VmHWM").unwrap_or(0));
        }
    }
    println!("          done in {:.1} s", phase.elapsed().as_secs_f64());
    let costs = lanes.iter().map(Lane::costs).collect();
    for lane in &mut lanes {
        lane.client = None;
        lane.node.stop_with("TERM", Duration::from_secs(60));
    }
    Ok(costs)
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn print_costs(c: &Costs) {
    println!("  store              {:.0} MB", c.store_mb);
    println!("  balance            p50 {:.3} ms, p99 {:.3} ms", c.balance_p50, c.balance_p99);
    println!("  history (funder)   p50 {:.3} ms, p99 {:.3} ms", c.funder_history_p50, c.funder_history_p99);
    println!("  history (sender 0) p50 {:.3} ms, p99 {:.3} ms", c.sender_history_p50, c.sender_history_p99);
    println!("  status             p50 {:.3} ms", c.status_p50);
    println!(
        "  full blocks        {:.1} ms per block ({:.1} ms node CPU), {:.1} µs per transfer",
        c.full_block_ms, c.full_block_cpu_ms, c.transfer_us
    );
    println!("  small blocks       {:.2} ms per block ({:.2} ms node CPU)", c.small_block_ms, c.small_block_cpu_ms);
    println!(
        "  restart            median {:.0} ms; RSS {:.1} MB at ready, {:.1} MB after queries, peak {:.1} MB",
        c.restart_ms, c.rss_ready_mb, c.rss_mb, c.peak_mb
    );
}

/// `1000` → `1,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// A figure with three significant digits (at least one decimal below 100).
fn figure(x: f64) -> String {
    match x.abs() {
        a if !a.is_finite() => "n/a".to_owned(),
        a if a >= 100.0 => format!("{x:.0}"),
        a if a >= 10.0 => format!("{x:.1}"),
        a if a >= 1.0 => format!("{x:.2}"),
        _ => format!("{x:.3}"),
    }
}

fn headers() -> Vec<String> {
    std::iter::once("blocks".to_owned()).chain(METRICS.iter().map(|m| format!("{} {}", m.name, m.unit))).collect()
}

fn costs_table(all: &[Costs]) -> String {
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|c| std::iter::once(thousands(c.blocks)).chain(METRICS.iter().map(|m| figure((m.get)(c)))).collect())
        .collect();
    let header = headers();
    table(&header.iter().map(String::as_str).collect::<Vec<_>>(), &rows)
}

fn ratios_table(all: &[Costs]) -> String {
    let first = &all[0];
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|c| {
            std::iter::once(thousands(c.blocks))
                .chain(METRICS.iter().map(|m| format!("{:.2}", (m.get)(c) / (m.get)(first))))
                .collect()
        })
        .collect();
    let header = headers();
    table(&header.iter().map(String::as_str).collect::<Vec<_>>(), &rows)
}

/// One line per metric and length after the first, read against the first length.
fn bench_lines(all: &[Costs]) -> Vec<BenchLine> {
    let Some(first) = all.first() else { return Vec::new() };
    let short = |n: u64| if n.is_multiple_of(1_000) { format!("{}k", n / 1_000) } else { n.to_string() };
    let mut lines = Vec::new();
    for c in &all[1..] {
        for m in &METRICS {
            let (value, reference) = ((m.get)(c), (m.get)(first));
            let line = BenchLine::new(format!("scaling: {}, {} blocks", m.name, short(c.blocks)), value, m.unit)
                .reference(format!("{}, {} blocks", m.name, short(first.blocks)), reference);
            let line = match m.goal {
                Goal::Flat => {
                    line.goal(format!("flat: <= {FLAT}x the {} figure", short(first.blocks)), value <= FLAT * reference)
                }
                Goal::Below(limit, text) => line.goal(text, value < limit),
                Goal::AtMost(limit, text) => line.goal(text, value <= limit),
            };
            lines.push(line.with("blocks", c.blocks).with("load", Value::from(c.load.clone())));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn costs(blocks: u64, scale: f64) -> Costs {
        Costs {
            blocks,
            full_block_ms: 200.0 * scale,
            restart_ms: 300.0 * scale,
            peak_mb: 100.0 * scale,
            ..Costs::default()
        }
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn figures_keep_three_digits() {
        assert_eq!(figure(1234.6), "1235");
        assert_eq!(figure(-2.5), "-2.50");
        assert_eq!(figure(12.345), "12.3");
        assert_eq!(figure(1.2345), "1.23");
        assert_eq!(figure(0.12345), "0.123");
        assert_eq!(figure(f64::NAN), "n/a");
    }

    #[test]
    fn ratios_are_to_the_first_row() {
        let text = ratios_table(&[costs(1_000, 1.0), costs(100_000, 3.0)]);
        let last = text.lines().last().expect("a row");
        assert!(last.starts_with("100,000"), "{text}");
        assert!(last.contains("3.00"), "{text}");
    }

    #[test]
    fn bench_lines_judge_flatness_and_absolute_goals() {
        let lines = bench_lines(&[costs(1_000, 1.0), costs(100_000, 3.0)]);
        assert_eq!(lines.len(), METRICS.len());
        let full = lines.iter().find(|l| l.figure == "scaling: full block, 100k blocks").expect("the line");
        assert_eq!(full.met, Some(false));
        assert_eq!(full.ratio, Some(3.0));
        let restart = lines.iter().find(|l| l.figure == "scaling: restart, 100k blocks").expect("the line");
        assert_eq!(restart.met, Some(true)); // 900 ms < 1 s
        let rss = lines.iter().find(|l| l.figure == "scaling: RSS, 100k blocks").expect("the line");
        assert_eq!(rss.met, Some(false)); // 300 MB
        assert!(bench_lines(&[costs(1_000, 1.0)]).is_empty());
    }
}
