//! `/status` and the block routes: list, tip, by height or hash, submit.

use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{BodyLimit, JsonBody, blocking};
use crate::api::json::{
    BlockJson, BlocksJson, BlocksQuery, MempoolSummary, MiningJson, StatusJson, SubmitBlockJson, SubmitBlockRequest,
    SubmitBlockStatus, bits_hex, query_number,
};
use crate::chain::{Accepted, Chain};
use crate::node::Node;
use actix_web::{HttpResponse, get, post, web};
use oxcoin::encode::Decode;
use oxcoin::hash::BlockHash;
use oxcoin::{Block, ChainParams, Height};
use utoipa_actix_web::service_config::ServiceConfig;

/// Most blocks `GET /blocks` lists at once.
const MAX_BLOCKS: u64 = 100;
/// Blocks `GET /blocks` lists without `limit`.
const DEFAULT_BLOCKS: u64 = 10;

pub(super) fn configure(cfg: &mut ServiceConfig<'_>) {
    // `/blocks/tip` before `/blocks/{id}`: the first matching resource answers.
    cfg.service(get_status).service(list_blocks).service(submit_block).service(get_tip).service(get_block);
}

/// Returns the node at a glance.
///
/// Network, tip, difficulty, mempool, peers and mining.
#[utoipa::path(
    tag = "chain",
    responses((status = 200, description = "The node's state", body = StatusJson))
)]
#[get("/status")]
async fn get_status(node: web::Data<Node>) -> Result<web::Json<StatusJson>, ApiError> {
    blocking(&node, |node| {
        // The miner's lock first, released before the chain's (the miner thread takes them in that order).
        let enabled = node.mining_enabled();
        let (hashrate, threads) = node.hashrate();
        let threads = if threads == 0 { node.settings().threads } else { threads };
        let params = node.params();
        let chain = node.chain_read();
        let tip = chain.tip();
        let height = chain.height().0;
        let sync = node
            .peer_manager()
            .map_or(crate::p2p::SyncStatus { syncing: false, target_height: height, progress: 1.0 }, |p| {
                p.sync_status(height, &tip.chain_work.to_be_bytes())
            });
        let difficulty = match (tip.header.bits.to_target(), params.pow_limit.to_target()) {
            (Ok(target), Ok(limit)) => target.difficulty(limit),
            _ => 0.0,
        };
        let json = StatusJson {
            network: params.network.as_str().to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            height,
            best_hash: chain.tip_hash().to_string(),
            chain_work: tip.chain_work.to_hex(),
            bits: bits_hex(tip.header.bits),
            difficulty,
            mempool: {
                let pool = node.mempool();
                MempoolSummary { count: pool.len() as u64, bytes: pool.bytes() as u64 }
            },
            peers: node.peer_manager().map_or(0, |p| p.connected().len() as u64),
            syncing: sync.syncing,
            target_height: sync.target_height,
            progress: sync.progress,
            mining: MiningJson { enabled, threads: threads as u64, hashrate },
        };
        Ok(web::Json(json))
    })
    .await
}

/// Lists best-chain blocks.
///
/// Ascending heights: `limit` blocks (1 to 100, default 10) from height `from` (default: the
/// latest `limit` blocks). Past the tip the list is empty.
#[utoipa::path(
    tag = "chain",
    params(BlocksQuery),
    responses(
        (status = 200, description = "Blocks, ascending by height", body = BlocksJson),
        (status = 400, description = "`from` or `limit` unusable", body = ErrorBody),
    )
)]
#[get("/blocks")]
async fn list_blocks(node: web::Data<Node>, query: web::Query<BlocksQuery>) -> Result<web::Json<BlocksJson>, ApiError> {
    let from = query_number(query.from.as_deref(), "from")?;
    let limit = query_number(query.limit.as_deref(), "limit")?.unwrap_or(DEFAULT_BLOCKS);
    if !(1..=MAX_BLOCKS).contains(&limit) {
        return Err(ApiError::malformed(format!("limit: must be 1 to {MAX_BLOCKS}, got {limit}")));
    }
    blocking(&node, move |node| {
        let chain = node.chain_read();
        let tip = chain.height().0;
        let from = from.unwrap_or_else(|| tip.saturating_sub(limit - 1));
        let mut blocks = Vec::new();
        let mut height = from;
        while height <= tip && (height - from) < limit {
            let Some(hash) = chain.hash_at(Height(height)) else { break };
            blocks.push(block_json(&chain, hash)?.ok_or_else(|| missing(hash))?);
            height += 1;
        }
        Ok(web::Json(BlocksJson { blocks }))
    })
    .await
}

/// Returns the best chain's tip.
#[utoipa::path(
    tag = "chain",
    responses((status = 200, description = "The tip block", body = BlockJson))
)]
#[get("/blocks/tip")]
async fn get_tip(node: web::Data<Node>) -> Result<web::Json<BlockJson>, ApiError> {
    blocking(&node, |node| {
        let chain = node.chain_read();
        let hash = chain.tip_hash();
        Ok(web::Json(block_json(&chain, hash)?.ok_or_else(|| missing(hash))?))
    })
    .await
}

