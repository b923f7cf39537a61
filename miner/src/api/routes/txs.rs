//! Transaction routes: look one up, submit a transfer, the mempool, fees.

use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{BodyLimit, JsonBody, SMALL_BODY_LIMIT, blocking};
use crate::api::json::{
    FeesJson, MempoolJson, MempoolTxJson, SubmitTxJson, SubmitTxRequest, TxDetailJson, TxJson, TxStatus, confirmations,
};
use crate::node::Node;
use actix_web::{HttpResponse, get, post, web};
use oxcoin::encode::Decode;
use oxcoin::hash::Txid;
use oxcoin::tx::PublicKey;
use oxcoin::{Address, Amount, ChainParams, Memo, Network, Transfer, Tx};
use utoipa_actix_web::service_config::ServiceConfig;

/// Most transfers `GET /mempool` lists.
const MEMPOOL_LIST: usize = 100;

pub(super) fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(get_tx).service(submit_tx).service(get_mempool).service(get_fees);
}

/// Returns a transaction by txid.
///
/// Confirmed (in the best chain) or pending (in the mempool).
#[utoipa::path(
    tag = "transactions",
    params(("txid" = String, Path, description = "The txid, 64 hex digits")),
    responses(
        (status = 200, description = "The transaction and where it stands", body = TxDetailJson),
        (status = 400, description = "Not a txid", body = ErrorBody),
        (status = 404, description = "Neither confirmed nor pending", body = ErrorBody),
    )
)]
#[get("/txs/{txid}")]
async fn get_tx(node: web::Data<Node>, txid: web::Path<String>) -> Result<web::Json<TxDetailJson>, ApiError> {
    let txid: Txid = txid.parse().map_err(|e| ApiError::malformed(format!("txid: {e}")))?;
    blocking(&node, move |node| {
        let network = node.params().network;
        // Under the chain's read lock neither the chain nor (on a tip change) the mempool moves.
        let chain = node.chain_read();
        if let Some(location) = chain.store().tx(&txid)? {
            let mut tx = TxJson::new(&location.tx, network);
            tx.height = Some(location.height.0);
            return Ok(web::Json(TxDetailJson {
                tx,
                status: TxStatus::Confirmed,
                block_hash: Some(location.block_hash.to_string()),
                confirmations: confirmations(chain.height(), location.height),
                received: None,
            }));
        }
        let pool = node.mempool();
        let entry = pool.entry(&txid).ok_or_else(|| ApiError::not_found(format!("no transaction {txid}")))?;
        Ok(web::Json(TxDetailJson {
            tx: TxJson::new(&Tx::Transfer(entry.transfer.clone()), network),
            status: TxStatus::Pending,
            block_hash: None,
            confirmations: 0,
            received: Some(entry.received),
        }))
    })
    .await
}

impl BodyLimit for SubmitTxRequest {
    fn limit(_: &ChainParams) -> usize {
        SMALL_BODY_LIMIT
    }
}

/// Submits a signed transfer.
///
/// The body holds the transfer as JSON fields, or `{"raw_hex": "…"}` alone (its canonical
/// encoding). Checks run cheapest first and the first failure is reported: parse →
/// `duplicate` → `wrong_chain` → `memo_too_long` / `invalid_memo` → `zero_amount` →
/// `fee_too_low` → `invalid_signature` → `nonce_too_low` / `nonce_gap` →
/// `insufficient_funds` → `replacement_underpriced` → `mempool_full`.
#[utoipa::path(
    tag = "transactions",
    request_body = SubmitTxRequest,
    responses(
        (status = 202, description = "Accepted into the mempool", body = SubmitTxJson),
        (status = 400, description = "`malformed`: the body cannot be parsed (the message names the field)", body = ErrorBody),
        (status = 409, description = "`duplicate` or `replacement_underpriced`", body = ErrorBody),
        (status = 413, description = "`too_large`: body over 4 KiB", body = ErrorBody),
        (status = 422, description = "A broken rule: `wrong_chain`, `memo_too_long`, `invalid_memo`, `zero_amount`, `fee_too_low`, `invalid_signature`, `nonce_too_low`, `nonce_gap`, `insufficient_funds`", body = ErrorBody),
        (status = 503, description = "`mempool_full`", body = ErrorBody),
    )
)]
#[post("/txs")]
async fn submit_tx(node: web::Data<Node>, body: JsonBody<SubmitTxRequest>) -> Result<HttpResponse, ApiError> {
    let transfer = transfer_from_request(body.0, node.params().network)?;
    // The signature check is CPU work: off the async workers.
    let txid = blocking(&node, move |node| Ok(node.submit_transfer(transfer)?)).await?;
    Ok(HttpResponse::Accepted().json(SubmitTxJson { txid: txid.to_string() }))
}

