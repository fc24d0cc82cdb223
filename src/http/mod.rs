//! HTTP: thin handlers per audience. Each parses, authorises and calls one service function
//! in a transaction; all routes are declared in [`routes`].

mod admin;
mod approvals;
mod body_deadline;
pub mod console;
mod contractor;
pub mod error;
pub mod extract;
mod idempotency;
mod inhouse;
mod knowledge;
pub mod openapi;
mod ops;
mod subjects;

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
    /// Wakes the backlog drain when a contract may take more.
    pub drain_wake: Arc<tokio::sync::Notify>,
    /// One per helpdesk connection: poked when events were written, so a contractor's reply
    /// is written back into the helpdesk at once rather than at the next poll.
    pub connector_wakes: Arc<Vec<Arc<tokio::sync::Notify>>>,
    /// The helpdesk connections: where files a payload names by URL are fetched from.
    pub helpdesks: Arc<Vec<Arc<crate::connectors::HelpdeskClient>>>,
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
    /// Runs a report now, on the contracts in force: what the API and the console both call.
    pub async fn run_report(
        &self,
        request: crate::reports::Request,
    ) -> Result<Vec<crate::reports::ReportMeta>, crate::reports::ReportError> {
        let (contracts, renderer, now) = (
            self.contracts.current(),
            self.reports.clone(),
            self.clock.now(),
        );
        crate::reports::produce_async(&self.db, contracts, renderer, request, now).await
    }

    /// Tells the background jobs that a change was committed: the SLA clocks may have moved
    /// and events wait to be delivered.
    pub fn changed(&self) {
        self.sla_wake.notify_one();
        self.events_written();
    }

    /// Tells the backlog drain that a contract may take more now: a place freed by a solved,
    /// handed-back or recalled share, the overflow switch turned, the queue depth reported.
    pub fn room_may_have_changed(&self) {
        self.drain_wake.notify_one();
    }

    /// Tells the delivery worker and the helpdesk connections that events wait (a change
    /// that moved no SLA clock).
    pub fn events_written(&self) {
        self.outbox_wake.notify_one();
        for wake in self.connector_wakes.iter() {
            wake.notify_one();
        }
    }
}

/// The policy of every HTML page the gateway serves (console pages, HTML reports): no script
/// may run, nothing may frame it, styles are inline.
pub(crate) const PAGE_CSP: (&str, &str) = (
    "Content-Security-Policy",
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
);

/// A file download: its media type, its name in `Content-Disposition` (RFC 6266, UTF-8), and
/// a policy that keeps a browser from running anything in it (`nosniff` and `no-store` come
/// with every answer).
fn file_response(file: crate::tickets::attachments::FileDownload) -> HttpResponse {
    use actix_web::http::header::{
        Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
    };
    let ascii: String = file
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: file.file_name.into_bytes(),
            }),
        ],
    };
    let media_type = if crate::redaction::attachments::is_text(&file.media_type) {
        format!("{}; charset=utf-8", file.media_type)
    } else {
        file.media_type
    };
    HttpResponse::Ok()
        .content_type(media_type)
        .insert_header(disposition)
        .insert_header(("Content-Security-Policy", "default-src 'none'; sandbox"))
        .body(file.content)
}

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

/// Declares every route once: [`ROUTES`] (which the OpenAPI document is checked against) and
/// [`routes`] (which registers them) come from the same lines.
macro_rules! route_table {
    ($($method:ident $path:literal => $handler:path),* $(,)?) => {
        /// Every route the gateway serves: (method, path).
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        /// Declares every route, and for each path a 405 for the methods it does not take.
        pub fn routes(cfg: &mut web::ServiceConfig) {
            $(cfg.route($path, web::$method().to($handler));)*
            let mut paths: Vec<&'static str> = ROUTES.iter().map(|(_, path)| *path).collect();
            // Literal segments sort before `{id}`, so `/reports/schedule` keeps its own answer.
            paths.sort_unstable();
            paths.dedup();
            for path in paths {
                cfg.service(web::resource(path).to(move || async move { method_not_allowed(path) }));
            }
        }
    };
}

