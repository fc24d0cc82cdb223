//! `Idempotency-Key` on inbound writes: the first answer is stored in the same transaction as
//! the change, and a retry with the same key gets that answer back and changes nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use serde_json::Value;

use super::AppState;
use super::error::ApiError;
use super::extract::BodyDigest;
use crate::db::AnyConnection;
use crate::db::idempotency::{self, StoredAnswer};
use crate::tickets::TicketError;

/// An `Idempotency-Key` with what it is scoped to.
#[derive(Debug, Clone)]
pub struct Key {
    scope: String,
    key: String,
    digest: String,
}

/// The request's `Idempotency-Key`, scoped to the caller and the target (method and path);
/// `None` without the header.
pub fn key_of(req: &HttpRequest, caller: &str) -> Result<Option<Key>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::invalid(
                "invalid_header",
                "Idempotency-Key",
                "use 1–255 visible ASCII characters",
            )
        })?;
    let digest = req
        .extensions()
        .get::<BodyDigest>()
        .map(|d| d.0.clone())
        .unwrap_or_default();
    Ok(Some(Key {
        scope: format!("{caller} {} {}", req.method(), req.path()),
        key: key.to_owned(),
        digest,
    }))
}

/// What a write answered.
#[derive(Debug)]
pub enum Once<T> {
    /// Done now: the answer, and what the handler wants to know of it.
    Fresh(StatusCode, Value, T),
    /// Done before under the same key: the first answer.
    Replayed(StatusCode, Value),
}

/// A write's answer: status, body, and what the handler wants to know of it.
type Answer<T> = Result<(StatusCode, Value, T), TicketError>;

/// How often a write that lost a unique-key race with a concurrent one is tried again.
const ATTEMPTS: usize = 3;

/// Runs `work` in one write transaction unless `key` was seen, storing its answer under `key`.
/// A key reused with a different body is refused with 409. A transaction that lost a
/// unique-key race (two first pushes of one ticket, two first uses of one key) is run again:
/// the next attempt sees the winner's rows, and answers with the stored answer or an update.
pub async fn write_once<T, F>(
    state: &AppState,
    key: Option<Key>,
    work: F,
) -> Result<Once<T>, ApiError>
where
    T: Send + 'static,
    F: Fn(&mut AnyConnection) -> Result<(StatusCode, Value, T), TicketError>
        + Send
        + Sync
        + 'static,
{
    let work = std::sync::Arc::new(work);
    for _ in 0..ATTEMPTS {
        let (work, key) = (work.clone(), key.clone());
        let now = state.clock.now();
        let result = state
            .db
            .write_async(move |c| attempt(c, key, &*work, now))
            .await;
        match result {
            Err(TicketError::Db(crate::db::DbError::Query(ref e)))
                if crate::db::is_unique_violation(e) => {}
            other => return Ok(other?),
        }
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        "a concurrent change conflicted with this one; retry",
    ))
}

fn attempt<T>(
    c: &mut AnyConnection,
    key: Option<Key>,
    work: &dyn Fn(&mut AnyConnection) -> Answer<T>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Once<T>, TicketError> {
    if let Some(k) = &key
        && let Some(first) = idempotency::find(c, &k.scope, &k.key)?
    {
        if first.request_digest != k.digest {
            return Err(TicketError::Conflict(
                "this Idempotency-Key was used for a different request".into(),
            ));
        }
        let status = u16::try_from(first.status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::OK);
        let body = serde_json::from_str(&first.response).unwrap_or(Value::Null);
        return Ok(Once::Replayed(status, body));
    }
    let (status, body, extra) = work(c)?;
    if let Some(k) = key {
        let answer = StoredAnswer {
            request_digest: k.digest,
            status: i32::from(status.as_u16()),
            response: body.to_string(),
        };
        idempotency::store(c, &k.scope, &k.key, &answer, now)?;
    }
    Ok(Once::Fresh(status, body, extra))
}

impl<T> Once<T> {
    /// The HTTP answer; a replay says so in `Idempotent-Replayed: true`.
    pub fn respond(&self) -> HttpResponse {
        match self {
            Self::Fresh(status, body, _) => HttpResponse::build(*status).json(body),
            Self::Replayed(status, body) => HttpResponse::build(*status)
                .insert_header(("idempotent-replayed", "true"))
                .json(body),
        }
    }
}
