//! Data subjects: the people tickets are about, found again without storing or searching
//! their plain values. Each stored ticket's requester is indexed by keyed hashes
//! ([`VaultKeys::subject_key`]) of its e-mail (lower case), phone (last ten digits) and the
//! dictionary lemma of each word of its name, so that a request naming the person in another
//! spelling or case form finds the same tickets; what contractors were given of the person is
//! found in each contract's vault by its own keyed look-ups ([`VaultKeys::lookup`]) and traced
//! to tickets through the tokens each disclosure carried.

pub mod notices;

pub use notices::NoticeView;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::clock::to_db;
use crate::db::schema::{disclosed_tokens, subject_backfill, subject_keys, tickets};
use crate::db::{AnyConnection, Db, DbError};
use crate::redaction::VaultKeys;
use crate::redaction::detect::lexicon::Lexicon;

/// What can go wrong with a data subject's request.
#[derive(Debug, thiserror::Error)]
pub enum SubjectError {
    /// A selector or the reason is not acceptable.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// No such erasure notice (for this caller).
    #[error("erasure notice not found")]
    NotFound,
    /// Stored data does not parse.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for SubjectError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(DbError::Query(e))
    }
}

fn invalid(field: &str, message: &str) -> SubjectError {
    SubjectError::Invalid {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

/// Who a request is about: any of an e-mail, a phone number (any spelling) and a full name
/// (any case form).
#[derive(Debug, Clone, Default)]
pub struct Selectors {
    /// The person's e-mail address.
    pub email: Option<String>,
    /// The person's phone number, in any spelling (`+7 912 345-67-89`, `8 (912) 3456789`).
    pub phone: Option<String>,
    /// The person's full name, two words at least, in any case form (`Марии Ивановой`).
    pub name: Option<String>,
}

/// The longest selector taken, in characters.
const MAX_SELECTOR: usize = 200;

impl Selectors {
    /// The selectors trimmed and checked: at least one, each well-formed.
    pub fn checked(&self) -> Result<Self, SubjectError> {
        let given = |v: &Option<String>, field: &str| -> Result<Option<String>, SubjectError> {
            match v.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(v) if v.chars().count() > MAX_SELECTOR => Err(invalid(
                    field,
                    &format!("at most {MAX_SELECTOR} characters"),
                )),
                Some(v) if v.chars().any(char::is_control) => {
                    Err(invalid(field, "must not hold control characters"))
                }
                Some(v) => Ok(Some(v.to_owned())),
            }
        };
        let out = Self {
            email: given(&self.email, "email")?,
            phone: given(&self.phone, "phone")?,
            name: given(&self.name, "name")?,
        };
        if let Some(email) = &out.email {
            let valid = email
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
            if !valid || email.contains(char::is_whitespace) {
                return Err(invalid("email", "must be an e-mail address"));
            }
        }
        if let Some(phone) = &out.phone {
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            let other = phone
                .chars()
                .any(|c| !c.is_ascii_digit() && !" +-().\u{a0}".contains(c));
            if !(7..=15).contains(&digits) || other {
                return Err(invalid("phone", "must be a phone number of 7 to 15 digits"));
            }
        }
        if let Some(name) = &out.name
            && name_words(name).len() < 2
        {
            return Err(invalid(
                "name",
                "give the full name (two words at least): one word names too many people",
            ));
        }
        if out.email.is_none() && out.phone.is_none() && out.name.is_none() {
            return Err(invalid("email", "give the person's email, phone or name"));
        }
        Ok(out)
    }

    /// The kinds given (`email`, `phone`, `name`): what the ledger may say of a request.
    pub fn kinds(&self) -> Vec<&'static str> {
        [
            ("email", &self.email),
            ("phone", &self.phone),
            ("name", &self.name),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| k)
        .collect()
    }
}

/// The words of a name, as written.
fn name_words(name: &str) -> Vec<&str> {
    name.split(|c: char| !c.is_alphanumeric() && c != '-')
        .map(|w| w.trim_matches('-'))
        .filter(|w| w.chars().count() >= 2)
        .collect()
}

/// The digits of a phone number that identify it whatever the prefix: its last ten.
fn phone_key(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 7).then(|| digits[digits.len().saturating_sub(10)..].to_owned())
}

