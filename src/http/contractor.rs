//! The contractor's endpoints. Every call is scoped to the token's contractor.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::extract::{Contractor, JsonBody, MAX_BODY_WITH_FILES};
use super::idempotency;
use crate::ids::TicketId;
use crate::model::ShareState;
use crate::service::contractor::{self as service, View};
use crate::service::replies::{self, ReplyInput, ReplyOutcome};

/// Paging of the ticket list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// The last ticket id of the previous page (newest-first order only).
    before: Option<TicketId>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Only shares in this state: `open`, `pending` or `solved`.
    #[param(inline)]
    state: Option<crate::model::ShareState>,
    /// `newest` (default) or `due`: the soonest SLA due time first, in one page.
    #[param(inline)]
    sort: Option<crate::service::worklist::ListOrder>,
}

/// `GET /api/v1/contractor/tickets`.
#[utoipa::path(
    get,
    path = "/api/v1/contractor/tickets",
    operation_id = "contractor_list",
    tag = "contractor",
    params(
        ListQuery,
    ),
    responses(
        (status = 200, description = "The caller's shares, newest first.", body = crate::service::worklist::ListedShares),
    ),
    security(("bearer" = ["contractor"])),
)]
pub async fn list(
    state: Data<AppState>,
    who: Contractor,
    query: Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let request = crate::service::worklist::ListRequest {
        before: query.before,
        limit: super::page_limit(query.limit, 50, 200)?,
        state: query.state,
        order: query.sort.unwrap_or_default(),
    };
    let contracts = state.contracts.current();
    let now = state.clock.now();
    let page = state
        .db
        .read_async(move |c| crate::service::worklist::list(c, &contracts, &who.0, request, now))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `GET /api/v1/contractor/tickets/{id}`: the projection the contract allows.
#[utoipa::path(
    get,
    path = "/api/v1/contractor/tickets/{id}",
    operation_id = "contractor_show",
    tag = "contractor",
    params(
        ("id" = crate::ids::TicketId, Path, description = "The ticket id (a positive integer; anything else is 404)."),
    ),
    responses(
        (status = 200, description = "The projection the contract allows: redacted, tokenised.", body = service::ContractorTicket),
    ),
    security(("bearer" = ["contractor"])),
)]
pub async fn show(
    state: Data<AppState>,
    who: Contractor,
    id: Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let contracts = state.contracts.current();
    let keys = state.vault_keys.clone();
    let now = state.clock.now();
    let actor = who.0.clone();
    let body = state
        .db
        .write_async(move |c| service::view(c, &contracts, &keys, &actor, id, now))
        .await;
    match denial_audited(&state, &who, id, "read", body).await? {
        View::Shown(body) => Ok(HttpResponse::Ok().json(body)),
        View::Refused => Err(ApiError::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "redaction_failed",
            "this ticket cannot be shown safely right now; the failure has been recorded",
        )),
    }
}

/// `GET /api/v1/contractor/tickets/{id}/attachments/{attachment}`: a file as the contract
/// lets it leave.
#[utoipa::path(
    get,
    path = "/api/v1/contractor/tickets/{id}/attachments/{attachment}",
    operation_id = "contractor_attachment",
    tag = "contractor",
    params(
        ("id" = crate::ids::TicketId, Path, description = "The ticket id (a positive integer; anything else is 404)."),
        ("attachment" = i64, Path, description = "The file's id, as the ticket lists it."),
    ),
    responses(
        (status = 200, description = "The file: text files redacted like free text, others as they are (a type the contract passes). The media type is the file's; the name is in `Content-Disposition`.", body = Vec<u8>, content_type = "*/*"),
    ),
    security(("bearer" = ["contractor"])),
)]
pub async fn attachment(
    state: Data<AppState>,
    who: Contractor,
    path: Path<(TicketId, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, attachment) = path.into_inner();
    let contracts = state.contracts.current();
    let keys = state.vault_keys.clone();
    let now = state.clock.now();
    let actor = who.0.clone();
    // A file id that is not a positive number names no file: the same 404 as a missing one.
    let download = match attachment.parse::<i64>() {
        Ok(aid) if aid > 0 => {
            state
                .db
                .write_async(move |c| service::download(c, &contracts, &keys, &actor, id, aid, now))
                .await
        }
        _ => Err(crate::tickets::TicketError::NotFound),
    };
    match denial_audited(&state, &who, id, "attachment", download).await? {
        service::Download::File(file) => Ok(super::file_response(file)),
        service::Download::Withheld(why) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "attachment_withheld",
            format!(
                "the contract withholds this file ({})",
                serde_json::to_value(why)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ),
        )),
        service::Download::Refused => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "redaction_failed",
            "this file cannot be given safely right now; the failure has been recorded",
        )),
    }
}

