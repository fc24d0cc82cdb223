//! Integration tests: the real gateway on port 0, spoken to over HTTP, on SQLite and (when
//! `BRIDGE_TEST_POSTGRES_URL` is set) PostgreSQL.

mod helpers;
mod hostile;

mod adapters;
mod attachments;
mod auth;
mod bad_input;
pub(crate) mod cli;
mod connectors;
pub(crate) mod console;
mod delivery;
mod drain;
mod escalation;
mod events;
mod idempotency;
mod knowledge;
mod ledger;
mod ops;
mod overflow;
mod receiver;
mod recheck;
mod redaction;
mod replies;
mod reports;
mod retention;
mod security;
mod sla;
mod slice;
mod storage;
mod subjects;
mod zendesk_writeback;
