//! The gateway's one crypto library (ring) where more than a digest is needed: comparing
//! secrets and the TLS provider both the server and the webhook client use.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use subtle::ConstantTimeEq;

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

/// Whether two secrets are equal, in time that does not depend on where they differ (their
/// lengths are not secret).
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// ring's TLS provider, installed as the process default on first use: reqwest builds its
/// client from the process default and panics without one.
pub fn tls_provider() -> Arc<CryptoProvider> {
    if let Some(installed) = CryptoProvider::get_default() {
        return installed.clone();
    }
    // Another thread may install it between the look-up and here; either way one is in place.
    let _ = rustls::crypto::ring::default_provider().install_default();
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_equal_only_byte_for_byte() {
        assert!(same_secret(b"whsec_abc", b"whsec_abc"));
        assert!(!same_secret(b"whsec_abc", b"whsec_abd"));
        assert!(!same_secret(b"whsec_abc", b"whsec_ab"));
        assert!(!same_secret(b"", b"x"));
    }

    #[test]
    fn the_provider_is_installed_once_and_a_client_can_be_built() {
        let first = tls_provider();
        assert!(Arc::ptr_eq(&first, &tls_provider()));
        assert!(reqwest::Client::builder().build().is_ok());
    }
}
