//! How a contractor performs: SLA figures over a period (the API, the console and the
//! reports read the same numbers), and live clock counts for the metrics endpoint.
//!
//! Times are business seconds on the contract's calendar with pauses excluded, as the SLA
//! targets are.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::clock::to_db;
use crate::db::AnyConnection;
use crate::db::schema::{comments, feedback, shares, sla_clocks};
use crate::model::{ClockKind, ClockOutcome, ShareState};
use crate::sla::{attainment_percent, percentile};
use crate::tickets::TicketError;

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
    /// The base (not sent: the figures name it in words).
    #[serde(skip)]
    pub of: u64,
}

fn rate(count: u64, base: u64) -> Rate {
    Rate {
        count,
        of: base,
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
    /// Ratings that came with the customer's words.
    pub with_comment: u64,
}

/// Net promoter answers (0–10) reported for the period's shares.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Nps {
    /// Answers received.
    pub responses: u64,
    /// Answers of 9 or 10.
    pub promoters: u64,
    /// Answers of 7 or 8.
    pub passives: u64,
    /// Answers of 0 to 6.
    pub detractors: u64,
    /// Promoters minus detractors, in percent of the answers (−100 to 100).
    pub score: Option<f64>,
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
    /// First-contact resolution: solved with a single public reply and never reopened, of
    /// the tickets the contractor solved at least once (a reopened ticket counts as not
    /// resolved, whatever happened after).
    pub first_contact_resolution: Rate,
    /// Reopened (the customer wrote again after it was solved), of the tickets the contractor
    /// solved at least once.
    pub reopened: Rate,
    /// Tickets solved by the contractor.
    pub solved: u64,
    /// Handed back, of the shared tickets.
    pub handed_back: Rate,
    /// Recalled (by an operator or a breach), of the shared tickets.
    pub recalled: Rate,
    /// Customer satisfaction.
    pub csat: Csat,
    /// Net promoter answers.
    pub nps: Nps,
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
    let states: Vec<(i64, String, i32)> = cohort()
        .select((shares::id, shares::state, shares::reopened_count))
        .load(conn)?;
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
    let answers: Vec<(String, i32, bool)> = feedback::table
        .filter(feedback::share_id.eq_any(cohort().select(shares::id)))
        .select((
            feedback::kind,
            feedback::score,
            feedback::comment.is_not_null(),
        ))
        .load(conn)?;
    let answers_of = |kind: &'static str| answers.iter().filter(move |a| a.0 == kind);
    let scores: Vec<i32> = answers_of("csat").map(|a| a.1).collect();
    let nps: Vec<i32> = answers_of("nps").map(|a| a.1).collect();
    let csat_with_comment = answers_of("csat").filter(|a| a.2).count() as u64;

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
    let one_reply = |id: i64| replies.iter().any(|(s, n)| *s == Some(id) && *n == 1);
    let one_touch = solved.iter().filter(|id| one_reply(**id)).count() as u64;
    // Solved at least once: solved now, or reopened (only a solved share is reopened).
    let ever_solved = states
        .iter()
        .filter(|r| r.1 == ShareState::Solved.as_str() || r.2 > 0)
        .count() as u64;
    let reopened = states.iter().filter(|r| r.2 > 0).count() as u64;
    let first_contact = states
        .iter()
        .filter(|r| r.1 == ShareState::Solved.as_str() && r.2 == 0 && one_reply(r.0))
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
        first_contact_resolution: rate(first_contact, ever_solved),
        reopened: rate(reopened, ever_solved),
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
            with_comment: csat_with_comment,
        },
        nps: nps_of(&nps),
    })
}

fn nps_of(answers: &[i32]) -> Nps {
    let responses = answers.len() as u64;
    let promoters = answers.iter().filter(|s| **s >= 9).count() as u64;
    let detractors = answers.iter().filter(|s| **s <= 6).count() as u64;
    Nps {
        responses,
        promoters,
        passives: responses - promoters - detractors,
        detractors,
        score: (responses > 0).then(|| {
            let net = promoters as f64 - detractors as f64;
            (net * 1000.0 / responses as f64).round() / 10.0
        }),
    }
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
