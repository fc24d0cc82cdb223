//! Background work beside the HTTP server, one named job a file. Jobs call the domains'
//! functions; the domains know nothing of schedules.

pub mod backlog_drain;
pub mod connector_poll;
pub mod outbox_drain;
pub mod report_schedule;
pub mod retention;
pub mod sla_sweep;
pub mod wal_checkpoint;

pub use backlog_drain::BacklogDrain;
pub use connector_poll::ConnectorPoller;
pub use outbox_drain::OutboxDrain;
pub use report_schedule::ReportScheduler;
pub use retention::RetentionPurge;
pub use sla_sweep::SlaSweeper;
pub use wal_checkpoint::WalCheckpointer;

/// Runs `work` on the blocking pool (it uses diesel) every `poll`, and at once when `wake` is
/// poked, until the task is dropped; a failure is logged as `what` and tried again at the
/// next round.
pub(crate) async fn every<T, E>(
    poll: std::time::Duration,
    wake: Option<&tokio::sync::Notify>,
    what: &'static str,
    work: impl Fn() -> Result<T, E> + Clone + Send + 'static,
) where
    T: Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    loop {
        let round = work.clone();
        match tokio::task::spawn_blocking(round).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, job = what, "job failed; retrying"),
            Err(e) => tracing::error!(error = %e, job = what, "job panicked"),
        }
        match wake {
            Some(wake) => tokio::select! {
                () = tokio::time::sleep(poll) => {}
                () = wake.notified() => {}
            },
            None => tokio::time::sleep(poll).await,
        }
    }
}
