//! `tx`: one transaction and where it stands.

use super::Context;
use crate::output::{oxc, utc_minute};
use anyhow::bail;

/// Prints the transaction's status and fields.
///
/// # Errors
/// A malformed txid, an unknown transaction, or the node unreachable or on another network.
pub(super) fn run(context: &Context, txid: &str) -> anyhow::Result<()> {
    let txid = txid.trim().to_ascii_lowercase();
    if txid.len() != 64 || !txid.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("{txid:?} is not a txid: a txid is 64 hex digits");
    }
    let client = context.client()?;
    client.status_for(context.network)?;
    let Some(tx) = client.tx(&txid)? else {
        bail!("the node at {} knows no transaction {txid}: neither in a block nor pending", client.url());
    };
    if context.json {
        return crate::output::print_json(&tx);
    }
    let status = match tx.status.as_str() {
        "pending" => "pending (in the mempool, not yet in a block)".to_owned(),
        _ => format!(
            "confirmed, {} confirmation{}, block {} at height {}",
            tx.confirmations,
            if tx.confirmations == 1 { "" } else { "s" },
            tx.block_hash.as_deref().unwrap_or("?"),
            tx.height.map_or_else(|| "?".to_owned(), |h| h.to_string())
        ),
    };
    println!("txid     {}", tx.txid);
    println!("status   {status}");
    println!("kind     {}", tx.kind);
    if let Some(from) = &tx.from {
        println!("from     {from}");
    }
    println!("to       {}", tx.to);
    println!("amount   {}", oxc(tx.amount));
    if let Some(fee) = tx.fee {
        println!("fee      {}", oxc(fee));
    }
    if let Some(nonce) = tx.nonce {
        println!("nonce    {nonce}");
    }
    if let Some(memo) = tx.memo.as_deref().filter(|m| !m.is_empty()) {
        println!("memo     {memo}");
    }
    if let Some(received) = tx.received {
        println!("received {} UTC", utc_minute(received));
    }
    println!("size     {} bytes", tx.size);
    Ok(())
}
