//! Request extractors: JSON bodies with a per-route size limit checked before parsing, the
//! admin token, and the dev-network guard. Each fails with an [`ApiError`].

use super::error::ApiError;
use crate::node::Node;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use oxcoin::{ChainParams, ErrorCode, Network};
use serde::de::DeserializeOwned;
use std::future::{Future, Ready, ready};
use std::pin::Pin;

/// Body types that say how many bytes their route accepts.
pub trait BodyLimit {
    /// The largest body accepted, in bytes.
    fn limit(params: &ChainParams) -> usize;
}

/// Bodies of the small admin and transfer routes: 4 KiB.
pub const SMALL_BODY_LIMIT: usize = 4 * 1024;

/// The node behind a request, from the app data.
pub fn node_of(req: &HttpRequest) -> Result<&web::Data<Node>, ApiError> {
    req.app_data::<web::Data<Node>>().ok_or_else(|| ApiError::internal(&"the API app has no node"))
}

/// A JSON body of type `T`: the content type must be JSON and the body at most
/// `T::limit` bytes (413 `too_large`, checked before reading on by the declared length and
/// while reading), then it must parse (400 `malformed` with serde's message, which names the
/// field; unknown and repeated fields included).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + BodyLimit + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let checked = node_of(req).map(|node| T::limit(node.params())).and_then(|limit| {
            check_content_type(req)?;
            check_declared_length(req, limit)?;
            Ok(limit)
        });
        let body = web::Payload::from_request(req, payload);
        Box::pin(async move {
            let limit = checked?;
            let body = body.await.map_err(|e| ApiError::malformed(format!("reading the body: {e}")))?;
            let bytes = read_limited(body, limit).await?;
            serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| ApiError::malformed(format!("body: {e}")))
        })
    }
}

/// 413 `too_large` when the request declares a `Content-Length` over `limit`, before reading.
///
/// # Errors
/// `too_large`.
pub fn check_declared_length(req: &HttpRequest, limit: usize) -> Result<(), ApiError> {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    if declared.and_then(|v| v.trim().parse::<u64>().ok()).is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    Ok(())
}

/// Reads a body, stopping with 413 `too_large` as soon as it passes `limit` bytes.
///
/// # Errors
/// `too_large`, or `malformed` when the connection fails while reading.
pub async fn read_limited(body: web::Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    match body.to_bytes_limited(limit).await {
        Err(_) => Err(ApiError::too_large(limit)),
        Ok(Err(e)) => Err(ApiError::malformed(format!("reading the body: {e}"))),
        Ok(Ok(bytes)) => Ok(bytes),
    }
}

/// The essence of the request's `Content-Type` (lowercase, parameters dropped), if any.
pub fn content_type(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::CONTENT_TYPE)?.to_str().unwrap_or("(not text)");
    Some(value.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

/// 400 `malformed` unless the request's `Content-Type` is JSON (`application/json` or
/// `application/…+json`).
///
/// # Errors
/// `malformed`, naming the content type that came.
pub fn check_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    match content_type(req).as_deref() {
        Some("application/json") => Ok(()),
        Some(other) if other.starts_with("application/") && other.ends_with("+json") => Ok(()),
        other => Err(ApiError::malformed(format!(
            "Content-Type: expected application/json, got {}",
            other.unwrap_or("none")
        ))),
    }
}

/// Proof that the request carries the admin token (`Authorization: Bearer <cookie>`);
/// 401 `unauthorized` otherwise.
#[derive(Debug)]
pub struct Admin;

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(node_of(req).and_then(|node| {
            let given = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            match given {
                Some(token) if constant_time_eq(token.as_bytes(), node.cookie().as_bytes()) => Ok(Admin),
                Some(_) => Err(ApiError::new(ErrorCode::Unauthorized, "the admin token is wrong")),
                None => Err(ApiError::new(
                    ErrorCode::Unauthorized,
                    "admin routes need `Authorization: Bearer <token>`, the token being the content of the node's .cookie file",
                )),
            }
        }))
    }
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Proof that the node runs the dev network; 403 `forbidden` otherwise.
#[derive(Debug)]
pub struct DevOnly;

impl FromRequest for DevOnly {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(node_of(req).and_then(|node| match node.params().network {
            Network::Dev => Ok(DevOnly),
            other => Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("this route exists on the dev network only; this node runs {other}"),
            )),
        }))
    }
}

/// Runs `f` on the node in the blocking pool: it may take locks, read the store or check
/// signatures without holding up the async workers.
///
/// # Errors
/// `f`'s error, or 500 `internal` when the blocking pool fails.
pub async fn blocking<T, F>(node: &web::Data<Node>, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&std::sync::Arc<Node>) -> Result<T, ApiError> + Send + 'static,
{
    let node = node.clone().into_inner();
    web::block(move || f(&node)).await?
}

#[cfg(test)]
mod unit {
    use super::constant_time_eq;

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
