//! HTTP: thin handlers per audience. Each parses, authorises and calls one service function
//! in a transaction; all routes are declared in [`routes`].

mod admin;
mod body_deadline;
pub mod console;
mod contractor;
pub mod error;
pub mod extract;
mod idempotency;
mod inhouse;
mod ops;

use std::sync::Arc;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::web::{self, Data};
use actix_web::{App, Error, HttpResponse};

use crate::auth::TokenKeys;
use crate::clock::SharedClock;
use crate::contracts::Registry;
use crate::db::Db;
use crate::redaction::VaultKeys;
use crate::telemetry::{Metrics, RequestLabels, RouteLabels};
use error::ApiError;

/// What every handler may use.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Storage.
    pub db: Db,
    /// Contracts in force.
    pub contracts: Registry,
    /// Token keys.
    pub keys: TokenKeys,
    /// Vault and keyed-hash keys.
    pub vault_keys: VaultKeys,
    /// Time.
    pub clock: SharedClock,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Wakes the SLA sweeper after a change to a share.
    pub sla_wake: Arc<tokio::sync::Notify>,
    /// Wakes the delivery worker after a change wrote events.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// Report templates, checked when loaded.
    pub reports: Arc<crate::reports::Renderer>,
    /// The gateway-wide report schedule, if configured.
    pub report_gateway: Option<crate::reports::schedule::GatewaySchedule>,
    /// The gateway's report time zone: where a date given as a period bound begins.
    pub report_timezone: chrono_tz::Tz,
    /// The console's pages, checked when loaded.
    pub console: Arc<console::ConsolePages>,
    /// How long a client may take to send a request's body.
    pub body_timeout: std::time::Duration,
    /// When set, `GET /metrics` needs this bearer token.
    pub metrics_token: Option<crate::sensitive::Sensitive<String>>,
}

impl AppState {
    /// Tells the background jobs that a change was committed: the SLA clocks may have moved
    /// and events wait to be delivered.
    pub fn changed(&self) {
        self.sla_wake.notify_one();
        self.events_written();
    }

    /// Tells the delivery worker that events wait (a change that moved no SLA clock).
    pub fn events_written(&self) {
        self.outbox_wake.notify_one();
    }
}

/// The policy of every HTML page the gateway serves (console pages, HTML reports): no script
/// may run, nothing may frame it, styles are inline.
pub(crate) const PAGE_CSP: (&str, &str) = (
    "Content-Security-Policy",
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
);

/// A page size from the query: `default` when absent, else 1–`max`.
fn page_limit(limit: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::invalid(
            "invalid_query",
            "limit",
            format!("limit must be between 1 and {max}"),
        ))
    }
}

/// Declares every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics))
        .service(
            web::scope("/api/v1")
                .route("/tickets", web::post().to(inhouse::ingest))
                .route("/inbound/{adapter}", web::post().to(inhouse::inbound))
                .route("/tickets/{id}", web::get().to(inhouse::show))
                .route("/tickets/{id}/comments", web::post().to(inhouse::comment))
                .route("/tickets/{id}/recall", web::post().to(inhouse::recall))
                .route(
                    "/tickets/{id}/satisfaction",
                    web::post().to(inhouse::satisfaction),
                )
                .route("/routing/preview", web::post().to(inhouse::routing_preview))
                .route("/queue", web::put().to(inhouse::report_queue))
                .route("/events", web::get().to(inhouse::events))
                .route(
                    "/contracts/{id}/overflow",
                    web::post().to(admin::switch_overflow),
                )
                .route("/contractor/tickets", web::get().to(contractor::list))
                .route("/contractor/tickets/{id}", web::get().to(contractor::show))
                .route(
                    "/contractor/tickets/{id}/replies",
                    web::post().to(contractor::reply),
                )
                .route(
                    "/contractor/tickets/{id}/status",
                    web::post().to(contractor::status),
                )
                .route(
                    "/contractor/tickets/{id}/handback",
                    web::post().to(contractor::handback),
                )
                .route("/contracts", web::get().to(admin::contracts))
                .route("/deliveries", web::get().to(admin::deliveries))
                .route(
                    "/deliveries/{id}/replay",
                    web::post().to(admin::replay_delivery),
                )
                .route("/contracts/{id}/sla", web::get().to(admin::sla_figures))
                .route("/audit/verify", web::get().to(admin::verify_audit))
                .route("/reports", web::get().to(admin::reports))
                .route("/reports", web::post().to(admin::run_report))
                .route("/reports/schedule", web::get().to(admin::report_schedule))
                .route("/reports/{id}", web::get().to(admin::report))
                .route("/redaction/preview", web::post().to(admin::preview)),
        )
        .service(
            web::scope("/console")
                .route("", web::get().to(console::home))
                .route("/", web::get().to(console::home))
                .route("/sign-in", web::get().to(console::sign_in_page))
                .route("/sign-in", web::post().to(console::sign_in))
                .route("/sign-out", web::post().to(console::sign_out))
                .route("/reports", web::get().to(console::reports_page))
                .route("/reports", web::post().to(console::run_report))
                .route("/reports/{id}", web::get().to(console::report_page))
                .route(
                    "/reports/{id}/content",
                    web::get().to(console::report_content),
                ),
        );
}

