//! Customer feedback on a contractor's work: a CSAT rating (1–5) and an NPS answer (0–10),
//! each with the customer's words if given, from the in-house API or a helpdesk payload
//! (Zendesk's `satisfaction_rating`). Stored on the ticket's latest share; a new answer of a
//! kind replaces the previous one. The words stay in-house as written; a contractor sees them
//! redacted under its contract, like any text of the ticket.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::clock::{from_db, to_db};
use crate::db::AnyConnection;
use crate::db::schema::feedback;
use crate::ids::{ShareId, TicketId};
use crate::ledger::{self, Action, NewEntry};
pub use crate::tickets::FeedbackInput;
use crate::tickets::{TicketError, store};

/// Feedback as stored.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Rated {
    /// The ticket.
    pub ticket: TicketId,
    /// The share rated (the ticket's latest).
    pub share_id: ShareId,
    /// Its contract.
    pub contract: String,
    /// CSAT, when given.
    pub score: Option<i32>,
    /// NPS, when given.
    pub nps: Option<i32>,
    /// True when it replaced an earlier answer of a kind given.
    pub replaced: bool,
}

/// A kind of feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    /// Customer satisfaction, 1–5.
    Csat,
    /// Net promoter answer, 0–10.
    Nps,
}

impl FeedbackKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csat => "csat",
            Self::Nps => "nps",
        }
    }
}

/// Records the customer's feedback on the ticket's latest share. `source` is `api` or the
/// helpdesk the payload came from. A repeat of exactly what is stored changes nothing and
/// writes nothing (helpdesks re-send the same rating with every ticket update).
pub fn record(
    conn: &mut AnyConnection,
    ticket_id: TicketId,
    input: &FeedbackInput,
    source: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Rated, TicketError> {
    input.check()?;
    let ticket_id = ticket_id.get();
    store::find(conn, ticket_id)?.ok_or(TicketError::NotFound)?;
    let share = crate::shares::latest_for_ticket(conn, ticket_id)?
        .ok_or_else(|| TicketError::Conflict("the ticket was never with a contractor".into()))?;
    let comment = input.comment();
    let mut replaced = false;
    let mut changed = false;
    for (kind, score) in [
        (FeedbackKind::Csat, input.score),
        (FeedbackKind::Nps, input.nps),
    ] {
        let Some(score) = score else { continue };
        let key = (share.id, kind.as_str());
        let stored: Option<(i32, Option<String>)> = feedback::table
            .find(key)
            .select((feedback::score, feedback::comment))
            .first(conn)
            .optional()?;
        match stored {
            Some((s, c)) if s == score && c.as_deref() == comment => continue,
            Some(_) => {
                diesel::update(feedback::table.find(key))
                    .set((
                        feedback::score.eq(score),
                        feedback::comment.eq(comment),
                        feedback::source.eq(source),
                        feedback::rated_at.eq(to_db(now)),
                    ))
                    .execute(conn)?;
                replaced = true;
            }
            None => {
                diesel::insert_into(feedback::table)
                    .values((
                        feedback::share_id.eq(share.id),
                        feedback::kind.eq(kind.as_str()),
                        feedback::ticket_id.eq(ticket_id),
                        feedback::contract_id.eq(&share.contract_id),
                        feedback::score.eq(score),
                        feedback::comment.eq(comment),
                        feedback::source.eq(source),
                        feedback::rated_at.eq(to_db(now)),
                    ))
                    .execute(conn)?;
            }
        }
        changed = true;
    }
    if changed {
        // Names and numbers only: the customer's words may hold personal data.
        ledger::append(
            conn,
            now,
            NewEntry {
                actor,
                action: Action::Satisfaction,
                contract_id: Some(&share.contract_id),
                ticket_id: Some(ticket_id),
                details: json!({
                    "share_id": share.id,
                    "score": input.score,
                    "nps": input.nps,
                    "with_comment": comment.is_some(),
                    "source": source,
                    "replaced": replaced,
                }),
            },
        )?;
    }
    Ok(Rated {
        ticket: ticket_id.into(),
        share_id: share.id.into(),
        contract: share.contract_id,
        score: input.score,
        nps: input.nps,
        replaced,
    })
}

/// Records the in-house side's report of the customer's feedback ([`record`]) and sends the
/// contractor the ticket's fresh projection, which now shows it (the words redacted).
pub fn rate(
    conn: &mut AnyConnection,
    contracts: &crate::contracts::ContractSet,
    keys: &crate::redaction::VaultKeys,
    ticket_id: TicketId,
    input: &FeedbackInput,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Rated, TicketError> {
    let rated = record(conn, ticket_id, input, "api", actor, now)?;
    crate::service::sharing::send_update(conn, contracts, keys, ticket_id.get(), actor, now)?;
    Ok(rated)
}

/// One answer as stored, for the contractor's view (its comment redacted there).
#[derive(Debug, Clone)]
pub struct StoredFeedback {
    /// Its kind.
    pub kind: FeedbackKind,
    /// The score.
    pub score: i32,
    /// The customer's words, as written.
    pub comment: Option<String>,
    /// When given.
    pub rated_at: DateTime<Utc>,
}

/// The feedback given on `share_id`, CSAT first.
pub fn of_share(conn: &mut AnyConnection, share_id: i64) -> QueryResult<Vec<StoredFeedback>> {
    let rows: Vec<(String, i32, Option<String>, chrono::NaiveDateTime)> = feedback::table
        .filter(feedback::share_id.eq(share_id))
        .order(feedback::kind)
        .select((
            feedback::kind,
            feedback::score,
            feedback::comment,
            feedback::rated_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(kind, score, comment, at)| StoredFeedback {
            kind: if kind == FeedbackKind::Nps.as_str() {
                FeedbackKind::Nps
            } else {
                FeedbackKind::Csat
            },
            score,
            comment,
            rated_at: from_db(at),
        })
        .collect())
}
