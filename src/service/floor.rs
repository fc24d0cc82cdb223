//! The floors: a contract's rolling SLA attainment, CSAT, NPS and first-contact resolution
//! measured against the floors it sets, each alert raised and cleared once per crossing, in
//! the ledger and as an in-house event (`quality.alert`, `quality.restored`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::clock::to_db;
use crate::contracts::ContractFile;
use crate::db::AnyConnection;
use crate::db::schema::{contracts, quality_alerts, sla_clocks};
use crate::ledger::{self, Action, NewEntry};
use crate::model::{ClockOutcome, EventType};
use crate::outbox::{self, Audience, NewEvent};
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
        let mut event = details.clone();
        event["metric"] = json!("sla_attainment");
        event["value"] = json!(percent);
        event["floor"] = json!(floor);
        announce(conn, &contract.id, action, details, event, now)?;
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

/// Records a floor crossing (`action`: an alert or its clearing) in the ledger with `details`,
/// and tells the in-house side with `event` (and the contract's id).
fn announce(
    conn: &mut AnyConnection,
    contract_id: &str,
    action: Action,
    details: serde_json::Value,
    mut event: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), TicketError> {
    let raise = matches!(action, Action::AttainmentAlert | Action::QualityAlert);
    ledger::append(
        conn,
        now,
        NewEntry {
            actor: SLA_ACTOR,
            action,
            contract_id: Some(contract_id),
            ticket_id: None,
            details,
        },
    )?;
    event["contract"] = json!(contract_id);
    outbox::enqueue(
        conn,
        now,
        vec![NewEvent {
            audience: Audience::Inhouse,
            ticket_id: None,
            event_type: if raise {
                EventType::QualityAlert
            } else {
                EventType::QualityRestored
            },
            data: event,
        }],
    )?;
    Ok(())
}

/// One quality floor of a contract, as checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityStatus {
    /// Contract id.
    pub contract: String,
    /// `csat` (satisfied percent), `nps` or `first_contact_resolution` (percent).
    pub metric: &'static str,
    /// Its value over the window, when there is any answer.
    pub value: Option<f64>,
    /// Answers (ratings, or tickets solved) it rests on.
    pub base: u64,
    /// The floor (none when the contract no longer sets it: its alert is cleared).
    pub floor: Option<f64>,
    /// True while below the floor (with enough answers to judge).
    pub below: bool,
    /// True when this check raised the alert.
    pub alert_raised: bool,
    /// True when this check cleared it.
    pub alert_cleared: bool,
}

/// Measures the contract's CSAT, NPS and first-contact resolution over its `[quality]` window
/// (the shares made in it, as the figures count them) against the floors it sets; raises or
/// clears each alert once per crossing, in the ledger and as an in-house event. A floor the
/// contract no longer sets has its alert cleared.
pub fn check_quality(
    conn: &mut AnyConnection,
    file: &ContractFile,
    now: DateTime<Utc>,
) -> Result<Vec<QualityStatus>, TicketError> {
    let contract = &file.contract;
    let q = &contract.quality;
    let window = chrono::Duration::from_std(q.window).unwrap_or(chrono::Duration::days(7));
    let active: Vec<String> = quality_alerts::table
        .filter(quality_alerts::contract_id.eq(&contract.id))
        .select(quality_alerts::metric)
        .load(conn)?;
    let no_floor =
        q.csat_floor_percent.is_none() && q.nps_floor.is_none() && q.fcr_floor_percent.is_none();
    if no_floor && active.is_empty() {
        // Nothing to judge and nothing to clear: the figures are not computed every sweep.
        return Ok(Vec::new());
    }
    // The figures' periods end before `to`: the window takes in what happened at `now` too.
    let to = now + chrono::Duration::microseconds(1);
    let f = crate::service::figures::figures(conn, &contract.id, to - window, to)?;
    let measured = [
        (
            "csat",
            q.csat_floor_percent.map(f64::from),
            f.csat.satisfied_percent,
            f.csat.ratings,
        ),
        (
            "nps",
            q.nps_floor.map(f64::from),
            f.nps.score,
            f.nps.responses,
        ),
        (
            "first_contact_resolution",
            q.fcr_floor_percent.map(f64::from),
            f.first_contact_resolution.percent,
            f.first_contact_resolution.of,
        ),
    ];
    let mut out = Vec::new();
    for (metric, floor, value, base) in measured {
        let was_below = active.iter().any(|m| m == metric);
        if floor.is_none() && !was_below {
            continue;
        }
        let judged = base >= u64::from(q.min_answers);
        let below_now = judged && matches!((value, floor), (Some(v), Some(f)) if v < f);
        let raise = below_now && !was_below;
        // Cleared when judged at or above the floor again, or when the floor was removed.
        let clear = was_below && (floor.is_none() || (judged && !below_now));
        let mut status = QualityStatus {
            contract: contract.id.clone(),
            metric,
            value,
            base,
            floor,
            below: was_below,
            alert_raised: false,
            alert_cleared: false,
        };
        if (raise || clear) && flip_quality(conn, &contract.id, metric, raise, now)? {
            let details = json!({
                "metric": metric,
                "value": value,
                "floor": floor,
                "base": base,
                "window_seconds": window.num_seconds(),
            });
            let action = if raise {
                Action::QualityAlert
            } else {
                Action::QualityRestored
            };
            announce(conn, &contract.id, action, details.clone(), details, now)?;
            status.alert_raised = raise;
            status.alert_cleared = clear;
            status.below = raise;
        }
        out.push(status);
    }
    Ok(out)
}

/// Raises (`raise`) or clears the contract's alert on `metric`, only if it is not already so:
/// true when this call changed it (so that parallel checks announce a crossing once).
fn flip_quality(
    conn: &mut AnyConnection,
    contract_id: &str,
    metric: &str,
    raise: bool,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = if raise {
        let insert = diesel::insert_into(quality_alerts::table)
            .values((
                quality_alerts::contract_id.eq(contract_id),
                quality_alerts::metric.eq(metric),
                quality_alerts::since.eq(to_db(now)),
            ))
            .on_conflict_do_nothing();
        match conn {
            AnyConnection::Sqlite(c) => insert.execute(c)?,
            AnyConnection::Postgresql(c) => insert.execute(c)?,
        }
    } else {
        diesel::delete(quality_alerts::table.find((contract_id, metric))).execute(conn)?
    };
    Ok(changed == 1)
}
