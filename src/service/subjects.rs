//! A data subject's rights across contractors (GDPR art. 15 and 17, 152-FZ art. 14 and 21):
//! which contractor got the person's data, when and what of it; and its erasure everywhere —
//! the vault's values destroyed, the gateway's copies redacted, every contractor that got the
//! data told to delete it and to acknowledge, an acknowledgement that does not come in time
//! escalated.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::clock::from_db;
use crate::contracts::ContractSet;
use crate::contracts::model::DEFAULT_ERASURE_ACK_DAYS;
use crate::db::AnyConnection;
use crate::db::schema::{
    attachment_contents, attachments, comments, contracts, feedback, outbox_events,
    reply_approvals, shares, tickets,
};
use crate::ledger::{self, Action, NewEntry};
use crate::model::EventType;
use crate::outbox::{self, Audience, NewEvent};
use crate::redaction::VaultKeys;
use crate::redaction::engine::KnownValues;
use crate::service::contractor::ContractorActor;
use crate::subjects::notices::{self, NewErasure, NewNotice};
use crate::subjects::{self, Found, Match, NoticeView, Selectors, SubjectError};
use crate::tickets::attachments::{Version, replace_content};

/// What replaces the person's identifiers in the gateway's copies.
pub const ERASED: &str = "[ERASED]";

/// A ticket about the person.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectTicket {
    /// Gateway ticket id.
    pub id: i64,
    /// Source helpdesk.
    pub source: String,
    /// Id there.
    pub external_id: String,
    /// When the gateway first stored it.
    pub created_at: DateTime<Utc>,
    /// How it was found: the requester's `email`, `phone` or `name`, or a `mention` (a token
    /// of the person's went out with it).
    pub found_by: Vec<Match>,
}

/// What one contractor got of the person with one ticket.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SubjectDisclosure {
    /// The contract.
    pub contract: String,
    /// Its contractor.
    pub contractor: String,
    /// The ticket.
    pub ticket: i64,
    /// First disclosure (the share).
    pub first_at: Option<DateTime<Utc>>,
    /// Latest disclosure (a share or an update).
    pub last_at: Option<DateTime<Utc>>,
    /// Disclosures: the share and each update sent.
    pub disclosures: u64,
    /// Fields sent, over every disclosure.
    pub fields: BTreeSet<String>,
    /// Personal data found in what was sent, by kind (`EMAIL`, `PERSON`, …), over every
    /// disclosure, whatever was done with it (the receipts say how).
    pub entities: BTreeMap<String, u64>,
    /// The person's tokens that went out with this ticket.
    pub tokens: Vec<String>,
    /// Reads by the contractor's users.
    pub reads: u64,
    /// Who read it.
    pub readers: BTreeSet<String>,
    /// Latest read.
    pub last_read_at: Option<DateTime<Utc>>,
    /// Files downloaded.
    pub downloads: u64,
    /// Replies the contractor sent on it.
    pub replies: u64,
}

/// Everything the gateway disclosed of one person: the answer to a subject access request.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectReport {
    /// When it was produced.
    pub generated_at: DateTime<Utc>,
    /// Who asked.
    pub requested_by: String,
    /// The kinds of selector given (never their values).
    pub selectors: Vec<&'static str>,
    /// The tickets about the person.
    pub tickets: Vec<SubjectTicket>,
    /// What each contractor got, per ticket.
    pub disclosures: Vec<SubjectDisclosure>,
    /// Contracts under which the person's data went out.
    pub contracts: Vec<String>,
}

const DISCLOSURE_ACTIONS: &[&str] = &[
    "ticket.share",
    "share.update",
    "share.read",
    "share.attachment_download",
    "share.reply",
];

