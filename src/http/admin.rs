//! Endpoints for administrators and compliance officers.

use actix_web::HttpResponse;
use actix_web::web::Data;
use chrono::{DateTime, Utc};

use super::AppState;
use super::error::ApiError;
use super::extract::Oversight;
use crate::db::DbError;
use crate::ids::ContractId;

/// `GET /api/v1/contracts`: contracts in force with their stored version and live state.
#[utoipa::path(
    get,
    path = "/api/v1/contracts",
    operation_id = "admin_contracts",
    tag = "administration",
    responses(
        (status = 200, description = "Contracts in force, their version and live state.", body = crate::contracts::ContractList),
    ),
    security(("bearer" = ["admin", "compliance"])),
)]
pub async fn contracts(state: Data<AppState>, _who: Oversight) -> Result<HttpResponse, ApiError> {
    let set = state.contracts.current();
    let items = state
        .db
        .read_async(move |c| crate::contracts::overview(c, &set).map_err(DbError::from))
        .await?;
    Ok(HttpResponse::Ok().json(crate::contracts::ContractList { items }))
}

/// `GET /api/v1/audit/verify`: recompute the ledger's hash chain.
#[utoipa::path(
    get,
    path = "/api/v1/audit/verify",
    operation_id = "admin_verify_audit",
    tag = "administration",
    responses(
        (status = 200, description = "The ledger's hash chain, recomputed.", body = crate::ledger::Verification),
    ),
    security(("bearer" = ["admin", "compliance"])),
)]
pub async fn verify_audit(
    state: Data<AppState>,
    _who: Oversight,
) -> Result<HttpResponse, ApiError> {
    crate::ledger::seal_committed_async(&state.db).await?;
    let result = state
        .db
        .read_async(|c| crate::ledger::verify(c).map_err(DbError::from))
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// `POST /api/v1/redaction/preview` body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"contract": "brightdesk-tier1-247", "ticket": {"source": "zendesk", "external_id": "48213", "subject": "Refund for order 7781", "description": "My card 4111 1111 1111 1111 was charged twice. Call me on (930) 167-3943. Regards, Tom Brown", "requester": {"name": "Tom Brown", "email": "tom.brown@example.com"}, "channel": "email", "priority": "normal", "language": "en", "status": "open"}}))]
#[serde(deny_unknown_fields)]
pub struct PreviewInput {
    /// The contract whose contractor's view is wanted.
    contract: ContractId,
    /// The ticket, as the in-house side would push it.
    ticket: crate::tickets::TicketInput,
}

/// `POST /api/v1/redaction/preview`: exactly what the contractor would see, and the receipt,
/// writing nothing.
#[utoipa::path(
    post,
    path = "/api/v1/redaction/preview",
    operation_id = "admin_preview",
    tag = "administration",
    request_body = PreviewInput,
    responses(
        (status = 200, description = "Exactly what the contractor would see, and the receipt.", body = crate::service::sharing::Preview),
    ),
    security(("bearer" = ["admin", "compliance"])),
)]
pub async fn preview(
    state: Data<AppState>,
    _who: Oversight,
    super::extract::JsonBody(input): super::extract::JsonBody<
        PreviewInput,
        { super::extract::MAX_BODY_WITH_FILES },
    >,
) -> Result<HttpResponse, ApiError> {
    let ticket = crate::tickets::NewTicket::try_from(input.ticket).map_err(|e| match e {
        crate::tickets::TicketError::Invalid { field, message } => {
            ApiError::invalid("invalid_field", format!("ticket.{field}"), message)
        }
        other => other.into(),
    })?;
    let contracts = state.contracts.current();
    if contracts.get(&input.contract).is_none() {
        return Err(ApiError::invalid(
            "unknown_value",
            "contract",
            "no contract with this id is in force",
        ));
    }
    let keys = state.vault_keys.clone();
    let now = state.clock.now();
    let contract = input.contract;
    let out = state
        .db
        .dry_run_async(move |c| {
            crate::service::sharing::preview(c, &contracts, &keys, &contract, &ticket, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Body of `POST /api/v1/contracts/{id}/overflow`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"on": true, "reason": "Black Friday surge"}))]
#[serde(deny_unknown_fields)]
pub struct OverflowInput {
    /// Switch on or off.
    on: bool,
    /// Why (shown in the audit and in compliance reports): 1–500 characters, not only spaces.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    reason: String,
}

