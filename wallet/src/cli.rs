//! The command line (SPEC §7): global flags, one subcommand per task, an example for each.

use clap::{Args, Parser, Subcommand};
use oxcoin::Network;
use std::path::PathBuf;

/// Command line of `oxwallet`.
#[derive(Debug, Parser)]
#[command(
    name = "oxwallet",
    version,
    about = "OxCoin wallet: keys, addresses, sending and history",
    after_help = "Examples:\n  oxwallet new\n  oxwallet balance\n  oxwallet send --to ox1… --amount 1.5\n  oxwallet --network dev --node http://127.0.0.1:28334 history\n\nScripts: pass the password with --password-file FILE or OXWALLET_PASSWORD, and --yes to send."
)]
pub struct Cli {
    /// Network of the keyfiles and the node: main, test or dev [default: from the config, else main].
    #[arg(long, global = true, value_parser = clap::value_parser!(Network))]
    pub network: Option<Network>,
    /// The node's URL [default: from the config, else http://127.0.0.1:<the network's port>].
    #[arg(long, global = true, value_name = "URL")]
    pub node: Option<String>,
    /// Folder holding `<network>/<wallet>.json` [default: from the config, else the platform data folder,
    /// the same one the node uses].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Read the password from the first line of this file (scripts); OXWALLET_PASSWORD works too.
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Config file [default: wallet.toml in the platform config folder, if it exists].
    #[arg(long, global = true, value_name = "FILE", env = "OXWALLET_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `oxwallet` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a keyfile and show its address and 24-word recovery phrase once.
    #[command(
        after_help = "Example:\n  oxwallet new --name savings\n  OXWALLET_PASSWORD=… oxwallet --json new   (scripts)"
    )]
    New(NewArgs),
    /// Recreate a keyfile from its recovery phrase (typed at a prompt, or read from stdin).
    #[command(
        after_help = "Example:\n  oxwallet restore --name savings\n  oxwallet restore --no-password < phrase.txt"
    )]
    Restore(NewArgs),
    /// List the keyfiles of the network.
    #[command(after_help = "Example:\n  oxwallet --network dev list")]
    List,
    /// Print a wallet's address (no password needed).
    #[command(after_help = "Example:\n  oxwallet address --wallet savings")]
    Address(WalletArg),
    /// Encrypt an unencrypted keyfile with a new password.
    #[command(after_help = "Example:\n  oxwallet encrypt --wallet default")]
    Encrypt(WalletArg),
    /// Change the password of an encrypted keyfile (old password first, then the new one twice).
    #[command(
        after_help = "Example:\n  oxwallet change-password --wallet savings\n  oxwallet change-password --password-file old.txt --new-password-file new.txt"
    )]
    ChangePassword(ChangePasswordArgs),
    /// Show spendable, immature and pending balances, as the node sees them.
    #[command(after_help = "Example:\n  oxwallet balance --wallet savings")]
    Balance(WalletArg),
    /// Sign a transfer locally and submit it to the node.
    #[command(
        after_help = "Example:\n  oxwallet send --to ox1… --amount 2.5 --memo \"rent\"\n  oxwallet send --to ox1… --amount 0.1 --fee auto --yes --wait 1   (scripts)"
    )]
    Send(SendArgs),
    /// Show the wallet's transactions, pending ones first.
    #[command(after_help = "Example:\n  oxwallet history --limit 10")]
    History(HistoryArgs),
    /// Show one transaction and where it stands.
    #[command(after_help = "Example:\n  oxwallet tx 3f1c…e9a0")]
    Tx(TxArgs),
}

/// Arguments of `new` and `restore`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Name of the wallet (its file is `<name>.json`).
    #[arg(long, default_value = "default")]
    pub name: String,
    /// Keep the secret key unencrypted in the keyfile.
    #[arg(long)]
    pub no_password: bool,
    /// Overwrite an existing keyfile of that name (its key is lost unless you hold its phrase).
    #[arg(long)]
    pub force: bool,
}

/// The wallet a command works on.
#[derive(Debug, Args)]
pub struct WalletArg {
    /// Name of the wallet.
    #[arg(long, default_value = "default")]
    pub wallet: String,
}

/// Arguments of `change-password`.
#[derive(Debug, Args)]
pub struct ChangePasswordArgs {
    /// Name of the wallet.
    #[arg(long, default_value = "default")]
    pub wallet: String,
    /// Read the new password from this file (scripts); OXWALLET_NEW_PASSWORD works too.
    #[arg(long, value_name = "FILE")]
    pub new_password_file: Option<PathBuf>,
}

/// Arguments of `send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Name of the wallet paying.
    #[arg(long, default_value = "default")]
    pub wallet: String,
    /// The recipient's address.
    #[arg(long, value_name = "ADDR")]
    pub to: String,
    /// Amount in OXC, at most 8 decimals (`1.25`).
    #[arg(long, value_name = "OXC", allow_hyphen_values = true)]
    pub amount: String,
    /// Fee in OXC, or `auto`: the node's suggested rate times the transfer's size.
    #[arg(long, value_name = "OXC|auto", default_value = "auto", allow_hyphen_values = true)]
    pub fee: String,
    /// Text sent with the transfer, at most 128 bytes of UTF-8 (public, on the chain).
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub memo: String,
    /// Send without asking (required when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Wait until the transfer has N confirmations.
    #[arg(long, value_name = "N")]
    pub wait: Option<u64>,
    /// How long --wait waits, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub timeout: u64,
}

/// Arguments of `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Name of the wallet.
    #[arg(long, default_value = "default")]
    pub wallet: String,
    /// Most rows, 1 to 500.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=500))]
    pub limit: u64,
}

/// Arguments of `tx`.
#[derive(Debug, Args)]
pub struct TxArgs {
    /// The txid, 64 hex digits.
    pub txid: String,
}
