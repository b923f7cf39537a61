//! Admin routes (the `.cookie` token), the dev-only block generator, and the peer list.

use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Admin, BodyLimit, DevOnly, JsonBody, SMALL_BODY_LIMIT, blocking};
use crate::api::json::{GenerateJson, GenerateRequest, MiningRequest, PeerRequest, PeersJson};
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
/// Each with its height and when it last answered (none until peer-to-peer arrives).
#[utoipa::path(
    tag = "peers",
    responses((status = 200, description = "Connected peers", body = PeersJson))
)]
#[get("/peers")]
async fn get_peers() -> web::Json<PeersJson> {
    web::Json(PeersJson { peers: Vec::new() })
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

/// Adds a peer (not implemented yet).
///
/// Reserved: peer-to-peer arrives in a later version; answers 501 `not_implemented`.
#[utoipa::path(
    tag = "admin",
    security(("cookie" = [])),
    request_body = PeerRequest,
    responses(
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 501, description = "`not_implemented` yet", body = ErrorBody),
    )
)]
#[post("/admin/peers")]
async fn add_peer(_: Admin, body: JsonBody<PeerRequest>) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented(format!("cannot add peer {}: peer-to-peer is not built yet", body.0.url)))
}

/// Removes a peer (not implemented yet).
///
/// Reserved: peer-to-peer arrives in a later version; answers 501 `not_implemented`.
#[utoipa::path(
    tag = "admin",
    security(("cookie" = [])),
    request_body = PeerRequest,
    responses(
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 501, description = "`not_implemented` yet", body = ErrorBody),
    )
)]
#[delete("/admin/peers")]
async fn remove_peer(_: Admin, body: JsonBody<PeerRequest>) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_implemented(format!("cannot remove peer {}: peer-to-peer is not built yet", body.0.url)))
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
