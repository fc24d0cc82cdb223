//! The console's overview: every contract with its live state and last month's SLA
//! attainment, the ledger's health over the month, and the latest disclosures.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::ServiceError;
use crate::contracts::{ContractSet, OverflowMode};
use crate::db::Db;
use crate::ledger::Verification;

/// What the console's home page shows.
#[derive(Debug, Serialize)]
pub struct Overview {
    /// The ledger over the last 30 days.
    pub ledger: Verification,
    /// Every contract in force, in routing order.
    pub contracts: Vec<ContractLine>,
    /// The 20 latest shares and reads.
    pub disclosures: Vec<DisclosureLine>,
}

/// A contract as the overview lists it.
#[derive(Debug, Serialize)]
pub struct ContractLine {
    id: String,
    contractor: String,
    version: Option<i32>,
    /// How overflow stands, in words.
    overflow: String,
    open_shares: Option<i32>,
    max_open: u32,
    /// Last 30 days' SLA attainment (`97.5%`), or `—` with nothing decided.
    attainment: String,
}

/// A share or a read, as the overview lists it.
#[derive(Debug, Serialize)]
pub struct DisclosureLine {
    /// `YYYY-MM-DD HH:MM` (UTC).
    at: String,
    action: String,
    contract: Option<String>,
    ticket: Option<i64>,
    actor: String,
    /// The fields sent, comma-separated.
    fields: String,
}

/// The overview at `now`: the ledger is sealed first, so the month's entries are all checked.
pub fn overview(db: &Db, set: &ContractSet, now: DateTime<Utc>) -> Result<Overview, ServiceError> {
    let month_ago = now - chrono::Duration::days(30);
    crate::ledger::seal_committed(db)?;
    db.read(|c| {
        let mut contracts = Vec::new();
        for row in crate::contracts::overview(c, set)? {
            let figures = crate::service::figures::figures(c, &row.id, month_ago, now)?;
            let overflow = match (row.overflow_mode, row.manual_overflow == Some(true)) {
                (_, true) => "on (manual switch)",
                (OverflowMode::Manual, false) => "manual switch: off",
                (OverflowMode::Always, false) => "always",
                (OverflowMode::Threshold, false) => "threshold",
                (OverflowMode::Off, false) => "off",
            };
            contracts.push(ContractLine {
                id: row.id,
                contractor: row.contractor,
                version: row.version,
                overflow: overflow.to_owned(),
                open_shares: row.open_shares,
                max_open: row.max_open,
                attainment: figures
                    .attainment
                    .percent
                    .map_or("—".to_owned(), |p| format!("{p:.1}%")),
            });
        }
        let until = now + chrono::Duration::seconds(1);
        let ledger = crate::ledger::walk_period(c, month_ago, until, |_| {})?;
        let disclosures =
            crate::ledger::recent(c, &["ticket.share", "share.update", "share.read"], 20)?
                .into_iter()
                .map(|e| {
                    let details: Value = serde_json::from_str(&e.details).unwrap_or(Value::Null);
                    let fields = details["receipt"]["fields_sent"]
                        .as_array()
                        .map(|f| {
                            f.iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default();
                    DisclosureLine {
                        at: crate::clock::from_db(e.at)
                            .format("%Y-%m-%d %H:%M")
                            .to_string(),
                        action: e.action,
                        contract: e.contract_id,
                        ticket: e.ticket_id,
                        actor: e.actor,
                        fields,
                    }
                })
                .collect();
        Ok(Overview {
            ledger,
            contracts,
            disclosures,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_gateway_lists_its_contracts_with_nothing_decided_yet() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = Db::connect(&format!("sqlite://{}/overview.db", dir.path().display()))
            .unwrap_or_else(|e| panic!("{e}"));
        db.migrate().unwrap_or_else(|e| panic!("{e}"));
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/contracts");
        let set = ContractSet::new(
            crate::contracts::load_dir(std::path::Path::new(fixtures)).unwrap_or_default(),
        );
        let now = chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(20_000);
        let seen = overview(&db, &set, now).unwrap_or_else(|e| panic!("{e}"));
        assert!(seen.ledger.is_intact());
        assert_eq!(seen.contracts.len(), set.in_rank_order().count());
        assert!(seen.contracts.len() >= 2);
        for line in &seen.contracts {
            assert_eq!(line.attainment, "—");
            assert_eq!(line.open_shares, None, "{line:?}");
        }
        assert!(seen.disclosures.is_empty());
    }
}