/// The keyed look-ups of one requester, as (kind, key).
fn requester_keys(
    keys: &VaultKeys,
    name: Option<&str>,
    email: Option<&str>,
    phone: Option<&str>,
) -> BTreeSet<(&'static str, String)> {
    let mut out = BTreeSet::new();
    if let Some(email) = email.map(str::trim).filter(|e| e.contains('@')) {
        out.insert(("email", keys.subject_key("email", &email.to_lowercase())));
    }
    if let Some(tail) = phone.and_then(phone_key) {
        out.insert(("phone", keys.subject_key("phone", &tail)));
    }
    for word_keys in name.map(|n| name_keys(keys, n)).unwrap_or_default() {
        out.extend(word_keys.into_iter().map(|key| ("name", key)));
    }
    out
}

/// Per word of a name, the keyed look-ups of the lemmas it can be a form of.
fn name_keys(keys: &VaultKeys, name: &str) -> Vec<BTreeSet<String>> {
    name_words(name)
        .iter()
        .map(|word| {
            Lexicon::get()
                .lemmas(&word.to_lowercase())
                .iter()
                .map(|lemma| keys.subject_key("name", lemma))
                .collect()
        })
        .collect()
}

/// Indexes a ticket's requester, replacing what was indexed of it before.
pub fn index_requester(
    conn: &mut AnyConnection,
    keys: &VaultKeys,
    ticket_id: i64,
    name: Option<&str>,
    email: Option<&str>,
    phone: Option<&str>,
    replace: bool,
) -> QueryResult<()> {
    if replace {
        diesel::delete(subject_keys::table.filter(subject_keys::ticket_id.eq(ticket_id)))
            .execute(conn)?;
    }
    let rows: Vec<_> = requester_keys(keys, name, email, phone)
        .into_iter()
        .map(|(kind, key)| {
            (
                subject_keys::key.eq(key),
                subject_keys::ticket_id.eq(ticket_id),
                subject_keys::kind.eq(kind),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    // Multi-row INSERT is backend-specific in diesel.
    let insert = diesel::insert_into(subject_keys::table).values(rows);
    match conn {
        AnyConnection::Postgresql(pg) => insert.execute(pg)?,
        AnyConnection::Sqlite(lite) => insert.execute(lite)?,
    };
    Ok(())
}

/// Forgets what was indexed of these tickets' requesters (their data was erased).
pub fn forget(conn: &mut AnyConnection, ticket_ids: &[i64]) -> QueryResult<usize> {
    let mut n = 0;
    for batch in ticket_ids.chunks(500) {
        n += diesel::delete(subject_keys::table.filter(subject_keys::ticket_id.eq_any(batch)))
            .execute(conn)?;
    }
    Ok(n)
}

/// Tickets stored before the index existed, indexed per batch in a write of their own; once
/// done, never again. Returns how many tickets were indexed.
pub fn backfill(db: &Db, keys: &VaultKeys) -> Result<usize, DbError> {
    const BATCH: i64 = 500;
    let mut indexed = 0;
    loop {
        let done = db.write(|c| {
            let up_to: i64 = subject_backfill::table
                .find(1)
                .select(subject_backfill::up_to)
                .get_result(c)
                .optional()?
                .unwrap_or(0);
            if up_to <= 0 {
                return Ok(None);
            }
            type Requester = (i64, Option<String>, Option<String>, Option<String>);
            let batch: Vec<Requester> = tickets::table
                .filter(tickets::id.le(up_to))
                .filter(tickets::id.gt(up_to - BATCH))
                .select((
                    tickets::id,
                    tickets::requester_name,
                    tickets::requester_email,
                    tickets::requester_phone,
                ))
                .load(c)?;
            for (id, name, email, phone) in &batch {
                index_requester(
                    c,
                    keys,
                    *id,
                    name.as_deref(),
                    email.as_deref(),
                    phone.as_deref(),
                    true,
                )?;
            }
            diesel::update(subject_backfill::table.find(1))
                .set(subject_backfill::up_to.eq((up_to - BATCH).max(0)))
                .execute(c)?;
            Ok::<_, DbError>(Some(batch.len()))
        })?;
        match done {
            Some(n) => indexed += n,
            None => return Ok(indexed),
        }
    }
}

/// Records that `tokens` of `contract_id` went out with `ticket_id`.
pub fn record_disclosed(
    conn: &mut AnyConnection,
    contract_id: &str,
    ticket_id: i64,
    tokens: &BTreeSet<String>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    if tokens.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = tokens
        .iter()
        .map(|token| {
            (
                disclosed_tokens::contract_id.eq(contract_id),
                disclosed_tokens::token.eq(token),
                disclosed_tokens::ticket_id.eq(ticket_id),
                disclosed_tokens::first_at.eq(to_db(now)),
            )
        })
        .collect();
    for chunk in rows.chunks(1_000) {
        let insert = diesel::insert_into(disclosed_tokens::table)
            .values(chunk)
            .on_conflict_do_nothing();
        match conn {
            AnyConnection::Postgresql(pg) => insert.execute(pg)?,
            AnyConnection::Sqlite(lite) => insert.execute(lite)?,
        };
    }
    Ok(())
}

/// How a ticket was found for a subject.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Match {
    /// Its requester has the e-mail.
    Email,
    /// Its requester has the phone number.
    Phone,
    /// Its requester has the name.
    Name,
    /// Its text mentions the person: a token of the person's went out with it.
    Mention,
}

/// One contract's tokens for the subject.
#[derive(Debug, Clone, Default)]
pub struct ContractTokens {
    /// Token → kind (`EMAIL`, `PHONE`, `NAME`, `PERSON`).
    pub tokens: BTreeMap<String, String>,
    /// Token → the tickets it went out with.
    pub tickets: BTreeMap<String, BTreeSet<i64>>,
}

/// What is known of a subject: its tickets and, per contract, its tokens.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Ticket → how it was found.
    pub tickets: BTreeMap<i64, BTreeSet<Match>>,
    /// Contract → the subject's tokens in its vault.
    pub tokens: BTreeMap<String, ContractTokens>,
    /// The subject's identifiers as the tickets give them (for striking them from text).
    pub names: BTreeSet<String>,
    /// E-mails, as the tickets and the request give them.
    pub emails: BTreeSet<String>,
    /// Phone numbers, as the tickets and the request give them.
    pub phones: BTreeSet<String>,
}

impl Found {
    /// Tickets whose requester is the subject (not those that only mention it).
    pub fn requester_tickets(&self) -> Vec<i64> {
        self.tickets
            .iter()
            .filter(|(_, how)| how.iter().any(|m| *m != Match::Mention))
            .map(|(id, _)| *id)
            .collect()
    }
}

/// Finds a subject's tickets and tokens. A ticket found by name only is left out when its
/// requester's e-mail or phone contradicts the ones given (a namesake).
pub fn find(
    conn: &mut AnyConnection,
    keys: &VaultKeys,
    contract_ids: &[String],
    selectors: &Selectors,
) -> Result<Found, SubjectError> {
    let mut found = Found::default();
    let wanted = requester_keys(
        keys,
        selectors.name.as_deref(),
        selectors.email.as_deref(),
        selectors.phone.as_deref(),
    );
    let wanted_keys: Vec<String> = wanted.iter().map(|(_, k)| k.clone()).collect();
    let mut hits: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for batch in wanted_keys.chunks(500) {
        let rows: Vec<(String, i64)> = subject_keys::table
            .filter(subject_keys::key.eq_any(batch))
            .select((subject_keys::key, subject_keys::ticket_id))
            .load(conn)?;
        for (key, ticket) in rows {
            hits.entry(ticket).or_default().insert(key);
        }
    }
    let word_keys = selectors
        .name
        .as_deref()
        .map(|n| name_keys(keys, n))
        .unwrap_or_default();
    let key_of = |kind: &str| wanted.iter().find(|(k, _)| *k == kind).map(|(_, v)| v);
    for (ticket, matched) in hits {
        let mut how = BTreeSet::new();
        if key_of("email").is_some_and(|k| matched.contains(k)) {
            how.insert(Match::Email);
        }
        if key_of("phone").is_some_and(|k| matched.contains(k)) {
            how.insert(Match::Phone);
        }
        let every_word = !word_keys.is_empty()
            && word_keys
                .iter()
                .all(|alternatives| alternatives.iter().any(|k| matched.contains(k)));
        if every_word {
            how.insert(Match::Name);
        }
        if how == BTreeSet::from([Match::Name]) && contradicts(conn, ticket, &wanted)? {
            continue;
        }
        if !how.is_empty() {
            found.tickets.insert(ticket, how);
        }
    }
    // The identifiers as the requester's tickets give them: the spellings their vaults hold.
    let ids = found.requester_tickets();
    for batch in ids.chunks(500) {
        type Requester = (Option<String>, Option<String>, Option<String>);
        let rows: Vec<Requester> = tickets::table
            .filter(tickets::id.eq_any(batch))
            .select((
                tickets::requester_name,
                tickets::requester_email,
                tickets::requester_phone,
            ))
            .load(conn)?;
        for (name, email, phone) in rows {
            found.names.extend(name);
            found.emails.extend(email);
            found.phones.extend(phone);
        }
    }
    found.names.extend(selectors.name.clone());
    found.emails.extend(selectors.email.clone());
    found.phones.extend(selectors.phone.clone());
    let values = vault_values(&found);
    for contract_id in contract_ids {
        let lookups: Vec<(&str, String)> = values
            .iter()
            .map(|(kind, value)| (*kind, keys.lookup(contract_id, kind, value)))
            .collect();
        let tokens = crate::redaction::vault::tokens_by_lookup(conn, contract_id, &lookups)?;
        if tokens.is_empty() {
            continue;
        }
        let mut entry = ContractTokens::default();
        let names: Vec<&str> = tokens.iter().map(|(t, _)| t.as_str()).collect();
        for batch in names.chunks(500) {
            let rows: Vec<(String, i64)> = disclosed_tokens::table
                .filter(disclosed_tokens::contract_id.eq(contract_id))
                .filter(disclosed_tokens::token.eq_any(batch))
                .select((disclosed_tokens::token, disclosed_tokens::ticket_id))
                .load(conn)?;
            for (token, ticket) in rows {
                entry.tickets.entry(token).or_default().insert(ticket);
            }
        }
        for (token, kind) in tokens {
            // A word of a name is shared by namesakes: it does not show whose ticket it is.
            if kind != "NAME" {
                for ticket in entry.tickets.get(&token).into_iter().flatten() {
                    found
                        .tickets
                        .entry(*ticket)
                        .or_default()
                        .insert(Match::Mention);
                }
            }
            entry.tokens.insert(token, kind);
        }
        found.tokens.insert(contract_id.clone(), entry);
    }
    Ok(found)
}

/// True when the ticket's requester has an e-mail or phone and none of them is the one asked
/// for.
fn contradicts(
    conn: &mut AnyConnection,
    ticket: i64,
    wanted: &BTreeSet<(&'static str, String)>,
) -> QueryResult<bool> {
    let rows: Vec<(String, String)> = subject_keys::table
        .filter(subject_keys::ticket_id.eq(ticket))
        .filter(subject_keys::kind.ne("name"))
        .select((subject_keys::kind, subject_keys::key))
        .load(conn)?;
    Ok(["email", "phone"].iter().any(|kind| {
        let asked: Vec<&String> = wanted
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, v)| v)
            .collect();
        let held: Vec<&String> = rows
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, v)| v)
            .collect();
        !asked.is_empty() && !held.is_empty() && !held.iter().any(|h| asked.contains(h))
    }))
}

