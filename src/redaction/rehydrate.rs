//! Turning tokens in a contractor's reply back into the real values.

use super::vault::{Vault, VaultError};

/// What re-hydration did, for the audit entry.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq, Eq)]
pub struct Rehydrated {
    /// Tokens replaced by their values.
    pub replaced: usize,
    /// Token-shaped strings this contract never issued (made up, or another contract's):
    /// left as they are.
    pub unknown: usize,
}

/// Longest token-shaped string considered (`[` kind `_` number `]`).
const MAX_TOKEN: usize = 48;

/// Replaces each `[KIND_N]` token of this vault's contract in `text` by its value.
pub fn rehydrate(text: &str, vault: &mut Vault<'_>) -> Result<(String, Rehydrated), VaultError> {
    let mut out = String::with_capacity(text.len());
    let mut stats = Rehydrated::default();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let candidate = &rest[open..];
        match token_len(candidate) {
            Some(len) => {
                let token = &candidate[..len];
                match vault.value_of(token)? {
                    Some(value) => {
                        out.push_str(&value);
                        stats.replaced += 1;
                    }
                    None => {
                        out.push_str(token);
                        stats.unknown += 1;
                    }
                }
                rest = &candidate[len..];
            }
            None => {
                out.push('[');
                rest = &candidate[1..];
            }
        }
    }
    out.push_str(rest);
    Ok((out, stats))
}

/// The length of a token at the start of `s`: `[`, upper-case letters, digits and `_`,
/// ending in `_<digits>]`.
fn token_len(s: &str) -> Option<usize> {
    let close = s
        .as_bytes()
        .iter()
        .take(MAX_TOKEN)
        .position(|b| *b == b']')?;
    let inner = &s[1..close];
    let (kind, number) = inner.rsplit_once('_')?;
    let ok = !kind.is_empty()
        && kind
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && kind.as_bytes()[0].is_ascii_uppercase()
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(close + 1)
}

#[cfg(test)]
mod tests {
    use super::token_len;

    #[test]
    fn token_shapes() {
        assert_eq!(token_len("[EMAIL_1] hi"), Some(9));
        assert_eq!(token_len("[CUSTOM_LOYALTY_12]"), Some(19));
        for not_token in [
            "[email_1]",
            "[EMAIL_]",
            "[_1]",
            "[EMAIL 1]",
            "[EMAIL_1",
            "[REDACTED:EMAIL]",
            "[]",
        ] {
            assert_eq!(token_len(not_token), None, "{not_token}");
        }
    }
}
