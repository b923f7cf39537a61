//! The peer routes under `/p2p` (SPEC §6): hello, locate, block download, block and transfer
//! relay, pending transfers for a new peer, and peer exchange. Plain actix routes, outside the
//! public API's OpenAPI document.
//!
//! A relayed item names its sender (`from`); the name is believed only when its host is the
//! connection's address ([`logic::sender_matches`]), and otherwise the connection's address
//! stands for the sender: that is what gets banned for invalid data, so nobody can get an
//! honest peer banned by sending junk in its name.

use crate::api::error::ApiError;
use crate::api::extract::{
    BodyLimit, JsonBody, SMALL_BODY_LIMIT, blocking, check_content_type, check_declared_length, content_type,
    read_limited,
};
use crate::chain::Accepted;
use crate::node::Node;
use crate::p2p::logic;
use crate::p2p::wire::{
    BINARY, BlocksRequest, HelloJson, HelloQuery, LocateJson, LocateRequest, MAX_BLOCKS, MAX_BLOCKS_BYTES, MAX_LOCATE,
    MAX_LOCATOR, MAX_MEMPOOL_TXS, MempoolTxsJson, PeerUrlsJson, RawBlocksJson, RelayRequest,
};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use oxcoin::hash::BlockHash;
use oxcoin::{Block, ChainParams, Decode, Encode, ErrorCode, Height, Tx};
use serde::Deserialize;
use std::net::IpAddr;

/// Registers the `/p2p` routes (paths relative to the scope). Another method on a known path
/// gets 405 `method_not_allowed` with `Allow`, as on the public API.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/hello", "GET").route(web::get().to(hello)))
        .service(resource("/locate", "POST").route(web::post().to(locate)))
        .service(resource("/blocks", "POST").route(web::post().to(blocks)))
        .service(resource("/block", "POST").route(web::post().to(relay_block)))
        .service(resource("/tx", "POST").route(web::post().to(relay_tx)))
        .service(resource("/mempool", "GET").route(web::get().to(mempool)))
        .service(resource("/peers", "GET").route(web::get().to(peers)));
}

/// A peer route answering `method` only; any other method gets 405 with `Allow: method`.
fn resource(path: &str, method: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move |req: HttpRequest| async move {
        Err::<HttpResponse, _>(ApiError::method_not_allowed(req.method().as_str(), req.path(), &[method]))
    }))
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

/// `POST /p2p/tx` body: a [`RelayRequest`] limited like `POST /api/v1/txs` (4 KiB; the
/// largest transfer that decodes is 802 hex digits), not like a block.
#[derive(Deserialize, Debug)]
#[serde(transparent)]
struct TxRelayRequest(RelayRequest);

impl BodyLimit for TxRelayRequest {
    fn limit(_: &ChainParams) -> usize {
        SMALL_BODY_LIMIT
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
/// `--connect-only`, the table is full, or it is banned). The URL is believed only when its
/// host is the connection's address, as a relay's sender is: otherwise anybody could fill the
/// peer table with third parties' addresses and have the node poll them.
async fn hello(
    node: web::Data<Node>,
    req: HttpRequest,
    query: web::Query<HelloQuery>,
) -> Result<web::Json<HelloJson>, ApiError> {
    let url = query.into_inner().url;
    let connection = req.peer_addr().map(|a| a.ip());
    blocking(&node, move |node| {
        if let (Some(p2p), Some(url)) = (node.peer_manager(), url)
            && !p2p.connect_only()
            && let Ok(normalized) = logic::normalize_peer_url(&url)
            && connection.is_some_and(|ip| logic::sender_matches(&normalized, ip))
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
        Ok(web::Json(LocateJson { hashes, first_height: fork + 1 }))
    })
    .await
}

/// Stored blocks in the order asked, up to the first unknown one or the byte budget (at least
/// one block): length-prefixed canonical bytes when the caller accepts [`BINARY`], otherwise
/// JSON with hex.
async fn blocks(
    node: web::Data<Node>,
    req: HttpRequest,
    body: JsonBody<BlocksRequest>,
) -> Result<HttpResponse, ApiError> {
    if body.0.hashes.len() > MAX_BLOCKS {
        return Err(ApiError::malformed(format!("hashes: at most {MAX_BLOCKS}")));
    }
    let hashes = parse_hashes(&body.0.hashes, "hashes")?;
    let binary = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.split(',').any(|t| t.trim().eq_ignore_ascii_case(BINARY)));
    let raws = blocking(&node, move |node| {
        let chain = node.chain_read();
        let mut raws = Vec::with_capacity(hashes.len());
        let mut bytes = 0usize;
        for hash in &hashes {
            let Some(raw) = chain.store().raw_block(hash)? else { break };
            bytes += raw.len();
            raws.push(raw);
            if bytes >= MAX_BLOCKS_BYTES {
                break;
            }
        }
        Ok(raws)
    })
    .await?;
    if binary {
        let mut out = Vec::with_capacity(raws.iter().map(|r| r.len() + 4).sum());
        for raw in &raws {
            // A block is at most max_block_size (1 MB) long, far below u32::MAX.
            out.extend_from_slice(&u32::try_from(raw.len()).unwrap_or(u32::MAX).to_le_bytes());
            out.extend_from_slice(raw);
        }
        Ok(HttpResponse::Ok().content_type(BINARY).body(out))
    } else {
        Ok(HttpResponse::Ok().json(RawBlocksJson { blocks: raws.iter().map(hex::encode).collect() }))
    }
}

/// Who sent a relayed item: the key it is banned by, and the URL items are not relayed back to.
#[derive(Debug)]
struct Sender {
    /// A believed peer URL, or the connection's [`logic::ip_key`].
    ban_key: Option<String>,
    /// The believed peer URL.
    url: Option<String>,
}

/// Names the sender of a relayed item from its claim and its connection (see the module
/// notes); a banned sender is refused with 403 `forbidden`.
fn sender(node: &Node, claimed: Option<&str>, connection: Option<IpAddr>) -> Result<Sender, ApiError> {
    let claimed = claimed.and_then(|f| logic::normalize_peer_url(f).ok());
    let url = match (claimed, connection) {
        (Some(url), Some(ip)) if logic::sender_matches(&url, ip) => Some(url),
        _ => None,
    };
    let ip_key = connection.map(logic::ip_key);
    if let Some(p2p) = node.peer_manager() {
        for key in url.iter().chain(ip_key.iter()) {
            if p2p.is_banned(key) {
                return Err(ApiError::new(ErrorCode::Forbidden, format!("peer {key} is banned")));
            }
        }
    }
    // A loopback address stands for every local process: never banned as a whole.
    let ban_key = url.clone().or(ip_key.filter(|_| !connection.is_some_and(|ip| ip.is_loopback())));
    Ok(Sender { ban_key, url })
}

impl Sender {
    fn ban(&self, node: &Node, why: &str) {
        if let (Some(p2p), Some(key)) = (node.peer_manager(), &self.ban_key) {
            p2p.ban(key, why);
        }
    }

