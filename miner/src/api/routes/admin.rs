//! Admin routes (the `.cookie` token), the dev-only block generator, and the peer list.

use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Admin, BodyLimit, DevOnly, JsonBody, SMALL_BODY_LIMIT, blocking};
use crate::api::json::{GenerateJson, GenerateRequest, MiningRequest, PeerJson, PeerRequest, PeersJson};
use crate::node::Node;
use actix_web::{HttpResponse, delete, get, post, web};
use oxcoin::{Address, ChainParams};
use utoipa_actix_web::service_config::ServiceConfig;

/// Most blocks one `POST /dev/generate` mines.
const MAX_GENERATE: u64 = 1000;

pub(super) fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(get_peers).service(set_mining).service(add_peer).service(remove_peer).service(generate);
}

impl BodyLimit for MiningRequest {
    fn limit(_: &ChainParams) -> usize {
        SMALL_BODY_LIMIT
    }
}

impl BodyLimit for PeerRequest {
    fn limit(_: &ChainParams) -> usize {
        SMALL_BODY_LIMIT
    }
}

impl BodyLimit for GenerateRequest {
    fn limit(_: &ChainParams) -> usize {
        SMALL_BODY_LIMIT
    }
}

/// Lists connected peers.
///
/// Each with its height and when it last answered (Unix seconds): the peers that answered a
/// poll within the last 10 seconds.
#[utoipa::path(
    tag = "peers",
    responses((status = 200, description = "Connected peers", body = PeersJson))
)]
#[get("/peers")]
async fn get_peers(node: web::Data<Node>) -> web::Json<PeersJson> {
    web::Json(peers_json(&node))
}

fn peers_json(node: &Node) -> PeersJson {
    let peers = node.peer_manager().map(|p| p.connected()).unwrap_or_default();
    PeersJson {
        peers: peers.into_iter().map(|p| PeerJson { url: p.url, height: p.height, last_seen: p.last_seen }).collect(),
    }
}

/// Turns the local miner on or off.
///
/// Answers the miner's state afterwards: off on a node started without mining, whose miner
/// threads do not exist.
#[utoipa::path(
    tag = "admin",
    security(("cookie" = [])),
    request_body = MiningRequest,
    responses(
        (status = 200, description = "Whether the miner runs now", body = MiningRequest),
        (status = 400, description = "`malformed` body", body = ErrorBody),
        (status = 401, description = "`unauthorized`: missing or wrong token", body = ErrorBody),
    )
)]
#[post("/admin/mining")]
async fn set_mining(
    _: Admin,
    node: web::Data<Node>,
    body: JsonBody<MiningRequest>,
) -> Result<web::Json<MiningRequest>, ApiError> {
    let enabled = body.0.enabled;
    blocking(&node, move |node| {
        node.set_mining(enabled).map_err(|e| ApiError::internal(&e))?;
        Ok(web::Json(MiningRequest { enabled: node.mining_enabled() }))
    })
    .await
}

/// Adds a peer.
///
/// `{"url": "http://host:port"}`; the node polls it, syncs from it when it has more work and
/// relays to it. Answers the connected peers (the new one joins once it answers).
#[utoipa::path(
    tag = "admin",
    security(("cookie" = [])),
    request_body = PeerRequest,
    responses(
        (status = 200, description = "Added (or already known); the connected peers", body = PeersJson),
        (status = 400, description = "`malformed` URL (`http://host:port`), our own, or banned", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
    )
)]
#[post("/admin/peers")]
async fn add_peer(_: Admin, node: web::Data<Node>, body: JsonBody<PeerRequest>) -> Result<HttpResponse, ApiError> {
    let p2p = node.peer_manager().ok_or_else(|| ApiError::not_implemented("peer-to-peer is not running"))?;
    if p2p.add(&body.0.url, true).map_err(ApiError::malformed)? {
        tracing::info!(peer = body.0.url, "peer added");
    }
    Ok(HttpResponse::Ok().json(peers_json(&node)))
}

/// Removes a peer.
///
/// `{"url": "http://host:port"}`; answers the connected peers left. The peer is not learned
/// again from its own announcements or from peer exchange until it is added again.
#[utoipa::path(
    tag = "admin",
    security(("cookie" = [])),
    request_body = PeerRequest,
    responses(
        (status = 200, description = "Removed; the connected peers left", body = PeersJson),
        (status = 400, description = "`malformed` body", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such peer", body = ErrorBody),
    )
)]
#[delete("/admin/peers")]
async fn remove_peer(_: Admin, node: web::Data<Node>, body: JsonBody<PeerRequest>) -> Result<HttpResponse, ApiError> {
    let p2p = node.peer_manager().ok_or_else(|| ApiError::not_implemented("peer-to-peer is not running"))?;
    if !p2p.remove_by_operator(&body.0.url) {
        return Err(ApiError::not_found(format!("no peer {}", body.0.url)));
    }
    tracing::info!(peer = body.0.url, "peer removed");
    Ok(HttpResponse::Ok().json(peers_json(&node)))
}

/// Mines blocks on demand (dev network only).
///
/// Mines `count` blocks (1 to 1000) at once to `address` and answers once all are connected.
/// Timestamps: the later of the clock and median-time-past + 1.
#[utoipa::path(
    tag = "admin",
    security(("cookie" = [])),
    request_body = GenerateRequest,
    responses(
        (status = 200, description = "The connected blocks' hashes, lowest first", body = GenerateJson),
        (status = 400, description = "`malformed`: bad count or address", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a dev node", body = ErrorBody),
    )
)]
#[post("/dev/generate")]
async fn generate(
    _: Admin,
    _: DevOnly,
    node: web::Data<Node>,
    body: JsonBody<GenerateRequest>,
) -> Result<web::Json<GenerateJson>, ApiError> {
    let GenerateRequest { count, address } = body.0;
    if !(1..=MAX_GENERATE).contains(&count) {
        return Err(ApiError::malformed(format!("count: must be 1 to {MAX_GENERATE}, got {count}")));
    }
    let to = Address::parse_for(&address, node.params().network)
        .map_err(|e| ApiError::malformed(format!("address: {e}")))?;
    blocking(&node, move |node| {
        let hashes = node
            .generate(count as usize, to.account())
            .map_err(|e| ApiError::internal(&format!("generating blocks: {e:#}")))?;
        Ok(web::Json(GenerateJson { hashes: hashes.iter().map(ToString::to_string).collect() }))
    })
    .await
}
