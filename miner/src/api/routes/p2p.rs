//! The peer routes under `/p2p` (SPEC §6): hello, locate, block download, block and transfer
//! relay, and peer exchange. Plain actix routes, outside the public API's OpenAPI document.

use crate::api::error::ApiError;
use crate::api::extract::{BodyLimit, JsonBody, SMALL_BODY_LIMIT, blocking};
use crate::node::Node;
use crate::p2p::logic;
use crate::p2p::wire::{
    BlocksRequest, HelloJson, HelloQuery, LocateJson, LocateRequest, MAX_BLOCKS, MAX_BLOCKS_BYTES, MAX_LOCATE,
    MAX_LOCATOR, PeerUrlsJson, RawBlocksJson, RelayRequest,
};
use actix_web::{HttpResponse, web};
use oxcoin::hash::BlockHash;
use oxcoin::{Block, ChainParams, Decode, ErrorCode, Height, Tx};

/// Registers the `/p2p` routes (paths relative to the scope).
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/hello", web::get().to(hello))
        .route("/locate", web::post().to(locate))
        .route("/blocks", web::post().to(blocks))
        .route("/block", web::post().to(relay_block))
        .route("/tx", web::post().to(relay_tx))
        .route("/peers", web::get().to(peers));
}

impl BodyLimit for LocateRequest {
    fn limit(_: &ChainParams) -> usize {
        8 * 1024
    }
}

impl BodyLimit for BlocksRequest {
    fn limit(_: &ChainParams) -> usize {
        8 * 1024
    }
}

impl BodyLimit for RelayRequest {
    /// A full block in hex, with room for the JSON around it.
    fn limit(params: &ChainParams) -> usize {
        2 * params.max_block_size + 1024
    }
}

fn parse_hashes(texts: &[String], field: &str) -> Result<Vec<BlockHash>, ApiError> {
    texts.iter().map(|t| t.parse().map_err(|e| ApiError::malformed(format!("{field}: {e}")))).collect()
}

/// Who we are and our best chain; a caller announcing its URL is added as a peer (unless
/// `--connect-only`, the table is full, or it is banned).
async fn hello(node: web::Data<Node>, query: web::Query<HelloQuery>) -> Result<web::Json<HelloJson>, ApiError> {
    let url = query.into_inner().url;
    blocking(&node, move |node| {
        if let (Some(p2p), Some(url)) = (node.peer_manager(), url)
            && !p2p.connect_only()
            && let Ok(true) = p2p.add(&url, false)
        {
            tracing::info!(peer = url, "peer announced itself");
        }
        let chain = node.chain_read();
        Ok(web::Json(HelloJson {
            network: node.params().network.as_str().to_owned(),
            genesis: chain.hash_at(Height(0)).map(|h| h.to_string()).unwrap_or_default(),
            tip: chain.tip_hash().to_string(),
            height: chain.height().0,
            chain_work: chain.tip().chain_work.to_hex(),
            url: node
                .peer_manager()
                .map_or_else(|| format!("http://{}", node.settings().listen), |p| p.own_url().to_owned()),
        }))
    })
    .await
}

/// The best-chain hashes after the first locator hash on our best chain (genesis when none).
async fn locate(node: web::Data<Node>, body: JsonBody<LocateRequest>) -> Result<web::Json<LocateJson>, ApiError> {
    let LocateRequest { locator, limit } = body.0;
    if locator.len() > MAX_LOCATOR {
        return Err(ApiError::malformed(format!("locator: at most {MAX_LOCATOR} hashes")));
    }
    let locator = parse_hashes(&locator, "locator")?;
    let limit = limit.map_or(MAX_LOCATE, |l| (l as usize).min(MAX_LOCATE));
    blocking(&node, move |node| {
        let chain = node.chain_read();
        let fork =
            locator.iter().find(|h| chain.is_on_main_chain(h)).and_then(|h| chain.entry(h)).map_or(0, |e| e.height.0);
        let tip = chain.height().0;
        let hashes =
            (fork + 1..=tip).take(limit).filter_map(|h| chain.hash_at(Height(h))).map(|h| h.to_string()).collect();
        Ok(web::Json(LocateJson { hashes }))
    })
    .await
}