/// `POST /api/v1/contracts/{id}/overflow`: the manual overflow switch, audited.
#[utoipa::path(
    post,
    path = "/api/v1/contracts/{id}/overflow",
    operation_id = "admin_switch_overflow",
    tag = "administration",
    params(
        ("id" = crate::ids::ContractId, Path, description = "The contract id (anything that is not one is 404)."),
    ),
    request_body = OverflowInput,
    responses(
        (status = 200, description = "The switch as it now stands.", body = OverflowSwitched),
    ),
    security(("bearer" = ["inhouse", "admin"])),
)]
pub async fn switch_overflow(
    state: Data<AppState>,
    who: super::extract::Operator,
    id: actix_web::web::Path<ContractId>,
    super::extract::JsonBody(input): super::extract::JsonBody<OverflowInput>,
) -> Result<HttpResponse, ApiError> {
    let reason = crate::json_input::reason(&input.reason, 500)?.to_owned();
    let id = id.into_inner();
    if state.contracts.current().get(&id).is_none() {
        return Err(ApiError::not_found());
    }
    let actor = operator_name(&who);
    let now = state.clock.now();
    let on = input.on;
    let contract = id.clone();
    let was_on = state
        .db
        .write_async(move |c| {
            crate::contracts::set_manual_overflow(c, &contract, on, &actor, &reason, now)
        })
        .await?;
    state.room_may_have_changed();
    Ok(HttpResponse::Ok().json(OverflowSwitched {
        id,
        manual_overflow: on,
        was_on,
    }))
}

/// The manual overflow switch after `POST /api/v1/contracts/{id}/overflow`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct OverflowSwitched {
    /// The contract.
    id: ContractId,
    /// Whether the manual switch is now on.
    manual_overflow: bool,
    /// Whether it was on before.
    was_on: bool,
}

/// A dead letter put back in line.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Replayed {
    /// The event id.
    id: crate::ids::EventId,
    /// Always `pending`: it will be sent again.
    state: crate::model::DeliveryState,
}

/// `GET /api/v1/contracts/{id}/sla` query: the period, RFC 3339 instants or dates.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct PeriodQuery {
    /// Start (inclusive); default 30 days before `to`.
    from: Option<crate::reports::Bound>,
    /// End (exclusive); default now.
    to: Option<crate::reports::Bound>,
}

impl PeriodQuery {
    /// The period asked for: dates read in the gateway's report timezone.
    pub(super) fn resolve(&self, state: &AppState) -> (DateTime<Utc>, DateTime<Utc>) {
        let zone = state.report_timezone;
        let to = self
            .to
            .map_or_else(|| state.clock.now(), |b| b.resolve(zone));
        let from = self
            .from
            .map_or(to - chrono::Duration::days(30), |b| b.resolve(zone));
        (from, to)
    }
}

/// `GET /api/v1/contracts/{id}/sla?from=&to=`: the contractor's SLA figures for the tickets
/// shared in the period.
#[utoipa::path(
    get,
    path = "/api/v1/contracts/{id}/sla",
    operation_id = "admin_sla_figures",
    tag = "administration",
    params(
        ("id" = crate::ids::ContractId, Path, description = "The contract id (anything that is not one is 404)."),
        PeriodQuery,
    ),
    responses(
        (status = 200, description = "SLA figures of the tickets shared in the period.", body = crate::service::figures::SlaFigures),
    ),
    security(("bearer" = ["inhouse", "admin", "compliance"])),
)]
pub async fn sla_figures(
    state: Data<AppState>,
    _who: super::extract::Staff,
    id: actix_web::web::Path<ContractId>,
    query: actix_web::web::Query<PeriodQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    if state.contracts.current().get(&id).is_none() {
        return Err(ApiError::not_found());
    }
    let (from, to) = query.resolve(&state);
    let figures = state
        .db
        .read_async(move |c| crate::service::figures::figures(c, &id, from, to))
        .await?;
    Ok(HttpResponse::Ok().json(figures))
}

/// `GET /api/v1/deliveries` query.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// Which events (default `dead`).
    #[param(inline)]
    state: Option<crate::model::DeliveryState>,
    /// Page size, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// `GET /api/v1/deliveries?state=dead`: events by delivery state, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/deliveries",
    operation_id = "admin_deliveries",
    tag = "administration",
    params(
        DeliveriesQuery,
    ),
    responses(
        (status = 200, description = "Events in that delivery state, oldest first.", body = crate::outbox::DeliveryList),
    ),
    security(("bearer" = ["inhouse", "admin"])),
)]
pub async fn deliveries(
    state: Data<AppState>,
    _who: super::extract::Operator,
    query: actix_web::web::Query<DeliveriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let wanted = query.state.unwrap_or(crate::model::DeliveryState::Dead);
    let limit = super::page_limit(query.limit, 100, 500)?;
    let rows = state
        .db
        .read_async(move |c| crate::outbox::in_state(c, wanted, limit).map_err(DbError::from))
        .await?;
    let items = rows.iter().map(crate::outbox::EventRow::delivery).collect();
    Ok(HttpResponse::Ok().json(crate::outbox::DeliveryList { items }))
}

