//! The contractor's knowledge base: the articles its contracts grant, searched by word forms.

use actix_web::HttpResponse;
use actix_web::web::{Data, Path, Query};
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::extract::Contractor;
use crate::knowledge::{self, ListRequest};

/// What to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeQuery {
    /// Words to search for, in Russian or English (any word form: `возврата` finds
    /// `возврат`); every word that is not a stop word must appear. At most 200 characters.
    q: Option<String>,
    /// Only articles in this language (`ru` or `en`).
    #[param(inline)]
    language: Option<crate::contracts::Locale>,
    /// Only articles with this tag.
    tag: Option<String>,
    /// At most this many, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

/// `GET /api/v1/contractor/knowledge`.
#[utoipa::path(
    get,
    path = "/api/v1/contractor/knowledge",
    operation_id = "contractor_knowledge_list",
    tag = "contractor",
    params(KnowledgeQuery),
    responses(
        (status = 200, description = "The articles the caller's contracts grant: best match first for a search, else by title.", body = knowledge::ArticleList),
    ),
    security(("bearer" = ["contractor"])),
)]
pub async fn list(
    state: Data<AppState>,
    who: Contractor,
    query: Query<KnowledgeQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let request = ListRequest {
        query: query.q,
        language: query.language,
        tag: query.tag,
        limit: super::page_limit(query.limit, 20, 100)?,
    };
    let contracts = state.contracts.current();
    let now = state.clock.now();
    let list = state
        .db
        .read_async(move |c| knowledge::list(c, &contracts, &who.0.contractor, &request, now))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// `GET /api/v1/contractor/knowledge/{id}`: one article, audited.
#[utoipa::path(
    get,
    path = "/api/v1/contractor/knowledge/{id}",
    operation_id = "contractor_knowledge_read",
    tag = "contractor",
    params(
        ("id" = String, Path, description = "The article id."),
    ),
    responses(
        (status = 200, description = "The article as safe HTML and plain text. An article the caller's contracts do not grant is 404, as an unknown one is; the attempt is audited.", body = knowledge::ArticleView),
    ),
    security(("bearer" = ["contractor"])),
)]
pub async fn read(
    state: Data<AppState>,
    who: Contractor,
    id: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let contracts = state.contracts.current();
    let now = state.clock.now();
    let article = state
        .db
        .write_async(move |c| {
            knowledge::read(
                c,
                &contracts,
                &who.0.contractor,
                &who.0.ledger_name(),
                &id,
                now,
            )
        })
        .await?;
    article
        .map(|a| HttpResponse::Ok().json(a))
        .ok_or_else(ApiError::not_found)
}
