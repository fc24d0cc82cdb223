//! Who is calling: HS256 bearer tokens with a role, a contractor for contractors, an expiry
//! checked against the injected clock, and a `jti` that can be revoked.

mod jwt;
pub mod session;

use std::path::Path;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::clock::to_db;
use crate::db::AnyConnection;
use crate::db::schema::revoked_tokens;
use crate::model::is_identifier;

/// What a token lets its holder do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The in-house helpdesk: pushes tickets, reads everything about them.
    Inhouse,
    /// A contractor agency: sees only its own shares.
    Contractor,
    /// A compliance officer: reads reports and the ledger.
    Compliance,
    /// An administrator.
    Admin,
}

impl Role {
    /// The role's name in tokens and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inhouse => "inhouse",
            Self::Contractor => "contractor",
            Self::Compliance => "compliance",
            Self::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "inhouse" => Ok(Self::Inhouse),
            "contractor" => Ok(Self::Contractor),
            "compliance" => Ok(Self::Compliance),
            "admin" => Ok(Self::Admin),
            other => Err(format!(
                "unknown role `{other}`, expected inhouse, contractor, compliance or admin"
            )),
        }
    }
}

/// The claims our tokens carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The subject: a person or system name.
    pub sub: String,
    /// The role.
    pub role: Role,
    /// The contractor, for contractor tokens only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contractor: Option<String>,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before (seconds since the epoch): ours never set it, but a token that does is held
    /// to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Unique token id, for revocation.
    pub jti: String,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("missing bearer token")]
    Missing,
    /// Not a well-formed token, or claims of the wrong shape.
    #[error("malformed token")]
    Malformed,
    /// Signed with another key or algorithm (including `none`).
    #[error("invalid token signature or algorithm")]
    BadSignature,
    /// Past its expiry.
    #[error("token expired")]
    Expired,
    /// Issued (or valid from) later than now, beyond the allowed clock skew; or living longer
    /// than its role may; or naming header extensions (`crit`) the gateway does not implement.
    #[error("token not acceptable: {0}")]
    Unacceptable(&'static str),
    /// Revoked by an operator.
    #[error("token revoked")]
    Revoked,
    /// Valid token, wrong role for this endpoint.
    #[error("this endpoint needs the {0} role")]
    Forbidden(&'static str),
    /// A token could not be issued as asked.
    #[error("{0}")]
    InvalidRequest(String),
    /// The signing key could not be loaded.
    #[error("signing key: {0}")]
    Key(String),
}

/// Minimum length of a configured secret, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// How far a token's `iat` or `nbf` may lie ahead of the gateway's clock (clocks of the
/// issuing machine and the gateway differ a little).
pub const CLOCK_SKEW_SECONDS: i64 = 60;

/// The longest lifetime a token of each role may have: checked when issuing, and again on
/// every request (`exp - iat`), so a token minted elsewhere with the secret cannot live
/// forever either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxLifetimes {
    /// In-house tokens (helpdesk integrations).
    pub inhouse: std::time::Duration,
    /// Contractor tokens.
    pub contractor: std::time::Duration,
    /// Compliance officers.
    pub compliance: std::time::Duration,
    /// Administrators.
    pub admin: std::time::Duration,
}

impl Default for MaxLifetimes {
    fn default() -> Self {
        let days = |d: u64| std::time::Duration::from_secs(d * 86_400);
        Self {
            inhouse: days(365),
            contractor: days(90),
            compliance: days(30),
            admin: days(30),
        }
    }
}

impl MaxLifetimes {
    /// The maximum for `role`.
    pub fn of(&self, role: Role) -> std::time::Duration {
        match role {
            Role::Inhouse => self.inhouse,
            Role::Contractor => self.contractor,
            Role::Compliance => self.compliance,
            Role::Admin => self.admin,
        }
    }

    /// The defaults with some roles changed: `contractor=30d,admin=12h` (roles left out keep
    /// their default).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut max = Self::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (role, ttl) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not role=duration"))?;
            let ttl = crate::contracts::duration::parse(ttl)?;
            match role.trim().parse::<Role>()? {
                Role::Inhouse => max.inhouse = ttl,
                Role::Contractor => max.contractor = ttl,
                Role::Compliance => max.compliance = ttl,
                Role::Admin => max.admin = ttl,
            }
        }
        Ok(max)
    }
}

