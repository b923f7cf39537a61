//! `history`: the wallet's transactions as a table, pending ones first.

use super::Context;
use crate::cli::HistoryArgs;
use crate::output::{oxc, shorten, utc_minute};

/// Prints the history table (or one JSON document).
///
/// # Errors
/// The keyfile cannot be loaded, or the node is unreachable or on another network.
pub(super) fn run(context: &Context, args: &HistoryArgs) -> anyhow::Result<()> {
    let loaded = context.load(&args.wallet)?;
    let address = loaded.keyfile.address();
    let client = context.client()?;
    let status = client.status_for(context.network)?;
    let mut rows = client.history(&address, args.limit)?.txs;
    // The node lists pending rows first already; keep that promise whatever it does.
    rows.sort_by_key(|row| row.status != "pending");
    if context.json {
        return crate::output::print_json(&serde_json::json!({
            "wallet": args.wallet,
            "address": address.to_string(),
            "node": client.url(),
            "height": status.height,
            "txs": rows,
        }));
    }
    println!("History of wallet {:?}  {address}", args.wallet);
    if rows.is_empty() {
        println!("No transactions yet (node {}, tip height {}).", client.url(), status.height);
        return Ok(());
    }
    let mut table =
        crate::output::table(&["time (UTC)", "txid", "direction", "counterparty", "amount", "fee", "status"]);
    for row in &rows {
        let sign = match row.direction.as_str() {
            "out" => "-",
            "in" | "reward" => "+",
            _ => "",
        };
        let counterparty = row.counterparty.as_deref().map_or_else(|| "(block reward)".to_owned(), |a| shorten(a, 10));
        let fee = if row.direction == "out" || row.direction == "self" { oxc(row.fee) } else { String::new() };
        let state = match row.status.as_str() {
            "pending" => "pending".to_owned(),
            "immature" => format!("immature, {} conf", row.confirmations),
            _ => format!("{} conf", row.confirmations),
        };
        table.add_row([
            utc_minute(row.time),
            shorten(&row.txid, 6),
            row.direction.clone(),
            counterparty,
            format!("{sign}{}", oxc(row.amount)),
            fee,
            state,
        ]);
    }
    println!("{}", crate::output::render(&table));
    println!("{} row(s), node {}, tip height {}", rows.len(), client.url(), status.height);
    Ok(())
}
