//! The in-house helpdesk's endpoints.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::extract::{Inhouse, JsonBody, MAX_BODY_WITH_FILES};
use super::idempotency::{self, Once};
use crate::ids::TicketId;
use crate::model::RoutingOutcome;
use crate::service::intake::IngestOutcome;
use crate::telemetry::ContractLabels;
use crate::tickets::{self, CommentInput, NewTicket, TicketInput};

/// `POST /api/v1/tickets`: create or update a ticket, and route it. Accepts an
/// `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/api/v1/tickets",
    operation_id = "inhouse_ingest",
    tag = "in-house",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters. A retry with the same key answers the first answer again (the same status and body) without doing the work twice."),
    ),
    request_body = crate::tickets::TicketInput,
    responses(
        (status = 201, description = "Created, stored and routed: the ticket id and the routing outcome.", body = IngestOutcome),
        (status = 200, description = "An update of a ticket already known (same `source` and `external_id`).", body = IngestOutcome),
    ),
    security(("bearer" = ["inhouse"])),
)]
pub async fn ingest(
    state: Data<AppState>,
    req: HttpRequest,
    who: Inhouse,
    JsonBody(input): JsonBody<TicketInput, MAX_BODY_WITH_FILES>,
) -> Result<HttpResponse, ApiError> {
    upsert(state, req, who, input).await
}

/// `POST /api/v1/inbound/{adapter}`: a helpdesk's own ticket payload (`generic`, `zendesk`,
/// `rt`),
/// mapped to ours and then handled as `POST /api/v1/tickets`.
#[utoipa::path(
    post,
    path = "/api/v1/inbound/{adapter}",
    operation_id = "inhouse_inbound",
    tag = "in-house",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters. A retry with the same key answers the first answer again (the same status and body) without doing the work twice."),
        ("adapter" = String, Path, description = "A helpdesk adapter: `generic`, `zendesk` or `rt` (Request Tracker)."),
    ),
    request_body(content = serde_json::Value, description = "The helpdesk's own payload: for `zendesk` a Zendesk ticket object (`{\"ticket\": {…}}`, as its webhooks and API give it), for `rt` a Request Tracker REST2 ticket with `queue`, `requestor` (its user record) and `transactions` (with their `attachments`) beside it, for `generic` the body `POST /api/v1/tickets` takes.",
        example = json!({"ticket": {"id": 35436, "subject": "Refund for order 7781", "description": "Hi, I'm John Smith, mail john.smith@example.com.", "priority": "normal", "status": "open", "tags": ["refund"], "via": {"channel": "email"}, "custom_fields": [{"id": 360001, "value": "pro"}], "requester": {"name": "John Smith", "email": "john.smith@example.com", "locale": "en-US"}, "comments": [{"id": 1274, "author": {"name": "John Smith"}, "body": "Still waiting", "public": true}]}})),
    responses(
        (status = 201, description = "Mapped, created and routed, as `POST /api/v1/tickets`.", body = IngestOutcome),
        (status = 200, description = "Mapped and updated.", body = IngestOutcome),
    ),
    security(("bearer" = ["inhouse"])),
)]
pub async fn inbound(
    state: Data<AppState>,
    req: HttpRequest,
    who: Inhouse,
    adapter: Path<String>,
    JsonBody(payload): JsonBody<serde_json::Value, MAX_BODY_WITH_FILES>,
) -> Result<HttpResponse, ApiError> {
    let adapter = crate::adapters::by_name(&adapter).ok_or_else(ApiError::not_found)?;
    let input = adapter.ticket(payload)?;
    upsert(state, req, who, input).await
}

/// Files named by URL come from the helpdesk connection that serves them, before anything is
/// stored; a fetch that fails answers 503, so the sender tries again.
async fn fetch_files<'f>(
    state: &AppState,
    files: impl IntoIterator<Item = &'f mut crate::tickets::attachments::AttachmentInput>,
) -> Result<(), ApiError> {
    crate::connectors::fetch_files(&state.helpdesks, files)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "a file could not be fetched from its helpdesk");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!("a file could not be fetched from the helpdesk ({e}); send it again later"),
            )
        })
}

