//! Retention: contractor-visible copies are kept no longer than each contract's
//! `retention_days` — token values no share has used since, and the redacted events sent to
//! the contractor. Each purge that removes something is audited.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::contracts::ContractSet;
use crate::db::AnyConnection;
use crate::ledger::{self, Action, NewEntry};
use crate::outbox;
use crate::redaction::vault;
use crate::tickets::TicketError;

/// What one contract's purge removed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Purged {
    /// Contract id.
    pub contract: String,
    /// Token values erased.
    pub tokens: usize,
    /// Contractor events deleted.
    pub events: usize,
}

/// The actor recorded for purges.
pub const RETENTION_ACTOR: &str = "system:retention";

/// Purges `contract_id`'s copies older than its retention, in the caller's transaction.
pub fn purge_contract(
    conn: &mut AnyConnection,
    contract_id: &str,
    retention_days: u32,
    now: DateTime<Utc>,
) -> Result<Purged, TicketError> {
    let cutoff = now - chrono::Duration::days(i64::from(retention_days));
    let tokens = vault::purge_unused(conn, contract_id, cutoff, now)?;
    let events = outbox::purge_settled(conn, contract_id, cutoff)?;
    if tokens + events > 0 {
        ledger::append(
            conn,
            now,
            NewEntry {
                actor: RETENTION_ACTOR,
                action: Action::RetentionPurge,
                contract_id: Some(contract_id),
                ticket_id: None,
                details: json!({
                    "retention_days": retention_days,
                    "cutoff": cutoff,
                    "tokens": tokens,
                    "events": events,
                }),
            },
        )?;
    }
    Ok(Purged {
        contract: contract_id.to_owned(),
        tokens,
        events,
    })
}

/// The contracts of `contracts`, each with its retention, in id order.
pub fn retention_of(contracts: &ContractSet) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = contracts
        .in_rank_order()
        .map(|f| {
            (
                f.contract.id.clone(),
                f.contract.confidentiality.retention_days,
            )
        })
        .collect();
    out.sort();
    out
}