/// The application with its state, error handlers and metrics.
pub fn app(
    state: AppState,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let metrics = Arc::clone(&state.metrics);
    let body_timeout = state.body_timeout;
    App::new()
        .app_data(Data::new(state))
        .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::not_found().into()))
        .app_data(web::QueryConfig::default().error_handler(|e, _| query_problem(&e).into()))
        .configure(routes)
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError::not_found())
        }))
        .wrap_fn(move |req, srv| {
            let started = std::time::Instant::now();
            let method = req.method().to_string();
            let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
            let metrics = Arc::clone(&metrics);
            let refused = nul_in_uri(req.uri());
            let mut req = req;
            body_deadline::apply(&mut req, body_timeout);
            let response = refused.is_none().then(|| srv.call(req));
            async move {
                let response = match (response, refused) {
                    (Some(response), _) => response.await?,
                    (None, refused) => {
                        return Err(refused.unwrap_or_else(ApiError::not_found).into());
                    }
                };
                let status = response.status().as_u16();
                metrics
                    .requests
                    .get_or_create(&RequestLabels {
                        method,
                        route: route.clone(),
                        status,
                    })
                    .inc();
                metrics
                    .latency
                    .get_or_create(&RouteLabels { route })
                    .observe(started.elapsed().as_secs_f64());
                Ok(response)
            }
        })
        // Nothing the gateway answers is for a shared cache (tickets, reports and problems
        // carry personal data), and no answer is to be sniffed into another type.
        .wrap(
            actix_web::middleware::DefaultHeaders::new()
                .add((actix_web::http::header::CACHE_CONTROL, "no-store"))
                .add((actix_web::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff")),
        )
        .wrap(tracing_actix_web::TracingLogger::default())
}

/// A NUL character (`%00`) in the path or query string: no resource or parameter holds one,
/// and PostgreSQL cannot store one, so it is refused before any handler, the same on both
/// databases. (A raw NUL never gets this far: HTTP does not allow one in a request line.)
fn nul_in_uri(uri: &actix_web::http::Uri) -> Option<ApiError> {
    let refused = |field: &str| {
        ApiError::invalid(
            if field == "path" {
                "invalid_path"
            } else {
                "invalid_query"
            },
            field,
            format!("{field}: contains a NUL character (%00)"),
        )
    };
    if uri.path().contains("%00") {
        Some(refused("path"))
    } else if uri.query().is_some_and(|q| q.contains("%00")) {
        Some(refused("query"))
    } else {
        None
    }
}

/// A query string that does not fit its endpoint: the parameter at fault and what was
/// expected, never the value sent.
fn query_problem(e: &actix_web::error::QueryPayloadError) -> ApiError {
    let message = match e {
        actix_web::error::QueryPayloadError::Deserialize(inner) => inner.to_string(),
        other => other.to_string(),
    };
    let mut problem = crate::json_input::described("", &message);
    if problem.field == "body" {
        problem.field = "query".into();
        problem.detail = problem.detail.replacen("body", "query", 1);
    }
    ApiError::invalid("invalid_query", problem.field, problem.detail)
}

/// A path id: anything that is not a positive integer is simply not found.
pub(crate) fn ticket_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(ApiError::not_found)
}
