//! The API's one error type and its body, `{"error": {"code": "snake_case", "message": "…"}}`,
//! answered with the status of its code (SPEC §6).

use crate::chain::ChainError;
use crate::node::SubmitTxError;
use crate::store::StoreError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use oxcoin::ErrorCode;
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// A refusal code: one of the shared [`ErrorCode`]s, or one that only the HTTP layer can give.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Code {
    /// A code of the shared list, answered with [`ErrorCode::http_status`].
    Shared(ErrorCode),
    /// 405 `method_not_allowed`: the route exists for other methods.
    MethodNotAllowed,
    /// 500 `internal`: the node itself failed (its log says why); not the request's fault.
    Internal,
    /// 501 `not_implemented`: the route is reserved for a later version.
    NotImplemented,
}

impl Code {
    /// Returns the snake_case code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::Shared(code) => code.as_str(),
            Code::MethodNotAllowed => "method_not_allowed",
            Code::Internal => "internal",
            Code::NotImplemented => "not_implemented",
        }
    }

    /// Returns the HTTP status the code is answered with.
    pub fn status(self) -> StatusCode {
        let status = match self {
            Code::Shared(code) => code.http_status(),
            Code::MethodNotAllowed => 405,
            Code::Internal => 500,
            Code::NotImplemented => 501,
        };
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// An error answer: a code and a message for humans.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ApiError {
    code: Code,
    message: String,
    /// Methods the route answers, sent in `Allow` with a 405.
    allow: Option<String>,
}

impl ApiError {
    /// Builds an error with a shared code.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code: Code::Shared(code), message: message.into(), allow: None }
    }

    /// 400 `malformed`: the input cannot be parsed; `message` names the field.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Malformed, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// 413 `too_large`: a body over the route's limit of `limit` bytes.
    pub fn too_large(limit: usize) -> Self {
        Self::new(ErrorCode::TooLarge, format!("the body is over this route's limit of {limit} bytes"))
    }

    /// 405 `method_not_allowed`, with the methods the route answers.
    pub fn method_not_allowed(method: &str, path: &str, allowed: &[&str]) -> Self {
        Self {
            code: Code::MethodNotAllowed,
            message: format!("{path} does not answer {method}; it answers {}", allowed.join(", ")),
            allow: Some(allowed.join(", ")),
        }
    }

    /// 501 `not_implemented`.
    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self { code: Code::NotImplemented, message: message.into(), allow: None }
    }

    /// 500 `internal`, logging the cause: the client only learns that the node failed.
    pub fn internal(cause: &dyn fmt::Display) -> Self {
        tracing::error!(error = %cause, "API request failed inside the node");
        Self { code: Code::Internal, message: "the node failed to answer; its log says why".into(), allow: None }
    }

    /// Returns the code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// Returns the message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Some(allow) = self.allow.as_deref().and_then(|a| HeaderValue::from_str(a).ok()) {
            response.insert_header((header::ALLOW, allow));
        }
        if self.code == Code::Shared(ErrorCode::Unauthorized) {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.json(ErrorBody {
            error: ErrorDetail { code: self.code.as_str().to_owned(), message: self.message.clone() },
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::internal(&e)
    }
}

impl From<ChainError> for ApiError {
    fn from(e: ChainError) -> Self {
        match e.code() {
            Some(code) => Self::new(code, e.to_string()),
            None => Self::internal(&e),
        }
    }
}

impl From<SubmitTxError> for ApiError {
    fn from(e: SubmitTxError) -> Self {
        match e.code() {
            Some(code) => Self::new(code, e.to_string()),
            None => Self::internal(&e),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::internal(&e)
    }
}

/// The body of every error answer.
#[derive(Serialize, ToSchema, Debug)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// A refusal: its machine-readable code and a message for humans.
#[derive(Serialize, ToSchema, Debug)]
pub struct ErrorDetail {
    /// snake_case code, e.g. `malformed`, `not_found`, `nonce_gap`, `high_hash`.
    #[schema(example = "malformed")]
    pub code: String,
    /// What was wrong, naming the field for a `malformed` input.
    pub message: String,
}