/// `POST /api/v1/deliveries/{id}/replay`: a dead-lettered event goes back in line. Audited.
#[utoipa::path(
    post,
    path = "/api/v1/deliveries/{id}/replay",
    operation_id = "admin_replay_delivery",
    tag = "administration",
    params(
        ("id" = crate::ids::EventId, Path, description = "The event id (anything that is not one is 404)."),
    ),
    responses(
        (status = 200, description = "Back in line.", body = Replayed),
    ),
    security(("bearer" = ["inhouse", "admin"])),
)]
pub async fn replay_delivery(
    state: Data<AppState>,
    who: super::extract::Operator,
    id: actix_web::web::Path<crate::ids::EventId>,
) -> Result<HttpResponse, ApiError> {
    let event_id = id.into_inner();
    let now = state.clock.now();
    let actor = operator_name(&who);
    let replayed = event_id.clone();
    state
        .db
        .write_async(move |c| crate::service::deliveries::replay(c, &replayed, &actor, now))
        .await?;
    state.changed();
    Ok(HttpResponse::Ok().json(Replayed {
        id: event_id,
        state: crate::model::DeliveryState::Pending,
    }))
}

/// The ledger's name for an operator: `admin:<sub>` or `inhouse:<sub>`.
fn operator_name(who: &super::extract::Operator) -> String {
    let role = if who.0.role == crate::auth::Role::Admin {
        "admin"
    } else {
        "inhouse"
    };
    format!("{role}:{}", who.0.sub)
}

/// `POST /api/v1/reports` body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"contract": "brightdesk-tier1-247", "from": "2026-11-01", "to": "2026-12-01", "formats": ["html", "json"], "locale": "ru"}))]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// A contract id; absent for the whole gateway.
    contract: Option<ContractId>,
    /// Period start (inclusive): an instant or a date.
    from: crate::reports::Bound,
    /// Period end (exclusive): an instant or a date.
    to: crate::reports::Bound,
    /// Formats; the contract's when absent (HTML and JSON for the gateway).
    formats: Option<Vec<crate::contracts::ReportFormat>>,
    /// `en` or `ru`; the contract's when absent.
    locale: Option<crate::contracts::Locale>,
}

/// `POST /api/v1/reports`: produces a report on demand and stores it; answers what was stored.
#[utoipa::path(
    post,
    path = "/api/v1/reports",
    operation_id = "admin_run_report",
    tag = "reports",
    request_body = ReportInput,
    responses(
        (status = 201, description = "One stored report per format.", body = crate::reports::ReportList),
    ),
    security(("bearer" = ["admin", "compliance"])),
)]
pub async fn run_report(
    state: Data<AppState>,
    who: Oversight,
    super::extract::JsonBody(input): super::extract::JsonBody<ReportInput>,
) -> Result<HttpResponse, ApiError> {
    let contracts = state.contracts.current();
    let formats =
        crate::reports::formats_for(&contracts, input.contract.as_deref(), input.formats)?;
    let request = crate::reports::Request {
        contract: input.contract.map(ContractId::into_string),
        period: crate::reports::Period::between(input.from, input.to, state.report_timezone)?,
        formats,
        locale: input.locale,
        trigger: "demand",
        requested_by: format!("{}:{}", who.0.role.as_str(), who.0.sub),
    };
    let stored = state.run_report(request).await?;
    Ok(HttpResponse::Created().json(crate::reports::ReportList { items: stored }))
}

/// `GET /api/v1/reports` query.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportsQuery {
    /// A contract id, or `*` for gateway-wide reports.
    scope: Option<String>,
    /// Reports with a smaller id (the previous page's last `id`).
    before: Option<i64>,
    /// Page size, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// `GET /api/v1/reports`: stored reports, newest first, without their content.
