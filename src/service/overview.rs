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
    /// Data subjects' erasures contractors have not acknowledged yet, overdue ones included.
    pub erasures: Vec<crate::subjects::NoticeView>,
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
    /// Last 30 days' CSAT: satisfied share and ratings (`80.0% of 5`), or `—`.
    csat: String,
    /// Last 30 days' NPS and answers (`20.0 of 10`), or `—`.
    nps: String,
    /// Last 30 days' first-contact resolution, or `—`.
    first_contact_resolution: String,
    /// Last 30 days' reopen rate, or `—`.
    reopened: String,
    /// Replies sent from approved replies (macros) in the last 30 days, of all replies.
    macro_replies: String,
    /// Knowledge-base article reads in the last 30 days.
    articles_read: u64,
    /// Its processing register in a line: basis, where, what the contractor may do, how long.
    register: String,
}

/// A contract's processing register in a line for the overview.
fn register_line(processing: Option<&crate::contracts::Processing>) -> String {
    let Some(p) = processing else {
        return "none needed (no personal data leaves)".to_owned();
    };
    let basis = serde_json::to_value(p.legal_basis)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
        .replace('_', " ");
    let actions: Vec<String> = p
        .actions
        .iter()
        .filter_map(|a| serde_json::to_value(a).ok()?.as_str().map(str::to_owned))
        .collect();
    format!(
        "{basis}; {}; {}; {} days; {}",
        p.location,
        actions.join(", "),
        p.retention_days,
        p.contact
    )
}

fn percent(p: Option<f64>) -> String {
    p.map_or("—".to_owned(), |p| format!("{p:.1}%"))
}

/// Per contract over the month: (replies, of them by macro, article reads).
#[derive(Default)]
struct Activity {
    replies: u64,
    by_macro: u64,
    articles_read: u64,
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
        let until = now + chrono::Duration::seconds(1);
        let mut activity: std::collections::HashMap<String, Activity> = Default::default();
        let ledger = crate::ledger::walk_period(c, month_ago, until, |e| {
            let Some(contract) = e.contract_id.as_deref() else {
                return;
            };
            match e.action.as_str() {
                "share.reply" => {
                    let a = activity.entry(contract.to_owned()).or_default();
                    a.replies += 1;
                    let details: Value = serde_json::from_str(&e.details).unwrap_or(Value::Null);
                    a.by_macro += u64::from(details["macro"].is_string());
                }
                "knowledge.read" => {
                    activity
                        .entry(contract.to_owned())
                        .or_default()
                        .articles_read += 1;
                }
                _ => {}
            }
        })?;
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
            let done = activity.remove(&row.id).unwrap_or_default();
            let register = register_line(
                set.get(&row.id)
                    .and_then(|f| f.contract.processing.as_ref()),
            );
            contracts.push(ContractLine {
                id: row.id,
                contractor: row.contractor,
                version: row.version,
                overflow: overflow.to_owned(),
                open_shares: row.open_shares,
                max_open: row.max_open,
                attainment: percent(figures.attainment.percent),
                csat: figures.csat.satisfied_percent.map_or("—".to_owned(), |p| {
                    format!("{p:.1}% of {}", figures.csat.ratings)
                }),
                nps: figures.nps.score.map_or("—".to_owned(), |n| {
                    format!("{n:.1} of {}", figures.nps.responses)
                }),
                first_contact_resolution: percent(figures.first_contact_resolution.percent),
                reopened: percent(figures.reopened.percent),
                macro_replies: format!("{} of {}", done.by_macro, done.replies),
                articles_read: done.articles_read,
                register,
            });
        }
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
        let erasures = crate::subjects::notices::list(c, None, true, 50)?;
        Ok(Overview {
            ledger,
            contracts,
            disclosures,
            erasures,
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
        assert!(seen.erasures.is_empty());
    }
}