async fn upsert(
    state: Data<AppState>,
    req: HttpRequest,
    who: Inhouse,
    mut input: TicketInput,
) -> Result<HttpResponse, ApiError> {
    let files = input.attachments.iter_mut().chain(
        input
            .comments
            .iter_mut()
            .flat_map(|c| c.attachments.iter_mut()),
    );
    fetch_files(&state, files).await?;
    let ticket = NewTicket::try_from(input)?;
    let contracts = state.contracts.current();
    let keys = state.vault_keys.clone();
    let actor = format!("inhouse:{}", who.0.sub);
    let key = idempotency::key_of(&req, &actor)?;
    let now = state.clock.now();
    let answer = idempotency::write_once(&state, key, move |c| {
        let outcome = crate::service::intake::ingest(c, &contracts, &keys, &ticket, &actor, now)?;
        let status = if outcome.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok((status, json!(outcome), outcome))
    })
    .await?;
    if let Once::Fresh(_, _, outcome) = &answer {
        ingested(&state, outcome);
    }
    Ok(answer.respond())
}

/// What a fresh ingest tells the rest of the process: the metrics, the workers that have new
/// work, and the log.
fn ingested(state: &AppState, outcome: &IngestOutcome) {
    state.metrics.tickets_ingested.inc();
    // A new share starts clocks that are not due yet: only the delivery worker has work.
    match outcome.routing.outcome {
        RoutingOutcome::AlreadyShared => state.changed(),
        RoutingOutcome::Shared => state.events_written(),
        RoutingOutcome::Kept => {}
    }
    if let Some(contract) = outcome
        .routing
        .contract
        .as_ref()
        .filter(|_| outcome.routing.outcome == RoutingOutcome::Shared)
    {
        let labels = ContractLabels {
            contract: contract.clone(),
        };
        state.metrics.tickets_shared.get_or_create(&labels).inc();
    }
    tracing::info!(
        ticket = outcome.id.get(),
        created = outcome.created,
        routing = outcome.routing.outcome.as_str(),
        "ticket ingested"
    );
}

/// `GET /api/v1/tickets/{id}`: the full ticket, its share, routing and replies.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}",
    operation_id = "inhouse_show",
    tag = "in-house",
    params(
        ("id" = crate::ids::TicketId, Path, description = "The ticket id (a positive integer; anything else is 404)."),
    ),
    responses(
        (status = 200, description = "The full ticket, its share, routing and replies.", body = crate::service::ticket_view::InhouseTicket),
    ),
    security(("bearer" = ["inhouse"])),
)]
pub async fn show(
    state: Data<AppState>,
    _who: Inhouse,
    id: Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let view = state
        .db
        .read_async(move |c| crate::service::ticket_view::inhouse_view(c, id))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// `GET /api/v1/tickets/{id}/attachments/{attachment}`: a file in clear.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/attachments/{attachment}",
    operation_id = "inhouse_attachment",
    tag = "in-house",
    params(
        ("id" = crate::ids::TicketId, Path, description = "The ticket id (a positive integer; anything else is 404)."),
        ("attachment" = i64, Path, description = "The file's id, as the ticket lists it."),
    ),
    responses(
        (status = 200, description = "The file in clear (a contractor's text file with its tokens turned back into values). The media type is the file's; the name is in `Content-Disposition`.", body = Vec<u8>, content_type = "*/*"),
    ),
    security(("bearer" = ["inhouse"])),
)]
pub async fn attachment(
    state: Data<AppState>,
    _who: Inhouse,
    path: Path<(TicketId, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, attachment) = path.into_inner();
    let Some(aid) = attachment.parse::<i64>().ok().filter(|a| *a > 0) else {
        return Err(crate::tickets::TicketError::NotFound.into());
    };
    let file = state
        .db
        .read_async(move |c| crate::tickets::attachments::inhouse_download(c, id.get(), aid))
        .await?;
    Ok(super::file_response(file))
}

/// `POST /api/v1/tickets/{id}/comments`: an in-house comment.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/comments",
    operation_id = "inhouse_comment",
    tag = "in-house",
    params(
        ("id" = crate::ids::TicketId, Path, description = "The ticket id (a positive integer; anything else is 404)."),
    ),
    request_body = crate::tickets::CommentInput,
    responses(
        (status = 201, description = "The comment, stored (and shared if the ticket is).", body = crate::tickets::store::CommentView),
        (status = 200, description = "A comment with this `external_id` is already stored.", body = Duplicate),
    ),
    security(("bearer" = ["inhouse"])),
)]
pub async fn comment(
    state: Data<AppState>,
    who: Inhouse,
    id: Path<TicketId>,
    JsonBody(mut input): JsonBody<CommentInput, MAX_BODY_WITH_FILES>,
) -> Result<HttpResponse, ApiError> {
    fetch_files(&state, input.attachments.iter_mut()).await?;
    let id = id.into_inner();
    let contracts = state.contracts.current();
    let keys = state.vault_keys.clone();
    let actor = format!("inhouse:{}", who.0.sub);
    let now = state.clock.now();
    let added = state
        .db
        .write_async(move |c| {
            crate::service::intake::add_inhouse_comment(
                c, &contracts, &keys, id, input, &actor, now,
            )
        })
        .await?;
    state.changed();
    Ok(match added {
        Some(comment) => HttpResponse::Created().json(comment),
        None => HttpResponse::Ok().json(Duplicate { duplicate: true }),
    })
}

