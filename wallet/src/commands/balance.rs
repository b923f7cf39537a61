//! `balance`: spendable, immature and pending amounts, as the node sees them.

use super::Context;
use crate::output::oxc;

/// Prints the balances with the node's URL and tip height.
///
/// # Errors
/// The keyfile cannot be loaded, or the node is unreachable or on another network.
pub(super) fn run(context: &Context, wallet: &str) -> anyhow::Result<()> {
    let loaded = context.load(wallet)?;
    let address = loaded.keyfile.address();
    let client = context.client()?;
    let status = client.status_for(context.network)?;
    let info = client.address(&address)?;
    if context.json {
        return crate::output::print_json(&serde_json::json!({
            "wallet": wallet,
            "network": context.network.as_str(),
            "address": address.to_string(),
            "node": client.url(),
            "height": status.height,
            "balance": info.balance,
            "immature": info.immature,
            "pending_in": info.pending_in,
            "pending_out": info.pending_out,
            "next_nonce": info.next_nonce,
        }));
    }
    println!("Wallet {wallet:?}  {address}");
    println!("  spendable     {}", oxc(info.balance));
    println!("  immature      {}  (block rewards, spendable once mature)", oxc(info.immature));
    println!("  pending in    {}", oxc(info.pending_in));
    println!("  pending out   {}  (amounts plus fees, not yet in a block)", oxc(info.pending_out));
    println!("Node {} ({} network), tip height {}", client.url(), status.network, status.height);
    Ok(())
}
