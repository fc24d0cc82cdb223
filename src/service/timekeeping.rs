//! SLA clocks kept in step with what happens to a share, and the sweep that turns due clocks
//! into warnings, breaches and the contract's breach actions.
//!
//! Clock rules: a share starts its first-response and resolution clocks; a public contractor
//! reply stops the first-response and next-response clocks; a public in-house comment on a
//! shared ticket is the customer writing: it reopens a share waiting for the customer (or one
//! already solved, counted as reopened) and starts a next-response clock; the `pause_on` statuses (of the ticket, or `pending` set by the
//! contractor) stop every clock and shift its due time by the business time paused; `solved`
//! stops all clocks; hand-back and recall cancel them.

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::clock::from_db;
use crate::contracts::{BreachAction, Calendar, ContractFile, ContractSet};
use crate::ledger::{self, Action, NewEntry};
use crate::model::{Channel, ClockKind, EventType, Priority, ShareState, TicketStatus};
use crate::outbox::{self, Audience, NewEvent};
use crate::shares::clocks::{self, ClockRow, LateStop, Mark};
use crate::shares::{self, ShareRow};
use crate::sla;
use crate::tickets::{TicketError, parse_stored, store};

/// The actor the ledger names for what the clocks do on their own.
pub const SLA_ACTOR: &str = "system:sla";

fn calendar(file: Option<&ContractFile>) -> Cow<'_, Calendar> {
    match file {
        Some(f) => Cow::Borrowed(&f.contract.sla.calendar),
        None => Cow::Owned(Calendar::around_the_clock()),
    }
}

/// Starts the first-response and resolution clocks of a share just made.
pub(crate) fn start_share_clocks(
    conn: &mut crate::db::AnyConnection,
    file: &ContractFile,
    share: &ShareRow,
    priority: Priority,
    channel: Channel,
    now: DateTime<Utc>,
) -> Result<(), TicketError> {
    let sla = &file.contract.sla;
    let Some(target) = sla::target_for(sla, priority, channel) else {
        return Ok(());
    };
    let plans: Vec<_> = [ClockKind::FirstResponse, ClockKind::Resolution]
        .into_iter()
        .filter_map(|kind| sla::plan(sla, target, kind, now).map(|plan| (kind, plan)))
        .collect();
    clocks::start(conn, share, &plans, now)?;
    Ok(())
}

/// Moves the share's running clocks to the targets of the ticket's priority and channel as
/// they are now (a push changed them): each keeps the business time it has run, and falls
/// due when that reaches the new target. Each move is recorded (`sla.retarget`) and both
/// sides are told (`sla.retargeted`, with the new due time). Returns how many moved.
pub(crate) fn retarget(
    conn: &mut crate::db::AnyConnection,
    contracts: &ContractSet,
    share: &ShareRow,
    priority: Priority,
    channel: Channel,
    now: DateTime<Utc>,
) -> Result<usize, TicketError> {
    let Some(file) = contracts.get(&share.contract_id) else {
        return Ok(0);
    };
    let sla = &file.contract.sla;
    let Some(target) = sla::target_for(sla, priority, channel) else {
        return Ok(0);
    };
    let mut moved = Vec::new();
    for clock in clocks::running(conn, share.id)? {
        let old = chrono::Duration::seconds(clock.target_secs);
        let Some(new) = sla::span(target, clock.kind).filter(|new| *new != old) else {
            continue;
        };
        // A paused clock has run until its pause began.
        let at = clock.paused_at.map_or(now, from_db);
        let Some(plan) = sla::retargeted(sla, old, from_db(clock.due_at), new, at) else {
            continue;
        };
        moved.push((clocks::set_plan(conn, &clock, &plan)?, old.num_seconds()));
    }
    let entries = moved
        .iter()
        .map(|(clock, from)| {
            let details = json!({
                "from_seconds": from,
                "target_seconds": clock.target_secs,
                "priority": priority,
                "channel": channel,
            });
            clock_entry(clock, Action::SlaRetarget, details)
        })
        .collect();
    ledger::append_all(conn, now, entries)?;
    let events = moved
        .iter()
        .flat_map(|(clock, _)| clock_events(clock, EventType::SlaRetargeted))
        .collect();
    outbox::enqueue(conn, now, events)?;
    Ok(moved.len())
}

