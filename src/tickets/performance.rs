//! How a contractor performs: SLA figures over a period, the rolling attainment measured
//! against the contract's floor, live figures for the metrics endpoint, and customer
//! satisfaction reported by the in-house side.
//!
//! Times are business seconds on the contract's calendar with pauses excluded, as the SLA
//! targets are.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use super::TicketError;
use crate::clock::to_db;
use crate::contracts::ContractFile;
use crate::db::AnyConnection;
use crate::db::schema::{comments, contracts, satisfaction, shares, sla_clocks};
use crate::ledger::{self, Action, NewEntry};
use crate::model::{ClockKind, ClockOutcome, ShareState};
use crate::sla::{attainment_percent, percentile};

/// Response times of one clock kind.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Times {
    /// Clocks stopped (answered or solved), in time or late.
    pub stopped: usize,
    /// Median business seconds.
    pub median_seconds: Option<i64>,
    /// 90th percentile business seconds.
    pub p90_seconds: Option<i64>,
}

/// Met against breached clocks.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Attainment {
    /// Clocks stopped in time.
    pub met: u64,
    /// Clocks that ran past their due time.
    pub breached: u64,
    /// Clocks still running and not yet due.
    pub running: u64,
    /// Met as a percentage of met + breached.
    pub percent: Option<f64>,
}

/// A count and its share of the period's tickets.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Rate {
    /// How many.
    pub count: u64,
    /// Percent of the base.
    pub percent: Option<f64>,
}

fn rate(count: u64, base: u64) -> Rate {
    Rate {
        count,
        percent: (base > 0).then(|| (count as f64 * 1000.0 / base as f64).round() / 10.0),
    }
}

/// Customer satisfaction reported for the period's shares.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Csat {
    /// Ratings received.
    pub ratings: u64,
    /// Average score (1–5).
    pub average: Option<f64>,
    /// Ratings of 4 or 5, as a percentage.
    pub satisfied_percent: Option<f64>,
}

/// A contractor's SLA figures for tickets shared in `[from, to)`.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct SlaFigures {
    /// Contract id.
    pub contract: String,
    /// Start of the period (inclusive).
    pub from: DateTime<Utc>,
    /// End of the period (exclusive).
    pub to: DateTime<Utc>,
    /// Tickets shared in the period.
    pub shared: u64,
    /// Time to first response.
    pub first_response: Times,
    /// Time to each next response.
    pub next_response: Times,
    /// Time to resolution.
    pub resolution: Times,
    /// Every clock of the period's tickets.
    pub attainment: Attainment,
    /// Attainment per clock kind.
    pub attainment_by_clock: std::collections::BTreeMap<String, Attainment>,
    /// Solved with a single public reply, of the solved tickets.
    pub one_touch_resolution: Rate,
    /// Tickets solved by the contractor.
    pub solved: u64,
    /// Handed back, of the shared tickets.
    pub handed_back: Rate,
    /// Recalled (by an operator or a breach), of the shared tickets.
    pub recalled: Rate,
    /// Customer satisfaction.
    pub csat: Csat,
}

fn times(mut values: Vec<i64>) -> Times {
    values.sort_unstable();
    Times {
        stopped: values.len(),
        median_seconds: percentile(&values, 50),
        p90_seconds: percentile(&values, 90),
    }
}

/// What the figures need of one clock.
struct ClockFacts {
    kind: String,
    outcome: Option<String>,
    /// Set only for clocks stopped by the contractor's work (never for cancelled ones).
    elapsed_secs: Option<i64>,
    breached: bool,
}

fn attainment<'a>(clocks: impl Iterator<Item = &'a ClockFacts>) -> Attainment {
    let mut a = Attainment {
        met: 0,
        breached: 0,
        running: 0,
        percent: None,
    };
    for clock in clocks {
        match clock.outcome.as_deref() {
            Some(o) if o == ClockOutcome::Met.as_str() => a.met += 1,
            _ if clock.breached => a.breached += 1,
            None => a.running += 1,
            // Cancelled before its due time: counts for nobody.
            Some(_) => {}
        }
    }
    a.percent = attainment_percent(a.met, a.breached);
    a
}

