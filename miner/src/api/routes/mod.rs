//! The handlers of `/api/v1`, one file per area; each registers its own routes.

mod addresses;
mod admin;
mod chain;
pub(super) mod p2p;
mod txs;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every `/api/v1` route (paths relative to the scope).
pub(super) fn configure(cfg: &mut ServiceConfig<'_>) {
    chain::configure(cfg);
    txs::configure(cfg);
    addresses::configure(cfg);
    admin::configure(cfg);
    cfg.service(super::openapi::openapi_json);
}
