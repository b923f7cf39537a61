//! `address`: a wallet's address, read from the keyfile's clear fields (no password).

use super::Context;

/// Prints the address alone (or `{"name", "network", "address"}`).
///
/// # Errors
/// The keyfile cannot be loaded.
pub(super) fn run(context: &Context, wallet: &str) -> anyhow::Result<()> {
    let loaded = context.load(wallet)?;
    let address = loaded.keyfile.address().to_string();
    if context.json {
        return crate::output::print_json(&serde_json::json!({
            "name": wallet,
            "network": context.network.as_str(),
            "address": address,
        }));
    }
    println!("{address}");
    Ok(())
}
