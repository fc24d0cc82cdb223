//! The retention purge: every interval, each contract's contractor-visible copies older than
//! its `retention_days` are removed (see [`crate::service::retention`]). Purges are
//! conditional updates and deletes, so replicas running at once remove each copy once.

use std::time::Duration;

use crate::clock::SharedClock;
use crate::contracts::Registry;
use crate::db::Db;
use crate::service::retention::{self, Purged};
use crate::tickets::TicketError;

/// What the purge needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct RetentionPurge {
    /// Storage.
    pub db: Db,
    /// Contracts in force (their retention).
    pub contracts: Registry,
    /// Time.
    pub clock: SharedClock,
}

impl RetentionPurge {
    /// Purges every contract once, a transaction each; returns what went.
    pub fn run_once(&self) -> Result<Vec<Purged>, TicketError> {
        let now = self.clock.now();
        let mut out = Vec::new();
        for (contract, days) in retention::retention_of(&self.contracts.current()) {
            let purged = self
                .db
                .write(|c| retention::purge_contract(c, &contract, days, now))?;
            if purged.tokens + purged.events > 0 {
                tracing::info!(contract = %purged.contract, tokens = purged.tokens, events = purged.events, "retention purge");
            }
            out.push(purged);
        }
        Ok(out)
    }

    /// Purges every `poll` until the task is dropped.
    pub async fn run(self, poll: Duration) {
        super::every(poll, None, "retention purge", move || self.run_once()).await;
    }
}