/// Issues and verifies tokens with one HS256 secret.
#[derive(Clone)]
pub struct TokenKeys {
    key: jwt::Hs256,
    max: MaxLifetimes,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    /// Keys from a secret of at least [`MIN_SECRET_LEN`] bytes.
    pub fn from_secret(secret: &[u8]) -> Result<Self, AuthError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(AuthError::Key(format!(
                "the secret must be at least {MIN_SECRET_LEN} bytes"
            )));
        }
        Ok(Self {
            key: jwt::Hs256::new(secret),
            max: MaxLifetimes::default(),
        })
    }

    /// The same keys, holding tokens to these maximum lifetimes.
    pub fn with_max_lifetimes(mut self, max: MaxLifetimes) -> Self {
        self.max = max;
        self
    }

    /// Loads the secret from `BRIDGE_JWT_SECRET` if given, else from `<data_dir>/jwt-secret`,
    /// creating that file (mode 0600) with a fresh random secret on first use.
    pub fn load(env_secret: Option<&str>, data_dir: &Path) -> Result<Self, AuthError> {
        if let Some(secret) = env_secret.filter(|s| !s.is_empty()) {
            return Self::from_secret(secret.as_bytes());
        }
        let secret =
            crate::secrets::load_or_create(data_dir, "jwt-secret").map_err(AuthError::Key)?;
        Self::from_secret(secret.as_bytes())
    }

    /// Issues a token. Contractor tokens must name a contractor; others must not.
    pub fn issue(
        &self,
        sub: &str,
        role: Role,
        contractor: Option<&str>,
        ttl: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<(String, Claims), AuthError> {
        match (role, contractor) {
            (Role::Contractor, None) => {
                return Err(AuthError::InvalidRequest(
                    "a contractor token needs --contractor".into(),
                ));
            }
            (Role::Contractor, Some(c)) if !is_identifier(c) => {
                return Err(AuthError::InvalidRequest(format!(
                    "`{c}` is not a contractor id"
                )));
            }
            (Role::Contractor, Some(_)) => {}
            (_, Some(_)) => {
                return Err(AuthError::InvalidRequest(
                    "only contractor tokens name a contractor".into(),
                ));
            }
            (_, None) => {}
        }
        let max = self.max.of(role);
        if ttl > max {
            return Err(AuthError::InvalidRequest(format!(
                "a {} token may live at most {} days (BRIDGE_TOKEN_MAX_TTL); asked for {} days",
                role.as_str(),
                max.as_secs() / 86_400,
                ttl.as_secs() / 86_400
            )));
        }
        let exp = chrono::Duration::from_std(ttl)
            .ok()
            .and_then(|ttl| now.checked_add_signed(ttl))
            .ok_or_else(|| AuthError::InvalidRequest("the lifetime is too long".into()))?;
        let claims = Claims {
            sub: sub.to_owned(),
            role,
            contractor: contractor.map(str::to_owned),
            iat: now.timestamp(),
            nbf: None,
            exp: exp.timestamp(),
            jti: crate::random::random_hex(16),
        };
        let token = self
            .key
            .sign(&claims)
            .map_err(|e| AuthError::Key(e.to_string()))?;
        Ok((token, claims))
    }

    /// Checks a token's signature, algorithm (HS256 only), header, shape, issue and expiry
    /// times at `now`, and its lifetime against its role's maximum. Revocation is checked
    /// separately against the database ([`is_revoked`]).
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, AuthError> {
        let claims: Claims = self.key.verify(token)?;
        let now = now.timestamp();
        if claims.exp <= now {
            return Err(AuthError::Expired);
        }
        let latest_start = now.saturating_add(CLOCK_SKEW_SECONDS);
        if claims.iat > latest_start || claims.nbf.is_some_and(|nbf| nbf > latest_start) {
            return Err(AuthError::Unacceptable("issued in the future"));
        }
        let lifetime = claims.exp.saturating_sub(claims.iat);
        let max = i64::try_from(self.max.of(claims.role).as_secs()).unwrap_or(i64::MAX);
        if lifetime > max {
            return Err(AuthError::Unacceptable(
                "it lives longer than its role allows",
            ));
        }
        let contractor_ok = match claims.role {
            Role::Contractor => claims.contractor.as_deref().is_some_and(is_identifier),
            _ => claims.contractor.is_none(),
        };
        if !contractor_ok || claims.jti.is_empty() {
            return Err(AuthError::Malformed);
        }
        Ok(claims)
    }
}

/// True when the token id has been revoked.
pub fn is_revoked(conn: &mut AnyConnection, jti: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(revoked_tokens::table.find(jti))).get_result(conn)
}

