//! The connector poll: for each helpdesk connection, every `poll_ms`, the changes after the
//! stored cursor are read, the tickets they touch are fetched whole and ingested as
//! `POST /api/v1/tickets` would, and the cursor moves in that same transaction. A round that
//! fails moves nothing and is tried again after a growing pause (up to
//! [`MAX_BACKOFF`]); its reason is kept for `/readyz` and the metrics.
//!
//! Exactly once: the cursor's move is a compare-and-set inside the ingest's transaction, so
//! when two replicas read the same changes only the first to commit takes them (the other
//! rolls back and reads on from the new cursor), and a crash before the commit leaves the
//! cursor where it was, for the next round to read the same changes again. Ingest itself is
//! idempotent (a ticket by its helpdesk id, a comment by its transaction id), so a ticket read
//! twice by overlapping rounds is stored once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::adapters::{Helpdesk, rt::RequestTracker};
use crate::clock::SharedClock;
use crate::connectors::rt::{PAGE, RtClient};
use crate::connectors::{ConnectorError, cursor};
use crate::contracts::Registry;
use crate::db::Db;
use crate::model::RoutingOutcome;
use crate::redaction::VaultKeys;
use crate::telemetry::{ConnectorLabels, Metrics};
use crate::tickets::NewTicket;

/// The longest pause after failed rounds.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Changes (helpdesk transactions) read.
    pub changes: usize,
    /// Tickets ingested.
    pub ingested: usize,
    /// Tickets that could not be mapped (their helpdesk ids; the reason is logged).
    pub rejected: Vec<String>,
    /// True when more changes were waiting than one round reads.
    pub more: bool,
}

/// One connection's poller; cheap to clone.
#[derive(Clone, Debug)]
pub struct ConnectorPoller {
    /// Storage.
    pub db: Db,
    /// Contracts in force.
    pub contracts: Registry,
    /// Vault keys, for the redaction a share makes.
    pub keys: VaultKeys,
    /// Time.
    pub clock: SharedClock,
    /// Rounds, changes and failures are counted here.
    pub metrics: Arc<Metrics>,
    /// The helpdesk.
    pub client: Arc<RtClient>,
    /// Poked when a shared ticket changed (its clocks may move).
    pub sla_wake: Arc<Notify>,
    /// Poked when events were written.
    pub outbox_wake: Arc<Notify>,
}

impl ConnectorPoller {
    fn id(&self) -> &str {
        &self.client.connector().id
    }

    /// One round: reads up to a page of changes and ingests their tickets. A failure is
    /// noted on the connection (`/readyz`, metrics) and returned.
    pub async fn poll_once(&self) -> Result<PollReport, ConnectorError> {
        let labels = ConnectorLabels {
            connector: self.id().to_owned(),
        };
        let result = self.round().await;
        let now = self.clock.now();
        let id = self.id().to_owned();
        match &result {
            Ok(report) => {
                self.metrics.connector_rounds.get_or_create(&labels).inc();
                self.metrics
                    .connector_changes
                    .get_or_create(&labels)
                    .inc_by(report.changes as u64);
                self.metrics
                    .connector_last_success
                    .get_or_create(&labels)
                    .set(now.timestamp());
            }
            Err(ConnectorError::Overtaken) => {}
            Err(e) => {
                self.metrics.connector_failures.get_or_create(&labels).inc();
                let why = e.to_string();
                tracing::warn!(connector = %id, error = %why, "connector round failed");
                let db = self.db.clone();
                // Noting the failure may itself fail (the database is what broke): the round's
                // own error is the one returned.
                let _ = tokio::task::spawn_blocking(move || {
                    db.write(|c| cursor::failed(c, &id, &why, now).map_err(ConnectorError::from))
                })
                .await;
            }
        }
        result
    }

