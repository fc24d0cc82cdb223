//! The attainment floor: a contract's rolling SLA attainment measured against the floor it
//! sets, with the alert raised and cleared once per crossing.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::clock::to_db;
use crate::contracts::ContractFile;
use crate::db::AnyConnection;
use crate::db::schema::{contracts, sla_clocks};
use crate::ledger::{self, Action, NewEntry};
use crate::model::ClockOutcome;
use crate::service::timekeeping::SLA_ACTOR;
use crate::sla::attainment_percent;
use crate::tickets::TicketError;

/// Attainment over the contract's rolling window ending at `now`, and whether it is below the
/// contract's floor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FloorStatus {
    /// Contract id.
    pub contract: String,
    /// Clocks met in the window.
    pub met: u64,
    /// Clocks breached in the window.
    pub breached: u64,
    /// Met as a percentage of decided.
    pub percent: Option<f64>,
    /// The floor, if the contract sets one.
    pub floor: Option<u8>,
    /// True while attainment is below the floor (with enough clocks decided to judge).
    pub below: bool,
    /// True when this check raised the alert; false when it cleared it or changed nothing.
    pub alert_raised: bool,
    /// True when this check cleared the alert.
    pub alert_cleared: bool,
}

/// Measures the contract's rolling attainment and raises or clears its floor alert. Each
/// crossing is recorded once in the ledger (`sla.attainment_alert` /
/// `sla.attainment_restored`), also with several replicas checking at once.
pub fn check_floor(
    conn: &mut AnyConnection,
    file: &ContractFile,
    now: DateTime<Utc>,
) -> Result<FloorStatus, TicketError> {
    let contract = &file.contract;
    let window = chrono::Duration::from_std(contract.sla.attainment_window)
        .unwrap_or(chrono::Duration::days(7));
    let since = to_db(now - window);
    let met: i64 = sla_clocks::table
        .filter(sla_clocks::contract_id.eq(&contract.id))
        .filter(sla_clocks::outcome.eq(ClockOutcome::Met.as_str()))
        .filter(sla_clocks::stopped_at.gt(since))
        .count()
        .get_result(conn)?;
    let breached: i64 = sla_clocks::table
        .filter(sla_clocks::contract_id.eq(&contract.id))
        .filter(sla_clocks::breached_at.gt(since))
        .count()
        .get_result(conn)?;
    let (met, breached) = (met.unsigned_abs(), breached.unsigned_abs());
    let percent = attainment_percent(met, breached);
    let floor = contract.sla.attainment_floor_percent;
    let judged = met + breached >= u64::from(contract.sla.attainment_min_clocks);
    let below_now = match (floor, percent) {
        (Some(floor), Some(p)) if judged => p < f64::from(floor),
        _ => false,
    };
    let alert_since: Option<chrono::NaiveDateTime> = contracts::table
        .find(&contract.id)
        .select(contracts::attainment_alert_since)
        .first(conn)
        .optional()?
        .flatten();
    let mut status = FloorStatus {
        contract: contract.id.clone(),
        met,
        breached,
        percent,
        floor,
        below: alert_since.is_some(),
        alert_raised: false,
        alert_cleared: false,
    };
    let details = json!({
        "met": met,
        "breached": breached,
        "attainment_percent": percent,
        "floor_percent": floor,
        "window_seconds": window.num_seconds(),
    });
    // Raise when newly below; clear when judged back at or above the floor (or it was removed).
    let raise = below_now && alert_since.is_none();
    let clear = alert_since.is_some() && (floor.is_none() || (judged && !below_now));
    if (raise || clear) && flip_alert(conn, &contract.id, raise, now)? {
        let action = if raise {
            Action::AttainmentAlert
        } else {
            Action::AttainmentRestored
        };
        ledger::append(
            conn,
            now,
            NewEntry {
                actor: SLA_ACTOR,
                action,
                contract_id: Some(&contract.id),
                ticket_id: None,
                details,
            },
        )?;
        status.alert_raised = raise;
        status.alert_cleared = clear;
    }
    if raise || clear {
        status.below = raise;
    }
    Ok(status)
}

/// Sets (`raise`) or clears the contract's alert, only if it is not already so: true when this
/// call changed it.
fn flip_alert(
    conn: &mut AnyConnection,
    contract_id: &str,
    raise: bool,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let row = contracts::table.find(contract_id);
    let since = contracts::attainment_alert_since;
    let changed = if raise {
        diesel::update(row.filter(since.is_null()))
            .set(since.eq(Some(to_db(now))))
            .execute(conn)?
    } else {
        diesel::update(row.filter(since.is_not_null()))
            .set(since.eq(None::<chrono::NaiveDateTime>))
            .execute(conn)?
    };
    Ok(changed == 1)
}
