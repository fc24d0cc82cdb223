//! A data subject's rights: its disclosures (`GET /api/v1/subjects/disclosures`), its erasure
//! (`POST /api/v1/subjects/erase`) and the contractors' acknowledgements.

use actix_web::HttpResponse;
use actix_web::web::{Data, Path, Query};
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::extract::{Contractor, JsonBody, Oversight};
use crate::contracts::Locale;
use crate::service::subjects::{self, ErasureOutcome, ErasureRequest, SubjectReport};
use crate::subjects::{NoticeView, Selectors, notices};

/// Who, and in which form.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DisclosuresQuery {
    /// The person's e-mail address.
    email: Option<String>,
    /// The person's phone number, in any spelling.
    phone: Option<String>,
    /// The person's full name (two words at least), in any case form.
    name: Option<String>,
    /// `json` (default) or `html`.
    #[param(pattern = "^(json|html)$")]
    format: Option<String>,
    /// Labels of the HTML report: `en` (default) or `ru`.
    #[param(inline)]
    locale: Option<Locale>,
}

/// `GET /api/v1/subjects/disclosures`: every disclosure of one person's data.
#[utoipa::path(
    get,
    path = "/api/v1/subjects/disclosures",
    operation_id = "subject_disclosures",
    tag = "compliance",
    params(DisclosuresQuery),
    responses(
        (status = 200, description = "The person's tickets and, per contract and ticket, what its contractor got (when, fields, kinds of personal data, the person's tokens, reads, replies, downloads). Found by keyed look-ups; the look-up is recorded in the ledger (`subject.access`, the kinds of selector only). Selectors are values a log must not hold: send them from a client that does not log URLs.",
            content(
                (SubjectReport = "application/json"),
                (String = "text/html"),
            ),
        ),
    ),
    security(("bearer" = ["admin", "compliance"])),
)]
pub async fn disclosures(
    state: Data<AppState>,
    who: Oversight,
    query: Query<DisclosuresQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let html = match query.format.as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_query",
                "format",
                "format must be json or html",
            ));
        }
    };
    let selectors = Selectors {
        email: query.email,
        phone: query.phone,
        name: query.name,
    };
    let keys = state.vault_keys.clone();
    let actor = format!("{}:{}", who.0.role.as_str(), who.0.sub);
    let now = state.clock.now();
    let report = state
        .db
        .write_async(move |c| {
            crate::ledger::seal(c)?;
            subjects::disclosures(c, &keys, &selectors, &actor, now)
        })
        .await?;
    tracing::info!(
        tickets = report.tickets.len(),
        disclosures = report.disclosures.len(),
        "data subject looked up"
    );
    if html {
        let page = state
            .reports
            .render_subject(&report, query.locale.unwrap_or(Locale::En))?;
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header(super::PAGE_CSP)
            .body(page));
    }
    Ok(HttpResponse::Ok().json(report))
}

/// `POST /api/v1/subjects/erase`: erase one person's data everywhere.
#[utoipa::path(
    post,
    path = "/api/v1/subjects/erase",
    operation_id = "subject_erase",
    tag = "compliance",
    request_body = ErasureRequest,
    responses(
        (status = 200, description = "Done in one transaction: the person's token values destroyed in every contract's vault (except words of a name that other people's tickets carry too: `tokens_kept`), the person's identifiers struck from the gateway's copies, one `subject.erase_requested` event (signed like every webhook) per contractor that got the data, to be acknowledged before `due_at`; `subject.erased` to the in-house side. The ledger keeps the proof without the values.", body = ErasureOutcome),
    ),
    security(("bearer" = ["admin", "compliance"])),
)]
pub async fn erase(
    state: Data<AppState>,
    who: Oversight,
    JsonBody(request): JsonBody<ErasureRequest>,
) -> Result<HttpResponse, ApiError> {
    let contracts = state.contracts.current();
    let keys = state.vault_keys.clone();
    let actor = format!("{}:{}", who.0.role.as_str(), who.0.sub);
    let now = state.clock.now();
    let outcome = state
        .db
        .write_async(move |c| subjects::erase(c, &contracts, &keys, &request, &actor, now))
        .await?;
    tracing::info!(
        erasure = outcome.erasure,
        tickets = outcome.tickets.len(),
        tokens = outcome.tokens_erased,
        notices = outcome.notices.len(),
        "data subject erased"
    );
    state.changed();
    Ok(HttpResponse::Ok().json(outcome))
}

/// Which notices to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NoticesQuery {
    /// Only those not acknowledged yet.
    open: Option<bool>,
    /// At most this many, 1–500 (default 100), newest first.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// `GET /api/v1/subjects/erasures`: every erasure notice, with its acknowledgement.
#[utoipa::path(
    get,
    path = "/api/v1/subjects/erasures",
    operation_id = "subject_erasures",
    tag = "compliance",
    params(NoticesQuery),
    responses(
        (status = 200, description = "Erasure notices, newest first: `acknowledged`, `overdue` (escalated) or `waiting`.", body = Vec<NoticeView>),
    ),
    security(("bearer" = ["admin", "compliance"])),
)]
pub async fn erasures(
    state: Data<AppState>,
    _who: Oversight,
    query: Query<NoticesQuery>,
) -> Result<HttpResponse, ApiError> {
    notices_page(&state, None, &query).await
}

/// A page of notices, of one contractor or of all.
async fn notices_page(
    state: &AppState,
    contractor: Option<String>,
    query: &NoticesQuery,
) -> Result<HttpResponse, ApiError> {
    let limit = super::page_limit(query.limit, 100, 500)?;
    let open = query.open.unwrap_or(false);
    let list = state
        .db
        .read_async(move |c| notices::list(c, contractor.as_deref(), open, limit))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// `GET /api/v1/contractor/erasures`: what the caller's contractor was told to erase.
#[utoipa::path(
    get,
    path = "/api/v1/contractor/erasures",
    operation_id = "contractor_erasures",
    tag = "contractor",
    params(NoticesQuery),
    responses(
        (status = 200, description = "The contractor's erasure notices, newest first: tickets and tokens to delete, when the acknowledgement is due.", body = Vec<NoticeView>),
    ),
    security(("bearer" = ["contractor"])),
)]
pub async fn contractor_erasures(
    state: Data<AppState>,
    who: Contractor,
    query: Query<NoticesQuery>,
) -> Result<HttpResponse, ApiError> {
    notices_page(&state, Some(who.0.contractor), &query).await
}

/// `POST /api/v1/contractor/erasures/{id}/ack`: the contractor confirms it erased what the
/// notice listed.
#[utoipa::path(
    post,
    path = "/api/v1/contractor/erasures/{id}/ack",
    operation_id = "contractor_erasure_ack",
    tag = "contractor",
    params(("id" = i64, Path, description = "The notice id (`notice` in `subject.erase_requested`).")),
    responses(
        (status = 200, description = "The notice, acknowledged (a repeat changes nothing). 404 for another contractor's notice.", body = NoticeView),
    ),
    security(("bearer" = ["contractor"])),
)]
pub async fn acknowledge(
    state: Data<AppState>,
    who: Contractor,
    id: Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let now = state.clock.now();
    let notice = state
        .db
        .write_async(move |c| subjects::acknowledge(c, &who.0, id, now))
        .await?;
    Ok(HttpResponse::Ok().json(notice))
}
