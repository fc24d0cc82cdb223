//! Stored first answers to `Idempotency-Key`s.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::idempotency_keys;
use crate::clock::to_db;

/// A stored first answer.
#[derive(Debug, Clone, Queryable)]
pub struct StoredAnswer {
    /// Digest of the request body that produced it.
    pub request_digest: String,
    /// HTTP status.
    pub status: i32,
    /// Body, JSON text.
    pub response: String,
}

/// The answer stored for `key` in `scope`, if any.
pub fn find(conn: &mut AnyConnection, scope: &str, key: &str) -> QueryResult<Option<StoredAnswer>> {
    idempotency_keys::table
        .find((scope, key))
        .select((
            idempotency_keys::request_digest,
            idempotency_keys::status,
            idempotency_keys::response,
        ))
        .get_result(conn)
        .optional()
}

/// Stores the first answer for `key` in `scope`. A concurrent first request with the same key
/// makes this fail with a unique violation, and the caller retries to find this answer.
pub fn store(
    conn: &mut AnyConnection,
    scope: &str,
    key: &str,
    answer: &StoredAnswer,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::scope.eq(scope),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_digest.eq(&answer.request_digest),
            idempotency_keys::status.eq(answer.status),
            idempotency_keys::response.eq(&answer.response),
            idempotency_keys::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}