route_table! {
    get "/healthz" => ops::healthz,
    get "/readyz" => ops::readyz,
    get "/metrics" => ops::metrics,
    get "/openapi.json" => ops::openapi,
    post "/api/v1/tickets" => inhouse::ingest,
    post "/api/v1/inbound/{adapter}" => inhouse::inbound,
    get "/api/v1/tickets/{id}" => inhouse::show,
    get "/api/v1/tickets/{id}/attachments/{attachment}" => inhouse::attachment,
    post "/api/v1/tickets/{id}/comments" => inhouse::comment,
    post "/api/v1/tickets/{id}/recall" => inhouse::recall,
    post "/api/v1/tickets/{id}/satisfaction" => inhouse::satisfaction,
    post "/api/v1/routing/preview" => inhouse::routing_preview,
    get "/api/v1/routing/backlog" => inhouse::backlog_preview,
    put "/api/v1/queue" => inhouse::report_queue,
    get "/api/v1/events" => inhouse::events,
    post "/api/v1/contracts/{id}/overflow" => admin::switch_overflow,
    get "/api/v1/contractor/tickets" => contractor::list,
    get "/api/v1/contractor/tickets/{id}" => contractor::show,
    get "/api/v1/contractor/tickets/{id}/attachments/{attachment}" => contractor::attachment,
    post "/api/v1/contractor/tickets/{id}/replies" => contractor::reply,
    post "/api/v1/contractor/tickets/{id}/status" => contractor::status,
    post "/api/v1/contractor/tickets/{id}/handback" => contractor::handback,
    get "/api/v1/contractor/figures" => contractor::figures,
    get "/api/v1/approvals" => approvals::list,
    post "/api/v1/approvals/{id}/approve" => approvals::approve,
    post "/api/v1/approvals/{id}/reject" => approvals::reject,
    get "/api/v1/contractor/knowledge" => knowledge::list,
    get "/api/v1/contractor/knowledge/{id}" => knowledge::read,
    get "/api/v1/contractor/erasures" => subjects::contractor_erasures,
    post "/api/v1/contractor/erasures/{id}/ack" => subjects::acknowledge,
    get "/api/v1/subjects/disclosures" => subjects::disclosures,
    post "/api/v1/subjects/erase" => subjects::erase,
    get "/api/v1/subjects/erasures" => subjects::erasures,
    get "/api/v1/contracts" => admin::contracts,
    get "/api/v1/deliveries" => admin::deliveries,
    post "/api/v1/deliveries/{id}/replay" => admin::replay_delivery,
    get "/api/v1/contracts/{id}/sla" => admin::sla_figures,
    get "/api/v1/audit/verify" => admin::verify_audit,
    get "/api/v1/reports" => admin::reports,
    post "/api/v1/reports" => admin::run_report,
    get "/api/v1/reports/schedule" => admin::report_schedule,
    get "/api/v1/reports/{id}" => admin::report,
    post "/api/v1/redaction/preview" => admin::preview,
    get "/console" => console::home,
    get "/console/" => console::home,
    get "/console/sign-in" => console::sign_in_page,
    post "/console/sign-in" => console::sign_in,
    post "/console/sign-out" => console::sign_out,
    get "/console/reports" => console::reports_page,
    post "/console/reports" => console::run_report,
    get "/console/reports/{id}" => console::report_page,
    get "/console/reports/{id}/content" => console::report_content,
}

/// 405 for a method `path` does not take, with the methods it does take in `Allow`.
fn method_not_allowed(path: &str) -> HttpResponse {
    use actix_web::ResponseError as _;
    let allowed: Vec<String> = ROUTES
        .iter()
        .filter(|(_, p)| *p == path)
        .map(|(method, _)| method.to_uppercase())
        .collect();
    let allowed = allowed.join(", ");
    let mut response = ApiError::new(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("this resource takes {allowed}"),
    )
    .error_response();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allowed) {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    response
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
        .wrap(tracing_actix_web::TracingLogger::<PathOnlySpan>::new())
}

/// The request span of [`tracing_actix_web`], but with the path alone as `http.target`: a
/// query string can hold personal data (a data subject's e-mail or name looked up by
/// `GET /api/v1/subjects/disclosures`), and no log line may.
struct PathOnlySpan;

impl tracing_actix_web::RootSpanBuilder for PathOnlySpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage as _;
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "default".to_owned());
        let method = request.method().as_str();
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %method,
            http.route = %route,
            http.target = %request.path(),
            http.client_ip = %request.connection_info().realip_remote_addr().unwrap_or(""),
            http.status_code = tracing::field::Empty,
            otel.name = %format!("{method} {route}"),
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
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
