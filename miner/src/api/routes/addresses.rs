//! Address routes: balance and nonces, and the history (pending first, then newest first).

use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::blocking;
use crate::api::json::{
    AddressJson, Direction, HistoryJson, HistoryQuery, HistoryRow, HistoryStatus, TxKind, confirmations, query_number,
};
use crate::chain::Chain;
use crate::mempool::Entry;
use crate::node::Node;
use crate::store::TxLocation;
use actix_web::{get, web};
use oxcoin::address::AccountId;
use oxcoin::hash::Txid;
use oxcoin::{Address, Amount, Network, Tx};
use utoipa_actix_web::service_config::ServiceConfig;

/// Most rows one history page holds.
const MAX_HISTORY: u64 = 500;
/// Rows a history page holds without `limit`.
const DEFAULT_HISTORY: u64 = 50;

pub(super) fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(get_address).service(get_history);
}

/// Returns an address's balance and nonces.
///
/// Balance, immature rewards, pending sums and nonces.
#[utoipa::path(
    tag = "addresses",
    params(("address" = String, Path, description = "An address of this node's network")),
    responses(
        (status = 200, description = "The account", body = AddressJson),
        (status = 400, description = "Not an address of this network", body = ErrorBody),
    )
)]
#[get("/addresses/{address}")]
async fn get_address(node: web::Data<Node>, address: web::Path<String>) -> Result<web::Json<AddressJson>, ApiError> {
    let address = parse_address(&address, node.params().network)?;
    blocking(&node, move |node| {
        let id = address.account();
        let chain = node.chain_read();
        let account = chain.store().account(&id)?;
        let immature = chain.immature_rewards(&id);
        let state = node.next_state(&chain)?;
        let (pending_in, pending_out, next_nonce) = {
            let pool = node.mempool();
            let (pending_in, pending_out) = pool.pending_for(&id);
            (pending_in, pending_out, pool.next_nonce(&id, &state))
        };
        state.check()?;
        Ok(web::Json(AddressJson {
            address: address.to_string(),
            balance: account.balance.to_grains(),
            immature: immature.to_grains(),
            pending_in: pending_in.to_grains(),
            pending_out: pending_out.to_grains(),
            nonce: account.nonce,
            next_nonce,
        }))
    })
    .await
}

/// Returns an address's history.
///
/// Newest first: pending transactions (newest received first), then confirmed ones (highest
/// block first). Pages: pass the last row's txid as `before`.
#[utoipa::path(
    tag = "addresses",
    params(("address" = String, Path, description = "An address of this node's network"), HistoryQuery),
    responses(
        (status = 200, description = "History rows", body = HistoryJson),
        (status = 400, description = "Not an address of this network, or a bad `limit` / `before`", body = ErrorBody),
        (status = 404, description = "`before` is not a transaction of this history", body = ErrorBody),
    )
)]
#[get("/addresses/{address}/txs")]
async fn get_history(
    node: web::Data<Node>,
    address: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<web::Json<HistoryJson>, ApiError> {
    let network = node.params().network;
    let address = parse_address(&address, network)?;
    let query = query.into_inner();
    let limit = query_number(query.limit.as_deref(), "limit")?.unwrap_or(DEFAULT_HISTORY);
    if !(1..=MAX_HISTORY).contains(&limit) {
        return Err(ApiError::malformed(format!("limit: must be 1 to {MAX_HISTORY}, got {limit}")));
    }
    let limit = limit as usize;
    let before: Option<Txid> =
        query.before.map(|t| t.parse().map_err(|e| ApiError::malformed(format!("before: {e}")))).transpose()?;
    blocking(&node, move |node| {
        let id = address.account();
        let chain = node.chain_read();
        let pending: Vec<HistoryRow> =
            node.mempool().pending_txs_for(&id).into_iter().map(|e| pending_row(e, &id, network)).collect();
        // Where the page starts: after `before` in the order pending rows, then confirmed ones.
        let (skip, cursor) = match before {
            None => (0, None),
            Some(txid) => match pending.iter().position(|row| row.txid == txid.to_string()) {
                Some(at) => (at + 1, None),
                None => match chain.store().tx(&txid)? {
                    Some(location) if involves(&location.tx, &id) => {
                        (pending.len(), Some((location.height, location.index)))
                    }
                    _ => return Err(ApiError::not_found(format!("before: {txid} is not in the history of {address}"))),
                },
            },
        };
        let mut rows: Vec<HistoryRow> = pending.into_iter().skip(skip).take(limit).collect();
        if rows.len() < limit {
            for location in chain.store().history(&id, cursor, limit - rows.len())? {
                rows.push(confirmed_row(&chain, &location, &id, network));
            }
        }
        Ok(web::Json(HistoryJson { txs: rows }))
    })
    .await
}

fn parse_address(text: &str, network: Network) -> Result<Address, ApiError> {
    Address::parse_for(text, network).map_err(|e| ApiError::malformed(format!("address: {e}")))
}

/// Whether `tx` pays or is paid by `id`.
fn involves(tx: &Tx, id: &AccountId) -> bool {
    match tx {
        Tx::Coinbase(c) => c.to == *id,
        Tx::Transfer(t) => t.to == *id || t.sender() == *id,
    }
}

/// Direction, counterparty, amount and fee of `tx` seen from `id`.
fn movement(tx: &Tx, id: &AccountId, network: Network) -> (TxKind, Direction, Option<String>, Amount, Amount) {
    match tx {
        Tx::Coinbase(c) => (TxKind::Coinbase, Direction::Reward, None, c.amount, Amount::ZERO),
        Tx::Transfer(t) => {
            let sender = t.sender();
            let (direction, other) = if sender == *id && t.to == *id {
                (Direction::SelfTransfer, *id)
            } else if sender == *id {
                (Direction::Out, t.to)
            } else {
                (Direction::In, sender)
            };
            let counterparty = Some(Address::new(network, other).to_string());
            (TxKind::Transfer, direction, counterparty, t.amount, t.fee)
        }
    }
}

fn pending_row(entry: &Entry, id: &AccountId, network: Network) -> HistoryRow {
    let tx = Tx::Transfer(entry.transfer.clone());
    let (kind, direction, counterparty, amount, fee) = movement(&tx, id, network);
    HistoryRow {
        txid: entry.txid.to_string(),
        kind,
        direction,
        counterparty,
        amount: amount.to_grains(),
        fee: fee.to_grains(),
        height: None,
        time: entry.received,
        confirmations: 0,
        status: HistoryStatus::Pending,
    }
}

fn confirmed_row(chain: &Chain, location: &TxLocation, id: &AccountId, network: Network) -> HistoryRow {
    let (kind, direction, counterparty, amount, fee) = movement(&location.tx, id, network);
    let tip = chain.height();
    // Consensus: the coinbase of block h is credited when block h + maturity connects.
    let credited_at = location.height.0.saturating_add(chain.params().coinbase_maturity);
    let status = if kind == TxKind::Coinbase && tip.0 < credited_at {
        HistoryStatus::Immature
    } else {
        HistoryStatus::Confirmed
    };
    HistoryRow {
        txid: location.tx.txid().to_string(),
        kind,
        direction,
        counterparty,
        amount: amount.to_grains(),
        fee: fee.to_grains(),
        height: Some(location.height.0),
        time: chain.entry(&location.block_hash).map_or(0, |e| u64::from(e.header.time)),
        confirmations: confirmations(tip, location.height),
        status,
    }
}