/// Every contract the gateway has known (ended and withdrawn ones too: their vaults stay), with
/// its contractor.
fn known_contracts(conn: &mut AnyConnection) -> QueryResult<BTreeMap<String, String>> {
    Ok(contracts::table
        .select((contracts::id, contracts::contractor))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

#[derive(Deserialize, Default)]
struct Details {
    #[serde(default)]
    receipt: Option<ReceiptDetails>,
}

#[derive(Deserialize, Default)]
struct ReceiptDetails {
    #[serde(default)]
    fields_sent: Vec<String>,
    #[serde(default)]
    entities: BTreeMap<String, BTreeMap<String, u64>>,
}

/// Everything disclosed of the person `selectors` name (`GET /api/v1/subjects/disclosures`),
/// in the caller's write transaction: the look-up itself is audited. Reads the sealed ledger:
/// seal it first.
pub fn disclosures(
    conn: &mut AnyConnection,
    keys: &VaultKeys,
    selectors: &Selectors,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<SubjectReport, SubjectError> {
    let selectors = selectors.checked()?;
    let contractors = known_contracts(conn)?;
    let ids: Vec<String> = contractors.keys().cloned().collect();
    let found = subjects::find(conn, keys, &ids, &selectors)?;
    let ticket_ids: Vec<i64> = found.tickets.keys().copied().collect();
    let mut tickets_out = Vec::new();
    for batch in ticket_ids.chunks(500) {
        let rows: Vec<(i64, String, String, chrono::NaiveDateTime)> = tickets::table
            .filter(tickets::id.eq_any(batch))
            .select((
                tickets::id,
                tickets::source,
                tickets::external_id,
                tickets::created_at,
            ))
            .load(conn)?;
        tickets_out.extend(rows.into_iter().map(|(id, source, external_id, created)| {
            SubjectTicket {
                id,
                source,
                external_id,
                created_at: from_db(created),
                found_by: found
                    .tickets
                    .get(&id)
                    .map(|m| m.iter().copied().collect())
                    .unwrap_or_default(),
            }
        }));
    }
    tickets_out.sort_by_key(|t| t.id);
    let mut by_share: BTreeMap<(String, i64), SubjectDisclosure> = BTreeMap::new();
    for e in ledger::of_tickets(conn, &ticket_ids, DISCLOSURE_ACTIONS)? {
        let (Some(contract), Some(ticket)) = (e.contract_id.clone(), e.ticket_id) else {
            continue;
        };
        let at = from_db(e.at);
        let d = by_share.entry((contract.clone(), ticket)).or_default();
        if d.contract.is_empty() {
            d.contractor = contractors.get(&contract).cloned().unwrap_or_default();
            d.contract = contract;
            d.ticket = ticket;
        }
        // Entries written by this gateway always parse; anything else counts as empty.
        let details: Details = serde_json::from_str(&e.details).unwrap_or_default();
        match e.action.as_str() {
            "ticket.share" | "share.update" => {
                d.disclosures += 1;
                d.first_at.get_or_insert(at);
                d.last_at = Some(at);
                if let Some(r) = details.receipt {
                    d.fields.extend(r.fields_sent);
                    for (kind, actions) in r.entities {
                        *d.entities.entry(kind).or_default() += actions.values().sum::<u64>();
                    }
                }
            }
            "share.read" => {
                d.reads += 1;
                d.last_read_at = Some(at);
                d.readers.insert(e.actor.clone());
            }
            "share.attachment_download" => d.downloads += 1,
            "share.reply" => d.replies += 1,
            _ => {}
        }
    }
    for ((contract, ticket), d) in &mut by_share {
        if let Some(entry) = found.tokens.get(contract) {
            d.tokens = entry
                .tickets
                .iter()
                .filter(|(_, tickets)| tickets.contains(ticket))
                .map(|(token, _)| token.clone())
                .collect();
        }
    }
    let disclosures: Vec<SubjectDisclosure> = by_share.into_values().collect();
    let contracts_out: Vec<String> = disclosures
        .iter()
        .map(|d| d.contract.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    ledger::append(
        conn,
        now,
        NewEntry {
            actor,
            action: Action::SubjectAccess,
            contract_id: None,
            ticket_id: None,
            details: json!({
                "selectors": selectors.kinds(),
                "tickets": ticket_ids.len(),
                "disclosures": disclosures.len(),
                "contracts": contracts_out,
            }),
        },
    )?;
    Ok(SubjectReport {
        generated_at: now,
        requested_by: actor.to_owned(),
        selectors: selectors.kinds(),
        tickets: tickets_out,
        disclosures,
        contracts: contracts_out,
    })
}

/// A request to erase a person's data (`POST /api/v1/subjects/erase`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"email": "maria.ivanova@mail.ru", "phone": "+7 912 345-67-89", "reason": "Demand of 1 June 2026, ref. DSR-42"}))]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// The person's e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// The person's phone number, in any spelling.
    #[serde(default)]
    pub phone: Option<String>,
    /// The person's full name, in any case form.
    #[serde(default)]
    pub name: Option<String>,
    /// Why (the person's demand, its reference): 1–2000 characters. Stored with the person's
    /// identifiers struck out.
    pub reason: String,
}

/// What an erasure did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErasureOutcome {
    /// The erasure id.
    pub erasure: i64,
    /// The tickets whose copies were redacted.
    pub tickets: Vec<i64>,
    /// Token values destroyed: replies can no longer turn them back into values.
    pub tokens_erased: usize,
    /// The person's tokens kept because other people's tickets carry them too (a word of a
    /// name namesakes share).
    pub tokens_kept: usize,
    /// Fields and texts of the gateway's copies rewritten.
    pub fields_struck: usize,
    /// One notice per contractor that got the data.
    pub notices: Vec<NoticeView>,
}

/// Kinds whose token always belongs to one person: erased even when other tickets carry it.
fn identifies_alone(kind: &str) -> bool {
    matches!(kind, "EMAIL" | "PHONE")
}

/// Erases the person `request` names, in the caller's write transaction.
pub fn erase(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    request: &ErasureRequest,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<ErasureOutcome, SubjectError> {
    let selectors = Selectors {
        email: request.email.clone(),
        phone: request.phone.clone(),
        name: request.name.clone(),
    }
    .checked()?;
    let reason =
        crate::json_input::reason(&request.reason, 2_000).map_err(|p| SubjectError::Invalid {
            field: p.field,
            message: p.detail,
        })?;
    let contractors = known_contracts(conn)?;
    let ids: Vec<String> = contractors.keys().cloned().collect();
    let found = subjects::find(conn, keys, &ids, &selectors)?;
    let subject_tickets: BTreeSet<i64> = found.tickets.keys().copied().collect();
    let (mut tokens_erased, mut tokens_kept) = (0, 0);
    let mut erased_by_contract: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (contract, entry) in &found.tokens {
        let mut erasable = Vec::new();
        for (token, kind) in &entry.tokens {
            let only_theirs = entry
                .tickets
                .get(token)
                .is_none_or(|t| t.is_subset(&subject_tickets));
            if identifies_alone(kind) || only_theirs {
                erasable.push(token.clone());
            } else {
                tokens_kept += 1;
            }
        }
        tokens_erased += crate::redaction::vault::erase(conn, contract, &erasable, now)?;
        erased_by_contract.insert(contract.clone(), erasable);
    }
    let known = KnownValues::of_person(
        found.names.iter().map(String::as_str),
        found.emails.iter().map(String::as_str),
        found.phones.iter().map(String::as_str),
    );
    let fields_struck = strike_copies(conn, &found, &known)?;
    subjects::forget(conn, &found.requester_tickets())?;
    let ticket_list: Vec<i64> = subject_tickets.iter().copied().collect();
    let kinds = selectors.kinds();
    let reason = known
        .strike(reason, ERASED)
        .unwrap_or_else(|| reason.to_owned());
    let erasure_id = notices::create_erasure(
        conn,
        &NewErasure {
            requested_by: actor,
            reason: &reason,
            selectors: &kinds,
            tickets: &ticket_list,
            tokens_erased,
            fields_struck,
        },
        now,
    )?;
    let mut sent = Vec::new();
    let mut events = Vec::new();
    let mut entries = Vec::new();
    for (contract, contractor) in &contractors {
        let mut shared: BTreeSet<i64> = BTreeSet::new();
        for batch in ticket_list.chunks(500) {
            shared.extend(
                shares::table
                    .filter(shares::contract_id.eq(contract))
                    .filter(shares::ticket_id.eq_any(batch))
                    .select(shares::ticket_id)
                    .load::<i64>(conn)?,
            );
        }
        let tokens = erased_by_contract.remove(contract).unwrap_or_default();
        if let Some(entry) = found.tokens.get(contract) {
            for token in &tokens {
                shared.extend(entry.tickets.get(token).into_iter().flatten());
            }
        }
        if shared.is_empty() && tokens.is_empty() {
            continue;
        }
        let days = contracts
            .get(contract)
            .and_then(|f| f.contract.processing.as_ref())
            .map_or(DEFAULT_ERASURE_ACK_DAYS, |p| p.erasure_ack_days);
        let tickets_for: Vec<i64> = shared.into_iter().collect();
        let notice = notices::create_notice(
            conn,
            &NewNotice {
                erasure_id,
                contract_id: contract,
                contractor,
                tickets: &tickets_for,
                tokens: &tokens,
                due_at: now + chrono::Duration::days(i64::from(days)),
            },
            now,
        )?;
        events.push(NewEvent {
            audience: Audience::Contractor(contract.clone()),
            ticket_id: None,
            event_type: EventType::SubjectEraseRequested,
            data: json!({
                "notice": notice.id,
                "contract": contract,
                "tickets": notice.tickets,
                "tokens": notice.tokens,
                "due_at": notice.due_at,
                "delete": "every copy of the person's data in these tickets, and whatever these tokens stood for",
                "acknowledge": format!("/api/v1/contractor/erasures/{}/ack", notice.id),
            }),
        });
        entries.push((
            contract.clone(),
            json!({
                "erasure": erasure_id,
                "notice": notice.id,
                "tickets": notice.tickets,
                "tokens": notice.tokens.len(),
                "due_at": notice.due_at,
            }),
        ));
        sent.push(notice);
    }
    events.push(NewEvent {
        audience: Audience::Inhouse,
        ticket_id: None,
        event_type: EventType::SubjectErased,
        data: json!({
            "erasure": erasure_id,
            "tickets": external_keys(conn, &ticket_list)?,
            "erase": "the person's data in these tickets, in the helpdesk too",
        }),
    });
    outbox::enqueue(conn, now, events)?;
    let mut ledger_entries = vec![NewEntry {
        actor,
        action: Action::SubjectErase,
        contract_id: None,
        ticket_id: None,
        details: json!({
            "erasure": erasure_id,
            "selectors": kinds,
            "tickets": ticket_list,
            "tokens_erased": tokens_erased,
            "tokens_kept": tokens_kept,
            "fields_struck": fields_struck,
            "notices": sent.iter().map(|n| n.id).collect::<Vec<_>>(),
        }),
    }];
    ledger_entries.extend(entries.iter().map(|(contract, details)| NewEntry {
        actor,
        action: Action::SubjectEraseRequested,
        contract_id: Some(contract),
        ticket_id: None,
        details: details.clone(),
    }));
    ledger::append_all(conn, now, ledger_entries)?;
    Ok(ErasureOutcome {
        erasure: erasure_id,
        tickets: ticket_list,
        tokens_erased,
        tokens_kept,
        fields_struck,
        notices: sent,
    })
}

fn external_keys(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<Value>> {
    let mut out = Vec::new();
    for batch in ids.chunks(500) {
        let rows: Vec<(i64, String, String)> = tickets::table
            .filter(tickets::id.eq_any(batch))
            .select((tickets::id, tickets::source, tickets::external_id))
            .load(conn)?;
        out.extend(
            rows.into_iter()
                .map(|(id, source, external_id)| json!({"id": id, "source": source, "external_id": external_id})),
        );
    }
    Ok(out)
}

/// Strikes the person's identifiers from the gateway's copies of its tickets: the requester
/// fields of its own tickets; every text of every ticket about it (subject, description,
/// custom fields, comments as stored and as written, ratings' comments, replies waiting for
/// approval, file names, text files, events waiting or kept as history). Returns how many
/// fields were rewritten.
fn strike_copies(
    conn: &mut AnyConnection,
    found: &Found,
    known: &KnownValues,
) -> QueryResult<usize> {
    let strike = |text: &str| known.strike(text, ERASED);
    let ids: Vec<i64> = found.tickets.keys().copied().collect();
    let own: BTreeSet<i64> = found.requester_tickets().into_iter().collect();
    let mut struck = 0;
    for batch in ids.chunks(200) {
        type Texts = (i64, String, String, String, bool);
        let rows: Vec<Texts> = tickets::table
            .filter(tickets::id.eq_any(batch))
            .select((
                tickets::id,
                tickets::subject,
                tickets::description,
                tickets::custom_fields,
                tickets::requester_name
                    .is_not_null()
                    .or(tickets::requester_email.is_not_null())
                    .or(tickets::requester_phone.is_not_null()),
            ))
            .load(conn)?;
        for (id, subject, description, custom, has_requester) in rows {
            let texts = [strike(&subject), strike(&description), strike(&custom)];
            let requester = own.contains(&id) && has_requester;
            let changed = texts.iter().flatten().count() + usize::from(requester);
            if changed == 0 {
                continue;
            }
            struck += changed;
            let [new_subject, new_description, new_custom] = texts;
            diesel::update(tickets::table.find(id))
                .set((
                    tickets::subject.eq(new_subject.unwrap_or(subject)),
                    tickets::description.eq(new_description.unwrap_or(description)),
                    tickets::custom_fields.eq(new_custom.unwrap_or(custom)),
                    // A re-push of the same ticket is taken in again, not answered as unchanged.
                    tickets::fingerprint.eq(None::<String>),
                ))
                .execute(conn)?;
            if requester {
                diesel::update(tickets::table.find(id))
                    .set((
                        tickets::requester_name.eq(None::<String>),
                        tickets::requester_email.eq(None::<String>),
                        tickets::requester_phone.eq(None::<String>),
                    ))
                    .execute(conn)?;
            }
        }
        let rows: Vec<(i64, String, Option<String>)> = comments::table
            .filter(comments::ticket_id.eq_any(batch))
            .select((comments::id, comments::body, comments::written_body))
            .load(conn)?;
        for (id, body, written) in rows {
            let new_body = strike(&body);
            let new_written = written.as_deref().and_then(strike);
            if new_body.is_none() && new_written.is_none() {
                continue;
            }
            struck += usize::from(new_body.is_some()) + usize::from(new_written.is_some());
            diesel::update(comments::table.find(id))
                .set((
                    comments::body.eq(new_body.unwrap_or(body)),
                    comments::written_body.eq(new_written.or(written)),
                ))
                .execute(conn)?;
        }
        let rows: Vec<(i64, String, String)> = feedback::table
            .filter(feedback::ticket_id.eq_any(batch))
            .filter(feedback::comment.is_not_null())
            .select((
                feedback::share_id,
                feedback::kind,
                feedback::comment.assume_not_null(),
            ))
            .load(conn)?;
        for (share_id, kind, comment) in rows {
            if let Some(new) = strike(&comment) {
                struck += 1;
                diesel::update(feedback::table.find((share_id, kind)))
                    .set(feedback::comment.eq(Some(new)))
                    .execute(conn)?;
            }
        }
        // Replies waiting for approval, file names, events (waiting, or kept as history).
        macro_rules! strike_column {
            ($table:ident, $column:ident) => {
                let rows: Vec<(i64, String)> = $table::table
                    .filter($table::ticket_id.eq_any(batch))
                    .select(($table::id, $table::$column))
                    .load(conn)?;
                for (id, text) in rows {
                    if let Some(new) = strike(&text) {
                        struck += 1;
                        diesel::update($table::table.find(id))
                            .set($table::$column.eq(new))
                            .execute(conn)?;
                    }
                }
            };
        }
        strike_column!(reply_approvals, request);
        strike_column!(attachments, file_name);
        strike_column!(outbox_events, payload);
        // Text files, both as kept in-house and as a contractor wrote them; other files are
        // kept as they are (the gateway cannot tell what an image or a PDF shows).
        type File = (i64, String, String, Option<String>);
        let files: Vec<File> = attachments::table
            .filter(attachments::ticket_id.eq_any(batch))
            .select((
                attachments::id,
                attachments::media_type,
                attachments::sha256,
                attachments::written_sha256,
            ))
            .load(conn)?;
        for (id, media_type, inhouse, written) in files {
            if !crate::contracts::model::is_text_media_type(&media_type) {
                continue;
            }
            for (version, digest) in [
                (Version::Inhouse, Some(inhouse)),
                (Version::Written, written),
            ] {
                let Some(digest) = digest else { continue };
                let stored: Option<Vec<u8>> = attachment_contents::table
                    .find(&digest)
                    .select(attachment_contents::content)
                    .get_result(conn)
                    .optional()?;
                let text = stored.and_then(|bytes| String::from_utf8(bytes).ok());
                if let Some(new) = text.as_deref().and_then(strike) {
                    struck += 1;
                    replace_content(conn, id, version, new.as_bytes())?;
                }
            }
        }
    }
    Ok(struck)
}

/// `who` acknowledges that its contractor erased what notice `id` listed
/// (`POST /api/v1/contractor/erasures/{id}/ack`); a second acknowledgement changes nothing.
pub fn acknowledge(
    conn: &mut AnyConnection,
    who: &ContractorActor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<NoticeView, SubjectError> {
    let (notice, now_acknowledged) =
        notices::acknowledge(conn, &who.contractor, id, &who.ledger_name(), now)?;
    if now_acknowledged {
        ledger::append(
            conn,
            now,
            NewEntry {
                actor: &who.ledger_name(),
                action: Action::SubjectEraseAck,
                contract_id: Some(&notice.contract),
                ticket_id: None,
                details: json!({
                    "erasure": notice.erasure,
                    "notice": notice.id,
                    "late": notice.escalated_at.is_some(),
                }),
            },
        )?;
    }
    Ok(notice)
}

/// Escalates every notice whose acknowledgement is overdue: on the record, and to the in-house
/// side as `subject.erase_overdue`. Returns them.
pub fn escalate_overdue(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
) -> Result<Vec<NoticeView>, SubjectError> {
    let overdue = notices::escalate_overdue(conn, now)?;
    let mut events = Vec::with_capacity(overdue.len());
    let mut entries = Vec::with_capacity(overdue.len());
    for n in &overdue {
        let data = json!({
            "erasure": n.erasure,
            "notice": n.id,
            "contract": n.contract,
            "contractor": n.contractor,
            "tickets": n.tickets,
            "due_at": n.due_at,
        });
        events.push(NewEvent {
            audience: Audience::Inhouse,
            ticket_id: None,
            event_type: EventType::SubjectEraseOverdue,
            data: data.clone(),
        });
        entries.push(NewEntry {
            actor: "system",
            action: Action::SubjectEraseOverdue,
            contract_id: Some(&n.contract),
            ticket_id: None,
            details: data,
        });
    }
    outbox::enqueue(conn, now, events)?;
    ledger::append_all(conn, now, entries)?;
    Ok(overdue)
}
