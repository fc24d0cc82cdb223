//! Console sessions: opened with a compliance or admin token, kept server-side, identified by
//! a random value in the browser's cookie. The cookie is never the token: it opens nothing in
//! the API, lives at most [`LIFETIME`] (and never past the token's own expiry), and ends for
//! good on sign-out or when the token is revoked.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::{Claims, Role, is_revoked};
use crate::clock::to_db;
use crate::db::AnyConnection;
use crate::db::schema::console_sessions;
use crate::random::random_hex;

/// The longest a console session lasts.
pub const LIFETIME: chrono::Duration = chrono::Duration::hours(8);

/// A signed-in console user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// Who signed in (the token's subject).
    pub sub: String,
    /// Their role: compliance or admin.
    pub role: Role,
    /// The token that opened the session: revoking it ends the session.
    pub token_jti: String,
    /// The value every form of this session must send back.
    pub csrf: String,
    /// When the session ends on its own.
    pub expires_at: DateTime<Utc>,
}

impl ConsoleSession {
    /// Whether `sent` is this session's CSRF value (compared in constant time).
    pub fn csrf_matches(&self, sent: &str) -> bool {
        crate::crypto::same_secret(sent.as_bytes(), self.csrf.as_bytes())
    }
}

fn id_hash(cookie: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, cookie.as_bytes()).as_ref())
}

/// Opens a session for a verified token; returns the cookie's value (shown to nobody else,
/// stored only as its hash) and the session. Sessions that ended a day ago are cleared.
pub fn open(
    conn: &mut AnyConnection,
    claims: &Claims,
    now: DateTime<Utc>,
) -> QueryResult<(String, ConsoleSession)> {
    diesel::delete(
        console_sessions::table
            .filter(console_sessions::expires_at.lt(to_db(now - chrono::Duration::days(1)))),
    )
    .execute(conn)?;
    let token_end = DateTime::from_timestamp(claims.exp, 0).unwrap_or(now);
    let session = ConsoleSession {
        sub: claims.sub.clone(),
        role: claims.role,
        token_jti: claims.jti.clone(),
        csrf: random_hex(32),
        expires_at: (now + LIFETIME).min(token_end),
    };
    let cookie = random_hex(32);
    diesel::insert_into(console_sessions::table)
        .values((
            console_sessions::id_hash.eq(id_hash(&cookie)),
            console_sessions::sub.eq(&session.sub),
            console_sessions::role.eq(session.role.as_str()),
            console_sessions::token_jti.eq(&session.token_jti),
            console_sessions::csrf.eq(&session.csrf),
            console_sessions::created_at.eq(to_db(now)),
            console_sessions::expires_at.eq(to_db(session.expires_at)),
        ))
        .execute(conn)?;
    Ok((cookie, session))
}

/// The live session a cookie names: not ended, not expired at `now`, its token not revoked.
pub fn find(
    conn: &mut AnyConnection,
    cookie: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<ConsoleSession>> {
    let row: Option<(String, String, String, String, chrono::NaiveDateTime)> =
        console_sessions::table
            .find(id_hash(cookie))
            .filter(console_sessions::ended_at.is_null())
            .filter(console_sessions::expires_at.gt(to_db(now)))
            .select((
                console_sessions::sub,
                console_sessions::role,
                console_sessions::token_jti,
                console_sessions::csrf,
                console_sessions::expires_at,
            ))
            .first(conn)
            .optional()?;
    let Some((sub, role, token_jti, csrf, expires_at)) = row else {
        return Ok(None);
    };
    // A stored role the console does not serve (or cannot read) opens nothing.
    let Ok(role @ (Role::Admin | Role::Compliance)) = role.parse::<Role>() else {
        return Ok(None);
    };
    if is_revoked(conn, &token_jti)? {
        return Ok(None);
    }
    Ok(Some(ConsoleSession {
        sub,
        role,
        token_jti,
        csrf,
        expires_at: crate::clock::from_db(expires_at),
    }))
}

/// Ends the session a cookie names (sign-out); the cookie opens nothing afterwards.
pub fn end(conn: &mut AnyConnection, cookie: &str, now: DateTime<Utc>) -> QueryResult<bool> {
    let ended = diesel::update(
        console_sessions::table
            .find(id_hash(cookie))
            .filter(console_sessions::ended_at.is_null()),
    )
    .set(console_sessions::ended_at.eq(to_db(now)))
    .execute(conn)?;
    Ok(ended == 1)
}