/// The SLA figures of `contract_id` for tickets shared in `[from, to)`.
pub fn figures(
    conn: &mut AnyConnection,
    contract_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<SlaFigures, TicketError> {
    if to <= from {
        return Err(TicketError::Invalid {
            field: "to".into(),
            message: "must be after `from`".into(),
        });
    }
    let cohort = || {
        shares::table
            .filter(shares::contract_id.eq(contract_id.to_owned()))
            .filter(shares::created_at.ge(to_db(from)))
            .filter(shares::created_at.lt(to_db(to)))
    };
    let states: Vec<(i64, String)> = cohort().select((shares::id, shares::state)).load(conn)?;
    let clocks: Vec<(String, Option<String>, Option<i64>, bool)> = sla_clocks::table
        .filter(sla_clocks::share_id.eq_any(cohort().select(shares::id)))
        .select((
            sla_clocks::kind,
            sla_clocks::outcome,
            sla_clocks::elapsed_secs,
            sla_clocks::breached_at.is_not_null(),
        ))
        .load(conn)?;
    let clocks: Vec<ClockFacts> = clocks
        .into_iter()
        .map(|(kind, outcome, elapsed_secs, breached)| ClockFacts {
            kind,
            outcome,
            elapsed_secs,
            breached,
        })
        .collect();
    let replies: Vec<(Option<i64>, i64)> = comments::table
        .filter(comments::origin.eq("contractor"))
        .filter(comments::public.eq(true))
        .filter(comments::share_id.eq_any(cohort().select(shares::id).nullable()))
        .group_by(comments::share_id)
        .select((comments::share_id, diesel::dsl::count_star()))
        .load(conn)?;
    let scores: Vec<i32> = satisfaction::table
        .filter(satisfaction::share_id.eq_any(cohort().select(shares::id)))
        .select(satisfaction::score)
        .load(conn)?;

    let of_kind = |kind: ClockKind| clocks.iter().filter(move |c| c.kind == kind.as_str());
    let elapsed_of = |kind: ClockKind| {
        of_kind(kind)
            .filter_map(|c| c.elapsed_secs)
            .collect::<Vec<_>>()
    };
    let by_clock = ClockKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), attainment(of_kind(*k))))
        .collect();
    let count_state = |s: ShareState| states.iter().filter(|r| r.1 == s.as_str()).count() as u64;
    let solved: Vec<i64> = states
        .iter()
        .filter(|r| r.1 == ShareState::Solved.as_str())
        .map(|r| r.0)
        .collect();
    let one_touch = solved
        .iter()
        .filter(|id| replies.iter().any(|(s, n)| *s == Some(**id) && *n == 1))
        .count() as u64;
    let shared = states.len() as u64;
    let rated = scores.len() as u64;
    Ok(SlaFigures {
        contract: contract_id.to_owned(),
        from,
        to,
        shared,
        first_response: times(elapsed_of(ClockKind::FirstResponse)),
        next_response: times(elapsed_of(ClockKind::NextResponse)),
        resolution: times(elapsed_of(ClockKind::Resolution)),
        attainment: attainment(clocks.iter()),
        attainment_by_clock: by_clock,
        one_touch_resolution: rate(one_touch, solved.len() as u64),
        solved: solved.len() as u64,
        handed_back: rate(count_state(ShareState::HandedBack), shared),
        recalled: rate(count_state(ShareState::Recalled), shared),
        csat: Csat {
            ratings: rated,
            average: (rated > 0).then(|| {
                let sum: i64 = scores.iter().map(|s| i64::from(*s)).sum();
                (sum as f64 * 100.0 / rated as f64).round() / 100.0
            }),
            satisfied_percent: rate(scores.iter().filter(|s| **s >= 4).count() as u64, rated)
                .percent,
        },
    })
}

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
                actor: super::timekeeping::SLA_ACTOR,
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