/// The answer to a comment already stored: `{"duplicate": true}`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Duplicate {
    /// Always true.
    duplicate: bool,
}

/// Body of a recall or a switch: why.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"reason": "VIP customer: we answer this one ourselves"}))]
#[serde(deny_unknown_fields)]
pub struct RecallInput {
    /// Why it is taken back (kept in-house; the contractor is told a code): 1–2000
    /// characters, not only spaces.
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    reason: String,
}

/// `POST /api/v1/tickets/{id}/recall`: take the ticket back from its contractor.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/recall",
    operation_id = "inhouse_recall",
    tag = "in-house",
    params(
        ("id" = crate::ids::TicketId, Path, description = "The ticket id (a positive integer; anything else is 404)."),
    ),
    request_body = RecallInput,
    responses(
        (status = 200, description = "The share is recalled: the contractor has lost access.", body = crate::service::recall::Recalled),
    ),
    security(("bearer" = ["inhouse"])),
)]
pub async fn recall(
    state: Data<AppState>,
    who: Inhouse,
    id: Path<TicketId>,
    JsonBody(input): JsonBody<RecallInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let now = state.clock.now();
    let actor = format!("inhouse:{}", who.0.sub);
    let contracts = state.contracts.current();
    let out = state
        .db
        .write_async(move |c| {
            crate::service::recall::recall(
                c,
                &contracts,
                id,
                &actor,
                &input.reason,
                crate::service::recall::RecallCause::Operator,
                now,
            )
        })
        .await?;
    state.changed();
    state.room_may_have_changed();
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /api/v1/routing/preview`: what would happen to this ticket now, and why, for every
/// contract; computed on the real path in a transaction that is rolled back.
#[utoipa::path(
    post,
    path = "/api/v1/routing/preview",
    operation_id = "inhouse_routing_preview",
    tag = "in-house",
    request_body = crate::tickets::TicketInput,
    responses(
        (status = 200, description = "What routing would decide now, for every contract, and why. Nothing is stored.", body = crate::service::sharing::RoutingDecision),
    ),
    security(("bearer" = ["inhouse", "admin"])),
)]
pub async fn routing_preview(
    state: Data<AppState>,
    who: super::extract::Operator,
    JsonBody(input): JsonBody<TicketInput>,
) -> Result<HttpResponse, ApiError> {
    let ticket = NewTicket::try_from(input)?;
    let contracts = state.contracts.current();
    let keys = state.vault_keys.clone();
    let actor = format!("preview:{}", who.0.sub);
    let now = state.clock.now();
    let outcome = state
        .db
        .dry_run_async(move |c| {
            crate::service::intake::ingest(c, &contracts, &keys, &ticket, &actor, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(outcome.routing))
}

/// How much of the next drain pass to show.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BacklogQuery {
    /// Most tickets shown, 1–1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// `GET /api/v1/routing/backlog`: the tickets waiting in-house, which contracts can take more
/// now, and what the next drain pass would decide for each ticket, in order; computed on the
/// real path in a transaction that is rolled back.
#[utoipa::path(
    get,
    path = "/api/v1/routing/backlog",
    operation_id = "inhouse_backlog_preview",
    tag = "in-house",
    params(BacklogQuery),
    responses(
        (status = 200, description = "What the next drain would do. Nothing is stored.", body = crate::service::drain::DrainPreview),
    ),
    security(("bearer" = ["inhouse", "admin"])),
)]
pub async fn backlog_preview(
    state: Data<AppState>,
    _who: super::extract::Operator,
    query: Query<BacklogQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = usize::try_from(super::page_limit(query.limit, 50, 1000)?).unwrap_or(50);
    let contracts = state.contracts.current();
    let keys = state.vault_keys.clone();
    let now = state.clock.now();
    let preview = state
        .db
        .dry_run_async(move |c| crate::service::drain::preview(c, &contracts, &keys, limit, now))
        .await?;
    Ok(HttpResponse::Ok().json(preview))
}

/// Body of `PUT /api/v1/queue`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"depth": 420}))]
#[serde(deny_unknown_fields)]
pub struct QueueInput {
    /// Tickets waiting in the helpdesk's queue.
    #[schema(minimum = 0)]
    depth: i64,
}

/// A queue depth taken.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct QueueReported {
    /// The depth reported.
    depth: i64,
    /// Minutes it stays in force unless reported again.
    valid_minutes: i64,
}

/// `PUT /api/v1/queue`: the helpdesk reports its queue depth (in force for 15 minutes).
#[utoipa::path(
    put,
    path = "/api/v1/queue",
    operation_id = "inhouse_report_queue",
    tag = "in-house",
    request_body = QueueInput,
    responses(
        (status = 200, description = "The depth in force, and for how long.", body = QueueReported),
    ),
    security(("bearer" = ["inhouse"])),
)]
pub async fn report_queue(
    state: Data<AppState>,
    who: Inhouse,
    JsonBody(input): JsonBody<QueueInput>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let actor = format!("inhouse:{}", who.0.sub);
    state
        .db
        .write_async(move |c| tickets::report_queue(c, input.depth, &actor, now))
        .await?;
    state.room_may_have_changed();
    Ok(HttpResponse::Ok().json(QueueReported {
        depth: input.depth,
        valid_minutes: tickets::QUEUE_REPORT_TTL_MINUTES,
    }))
}

/// `POST /api/v1/tickets/{id}/satisfaction`: the customer's feedback on the contractor's work
/// (CSAT, NPS, their words).
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/satisfaction",
    operation_id = "inhouse_satisfaction",
    tag = "in-house",
    params(
        ("id" = crate::ids::TicketId, Path, description = "The ticket id (a positive integer; anything else is 404)."),
    ),
    request_body = crate::service::feedback::FeedbackInput,
    responses(
        (status = 200, description = "The feedback, stored on the ticket's latest share (a new answer of a kind replaces the previous one).", body = crate::service::feedback::Rated),
    ),
    security(("bearer" = ["inhouse"])),
)]
pub async fn satisfaction(
    state: Data<AppState>,
    who: Inhouse,
    id: Path<TicketId>,
    JsonBody(input): JsonBody<crate::service::feedback::FeedbackInput>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let now = state.clock.now();
    let actor = format!("inhouse:{}", who.0.sub);
    let contracts = state.contracts.current();
    let keys = state.vault_keys.clone();
    let out = state
        .db
        .write_async(move |c| {
            crate::service::feedback::rate(c, &contracts, &keys, id, &input, &actor, now)
        })
        .await?;
    state.changed();
    Ok(HttpResponse::Ok().json(out))
}

/// `GET /api/v1/events` query.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// The `next_after` of the previous page (0 or absent: from the start).
    #[param(minimum = 0)]
    after: Option<i64>,
    /// Page size, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// An adapter name (`generic`, `zendesk`, `rt`): each event also carries the helpdesk update
    /// that applies it.
    #[param(pattern = "^(generic|zendesk)$")]
    format: Option<String>,
}

/// `GET /api/v1/events?after=&limit=`: the in-house event feed in commit order, for helpdesks
/// that cannot receive webhooks. The same events as the in-house webhook, with the same ids.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    operation_id = "inhouse_events",
    tag = "in-house",
    params(
        FeedQuery,
    ),
    responses(
        (status = 200, description = "Events in commit order.", body = crate::service::feed::FeedPage),
    ),
    security(("bearer" = ["inhouse"])),
)]
pub async fn events(
    state: Data<AppState>,
    _who: Inhouse,
    query: actix_web::web::Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = super::page_limit(query.limit, 100, 500)?;
    let adapter = match query.format.as_deref() {
        Some(name) => Some(crate::adapters::by_name(name).ok_or_else(|| {
            ApiError::invalid("invalid_query", "format", "no adapter by this name")
        })?),
        None => None,
    };
    let after = query.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid(
            "invalid_query",
            "after",
            "after must not be negative",
        ));
    }
    let page = state
        .db
        .run_blocking(move |db| crate::service::feed::inhouse_page(db, adapter, after, limit))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
