//! The contractor's work list: its tickets under contracts in force, with what a person needs
//! to pick the next one (priority, the next SLA due time and its state, last change), newest
//! first or by due time, filtered by state.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clock::from_db;
use crate::contracts::{ContractSet, FieldAction};
use crate::db::AnyConnection;
use crate::ids::TicketId;
use crate::model::{ClockKind, ClockState, Priority, ShareState};
use crate::service::contractor::ContractorActor;
use crate::shares::{self, ShareRow};
use crate::tickets::{TicketError, store};

/// The order of the list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListOrder {
    /// Newest share first, paged with `before`.
    #[default]
    Newest,
    /// The soonest SLA due time first (tickets without a running clock last); one page.
    Due,
}

/// What the contractor asks of its list.
#[derive(Debug, Clone, Copy)]
pub struct ListRequest {
    /// The last ticket id of the previous page (newest-first order only).
    pub before: Option<TicketId>,
    /// Page size.
    pub limit: i64,
    /// Only shares in this state (open, pending or solved).
    pub state: Option<ShareState>,
    /// The order.
    pub order: ListOrder,
}

/// The clock that falls due next on a share.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NextDue {
    /// Which clock.
    pub clock: ClockKind,
    /// When it falls due.
    pub due_at: DateTime<Utc>,
    /// Running, paused, or breached (past due and not stopped).
    pub state: ClockState,
}

/// One line of the contractor's ticket list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListedShare {
    /// Gateway ticket id.
    pub id: TicketId,
    /// Share state.
    pub state: ShareState,
    /// Contract.
    pub contract: String,
    /// The ticket's priority, when the contract lets `priority` leave as it is.
    pub priority: Option<Priority>,
    /// The clock that falls due next; null when none runs.
    pub next_due: Option<NextDue>,
    /// When shared.
    pub shared_at: DateTime<Utc>,
    /// Last change of the share.
    pub updated_at: DateTime<Utc>,
}

/// A page of the contractor's ticket list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListedShares {
    /// In the order asked for.
    pub items: Vec<ListedShare>,
    /// `before` for the next page; null on the last one, and in due-time order.
    pub next_before: Option<TicketId>,
}

/// The contractor's visible shares under contracts in force, as `request` asks. In due-time
/// order the whole list is sorted and its first `limit` returned: it is bounded by the
/// contracts' `max_open`, so that is one query, not a scan.
pub fn list(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    who: &ContractorActor,
    request: ListRequest,
    now: DateTime<Utc>,
) -> Result<ListedShares, TicketError> {
    if request.state.is_some_and(|s| !s.is_visible_to_contractor()) {
        return Err(TicketError::Invalid {
            field: "state".into(),
            message: "state: must be open, pending or solved".into(),
        });
    }
    if request.order == ListOrder::Due && request.before.is_some() {
        return Err(TicketError::Invalid {
            field: "before".into(),
            message: "before: pages the newest-first order only".into(),
        });
    }
    let before_share = match request.before {
        Some(ticket) => shares::visible_to(conn, &who.contractor, ticket.get())?.map(|s| s.id),
        None => None,
    };
    let in_force: Vec<&str> = contracts
        .in_rank_order()
        .filter(|f| f.contract.contractor == who.contractor && f.contract.in_force(now).is_ok())
        .map(|f| f.contract.id.as_str())
        .collect();
    let page = (request.order == ListOrder::Newest).then_some(request.limit);
    let rows = shares::list_visible(
        conn,
        &who.contractor,
        &in_force,
        request.state,
        before_share,
        page,
    )?;
    let mut items = lines(conn, contracts, rows)?;
    if request.order == ListOrder::Due {
        // Soonest first; shares without a running clock last, newest first among them.
        items.sort_by_key(|i| {
            (
                i.next_due.as_ref().map(|d| d.due_at).is_none(),
                i.next_due.as_ref().map(|d| d.due_at),
            )
        });
        items.truncate(usize::try_from(request.limit).unwrap_or(usize::MAX));
        return Ok(ListedShares {
            items,
            next_before: None,
        });
    }
    let full = i64::try_from(items.len()).is_ok_and(|n| n == request.limit);
    let next_before = full.then(|| items.last().map(|i| i.id)).flatten();
    Ok(ListedShares { items, next_before })
}

/// The list's lines for `rows`, with their tickets' priorities and running clocks looked up
/// once for all.
fn lines(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    rows: Vec<ShareRow>,
) -> Result<Vec<ListedShare>, TicketError> {
    let ticket_ids: Vec<i64> = rows.iter().map(|s| s.ticket_id).collect();
    let share_ids: Vec<i64> = rows.iter().map(|s| s.id).collect();
    let priorities: HashMap<i64, String> =
        store::priorities(conn, &ticket_ids)?.into_iter().collect();
    let mut next: HashMap<i64, NextDue> = HashMap::new();
    for clock in shares::clocks::running_of(conn, &share_ids)? {
        let view = clock.view();
        let due = NextDue {
            clock: view.kind,
            due_at: view.due_at,
            state: view.state,
        };
        let sooner = next
            .get(&clock.share_id)
            .is_none_or(|d| due.due_at < d.due_at);
        if sooner {
            next.insert(clock.share_id, due);
        }
    }
    rows.into_iter()
        .map(|s| {
            // A contract that hashes, masks or drops `priority` does not see it here either.
            let shown = contracts.get(&s.contract_id).is_some_and(|f| {
                matches!(
                    f.contract.confidentiality.action_for("priority"),
                    FieldAction::Pass | FieldAction::Raw
                )
            });
            let priority = match priorities.get(&s.ticket_id).filter(|_| shown) {
                Some(p) => Some(crate::tickets::parse_stored::<Priority>("priority", p)?),
                None => None,
            };
            Ok(ListedShare {
                id: s.ticket_id.into(),
                state: s.state,
                contract: s.contract_id,
                priority,
                next_due: next.remove(&s.id),
                shared_at: from_db(s.created_at),
                updated_at: from_db(s.updated_at),
            })
        })
        .collect()
}
