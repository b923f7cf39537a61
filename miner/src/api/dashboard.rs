//! The operator's routes outside `/api/v1`: the dashboard at `/` and its embedded assets,
//! `GET /metrics` (Prometheus text), `GET /healthz` and `GET /readyz`, and the middleware that
//! counts every request by its route pattern.
//!
//! The dashboard is three plain files compiled into the binary (`miner/assets/`): no CDN, no
//! build step. It is read-only and polls the public JSON API. Every dashboard answer carries a
//! strict Content-Security-Policy (scripts and styles from this origin only: no inline code, no
//! `eval`), `nosniff`, and an `ETag`; the page names its assets with a content hash, so they can
//! be cached for good while the page itself is revalidated.

use super::error::ApiError;
use super::extract::blocking;
use crate::metrics::Gauges;
use crate::node::Node;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use std::time::Instant;

/// The routes served here, with their methods, for the 404/405 table of [`super::openapi::ApiDoc`].
pub(super) const ROUTES: &[(&str, &[&str])] = &[
    ("/", &["GET"]),
    ("/assets/{name}", &["GET"]),
    ("/metrics", &["GET"]),
    ("/healthz", &["GET"]),
    ("/readyz", &["GET"]),
];

/// What the page may load: its own scripts, styles, images and API, nothing inline, no frames.
pub(super) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// The Prometheus text exposition format's content type.
pub(super) const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

const INDEX_HTML: &str = include_str!("../../assets/index.html");

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "dashboard.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/dashboard.js"),
    },
    Asset {
        name: "dashboard.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/dashboard.css"),
    },
    Asset { name: "favicon.svg", content_type: "image/svg+xml", bytes: include_bytes!("../../assets/favicon.svg") },
];

/// A short content hash of every asset: the `?v=` of their URLs and part of the page's ETag.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = Sha256::new();
    for asset in ASSETS {
        hasher.update(asset.name.as_bytes());
        hasher.update(asset.bytes);
    }
    hex::encode(&hasher.finalize()[..8])
});

/// The page with its asset URLs versioned.
static INDEX: LazyLock<String> = LazyLock::new(|| INDEX_HTML.replace("{{v}}", &VERSION));

/// The ETag of some bytes: a quoted prefix of their SHA-256.
fn etag_of(bytes: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..12]))
}

static INDEX_ETAG: LazyLock<String> = LazyLock::new(|| etag_of(INDEX.as_bytes()));
static ASSET_ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| ASSETS.iter().map(|a| etag_of(a.bytes)).collect());

/// Registers the routes on the app (outside the OpenAPI scope).
pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/assets/{name}", web::get().to(asset))
        .route("/metrics", web::get().to(metrics))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

/// Adds the headers every dashboard answer carries.
fn secured(mut response: HttpResponse) -> HttpResponse {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// Whether the request's `If-None-Match` names `etag` (or `*`).
fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().trim_start_matches("W/"))
        .any(|v| v == etag || v == "*")
}

/// An answer with `body`, or 304 when the client's copy is current.
fn cached(
    req: &HttpRequest,
    etag: &str,
    cache_control: &'static str,
    content_type: &str,
    body: &'static [u8],
) -> HttpResponse {
    let fresh = !not_modified(req, etag);
    let mut builder = if fresh { HttpResponse::Ok() } else { HttpResponse::NotModified() };
    builder.insert_header((header::ETAG, etag)).insert_header((header::CACHE_CONTROL, cache_control));
    let response = if fresh { builder.content_type(content_type).body(body) } else { builder.finish() };
    secured(response)
}

/// `GET /`: the dashboard page, revalidated on each load.
async fn index(req: HttpRequest) -> HttpResponse {
    let page: &'static str = INDEX.as_str();
    cached(&req, &INDEX_ETAG, "no-cache", "text/html; charset=utf-8", page.as_bytes())
}

/// `GET /assets/{name}`: an embedded file; cached for good when asked for by its current `?v=`.
async fn asset(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let Some((index, asset)) = ASSETS.iter().enumerate().find(|(_, a)| a.name == name.as_str()) else {
        return Err(ApiError::not_found(format!("no asset {}", name.as_str())));
    };
    let current = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("v").cloned())
        .is_some_and(|v| v == *VERSION);
    let cache_control = if current { "public, max-age=31536000, immutable" } else { "no-cache" };
    let etag = ASSET_ETAGS.get(index).map_or("\"\"", String::as_str);
    Ok(cached(&req, etag, cache_control, asset.content_type, asset.bytes))
}

