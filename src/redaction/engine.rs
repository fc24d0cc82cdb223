//! Applying a contract's confidentiality rules to a ticket's values.
//!
//! Free text is scanned by the built-in detectors the contract enables, its own patterns and
//! word lists, and the values the ticket itself gives about the customer (name parts in their
//! case forms, e-mail, phone digits, personal custom fields). Each finding gets the contract's
//! action for its kind; structured fields get their field action as a whole.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::detect::{self, Finding, FindingKind, ScanError, ScanOptions};
use super::vault::{Vault, VaultError};
use crate::contracts::{Confidentiality, DetectorKind, FieldAction};

/// Why redaction could not be done safely; the caller must not disclose anything then.
#[derive(Debug, thiserror::Error)]
pub enum RedactionError {
    /// A text could not be scanned within bounds.
    #[error("field {field}: {source}")]
    Scan {
        /// The field.
        field: String,
        /// Why.
        source: ScanError,
    },
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl From<crate::db::DbError> for RedactionError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Query(q) => Self::Vault(VaultError::Db(q)),
            other => Self::Vault(VaultError::Key(other.to_string())),
        }
    }
}

impl From<diesel::result::Error> for RedactionError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Vault(VaultError::Db(e))
    }
}

/// Counts of what was found and done, by entity label and action: the receipt's core.
pub type EntityCounts = BTreeMap<String, BTreeMap<FieldAction, usize>>;

/// Values the ticket gives about its customer, to be found in its free text.
#[derive(Debug, Default, Clone)]
pub struct KnownValues {
    /// Lower-case word form → (field, the word as the ticket gives it). Looked up for every
    /// word of every text, hence the fast hasher.
    words: HashMap<String, (String, String), foldhash::fast::RandomState>,
    /// Lower-case e-mails → field.
    emails: Vec<(String, String)>,
    /// Last ten digits of phone numbers → (field, all digits).
    phones: Vec<(String, String, String)>,
}

/// `word` in lower case, borrowed when it has nothing to lower (most words of a text): only
/// Latin and Russian lower-case letters, digits and hyphens.
fn lower_case(word: &str) -> std::borrow::Cow<'_, str> {
    let lower = |c: char| matches!(c, 'a'..='z' | '0'..='9' | '-' | 'а'..='я' | 'ё');
    if word.chars().all(lower) {
        std::borrow::Cow::Borrowed(word)
    } else {
        std::borrow::Cow::Owned(word.to_lowercase())
    }
}

const NAME_STOPWORDS: &[&str] = &[
    "ооо", "оао", "зао", "ип", "llc", "ltd", "inc", "gmbh", "the", "and", "mr", "mrs", "ms",
];

impl KnownValues {
    /// Collects the known values from a ticket's fields.
    pub fn from_fields(fields: &BTreeMap<String, Value>, policy: &Confidentiality) -> Self {
        let mut known = Self::default();
        let text = |path: &str| {
            fields
                .get(path)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        if let Some(name) = text("requester.name") {
            known.add_words("requester.name", name);
        }
        if let Some(email) = text("requester.email") {
            known
                .emails
                .push((email.to_lowercase(), "requester.email".into()));
        }
        if let Some(phone) = text("requester.phone") {
            known.add_phone("requester.phone", phone);
        }
        for path in &policy.personal_fields {
            match fields.get(path) {
                Some(Value::String(s)) if s.contains('@') => {
                    known.emails.push((s.trim().to_lowercase(), path.clone()))
                }
                Some(Value::String(s)) if s.chars().filter(char::is_ascii_digit).count() >= 7 => {
                    known.add_phone(path, s)
                }
                Some(Value::String(s)) => known.add_words(path, s),
                Some(Value::Number(n)) => known.add_phone(path, &n.to_string()),
                _ => {}
            }
        }
        known
    }

    /// The identifiers of one person (a data subject's erasure): the words of its names in
    /// every spelling, its e-mails, its phones (by their last ten digits).
    pub fn of_person<'a>(
        names: impl IntoIterator<Item = &'a str>,
        emails: impl IntoIterator<Item = &'a str>,
        phones: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut known = Self::default();
        for name in names {
            known.add_words("requester.name", name);
        }
        for email in emails.into_iter().map(str::trim).filter(|e| !e.is_empty()) {
            known
                .emails
                .push((email.to_lowercase(), "requester.email".into()));
        }
        for phone in phones {
            known.add_phone("requester.phone", phone);
        }
        known
    }

