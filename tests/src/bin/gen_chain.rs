//! `gen_chain`: writes a valid dev-network chain into a node's data folder, for benchmarks
//! (restart, memory, sync). See `oxcoin_tests::chaingen` for the chain's layout.
//!
//! ```text
//! cargo run --release -p oxcoin-tests --bin gen_chain -- --blocks 100000 --transfers 1000000 --data-dir /tmp/oxchain
//! oxminer run --network dev --no-mine --data-dir /tmp/oxchain
//! ```
//!
//! When done, writes `<data-dir>/chain.json` (height, tip, transfers: the marker of a complete
//! chain in the benchmarks' caches) and a `BENCH` line with the time taken.

use anyhow::Context;
use clap::Parser;
use oxcoin_tests::bench::BenchLine;
use oxcoin_tests::chaingen::{self, Plan};
use std::path::PathBuf;
use std::time::Duration;

/// Generates a dev chain of `--blocks` blocks holding `--transfers` transfers in `--data-dir`.
#[derive(Parser, Debug)]
#[command(name = "gen_chain", version)]
struct Args {
    /// Height of the tip.
    #[arg(long, default_value_t = 100_000)]
    blocks: u64,
    /// Transfers in the chain (the senders' funding included).
    #[arg(long, default_value_t = 1_000_000)]
    transfers: u64,
    /// Sending accounts [default: 1,000, or half the transfers when fewer].
    #[arg(long)]
    senders: Option<u32>,
    /// Receive-only accounts.
    #[arg(long, default_value_t = 50_000)]
    recipients: u32,
    /// The node's data folder; the chain goes to `<data-dir>/dev/chain.redb`, which must not hold blocks yet.
    #[arg(long)]
    data_dir: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut plan = Plan::new(args.blocks, args.transfers);
    plan.recipients = args.recipients;
    if let Some(senders) = args.senders {
        plan.senders = senders;
    }
    println!(
        "generating {} blocks with {} transfers from {} senders into {}",
        plan.blocks,
        plan.transfers,
        plan.senders,
        chaingen::store_path(&args.data_dir).display()
    );
    let mut last = Duration::ZERO;
    let summary = chaingen::generate_with(&args.data_dir, &plan, |p| {
        if p.elapsed >= last + Duration::from_secs(5) || p.height == p.blocks {
            last = p.elapsed;
            let secs = p.elapsed.as_secs_f64().max(1e-9);
            println!(
                "height {:>7}/{} ({:5.1} %)  transfers {:>8}/{}  {:6.0} blocks/s  {:7.0} transfers/s  {:6.1} s",
                p.height,
                p.blocks,
                100.0 * p.height as f64 / p.blocks as f64,
                p.transfers,
                p.transfers_total,
                p.height as f64 / secs,
                p.transfers as f64 / secs,
                secs
            );
        }
    })?;
    let size = std::fs::metadata(&summary.store).map(|m| m.len()).unwrap_or(0);
    println!(
        "done: height {} tip {} with {} transfers in {:.1} s; store {} ({:.1} MB)",
        summary.height,
        summary.tip,
        summary.transfers,
        summary.elapsed.as_secs_f64(),
        summary.store.display(),
        size as f64 / 1e6
    );
    let marker =
        serde_json::json!({"height": summary.height, "tip": summary.tip.to_string(), "transfers": summary.transfers});
    let marker_path = args.data_dir.join("chain.json");
    std::fs::write(&marker_path, marker.to_string()).with_context(|| format!("writing {}", marker_path.display()))?;
    BenchLine::new(
        format!("chain generation, {}k blocks / {}k transfers", summary.height / 1_000, summary.transfers / 1_000),
        summary.elapsed.as_secs_f64(),
        "s",
    )
    .with("store_mb", (size as f64 / 1e6).round())
    .print();
    Ok(())
}
