//! Every way a token can be wrong.

use std::time::Duration;

use msp_bridge::auth::{Role, TokenKeys};
use msp_bridge::clock::Clock;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, ticket_en};
use crate::on_both_backends;

fn b64(s: &str) -> String {
    // Unpadded base64url, enough for a hand-made JWT.
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = s.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

async fn every_token_failure_is_refused(app: TestApp) {
    let path = "/api/v1/tickets/1";
    let expect = |a: crate::helpers::Answer, status: u16, code: &str| {
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (status, Some(code)),
            "{:?}",
            a.body
        );
        assert!(
            a.content_type.starts_with("application/problem+json"),
            "{}",
            a.content_type
        );
    };
    expect(
        app.send(Method::GET, path, None, None).await,
        401,
        "missing_token",
    );
    expect(app.get(path, "not-a-jwt").await, 401, "malformed_token");
    // Signed with the right key, but issued in the future or living forever.
    let now = app.clock.now().timestamp();
    for claims in [
        json!({ "sub": "x", "role": "inhouse", "iat": now + 86_400, "exp": now + 90_000, "jti": "f1" }),
        json!({ "sub": "x", "role": "inhouse", "iat": now, "exp": i64::MAX, "jti": "f2" }),
        json!({ "sub": "x", "role": "inhouse", "iat": now, "nbf": now + 86_400, "exp": now + 90_000, "jti": "f3" }),
    ] {
        let minted = hs256(crate::helpers::SECRET.as_bytes(), &claims);
        expect(app.get(path, &minted).await, 401, "invalid_token");
    }

    let other = TokenKeys::from_secret(&[9_u8; 40]).unwrap_or_else(|e| panic!("{e}"));
    let (forged, _) = other
        .issue(
            "mallory",
            Role::Inhouse,
            None,
            Duration::from_secs(60),
            app.clock.now(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    expect(app.get(path, &forged).await, 401, "invalid_token");

    let exp = app.clock.now().timestamp() + 3600;
    let claims = json!({ "sub": "mallory", "role": "inhouse", "iat": 0, "exp": exp, "jti": "x1" })
        .to_string();
    let none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&claims));
    let a = app.get(path, &none).await;
    assert_eq!(a.status, 401, "alg none must be refused: {:?}", a.body);

    let short = app
        .keys
        .issue(
            "ops",
            Role::Inhouse,
            None,
            Duration::from_secs(60),
            app.clock.now(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .0;
    app.clock.advance(chrono::Duration::seconds(61));
    expect(app.get(path, &short).await, 401, "expired_token");

    let (revoked, claims) = app
        .keys
        .issue(
            "ops",
            Role::Inhouse,
            None,
            Duration::from_secs(3600),
            app.clock.now(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        app.get(path, &revoked).await.status,
        404,
        "a valid token reaches the handler"
    );
    app.db
        .write(|c| {
            msp_bridge::auth::revoke(c, &claims.jti, "test", app.clock.now())
                .map_err(msp_bridge::db::DbError::from)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    expect(app.get(path, &revoked).await, 401, "revoked_token");

    // Wrong roles: 403, whichever way round.
    let contractor = app.contractor("acme");
    expect(
        app.post("/api/v1/tickets", &contractor, &ticket_en("X"))
            .await,
        403,
        "forbidden",
    );
    expect(
        app.get("/api/v1/contractor/tickets", &app.inhouse()).await,
        403,
        "forbidden",
    );
    expect(
        app.get("/api/v1/audit/verify", &app.inhouse()).await,
        403,
        "forbidden",
    );
    let compliance = app.token(Role::Compliance, None);
    expect(
        app.post("/api/v1/tickets", &compliance, &ticket_en("X"))
            .await,
        403,
        "forbidden",
    );
    assert_eq!(
        app.get("/api/v1/audit/verify", &compliance).await.status,
        200
    );
    assert_eq!(app.count("tickets"), 0, "no refused request wrote anything");
}

on_both_backends!(every_token_failure_is_refused);

/// A token signed here, with `ring` and `base64` and nothing of the gateway's: the header
/// `{"alg":"HS256","typ":"JWT"}`, then `claims`.
fn hs256(secret: &[u8], claims: &serde_json::Value) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let signature = ring::hmac::sign(&key, signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
}
