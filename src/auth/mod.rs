//! Who is calling: HS256 bearer tokens with a role, a contractor for contractors, an expiry
//! checked against the injected clock, and a `jti` that can be revoked.

use std::path::Path;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
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

/// Issues and verifies tokens with one HS256 secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
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
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the injected clock in `verify`, not the system time.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        validation.leeway = 0;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        })
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
        let ttl = chrono::Duration::from_std(ttl)
            .map_err(|_| AuthError::InvalidRequest("ttl is too long".into()))?;
        let claims = Claims {
            sub: sub.to_owned(),
            role,
            contractor: contractor.map(str::to_owned),
            iat: now.timestamp(),
            exp: (now + ttl).timestamp(),
            jti: random_hex(16),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Key(e.to_string()))?;
        Ok((token, claims))
    }

    /// Checks a token's signature, algorithm (HS256 only), shape and expiry at `now`.
    /// Revocation is checked separately against the database ([`is_revoked`]).
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, AuthError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature
                | ErrorKind::InvalidAlgorithm
                | ErrorKind::InvalidAlgorithmName => AuthError::BadSignature,
                ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Malformed,
            })?;
        let claims = data.claims;
        if claims.exp <= now.timestamp() {
            return Err(AuthError::Expired);
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

/// `n` random bytes as hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0_u8; n];
    // The system RNG failing is unrecoverable for a security component.
    #[allow(clippy::expect_used)]
    aws_lc_rs::rand::fill(&mut bytes).expect("system random number generator failed");
    hex::encode(bytes)
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
}
