//! Redaction: what of a ticket may leave for a contractor, and how.
//!
//! The field projection is default-deny; free text is scanned by the [`detect`]ors, the
//! contract's own patterns and word lists, and the values the ticket gives about its customer;
//! each finding is masked, hashed, tokenised (reversibly, through the [`vault`]), redacted or
//! dropped as the contract says. Tokens in contractor replies are turned back into real values
//! by [`rehydrate`]. Any failure fails the whole projection closed.

pub mod attachments;
pub mod detect;
pub mod engine;
pub mod projection;
pub mod rehydrate;
pub mod vault;

pub use engine::RedactionError;
pub use projection::{
    ProjectedComment, ProjectedFeedback, ProjectedFields, Projection, Receipt, SourceComment,
    SourceFeedback, SourceTicket, project,
};
pub use vault::{NumberBlocks, Vault, VaultKeys};