/// Revokes a token id; revoking it again changes nothing. Returns true when newly revoked.
pub fn revoke(
    conn: &mut AnyConnection,
    jti: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    if is_revoked(conn, jti)? {
        return Ok(false);
    }
    diesel::insert_into(revoked_tokens::table)
        .values((
            revoked_tokens::jti.eq(jti),
            revoked_tokens::revoked_at.eq(to_db(now)),
            revoked_tokens::reason.eq(reason),
        ))
        .execute(conn)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn keys() -> TokenKeys {
        TokenKeys::from_secret(&[7_u8; 32]).unwrap_or_else(|e| panic!("{e}"))
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let k = keys();
        let (token, claims) = k
            .issue(
                "ops",
                Role::Contractor,
                Some("acme"),
                Duration::from_secs(60),
                now(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(k.verify(&token, now()), Ok(claims));
        let later = now() + chrono::Duration::seconds(60);
        assert_eq!(k.verify(&token, later), Err(AuthError::Expired));
    }

    #[test]
    fn other_keys_and_alg_none_are_refused() {
        let (token, _) = keys()
            .issue("ops", Role::Admin, None, Duration::from_secs(60), now())
            .unwrap_or_else(|e| panic!("{e}"));
        let other = TokenKeys::from_secret(&[8_u8; 32]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(other.verify(&token, now()), Err(AuthError::BadSignature));
        let mut parts = token.split('.');
        let (_, payload) = (parts.next(), parts.next().unwrap_or_default());
        let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; // {"alg":"none","typ":"JWT"}
        let unsigned = format!("{none_header}.{payload}.");
        assert!(matches!(
            keys().verify(&unsigned, now()),
            Err(AuthError::BadSignature | AuthError::Malformed)
        ));
        assert_eq!(
            keys().verify("not.a.token", now()),
            Err(AuthError::Malformed)
        );
    }

    #[test]
    fn contractor_claim_must_fit_the_role() {
        let k = keys();
        let ttl = Duration::from_secs(60);
        assert!(k.issue("x", Role::Contractor, None, ttl, now()).is_err());
        assert!(
            k.issue("x", Role::Inhouse, Some("acme"), ttl, now())
                .is_err()
        );
        assert!(
            k.issue("x", Role::Contractor, Some("Bad Id"), ttl, now())
                .is_err()
        );
        assert!(TokenKeys::from_secret(b"short").is_err());
    }

    /// A token signed with the test key, carrying `claims` and `header` as given.
    fn minted(header: &serde_json::Value, claims: &serde_json::Value) -> String {
        jwt::Hs256::new(&[7_u8; 32])
            .compact(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }

    fn claims_at(iat: i64, nbf: Option<i64>, exp: i64) -> serde_json::Value {
        serde_json::json!({ "sub": "x", "role": "admin", "iat": iat, "nbf": nbf, "exp": exp, "jti": "j1" })
    }

    #[test]
    fn tokens_from_the_future_or_living_too_long_are_refused() {
        let hs256 = serde_json::json!({ "alg": "HS256", "typ": "JWT" });
        let t = now().timestamp();
        let fine = minted(&hs256, &claims_at(t + 30, None, t + 3_600));
        assert!(keys().verify(&fine, now()).is_ok(), "within the clock skew");
        for (what, claims) in [
            ("future iat", claims_at(t + 3_600, None, t + 7_200)),
            ("future nbf", claims_at(t, Some(t + 3_600), t + 7_200)),
            ("exp = 2^63-1", claims_at(t, None, i64::MAX)),
            (
                "older than its role allows",
                claims_at(t - 40 * 86_400, None, t + 60),
            ),
            (
                "iat far in the past, exp far ahead",
                claims_at(i64::MIN, None, t + 60),
            ),
        ] {
            assert!(
                matches!(
                    keys().verify(&minted(&hs256, &claims), now()),
                    Err(AuthError::Unacceptable(_))
                ),
                "{what}"
            );
        }
        let critical = serde_json::json!({ "alg": "HS256", "typ": "JWT", "crit": ["exp"] });
        assert_eq!(
            keys().verify(&minted(&critical, &claims_at(t, None, t + 60)), now()),
            Err(AuthError::Unacceptable(
                "it names critical header extensions"
            ))
        );
    }

    #[test]
    fn lifetimes_are_bounded_per_role_and_never_overflow() {
        let k = keys().with_max_lifetimes(
            MaxLifetimes::parse("contractor=7d").unwrap_or_else(|e| panic!("{e}")),
        );
        let days = |d: u64| Duration::from_secs(d * 86_400);
        assert!(
            k.issue("x", Role::Contractor, Some("acme"), days(7), now())
                .is_ok()
        );
        assert!(
            k.issue("x", Role::Contractor, Some("acme"), days(8), now())
                .is_err()
        );
        assert!(
            k.issue("x", Role::Inhouse, None, days(365), now()).is_ok(),
            "default kept"
        );
        // Far beyond any date: a clear error, never a panic.
        let huge = k.with_max_lifetimes(MaxLifetimes {
            admin: Duration::from_secs(u64::MAX),
            ..MaxLifetimes::default()
        });
        assert!(matches!(
            huge.issue("x", Role::Admin, None, days(999_999_999), now()),
            Err(AuthError::InvalidRequest(_))
        ));
        assert!(MaxLifetimes::parse("boss=1d").is_err());
        assert!(MaxLifetimes::parse("admin").is_err());
        assert_eq!(MaxLifetimes::parse(""), Ok(MaxLifetimes::default()));
    }
}