/// `POST /api/v1/contractor/tickets/{id}/replies`.
#[utoipa::path(
    post,
    path = "/api/v1/contractor/tickets/{id}/replies",
    operation_id = "contractor_reply",
    tag = "contractor",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters. A retry with the same key answers the first answer again (the same status and body) without doing the work twice."),
        ("id" = crate::ids::TicketId, Path, description = "The ticket id (a positive integer; anything else is 404)."),
    ),
    request_body = ReplyInput,
    responses(
        (status = 201, description = "The reply, stored; its tokens are turned back into values on the way home.", body = crate::service::contractor::ReplyWritten),
        (status = 202, description = "A free-text reply under a contract whose replies wait for in-house approval: queued, not yet sent (the SLA clocks run on).", body = crate::service::replies::Queued),
    ),
    security(("bearer" = ["contractor"])),
)]
pub async fn reply(
    state: Data<AppState>,
    req: HttpRequest,
    who: Contractor,
    id: Path<TicketId>,
    JsonBody(input): JsonBody<ReplyInput, MAX_BODY_WITH_FILES>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let contracts = state.contracts.current();
    let keys = state.vault_keys.clone();
    let key = idempotency::key_of(&req, &who.0.ledger_name())?;
    let now = state.clock.now();
    let actor = who.0.clone();
    let answer = idempotency::write_once(&state, key, move |c| {
        let outcome = replies::reply(c, &contracts, &keys, &actor, id, input.clone(), now)?;
        let status = match outcome {
            ReplyOutcome::Sent(_) => StatusCode::CREATED,
            ReplyOutcome::Queued(_) => StatusCode::ACCEPTED,
        };
        Ok((status, serde_json::json!(outcome), ()))
    })
    .await;
    let answer = denial_audited(&state, &who, id, "reply", answer).await?;
    state.changed();
    Ok(answer.respond())
}

/// Body of a status change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"status": "pending"}))]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    status: ShareState,
}

/// `POST /api/v1/contractor/tickets/{id}/status` (`open`, `pending` or `solved`).
#[utoipa::path(
    post,
    path = "/api/v1/contractor/tickets/{id}/status",
    operation_id = "contractor_status",
    tag = "contractor",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters. A retry with the same key answers the first answer again (the same status and body) without doing the work twice."),
        ("id" = crate::ids::TicketId, Path, description = "The ticket id (a positive integer; anything else is 404)."),
    ),
    request_body = StatusInput,
    responses(
        (status = 200, description = "The share's new state.", body = crate::service::contractor::ShareChanged),
    ),
    security(("bearer" = ["contractor"])),
)]
pub async fn status(
    state: Data<AppState>,
    req: HttpRequest,
    who: Contractor,
    id: Path<TicketId>,
    JsonBody(input): JsonBody<StatusInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let contracts = state.contracts.current();
    let key = idempotency::key_of(&req, &who.0.ledger_name())?;
    let now = state.clock.now();
    let actor = who.0.clone();
    let answer = idempotency::write_once(&state, key, move |c| {
        let out = service::set_status(c, &contracts, &actor, id, input.status, now)?;
        Ok((StatusCode::OK, serde_json::json!(out), ()))
    })
    .await;
    let answer = denial_audited(&state, &who, id, "status", answer).await?;
    state.changed();
    state.room_may_have_changed();
    Ok(answer.respond())
}

