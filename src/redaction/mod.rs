//! Redaction: what of a ticket may leave for a contractor.
//!
//! Today this is the default-deny field projection: fields the contract marks `pass` are sent,
//! everything else is dropped, and fields marked for masking, hashing, tokenising or redacting
//! are withheld whole until the detector engine exists — never sent raw.

pub mod detect;
pub mod projection;

pub use projection::{Projection, Receipt, SourceComment, SourceTicket, project};
