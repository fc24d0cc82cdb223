//! Shares: a ticket handed to a contractor under a contract, its state, its capacity and its
//! SLA clocks.

pub mod clocks;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::clock::{from_db, to_db};
use crate::contracts::capacity;
use crate::db::AnyConnection;
use crate::db::schema::{capacity_stripes, contracts, shares, tickets};
use crate::model::ShareState;
use crate::routing::LiveState;
pub use clocks::{ClockRow, ClockView};

/// What can go wrong with a share.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    /// No share the caller may see.
    #[error("not found")]
    NotFound,
    /// The share cannot move from its state to the one asked for.
    #[error("a share that is {from} cannot become {to}")]
    InvalidTransition {
        /// Current state.
        from: ShareState,
        /// Requested state.
        to: ShareState,
    },
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// A stored share.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = shares)]
pub struct ShareRow {
    /// Share id.
    pub id: i64,
    /// The ticket shared.
    pub ticket_id: i64,
    /// Under which contract.
    pub contract_id: String,
    /// The contract's version at share time.
    pub contract_version: i32,
    /// The contractor.
    pub contractor: String,
    /// Its state.
    #[diesel(deserialize_as = String)]
    pub state: ShareState,
    /// Why it was handed back.
    pub handback_reason: Option<String>,
    /// When it was shared.
    pub created_at: chrono::NaiveDateTime,
    /// Last change.
    pub updated_at: chrono::NaiveDateTime,
    /// When the contractor first replied publicly.
    pub first_response_at: Option<chrono::NaiveDateTime>,
    /// The capacity stripe the share counts in while it holds a place.
    pub capacity_stripe: Option<i32>,
    /// Why it was recalled (a [`crate::model::RecallCause`] name).
    pub recall_cause: Option<String>,
    /// The ticket stays with the in-house team after this share: an operator took it back,
    /// or the contractor handed it back under a contract that does not re-route hand-backs.
    pub keep_in_house: bool,
    /// The contract the contractor handed the ticket up to (`escalate`), if it did.
    pub escalate_to: Option<String>,
    /// The share it was escalated from (an L1 agency handing the ticket up), if any.
    pub escalated_from: Option<i64>,
    /// How often the customer wrote again after it was solved.
    pub reopened_count: i32,
    /// When that last happened.
    pub reopened_at: Option<chrono::NaiveDateTime>,
}

impl ShareRow {
    /// The share as the in-house side sees it, with its SLA clocks.
    pub fn summary(&self, clocks: &[ClockRow]) -> ShareSummary {
        ShareSummary {
            id: self.id.into(),
            contract: self.contract_id.clone(),
            contract_version: self.contract_version,
            contractor: self.contractor.clone(),
            state: self.state,
            handback_reason: self.handback_reason.clone(),
            shared_at: from_db(self.created_at),
            updated_at: from_db(self.updated_at),
            first_response_at: self.first_response_at.map(from_db),
            sla: clocks.iter().map(ClockRow::view).collect(),
        }
    }
}

/// A share as reported over the API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShareSummary {
    /// Share id.
    pub id: crate::ids::ShareId,
    /// Contract id.
    pub contract: String,
    /// Contract version at share time.
    pub contract_version: i32,
    /// Contractor id.
    pub contractor: String,
    /// State.
    pub state: ShareState,
    /// Why it was handed back.
    pub handback_reason: Option<String>,
    /// When it was shared.
    pub shared_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When the contractor first replied publicly.
    pub first_response_at: Option<DateTime<Utc>>,
    /// The SLA clocks, oldest first.
    pub sla: Vec<ClockView>,
}

/// The live routing state of each contract for one ticket, given the ticket's shares (queue
/// depth left at zero; shares of the last hour counted only when `count_last_hour`).
pub fn live_states(
    conn: &mut AnyConnection,
    ticket_shares: &[ShareRow],
    count_last_hour: bool,
    now: DateTime<Utc>,
) -> QueryResult<HashMap<String, LiveState>> {
    // Each contract with its open shares summed over its capacity stripes, in one statement.
    let rows: Vec<(String, bool, Option<i64>)> = contracts::table
        .left_join(capacity_stripes::table)
        .group_by((contracts::id, contracts::manual_overflow))
        .select((
            contracts::id,
            contracts::manual_overflow,
            diesel::dsl::sum(capacity_stripes::open_shares.nullable()),
        ))
        .load(conn)?;
    let returned: Vec<&str> = ticket_shares
        .iter()
        .filter(|s| matches!(s.state, ShareState::HandedBack | ShareState::Recalled))
        .map(|s| s.contract_id.as_str())
        .collect();
    // A count over the last hour's shares: only worth its cost when a contract caps it.
    let recent: Vec<(String, i64)> = if count_last_hour {
        shares::table
            .filter(shares::created_at.gt(to_db(now - chrono::Duration::hours(1))))
            .group_by(shares::contract_id)
            .select((shares::contract_id, diesel::dsl::count_star()))
            .load(conn)?
    } else {
        Vec::new()
    };
    Ok(rows
        .into_iter()
        .map(|(id, manual_on, open)| {
            let open_shares = i32::try_from(open.unwrap_or(0)).unwrap_or(i32::MAX);
            let returned_before = returned.contains(&id.as_str());
            let shared_last_hour = recent.iter().find(|(c, _)| *c == id).map_or(0, |(_, n)| *n);
            (
                id,
                LiveState {
                    manual_on,
                    open_shares,
                    returned_before,
                    shared_last_hour,
                    // Filled by the caller when a contract's trigger needs it.
                    queue_depth: 0,
                },
            )
        })
        .collect())
}