/// `POST /api/v1/contractor/tickets/{id}/handback`.
#[utoipa::path(
    post,
    path = "/api/v1/contractor/tickets/{id}/handback",
    operation_id = "contractor_handback",
    tag = "contractor",
    params(
        ("id" = crate::ids::TicketId, Path, description = "The ticket id (a positive integer; anything else is 404)."),
    ),
    request_body = service::HandBack,
    responses(
        (status = 200, description = "Handed back (or up, with `escalate`): the contractor loses access.", body = crate::service::contractor::ShareChanged),
    ),
    security(("bearer" = ["contractor"])),
)]
pub async fn handback(
    state: Data<AppState>,
    who: Contractor,
    id: Path<TicketId>,
    JsonBody(input): JsonBody<service::HandBack>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let contracts = state.contracts.current();
    let keys = state.vault_keys.clone();
    let now = state.clock.now();
    let actor = who.0.clone();
    let out = state
        .db
        .write_async(move |c| service::handback(c, &contracts, &keys, &actor, id, &input, now))
        .await;
    let out = denial_audited(&state, &who, id, "handback", out).await?;
    state.changed();
    state.room_may_have_changed();
    Ok(HttpResponse::Ok().json(out))
}

/// A contractor asking for a ticket it may not see gets the same 404 as for a missing one, and
/// the attempt is audited — in a transaction of its own, since the request's rolled back.
async fn denial_audited<T, E: Into<ApiError>>(
    state: &AppState,
    who: &Contractor,
    ticket: TicketId,
    attempt: &'static str,
    result: Result<T, E>,
) -> Result<T, ApiError> {
    let error = match result {
        Ok(value) => return Ok(value),
        Err(e) => e.into(),
    };
    if error.is_not_found() {
        let actor = who.0.clone();
        let now = state.clock.now();
        let recorded = state
            .db
            .write_async(move |c| service::record_denied(c, &actor, ticket, attempt, now))
            .await;
        if let Err(e) = recorded {
            tracing::error!(error = %e, "could not audit a denied access");
        }
    }
    Err(error)
}

/// The caller's own figures, per contract.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ContractorFigures {
    /// Start of the period (inclusive).
    pub from: chrono::DateTime<chrono::Utc>,
    /// End of the period (exclusive).
    pub to: chrono::DateTime<chrono::Utc>,
    /// One entry per contract of the caller's in the current set, in routing order: the same
    /// numbers the company's reports and `GET /api/v1/contracts/{id}/sla` show.
    pub contracts: Vec<crate::service::figures::SlaFigures>,
}

/// `GET /api/v1/contractor/figures?from=&to=`: how the caller performs under its contracts.
#[utoipa::path(
    get,
    path = "/api/v1/contractor/figures",
    operation_id = "contractor_figures",
    tag = "contractor",
    params(super::admin::PeriodQuery),
    responses(
        (status = 200, description = "First response and resolution (median, p90), SLA attainment, first-contact resolution, reopen rate, CSAT, NPS, hand-back and recall rates of the tickets shared in the period, per contract of the caller's.", body = ContractorFigures),
    ),
    security(("bearer" = ["contractor"])),
)]
pub async fn figures(
    state: Data<AppState>,
    who: Contractor,
    query: Query<super::admin::PeriodQuery>,
) -> Result<HttpResponse, ApiError> {
    let (from, to) = query.resolve(&state);
    let ids: Vec<String> = state
        .contracts
        .current()
        .in_rank_order()
        .filter(|f| f.contract.contractor == who.0.contractor)
        .map(|f| f.contract.id.clone())
        .collect();
    let contracts = state
        .db
        .read_async(move |c| {
            ids.iter()
                .map(|id| crate::service::figures::figures(c, id, from, to))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(ContractorFigures {
        from,
        to,
        contracts,
    }))
}