/// Brings the share's clocks in step with its state and its ticket's status: paused or running
/// as `pause_on` says, stopped when solved, cancelled when the share ended.
pub(crate) fn sync(
    conn: &mut crate::db::AnyConnection,
    contracts: &ContractSet,
    share: &ShareRow,
    now: DateTime<Utc>,
) -> Result<(), TicketError> {
    let file = contracts.get(&share.contract_id);
    match share.state {
        ShareState::Solved => {
            let late = clocks::stop(conn, &calendar(file), share.id, ClockKind::ALL, now)?;
            record_late(conn, &late, now)?;
        }
        ShareState::HandedBack | ShareState::Recalled => {
            let late = clocks::cancel(conn, share.id, now)?;
            record_late(conn, &late, now)?;
        }
        state @ (ShareState::Open | ShareState::Pending) => {
            // Without its contract (file removed) the clocks keep running as they are.
            let Some(file) = file else {
                return Ok(());
            };
            let ticket = store::find(conn, share.ticket_id)?.ok_or(TicketError::NotFound)?;
            let status: TicketStatus = parse_stored("ticket status", &ticket.status)?;
            let pause_on = &file.contract.sla.pause_on;
            let paused = pause_on.contains(&status)
                || (state == ShareState::Pending && pause_on.contains(&TicketStatus::Pending));
            if paused {
                clocks::pause(conn, share.id, now)?;
            } else {
                clocks::resume(conn, &file.contract.sla.calendar, share.id, now)?;
            }
        }
    }
    Ok(())
}

/// A public contractor reply: the first one is recorded on the share, and the first-response
/// and next-response clocks stop.
pub(crate) fn contractor_replied(
    conn: &mut crate::db::AnyConnection,
    contracts: &ContractSet,
    share: &ShareRow,
    now: DateTime<Utc>,
) -> Result<(), TicketError> {
    shares::record_first_response(conn, share.id, now)?;
    let cal = calendar(contracts.get(&share.contract_id));
    let kinds = [ClockKind::FirstResponse, ClockKind::NextResponse];
    let late = clocks::stop(conn, &cal, share.id, &kinds, now)?;
    record_late(conn, &late, now)
}

/// The customer wrote on a ticket a contractor holds: a share waiting for the customer is open
/// again, and once the first response was given a next-response clock starts (unless one runs).
pub(crate) fn customer_wrote(
    conn: &mut crate::db::AnyConnection,
    contracts: &ContractSet,
    ticket_id: i64,
    now: DateTime<Utc>,
) -> Result<(), TicketError> {
    let Some(mut share) = shares::latest_for_ticket(conn, ticket_id)? else {
        return Ok(());
    };
    let state = share.state;
    if state == ShareState::Solved {
        // The customer wrote again on a solved ticket: it goes back to the contractor that
        // solved it, and its first contact did not resolve it.
        share = shares::reopen(conn, &share, now)?;
        ledger::append(
            conn,
            now,
            NewEntry {
                actor: SLA_ACTOR,
                action: Action::ShareReopen,
                contract_id: Some(&share.contract_id),
                ticket_id: Some(ticket_id),
                details: json!({ "share_id": share.id, "reopened": share.reopened_count, "because": "customer_wrote" }),
            },
        )?;
    } else if !state.holds_capacity() {
        return Ok(());
    }
    if state == ShareState::Pending {
        let (reopened, _) =
            shares::transition(conn, &share, ShareState::Open, Default::default(), now)?;
        ledger::append(
            conn,
            now,
            NewEntry {
                actor: SLA_ACTOR,
                action: Action::ShareStatus,
                contract_id: Some(&share.contract_id),
                ticket_id: Some(ticket_id),
                details: json!({ "share_id": share.id, "from": "pending", "to": "open", "because": "customer_wrote" }),
            },
        )?;
        share = reopened;
    }
    let waiting_for_reply = clocks::running(conn, share.id)?
        .iter()
        .any(|c| matches!(c.kind, ClockKind::FirstResponse | ClockKind::NextResponse));
    if let Some(file) = contracts.get(&share.contract_id)
        && share.first_response_at.is_some()
        && !waiting_for_reply
    {
        let ticket = store::find(conn, ticket_id)?.ok_or(TicketError::NotFound)?;
        let priority: Priority = parse_stored("priority", &ticket.priority)?;
        let channel: Channel = parse_stored("channel", &ticket.channel)?;
        let sla = &file.contract.sla;
        if let Some(plan) = sla::target_for(sla, priority, channel)
            .and_then(|t| sla::plan(sla, t, ClockKind::NextResponse, now))
        {
            clocks::start(conn, &share, &[(ClockKind::NextResponse, plan)], now)?;
        }
    }
    sync(conn, contracts, &share, now)
}

