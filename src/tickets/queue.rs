//! The in-house queue depth: reported by the helpdesk, or counted from the tickets held.

use chrono::{DateTime, Utc};

use super::TicketError;
use crate::db::AnyConnection;

/// How long a depth the in-house side reported stays in force before the gateway falls back
/// to counting the tickets it holds.
pub const QUEUE_REPORT_TTL_MINUTES: i64 = 15;

/// The in-house queue depth: the figure the helpdesk last reported with `PUT /api/v1/queue`
/// if it is fresh, otherwise the open tickets the gateway holds that no contractor has.
pub fn queue_depth(conn: &mut AnyConnection, now: DateTime<Utc>) -> Result<i64, TicketError> {
    use crate::db::schema::queue_reports;
    use diesel::prelude::*;
    let fresh_after =
        crate::clock::to_db(now - chrono::Duration::minutes(QUEUE_REPORT_TTL_MINUTES));
    let reported: Option<i64> = queue_reports::table
        .find(1)
        .filter(queue_reports::reported_at.gt(fresh_after))
        .select(queue_reports::depth)
        .get_result(conn)
        .optional()?;
    if let Some(depth) = reported {
        return Ok(depth);
    }
    Ok(super::store::waiting_count(conn)?)
}

/// Stores the queue depth the in-house side reports.
pub fn report_queue(
    conn: &mut AnyConnection,
    depth: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), TicketError> {
    use crate::db::schema::queue_reports;
    use diesel::prelude::*;
    if depth < 0 {
        return Err(TicketError::Invalid {
            field: "depth".into(),
            message: "must not be negative".into(),
        });
    }
    let values = (
        queue_reports::depth.eq(depth),
        queue_reports::reported_at.eq(crate::clock::to_db(now)),
        queue_reports::reported_by.eq(actor),
    );
    let updated = diesel::update(queue_reports::table.find(1))
        .set(values)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(queue_reports::table)
            .values((queue_reports::id.eq(1), values))
            .execute(conn)?;
    }
    Ok(())
}
