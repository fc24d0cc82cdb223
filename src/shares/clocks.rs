//! Storage of a share's SLA clocks: start, pause, resume, stop, and the claim the sweeper makes.
//! The arithmetic (business time, shifting, elapsed time) is [`crate::sla`]'s; this module only
//! keeps rows in step with it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::ShareRow;
use crate::clock::{from_db, to_db};
use crate::contracts::Calendar;
use crate::db::AnyConnection;
use crate::db::schema::sla_clocks;
use crate::model::{ClockKind, ClockOutcome, ClockState};
use crate::sla::{self, ClockPlan};

/// A stored clock.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sla_clocks)]
pub struct ClockRow {
    /// Clock id.
    pub id: i64,
    /// Its share.
    pub share_id: i64,
    /// The ticket.
    pub ticket_id: i64,
    /// The contract the target comes from.
    pub contract_id: String,
    /// Which clock.
    #[diesel(deserialize_as = String)]
    pub kind: ClockKind,
    /// The target in business seconds.
    pub target_secs: i64,
    /// When it started.
    pub started_at: chrono::NaiveDateTime,
    /// When it warns (shifted by pauses).
    pub warn_at: chrono::NaiveDateTime,
    /// When it breaches (shifted by pauses).
    pub due_at: chrono::NaiveDateTime,
    /// When the current pause began.
    pub paused_at: Option<chrono::NaiveDateTime>,
    /// When the warning was issued.
    pub warned_at: Option<chrono::NaiveDateTime>,
    /// When the breach was recorded.
    pub breached_at: Option<chrono::NaiveDateTime>,
    /// When it stopped.
    pub stopped_at: Option<chrono::NaiveDateTime>,
    /// How it ended (a [`ClockOutcome`] name).
    pub outcome: Option<String>,
    /// Business seconds it ran, pauses excluded, once stopped.
    pub elapsed_secs: Option<i64>,
}

/// A clock as both sides see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClockView {
    /// Which clock.
    pub kind: ClockKind,
    /// Where it stands.
    pub state: ClockState,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it falls due (pauses included).
    pub due_at: DateTime<Utc>,
    /// When the warning was issued.
    pub warned_at: Option<DateTime<Utc>>,
    /// When the breach was recorded.
    pub breached_at: Option<DateTime<Utc>>,
    /// When it stopped.
    pub stopped_at: Option<DateTime<Utc>>,
    /// Business seconds it ran, pauses excluded, once stopped.
    pub elapsed_seconds: Option<i64>,
}

impl ClockRow {
    fn target(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.target_secs)
    }

    /// The clock for the API.
    pub fn view(&self) -> ClockView {
        let outcome = self.outcome.as_deref().map(str::parse::<ClockOutcome>);
        let state = match (outcome, self.paused_at) {
            (Some(Ok(ClockOutcome::Met)), _) => ClockState::Met,
            (Some(Ok(ClockOutcome::Breached)), _) => ClockState::Breached,
            (Some(_), _) => ClockState::Cancelled,
            (None, _) if self.breached_at.is_some() => ClockState::Breached,
            (None, Some(_)) => ClockState::Paused,
            (None, None) => ClockState::Running,
        };
        ClockView {
            kind: self.kind,
            state,
            started_at: from_db(self.started_at),
            due_at: from_db(self.due_at),
            warned_at: self.warned_at.map(from_db),
            breached_at: self.breached_at.map(from_db),
            stopped_at: self.stopped_at.map(from_db),
            elapsed_seconds: self.elapsed_secs,
        }
    }
}