/// Records a new open share under the contract's stored version, counted in the capacity
/// stripe [`capacity::reserve`] gave it.
pub fn create(
    conn: &mut AnyConnection,
    ticket_id: i64,
    contract_id: &str,
    contractor: &str,
    capacity_stripe: i32,
    escalated_from: Option<i64>,
    now: DateTime<Utc>,
) -> QueryResult<ShareRow> {
    use diesel::IntoSql;
    use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};
    // The stored version is read by the INSERT itself: one round trip instead of two.
    let from_contract = contracts::table.find(contract_id).select((
        ticket_id.into_sql::<BigInt>(),
        contracts::id,
        contracts::version,
        contractor.into_sql::<Text>(),
        ShareState::Open.as_str().into_sql::<Text>(),
        to_db(now).into_sql::<Timestamp>(),
        to_db(now).into_sql::<Timestamp>(),
        Some(capacity_stripe).into_sql::<Nullable<Integer>>(),
        escalated_from.into_sql::<Nullable<BigInt>>(),
    ));
    diesel::insert_into(shares::table)
        .values(from_contract)
        .into_columns((
            shares::ticket_id,
            shares::contract_id,
            shares::contract_version,
            shares::contractor,
            shares::state,
            shares::created_at,
            shares::updated_at,
            shares::capacity_stripe,
            shares::escalated_from,
        ))
        .returning(shares::all_columns)
        .get_result(conn)
}

/// Every share of a ticket, newest first.
pub fn of_ticket(conn: &mut AnyConnection, ticket_id: i64) -> QueryResult<Vec<ShareRow>> {
    shares::table
        .filter(shares::ticket_id.eq(ticket_id))
        .order(shares::id.desc())
        .select(ShareRow::as_select())
        .load(conn)
}

/// The most recent share of a ticket, in any state.
pub fn latest_for_ticket(
    conn: &mut AnyConnection,
    ticket_id: i64,
) -> QueryResult<Option<ShareRow>> {
    shares::table
        .filter(shares::ticket_id.eq(ticket_id))
        .order(shares::id.desc())
        .select(ShareRow::as_select())
        .get_result(conn)
        .optional()
}

/// A solved share goes back to its contractor because the customer wrote again: open, counted
/// as reopened (its first contact did not resolve it), and holding a place again even if the
/// contract is at `max_open` (it is the same customer's conversation, never refused).
pub fn reopen(
    conn: &mut AnyConnection,
    share: &ShareRow,
    now: DateTime<Utc>,
) -> Result<ShareRow, ShareError> {
    if share.state != ShareState::Solved {
        return Err(ShareError::InvalidTransition {
            from: share.state,
            to: ShareState::Open,
        });
    }
    let stripe = capacity::reserve(conn, &share.contract_id, u32::MAX, share.ticket_id)?;
    let row: ShareRow = diesel::update(shares::table.find(share.id))
        .set((
            shares::state.eq(ShareState::Open.as_str()),
            shares::capacity_stripe.eq(stripe),
            shares::reopened_count.eq(shares::reopened_count + 1),
            shares::reopened_at.eq(Some(to_db(now))),
            shares::updated_at.eq(to_db(now)),
        ))
        .returning(shares::all_columns)
        .get_result(conn)?;
    Ok(row)
}

/// The share with this id.
pub fn find(conn: &mut AnyConnection, share_id: i64) -> QueryResult<Option<ShareRow>> {
    shares::table
        .find(share_id)
        .select(ShareRow::as_select())
        .first(conn)
        .optional()
}

/// The share of `ticket_id` that `contractor` may see, if any. A share that was handed back or
/// recalled, or belongs to another contractor, is reported exactly like a missing one.
pub fn visible_to(
    conn: &mut AnyConnection,
    contractor: &str,
    ticket_id: i64,
) -> QueryResult<Option<ShareRow>> {
    shares::table
        .filter(shares::ticket_id.eq(ticket_id))
        .filter(shares::contractor.eq(contractor))
        .filter(shares::state.eq_any(ShareState::visible_names()))
        .select(ShareRow::as_select())
        .get_result(conn)
        .optional()
}