    /// `text` with every occurrence of these values replaced by `replacement`, or `None` when
    /// it holds none.
    pub fn strike(&self, text: &str, replacement: &str) -> Option<String> {
        let mut found = Vec::new();
        self.find(text, &mut found);
        if found.is_empty() {
            return None;
        }
        found.sort_by(|a, b| a.0.start.cmp(&b.0.start).then(b.0.end.cmp(&a.0.end)));
        let mut out = String::with_capacity(text.len());
        let mut cursor = 0;
        for (finding, _) in found {
            if finding.start < cursor {
                continue;
            }
            out.push_str(&text[cursor..finding.start]);
            out.push_str(replacement);
            cursor = finding.end;
        }
        out.push_str(&text[cursor..]);
        Some(out)
    }

    fn add_words(&mut self, field: &str, value: &str) {
        for word in value
            .split(|c: char| !c.is_alphanumeric() && c != '-')
            .filter(|w| w.chars().count() >= 2)
        {
            if NAME_STOPWORDS.contains(&word.to_lowercase().as_str()) {
                continue;
            }
            for form in crate::names::spellings(word) {
                self.words
                    .entry(form)
                    .or_insert_with(|| (field.to_owned(), word.to_owned()));
            }
        }
    }

    fn add_phone(&mut self, field: &str, value: &str) {
        let digits: String = value.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 7 {
            let tail = digits[digits.len().saturating_sub(10)..].to_owned();
            self.phones.push((tail, field.to_owned(), digits));
        }
    }

    fn find(&self, text: &str, out: &mut Vec<(Finding, String)>) {
        if !self.words.is_empty() {
            let mut start = None;
            for (i, c) in text
                .char_indices()
                .chain(std::iter::once((text.len(), ' ')))
            {
                let in_word = detect::alphanumeric(c) || (c == '-' && start.is_some());
                match (in_word, start) {
                    (true, None) => start = Some(i),
                    (false, Some(s)) => {
                        let word = text[s..i].trim_end_matches('-');
                        if let Some((field, base)) = self.words.get(lower_case(word).as_ref()) {
                            out.push((
                                Finding {
                                    start: s,
                                    end: s + word.len(),
                                    kind: FindingKind::Known(field.clone()),
                                },
                                base.clone(),
                            ));
                        }
                        start = None;
                    }
                    _ => {}
                }
            }
        }
        if !self.emails.is_empty() {
            // ASCII lower-casing keeps byte offsets.
            let lower = text.to_ascii_lowercase();
            for (email, field) in &self.emails {
                let mut from = 0;
                while let Some(pos) = lower[from..].find(email.as_str()) {
                    let start = from + pos;
                    out.push((
                        Finding {
                            start,
                            end: start + email.len(),
                            kind: FindingKind::Known(field.clone()),
                        },
                        email.clone(),
                    ));
                    from = start + email.len();
                }
            }
        }
        if !self.phones.is_empty() {
            for (start, end) in detect::number_runs(text) {
                let digits: String = text[start..end]
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                for (tail, field, all) in &self.phones {
                    if digits.len() >= tail.len() && digits.ends_with(tail.as_str()) {
                        out.push((
                            Finding {
                                start,
                                end,
                                kind: FindingKind::Known(field.clone()),
                            },
                            all.clone(),
                        ));
                        break;
                    }
                }
            }
        }
    }
}

/// One contract's rules, ready to apply to one ticket.
#[derive(Debug)]
pub struct Redactor<'p> {
    policy: &'p Confidentiality,
    known: KnownValues,
    scan: ScanOptions,
}

impl<'p> Redactor<'p> {
    /// Rules of `policy` for a ticket with these `fields`.
    pub fn new(policy: &'p Confidentiality, fields: &BTreeMap<String, Value>) -> Self {
        Self {
            policy,
            known: KnownValues::from_fields(fields, policy),
            scan: ScanOptions {
                detectors: policy.scanned_kinds(),
                aggressive: policy.aggressive,
            },
        }
    }

