//! The WAL checkpointer (SQLite only): every interval (200 ms by default: at peak ingest
//! that keeps the WAL near SQLite's own threshold of 1,000 pages), what the write-ahead log holds is copied
//! back into the database file by a background connection, so that the checkpoint's fsyncs
//! happen beside requests instead of inside the one whose commit crossed SQLite's threshold.

use std::time::Duration;

use crate::db::{Checkpoint, Db, DbError};

/// What the checkpointer needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct WalCheckpointer {
    /// Storage.
    pub db: Db,
}

impl WalCheckpointer {
    /// One checkpoint; `None` on PostgreSQL.
    pub fn run_once(&self) -> Result<Option<Checkpoint>, DbError> {
        let done = self.db.checkpoint()?;
        if let Some(c) = done.filter(|c| c.busy != 0) {
            tracing::debug!(
                log = c.log,
                checkpointed = c.checkpointed,
                "WAL checkpoint held back by a reader"
            );
        }
        Ok(done)
    }

    /// Checkpoints every `poll` until the task is dropped.
    pub async fn run(self, poll: Duration) {
        super::every(poll, None, "WAL checkpoint", move || self.run_once()).await;
    }
}
