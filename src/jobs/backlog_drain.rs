//! The backlog drain job: every interval, while some contract can take more, the tickets
//! waiting in-house are routed again in drain order (see [`crate::service::drain`]), one
//! transaction each.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use chrono::{DateTime, Utc};

use crate::clock::SharedClock;
use crate::contracts::{ContractSet, Registry};
use crate::db::Db;
use crate::model::RoutingOutcome;
use crate::redaction::VaultKeys;
use crate::service::drain;
use crate::telemetry::Metrics;
use crate::tickets::TicketError;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Tickets shared.
    pub shared: usize,
    /// Tickets routed and kept in-house (no contract could take them).
    pub kept: usize,
    /// Tickets passed over: held by another drain or a push, placed meanwhile, or kept by an
    /// earlier pass while nothing has changed that could place them.
    pub skipped: usize,
}

/// What the drain needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct BacklogDrain {
    /// Storage.
    pub db: Db,
    /// Contracts in force.
    pub contracts: Registry,
    /// Vault keys, for the redaction a share makes.
    pub keys: VaultKeys,
    /// Time.
    pub clock: SharedClock,
    /// Passes run and tickets shared are counted here.
    pub metrics: Arc<Metrics>,
    /// The tickets an earlier pass kept, and under which contracts' state (versions, room,
    /// open calendars): while that state is the same they would be kept again, so a large
    /// backlog nobody can take is not routed over and over. (A change of the ticket itself is
    /// routed by its push.)
    pub kept: Arc<Mutex<(Vec<String>, HashSet<i64>)>>,
    /// Poked when a contract may take more (a place freed, the switch turned, the queue
    /// depth reported): a pass runs at once instead of at the next interval.
    pub wake: Arc<Notify>,
}

impl BacklogDrain {
    /// One pass: returns what it did. It counts in `bridge_drain_passes_total` once done.
    pub fn run_once(&self) -> Result<DrainReport, TicketError> {
        let report = self.pass();
        self.metrics.drain_passes.inc();
        report
    }

    fn pass(&self) -> Result<DrainReport, TicketError> {
        let now = self.clock.now();
        let contracts = self.contracts.current();
        let mut report = DrainReport::default();
        let mut room = self.db.read(|c| drain::room(c, &contracts, now))?;
        if !drain::any_room(&room) {
            return Ok(report);
        }
        let state = signature(&contracts, &room, now);
        let already_kept = {
            let mut kept = self
                .kept
                .lock()
                .map_err(|_| TicketError::Corrupt("backlog drain state".into()))?;
            if kept.0 != state {
                *kept = (state.clone(), HashSet::new());
            }
            kept.1.clone()
        };
        let backlog = self.db.read(|c| drain::backlog(c, &contracts))?;
        let mut newly_kept = Vec::new();
        for id in backlog {
            if already_kept.contains(&id) {
                report.skipped += 1;
                continue;
            }
            let routed = self
                .db
                .write(|c| drain::route_waiting(c, &contracts, &self.keys, id, now))?;
            match routed {
                Some(decision) if decision.outcome == RoutingOutcome::Shared => {
                    report.shared += 1;
                    let contract = decision.contract.unwrap_or_default();
                    let labels = crate::telemetry::ContractLabels { contract };
                    self.metrics.tickets_shared.get_or_create(&labels).inc();
                    // A share takes a place: once no contract has one, the rest waits.
                    room = self.db.read(|c| drain::room(c, &contracts, now))?;
                    if !drain::any_room(&room) {
                        break;
                    }
                }
                Some(_) => {
                    report.kept += 1;
                    newly_kept.push(id);
                }
                None => report.skipped += 1,
            }
        }
        if let Ok(mut kept) = self.kept.lock() {
            kept.1.extend(newly_kept);
        }
        if report.shared > 0 {
            tracing::info!(
                shared = report.shared,
                kept = report.kept,
                "backlog drained"
            );
        }
        Ok(report)
    }

    /// Drains every `poll`, and whenever woken, until the task is dropped.
    pub async fn run(self, poll: Duration) {
        let wake = self.wake.clone();
        super::every(poll, Some(&wake), "backlog drain", move || self.run_once()).await;
    }
}

/// What decides whether a ticket kept before could be placed now: the contracts (and their
/// versions), whether each can take more, and whether each calendar is open.
fn signature(contracts: &ContractSet, room: &[(String, bool)], now: DateTime<Utc>) -> Vec<String> {
    contracts
        .in_rank_order()
        .map(|f| {
            let open =
                crate::sla::next_opening(&f.contract.sla.calendar, now).is_some_and(|at| at <= now);
            let free = room.iter().any(|(id, free)| *id == f.contract.id && *free);
            format!("{}:{}:{open}:{free}", f.contract.id, f.sha256)
        })
        .collect()
}
