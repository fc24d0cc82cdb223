//! Attachments under a contract's `attachments` policy: withheld (the contractor sees that a
//! file was, and why), sent redacted (text-like types, scanned like free text), or sent as
//! they are (a type the contract lists that cannot be scanned: it passes that type knowingly).

use std::sync::Arc;

use serde::Serialize;

use super::detect::MAX_FIELD_BYTES;
use super::engine::{EntityCounts, RedactionError, Redactor};
use super::vault::Vault;
pub use crate::contracts::is_text_media_type as is_text;
use crate::contracts::{AttachmentPolicy, FieldAction};

/// The largest text file that is scanned; a longer one cannot be, and is withheld.
pub const MAX_SCANNED_BYTES: usize = 1024 * 1024;

/// What the policy does with a file of a media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Not sent, for this reason.
    Withhold(Withheld),
    /// Scanned and sent redacted.
    Scan,
    /// Sent as it is: the contract lists its type, and it cannot be scanned.
    Pass,
}

/// Why a file is not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Withheld {
    /// The contract sends no attachments (`attachments = "drop"`).
    Dropped,
    /// Its media type is not in the contract's list.
    TypeNotAllowed,
    /// A text file that could not be scanned (not UTF-8, too large, a line too long): it
    /// cannot be redacted, so it does not leave.
    NotScannable,
}

/// Whether `media_type` is in `allowed` (exact, or `type/*`).
fn listed(allowed: &[String], media_type: &str) -> bool {
    let kind = media_type.split('/').next().unwrap_or_default();
    allowed
        .iter()
        .any(|a| a == media_type || a.strip_suffix("/*").is_some_and(|k| k == kind) || a == "*/*")
}

/// What `policy` does with a file of `media_type`.
pub fn plan(policy: &AttachmentPolicy, media_type: &str) -> Plan {
    match policy {
        AttachmentPolicy::Drop => Plan::Withhold(Withheld::Dropped),
        AttachmentPolicy::Allow(types) if !listed(types, media_type) => {
            Plan::Withhold(Withheld::TypeNotAllowed)
        }
        AttachmentPolicy::Allow(_) if is_text(media_type) => Plan::Scan,
        AttachmentPolicy::Allow(_) => Plan::Pass,
    }
}

/// A file before projection.
#[derive(Debug, Clone)]
pub struct SourceAttachment {
    /// Gateway id.
    pub id: i64,
    /// The comment it came with (gateway id), or `None` for the ticket's own.
    pub comment_id: Option<i64>,
    /// Its name.
    pub file_name: String,
    /// Its media type.
    pub media_type: String,
    /// Its size.
    pub size: i64,
    /// SHA-256 of the stored content the contractor would get as it is.
    pub sha256: String,
    /// This share's contractor attached it: shown to it as it sent it, never scanned.
    pub own: bool,
    /// The content, loaded when the policy scans it ([`Plan::Scan`]).
    pub content: Option<Arc<Vec<u8>>>,
}

/// How a file reaches the contractor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Scanned; what it held is treated as in free text.
    Redacted,
    /// As it is (a type the contract passes, or the contractor's own file).
    Original,
    /// Not sent.
    Withheld,
}

/// A file as the contractor sees it listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectedAttachment {
    /// Gateway id: download it from `href`.
    pub id: i64,
    /// The comment it came with; absent for the ticket's own files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<i64>,
    /// Its name, scanned like free text.
    pub file_name: String,
    /// Its media type.
    pub media_type: String,
    /// How it reaches the contractor.
    pub disposition: Disposition,
    /// Why it is withheld.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<Withheld>,
    /// Size of what the contractor downloads (absent when withheld).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// SHA-256 of what the contractor downloads (absent when withheld).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// What a download of a file sent to a contractor gives.
#[derive(Debug, Clone)]
pub enum SentContent {
    /// The redacted text, made by this projection, and the personal data found in it.
    Redacted {
        /// The text.
        text: Arc<Vec<u8>>,
        /// What was found and done, by kind and action.
        found: EntityCounts,
    },
    /// The stored content under this SHA-256.
    Stored(String),
}

/// Splits `text` into pieces of at most [`MAX_FIELD_BYTES`] that end at line ends, so that
/// each is one scan and no line is cut; `None` when a single line is longer.
fn pieces(text: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut rest = text;
    while rest.len() > MAX_FIELD_BYTES {
        let window = &rest[..rest.floor_char_boundary(MAX_FIELD_BYTES)];
        let cut = window.rfind('\n')? + 1;
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out.push(rest);
    Some(out)
}

/// The text of a file, redacted, with what was found in it: `None` when it cannot be scanned
/// (not UTF-8, longer than [`MAX_SCANNED_BYTES`], a line longer than a scan takes). A vault
/// failure is an error.
pub(super) fn redact_text(
    redactor: &Redactor<'_>,
    content: &[u8],
    vault: &mut Vault<'_>,
) -> Result<Option<(Vec<u8>, EntityCounts)>, RedactionError> {
    if content.len() > MAX_SCANNED_BYTES {
        return Ok(None);
    }
    let Ok(text) = std::str::from_utf8(content) else {
        return Ok(None);
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(pieces) = pieces(text) else {
        return Ok(None);
    };
    // Counted apart, so that a file withheld half-way adds nothing to the receipt.
    let mut found = EntityCounts::new();
    let mut out = String::with_capacity(text.len());
    for piece in pieces {
        match redactor.text("attachments", FieldAction::Redact, piece, vault, &mut found) {
            Ok(redacted) => out.push_str(&redacted),
            Err(RedactionError::Scan { .. }) => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    Ok(Some((out.into_bytes(), found)))
}

/// Adds the counts of `found` to `counts`.
pub(super) fn add_counts(counts: &mut EntityCounts, found: &EntityCounts) {
    for (kind, actions) in found {
        let entry = counts.entry(kind.clone()).or_default();
        for (action, n) in actions {
            *entry.entry(*action).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_types_are_scanned_and_others_pass_only_when_listed() {
        let allow = AttachmentPolicy::Allow(vec![
            "text/plain".into(),
            "image/*".into(),
            "application/json".into(),
        ]);
        assert_eq!(plan(&allow, "text/plain"), Plan::Scan);
        assert_eq!(plan(&allow, "application/json"), Plan::Scan);
        assert_eq!(plan(&allow, "image/png"), Plan::Pass);
        assert_eq!(
            plan(&allow, "text/csv"),
            Plan::Withhold(Withheld::TypeNotAllowed)
        );
        assert_eq!(
            plan(&allow, "application/pdf"),
            Plan::Withhold(Withheld::TypeNotAllowed)
        );
        assert_eq!(
            plan(&AttachmentPolicy::Drop, "text/plain"),
            Plan::Withhold(Withheld::Dropped)
        );
        assert!(is_text("message/rfc822") && is_text("application/ld+json"));
        assert!(!is_text("application/pdf") && !is_text("image/svg"));
    }

    #[test]
    fn long_text_is_cut_at_line_ends() {
        let line = "x".repeat(1000) + "\n";
        let text = line.repeat(300);
        let parts = pieces(&text).unwrap_or_default();
        assert!(parts.len() >= 3, "{}", parts.len());
        assert!(
            parts
                .iter()
                .all(|p| p.len() <= MAX_FIELD_BYTES && p.ends_with('\n'))
        );
        assert_eq!(parts.concat(), text);
        assert!(pieces(&"y".repeat(MAX_FIELD_BYTES + 1)).is_none());
    }
}
