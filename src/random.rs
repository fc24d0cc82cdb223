//! Random identifiers and secrets from the system's generator, for every domain that needs
//! them (token ids, event ids, CSRF values, generated secrets) without importing `auth`.

use ring::rand::{SecureRandom, SystemRandom};

/// Fills `bytes` from the system's generator.
pub fn fill(bytes: &mut [u8]) -> Result<(), ring::error::Unspecified> {
    SystemRandom::new().fill(bytes)
}

/// `n` random bytes as hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0_u8; n];
    // The system RNG failing is unrecoverable for a security component.
    #[allow(clippy::expect_used)]
    fill(&mut bytes).expect("system random number generator failed");
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_of_the_length_asked_and_never_twice() {
        let a = super::random_hex(16);
        let b = super::random_hex(16);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