/// Breaches found when a clock was stopped late, before the sweeper saw them: recorded here so
/// that every breach is in the ledger once.
fn record_late(
    conn: &mut crate::db::AnyConnection,
    late: &[LateStop],
    now: DateTime<Utc>,
) -> Result<(), TicketError> {
    let entries = late
        .iter()
        .map(|stop| {
            let details = json!({
                "elapsed_seconds": stop.elapsed_secs,
                "noticed": "at_stop",
                "actions": [],
            });
            clock_entry(&stop.clock, Action::SlaBreach, details)
        })
        .collect();
    ledger::append_all(conn, now, entries)?;
    let events = late
        .iter()
        .flat_map(|stop| clock_events(&stop.clock, EventType::SlaBreach))
        .collect();
    outbox::enqueue(conn, now, events)?;
    Ok(())
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Clocks claimed.
    pub claimed: usize,
    /// Warnings recorded, by contract.
    pub warnings: Vec<String>,
    /// Breaches recorded, by contract.
    pub breaches: Vec<String>,
    /// Tickets flagged to the in-house side.
    pub escalated: usize,
    /// Tickets taken back.
    pub recalled: usize,
}

/// Claims up to `limit` due clocks and records their warnings and breaches, applying each
/// breached contract's `on_breach` actions. Run it in a write transaction; each warning and
/// breach is recorded exactly once, also with several sweepers at once.
pub fn sweep(
    conn: &mut crate::db::AnyConnection,
    contracts: &ContractSet,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<SweepReport, TicketError> {
    let claimed = clocks::claim_due(conn, now, limit)?;
    let mut report = SweepReport {
        claimed: claimed.len(),
        ..SweepReport::default()
    };
    let warn_due: Vec<i64> = claimed
        .iter()
        .filter(|c| c.warned_at.is_none() && from_db(c.warn_at) <= now)
        .map(|c| c.id)
        .collect();
    let warned: HashSet<i64> = clocks::mark(conn, &warn_due, Mark::Warned, now)?
        .into_iter()
        .collect();
    let breach_due: Vec<i64> = claimed
        .iter()
        .filter(|c| c.breached_at.is_none() && from_db(c.due_at) < now)
        .map(|c| c.id)
        .collect();
    let breached: HashSet<i64> = clocks::mark(conn, &breach_due, Mark::Breached, now)?
        .into_iter()
        .collect();
    let on_breach = |clock: &ClockRow| {
        contracts
            .get(&clock.contract_id)
            .map(|f| f.contract.sla.on_breach.clone())
            .unwrap_or_default()
    };
    // Every warning, then every breach, in one append: the ledger costs three statements per
    // batch rather than three per clock.
    let mut entries = Vec::with_capacity(warned.len() + breached.len());
    let mut events = Vec::with_capacity(2 * entries.capacity());
    for clock in claimed.iter().filter(|c| warned.contains(&c.id)) {
        entries.push(clock_entry(clock, Action::SlaWarning, json!({})));
        events.extend(clock_events(clock, EventType::SlaWarning));
        report.warnings.push(clock.contract_id.clone());
    }
    for clock in claimed.iter().filter(|c| breached.contains(&c.id)) {
        let details = json!({ "noticed": "sweep", "actions": on_breach(clock) });
        entries.push(clock_entry(clock, Action::SlaBreach, details));
        events.extend(clock_events(clock, EventType::SlaBreach));
        report.breaches.push(clock.contract_id.clone());
    }
    ledger::append_all(conn, now, entries)?;
    outbox::enqueue(conn, now, events)?;
    for clock in claimed.iter().filter(|c| breached.contains(&c.id)) {
        for action in on_breach(clock) {
            apply_breach_action(conn, contracts, clock, action, &mut report, now)?;
        }
    }
    Ok(report)
}

/// The events telling both sides about one clock: ids and times only.
fn clock_events(clock: &ClockRow, event_type: EventType) -> [NewEvent; 2] {
    let data = json!({
        "share_id": clock.share_id,
        "clock": clock.kind,
        "due_at": from_db(clock.due_at),
    });
    [
        Audience::Inhouse,
        Audience::Contractor(clock.contract_id.clone()),
    ]
    .map(|audience| NewEvent {
        audience,
        ticket_id: Some(clock.ticket_id),
        event_type,
        data: data.clone(),
    })
}

/// A ledger entry about one clock, with its identity and due time in the details.
fn clock_entry<'a>(clock: &'a ClockRow, action: Action, extra: serde_json::Value) -> NewEntry<'a> {
    let mut details = json!({
        "share_id": clock.share_id,
        "clock_id": clock.id,
        "clock": clock.kind,
        "due_at": from_db(clock.due_at),
    });
    if let (Some(into), serde_json::Value::Object(more)) = (details.as_object_mut(), extra) {
        into.extend(more);
    }
    NewEntry {
        actor: SLA_ACTOR,
        action,
        contract_id: Some(&clock.contract_id),
        ticket_id: Some(clock.ticket_id),
        details,
    }
}