    fn entity_action(&self, kind: &FindingKind, field_action: FieldAction) -> FieldAction {
        // In a field that may leave (`pass`), what it holds is redacted unless its kind is
        // relaxed: `pass` names the field, not the personal data in it.
        let field_action = match field_action {
            FieldAction::Pass | FieldAction::Raw => FieldAction::Redact,
            other => other,
        };
        match kind {
            FindingKind::Builtin(k) => self.policy.entities.get(k).copied().unwrap_or(field_action),
            FindingKind::Custom(name) => self
                .policy
                .custom_patterns
                .iter()
                .map(|p| (&p.name, p.action))
                .chain(self.policy.dictionaries.iter().map(|d| (&d.name, d.action)))
                .find(|(n, _)| *n == name)
                .map_or(field_action, |(_, a)| a),
            // A value the ticket names gets its own field's treatment wherever it appears, so the
            // requester's e-mail reads `[EMAIL_1]` in the description as in the field itself.
            FindingKind::Known(field) => match self.policy.action_for(field) {
                FieldAction::Pass | FieldAction::Raw | FieldAction::Drop => {
                    let builtin = match field.as_str() {
                        "requester.email" => Some(DetectorKind::Email),
                        "requester.phone" => Some(DetectorKind::Phone),
                        _ => None,
                    };
                    builtin
                        .and_then(|k| self.policy.entities.get(&k).copied())
                        .unwrap_or(field_action)
                }
                action => action,
            },
        }
    }

    /// Scans a free-text `field` and treats what it finds: per kind, else by `field_action`
    /// (`pass` fields: `redact`).
    pub fn text(
        &self,
        field: &str,
        field_action: FieldAction,
        text: &str,
        vault: &mut Vault<'_>,
        counts: &mut EntityCounts,
    ) -> Result<String, RedactionError> {
        let scan_error = |source| RedactionError::Scan {
            field: field.to_owned(),
            source,
        };
        let mut found: Vec<(Finding, Option<String>)> = detect::scan(text, &self.scan)
            .map_err(scan_error)?
            .into_iter()
            .map(|f| (f, None))
            .collect();
        for p in &self.policy.custom_patterns {
            found.extend(p.regex.find_iter(text).filter(|m| !m.is_empty()).map(|m| {
                (
                    Finding {
                        start: m.start(),
                        end: m.end(),
                        kind: FindingKind::Custom(p.name.clone()),
                    },
                    None,
                )
            }));
        }
        for d in &self.policy.dictionaries {
            found.extend(d.matcher.find_iter(text).map(|m| {
                (
                    Finding {
                        start: m.start(),
                        end: m.end(),
                        kind: FindingKind::Custom(d.name.clone()),
                    },
                    None,
                )
            }));
        }
        let mut known = Vec::new();
        self.known.find(text, &mut known);
        // A name found in the text that holds a word the ticket names (the requester's)
        // takes that field's treatment as a whole: `John Smith` masks to `J. S.`, and no
        // half of it is treated apart.
        for (finding, _) in &mut found {
            if finding.kind == FindingKind::Builtin(DetectorKind::Person)
                && let Some((k, _)) = known
                    .iter()
                    .find(|(k, _)| k.start < finding.end && finding.start < k.end)
            {
                finding.kind = k.kind.clone();
            }
        }
        found.extend(known.into_iter().map(|(f, v)| (f, Some(v))));
        // Earliest first; at the same start the longest; overlapping later ones are dropped.
        // Ties go to known values (they carry the ticket's own field treatment), then to the
        // contract's own patterns and dictionaries, then to the built-in detectors.
        found.sort_by(|a, b| {
            let rank = |f: &Finding| match f.kind {
                FindingKind::Known(_) => 0,
                FindingKind::Custom(_) => 1,
                FindingKind::Builtin(_) => 2,
            };
            a.0.start
                .cmp(&b.0.start)
                .then(b.0.end.cmp(&a.0.end))
                .then(rank(&a.0).cmp(&rank(&b.0)))
        });
        let mut out = String::with_capacity(text.len());
        let mut cursor = 0;
        for (finding, canonical) in found {
            if finding.start < cursor {
                continue;
            }
            let action = self.entity_action(&finding.kind, field_action);
            let label = finding.kind.label();
            let matched = &text[finding.start..finding.end];
            let value = canonical.unwrap_or_else(|| canonical_value(&finding.kind, matched));
            out.push_str(&text[cursor..finding.start]);
            out.push_str(&apply(action, &label, matched, &value, vault)?);
            *counts.entry(label).or_default().entry(action).or_default() += 1;
            cursor = finding.end;
        }
        out.push_str(&text[cursor..]);
        Ok(out)
    }

