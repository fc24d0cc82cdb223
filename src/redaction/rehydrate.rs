//! Turning tokens in a contractor's reply back into the real values.
//!
//! Only the tokens its contractor was given for this very ticket are turned back: tokens are
//! numbered per contract, so a contractor could otherwise list `[EMAIL_1]` … `[EMAIL_99]` in a
//! reply and have other customers' values written into this customer's ticket (and, through
//! the helpdesk, sent to this customer).

use std::collections::{BTreeSet, HashMap};

use super::vault::{Vault, VaultError};

/// What re-hydration did, for the audit entry.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq, Eq)]
pub struct Rehydrated {
    /// Tokens replaced by their values.
    pub replaced: usize,
    /// Token-shaped strings left as they are: made up, another contract's, purged, or issued
    /// for another ticket.
    pub unknown: usize,
    /// Of those, tokens this contract did issue, but not for this ticket's view: a reply
    /// that names them is probing for other customers' values.
    pub foreign: usize,
}

impl std::ops::AddAssign for Rehydrated {
    fn add_assign(&mut self, other: Self) {
        self.replaced += other.replaced;
        self.unknown += other.unknown;
        self.foreign += other.foreign;
    }
}

/// Longest token-shaped string considered (`[` kind `_` number `]`).
const MAX_TOKEN: usize = 48;

/// Replaces each token of `given` (the tokens the contractor's view of this ticket holds)
/// found in `text` by its value from this vault's contract; every other token-shaped string
/// stays as it is and is counted. The vault is asked once per distinct token (values of the
/// given ones, and in batches whether the others were issued at all), so a reply made of
/// thousands of tokens costs a handful of statements, not one each.
pub fn rehydrate(
    text: &str,
    vault: &mut Vault<'_>,
    given: &BTreeSet<String>,
) -> Result<(String, Rehydrated), VaultError> {
    let spans = token_spans(text);
    let distinct: BTreeSet<&str> = spans.iter().map(|&(s, e)| &text[s..e]).collect();
    let mut values: HashMap<&str, String> = HashMap::new();
    let mut others = Vec::new();
    for token in distinct {
        if given.contains(token) {
            if let Some(value) = vault.value_of(token)? {
                values.insert(token, value);
            }
        } else {
            others.push(token);
        }
    }
    let issued_elsewhere = vault.issued_among(&others)?;
    let mut out = String::with_capacity(text.len());
    let mut stats = Rehydrated::default();
    let mut cursor = 0;
    for (start, end) in spans {
        let token = &text[start..end];
        out.push_str(&text[cursor..start]);
        match values.get(token) {
            Some(value) => {
                out.push_str(value);
                stats.replaced += 1;
            }
            None => {
                out.push_str(token);
                stats.unknown += 1;
                if issued_elsewhere.contains(token) {
                    stats.foreign += 1;
                }
            }
        }
        cursor = end;
    }
    out.push_str(&text[cursor..]);
    Ok((out, stats))
}

/// Where the token-shaped strings of `text` are, as byte ranges, in order.
fn token_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('[') {
        let start = from + open;
        match token_len(&text[start..]) {
            Some(len) => {
                spans.push((start, start + len));
                from = start + len;
            }
            None => from = start + 1,
        }
    }
    spans
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
