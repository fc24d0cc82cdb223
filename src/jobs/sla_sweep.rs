//! The SLA sweeper: every interval, and whenever a change wakes it, it records due warnings and
//! breaches (applying each contract's `on_breach`); every interval it also recalls the shares
//! of contracts that left force (past `valid_until`, or withdrawn), checks the attainment
//! floors and refreshes the live gauges. Several replicas may sweep one PostgreSQL
//! database at once: clocks are claimed with `FOR UPDATE SKIP LOCKED` and every record is
//! conditional, so each warning, breach and alert happens once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::contracts::{Registry, capacity};
use crate::db::Db;
use crate::service::figures;
use crate::service::floor::{self, FloorStatus};
use crate::service::timekeeping::{self, SweepReport};
use crate::telemetry::{ContractLabels, Metrics};
use crate::tickets::TicketError;

/// Clocks handled per transaction: short transactions keep SQLite's single writer available
/// to requests while a large backlog is worked off.
pub const BATCH: i64 = 500;

/// What the sweeper needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct SlaSweeper {
    /// Storage.
    pub db: Db,
    /// Contracts in force.
    pub contracts: Registry,
    /// Time.
    pub clock: SharedClock,
    /// Where the counters and gauges go.
    pub metrics: Arc<Metrics>,
    /// Poked after a change to a share.
    pub wake: Arc<Notify>,
    /// Poked when a sweep wrote events, so they go out at once.
    pub outbox_wake: Arc<Notify>,
    /// Poked when a sweep recalled shares, so the backlog drain routes their tickets again.
    pub drain_wake: Arc<Notify>,
}

impl SlaSweeper {
    /// Records every warning and breach due now, batch by batch; returns what was done.
    pub fn sweep(&self) -> Result<SweepReport, TicketError> {
        let set = self.contracts.current();
        let now = self.clock.now();
        let mut total = SweepReport::default();
        loop {
            // A read first, so an idle sweep never takes the writer.
            if !self
                .db
                .read(|c| crate::shares::clocks::any_due(c, now).map_err(TicketError::from))?
            {
                break;
            }
            let report = self.db.write(|c| timekeeping::sweep(c, &set, now, BATCH))?;
            for contract in &report.warnings {
                self.metrics
                    .sla_warnings
                    .get_or_create(&labels(contract))
                    .inc();
            }
            for contract in &report.breaches {
                self.metrics
                    .sla_breaches
                    .get_or_create(&labels(contract))
                    .inc();
            }
            if !report.warnings.is_empty() || !report.breaches.is_empty() {
                self.outbox_wake.notify_one();
            }
            let claimed = report.claimed;
            total.claimed += report.claimed;
            total.warnings.extend(report.warnings);
            total.breaches.extend(report.breaches);
            total.escalated += report.escalated;
            total.recalled += report.recalled;
            if report.recalled > 0 {
                self.drain_wake.notify_one();
            }
            // Fewer than a batch: done; or another replica holds the rest.
            if claimed < usize::try_from(BATCH).unwrap_or(usize::MAX) {
                break;
            }
        }
        Ok(total)
    }

    /// Recalls the shares still with contractors whose contracts left force; returns how many.
    pub fn recall_lapsed(&self) -> Result<usize, TicketError> {
        let set = self.contracts.current();
        let now = self.clock.now();
        if !self
            .db
            .read(|c| crate::service::recall::any_out_of_force(c, &set, now))?
        {
            return Ok(0);
        }
        let recalled = self
            .db
            .write(|c| crate::service::recall::recall_out_of_force(c, &set, now))?;
        if recalled > 0 {
            tracing::warn!(recalled, "shares of contracts out of force recalled");
            self.outbox_wake.notify_one();
            self.drain_wake.notify_one();
        }
        Ok(recalled)
    }

    /// Checks every contract's attainment floor and refreshes the live gauges.
    pub fn check_floors(&self) -> Result<Vec<FloorStatus>, TicketError> {
        let set = self.contracts.current();
        let now = self.clock.now();
        let mut statuses = Vec::new();
        for file in set.in_rank_order() {
            let status = self.db.write(|c| floor::check_floor(c, file, now))?;
            let l = labels(&file.contract.id);
            if let Some(p) = status.percent {
                self.metrics.attainment.get_or_create(&l).set(p);
            }
            self.metrics
                .below_floor
                .get_or_create(&l)
                .set(i64::from(status.below));
            statuses.push(status);
        }
        let live = self.db.read(figures::live_clocks)?;
        let open = self
            .db
            .read(|c| capacity::open_by_contract(c).map_err(TicketError::from))?;
        for (id, n) in open {
            let l = labels(&id);
            self.metrics.open_shares.get_or_create(&l).set(i64::from(n));
            let clocks = live.get(&id).cloned().unwrap_or_default();
            self.metrics
                .clocks_running
                .get_or_create(&l)
                .set(clocks.running);
            self.metrics
                .clocks_paused
                .get_or_create(&l)
                .set(clocks.paused);
            self.metrics
                .clocks_overdue
                .get_or_create(&l)
                .set(clocks.overdue);
        }
        Ok(statuses)
    }

    /// Checks every contract's quality floors (CSAT, NPS, first-contact resolution), raising
    /// or clearing each alert once per crossing.
    pub fn check_quality(&self) -> Result<Vec<floor::QualityStatus>, TicketError> {
        let set = self.contracts.current();
        let now = self.clock.now();
        let mut statuses = Vec::new();
        for file in set.in_rank_order() {
            statuses.extend(self.db.write(|c| floor::check_quality(c, file, now))?);
        }
        Ok(statuses)
    }

    /// Escalates every erasure notice whose acknowledgement is overdue (a data subject's
    /// erasure the contractor has not confirmed in its register's `erasure_ack_days`).
    pub fn escalate_erasures(
        &self,
    ) -> Result<Vec<crate::subjects::NoticeView>, crate::subjects::SubjectError> {
        let now = self.clock.now();
        self.db
            .write(|c| crate::service::subjects::escalate_overdue(c, now))
    }

    /// Sweeps every `interval` and whenever woken; checks floors every `interval`. Runs until
    /// the task is dropped. Errors are logged and the next round tries again.
    pub async fn run(self, interval: Duration) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let full_round = tokio::select! {
                _ = ticker.tick() => true,
                () = self.wake.notified() => false,
            };
            let me = self.clone();
            let outcome = tokio::task::spawn_blocking(move || {
                let report = me.sweep()?;
                if full_round {
                    me.recall_lapsed()?;
                    me.check_floors()?;
                    me.check_quality()?;
                    if let Err(e) = me.escalate_erasures() {
                        tracing::warn!(error = %e, "erasure escalation failed; retrying next round");
                    }
                }
                Ok::<_, TicketError>(report)
            })
            .await;
            match outcome {
                Ok(Ok(report)) if report.claimed > 0 => tracing::info!(
                    warnings = report.warnings.len(),
                    breaches = report.breaches.len(),
                    escalated = report.escalated,
                    recalled = report.recalled,
                    "SLA sweep"
                ),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "SLA sweep failed; retrying next round"),
                Err(e) => tracing::error!(error = %e, "SLA sweep task failed"),
            }
        }
    }
}

fn labels(contract: &str) -> ContractLabels {
    ContractLabels {
        contract: contract.to_owned(),
    }
}
