//! The in-house side's approval queue for contractor replies (contracts with
//! `approval = "free_text"`).

use actix_web::HttpResponse;
use actix_web::web::{Data, Path, Query};
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::extract::Operator;
use crate::service::replies::{self, Decision, PendingReply};

/// Which replies to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApprovalsQuery {
    /// `pending` (default), `approved`, `rejected` or `void`.
    #[param(pattern = "^(pending|approved|rejected|void)$")]
    state: Option<String>,
    /// At most this many, 1–500 (default 100), oldest first.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// `GET /api/v1/approvals`: contractor replies waiting for (or given) a decision.
#[utoipa::path(
    get,
    path = "/api/v1/approvals",
    operation_id = "inhouse_approvals",
    tag = "in-house",
    params(ApprovalsQuery),
    responses(
        (status = 200, description = "The replies in that state, oldest first: the text as the contractor wrote it (its tokens).", body = Vec<PendingReply>),
    ),
    security(("bearer" = ["inhouse", "admin"])),
)]
pub async fn list(
    state: Data<AppState>,
    _who: Operator,
    query: Query<ApprovalsQuery>,
) -> Result<HttpResponse, ApiError> {
    let wanted = query.state.clone().unwrap_or_else(|| "pending".into());
    if !matches!(
        wanted.as_str(),
        "pending" | "approved" | "rejected" | "void"
    ) {
        return Err(ApiError::invalid(
            "invalid_query",
            "state",
            "must be pending, approved, rejected or void",
        ));
    }
    let limit = super::page_limit(query.limit, 100, 500)?;
    let list = state
        .db
        .read_async(move |c| replies::list(c, &wanted, limit))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

async fn decide(
    state: Data<AppState>,
    who: Operator,
    id: i64,
    decision: Decision,
) -> Result<HttpResponse, ApiError> {
    let contracts = state.contracts.current();
    let keys = state.vault_keys.clone();
    let now = state.clock.now();
    let actor = format!("{}:{}", who.0.role.as_str(), who.0.sub);
    let decided = state
        .db
        .write_async(move |c| replies::decide(c, &contracts, &keys, id, decision, &actor, now))
        .await?;
    state.changed();
    Ok(HttpResponse::Ok().json(decided))
}

/// `POST /api/v1/approvals/{id}/approve`: send the waiting reply now, as its writer's.
#[utoipa::path(
    post,
    path = "/api/v1/approvals/{id}/approve",
    operation_id = "inhouse_approve_reply",
    tag = "in-house",
    params(("id" = i64, Path, description = "The approval id.")),
    responses(
        (status = 200, description = "`approved` with the comment it became (its tokens turned back into values, the response clocks stopped now); `void` when the ticket no longer takes this contractor's replies (nothing sent). 409 when already decided.", body = PendingReply),
    ),
    security(("bearer" = ["inhouse", "admin"])),
)]
pub async fn approve(
    state: Data<AppState>,
    who: Operator,
    id: Path<i64>,
) -> Result<HttpResponse, ApiError> {
    decide(state, who, id.into_inner(), Decision::Approve).await
}

/// `POST /api/v1/approvals/{id}/reject`: do not send the waiting reply.
#[utoipa::path(
    post,
    path = "/api/v1/approvals/{id}/reject",
    operation_id = "inhouse_reject_reply",
    tag = "in-house",
    params(("id" = i64, Path, description = "The approval id.")),
    responses(
        (status = 200, description = "`rejected`: nothing reaches the customer; the contractor gets `share.reply_rejected`. 409 when already decided.", body = PendingReply),
    ),
    security(("bearer" = ["inhouse", "admin"])),
)]
pub async fn reject(
    state: Data<AppState>,
    who: Operator,
    id: Path<i64>,
) -> Result<HttpResponse, ApiError> {
    decide(state, who, id.into_inner(), Decision::Reject).await
}