    /// Applies a structured field's action to its whole value; `None` when it is dropped.
    pub fn value(
        &self,
        field: &str,
        action: FieldAction,
        value: &Value,
        vault: &mut Vault<'_>,
        counts: &mut EntityCounts,
    ) -> Result<Option<Value>, RedactionError> {
        match action {
            FieldAction::Raw => return Ok(Some(value.clone())),
            FieldAction::Drop => return Ok(None),
            // May leave, but what it holds is scanned like free text: a custom field
            // `order_id = pass` carrying a passport number, or the requester's name in a `city`
            // field, must not leave in clear.
            FieldAction::Pass => return self.passed(field, value, vault, counts).map(Some),
            _ => {}
        }
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let label = field_label(field);
        let canonical = canonical_value(&kind_of_field(field), &text);
        let out = apply(action, &label, &text, &canonical, vault)?;
        *counts.entry(label).or_default().entry(action).or_default() += 1;
        Ok(Some(Value::String(out)))
    }
}

impl Redactor<'_> {
    /// A `pass` value, scanned: strings (and the strings of lists) as free text, numbers as
    /// their digits; the value keeps its type unless something in it was treated.
    fn passed(
        &self,
        field: &str,
        value: &Value,
        vault: &mut Vault<'_>,
        counts: &mut EntityCounts,
    ) -> Result<Value, RedactionError> {
        Ok(match value {
            Value::String(s) => {
                Value::String(self.text(field, FieldAction::Pass, s, vault, counts)?)
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.passed(field, v, vault, counts))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Number(n) => {
                let digits = n.to_string();
                let out = self.text(field, FieldAction::Pass, &digits, vault, counts)?;
                if out == digits {
                    value.clone()
                } else {
                    Value::String(out)
                }
            }
            other => other.clone(),
        })
    }
}

fn kind_of_field(field: &str) -> FindingKind {
    match field {
        "requester.email" => FindingKind::Builtin(DetectorKind::Email),
        "requester.phone" => FindingKind::Builtin(DetectorKind::Phone),
        other => FindingKind::Known(other.to_owned()),
    }
}

fn field_label(field: &str) -> String {
    kind_of_field(field).label()
}

/// The form of a value that tokens and hashes are keyed on, so spellings of one value agree.
fn canonical_value(kind: &FindingKind, matched: &str) -> String {
    let visible: String = matched
        .chars()
        .filter(|c| !detect::is_invisible(*c))
        .map(detect::narrow)
        .collect();
    match kind {
        // One address however it was dressed: `Ivan＠Mail.ru`, `ivan (at) mail (dot) ru`.
        FindingKind::Builtin(DetectorKind::Email) => {
            let lower = visible.to_lowercase().replace('\u{a0}', "");
            if lower.contains('@') {
                lower
            } else {
                let mut out = String::with_capacity(lower.len());
                for word in lower
                    .split([' ', '(', ')', '[', ']'])
                    .filter(|w| !w.is_empty())
                {
                    out.push_str(match word {
                        "at" | "собака" => "@",
                        "dot" | "точка" => ".",
                        other => other,
                    });
                }
                out
            }
        }
        FindingKind::Builtin(DetectorKind::Phone) => {
            let digits: String = visible.chars().filter(char::is_ascii_digit).collect();
            // Russian trunk prefix 8 and country code 7 are the same number.
            match digits.strip_prefix('8') {
                Some(rest) if digits.len() == 11 => format!("7{rest}"),
                _ => digits,
            }
        }
        FindingKind::Builtin(
            DetectorKind::Card
            | DetectorKind::Snils
            | DetectorKind::Inn
            | DetectorKind::RuPassport
            | DetectorKind::Ssn,
        ) => visible.chars().filter(char::is_ascii_digit).collect(),
        FindingKind::Builtin(DetectorKind::Iban) => visible
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_uppercase(),
        _ => visible,
    }
}

