//! `oxminer`: the OxCoin node. Its command-line surface lives here so tests can drive it; the
//! node itself (store, chain, mempool, mining, API, peers) arrives with the node issue.

use clap::{Parser, Subcommand};
use oxcoin::Network;
use std::path::PathBuf;

/// Command line of `oxminer` (SPEC §5).
#[derive(Debug, Parser)]
#[command(name = "oxminer", version, about = "OxCoin node: validates, stores, mines and serves the chain")]
pub struct Cli {
    /// What to do; `run` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `oxminer` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a node (the default).
    Run(RunArgs),
    /// Measure the nonce-search hash rate, in MH/s, for each thread count from 1 to N.
    Bench {
        /// Highest thread count to measure.
        #[arg(long)]
        threads: Option<usize>,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
}

/// Flags of `oxminer run`.
#[derive(Debug, Default, clap::Args)]
pub struct RunArgs {
    /// Network to join.
    #[arg(long, value_parser = clap::value_parser!(Network))]
    pub network: Option<Network>,
    /// TOML configuration file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data folder; each network uses its own subfolder.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// Runs the parsed command line.
///
/// # Errors
/// Every command that is not built yet says so.
pub fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        None | Some(Command::Run(_)) => Err("the node is not built yet: it arrives with the node issue".into()),
        Some(Command::Bench { .. }) => {
            Err("the mining benchmark is not built yet: it arrives with the node issue".into())
        }
    }
}
