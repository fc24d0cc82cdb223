//! msp-bridge: the gateway between a company's in-house support and its outside contractors.
//!
//! Modules by domain, dependencies pointing down: `http` and `jobs` on top; `reports` below
//! them; `service` (workflows across domains: intake, sharing, recall, timekeeping, figures…)
//! below that; `tickets` (ticket data) and `shares` → `redaction`, `routing` → `contracts`,
//! `ledger`, `outbox` → `db` at the ground.

pub mod adapters;
pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod connectors;
pub mod contracts;
pub mod crypto;
pub mod db;
pub mod delivery;
pub mod http;
pub mod ids;
pub mod jobs;
pub mod json_input;
pub mod knowledge;
pub mod ledger;
pub mod model;
pub mod names;
pub mod outbox;
pub mod random;
pub mod redaction;
pub mod reports;
pub mod routing;
pub mod secrets;
pub mod sensitive;
pub mod service;
pub mod shares;
pub mod sla;
pub mod subjects;
pub mod telemetry;
pub mod tickets;
