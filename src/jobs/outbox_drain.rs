//! The delivery worker: claims due outbox events, posts them signed to their destination, and
//! records the outcome — delivered, retried with backoff (or the receiver's `Retry-After`),
//! dead-lettered after the give-up time, or skipped when the audience has no endpoint. Woken
//! at once by every change, so a healthy receiver gets an event within milliseconds of commit;
//! it also polls, for retries that fall due.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::clock::{SharedClock, from_db};
use crate::contracts::Registry;
use crate::db::{Db, DbError};
use crate::delivery::{self, Attempt, Destination, Signer};
use crate::ledger;
use crate::outbox::{self, EventRow, Settled};

/// Events claimed per round.
pub const BATCH: i64 = 200;

/// How long a woken worker waits for more commits before claiming.
const GATHER: Duration = Duration::from_millis(5);

/// What the worker needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct OutboxDrain {
    /// Storage.
    pub db: Db,
    /// Contracts in force (their `[endpoint]`).
    pub contracts: Registry,
    /// Time.
    pub clock: SharedClock,
    /// The HTTP client, with the receiver timeout.
    pub client: reqwest::Client,
    /// The in-house webhook, if configured.
    pub inhouse: Option<Destination>,
    /// How long an event is retried before it is dead-lettered.
    pub give_up: chrono::Duration,
    /// How long a claim holds before another worker may take the event over.
    pub lease: chrono::Duration,
    /// Poked after every change that may have written events.
    pub wake: Arc<Notify>,
}

impl OutboxDrain {
    /// Claims one batch, sends it (each event to its own destination, concurrently: at most
    /// one event per ticket and destination is in flight), and records the outcomes. Returns
    /// how many events were claimed.
    pub async fn drain_once(&self) -> Result<usize, DbError> {
        let now = self.clock.now();
        let lease = self.lease;
        let routed = self.routed();
        // The round also chains the ledger entries and numbers the feed events committed since
        // the last one: a change that wakes the worker is audited too, and doing it here costs
        // no extra transaction. Events with nowhere to go are settled before the claim, all at
        // once: a claim would write each of them twice more for nothing.
        let claimed = self
            .db
            .write_async(move |c| {
                ledger::seal(c)?;
                outbox::sequence(c)?;
                outbox::skip_unrouted(c, &routed)?;
                outbox::claim(c, now, lease, BATCH, &routed).map_err(DbError::from)
            })
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let attempts = claimed.iter().map(|event| self.attempt(event));
        let outcomes = futures_util::future::join_all(attempts).await;
        let settled: Vec<(i64, Settled)> = claimed.iter().map(|e| e.id).zip(outcomes).collect();
        let now = self.clock.now();
        for (id, outcome) in &settled {
            match outcome {
                Settled::Retry { error, .. } | Settled::Dead { error } => {
                    tracing::warn!(event = id, error = %error, "delivery failed");
                }
                _ => {}
            }
        }
        self.db
            .write_async(move |c| outbox::settle(c, &settled, now).map_err(DbError::from))
            .await?;
        Ok(claimed.len())
    }

    /// The destinations that have a webhook now: the in-house one if configured, and every
    /// contract (in force or withdrawn) with an `[endpoint]`.
    fn routed(&self) -> Vec<String> {
        let set = self.contracts.current();
        let contracts = set
            .endpoint_contracts()
            .map(|id| outbox::Audience::Contractor(id.to_owned()).destination());
        self.inhouse
            .as_ref()
            .map(|_| outbox::Audience::Inhouse.destination())
            .into_iter()
            .chain(contracts)
            .collect()
    }

    fn destination(&self, event: &EventRow) -> Result<Option<Destination>, String> {
        if event.audience == crate::model::AudienceKind::Inhouse {
            return Ok(self.inhouse.clone());
        }
        let set = self.contracts.current();
        let Some(endpoint) = event
            .contract_id
            .as_deref()
            .and_then(|id| set.endpoint(id))
            .cloned()
        else {
            return Ok(None);
        };
        let secret = std::env::var(&endpoint.secret_env)
            .map_err(|_| format!("signing secret {} is not set", endpoint.secret_env))?;
        let signer = Signer::from_secret(&secret).map_err(|e| e.to_string())?;
        Ok(Some(Destination {
            url: endpoint.url,
            signer,
        }))
    }

    async fn attempt(&self, event: &EventRow) -> Settled {
        let error = match self.destination(event) {
            Ok(None) => return Settled::Skipped,
            Ok(Some(to)) => {
                let now = self.clock.now();
                match delivery::send(&self.client, &to, &event.event_id, &event.payload, now).await
                {
                    Attempt::Delivered => return Settled::Delivered,
                    Attempt::Failed { error, retry_after } => (error, retry_after),
                }
            }
            Err(error) => (error, None),
        };
        let (error, retry_after) = error;
        let now = self.clock.now();
        let until = event.retry_until.map_or(now + self.give_up, from_db);
        if now >= until {
            return Settled::Dead { error };
        }
        let wait = retry_after.unwrap_or_else(|| delivery::backoff(event.attempts, jitter()));
        Settled::Retry {
            error,
            at: now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1)),
            until,
        }
    }

    /// Drains whenever woken and every `poll`, until the task is dropped.
    pub async fn run(self, poll: Duration) {
        loop {
            match self.drain_once().await {
                // A full batch: more may be waiting.
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "outbox drain failed; retrying"),
            }
            tokio::select! {
                () = self.wake.notified() => {
                    // Let the commits of a busy moment gather into one claim: a round costs
                    // two write transactions, which must not compete with every ingest.
                    tokio::time::sleep(GATHER).await;
                }
                () = tokio::time::sleep(poll) => {}
            }
        }
    }
}

/// A random number in [0, 1) for backoff jitter.
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    if crate::random::fill(&mut bytes).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}
