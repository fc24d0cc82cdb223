//! Recall: a ticket taken back from its contractor, by an operator, an SLA breach or a
//! contract that left force, and the contract files applied with that consequence.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::contracts::ContractSet;
use crate::db::AnyConnection;
use crate::ids::TicketId;
use crate::ledger::{self, Action, NewEntry};
use crate::model::EventType;
use crate::outbox::{self, NewEvent};
use crate::service::timekeeping;
use crate::shares;
use crate::tickets::store;
use crate::tickets::{TicketError, checked_reason};

pub use crate::model::RecallCause;

/// A ticket taken back from its contractor.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recalled {
    /// The ticket.
    pub id: TicketId,
    /// Its share, now `recalled`.
    pub share: shares::ShareSummary,
}

/// Takes a ticket back from its contractor: the share becomes `recalled`, the contractor loses
/// access at once (its next request answers 404), its place is freed, and the ticket will not
/// be routed back to it.
pub fn recall(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    id: TicketId,
    actor: &str,
    reason: &str,
    cause: RecallCause,
    now: DateTime<Utc>,
) -> Result<Recalled, TicketError> {
    let id = id.get();
    let reason = checked_reason(reason)?;
    store::lock(conn, id)?.ok_or(TicketError::NotFound)?;
    let share = shares::latest_for_ticket(conn, id)?
        .filter(|s| s.state.is_visible_to_contractor())
        .ok_or_else(|| TicketError::Conflict("the ticket is not with a contractor".into()))?;
    let updated = take_back(conn, contracts, &share, actor, reason, cause, now)?;
    let clocks = shares::clocks::of_share(conn, updated.id)?;
    Ok(Recalled {
        id: id.into(),
        share: updated.summary(&clocks),
    })
}

/// Recalls `share` (visible to its contractor): state, clocks, ledger entry and events.
pub(crate) fn take_back(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    share: &shares::ShareRow,
    actor: &str,
    reason: &str,
    cause: RecallCause,
    now: DateTime<Utc>,
) -> Result<shares::ShareRow, TicketError> {
    let id = share.ticket_id;
    // Held already when an operator recalls; a job recalling many shares takes each ticket
    // before touching its share, as every workflow does.
    crate::db::lock_tickets(conn, &[id], crate::db::LockWait::Block)?;
    let (updated, _) = shares::transition(
        conn,
        share,
        crate::model::ShareState::Recalled,
        shares::Ending {
            reason: Some(reason),
            recall_cause: Some(cause),
            // An operator takes a ticket back to work it in-house.
            keep_in_house: cause == RecallCause::Operator,
            escalate_to: None,
        },
        now,
    )?;
    timekeeping::sync(conn, contracts, &updated, now)?;
    ledger::append(
        conn,
        now,
        NewEntry {
            actor,
            action: Action::ShareRecall,
            contract_id: Some(&share.contract_id),
            ticket_id: Some(id),
            details: json!({
                "share_id": share.id,
                "from": share.state,
                "cause": cause,
                "reason_characters": reason.chars().count(),
            }),
        },
    )?;
    outbox::enqueue(
        conn,
        now,
        vec![
            NewEvent::contractor(
                &share.contract_id,
                id,
                EventType::ShareRecalled,
                json!({ "share_id": share.id, "reason_code": cause }),
            ),
            NewEvent::inhouse(
                id,
                EventType::ShareRecalled,
                json!({ "share_id": share.id, "by": actor, "reason": reason, "reason_code": cause }),
            ),
        ],
    )?;
    Ok(updated)
}

/// Applies the contract files of `set` (new versions, withdrawals of files that are gone) and
/// recalls the shares of every contract that is now out of force, in the caller's transaction.
/// Returns what was applied and how many shares were recalled. An empty `set` while contracts
/// are in force is refused unless `allow_empty`: a wrong folder would otherwise take every
/// ticket back from every contractor, and a recalled ticket never returns to its contractor.
pub fn apply_contracts(
    conn: &mut AnyConnection,
    set: &ContractSet,
    actor: &str,
    allow_empty: bool,
    now: DateTime<Utc>,
) -> Result<(Vec<crate::contracts::Applied>, usize), TicketError> {
    let files: Vec<_> = set.in_rank_order().cloned().collect();
    if files.is_empty() && !allow_empty {
        let in_force = crate::contracts::in_force_count(conn)?;
        if in_force > 0 {
            return Err(TicketError::Conflict(format!(
                "the contracts folder holds no contract, but {in_force} are in force: refusing to \
                 withdraw them all (check the folder; `msp-bridge contracts apply --allow-empty` \
                 withdraws them on purpose)"
            )));
        }
    }
    let applied = crate::contracts::apply(conn, &files, actor, now)?;
    let recalled = recall_out_of_force(conn, set, now)?;
    Ok((applied, recalled))
}

