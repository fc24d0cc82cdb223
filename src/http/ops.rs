//! Liveness, readiness and metrics.

use actix_web::web::Data;
use actix_web::{HttpResponse, Responder};
use serde_json::json;

use super::AppState;

/// The process is up.
pub async fn healthz() -> impl Responder {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers.
pub async fn readyz(state: Data<AppState>) -> HttpResponse {
    match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready", "database": "ok" })),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            HttpResponse::ServiceUnavailable()
                .content_type("application/problem+json")
                .json(json!({
                    "type": "https://msp-bridge.dev/problems/unavailable",
                    "title": "Service Unavailable",
                    "status": 503,
                    "detail": "the database is unreachable",
                    "code": "unavailable",
                }))
        }
    }
}

/// Prometheus text exposition.
pub async fn metrics(state: Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}
