//! The HTTP/JSON API of SPEC §6 (actix-web), a thin adapter over [`Node`]: every handler
//! parses its input, runs the node's work in the blocking pool (locks, store reads, signature
//! checks and block validation never run on the async workers), and maps the answer to JSON.
//!
//! - Errors: one [`ApiError`] type answers `{"error": {"code", "message"}}` with the status
//!   of its code ([`oxcoin::ErrorCode::http_status`]); unknown paths are 404 `not_found`,
//!   known paths with another method 405 `method_not_allowed`, node failures 500 `internal`
//!   (logged). Nothing reachable unwraps input.
//! - Bodies: per-route limits (`/txs` and admin routes 4 KiB, `/blocks` twice the max block
//!   size plus 1 KiB) are checked before parsing, from `Content-Length` and while reading
//!   (413 `too_large`); the content type must be JSON; unknown and repeated fields are
//!   refused (400 `malformed` with serde's message, which names the field).
//! - `GET /blocks` lists ascending heights from `from`, by default the latest `limit` blocks.
//! - History pages: `before` is a txid of the history (pending or confirmed); the page holds
//!   the rows after it in the order pending (newest received first), then confirmed (highest
//!   block first, last in its block first).
//! - `POST`/`DELETE /admin/peers` answer 501 `not_implemented` when peer-to-peer is not running.
//! - The peer routes live under `/p2p` ([`crate::p2p`]), outside the OpenAPI document.
//! - The OpenAPI document is collected from the registered handlers by utoipa-actix-web.

mod dashboard;
pub mod error;
pub mod extract;
pub mod json;
pub mod openapi;
pub mod ratelimit;
mod routes;

#[cfg(test)]
mod dashboard_tests;
#[cfg(test)]
mod tests;

pub use error::ApiError;

use crate::node::Node;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use openapi::ApiDoc;
use std::net::TcpListener;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, scope};

/// Path prefix of the public API.
pub const PREFIX: &str = "/api/v1";

/// Builds the HTTP server on an already bound listener; the caller runs and stops it.
///
/// # Errors
/// The listener cannot be used.
pub fn server(node: Arc<Node>, listener: TcpListener) -> std::io::Result<Server> {
    Ok(HttpServer::new(move || app(Arc::clone(&node)))
        .workers(2)
        .disable_signals()
        .shutdown_timeout(3)
        .listen(listener)?
        .run())
}

/// Builds the whole application for `node`: the API under [`PREFIX`], the dashboard at `/`,
/// and the JSON 404/405 answers for everything else.
pub fn app(
    node: Arc<Node>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, document) = App::new()
        .into_utoipa_app()
        .openapi(openapi::BaseDoc::openapi())
        .service(scope::scope(PREFIX).configure(routes::configure))
        .split_for_parts();
    let doc = ApiDoc::new(&document, dashboard::ROUTES);
    let limiter = web::Data::from(Arc::clone(node.rate_limiter()));
    app.app_data(web::Data::from(node))
        .app_data(limiter)
        .app_data(web::Data::new(doc))
        .app_data(web::QueryConfig::default().error_handler(|e, _| ApiError::malformed(format!("query: {e}")).into()))
        .app_data(web::PathConfig::default().error_handler(|e, _| ApiError::malformed(format!("path: {e}")).into()))
        .app_data(
            web::JsonConfig::default().limit(extract::SMALL_BODY_LIMIT).error_handler(|e, _| json_error(&e).into()),
        )
        .service(web::scope("/p2p").configure(routes::p2p::configure))
        .configure(dashboard::configure)
        .default_service(web::to(fallback))
        .wrap(actix_web::middleware::from_fn(ratelimit::limit))
        .wrap(actix_web::middleware::from_fn(dashboard::track))
}

/// Maps actix's own JSON extractor errors to the API's (the routes use [`extract::JsonBody`];
/// this covers any handler that takes `web::Json`).
fn json_error(e: &actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError;
    match e {
        JsonPayloadError::OverflowKnownLength { limit, .. } | JsonPayloadError::Overflow { limit } => {
            ApiError::too_large(*limit)
        }
        other => ApiError::malformed(format!("body: {other}")),
    }
}

/// Unknown path: 404; known path, other method: 405 with `Allow`.
async fn fallback(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    let known = req.app_data::<web::Data<ApiDoc>>().and_then(|doc| doc.methods_for(path));
    match known {
        Some(methods) if !methods.is_empty() => {
            Err(ApiError::method_not_allowed(req.method().as_str(), path, &methods))
        }
        _ => Err(ApiError::not_found(format!("no route {} {path}", req.method()))),
    }
}
