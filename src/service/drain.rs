//! The backlog drain: tickets waiting in-house are routed again while some contract can take
//! more — overflow switched on, a peak window open, the queue over its threshold, places freed
//! by solved, handed-back or recalled shares, a new contract version — highest priority first,
//! then oldest. Each ticket is routed in its own transaction with its row locked (`SKIP
//! LOCKED` on PostgreSQL), so replicas draining at once never route one ticket twice at the
//! same moment, and the contracts' caps (`max_open`, `max_new_per_hour`, `share_percent`) hold
//! as they do for a push: the drain routes exactly as a push does.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::contracts::ContractSet;
use crate::db::{AnyConnection, LockWait};
use crate::ledger::{self, Action, NewEntry};
use crate::model::{Channel, Priority, RoutingOutcome};
use crate::redaction::VaultKeys;
use crate::routing;
use crate::service::sharing::{RoutingDecision, live_states, route};
use crate::sla;
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
            let free = routing::can_take_more(&f.contract, state, now)
                || (escalation_targets.contains(&id.as_str())
                    && routing::can_take_escalation(&f.contract, state, now));
            (id, free)
        })
        .collect())
}

/// The tickets waiting in-house, in drain order: priority (urgent first), then SLA urgency,
/// then age. A ticket's urgency is when its first response falls due under the shortest
/// first-response target any contract in `contracts` sets for its priority and channel,
/// counted from when the gateway received it: a chat waiting a minute on a 2-minute target
/// goes before an e-mail waiting an hour on a 2-hour one. Tickets no contract sets a target
/// for come after, oldest first.
pub fn backlog(conn: &mut AnyConnection, contracts: &ContractSet) -> Result<Vec<i64>, TicketError> {
    let mut waiting: Vec<(Priority, Option<DateTime<Utc>>, i64)> = store::drainable(conn)?
        .into_iter()
        .filter_map(|t| {
            let priority: Priority = t.priority.parse().ok()?;
            let channel: Channel = t.channel.parse().ok()?;
            let shortest = contracts
                .in_rank_order()
                .filter_map(|f| sla::target_for(&f.contract.sla, priority, channel))
                .map(|target| target.first_response)
                .min();
            let due = shortest.map(|target| crate::clock::from_db(t.created_at) + target);
            Some((priority, due, t.id))
        })
        .collect();
    // Priority is declared low to urgent; `None` (no target) sorts after every due time;
    // ids grow with age.
    waiting.sort_by_key(|(priority, due, id)| {
        (std::cmp::Reverse(*priority), due.is_none(), *due, *id)
    });
    Ok(waiting.into_iter().map(|(_, _, id)| id).collect())
}

/// Routes ticket `id` if it is still waiting and no other drain holds it; the decision, or
/// `None` when it was skipped.
pub fn route_waiting(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<RoutingDecision>, TicketError> {
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
    let decision = route(conn, contracts, keys, &row, DRAIN_ACTOR, now)?;
    // A share is audited as it is made; a ticket the drain keeps is a decision too.
    if decision.outcome != RoutingOutcome::Shared {
        ledger::append(
            conn,
            now,
            NewEntry {
                actor: DRAIN_ACTOR,
                action: Action::TicketKept,
                contract_id: None,
                ticket_id: Some(id),
                details: json!({ "reason": decision.reason, "considered": decision.considered }),
            },
        )?;
    }
    Ok(Some(decision))
}

/// What the next drain pass would do (`GET /api/v1/routing/backlog`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DrainPreview {
    /// Tickets waiting in-house that the drain may route.
    pub waiting: usize,
    /// Whether each contract could take a ticket now, in rank order.
    pub contracts: Vec<ContractRoom>,
    /// The tickets the next pass would route, in drain order, up to the limit asked, with the
    /// decision each would get; it ends where the pass would stop (no contract with room).
    pub next_drain: Vec<DrainStep>,
}

/// Whether a contract could take a ticket now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContractRoom {
    /// The contract.
    pub contract: String,
    /// In force, a trigger on (or named as an L2), and room left.
    pub can_take_more: bool,
}

/// One ticket of the next pass.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DrainStep {
    /// The ticket.
    pub ticket: crate::ids::TicketId,
    /// `would be shared by the next drain` or `would stay in-house`.
    pub verdict: String,
    /// The decision routing would store on it.
    pub decision: RoutingDecision,
}

/// What the next pass would do, computed on the real path: run it inside
/// [`crate::db::Db::dry_run`], so that nothing it shares or audits is kept.
pub fn preview(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<DrainPreview, TicketError> {
    let room_now = room(conn, contracts, now)?;
    let order = backlog(conn, contracts)?;
    let mut preview = DrainPreview {
        waiting: order.len(),
        contracts: room_now
            .iter()
            .map(|(contract, free)| ContractRoom {
                contract: contract.clone(),
                can_take_more: *free,
            })
            .collect(),
        next_drain: Vec::new(),
    };
    if !any_room(&room_now) {
        return Ok(preview);
    }
    for id in order.into_iter().take(limit) {
        let Some(decision) = route_waiting(conn, contracts, keys, id, now)? else {
            continue;
        };
        let shared = decision.outcome == RoutingOutcome::Shared;
        let verdict = if shared {
            "would be shared by the next drain"
        } else {
            "would stay in-house"
        };
        preview.next_drain.push(DrainStep {
            ticket: id.into(),
            verdict: verdict.into(),
            decision,
        });
        if shared && !any_room(&room(conn, contracts, now)?) {
            break;
        }
    }
    Ok(preview)
}

/// Whether some contract in `room` can take more.
pub fn any_room(room: &[(String, bool)]) -> bool {
    room.iter().any(|(_, free)| *free)
}