/// Stored blocks in canonical hex, in the order asked, up to the first unknown one or the byte
/// budget (at least one block).
async fn blocks(node: web::Data<Node>, body: JsonBody<BlocksRequest>) -> Result<web::Json<RawBlocksJson>, ApiError> {
    if body.0.hashes.len() > MAX_BLOCKS {
        return Err(ApiError::malformed(format!("hashes: at most {MAX_BLOCKS}")));
    }
    let hashes = parse_hashes(&body.0.hashes, "hashes")?;
    blocking(&node, move |node| {
        let chain = node.chain_read();
        let mut blocks = Vec::with_capacity(hashes.len());
        let mut bytes = 0usize;
        for hash in &hashes {
            let Some(raw) = chain.store().raw_block(hash)? else { break };
            bytes += raw.len();
            blocks.push(hex::encode(raw));
            if bytes >= MAX_BLOCKS_BYTES {
                break;
            }
        }
        Ok(web::Json(RawBlocksJson { blocks }))
    })
    .await
}

/// The sender's URL when it is usable; a banned sender is refused.
fn sender(node: &Node, from: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(from) = from.and_then(|f| logic::normalize_peer_url(f).ok()) else { return Ok(None) };
    if node.peer_manager().is_some_and(|p| p.is_banned(&from)) {
        return Err(ApiError::new(ErrorCode::Forbidden, format!("peer {from} is banned")));
    }
    Ok(Some(from))
}

/// A relayed block: checked like `POST /api/v1/blocks`; a sender whose block breaks a rule is
/// banned for 24 h.
async fn relay_block(node: web::Data<Node>, body: JsonBody<RelayRequest>) -> Result<HttpResponse, ApiError> {
    let RelayRequest { raw_hex, from } = body.0;
    let (hash, accepted) = blocking(&node, move |node| {
        let from = sender(node, from.as_deref())?;
        let raw = hex::decode(raw_hex.trim()).map_err(|e| ApiError::malformed(format!("raw_hex: not hex: {e}")))?;
        let block =
            Block::decode(&raw).map_err(|e| ApiError::malformed(format!("raw_hex: not a canonical block: {e}")))?;
        let hash = block.header.hash();
        if let (Some(p2p), Some(from)) = (node.peer_manager(), &from) {
            p2p.note_origin(&hash.to_string(), from);
        }
        match node.submit_block(block) {
            Ok(accepted) => Ok((hash, accepted)),
            Err(e) => {
                if let (Some(p2p), Some(from)) = (node.peer_manager(), &from)
                    && logic::bans_for_block(e.code())
                {
                    p2p.ban(from, &format!("relayed invalid block {hash}: {e}"));
                }
                Err(e.into())
            }
        }
    })
    .await?;
    Ok(super::chain::accepted_block_response(hash, accepted))
}

/// A relayed transfer: checked like `POST /api/v1/txs`; a sender of a transfer that is
/// invalid in itself (not merely late or conflicting) is banned for 24 h.
async fn relay_tx(node: web::Data<Node>, body: JsonBody<RelayRequest>) -> Result<HttpResponse, ApiError> {
    let RelayRequest { raw_hex, from } = body.0;
    if raw_hex.len() > 2 * SMALL_BODY_LIMIT {
        return Err(ApiError::too_large(2 * SMALL_BODY_LIMIT));
    }
    let txid = blocking(&node, move |node| {
        let from = sender(node, from.as_deref())?;
        let ban = |code: Option<ErrorCode>, why: &str| {
            if let (Some(p2p), Some(from)) = (node.peer_manager(), &from)
                && logic::bans_for_transfer(code)
            {
                p2p.ban(from, why);
            }
        };
        let transfer = match hex::decode(raw_hex.trim()).ok().map(|raw| Tx::decode(&raw)) {
            Some(Ok(Tx::Transfer(t))) => t,
            _ => {
                ban(Some(ErrorCode::Malformed), "relayed a malformed transfer");
                return Err(ApiError::malformed("raw_hex: not a canonical transfer"));
            }
        };
        if let (Some(p2p), Some(from)) = (node.peer_manager(), &from) {
            p2p.note_origin(&transfer.txid().to_string(), from);
        }
        node.submit_transfer(transfer).map_err(|e| {
            ban(e.code(), &format!("relayed an invalid transfer: {e}"));
            ApiError::from(e)
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "txid": txid.to_string() })))
}

/// Peer exchange: the URLs of peers that answered lately (none with `--connect-only`).
async fn peers(node: web::Data<Node>) -> web::Json<PeerUrlsJson> {
    let peers = match node.peer_manager() {
        Some(p2p) if !p2p.connect_only() => p2p.connected().into_iter().map(|p| p.url).collect(),
        _ => Vec::new(),
    };
    web::Json(PeerUrlsJson { peers })
}