/// Who recalls the shares of contracts that left force.
pub const CONTRACTS_ACTOR: &str = "system:contracts";

/// Recalls every share still with a contractor whose contract left force: withdrawn (its
/// file removed), or outside its validity dates at `now` in its timezone. A contract that
/// leaves force grants nothing from that moment; this takes its tickets back so they can be
/// worked in-house (or routed again), and tells both sides. Returns how many were recalled.
pub fn recall_out_of_force(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    now: DateTime<Utc>,
) -> Result<usize, TicketError> {
    let lapsed = lapsed_contracts(conn, contracts, now)?;
    if lapsed.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&str> = lapsed.iter().map(|(id, _, _)| id.as_str()).collect();
    let open = shares::visible_of_contracts(conn, &ids)?;
    for share in &open {
        if let Some((_, cause, why)) = lapsed.iter().find(|(id, _, _)| *id == share.contract_id) {
            take_back(conn, contracts, share, CONTRACTS_ACTOR, why, *cause, now)?;
        }
    }
    for (id, cause, _) in &lapsed {
        let recalled: Vec<i64> = open
            .iter()
            .filter(|s| s.contract_id == *id)
            .map(|s| s.ticket_id)
            .collect();
        end_contract(conn, id, *cause, &recalled, now)?;
    }
    Ok(open.len())
}

/// Carries out a contract's end once (the first call after it left force; a new version of
/// the contract starts it afresh): the contractor is told to delete every copy it holds
/// (`contract.ended`, with the tickets just taken back), retention applies at once — every
/// token value of the contract is erased, so no token it was given can be turned back into a
/// value again, and its delivered events are deleted — and the ledger says so.
fn end_contract(
    conn: &mut AnyConnection,
    contract_id: &str,
    cause: RecallCause,
    recalled: &[i64],
    now: DateTime<Utc>,
) -> Result<(), TicketError> {
    use crate::db::schema::contracts;
    use diesel::prelude::*;
    let first = diesel::update(
        contracts::table
            .find(contract_id)
            .filter(contracts::ended_at.is_null()),
    )
    .set(contracts::ended_at.eq(Some(crate::clock::to_db(now))))
    .execute(conn)?
        == 1;
    if !first {
        return Ok(());
    }
    let purged = crate::service::retention::purge_contract(conn, contract_id, 0, now)?;
    outbox::enqueue(
        conn,
        now,
        vec![NewEvent {
            audience: outbox::Audience::Contractor(contract_id.to_owned()),
            ticket_id: None,
            event_type: EventType::ContractEnded,
            data: json!({
                "contract": contract_id,
                "reason_code": cause.as_str(),
                "tickets": recalled,
                "delete": "every copy of these tickets and of any other data received under this contract",
            }),
        }],
    )?;
    ledger::append(
        conn,
        now,
        NewEntry {
            actor: CONTRACTS_ACTOR,
            action: Action::ContractEnd,
            contract_id: Some(contract_id),
            ticket_id: None,
            details: json!({
                "reason_code": cause.as_str(),
                "tickets_recalled": recalled.len(),
                "tokens": purged.tokens,
                "events": purged.events,
            }),
        },
    )?;
    Ok(())
}

/// Whether any share is still with a contractor whose contract left force (a read, so that
/// an idle check never takes SQLite's writer).
pub fn any_out_of_force(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    now: DateTime<Utc>,
) -> Result<bool, TicketError> {
    let lapsed = lapsed_contracts(conn, contracts, now)?;
    if lapsed.is_empty() {
        return Ok(false);
    }
    let ids: Vec<&str> = lapsed.iter().map(|(id, _, _)| id.as_str()).collect();
    let not_ended: i64 = {
        use crate::db::schema::contracts;
        use diesel::prelude::*;
        contracts::table
            .filter(contracts::id.eq_any(&ids))
            .filter(contracts::ended_at.is_null())
            .count()
            .get_result(conn)?
    };
    Ok(not_ended > 0 || shares::any_visible_of_contracts(conn, &ids)?)
}

/// The contracts out of force at `now`, with the cause and the reason in words.
fn lapsed_contracts(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    now: DateTime<Utc>,
) -> Result<Vec<(String, RecallCause, String)>, TicketError> {
    let mut lapsed: Vec<(String, RecallCause, String)> = crate::contracts::withdrawn(conn)?
        .into_iter()
        .map(|id| {
            let why = format!("contract {id} was withdrawn (its file was removed)");
            (id, RecallCause::ContractWithdrawn, why)
        })
        .collect();
    for file in contracts.in_rank_order() {
        let c = &file.contract;
        if let Err(why) = c.in_force(now) {
            let why = format!("contract {} is no longer in force: {why}", c.id);
            lapsed.push((c.id.clone(), RecallCause::ContractNotInForce, why));
        }
    }
    Ok(lapsed)
}
