//! The report scheduler: at each check it produces every report whose schedule has fired
//! since the stream's last report (one report for all missed fire times). Several replicas on
//! one PostgreSQL database may check at once: a scheduled period is stored once (a unique
//! index), and the replica that loses the race stores nothing.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::SharedClock;
use crate::contracts::Registry;
use crate::db::{Db, DbError};
use crate::reports::schedule::{self, GatewaySchedule};
use crate::reports::{self, Renderer, ReportError, ReportMeta};

/// What the scheduler needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct ReportScheduler {
    /// Storage.
    pub db: Db,
    /// Contracts in force (their `[reporting]`).
    pub contracts: Registry,
    /// Templates.
    pub renderer: Arc<Renderer>,
    /// Time.
    pub clock: SharedClock,
    /// The gateway-wide schedule, if configured.
    pub gateway: Option<GatewaySchedule>,
}

impl ReportScheduler {
    /// Produces every report due now; returns what this call stored.
    pub fn run_due(&self) -> Result<Vec<ReportMeta>, ReportError> {
        let set = self.contracts.current();
        let now = self.clock.now();
        let mut stored = Vec::new();
        for stream in schedule::streams(&set, self.gateway.as_ref()) {
            let Some(request) = self.db.read(|c| schedule::due_request(c, &stream, now))? else {
                continue;
            };
            match reports::produce(&self.db, &set, &self.renderer, &request, now) {
                Ok(metas) => {
                    for m in &metas {
                        tracing::info!(report = m.id.get(), scope = %m.scope, format = %m.format, "report produced");
                    }
                    stored.extend(metas);
                }
                Err(ReportError::Db(DbError::Query(e))) if crate::db::is_unique_violation(&e) => {
                    tracing::debug!(scope = stream.scope(), "report produced by another replica");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(stored)
    }

    /// Checks every `poll` until the task is dropped.
    pub async fn run(self, poll: Duration) {
        super::every(poll, None, "report schedule", move || self.run_due()).await;
    }
}