/// The shares still with a contractor under any of `contract_ids`.
pub fn visible_of_contracts(
    conn: &mut AnyConnection,
    contract_ids: &[&str],
) -> QueryResult<Vec<ShareRow>> {
    shares::table
        .filter(shares::contract_id.eq_any(contract_ids))
        .filter(shares::state.eq_any(ShareState::visible_names()))
        .order(shares::id)
        .select(ShareRow::as_select())
        .load(conn)
}

/// Whether any share is still with a contractor under any of `contract_ids`.
pub fn any_visible_of_contracts(
    conn: &mut AnyConnection,
    contract_ids: &[&str],
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        shares::table
            .filter(shares::contract_id.eq_any(contract_ids))
            .filter(shares::state.eq_any(ShareState::visible_names())),
    ))
    .get_result(conn)
}

/// A page of the contractor's visible shares under `contract_ids`, newest first, below the
/// `before` share id.
pub fn list_visible(
    conn: &mut AnyConnection,
    contractor: &str,
    contract_ids: &[&str],
    state: Option<ShareState>,
    before: Option<i64>,
    limit: Option<i64>,
) -> QueryResult<Vec<ShareRow>> {
    let mut query = shares::table
        .filter(shares::contractor.eq(contractor))
        .filter(shares::contract_id.eq_any(contract_ids))
        .filter(shares::state.eq_any(ShareState::visible_names()))
        .into_boxed();
    if let Some(state) = state {
        query = query.filter(shares::state.eq(state.as_str()));
    }
    if let Some(before) = before {
        query = query.filter(shares::id.lt(before));
    }
    if let Some(limit) = limit {
        query = query.limit(limit);
    }
    query
        .order(shares::id.desc())
        .select(ShareRow::as_select())
        .load(conn)
}

/// Records the contractor's first public reply (later ones change nothing).
pub fn record_first_response(
    conn: &mut AnyConnection,
    share_id: i64,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        shares::table
            .find(share_id)
            .filter(shares::first_response_at.is_null()),
    )
    .set(shares::first_response_at.eq(to_db(now)))
    .execute(conn)?;
    Ok(())
}

/// How a share ends, when it does: why, and what follows for the ticket.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ending<'a> {
    /// The contractor's reason for a hand-back, or the recall's.
    pub reason: Option<&'a str>,
    /// Why it was recalled.
    pub recall_cause: Option<crate::model::RecallCause>,
    /// The ticket stays with the in-house team: not routed again by a push or the drain.
    pub keep_in_house: bool,
    /// The contract the ticket is handed up to.
    pub escalate_to: Option<&'a str>,
}

/// Moves a share to `to` as its contractor (or, for a recall, the in-house side) asks, and
/// records how it ended. Returns the updated row and whether anything changed (asking for the
/// state it already has is a no-op, so retries are harmless). Leaving `open`/`pending` for a
/// final state frees the contract's capacity.
pub fn transition(
    conn: &mut AnyConnection,
    share: &ShareRow,
    to: ShareState,
    ending: Ending<'_>,
    now: DateTime<Utc>,
) -> Result<(ShareRow, bool), ShareError> {
    use ShareState::*;
    let from = share.state;
    if from == to {
        return Ok((share.clone(), false));
    }
    let allowed = matches!(
        (from, to),
        (Open, Pending | Solved | HandedBack | Recalled)
            | (Pending, Open | Solved | HandedBack | Recalled)
            | (Solved, HandedBack | Recalled)
    );
    if !allowed {
        return Err(ShareError::InvalidTransition { from, to });
    }
    let row: ShareRow = diesel::update(shares::table.find(share.id))
        .set((
            shares::state.eq(to.as_str()),
            shares::handback_reason.eq(ending.reason),
            shares::recall_cause.eq(ending.recall_cause.map(|c| c.as_str())),
            shares::keep_in_house.eq(ending.keep_in_house),
            shares::escalate_to.eq(ending.escalate_to),
            shares::updated_at.eq(to_db(now)),
        ))
        .returning(shares::all_columns)
        .get_result(conn)?;
    if from.holds_capacity() && !to.holds_capacity() {
        capacity::release(conn, &share.contract_id, share.capacity_stripe.unwrap_or(0))?;
    }
    // The ticket's stored routing may no longer hold: its next push routes it again.
    diesel::update(tickets::table.find(share.ticket_id))
        .set(tickets::fingerprint.eq(None::<String>))
        .execute(conn)?;
    Ok((row, true))
}
