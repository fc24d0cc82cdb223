//! Background work beside the HTTP server, one named job a file. Jobs call the domains'
//! functions; the domains know nothing of schedules.

pub mod outbox_drain;
pub mod report_schedule;
pub mod retention;
pub mod sla_sweep;

pub use outbox_drain::OutboxDrain;
pub use report_schedule::ReportScheduler;
pub use retention::RetentionPurge;
pub use sla_sweep::SlaSweeper;
