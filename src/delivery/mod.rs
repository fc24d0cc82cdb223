//! Sending outbox events: Standard Webhooks signing, the HTTP call, and the retry policy.
//! Storage is the outbox's; scheduling is the drain job's.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use ring::hmac;

/// What can go wrong with a destination's settings.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The signing secret is missing or malformed.
    #[error("signing secret: {0}")]
    Secret(String),
}

/// Signs webhook bodies with the Standard Webhooks scheme.
#[derive(Clone)]
pub struct Signer {
    key: hmac::Key,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer([secret])")
    }
}

impl Signer {
    /// A signer from a secret as the Standard Webhooks specification defines it: base64 of
    /// the key bytes, optionally after `whsec_`. Every Standard Webhooks library decodes the
    /// secret this way, so a receiver verifies with the very string it was given; a secret
    /// that is not base64 would sign with a key no receiver uses, and is refused.
    pub fn from_secret(secret: &str) -> Result<Self, DeliveryError> {
        let encoded = secret.trim();
        let encoded = encoded.strip_prefix("whsec_").unwrap_or(encoded);
        let key = BASE64.decode(encoded).map_err(|_| {
            DeliveryError::Secret(
                "not base64 (a Standard Webhooks secret is `whsec_` and the base64 of 24 to 64 \
                 random bytes, e.g. `whsec_$(openssl rand -base64 32)`)"
                    .into(),
            )
        })?;
        if key.len() < 24 {
            return Err(DeliveryError::Secret(
                "its key is shorter than 24 bytes".into(),
            ));
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &key),
        })
    }

    /// The `webhook-signature` value for a message: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        let tag = hmac::sign(&self.key, format!("{id}.{timestamp}.{body}").as_bytes());
        format!("v1,{}", BASE64.encode(tag.as_ref()))
    }
}

/// Where one audience's events go.
#[derive(Debug, Clone)]
pub struct Destination {
    /// The receiver's URL.
    pub url: String,
    /// Its signer.
    pub signer: Signer,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// A 2xx answer.
    Delivered,
    /// Anything else: the error, and how long the receiver asked us to wait (`Retry-After` on
    /// 429 and 503).
    Failed {
        /// What went wrong, without the body.
        error: String,
        /// The receiver's `Retry-After`.
        retry_after: Option<Duration>,
    },
}

/// Posts one event. `body` is the envelope as stored; `timestamp` the signing time.
pub async fn send(
    client: &reqwest::Client,
    to: &Destination,
    event_id: &str,
    body: &str,
    timestamp: DateTime<Utc>,
) -> Attempt {
    let seconds = timestamp.timestamp();
    let request = client
        .post(&to.url)
        .header("content-type", "application/json")
        .header("webhook-id", event_id)
        .header("webhook-timestamp", seconds.to_string())
        .header("webhook-signature", to.signer.sign(event_id, seconds, body))
        .body(body.to_owned());
    match request.send().await {
        Ok(response) if response.status().is_success() => Attempt::Delivered,
        Ok(response) => {
            let status = response.status();
            let retry_after = if matches!(status.as_u16(), 429 | 503) {
                response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, timestamp))
            } else {
                None
            };
            Attempt::Failed {
                error: format!("receiver answered {status}"),
                retry_after,
            }
        }
        Err(e) if e.is_timeout() => Attempt::Failed {
            error: "timed out".into(),
            retry_after: None,
        },
        Err(e) => Attempt::Failed {
            // Without the URL: it may carry credentials.
            error: format!("request failed: {}", e.without_url()),
            retry_after: None,
        },
    }
}

/// A `Retry-After` value: delay seconds or an HTTP date (RFC 9110), as a wait from `now`.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    (at - now).to_std().ok().or(Some(Duration::ZERO))
}

/// The wait before attempt `attempts + 1`: 1 s doubling per attempt up to one hour, spread by
/// `jitter` (0.0–1.0 maps to 80–120 %) so that receivers coming back are not hit all at once.
pub fn backoff(attempts: i32, jitter: f64) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let base = (1u64 << exponent).min(3_600) as f64;
    Duration::from_secs_f64(base * (0.8 + 0.4 * jitter.clamp(0.0, 1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_standard_webhooks_example() {
        // The example from the Standard Webhooks specification.
        let signer = Signer::from_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap_or_else(|e| panic!("{e}"));
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signer.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        // Without the prefix the same key: the secret is base64 either way.
        let bare = Signer::from_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            bare.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert!(Signer::from_secret("short").is_err());
        assert!(Signer::from_secret("whsec_!!!").is_err());
        // Text that is not base64 was once used as raw key bytes; no receiver would agree.
        assert!(Signer::from_secret("my very own shared secret text!").is_err());
        assert!(Signer::from_secret("whsec_c2hvcnQ=").is_err(), "5 bytes");
    }

    #[test]
    fn retry_after_and_backoff() {
        let now = DateTime::parse_from_rfc3339("2026-06-01T10:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Mon, 01 Jun 2026 10:01:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(backoff(1, 0.5), Duration::from_secs(1));
        assert_eq!(backoff(4, 0.5), Duration::from_secs(8));
        assert_eq!(backoff(40, 0.5), Duration::from_secs(3_600));
        assert_eq!(backoff(1, 0.0), Duration::from_millis(800));
        assert_eq!(backoff(1, 1.0), Duration::from_millis(1_200));
    }
}
