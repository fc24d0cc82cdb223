//! The connector job: for each helpdesk connection, every `poll_ms` (and at once when in-house
//! events are written), a round under the connection's lease (one replica at a time) reads the
//! helpdesk's changes after the stored cursor — the tickets they touch are fetched whole and
//! ingested as `POST /api/v1/tickets` would, and the cursor moves in that same transaction —
//! and then writes the in-house events of the connection's tickets back into the helpdesk, each
//! at most once (see [`writes`]). A round that fails moves nothing and is tried again after a
//! growing pause (up to [`MAX_BACKOFF`], or the helpdesk's `Retry-After`); its reason is kept
//! for `/readyz` and the metrics.
//!
//! Exactly once: the cursor's move is a compare-and-set inside the ingest's transaction, so
//! even when two rounds overlap (a lease ran out under a slow one) only the first to commit
//! takes the changes (the other rolls back and reads on from the new cursor), and a crash
//! before the commit leaves the cursor where it was, for the next round to read the same
//! changes again. Ingest itself is idempotent (a ticket by its helpdesk id, a comment by its
//! transaction id), so a ticket read twice by overlapping rounds is stored once.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use tokio::sync::Notify;

use crate::adapters::zendesk::Zendesk;
use crate::adapters::{Helpdesk, rt::RequestTracker};
use crate::clock::SharedClock;
use crate::connectors::HelpdeskClient;
use crate::connectors::rt::PAGE;
use crate::connectors::writes::{self, Claim};
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
    /// True when another replica was running this connection's round: nothing was done.
    pub skipped: bool,
}

/// What one write-back round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Writes made in the helpdesk.
    pub written: usize,
    /// Writes found already made (a crash came between the helpdesk's answer and our note).
    pub found: usize,
    /// Writes the helpdesk refused for good.
    pub dead: usize,
    /// True when another replica was running this connection's round: nothing was done.
    pub skipped: bool,
}

