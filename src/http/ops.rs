//! Liveness, readiness and metrics.

use actix_web::web::Data;
use actix_web::{HttpResponse, Responder, ResponseError as _};
use serde_json::json;

use super::AppState;

/// `{"status": "ok"}`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Alive {
    /// Always `ok`.
    status: &'static str,
}

/// `{"status": "ready", "database": "ok", "connectors": […]}`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Ready {
    /// Always `ready`.
    status: &'static str,
    /// Always `ok`: the database answered.
    database: &'static str,
    /// Each helpdesk connection that has run: where it has read up to and how its last
    /// rounds went. A failing connection does not make the gateway unready (it still takes
    /// pushed tickets and serves contractors); monitor `failures` and `last_success_at`.
    connectors: Vec<crate::connectors::cursor::Health>,
}

/// The process is up.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "ops_healthz",
    tag = "operations",
    responses(
        (status = 200, description = "The process is up.", body = Alive),
    ),
)]
pub async fn healthz() -> impl Responder {
    HttpResponse::Ok().json(Alive { status: "ok" })
}

/// The database answers; how the helpdesk connections fare.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "ops_readyz",
    tag = "operations",
    responses(
        (status = 200, description = "The database answers; the helpdesk connections' state.", body = Ready),
    ),
)]
pub async fn readyz(state: Data<AppState>) -> HttpResponse {
    let health = state.db.probe(crate::connectors::cursor::health).await;
    match health {
        Ok(connectors) => HttpResponse::Ok().json(Ready {
            status: "ready",
            database: "ok",
            connectors,
        }),
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

/// Prometheus text exposition; with `BRIDGE_METRICS_TOKEN` set, only for its bearer.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "ops_metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition (OpenMetrics). With `BRIDGE_METRICS_TOKEN` set, only for that bearer token (401 otherwise).", body = String, content_type = "application/openmetrics-text"),
    ),
)]
pub async fn metrics(state: Data<AppState>, req: actix_web::HttpRequest) -> HttpResponse {
    if let Some(expected) = &state.metrics_token {
        let sent = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let allowed = crate::crypto::same_secret(sent.as_bytes(), expected.expose().as_bytes());
        if !allowed {
            return super::error::ApiError::new(
                actix_web::http::StatusCode::UNAUTHORIZED,
                "missing_token",
                "the metrics need the BRIDGE_METRICS_TOKEN bearer token",
            )
            .error_response();
        }
    }
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}

/// The OpenAPI 3.1 document of this API, generated from the code; no token needed.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "ops_openapi",
    tag = "operations",
    responses(
        (status = 200, description = "This document.", body = serde_json::Value),
    ),
)]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(super::openapi::document_json())
}