#[utoipa::path(
    get,
    path = "/api/v1/reports",
    operation_id = "admin_reports",
    tag = "reports",
    params(
        ReportsQuery,
    ),
    responses(
        (status = 200, description = "Stored reports, newest first, without content.", body = crate::reports::ReportList),
    ),
    security(("bearer" = ["admin", "compliance"])),
)]
pub async fn reports(
    state: Data<AppState>,
    _who: Oversight,
    query: actix_web::web::Query<ReportsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = super::page_limit(query.limit, 100, 500)?;
    let items = state
        .db
        .read_async(move |c| {
            crate::reports::list(c, query.scope.as_deref(), query.before, limit)
                .map_err(DbError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(crate::reports::ReportList { items }))
}

/// `GET /api/v1/reports/{id}` query.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `html`, `json`, `csv` or `figures_csv`: the same report in another stored format.
    format: Option<String>,
}

/// `GET /api/v1/reports/{id}`: the stored content, with its media type and sha256. `?format=`
/// or an `Accept` header naming one format (`text/html`, `application/json`, `text/csv`) picks
/// the same report's content in that format, if it was produced.
#[utoipa::path(
    get,
    path = "/api/v1/reports/{id}",
    operation_id = "admin_report",
    tag = "reports",
    params(
        ("id" = crate::ids::ReportId, Path, description = "The report id (a positive integer; anything else is 404)."),
        ReportQuery,
    ),
    responses(
        (status = 200, description = "The stored content in the format asked for, with its sha256 in `X-Content-SHA256` and its id in `X-Report-Id`.",
            content(
                (String = "text/html"),
                (crate::reports::ReportDocument = "application/json"),
                (String = "text/csv"),
            ),
            headers(
                ("X-Content-SHA256" = String, description = "sha256 of the content, as stored and listed."),
                ("X-Report-Id" = i64, description = "The id of the stored format served."),
            ),
        ),
    ),
    security(("bearer" = ["admin", "compliance"])),
)]
pub async fn report(
    state: Data<AppState>,
    req: actix_web::HttpRequest,
    _who: Oversight,
    id: actix_web::web::Path<crate::ids::ReportId>,
    query: actix_web::web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let wanted = wanted_format(query.into_inner().format, &req)?;
    let (meta, content) = state
        .db
        .read_async(move |c| crate::reports::get_as(c, id, wanted.as_deref()))
        .await?;
    Ok(report_document(&meta, content))
}

/// The format `?format=` names, or else the one the `Accept` header asks for.
fn wanted_format(
    query: Option<String>,
    req: &actix_web::HttpRequest,
) -> Result<Option<String>, ApiError> {
    match query {
        Some(f) if ["html", "json", "csv", "figures_csv"].contains(&f.as_str()) => Ok(Some(f)),
        Some(_) => Err(ApiError::invalid(
            "invalid_query",
            "format",
            "format must be html, json, csv or figures_csv",
        )),
        None => Ok(accepted_format(req)),
    }
}

/// A stored report's document with its media type, digest and id.
fn report_document(meta: &crate::reports::ReportMeta, content: String) -> HttpResponse {
    let mut answer = HttpResponse::Ok();
    answer
        .content_type(crate::reports::media_type(&meta.format))
        .insert_header(("X-Content-SHA256", meta.sha256.clone()))
        .insert_header(("X-Report-Id", meta.id.to_string()));
    // An HTML report opened from the API gets the console's policy: it runs no script.
    if meta.format == "html" {
        answer.insert_header(super::PAGE_CSP);
    }
    answer.body(content)
}

/// The one report format an `Accept` header asks for, if it names exactly one.
fn accepted_format(req: &actix_web::HttpRequest) -> Option<String> {
    let accept = req
        .headers()
        .get(actix_web::http::header::ACCEPT)?
        .to_str()
        .ok()?;
    let named: Vec<&str> = [
        ("text/html", "html"),
        ("application/json", "json"),
        ("text/csv", "csv"),
    ]
    .iter()
    .filter(|(media, _)| accept.contains(media))
    .map(|(_, format)| *format)
    .collect();
    (named.len() == 1).then(|| named[0].to_owned())
}

/// `GET /api/v1/reports/schedule`: every scheduled report stream, where its next period
/// starts and when it runs next.
#[utoipa::path(
    get,
    path = "/api/v1/reports/schedule",
    operation_id = "admin_report_schedule",
    tag = "reports",
    responses(
        (status = 200, description = "Every scheduled stream and its next run.", body = crate::reports::schedule::ScheduleList),
    ),
    security(("bearer" = ["admin", "compliance"])),
)]
pub async fn report_schedule(
    state: Data<AppState>,
    _who: Oversight,
) -> Result<HttpResponse, ApiError> {
    let streams = crate::reports::schedule::streams(
        &state.contracts.current(),
        state.report_gateway.as_ref(),
    );
    let now = state.clock.now();
    let items = state
        .db
        .read_async(move |c| crate::reports::schedule::status(c, &streams, now))
        .await?;
    Ok(HttpResponse::Ok().json(crate::reports::schedule::ScheduleList { items }))
}
