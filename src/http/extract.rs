//! Request extractors: JSON bodies that name the field at fault, and the caller's identity.

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::web::{BytesMut, Data};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::ApiError;
use crate::auth::{AuthError, Claims, Role};
use crate::service::contractor::ContractorActor;

/// The SHA-256 of the request body [`JsonBody`] read, kept in the request's extensions.
#[derive(Debug, Clone)]
pub struct BodyDigest(pub String);

/// Largest accepted request body.
pub const MAX_BODY: usize = 1024 * 1024;

/// Largest body of a request that may carry files (a ticket push, a comment, a reply): files
/// come base64-encoded inside the JSON.
pub const MAX_BODY_WITH_FILES: usize = 24 * 1024 * 1024;

/// A JSON body of at most `LIMIT` bytes, deserialised with the path of any field at fault.
#[derive(Debug)]
pub struct JsonBody<T, const LIMIT: usize = MAX_BODY>(pub T);

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the body is larger than {limit} bytes"),
    )
}

impl<T: DeserializeOwned + 'static, const LIMIT: usize> FromRequest for JsonBody<T, LIMIT> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        let req = req.clone();
        Box::pin(async move {
            if let Some(ct) = content_type
                && ct != "application/json"
                && !ct.ends_with("+json")
            {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    format!("send application/json, not {ct}"),
                ));
            }
            if declared_len.is_some_and(|n| n > LIMIT) {
                return Err(too_large(LIMIT));
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    if super::body_deadline::timed_out(&e) {
                        ApiError::new(
                            StatusCode::REQUEST_TIMEOUT,
                            "request_timeout",
                            "the body did not arrive in time (BRIDGE_BODY_TIMEOUT_MS)",
                        )
                    } else {
                        ApiError::new(
                            StatusCode::BAD_REQUEST,
                            "unreadable_body",
                            "the body could not be read",
                        )
                    }
                })?;
                if body.len() + chunk.len() > LIMIT {
                    return Err(too_large(LIMIT));
                }
                body.extend_from_slice(&chunk);
            }
            // What an Idempotency-Key's first answer is matched against on a retry.
            req.extensions_mut()
                .insert(BodyDigest(hex::encode(ring::digest::digest(
                    &ring::digest::SHA256,
                    &body,
                ))));
            parse_json(&body).map(JsonBody)
        })
    }
}

/// Deserialises JSON, turning serde's error into a problem that names the field.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    Ok(crate::json_input::parse(body)?)
}

/// Verifies the bearer token of a request, including revocation.
async fn authenticate(req: &HttpRequest) -> Result<Claims, ApiError> {
    let state = req
        .app_data::<Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(&"application state missing"))?;
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::Missing)?;
    verify_token(&state, token, req.path()).await
}

/// Verifies a token from any source (header or console cookie), including revocation.
pub(crate) async fn verify_token(
    state: &AppState,
    token: &str,
    path: &str,
) -> Result<Claims, ApiError> {
    let claims = state
        .keys
        .verify(token, state.clock.now())
        .inspect_err(|e| {
            tracing::warn!(reason = %e, path = %path, "token refused");
        })?;
    let jti = claims.jti.clone();
    let revoked = state
        .db
        .read_statement_async(move |c| {
            crate::auth::is_revoked(c, &jti).map_err(crate::db::DbError::from)
        })
        .await?;
    if revoked {
        tracing::warn!(jti = %claims.jti, path = %path, "revoked token refused");
        return Err(AuthError::Revoked.into());
    }
    Ok(claims)
}

fn require(
    claims: Claims,
    allowed: &[Role],
    name: &'static str,
    req: &HttpRequest,
) -> Result<Claims, ApiError> {
    if allowed.contains(&claims.role) {
        Ok(claims)
    } else {
        tracing::warn!(sub = %claims.sub, role = ?claims.role, path = %req.path(), "access denied for role");
        Err(AuthError::Forbidden(name).into())
    }
}

macro_rules! principal {
    ($(#[$doc:meta])* $name:ident, [$($role:ident),+], $label:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Claims);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let req = req.clone();
                Box::pin(async move {
                    let claims = authenticate(&req).await?;
                    require(claims, &[$(Role::$role),+], $label, &req).map($name)
                })
            }
        }
    };
}

principal!(
    /// A caller with the `inhouse` role.
    Inhouse, [Inhouse], "inhouse"
);
principal!(
    /// An operator: the in-house side or an administrator.
    Operator,
    [Inhouse, Admin],
    "inhouse or admin"
);
principal!(
    /// A caller with the `admin` or `compliance` role.
    Oversight, [Admin, Compliance], "admin or compliance"
);
principal!(
    /// Anyone on the company's side: the in-house side, an administrator or compliance.
    Staff,
    [Inhouse, Admin, Compliance],
    "inhouse, admin or compliance"
);

/// A caller with the `contractor` role, and its contractor.
#[derive(Debug, Clone)]
pub struct Contractor(pub ContractorActor);

impl FromRequest for Contractor {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let claims = require(
                authenticate(&req).await?,
                &[Role::Contractor],
                "contractor",
                &req,
            )?;
            let contractor = claims.contractor.ok_or(AuthError::Malformed)?;
            Ok(Contractor(ContractorActor {
                contractor,
                sub: claims.sub,
            }))
        })
    }
}