fn apply(
    action: FieldAction,
    label: &str,
    matched: &str,
    canonical: &str,
    vault: &mut Vault<'_>,
) -> Result<String, RedactionError> {
    Ok(match action {
        FieldAction::Pass | FieldAction::Raw => matched.to_owned(),
        FieldAction::Drop => String::new(),
        FieldAction::Redact => format!("[REDACTED:{label}]"),
        FieldAction::Hash => {
            let hash = vault.keys().keyed_hash(vault.contract_id(), canonical);
            format!("[{label}#{}]", &hash[..12])
        }
        FieldAction::Tokenize => vault.token_for(label, canonical)?,
        FieldAction::Mask => mask(label, matched),
    })
}

/// A partial view that keeps a useful hint: `i***@example.com`, `**** **** **** 4242`,
/// `+7 (***) ***-**-89`, `И.` for a name.
pub fn mask(label: &str, value: &str) -> String {
    let keep_last = |value: &str, keep: usize| {
        let total = value.chars().filter(char::is_ascii_alphanumeric).count();
        let mut seen = 0;
        value
            .chars()
            .filter(|c| !detect::is_invisible(*c))
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    seen += 1;
                    if seen + keep <= total { '*' } else { c }
                } else {
                    c
                }
            })
            .collect::<String>()
    };
    match label {
        "EMAIL" => match value.split_once('@') {
            Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
            None => "***".into(),
        },
        "CARD" => keep_last(value, 4),
        "IBAN" => {
            let masked = keep_last(value, 4);
            format!(
                "{}{}",
                value.chars().take(4).collect::<String>(),
                masked.chars().skip(4).collect::<String>()
            )
        }
        "PHONE" | "PASSPORT" | "SNILS" | "INN" | "IP" => keep_last(value, 2),
        _ => {
            // Names and other words: the initial of each word.
            value
                .split_whitespace()
                .map(|w| {
                    w.chars()
                        .next()
                        .map(|c| format!("{c}."))
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join(" ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowered_as_to_lowercase_does_and_borrowed_when_already_lower() {
        use std::borrow::Cow;
        for word in ["иван", "smith-jones", "ёлкин", "r2d2"] {
            assert!(
                matches!(lower_case(word), Cow::Borrowed(w) if w == word),
                "{word}"
            );
        }
        for word in ["Иван", "SMITH", "Ёлкин", "Søren", "ǅemal", "ΣΟΦΙΑ"] {
            assert_eq!(lower_case(word), word.to_lowercase(), "{word}");
        }
    }

    #[test]
    fn spellings_of_one_value_share_one_canonical_form() {
        let email = FindingKind::Builtin(DetectorKind::Email);
        for spelling in [
            "ivan@mail.ru",
            "Ivan＠Mail.RU",
            "ivan\u{a0}@\u{a0}mail.ru",
            "ivan\u{202e}@mail.ru",
            "ivan (at) mail (dot) ru",
            "IVAN [собака] mail [точка] ru",
        ] {
            assert_eq!(
                canonical_value(&email, spelling),
                "ivan@mail.ru",
                "{spelling}"
            );
        }
        let phone = FindingKind::Builtin(DetectorKind::Phone);
        assert_eq!(
            canonical_value(&phone, "＋７ ９１２ ３４５ ６７ ８９"),
            canonical_value(&phone, "8 912 345 67 89")
        );
        let iban = FindingKind::Builtin(DetectorKind::Iban);
        assert_eq!(
            canonical_value(&iban, "de89-3704-0044-0532-0130-00"),
            "DE89370400440532013000"
        );
    }
}