/// `GET /metrics`: the counters and the node's gauges in the Prometheus text format.
async fn metrics(node: web::Data<Node>) -> Result<HttpResponse, ApiError> {
    let text = blocking(&node, |node| {
        // The miner's lock first, released before the chain's (as `/status` does).
        let mining = node.mining_enabled();
        let (hashrate, _) = node.hashrate();
        let p2p = node.peer_manager();
        let (peers_connected, peers_known, syncing) =
            p2p.map_or((0, 0, false), |p| (p.connected().len() as u64, p.peers().len() as u64, p.syncing()));
        let chain = node.chain_read();
        let tip = chain.tip();
        let params = node.params();
        let difficulty = match (tip.header.bits.to_target(), params.pow_limit.to_target()) {
            (Ok(target), Ok(limit)) => target.difficulty(limit),
            _ => 0.0,
        };
        let (mempool_count, mempool_bytes) = {
            let pool = node.mempool();
            (pool.len() as u64, pool.bytes() as u64)
        };
        let gauges = Gauges {
            height: chain.height().0,
            chain_work: crate::metrics::work_to_f64(&tip.chain_work.to_be_bytes()),
            difficulty,
            peers_connected,
            peers_known,
            mempool_count,
            mempool_bytes,
            orphans: chain.orphan_count() as u64,
            hashrate,
            mining,
            syncing,
            uptime_seconds: node.metrics().uptime().as_secs_f64(),
        };
        drop(chain);
        Ok(node.metrics().render(&gauges))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(METRICS_CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(text))
}

/// `GET /healthz`: 200 while the process answers; takes no lock, so a busy node still passes.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(json!({"status": "alive"}))
}

/// What readiness needs to know of a connected peer.
#[derive(Clone, Debug)]
pub(super) struct PeerView {
    pub(super) url: String,
    pub(super) height: u64,
    /// Big-endian chain work; `None` until it answered.
    pub(super) chain_work: Option<[u8; 32]>,
}

/// Why a node at `height` with chain work `ours` is not ready, or `None` when it is: a sync
/// is running, or a connected peer has more work.
pub(super) fn not_ready_reason_of(syncing: bool, ours: &[u8; 32], height: u64, peers: &[PeerView]) -> Option<String> {
    if syncing {
        return Some(format!("syncing from a peer (at height {height})"));
    }
    // Big-endian bytes of equal length compare like the numbers.
    let ahead = peers.iter().filter(|p| p.chain_work.is_some_and(|work| work > *ours)).max_by_key(|p| p.height);
    ahead.map(|peer| format!("behind peer {} (its height {}, ours {height})", peer.url, peer.height))
}

/// Why the node is not ready, or `None` when it is.
fn not_ready_reason(node: &Node) -> Option<String> {
    let (ours, height) = {
        let chain = node.chain_read();
        if let Err(e) = chain.store().snapshot() {
            return Some(format!("the store cannot be read: {e}"));
        }
        (chain.tip().chain_work.to_be_bytes(), chain.height().0)
    };
    let p2p = node.peer_manager()?;
    let peers: Vec<PeerView> = p2p
        .connected()
        .into_iter()
        .map(|p| PeerView { url: p.url, height: p.height, chain_work: p.chain_work })
        .collect();
    not_ready_reason_of(p2p.syncing(), &ours, height, &peers)
}

/// `GET /readyz`: 200 when the store reads, the API answers and no peer has more work; 503
/// with the reason otherwise.
async fn readyz(node: web::Data<Node>) -> HttpResponse {
    let answer = blocking(&node, |node| Ok((not_ready_reason(node), node.height().0))).await;
    let mut builder = HttpResponse::Ok();
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    match answer {
        Ok((None, height)) => builder.json(json!({"status": "ready", "height": height})),
        Ok((Some(reason), height)) => builder
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .json(json!({"status": "not_ready", "reason": reason, "height": height})),
        Err(e) => {
            builder.status(StatusCode::SERVICE_UNAVAILABLE).json(json!({"status": "not_ready", "reason": e.message()}))
        }
    }
}

/// Middleware: counts each request by method, matched route pattern (bounded, unlike raw
/// paths), status and time taken, and the API error code of an error answer.
pub(super) async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method: Method = req.method().clone();
    let node = req.app_data::<web::Data<Node>>().cloned();
    let response = next.call(req).await;
    if let Some(node) = node {
        match &response {
            Ok(res) => {
                let code = res.response().error().and_then(|e| e.as_error::<ApiError>()).map(|e| e.code().as_str());
                node.metrics().http_request(
                    method.as_str(),
                    res.request().match_pattern(),
                    res.status().as_u16(),
                    started.elapsed(),
                    code,
                );
            }
            Err(e) => {
                let code = e.as_error::<ApiError>().map(|e| e.code().as_str());
                let status = e.as_response_error().status_code().as_u16();
                node.metrics().http_request(method.as_str(), None, status, started.elapsed(), code);
            }
        }
    }
    response
}
