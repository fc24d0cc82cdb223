//! A contract's capacity: how many of its shares are open, counted in stripes so that
//! parallel shares of one contract do not queue on one row lock.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::capacity_stripes;

/// How many stripes a contract's open shares are counted in: enough that concurrent shares of
/// one contract rarely wait for each other's row lock. Migration 12 creates as many.
pub const CAPACITY_STRIPES: i32 = 32;

/// The places of `max_open` that stripe `stripe` holds: the stripes' limits add up to
/// `max_open` exactly.
fn stripe_limit(max_open: u32, stripe: i32) -> i32 {
    let stripes = i64::from(CAPACITY_STRIPES);
    let max_open = i64::from(max_open);
    let limit = max_open / stripes + i64::from(i64::from(stripe) < max_open % stripes);
    i32::try_from(limit).unwrap_or(i32::MAX)
}

/// Open shares per contract, summed over its stripes.
pub fn open_by_contract(conn: &mut AnyConnection) -> QueryResult<HashMap<String, i32>> {
    let rows: Vec<(String, Option<i64>)> = capacity_stripes::table
        .group_by(capacity_stripes::contract_id)
        .select((
            capacity_stripes::contract_id,
            diesel::dsl::sum(capacity_stripes::open_shares),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, i32::try_from(n.unwrap_or(0)).unwrap_or(i32::MAX)))
        .collect())
}

/// Creates the contract's capacity stripes if they are missing (a contract stored first).
pub fn create_stripes(conn: &mut AnyConnection, contract_id: &str) -> QueryResult<()> {
    let rows: Vec<_> = (0..CAPACITY_STRIPES)
        .map(|stripe| {
            (
                capacity_stripes::contract_id.eq(contract_id),
                capacity_stripes::stripe.eq(stripe),
            )
        })
        .collect();
    let insert = diesel::insert_into(capacity_stripes::table)
        .values(rows)
        .on_conflict_do_nothing();
    // Multi-row INSERT is backend-specific in diesel.
    match conn {
        AnyConnection::Postgresql(pg) => insert.execute(pg)?,
        AnyConnection::Sqlite(lite) => insert.execute(lite)?,
    };
    Ok(())
}

/// Takes one of the contract's `max_open` places if one is free and returns the stripe it is
/// counted in. Each stripe is taken with a conditional UPDATE, so parallel requests on
/// PostgreSQL never overfill a contract; the ticket's own stripe is tried first, so parallel
/// shares of one contract lock different rows. A contract is refused only when every stripe
/// was full when looked at.
pub fn reserve(
    conn: &mut AnyConnection,
    contract_id: &str,
    max_open: u32,
    ticket_id: i64,
) -> QueryResult<Option<i32>> {
    let own = i32::try_from(ticket_id.rem_euclid(i64::from(CAPACITY_STRIPES))).unwrap_or(0);
    let take = |conn: &mut AnyConnection, stripe: i32| {
        diesel::update(
            capacity_stripes::table
                .find((contract_id, stripe))
                .filter(capacity_stripes::open_shares.lt(stripe_limit(max_open, stripe))),
        )
        .set(capacity_stripes::open_shares.eq(capacity_stripes::open_shares + 1))
        .execute(conn)
        .map(|n| n == 1)
    };
    if stripe_limit(max_open, own) > 0 && take(conn, own)? {
        return Ok(Some(own));
    }
    let stripes: Vec<(i32, i32)> = capacity_stripes::table
        .filter(capacity_stripes::contract_id.eq(contract_id))
        .select((capacity_stripes::stripe, capacity_stripes::open_shares))
        .load(conn)?;
    for (stripe, open) in stripes {
        if stripe != own && open < stripe_limit(max_open, stripe) && take(conn, stripe)? {
            return Ok(Some(stripe));
        }
    }
    Ok(None)
}

/// Gives back a place held in `stripe` (a share closed).
pub fn release(conn: &mut AnyConnection, contract_id: &str, stripe: i32) -> QueryResult<()> {
    diesel::update(
        capacity_stripes::table
            .find((contract_id, stripe))
            .filter(capacity_stripes::open_shares.gt(0)),
    )
    .set(capacity_stripes::open_shares.eq(capacity_stripes::open_shares - 1))
    .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_limits_add_up_to_the_capacity() {
        for max_open in [0, 1, 3, 31, 32, 33, 100, 1_000_000, u32::MAX] {
            let total: i64 = (0..CAPACITY_STRIPES)
                .map(|s| i64::from(stripe_limit(max_open, s)))
                .sum();
            assert_eq!(total, i64::from(max_open), "max_open {max_open}");
        }
        // Small capacities sit in the first stripes, one place each.
        assert_eq!(stripe_limit(3, 2), 1);
        assert_eq!(stripe_limit(3, 3), 0);
    }
}
