//! Where each connection has read up to, and how it fares. The position moves only in the
//! transaction that stores what was read ([`advance`] is a compare-and-set), so a change is
//! taken once however many replicas poll and however often one restarts.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::clock::{from_db, to_db};
use crate::db::AnyConnection;
use crate::db::schema::connector_cursors as cc;

/// A connection's state, as `/readyz` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// The connection's id.
    pub connector: String,
    /// The helpdesk's position read up to (Request Tracker: a transaction id).
    pub position: i64,
    /// When the newest change taken in was made in the helpdesk.
    pub last_change_at: Option<DateTime<Utc>>,
    /// The end of the last round that worked.
    pub last_success_at: Option<DateTime<Utc>>,
    /// The end of the last round that failed.
    pub last_failure_at: Option<DateTime<Utc>>,
    /// Why it failed (no personal data: a call, a status or a field name).
    pub last_error: Option<String>,
    /// Rounds failed in a row.
    pub failures: i64,
}

/// Where `connector` has read up to: 0 before its first round.
pub fn position(conn: &mut AnyConnection, connector: &str) -> QueryResult<i64> {
    Ok(cc::table
        .find(connector)
        .select(cc::position)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0))
}

/// Moves `connector` from `from` to `to` (and notes the newest change's time) if it still
/// stands at `from`, locking its row until the transaction ends; false when another round
/// moved it first.
pub fn advance(
    conn: &mut AnyConnection,
    connector: &str,
    from: i64,
    to: i64,
    change_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    ensure_row(conn, connector)?;
    let moved = diesel::update(
        cc::table
            .filter(cc::connector.eq(connector))
            .filter(cc::position.eq(from)),
    )
    .set((
        cc::position.eq(to),
        cc::last_success_at.eq(to_db(now)),
        cc::failures.eq(0_i64),
    ))
    .execute(conn)?;
    if moved == 1
        && let Some(at) = change_at
    {
        diesel::update(cc::table.find(connector))
            .set(cc::last_change_at.eq(to_db(at)))
            .execute(conn)?;
    }
    Ok(moved == 1)
}

/// Takes the connection for a round by `owner` until `now + lease`, unless another replica
/// holds it; false when one does.
pub fn take_lease(
    conn: &mut AnyConnection,
    connector: &str,
    owner: &str,
    now: DateTime<Utc>,
    lease: chrono::Duration,
) -> QueryResult<bool> {
    ensure_row(conn, connector)?;
    let taken = diesel::update(
        cc::table.find(connector).filter(
            cc::lease_until
                .is_null()
                .or(cc::lease_until.lt(to_db(now)))
                .or(cc::lease_owner.eq(owner)),
        ),
    )
    .set((
        cc::lease_owner.eq(owner),
        cc::lease_until.eq(to_db(now + lease)),
    ))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Gives the connection back after a round by `owner`.
pub fn release_lease(conn: &mut AnyConnection, connector: &str, owner: &str) -> QueryResult<()> {
    diesel::update(cc::table.find(connector).filter(cc::lease_owner.eq(owner)))
        .set((
            cc::lease_owner.eq(None::<String>),
            cc::lease_until.eq(None::<chrono::NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Notes a round that found nothing new.
pub fn idle(conn: &mut AnyConnection, connector: &str, now: DateTime<Utc>) -> QueryResult<()> {
    ensure_row(conn, connector)?;
    diesel::update(cc::table.find(connector))
        .set((cc::last_success_at.eq(to_db(now)), cc::failures.eq(0_i64)))
        .execute(conn)?;
    Ok(())
}

/// Registers a connection when it is first configured: it reads the helpdesk from the
/// beginning, and writes back only in-house events from `feed_end` on — events of earlier
/// days were the in-house side's to apply (through its webhook or the feed), and sending them
/// again would double them in the helpdesk. A known connection keeps its positions.
pub fn register(conn: &mut AnyConnection, connector: &str, feed_end: i64) -> QueryResult<()> {
    let insert = diesel::insert_into(cc::table)
        .values((
            cc::connector.eq(connector),
            cc::position.eq(0_i64),
            cc::write_position.eq(feed_end),
            cc::failures.eq(0_i64),
        ))
        .on_conflict(cc::connector)
        .do_nothing();
    // Upserts are backend-specific in diesel.
    match conn {
        AnyConnection::Postgresql(pg) => insert.execute(pg)?,
        AnyConnection::Sqlite(lite) => insert.execute(lite)?,
    };
    Ok(())
}

/// Makes the connection's row if it has none (its write-back from the feed's start).
pub(super) fn ensure_row(conn: &mut AnyConnection, connector: &str) -> QueryResult<()> {
    register(conn, connector, 0)
}

/// Notes a failed round and why; the position stays.
pub fn failed(
    conn: &mut AnyConnection,
    connector: &str,
    why: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    ensure_row(conn, connector)?;
    diesel::update(cc::table.find(connector))
        .set((
            cc::last_failure_at.eq(to_db(now)),
            cc::last_error.eq(why),
            cc::failures.eq(cc::failures + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// The state of every connection that has run, by id.
pub fn health(conn: &mut AnyConnection) -> QueryResult<Vec<Health>> {
    type Row = (
        String,
        i64,
        Option<chrono::NaiveDateTime>,
        Option<chrono::NaiveDateTime>,
        Option<chrono::NaiveDateTime>,
        Option<String>,
        i64,
    );
    let rows: Vec<Row> = cc::table
        .order(cc::connector)
        .select((
            cc::connector,
            cc::position,
            cc::last_change_at,
            cc::last_success_at,
            cc::last_failure_at,
            cc::last_error,
            cc::failures,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(connector, position, change, success, failure, last_error, failures)| Health {
                connector,
                position,
                last_change_at: change.map(from_db),
                last_success_at: success.map(from_db),
                last_failure_at: failure.map(from_db),
                last_error,
                failures,
            },
        )
        .collect())
}
