//! `oxwallet`: the OxCoin wallet CLI (SPEC §7).
//!
//! The keyfile format, the recovery phrase, amounts, addresses and transfer signing all come from
//! the `oxcoin` crate, the same code the node runs; this crate adds what only a program on a
//! user's machine needs: files with the right permissions ([`keystore`]), passwords from a
//! terminal or a script ([`password`]), a small blocking HTTP client for the node's API
//! ([`client`]), and one module per command. The wallet never links the node: it talks to it over
//! HTTP like any other client. Errors go up as `anyhow` chains and are printed on one line by
//! `main.rs`.

pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod keystore;
pub mod output;
pub mod password;

pub use cli::{Cli, Command};

/// Runs the parsed command line.
///
/// # Errors
/// Whatever stopped the command, as a chain of messages meant to be printed on one line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let context = commands::Context::resolve(&cli)?;
    commands::dispatch(&context, cli.command)
}
