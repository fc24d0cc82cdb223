//! Compact JWS signed with HMAC-SHA-256 (RFC 7515 §7.1, RFC 7518 §3.2): the only token form
//! the gateway issues and accepts. Any other algorithm, `none` included, is refused, and so is
//! any `crit` header (RFC 7515 §4.1.11: the gateway implements no extension).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::AuthError;

/// The header of every token the gateway issues.
const HEADER: &str = r#"{"typ":"JWT","alg":"HS256"}"#;

/// An HS256 signing and verifying key.
#[derive(Clone)]
pub(super) struct Hs256(hmac::Key);

impl Hs256 {
    pub(super) fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// A token carrying `claims`.
    pub(super) fn sign<T: Serialize>(&self, claims: &T) -> Result<String, serde_json::Error> {
        Ok(self.compact(HEADER.as_bytes(), &serde_json::to_vec(claims)?))
    }

    /// `header.payload.signature`, each base64url without padding.
    pub(super) fn compact(&self, header: &[u8], payload: &[u8]) -> String {
        let mut token = URL_SAFE_NO_PAD.encode(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let signature = hmac::sign(&self.0, token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut token);
        token
    }

    /// The claims of a token this key signed. The signature is checked before the claims are
    /// read; base64 must be canonical and unpadded, as RFC 7515 §2 asks.
    pub(super) fn verify<T: DeserializeOwned>(&self, token: &str) -> Result<T, AuthError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed);
        };
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| AuthError::Malformed)
        };
        let header: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&decode(header)?).map_err(|_| AuthError::Malformed)?;
        if header.get("alg").and_then(serde_json::Value::as_str) != Some("HS256") {
            return Err(AuthError::BadSignature);
        }
        if header.contains_key("crit") {
            return Err(AuthError::Unacceptable(
                "it names critical header extensions",
            ));
        }
        let signed = &token[..token.len() - signature.len() - 1];
        hmac::verify(&self.0, signed.as_bytes(), &decode(signature)?)
            .map_err(|_| AuthError::BadSignature)?;
        serde_json::from_slice(&decode(payload)?).map_err(|_| AuthError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7515 appendix A.1: the HS256 example, key and token as the RFC prints them.
    const RFC_KEY: &str =
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    const RFC_TOKEN: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn rfc_key() -> Hs256 {
        Hs256::new(&URL_SAFE_NO_PAD.decode(RFC_KEY).unwrap_or_default())
    }

    #[test]
    fn the_rfc_example_verifies_and_signs_byte_for_byte() {
        let claims: serde_json::Value = rfc_key().verify(RFC_TOKEN).unwrap_or_default();
        assert_eq!(claims["iss"], "joe");
        assert_eq!(claims["exp"], 1_300_819_380);
        let header = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
        let payload =
            "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
        assert_eq!(
            rfc_key().compact(header.as_bytes(), payload.as_bytes()),
            RFC_TOKEN
        );
    }

    #[test]
    fn forged_altered_or_misshapen_tokens_are_refused() {
        let key = rfc_key();
        let verify = |t: &str| key.verify::<serde_json::Value>(t).err();
        let (signed, signature) = RFC_TOKEN.rsplit_once('.').unwrap_or_default();
        let other = Hs256::new(&[1_u8; 32]).compact(br#"{"alg":"HS256"}"#, br#"{"sub":"x"}"#);
        assert!(matches!(verify(&other), Some(AuthError::BadSignature)));
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            signed.split('.').nth(1).unwrap_or_default()
        );
        assert!(matches!(verify(&unsigned), Some(AuthError::BadSignature)));
        let tampered = format!("{signed}x.{signature}");
        assert!(verify(&tampered).is_some());
        let padded = format!("{signed}.{signature}=");
        assert!(matches!(verify(&padded), Some(AuthError::Malformed)));
        for bad in ["", "a.b", "a.b.c.d", "not-a-jwt", &format!("{RFC_TOKEN}.")] {
            assert!(matches!(verify(bad), Some(AuthError::Malformed)), "{bad}");
        }
        let critical = key.compact(br#"{"alg":"HS256","crit":["exp"]}"#, b"{}");
        assert!(matches!(
            verify(&critical),
            Some(AuthError::Unacceptable(_))
        ));
    }
}