/// Starts the share's clocks of the given kinds with their plans, in one statement.
pub fn start(
    conn: &mut AnyConnection,
    share: &ShareRow,
    plans: &[(ClockKind, ClockPlan)],
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let rows: Vec<_> = plans
        .iter()
        .map(|(kind, plan)| {
            (
                sla_clocks::share_id.eq(share.id),
                sla_clocks::ticket_id.eq(share.ticket_id),
                sla_clocks::contract_id.eq(&share.contract_id),
                sla_clocks::kind.eq(kind.as_str()),
                sla_clocks::target_secs.eq(plan.target.num_seconds()),
                sla_clocks::started_at.eq(to_db(now)),
                sla_clocks::warn_at.eq(to_db(plan.warn_at)),
                sla_clocks::due_at.eq(to_db(plan.due_at)),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    // Multi-row INSERT is backend-specific in diesel.
    let insert = diesel::insert_into(sla_clocks::table).values(rows);
    match conn {
        AnyConnection::Postgresql(pg) => insert.execute(pg)?,
        AnyConnection::Sqlite(lite) => insert.execute(lite)?,
    };
    Ok(())
}

/// Every clock of a share, oldest first.
pub fn of_share(conn: &mut AnyConnection, share_id: i64) -> QueryResult<Vec<ClockRow>> {
    sla_clocks::table
        .filter(sla_clocks::share_id.eq(share_id))
        .order(sla_clocks::id)
        .select(ClockRow::as_select())
        .load(conn)
}

/// The clocks of `share_ids` that have not stopped.
pub fn running_of(conn: &mut AnyConnection, share_ids: &[i64]) -> QueryResult<Vec<ClockRow>> {
    sla_clocks::table
        .filter(sla_clocks::share_id.eq_any(share_ids))
        .filter(sla_clocks::stopped_at.is_null())
        .order(sla_clocks::id)
        .select(ClockRow::as_select())
        .load(conn)
}

/// The share's clocks that have not stopped.
pub fn running(conn: &mut AnyConnection, share_id: i64) -> QueryResult<Vec<ClockRow>> {
    sla_clocks::table
        .filter(sla_clocks::share_id.eq(share_id))
        .filter(sla_clocks::stopped_at.is_null())
        .order(sla_clocks::id)
        .select(ClockRow::as_select())
        .load(conn)
}

/// Pauses every running clock of the share; returns how many paused.
pub fn pause(conn: &mut AnyConnection, share_id: i64, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(
        sla_clocks::table
            .filter(sla_clocks::share_id.eq(share_id))
            .filter(sla_clocks::stopped_at.is_null())
            .filter(sla_clocks::paused_at.is_null()),
    )
    .set(sla_clocks::paused_at.eq(to_db(now)))
    .execute(conn)
}

/// Resumes the share's paused clocks, moving their warning and due times later by the business
/// time the pause took; returns how many resumed.
pub fn resume(
    conn: &mut AnyConnection,
    cal: &Calendar,
    share_id: i64,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let paused: Vec<ClockRow> = sla_clocks::table
        .filter(sla_clocks::share_id.eq(share_id))
        .filter(sla_clocks::stopped_at.is_null())
        .filter(sla_clocks::paused_at.is_not_null())
        .select(ClockRow::as_select())
        .load(conn)?;
    for clock in &paused {
        let Some(paused_at) = clock.paused_at.map(from_db) else {
            continue;
        };
        // A calendar that never opens again leaves the times where they were.
        let shift = |at: chrono::NaiveDateTime| {
            sla::shifted(cal, from_db(at), paused_at, now).map_or(at, to_db)
        };
        // A warning or breach already recorded stays where it happened.
        let warn_at = if clock.warned_at.is_some() {
            clock.warn_at
        } else {
            shift(clock.warn_at)
        };
        let due_at = if clock.breached_at.is_some() {
            clock.due_at
        } else {
            shift(clock.due_at)
        };
        diesel::update(sla_clocks::table.find(clock.id))
            .set((
                sla_clocks::paused_at.eq(None::<chrono::NaiveDateTime>),
                sla_clocks::warn_at.eq(warn_at),
                sla_clocks::due_at.eq(due_at),
            ))
            .execute(conn)?;
    }
    Ok(paused.len())
}

/// Puts a running clock on a new plan (its target changed): the target, and the warning and
/// due times unless the warning or breach is already recorded (those stay where they
/// happened).
pub fn set_plan(
    conn: &mut AnyConnection,
    clock: &ClockRow,
    plan: &ClockPlan,
) -> QueryResult<ClockRow> {
    let warn_at = match clock.warned_at {
        Some(_) => clock.warn_at,
        None => to_db(plan.warn_at),
    };
    let due_at = match clock.breached_at {
        Some(_) => clock.due_at,
        None => to_db(plan.due_at),
    };
    diesel::update(sla_clocks::table.find(clock.id))
        .set((
            sla_clocks::target_secs.eq(plan.target.num_seconds()),
            sla_clocks::warn_at.eq(warn_at),
            sla_clocks::due_at.eq(due_at),
        ))
        .returning(sla_clocks::all_columns)
        .get_result(conn)
}

/// A clock that [`stop`] ended late and that the sweeper had not yet marked breached.
#[derive(Debug, Clone)]
pub struct LateStop {
    /// The clock, as it was before stopping.
    pub clock: ClockRow,
    /// How long it ran in business time (`None` when the share ended under it).
    pub elapsed_secs: Option<i64>,
}

/// Stops the share's running clocks of `kinds` as met (in time) or breached (late). A paused
/// clock stops at the moment its pause began. Returns the clocks that stopped late without a
/// recorded breach, so the caller can record it.
pub fn stop(
    conn: &mut AnyConnection,
    cal: &Calendar,
    share_id: i64,
    kinds: &[ClockKind],
    now: DateTime<Utc>,
) -> QueryResult<Vec<LateStop>> {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let clocks: Vec<ClockRow> = sla_clocks::table
        .filter(sla_clocks::share_id.eq(share_id))
        .filter(sla_clocks::stopped_at.is_null())
        .filter(sla_clocks::kind.eq_any(names))
        .select(ClockRow::as_select())
        .load(conn)?;
    end(conn, clocks, Some(cal), now)
}

/// Ends every running clock of the share because the share ended (hand-back, recall): a clock
/// past its due time ends breached, the others are cancelled and count for nobody. Returns the
/// clocks found late without a recorded breach, as [`stop`] does.
pub fn cancel(
    conn: &mut AnyConnection,
    share_id: i64,
    now: DateTime<Utc>,
) -> QueryResult<Vec<LateStop>> {
    let clocks = running(conn, share_id)?;
    end(conn, clocks, None, now)
}

/// Ends `clocks` at `now` (a paused clock at the moment its pause began). Late clocks end
/// breached; clocks in time end met when stopped on `cal` (which also measures the business
/// time they ran), or cancelled when the share ended under them (`cal` is `None`).
fn end(
    conn: &mut AnyConnection,
    clocks: Vec<ClockRow>,
    cal: Option<&Calendar>,
    now: DateTime<Utc>,
) -> QueryResult<Vec<LateStop>> {
    let mut late = Vec::new();
    for clock in clocks {
        let effective = clock.paused_at.map_or(now, from_db);
        let due = from_db(clock.due_at);
        let elapsed =
            cal.map(|cal| sla::elapsed(cal, clock.target(), due, effective).num_seconds());
        let in_time = effective <= due && clock.breached_at.is_none();
        let outcome = match (in_time, cal) {
            (false, _) => ClockOutcome::Breached,
            (true, Some(_)) => ClockOutcome::Met,
            (true, None) => ClockOutcome::Cancelled,
        };
        let noticed_now = !in_time && clock.breached_at.is_none();
        let breached_at = clock.breached_at.or(noticed_now.then(|| to_db(now)));
        if finish(conn, clock.id, outcome, breached_at, elapsed, now)? && noticed_now {
            late.push(LateStop {
                clock,
                elapsed_secs: elapsed,
            });
        }
    }
    Ok(late)
}

fn finish(
    conn: &mut AnyConnection,
    id: i64,
    outcome: ClockOutcome,
    breached_at: Option<chrono::NaiveDateTime>,
    elapsed_secs: Option<i64>,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    // Conditional, so two transactions stopping the same clock record one outcome.
    let n = diesel::update(
        sla_clocks::table
            .find(id)
            .filter(sla_clocks::stopped_at.is_null()),
    )
    .set((
        sla_clocks::stopped_at.eq(to_db(now)),
        sla_clocks::outcome.eq(outcome.as_str()),
        sla_clocks::breached_at.eq(breached_at),
        sla_clocks::elapsed_secs.eq(elapsed_secs),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// True when some running, unpaused clock has a warning or breach due at `now`: a cheap read
/// that lets the sweeper skip its write transaction when there is nothing to do.
pub fn any_due(conn: &mut AnyConnection, now: DateTime<Utc>) -> QueryResult<bool> {
    Ok(!due_ids(conn, now, 1)?.is_empty())
}

type ClockQuery = sla_clocks::BoxedQuery<'static, <AnyConnection as diesel::Connection>::Backend>;

/// Ids of up to `limit` clocks with a warning due and up to `limit` with a breach due. Two
/// queries rather than one with OR, so each reads its own partial index.
fn due_ids(conn: &mut AnyConnection, now: DateTime<Utc>, limit: i64) -> QueryResult<Vec<i64>> {
    let now = to_db(now);
    let running = || -> ClockQuery {
        sla_clocks::table
            .filter(sla_clocks::stopped_at.is_null())
            .filter(sla_clocks::paused_at.is_null())
            .into_boxed()
    };
    let mut ids: Vec<i64> = running()
        .filter(sla_clocks::warned_at.is_null())
        .filter(sla_clocks::warn_at.le(now))
        .order(sla_clocks::warn_at)
        .limit(limit)
        .select(sla_clocks::id)
        .load(conn)?;
    // A breach is strictly after the due time: a reply exactly at it is in time.
    ids.extend(
        running()
            .filter(sla_clocks::breached_at.is_null())
            .filter(sla_clocks::due_at.lt(now))
            .order(sla_clocks::due_at)
            .limit(limit)
            .select(sla_clocks::id)
            .load::<i64>(conn)?,
    );
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Claims up to `limit` clocks with a warning or breach due, oldest due first. On PostgreSQL
/// the rows are locked with `FOR UPDATE SKIP LOCKED`, so replicas sweeping at once share the
/// work instead of queueing on each other; [`mark`] is conditional, so each warning and breach is recorded once whatever happens.
pub fn claim_due(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<ClockRow>> {
    let ids = due_ids(conn, now, limit)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Their tickets first, as every workflow takes them, and only those free now: a sweeper
    // that waited for a ticket while holding clocks could deadlock with a reply holding the
    // ticket and waiting for a clock. A clock left out is due again next round.
    let owners: Vec<(i64, i64)> = sla_clocks::table
        .filter(sla_clocks::id.eq_any(&ids))
        .select((sla_clocks::id, sla_clocks::ticket_id))
        .load(conn)?;
    let tickets: Vec<i64> = owners.iter().map(|(_, ticket)| *ticket).collect();
    let locked = crate::db::lock_tickets(conn, &tickets, crate::db::LockWait::SkipLocked)?;
    let ids: Vec<i64> = owners
        .into_iter()
        .filter(|(_, ticket)| locked.binary_search(ticket).is_ok())
        .map(|(id, _)| id)
        .collect();
    // Re-read under the lock: a clock another transaction stopped meanwhile drops out.
    let query = sla_clocks::table
        .filter(sla_clocks::id.eq_any(ids))
        .filter(sla_clocks::stopped_at.is_null())
        .order((sla_clocks::due_at, sla_clocks::id))
        .limit(limit)
        .select(sla_clocks::all_columns);
    match conn {
        AnyConnection::Postgresql(pg) => query.for_update().skip_locked().load(pg),
        // SQLite has one writer at a time: the write transaction is the lock.
        AnyConnection::Sqlite(lite) => query.load(lite),
    }
}

/// What [`mark`] records on a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// The warning was issued.
    Warned,
    /// The breach was recorded.
    Breached,
}

/// Records `what` on the clocks `ids` once each; returns the ids this call recorded (a clock
/// already marked, or stopped meanwhile, is left out), so concurrent sweepers never both
/// record the same warning or breach.
pub fn mark(
    conn: &mut AnyConnection,
    ids: &[i64],
    what: Mark,
    now: DateTime<Utc>,
) -> QueryResult<Vec<i64>> {
    let at = to_db(now);
    let running = sla_clocks::table
        .filter(sla_clocks::id.eq_any(ids))
        .filter(sla_clocks::stopped_at.is_null());
    match what {
        Mark::Warned => diesel::update(running.filter(sla_clocks::warned_at.is_null()))
            .set(sla_clocks::warned_at.eq(at))
            .returning(sla_clocks::id)
            .get_results(conn),
        Mark::Breached => diesel::update(running.filter(sla_clocks::breached_at.is_null()))
            .set(sla_clocks::breached_at.eq(at))
            .returning(sla_clocks::id)
            .get_results(conn),
    }
}

/// When each of the contract's clocks was decided in `[from, to)`, and whether it was met:
/// met when stopped in time, missed when it breached (at its breach time).
pub fn decided_between(
    conn: &mut AnyConnection,
    contract_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<(DateTime<Utc>, bool)>> {
    let (from, to) = (to_db(from), to_db(to));
    let met: Vec<chrono::NaiveDateTime> = sla_clocks::table
        .filter(sla_clocks::contract_id.eq(contract_id))
        .filter(sla_clocks::outcome.eq(ClockOutcome::Met.as_str()))
        .filter(sla_clocks::stopped_at.ge(from))
        .filter(sla_clocks::stopped_at.lt(to))
        .select(sla_clocks::stopped_at.assume_not_null())
        .load(conn)?;
    let breached: Vec<chrono::NaiveDateTime> = sla_clocks::table
        .filter(sla_clocks::contract_id.eq(contract_id))
        .filter(sla_clocks::breached_at.ge(from))
        .filter(sla_clocks::breached_at.lt(to))
        .select(sla_clocks::breached_at.assume_not_null())
        .load(conn)?;
    Ok(met
        .into_iter()
        .map(|at| (from_db(at), true))
        .chain(breached.into_iter().map(|at| (from_db(at), false)))
        .collect())
}
