//! The OpenAPI 3 document, collected by utoipa from the handlers actually registered (so it
//! cannot drift from the routes), served at `/api/v1/openapi.json`; and the route table derived
//! from it, which tells a wrong method (405) from an unknown path (404).

use actix_web::dev::ResourceDef;
use actix_web::{HttpResponse, get, http::header::ContentType, web};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, PathItem};
use utoipa::{Modify, OpenApi};

/// The parts of the document no handler carries: title, tags, the admin token scheme.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "OxCoin node API",
        description = "HTTP/JSON API of an OxCoin node (`oxminer`). Amounts are integer grains \
(1 OXC = 100,000,000 grains); hashes are the byte-reversed hex Bitcoin tools print. Every error \
is `{\"error\": {\"code\": \"snake_case\", \"message\": \"…\"}}` with the status of its code."
    ),
    modifiers(&CookieAuth),
    tags(
        (name = "chain", description = "Status and blocks"),
        (name = "transactions", description = "Transactions, the mempool and fees"),
        (name = "addresses", description = "Balances and history"),
        (name = "peers", description = "Peer list"),
        (name = "admin", description = "Routes that need the node's `.cookie` token"),
        (name = "meta", description = "This document"),
    )
)]
pub struct BaseDoc;

/// Declares the `cookie` security scheme: `Authorization: Bearer <content of .cookie>`.
struct CookieAuth;

impl Modify for CookieAuth {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some(
            "The whole content of the `.cookie` file in the node's network data folder (renewed at each start)".into(),
        );
        components.add_security_scheme("cookie", SecurityScheme::Http(scheme));
    }
}

/// The generated document and the route table derived from it.
pub struct ApiDoc {
    json: String,
    routes: Vec<(ResourceDef, Vec<&'static str>)>,
}

impl ApiDoc {
    /// Serializes `document` and indexes its paths; `extra` adds routes served outside it
    /// (the dashboard).
    pub fn new(document: &Document, extra: &[(&str, &[&'static str])]) -> Self {
        let json = document.to_pretty_json().unwrap_or_else(|e| {
            tracing::error!(error = %e, "the OpenAPI document does not serialize");
            "{}".to_owned()
        });
        let mut routes: Vec<(ResourceDef, Vec<&'static str>)> =
            document.paths.paths.iter().map(|(path, item)| (ResourceDef::new(path.as_str()), methods(item))).collect();
        routes.extend(extra.iter().map(|(path, methods)| (ResourceDef::new(*path), methods.to_vec())));
        Self { json, routes }
    }

    /// Returns the document as JSON.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// Returns the methods the route matching `path` answers, or `None` for an unknown path.
    pub fn methods_for(&self, path: &str) -> Option<Vec<&'static str>> {
        let mut found: Option<Vec<&'static str>> = None;
        for (def, methods) in &self.routes {
            if def.is_match(path) {
                let all = found.get_or_insert_with(Vec::new);
                for method in methods {
                    if !all.contains(method) {
                        all.push(method);
                    }
                }
            }
        }
        found
    }
}

fn methods(item: &PathItem) -> Vec<&'static str> {
    [
        ("GET", item.get.is_some()),
        ("POST", item.post.is_some()),
        ("PUT", item.put.is_some()),
        ("DELETE", item.delete.is_some()),
        ("PATCH", item.patch.is_some()),
        ("OPTIONS", item.options.is_some()),
        ("HEAD", item.head.is_some()),
        ("TRACE", item.trace.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
    .collect()
}

/// Returns this OpenAPI 3 document.
#[utoipa::path(
    tag = "meta",
    responses((status = 200, description = "The OpenAPI document of this API", content_type = "application/json"))
)]
#[get("/openapi.json")]
pub(super) async fn openapi_json(doc: web::Data<ApiDoc>) -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::json()).body(doc.json().to_owned())
}