/// The (kind, value) pairs a contract's vault may hold for the subject, in the forms the
/// redaction engine stores them: e-mails in lower case, phones as their digits (as given, and
/// with the prefixes a number is written with), each word of a name as the ticket writes it,
/// and the whole name as a person found in text.
fn vault_values(found: &Found) -> BTreeSet<(&'static str, String)> {
    let mut out = BTreeSet::new();
    for email in &found.emails {
        out.insert(("EMAIL", email.trim().to_lowercase()));
    }
    for phone in &found.phones {
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        out.insert(("PHONE", digits.clone()));
        if let Some(tail) = phone_key(phone) {
            for prefix in ["", "7", "8", "1", "0", "44", "49", "33"] {
                out.insert(("PHONE", format!("{prefix}{tail}")));
            }
        }
    }
    for name in &found.names {
        // The requester field itself is tokenised whole, a person found in text likewise.
        out.insert(("NAME", name.trim().to_owned()));
        out.insert(("PERSON", name.trim().to_owned()));
        let words = name_words(name);
        for word in &words {
            out.insert(("NAME", (*word).to_owned()));
        }
        // A person named in someone else's text is tokenised as written, in whatever case
        // the sentence puts the name: `передайте Марии Ивановой`.
        for spelled in declined(&words) {
            out.insert(("PERSON", spelled));
        }
    }
    out
}