    fn note_origin(&self, node: &Node, id: &str) {
        if let (Some(p2p), Some(url)) = (node.peer_manager(), &self.url) {
            p2p.note_origin(id, url);
        }
    }
}

/// `?from=` of a binary block relay.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct FromQuery {
    from: Option<String>,
}

/// A relayed block, as [`BINARY`] (sender in `?from=`) or as JSON [`RelayRequest`]: checked
/// like `POST /api/v1/blocks`; a sender whose block breaks a rule is banned for 24 h, and one
/// whose block is an orphan is synced from.
async fn relay_block(
    node: web::Data<Node>,
    req: HttpRequest,
    query: web::Query<FromQuery>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let limit = RelayRequest::limit(node.params());
    check_declared_length(&req, limit)?;
    let (raw, from) = if content_type(&req).as_deref() == Some(BINARY) {
        let raw = read_limited(body, node.params().max_block_size + 1).await?;
        (raw.to_vec(), query.into_inner().from)
    } else {
        // The JSON form is as strict as the public API's: a JSON content type, then the body.
        check_content_type(&req)?;
        let bytes = read_limited(body, limit).await?;
        let RelayRequest { raw_hex, from } =
            serde_json::from_slice(&bytes).map_err(|e| ApiError::malformed(format!("body: {e}")))?;
        let raw = hex::decode(raw_hex.trim()).map_err(|e| ApiError::malformed(format!("raw_hex: not hex: {e}")))?;
        (raw, from)
    };
    let connection = req.peer_addr().map(|a| a.ip());
    let (hash, accepted) = blocking(&node, move |node| {
        let sender = sender(node, from.as_deref(), connection)?;
        let block = Block::decode(&raw).map_err(|e| ApiError::malformed(format!("not a canonical block: {e}")))?;
        let hash = block.header.hash();
        sender.note_origin(node, &hash.to_string());
        match node.submit_block(block) {
            Ok(accepted) => {
                if let (Accepted::Orphan, Some(p2p), Some(url)) = (accepted, node.peer_manager(), &sender.url) {
                    p2p.request_sync(url);
                }
                Ok((hash, accepted))
            }
            Err(e) => {
                if logic::bans_for_block(e.code()) {
                    sender.ban(node, &format!("relayed invalid block {hash}: {e}"));
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
async fn relay_tx(
    node: web::Data<Node>,
    req: HttpRequest,
    body: JsonBody<TxRelayRequest>,
) -> Result<HttpResponse, ApiError> {
    let RelayRequest { raw_hex, from } = body.0.0;
    let connection = req.peer_addr().map(|a| a.ip());
    let txid = blocking(&node, move |node| {
        let sender = sender(node, from.as_deref(), connection)?;
        let transfer = match hex::decode(raw_hex.trim()).ok().map(|raw| Tx::decode(&raw)) {
            Some(Ok(Tx::Transfer(t))) => t,
            _ => {
                sender.ban(node, "relayed a malformed transfer");
                return Err(ApiError::malformed("raw_hex: not a canonical transfer"));
            }
        };
        sender.note_origin(node, &transfer.txid().to_string());
        node.submit_transfer(transfer).map_err(|e| {
            if logic::bans_for_transfer(e.code()) {
                sender.ban(node, &format!("relayed an invalid transfer: {e}"));
            }
            ApiError::from(e)
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "txid": txid.to_string() })))
}

/// The pending transfers, highest fee rate first, for a peer that just connected.
async fn mempool(node: web::Data<Node>) -> Result<web::Json<MempoolTxsJson>, ApiError> {
    blocking(&node, |node| {
        let pool = node.mempool();
        let mut top = pool.top_by_fee_rate(MAX_MEMPOOL_TXS);
        // Each sender's transfers in nonce order, so the peer can take them one by one.
        top.sort_by_key(|e| (e.sender, e.transfer.nonce));
        let txs = top.into_iter().map(|e| e.transfer.encode_hex()).collect();
        Ok(web::Json(MempoolTxsJson { txs }))
    })
    .await
}

/// Peer exchange: the URLs of peers that answered lately (none with `--connect-only`).
async fn peers(node: web::Data<Node>) -> web::Json<PeerUrlsJson> {
    let peers = match node.peer_manager() {
        Some(p2p) if !p2p.connect_only() => p2p.connected().into_iter().map(|p| p.url).collect(),
        _ => Vec::new(),
    };
    web::Json(PeerUrlsJson { peers })
}