/// Returns a block by height or hash.
///
/// A height (decimal) names a best-chain block; a hash (64 hex digits) any stored block, a
/// side-branch one answered with `main_chain: false` and 0 confirmations.
#[utoipa::path(
    tag = "chain",
    params(("id" = String, Path, description = "A height (decimal) or a block hash (64 hex digits)")),
    responses(
        (status = 200, description = "The block", body = BlockJson),
        (status = 400, description = "Neither a height nor a hash", body = ErrorBody),
        (status = 404, description = "No such block", body = ErrorBody),
    )
)]
#[get("/blocks/{id}")]
async fn get_block(node: web::Data<Node>, id: web::Path<String>) -> Result<web::Json<BlockJson>, ApiError> {
    let id = parse_block_id(&id)?;
    blocking(&node, move |node| {
        let chain = node.chain_read();
        let hash = match id {
            BlockId::Height(height) => chain.hash_at(height).ok_or_else(|| {
                ApiError::not_found(format!("no block at height {height}: the tip is {}", chain.height()))
            })?,
            BlockId::Hash(hash) => hash,
        };
        block_json(&chain, hash)?.map(web::Json).ok_or_else(|| ApiError::not_found(format!("no block {hash}")))
    })
    .await
}

impl BodyLimit for SubmitBlockRequest {
    /// A full block in hex, with room for the JSON around it.
    fn limit(params: &ChainParams) -> usize {
        2 * params.max_block_size + 1024
    }
}

/// Submits a block, like Bitcoin's `submitblock`.
///
/// The body carries the canonical encoding in hex. Checks run cheapest first and the first
/// failure is reported: parse → size → already known → `high_hash` → unknown parent (kept as
/// an orphan) → `bad_bits` → time → `bad_merkle_root` → the body's rules.
#[utoipa::path(
    tag = "chain",
    request_body = SubmitBlockRequest,
    responses(
        (status = 202, description = "Accepted: connected, side branch or orphan", body = SubmitBlockJson),
        (status = 200, description = "Already known", body = SubmitBlockJson),
        (status = 400, description = "`malformed`: not hex, or not a canonical block", body = ErrorBody),
        (status = 413, description = "`too_large`: body or block over its limit", body = ErrorBody),
        (status = 422, description = "A broken rule: `high_hash`, `bad_bits`, `time_too_old`, `time_too_new`, `bad_merkle_root`, `no_coinbase`, `duplicate_tx`, `bad_coinbase`, `invalid_tx`, `bad_prev_block`", body = ErrorBody),
    )
)]
#[post("/blocks")]
async fn submit_block(node: web::Data<Node>, body: JsonBody<SubmitBlockRequest>) -> Result<HttpResponse, ApiError> {
    // Decoding a full block and running the pipeline are CPU work: both off the async workers.
    let (hash, accepted) = blocking(&node, move |node| {
        let raw =
            hex::decode(body.0.raw_hex.trim()).map_err(|e| ApiError::malformed(format!("raw_hex: not hex: {e}")))?;
        let block =
            Block::decode(&raw).map_err(|e| ApiError::malformed(format!("raw_hex: not a canonical block: {e}")))?;
        let hash = block.header.hash();
        Ok((hash, node.submit_block(block)?))
    })
    .await?;
    Ok(accepted_block_response(hash, accepted))
}

/// The answer to a submitted block: 202 with its status, or 200 when it was already known.
pub(super) fn accepted_block_response(hash: BlockHash, accepted: Accepted) -> HttpResponse {
    let (status, code) = match accepted {
        Accepted::Connected => (SubmitBlockStatus::Connected, actix_web::http::StatusCode::ACCEPTED),
        Accepted::Side => (SubmitBlockStatus::Side, actix_web::http::StatusCode::ACCEPTED),
        Accepted::Orphan => (SubmitBlockStatus::Orphan, actix_web::http::StatusCode::ACCEPTED),
        Accepted::Known => (SubmitBlockStatus::Known, actix_web::http::StatusCode::OK),
    };
    HttpResponse::build(code).json(SubmitBlockJson { status, hash: hash.to_string() })
}

/// How a block is named in a path.
#[derive(Clone, Copy, Debug)]
enum BlockId {
    Height(Height),
    Hash(BlockHash),
}

fn parse_block_id(id: &str) -> Result<BlockId, ApiError> {
    if id.len() == 64 {
        return id.parse().map(BlockId::Hash).map_err(|e| ApiError::malformed(format!("block hash: {e}")));
    }
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        return id
            .parse()
            .map(|h| BlockId::Height(Height(h)))
            .map_err(|_| ApiError::malformed(format!("height: {id} is too large")));
    }
    Err(ApiError::malformed(format!("block id: {id:?} is neither a height nor a 64-hex-digit hash")))
}

/// The JSON of a stored block, or `None` when the node has no body for that hash.
fn block_json(chain: &Chain, hash: BlockHash) -> Result<Option<BlockJson>, ApiError> {
    let Some(entry) = chain.entry(&hash) else { return Ok(None) };
    let Some(block) = chain.store().block(&hash)? else { return Ok(None) };
    Ok(Some(BlockJson::new(chain, hash, entry, &block)))
}

/// A best-chain block without a stored body: the store is inconsistent.
fn missing(hash: BlockHash) -> ApiError {
    ApiError::internal(&format!("best-chain block {hash} has no stored body"))
}
