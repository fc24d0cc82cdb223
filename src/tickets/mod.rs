//! Tickets: the data of a ticket as the in-house side sends it (input parsing and checks),
//! its storage (tickets and comments) and the in-house queue. The workflows that route, share,
//! recall and time tickets across domains are in [`crate::service`].

pub mod attachments;
mod feedback;
pub mod input;
mod queue;
pub mod store;

use crate::db::DbError;
use crate::shares::ShareError;
pub use feedback::FeedbackInput;
pub use input::{CommentInput, NewTicket, TicketInput};
pub use queue::{QUEUE_REPORT_TTL_MINUTES, queue_depth, report_queue};

/// What can go wrong with a ticket request.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    /// A field's value is not acceptable.
    #[error("{field}: {message}")]
    Invalid {
        /// The field path.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// No such ticket (for this caller).
    #[error("ticket not found")]
    NotFound,
    /// The request does not fit the ticket's current state.
    #[error("{0}")]
    Conflict(String),
    /// Stored data does not parse.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for TicketError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(DbError::Query(e))
    }
}

impl From<ShareError> for TicketError {
    fn from(e: ShareError) -> Self {
        match e {
            ShareError::NotFound => Self::NotFound,
            ShareError::InvalidTransition { .. } => Self::Conflict(e.to_string()),
            ShareError::Db(e) => e.into(),
        }
    }
}

pub(crate) fn parse_stored<T: std::str::FromStr>(
    what: &str,
    value: &str,
) -> Result<T, TicketError> {
    value
        .parse()
        .map_err(|_| TicketError::Corrupt(format!("{what} `{value}`")))
}

/// A hand-back or recall reason: trimmed, 1–2000 characters.
pub(crate) fn checked_reason(reason: &str) -> Result<&str, TicketError> {
    crate::json_input::reason(reason, 2_000).map_err(|p| TicketError::Invalid {
        field: p.field,
        message: p.detail,
    })
}