/// Most spellings of a declined full name looked up per contract.
const MAX_DECLINED: usize = 200;

/// A full name of two or three words in each case form, word order kept and, for two words,
/// reversed (`Ивановой Марии`), each word capitalised as a text writes it.
fn declined(words: &[&str]) -> Vec<String> {
    if !(2..=3).contains(&words.len()) {
        return Vec::new();
    }
    let capitalised = |w: &str| {
        let mut chars = w.chars();
        chars.next().map_or_else(String::new, |first| {
            first.to_uppercase().chain(chars).collect()
        })
    };
    let forms: Vec<Vec<String>> = words
        .iter()
        .map(|w| {
            crate::names::forms(w)
                .iter()
                .map(|f| capitalised(f))
                .collect()
        })
        .collect();
    let spell = |forms: &[&Vec<String>]| {
        let mut out: Vec<String> = vec![String::new()];
        for word_forms in forms {
            out = out
                .iter()
                .flat_map(|head| {
                    word_forms.iter().map(move |f| {
                        if head.is_empty() {
                            f.clone()
                        } else {
                            format!("{head} {f}")
                        }
                    })
                })
                .take(MAX_DECLINED / 2)
                .collect();
        }
        out
    };
    let mut out = spell(&forms.iter().collect::<Vec<_>>());
    if forms.len() == 2 {
        out.extend(spell(&forms.iter().rev().collect::<Vec<_>>()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_name_is_looked_up_in_its_case_forms() {
        let spelled = declined(&["Мария", "Иванова"]);
        for form in [
            "Мария Иванова",
            "Марии Ивановой",
            "Марию Иванову",
            "Ивановой Марии",
        ] {
            assert!(spelled.contains(&form.to_owned()), "{form}: {spelled:?}");
        }
        assert!(spelled.len() <= MAX_DECLINED);
        assert!(declined(&["Мария"]).is_empty());
        assert_eq!(
            declined(&["John", "Smith"]),
            vec!["John Smith", "Smith John"]
        );
    }

    #[test]
    fn selectors_are_checked() {
        let s = |email: Option<&str>, phone: Option<&str>, name: Option<&str>| Selectors {
            email: email.map(str::to_owned),
            phone: phone.map(str::to_owned),
            name: name.map(str::to_owned),
        };
        assert!(s(None, None, None).checked().is_err());
        assert!(s(Some("  "), None, None).checked().is_err());
        assert!(s(Some("no-at-sign"), None, None).checked().is_err());
        assert!(s(None, Some("12-34"), None).checked().is_err());
        assert!(s(None, Some("call me"), None).checked().is_err());
        assert!(s(None, None, Some("Мария")).checked().is_err());
        let ok = s(Some(" Ivan@Example.ru "), Some("+7 (912) 345-67-89"), None)
            .checked()
            .unwrap_or_default();
        assert_eq!(ok.email.as_deref(), Some("Ivan@Example.ru"));
        assert_eq!(ok.kinds(), vec!["email", "phone"]);
    }

    #[test]
    fn a_requester_has_the_same_keys_in_every_spelling() {
        let keys = VaultKeys::from_bytes([7; 32]);
        let a = requester_keys(
            &keys,
            Some("Мария Иванова"),
            Some("Maria@Mail.RU"),
            Some("+7 (912) 345-67-89"),
        );
        let b = requester_keys(
            &keys,
            Some("Марии Ивановой"),
            Some("maria@mail.ru"),
            Some("8 912 3456789"),
        );
        assert!(!a.is_empty());
        assert_eq!(a, b);
        let other = requester_keys(&keys, Some("Ольга Петрова"), None, Some("+7 912 000 00 00"));
        assert!(a.is_disjoint(&other));
        let elsewhere = VaultKeys::from_bytes([8; 32]);
        assert!(a.is_disjoint(&requester_keys(
            &elsewhere,
            Some("Мария Иванова"),
            Some("maria@mail.ru"),
            None
        )));
    }
}
