//! The backlog drain: tickets waiting in-house are routed again while some contract can take
//! more — overflow switched on, a peak window open, the queue over its threshold, places freed
//! by solved, handed-back or recalled shares, a new contract version — highest priority first,
//! then oldest. Each ticket is routed in its own transaction with its row locked (`SKIP
//! LOCKED` on PostgreSQL), so replicas draining at once never route one ticket twice at the
//! same moment, and the contracts' caps (`max_open`, `max_new_per_hour`, `share_percent`) hold
//! as they do for a push: the drain routes exactly as a push does.

use chrono::{DateTime, Utc};

use crate::contracts::ContractSet;
use crate::db::{AnyConnection, LockWait};
use crate::model::{Priority, RoutingOutcome};
use crate::redaction::VaultKeys;
use crate::routing;
use crate::service::sharing::{live_states, route};
use crate::tickets::{TicketError, store};

/// The actor the ledger names for what the drain shares.
pub const DRAIN_ACTOR: &str = "system:drain";

/// Whether each contract could take a ticket now (in force, a trigger on or named as an L2
/// by another contract, room left), in rank order: when none can, the backlog is not read at
/// all.
pub fn room(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    now: DateTime<Utc>,
) -> Result<Vec<(String, bool)>, TicketError> {
    let live = live_states(conn, contracts, &[], now)?;
    let escalation_targets: Vec<&str> = contracts
        .in_rank_order()
        .filter_map(|f| f.contract.overflow.escalates_to.as_deref())
        .collect();
    Ok(contracts
        .in_rank_order()
        .map(|f| {
            let state = live.get(&f.contract.id).copied().unwrap_or_default();
            let id = f.contract.id.clone();
            let free = f.contract.in_force(now).is_ok()
                && (routing::can_take_more(&f.contract, state, now)
                    || (escalation_targets.contains(&id.as_str())
                        && routing::can_take_escalation(&f.contract, state)));
            (id, free)
        })
        .collect())
}

/// The tickets waiting in-house, in drain order: priority (urgent first), then age.
pub fn backlog(conn: &mut AnyConnection) -> Result<Vec<i64>, TicketError> {
    let mut waiting: Vec<(i64, Priority)> = store::drainable(conn)?
        .into_iter()
        .filter_map(|(id, priority)| priority.parse().ok().map(|p| (id, p)))
        .collect();
    // Priority is declared low to urgent; ids grow with age.
    waiting.sort_by_key(|(id, priority)| (std::cmp::Reverse(*priority), *id));
    Ok(waiting.into_iter().map(|(id, _)| id).collect())
}

/// Routes ticket `id` if it is still waiting and no other drain holds it; the outcome, or
/// `None` when it was skipped.
pub fn route_waiting(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<RoutingOutcome>, TicketError> {
    if crate::db::lock_tickets(conn, &[id], LockWait::SkipLocked)?.is_empty() {
        return Ok(None);
    }
    // Re-read under the lock: a push or another drain may have placed it meanwhile.
    if !store::is_drainable(conn, id)? {
        return Ok(None);
    }
    let Some(row) = store::find(conn, id)? else {
        return Ok(None);
    };
    Ok(Some(
        route(conn, contracts, keys, &row, DRAIN_ACTOR, now)?.outcome,
    ))
}
