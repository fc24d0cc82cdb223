//! The in-house events a connection writes into its helpdesk, each at most once: a write is
//! claimed (`sending`, committed) before the helpdesk is called and settled (`done`) after it
//! answered. A claim left behind — the process died, or the call failed without saying whether
//! it took effect — is handed out again only as a recheck: the caller first looks in the
//! helpdesk for the write and sends it only when it is not there.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::clock::{from_db, to_db};
use crate::db::AnyConnection;
use crate::db::schema::{connector_cursors as cc, connector_writes as cw};

/// What a round may do with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Never tried: send it.
    Fresh,
    /// Tried before without a known outcome, since `since`: look in the helpdesk first.
    Recheck {
        /// When the earlier attempt began.
        since: DateTime<Utc>,
    },
    /// Another round is sending it now: stop here, to keep the order.
    Busy,
    /// Written (or given up on) already.
    Settled,
}

/// Claims `event_id` for `connector` at `now`; an attempt younger than `lease` is another
/// round's.
pub fn claim(
    conn: &mut AnyConnection,
    connector: &str,
    event_id: &str,
    now: DateTime<Utc>,
    lease: chrono::Duration,
) -> QueryResult<Claim> {
    let insert = diesel::insert_into(cw::table)
        .values((
            cw::connector.eq(connector),
            cw::event_id.eq(event_id),
            cw::state.eq("sending"),
            cw::attempted_at.eq(to_db(now)),
            cw::attempts.eq(1),
        ))
        .on_conflict((cw::connector, cw::event_id))
        .do_nothing();
    // Upserts are backend-specific in diesel.
    let inserted = match conn {
        AnyConnection::Postgresql(pg) => insert.execute(pg)?,
        AnyConnection::Sqlite(lite) => insert.execute(lite)?,
    };
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let (state, at): (String, chrono::NaiveDateTime) = cw::table
        .find((connector, event_id))
        .select((cw::state, cw::attempted_at))
        .first(conn)?;
    if state == "done" || state == "dead" {
        return Ok(Claim::Settled);
    }
    if state == "sending" && from_db(at) + lease > now {
        return Ok(Claim::Busy);
    }
    // Taken over only if nobody took it over since it was read.
    let taken = diesel::update(
        cw::table
            .find((connector, event_id))
            .filter(cw::state.eq(&state))
            .filter(cw::attempted_at.eq(at)),
    )
    .set((
        cw::state.eq("sending"),
        cw::attempted_at.eq(to_db(now)),
        cw::attempts.eq(cw::attempts + 1),
    ))
    .execute(conn)?;
    Ok(if taken == 1 {
        Claim::Recheck { since: from_db(at) }
    } else {
        Claim::Busy
    })
}

/// Settles `event_id` (`done`, or `dead` when the helpdesk refused it for good) and moves the
/// connection's write position past its feed `position`.
pub fn settle(
    conn: &mut AnyConnection,
    connector: &str,
    event_id: &str,
    dead: Option<&str>,
    position: i64,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(cw::table.find((connector, event_id)))
        .set((
            cw::state.eq(if dead.is_some() { "dead" } else { "done" }),
            cw::done_at.eq(to_db(now)),
            cw::last_error.eq(dead),
        ))
        .execute(conn)?;
    advance(conn, connector, position)
}

/// Moves the write position past `position` (an event that needs no write).
pub fn advance(conn: &mut AnyConnection, connector: &str, position: i64) -> QueryResult<()> {
    super::cursor::ensure_row(conn, connector)?;
    diesel::update(
        cc::table
            .find(connector)
            .filter(cc::write_position.lt(position)),
    )
    .set(cc::write_position.eq(position))
    .execute(conn)?;
    Ok(())
}

/// Notes that an attempt failed without a known outcome: the next round rechecks it.
pub fn failed(
    conn: &mut AnyConnection,
    connector: &str,
    event_id: &str,
    why: &str,
) -> QueryResult<()> {
    diesel::update(cw::table.find((connector, event_id)))
        .set((cw::state.eq("failed"), cw::last_error.eq(why)))
        .execute(conn)?;
    Ok(())
}

/// The feed position the connection has written back up to.
pub fn position(conn: &mut AnyConnection, connector: &str) -> QueryResult<i64> {
    Ok(cc::table
        .find(connector)
        .select(cc::write_position)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0))
}