/// How long a replica holds a connection for a round (it gives it back when the round ends;
/// after a crash, another replica takes over once this has passed).
const ROUND_LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// How long a write's claim holds: past the request timeout, so a live round is never taken
/// over.
const WRITE_LEASE: chrono::Duration = chrono::Duration::minutes(2);

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
    /// This replica's name for the connection's lease (random per process).
    pub replica: String,
    /// Rounds, changes and failures are counted here.
    pub metrics: Arc<Metrics>,
    /// The helpdesk.
    pub client: Arc<HelpdeskClient>,
    /// Poked when in-house events were written: a round runs at once (unless the last one
    /// failed or was told to wait).
    pub wake: Arc<Notify>,
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
        if !self.lease().await? {
            return Ok(PollReport {
                skipped: true,
                ..PollReport::default()
            });
        }
        let result = self.round().await;
        self.release().await;
        let now = self.clock.now();
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
            Err(e) => self.note_failure("read", e).await,
        }
        result
    }

    /// Counts a failed round and notes why on the connection, for `/readyz`.
    async fn note_failure(&self, direction: &str, error: &ConnectorError) {
        let labels = ConnectorLabels {
            connector: self.id().to_owned(),
        };
        self.metrics.connector_failures.get_or_create(&labels).inc();
        let why = format!("{direction}: {error}");
        tracing::warn!(connector = %self.id(), error = %why, "connector round failed");
        let (db, id, now) = (self.db.clone(), self.id().to_owned(), self.clock.now());
        // Noting the failure may itself fail (the database is what broke): the round's own
        // error is the one that counts.
        let _ = blocking(move || {
            db.write(|c| cursor::failed(c, &id, &why, now).map_err(ConnectorError::from))
        })
        .await;
    }

    async fn round(&self) -> Result<PollReport, ConnectorError> {
        let id = self.id().to_owned();
        let db = self.db.clone();
        let from =
            blocking(move || db.read(|c| cursor::position(c, &id).map_err(ConnectorError::from)))
                .await?;
        // Zendesk pushes its tickets (webhooks to `/api/v1/inbound/zendesk`): nothing to read.
        let HelpdeskClient::Rt(client) = self.client.as_ref() else {
            return Ok(PollReport::default());
        };
        let changes = client.changes(from).await?;
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
            let payload = match client.ticket(ticket).await {
                Ok(payload) => payload,
                // Gone from the gateway user's sight since the change (moved to a queue it may
                // not read, shredded): nothing to take in, and no reason to stop the others.
                Err(ConnectorError::Status {
                    status: 403 | 404,
                    call,
                }) => {
                    tracing::warn!(connector = %self.id(), rt_ticket = %ticket, call = %call,
                        "helpdesk ticket no longer readable; not taken in");
                    report.rejected.push(ticket.clone());
                    continue;
                }
                Err(e) => return Err(e),
            };
            // The connection's id is the tickets' source: two RT instances number alike.
            let input = RequestTracker
                .ticket(payload)
                .map(|mut input| {
                    input.source = self.id().to_owned();
                    input
                })
                .map_err(|e| e.to_string());
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

    /// Writes the in-house events of this connection's tickets into the helpdesk, in feed
    /// order, each at most once (see [`writes`]); stops at the first write that fails (to be
    /// tried again, after a recheck, by a later round) or that another round is making.
    pub async fn write_back_once(&self) -> Result<WriteReport, ConnectorError> {
        if !self.lease().await? {
            return Ok(WriteReport {
                skipped: true,
                ..WriteReport::default()
            });
        }
        let result = self.write_back().await;
        self.release().await;
        result
    }

    /// Takes the connection for a round; false when another replica holds it.
    async fn lease(&self) -> Result<bool, ConnectorError> {
        let (db, id, replica, now) = (
            self.db.clone(),
            self.id().to_owned(),
            self.replica.clone(),
            self.clock.now(),
        );
        blocking(move || {
            db.write(|c| {
                cursor::take_lease(c, &id, &replica, now, ROUND_LEASE).map_err(ConnectorError::from)
            })
        })
        .await
    }

    /// Gives the connection back; if that fails, the lease runs out by itself.
    async fn release(&self) {
        let (db, id, replica) = (self.db.clone(), self.id().to_owned(), self.replica.clone());
        let _ = blocking(move || {
            db.write(|c| cursor::release_lease(c, &id, &replica).map_err(ConnectorError::from))
        })
        .await;
    }

    async fn write_back(&self) -> Result<WriteReport, ConnectorError> {
        let id = self.id().to_owned();
        let db = self.db.clone();
        let after =
            blocking(move || db.read(|c| writes::position(c, &id).map_err(ConnectorError::from)))
                .await?;
        let db = self.db.clone();
        let adapter: &'static dyn Helpdesk = match self.client.as_ref() {
            HelpdeskClient::Rt(_) => &RequestTracker,
            HelpdeskClient::Zendesk(_) => &Zendesk,
        };
        let page = blocking(move || {
            crate::service::feed::inhouse_page(&db, Some(adapter), after, PAGE as i64)
                .map_err(|e| ConnectorError::Feed(e.to_string()))
        })
        .await?;
        let mut report = WriteReport::default();
        for item in page.items {
            let position = item.position;
            let event = item.envelope.id.clone();
            let target = item
                .helpdesk
                .and_then(|h| match (h.source, h.external_id, h.update) {
                    (Some(source), Some(ticket), Some(update))
                        if source == self.client.source() =>
                    {
                        Some((ticket, update))
                    }
                    _ => None,
                });
            let Some((ticket, mut update)) = target else {
                self.settle_write(None, None, position).await?;
                continue;
            };
            if let Some(gateway_ticket) = item.envelope.ticket {
                self.attach_files(&mut update, gateway_ticket.get(), &item.envelope.data)
                    .await?;
            }
            let (db, id, now) = (self.db.clone(), self.id().to_owned(), self.clock.now());
            let claimed = {
                let event = event.clone();
                blocking(move || {
                    db.write(|c| {
                        writes::claim(c, &id, &event, now, WRITE_LEASE)
                            .map_err(ConnectorError::from)
                    })
                })
                .await?
            };
            let send = match claimed {
                Claim::Settled => {
                    self.settle_write(None, None, position).await?;
                    continue;
                }
                Claim::Busy => break,
                Claim::Fresh => true,
                Claim::Recheck { since } => {
                    let found = self.client.written_since(&ticket, &update, since).await;
                    match found {
                        Ok(found) => {
                            report.found += usize::from(found);
                            !found
                        }
                        Err(e) => return Err(self.write_failed(&event, e).await),
                    }
                }
            };
            if send {
                match self.client.apply(&ticket, &update).await {
                    Ok(()) => report.written += 1,
                    // RT refused it for good (the ticket is gone, the change is not allowed):
                    // noted as dead, and the events after it go on.
                    Err(ConnectorError::Status { call, status })
                        if (400..500).contains(&status) && !matches!(status, 408 | 429) =>
                    {
                        let why = format!("{call}: HTTP {status}");
                        tracing::warn!(connector = %self.id(), event = %event, error = %why,
                            "helpdesk refused a write; given up");
                        self.settle_write(Some(&event), Some(&why), position)
                            .await?;
                        report.dead += 1;
                        continue;
                    }
                    Err(e) => return Err(self.write_failed(&event, e).await),
                }
            }
            self.settle_write(Some(&event), None, position).await?;
        }
        Ok(report)
    }

    /// Puts the files a contractor's reply carries into its helpdesk call, read from the
    /// gateway's store in clear: Request Tracker takes them inline (REST2 `Attachments`: name,
    /// type, base64), Zendesk as upload tokens on the comment (each file uploaded first).
    async fn attach_files(
        &self,
        update: &mut Value,
        ticket_id: i64,
        data: &Value,
    ) -> Result<(), ConnectorError> {
        let ids: Vec<i64> = data
            .get("attachments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| a.get("id").and_then(Value::as_i64))
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let db = self.db.clone();
        let files = blocking(move || {
            db.read(|c| {
                ids.iter()
                    .map(|id| crate::tickets::attachments::inhouse_download(c, ticket_id, *id))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| ConnectorError::Feed(e.to_string()))
            })
        })
        .await?;
        match self.client.as_ref() {
            HelpdeskClient::Rt(_) if update.get("body").is_some() => {
                update["body"]["Attachments"] = files.into_iter().map(rt_attachment).collect();
            }
            HelpdeskClient::Zendesk(zendesk) if update.pointer("/ticket/comment").is_some() => {
                let mut tokens = Vec::with_capacity(files.len());
                for f in files {
                    tokens.push(
                        zendesk
                            .upload(&f.file_name, &f.media_type, f.content)
                            .await?,
                    );
                }
                update["ticket"]["comment"]["uploads"] = serde_json::json!(tokens);
            }
            _ => {}
        }
        Ok(())
    }

    /// Settles the write of `event` (`done`, or `dead` with a reason) — or, with no event, an
    /// event that needs none — and moves the write position past it.
    async fn settle_write(
        &self,
        event: Option<&str>,
        dead: Option<&str>,
        position: i64,
    ) -> Result<(), ConnectorError> {
        let (db, id, now) = (self.db.clone(), self.id().to_owned(), self.clock.now());
        let (event, dead) = (event.map(str::to_owned), dead.map(str::to_owned));
        blocking(move || {
            db.write(|c| {
                match &event {
                    Some(event) => writes::settle(c, &id, event, dead.as_deref(), position, now)?,
                    None => writes::advance(c, &id, position)?,
                }
                Ok::<_, ConnectorError>(())
            })
        })
        .await
    }

    /// Notes a write whose outcome is unknown (the next round rechecks it) and returns why.
    async fn write_failed(&self, event: &str, error: ConnectorError) -> ConnectorError {
        let (db, id, event, why) = (
            self.db.clone(),
            self.id().to_owned(),
            event.to_owned(),
            error.to_string(),
        );
        // Noting it may itself fail: then the claim's lease runs out and a later round
        // rechecks it all the same.
        let _ = blocking(move || {
            db.write(|c| writes::failed(c, &id, &event, &why).map_err(ConnectorError::from))
        })
        .await;
        error
    }

    /// Polls until the task is dropped: each round reads the helpdesk's changes and then
    /// writes the in-house events back. The first round runs one `poll_ms` after the start
    /// (or when events are written), then at once again while changes are waiting, every
    /// `poll_ms` when idle or when woken by new events, and after failures with a pause that
    /// doubles up to [`MAX_BACKOFF`] (or the helpdesk's `Retry-After`), not woken early.
    pub async fn run(self) {
        let poll = self.client.connector().poll;
        let mut pause = poll;
        loop {
            if pause == poll {
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = self.wake.notified() => {}
                }
            } else {
                // Backing off, or told by the helpdesk when to come back: events wait.
                tokio::time::sleep(pause).await;
            }
            let read = self.poll_once().await;
            let written = self.write_back_once().await;
            if let Err(e) = &written {
                self.note_failure("write", e).await;
            }
            pause = match (read, written) {
                (
                    _,
                    Err(ConnectorError::RateLimited {
                        retry_after: Some(wait),
                        ..
                    }),
                ) => wait.max(poll),
                (Err(ConnectorError::Overtaken), Ok(_)) => poll,
                (Err(_), _) | (_, Err(_)) => (pause * 2).max(poll).min(MAX_BACKOFF.max(poll)),
                (Ok(report), Ok(_)) if report.more => Duration::ZERO,
                (Ok(_), Ok(_)) => poll,
            };
        }
    }
}

/// A file as Request Tracker's REST2 takes it with a message. RT 5.0 fails (HTTP 500, "Wide
/// character") on a file name that is not ASCII; an RFC 2047 encoded word comes through and RT
/// decodes it to the name.
fn rt_attachment(f: crate::tickets::attachments::FileDownload) -> Value {
    let name = if f.file_name.is_ascii() {
        f.file_name
    } else {
        let encoded = base64::engine::general_purpose::STANDARD.encode(&f.file_name);
        format!("=?UTF-8?B?{encoded}?=")
    };
    serde_json::json!({
        "FileName": name,
        "FileType": f.media_type,
        "FileContent": base64::engine::general_purpose::STANDARD.encode(&f.content),
    })
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
