//! Customer satisfaction: the in-house side reports the customer's rating of a contractor's
//! work on a ticket.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::clock::to_db;
use crate::db::AnyConnection;
use crate::db::schema::satisfaction;
use crate::ids::ShareId;
use crate::ids::TicketId;
use crate::ledger::{self, Action, NewEntry};
use crate::tickets::{TicketError, store};

/// A customer's rating, as stored.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Rated {
    /// The ticket.
    pub ticket: TicketId,
    /// The share rated (the ticket's latest).
    pub share_id: ShareId,
    /// Its contract.
    pub contract: String,
    /// 1 to 5.
    pub score: i32,
    /// True when it replaced an earlier rating.
    pub replaced: bool,
}

/// Records the customer's rating (1–5) of the contractor's work on the ticket's latest share;
/// a new rating replaces the previous one.
pub fn rate_satisfaction(
    conn: &mut AnyConnection,
    ticket_id: TicketId,
    score: i32,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Rated, TicketError> {
    let ticket_id = ticket_id.get();
    if !(1..=5).contains(&score) {
        return Err(TicketError::Invalid {
            field: "score".into(),
            message: "must be a whole number from 1 to 5".into(),
        });
    }
    store::find(conn, ticket_id)?.ok_or(TicketError::NotFound)?;
    let share = crate::shares::latest_for_ticket(conn, ticket_id)?
        .ok_or_else(|| TicketError::Conflict("the ticket was never with a contractor".into()))?;
    let replaced = diesel::update(satisfaction::table.find(share.id))
        .set((
            satisfaction::score.eq(score),
            satisfaction::rated_at.eq(to_db(now)),
        ))
        .execute(conn)?
        == 1;
    if !replaced {
        diesel::insert_into(satisfaction::table)
            .values((
                satisfaction::share_id.eq(share.id),
                satisfaction::ticket_id.eq(ticket_id),
                satisfaction::contract_id.eq(&share.contract_id),
                satisfaction::score.eq(score),
                satisfaction::rated_at.eq(to_db(now)),
            ))
            .execute(conn)?;
    }
    ledger::append(
        conn,
        now,
        NewEntry {
            actor,
            action: Action::Satisfaction,
            contract_id: Some(&share.contract_id),
            ticket_id: Some(ticket_id),
            details: json!({ "share_id": share.id, "score": score, "replaced": replaced }),
        },
    )?;
    Ok(Rated {
        ticket: ticket_id.into(),
        share_id: share.id.into(),
        contract: share.contract_id,
        score,
        replaced,
    })
}
