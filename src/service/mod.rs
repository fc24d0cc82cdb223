//! Workflows that coordinate several domains, one a file, each a plain function over the
//! database (no actix): handlers parse, authorise and call one of these.
//!
//! Dependencies point down: `http`, `jobs`, `reports` → `service` → `adapters`, `tickets`,
//! `shares`, `redaction`, `routing`, `outbox`, `ledger`, `db`.

pub mod contractor;
pub mod deliveries;
pub mod drain;
pub mod feed;
pub mod feedback;
pub mod figures;
pub mod floor;
pub mod intake;
pub mod overview;
pub mod recall;
pub mod replies;
pub mod retention;
pub mod sharing;
pub mod subjects;
pub mod ticket_view;
pub mod timekeeping;
pub mod worklist;

use crate::db::DbError;

/// What can go wrong in a workflow beyond its domain's own errors.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No such resource.
    #[error("not found")]
    NotFound,
    /// Stored data does not parse.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// A ticket workflow failed.
    #[error(transparent)]
    Ticket(#[from] crate::tickets::TicketError),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<crate::subjects::SubjectError> for ServiceError {
    fn from(e: crate::subjects::SubjectError) -> Self {
        use crate::subjects::SubjectError;
        match e {
            SubjectError::Db(db) => Self::Db(db),
            SubjectError::NotFound => Self::NotFound,
            other => Self::Corrupt(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(DbError::Query(e))
    }
}