    async fn round(&self) -> Result<PollReport, ConnectorError> {
        let id = self.id().to_owned();
        let db = self.db.clone();
        let from =
            blocking(move || db.read(|c| cursor::position(c, &id).map_err(ConnectorError::from)))
                .await?;
        let changes = self.client.changes(from).await?;
        let mut report = PollReport {
            changes: changes.len(),
            more: changes.len() >= PAGE,
            ..PollReport::default()
        };
        let Some(last) = changes.last() else {
            let (db, id, now) = (self.db.clone(), self.id().to_owned(), self.clock.now());
            blocking(move || db.write(|c| cursor::idle(c, &id, now).map_err(ConnectorError::from)))
                .await?;
            return Ok(report);
        };
        let (to, change_at) = (last.id, last.at);
        // Each ticket once, in the order it first changed.
        let mut tickets: Vec<String> = Vec::new();
        for change in &changes {
            if !tickets.contains(&change.ticket) {
                tickets.push(change.ticket.clone());
            }
        }
        let mut mapped: Vec<NewTicket> = Vec::with_capacity(tickets.len());
        for ticket in &tickets {
            let payload = self.client.ticket(ticket).await?;
            let input = RequestTracker.ticket(payload).map_err(|e| e.to_string());
            match input.and_then(|i| NewTicket::try_from(i).map_err(|e| e.to_string())) {
                Ok(new) => mapped.push(new),
                Err(why) => {
                    // The field and the rule, never the value: a ticket whose status or
                    // priority the gateway cannot read stays in the helpdesk, and says so.
                    tracing::warn!(connector = %self.id(), rt_ticket = %ticket, error = %why,
                        "helpdesk ticket not taken in");
                    report.rejected.push(ticket.clone());
                }
            }
        }
        let (db, id, now) = (self.db.clone(), self.id().to_owned(), self.clock.now());
        let (contracts, keys) = (self.contracts.current(), self.keys.clone());
        let actor = format!("connector:{id}");
        let outcomes = blocking(move || {
            db.write(|c| {
                if !cursor::advance(c, &id, from, to, change_at, now)? {
                    return Err(ConnectorError::Overtaken);
                }
                mapped
                    .iter()
                    .map(|t| {
                        crate::service::intake::ingest(c, &contracts, &keys, t, &actor, now)
                            .map_err(ConnectorError::from)
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
        })
        .await?;
        report.ingested = outcomes.len();
        let lag = match change_at {
            Some(at) if report.more => (now - at).num_seconds().max(0),
            _ => 0,
        };
        self.metrics
            .connector_lag
            .get_or_create(&ConnectorLabels {
                connector: self.id().to_owned(),
            })
            .set(lag);
        for outcome in &outcomes {
            self.metrics.tickets_ingested.inc();
            match outcome.routing.outcome {
                RoutingOutcome::AlreadyShared => {
                    self.sla_wake.notify_one();
                    self.outbox_wake.notify_one();
                }
                RoutingOutcome::Shared => self.outbox_wake.notify_one(),
                RoutingOutcome::Kept => {}
            }
        }
        tracing::info!(connector = %self.id(), changes = report.changes,
            ingested = report.ingested, rejected = report.rejected.len(), "connector round");
        Ok(report)
    }

    /// Polls until the task is dropped: the first round one `poll_ms` after the start, then
    /// at once again while changes are waiting, every `poll_ms` when idle, and after failures
    /// with a pause that doubles up to [`MAX_BACKOFF`].
    pub async fn run(self) {
        let poll = self.client.connector().poll;
        let mut pause = poll;
        loop {
            tokio::time::sleep(pause).await;
            pause = match self.poll_once().await {
                Ok(report) if report.more => Duration::ZERO,
                Ok(_) | Err(ConnectorError::Overtaken) => poll,
                Err(_) => (pause * 2).max(poll).min(MAX_BACKOFF.max(poll)),
            };
        }
    }
}

/// Runs diesel work on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ConnectorError> + Send + 'static,
) -> Result<T, ConnectorError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ConnectorError::Unreachable {
            call: "database".into(),
            why: e.to_string(),
        })?
}