/// Returns the mempool.
///
/// The count and size of pending transfers, and the 100 with the highest fee rate.
#[utoipa::path(
    tag = "transactions",
    responses((status = 200, description = "The mempool", body = MempoolJson))
)]
#[get("/mempool")]
async fn get_mempool(node: web::Data<Node>) -> Result<web::Json<MempoolJson>, ApiError> {
    blocking(&node, |node| {
        let network = node.params().network;
        let pool = node.mempool();
        let transfers =
            pool.top_by_fee_rate(MEMPOOL_LIST).into_iter().map(|e| MempoolTxJson::new(e, network)).collect();
        Ok(web::Json(MempoolJson { count: pool.len() as u64, bytes: pool.bytes() as u64, transfers }))
    })
    .await
}

/// Returns fee rates.
///
/// The consensus minimum and a rate likely to get into the next block, in grains per byte.
#[utoipa::path(
    tag = "transactions",
    responses((status = 200, description = "Fee rates in grains per byte", body = FeesJson))
)]
#[get("/fees")]
async fn get_fees(node: web::Data<Node>) -> Result<web::Json<FeesJson>, ApiError> {
    blocking(&node, |node| {
        let suggested = node.mempool().suggested_fee_rate();
        Ok(web::Json(FeesJson::new(node.params(), suggested)))
    })
    .await
}

/// Builds the transfer a `POST /txs` body describes, or says which field is unusable.
///
/// # Errors
/// 400 `malformed` naming the field.
pub(crate) fn transfer_from_request(req: SubmitTxRequest, network: Network) -> Result<Transfer, ApiError> {
    if let Some(kind) = &req.kind
        && kind != "transfer"
    {
        return Err(ApiError::malformed(format!("kind: only a transfer can be submitted, got {kind:?}")));
    }
    if let Some(raw_hex) = &req.raw_hex {
        let fields = [
            ("chain_id", req.chain_id.is_some()),
            ("from_pubkey", req.from_pubkey.is_some()),
            ("to", req.to.is_some()),
            ("amount", req.amount.is_some()),
            ("fee", req.fee.is_some()),
            ("nonce", req.nonce.is_some()),
            ("memo", req.memo.is_some()),
            ("signature", req.signature.is_some()),
        ];
        if let Some((field, _)) = fields.iter().find(|(_, given)| *given) {
            return Err(ApiError::malformed(format!("raw_hex: give the encoding alone; `{field}` is given too")));
        }
        let bytes = hex::decode(raw_hex.trim()).map_err(|e| ApiError::malformed(format!("raw_hex: not hex: {e}")))?;
        return match Tx::decode(&bytes) {
            Ok(Tx::Transfer(transfer)) => Ok(transfer),
            Ok(Tx::Coinbase(_)) => Err(ApiError::malformed("raw_hex: a coinbase cannot be submitted, only a transfer")),
            Err(e) => Err(ApiError::malformed(format!("raw_hex: not a canonical transfer: {e}"))),
        };
    }
    let to = required(req.to, "to")?;
    let to = Address::parse_for(&to, network).map_err(|e| ApiError::malformed(format!("to: {e}")))?;
    let memo =
        Memo::new(req.memo.unwrap_or_default().into_bytes()).map_err(|e| ApiError::malformed(format!("memo: {e}")))?;
    Ok(Transfer {
        chain_id: required(req.chain_id, "chain_id")?,
        from: PublicKey(hex_array(required(req.from_pubkey, "from_pubkey")?, "from_pubkey")?),
        to: to.account(),
        amount: Amount::from_grains(required(req.amount, "amount")?),
        fee: Amount::from_grains(required(req.fee, "fee")?),
        nonce: required(req.nonce, "nonce")?,
        memo,
        signature: hex_array(required(req.signature, "signature")?, "signature")?,
    })
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::malformed(format!("missing field `{field}` (or give `raw_hex` alone)")))
}

fn hex_array<const N: usize>(text: String, field: &str) -> Result<[u8; N], ApiError> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text.trim(), &mut out)
        .map_err(|e| ApiError::malformed(format!("{field}: expected {} hex digits: {e}", 2 * N)))?;
    Ok(out)
}