/// Live clock counts of one contract.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveClocks {
    /// Running clocks.
    pub running: i64,
    /// Paused clocks.
    pub paused: i64,
    /// Clocks past their due time and not yet stopped.
    pub overdue: i64,
}

/// Live clock counts per contract.
pub fn live_clocks(conn: &mut AnyConnection) -> Result<HashMap<String, LiveClocks>, TicketError> {
    let open = || sla_clocks::table.filter(sla_clocks::stopped_at.is_null());
    let running: Vec<(String, i64)> = open()
        .filter(sla_clocks::paused_at.is_null())
        .group_by(sla_clocks::contract_id)
        .select((sla_clocks::contract_id, diesel::dsl::count_star()))
        .load(conn)?;
    let paused: Vec<(String, i64)> = open()
        .filter(sla_clocks::paused_at.is_not_null())
        .group_by(sla_clocks::contract_id)
        .select((sla_clocks::contract_id, diesel::dsl::count_star()))
        .load(conn)?;
    let overdue: Vec<(String, i64)> = open()
        .filter(sla_clocks::breached_at.is_not_null())
        .group_by(sla_clocks::contract_id)
        .select((sla_clocks::contract_id, diesel::dsl::count_star()))
        .load(conn)?;
    let mut out: HashMap<String, LiveClocks> = HashMap::new();
    for (contract, n) in running {
        out.entry(contract).or_default().running = n;
    }
    for (contract, n) in paused {
        out.entry(contract).or_default().paused = n;
    }
    for (contract, n) in overdue {
        out.entry(contract).or_default().overdue = n;
    }
    Ok(out)
}

/// A customer's rating, as stored.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Rated {
    /// The ticket.
    pub ticket: i64,
    /// The share rated (the ticket's latest).
    pub share_id: i64,
    /// Its contract.
    pub contract: String,
    /// 1 to 5.
    pub score: i32,
    /// True when it replaced an earlier rating.
    pub replaced: bool,
}

/// Records the customer's rating (1–5) of the contractor's work on the ticket's latest share;
/// a new rating replaces the previous one.
pub fn rate_satisfaction(
    conn: &mut AnyConnection,
    ticket_id: i64,
    score: i32,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Rated, TicketError> {
    if !(1..=5).contains(&score) {
        return Err(TicketError::Invalid {
            field: "score".into(),
            message: "must be a whole number from 1 to 5".into(),
        });
    }
    super::store::find(conn, ticket_id)?.ok_or(TicketError::NotFound)?;
    let share = crate::shares::latest_for_ticket(conn, ticket_id)?
        .ok_or_else(|| TicketError::Conflict("the ticket was never with a contractor".into()))?;
    let replaced = diesel::update(satisfaction::table.find(share.id))
        .set((
            satisfaction::score.eq(score),
            satisfaction::rated_at.eq(to_db(now)),
        ))
        .execute(conn)?
        == 1;
    if !replaced {
        diesel::insert_into(satisfaction::table)
            .values((
                satisfaction::share_id.eq(share.id),
                satisfaction::ticket_id.eq(ticket_id),
                satisfaction::contract_id.eq(&share.contract_id),
                satisfaction::score.eq(score),
                satisfaction::rated_at.eq(to_db(now)),
            ))
            .execute(conn)?;
    }
    ledger::append(
        conn,
        now,
        NewEntry {
            actor,
            action: Action::Satisfaction,
            contract_id: Some(&share.contract_id),
            ticket_id: Some(ticket_id),
            details: json!({ "share_id": share.id, "score": score, "replaced": replaced }),
        },
    )?;
    Ok(Rated {
        ticket: ticket_id,
        share_id: share.id,
        contract: share.contract_id,
        score,
        replaced,
    })
}