fn apply_breach_action(
    conn: &mut crate::db::AnyConnection,
    contracts: &ContractSet,
    clock: &ClockRow,
    action: BreachAction,
    report: &mut SweepReport,
    now: DateTime<Utc>,
) -> Result<(), TicketError> {
    let what = format!(
        "SLA breached: {} was due at {}",
        clock.kind.as_str().replace('_', " "),
        from_db(clock.due_at).to_rfc3339()
    );
    match action {
        // The breach entry is the notification; issue 5's outbox carries it to both sides.
        BreachAction::Notify => {}
        BreachAction::Escalate => {
            if store::escalate(conn, clock.ticket_id, &what, now)? {
                ledger::append(
                    conn,
                    now,
                    clock_entry(clock, Action::SlaEscalate, json!({})),
                )?;
                let [inhouse, _] = clock_events(clock, EventType::SlaEscalated);
                outbox::enqueue(conn, now, vec![inhouse])?;
                report.escalated += 1;
            }
        }
        BreachAction::Recall => {
            let still_there = shares::latest_for_ticket(conn, clock.ticket_id)?
                .filter(|s| s.id == clock.share_id)
                .is_some_and(|s| s.state.is_visible_to_contractor());
            if still_there {
                super::recall::recall(
                    conn,
                    contracts,
                    clock.ticket_id.into(),
                    SLA_ACTOR,
                    &what,
                    super::recall::RecallCause::SlaBreach,
                    now,
                )?;
                report.recalled += 1;
            }
        }
    }
    Ok(())
}
