//! What a contractor can do with the tickets shared with it. Every function filters by the
//! caller's contractor: a ticket shared with someone else is indistinguishable from a missing one.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clock::from_db;
use crate::contracts::{ContractFile, ContractSet};
use crate::db::AnyConnection;
use crate::ids::TicketId;
use crate::ledger::{self, Action, NewEntry};
use crate::model::{EventType, ShareState};
use crate::outbox::{self, NewEvent};
use crate::redaction::ProjectedFields;
use crate::redaction::attachments::{SentContent, Withheld, is_text};
use crate::redaction::rehydrate::rehydrate;
use crate::redaction::vault::VaultError;
use crate::redaction::{Vault, VaultKeys};
use crate::service::sharing::{project_for, reader_of, route};
use crate::service::timekeeping;
use crate::shares::{self, Ending, ShareRow};
use crate::tickets::attachments::{self, Attached, FileDownload, NewAttachment};
use crate::tickets::store::{self, Origin};
use crate::tickets::{CommentInput, TicketError, checked_reason};

/// The calling contractor.
#[derive(Debug, Clone)]
pub struct ContractorActor {
    /// Contractor id from the token.
    pub contractor: String,
    /// The token's subject (the agent or system).
    pub sub: String,
}

impl ContractorActor {
    /// The actor name recorded in the ledger.
    pub fn ledger_name(&self) -> String {
        format!("contractor:{}/{}", self.contractor, self.sub)
    }
}

/// [`visible_share`] for a change: the ticket is locked first, as every workflow that writes
/// to a ticket does, so that the changes to one ticket (and their events) run in turn.
pub(crate) fn share_to_change<'s>(
    conn: &mut AnyConnection,
    contracts: &'s ContractSet,
    who: &ContractorActor,
    ticket_id: i64,
    now: DateTime<Utc>,
) -> Result<(ShareRow, &'s ContractFile), TicketError> {
    crate::db::lock_tickets(conn, &[ticket_id], crate::db::LockWait::Block)?;
    visible_share(conn, contracts, who, ticket_id, now)
}

/// The caller's share of `ticket_id` and its contract, if the share is visible to it and the
/// contract is in force: a contract that left force (withdrawn, or past its dates) grants
/// nothing, whatever the share's state (fail closed).
fn visible_share<'s>(
    conn: &mut AnyConnection,
    contracts: &'s ContractSet,
    who: &ContractorActor,
    ticket_id: i64,
    now: DateTime<Utc>,
) -> Result<(ShareRow, &'s ContractFile), TicketError> {
    let share =
        shares::visible_to(conn, &who.contractor, ticket_id)?.ok_or(TicketError::NotFound)?;
    let file = contracts
        .in_force(&share.contract_id, now)
        .ok_or(TicketError::NotFound)?;
    Ok((share, file))
}

/// What a contractor's read produced.
#[derive(Debug)]
pub enum View {
    /// The projection the contract allows.
    Shown(ContractorTicket),
    /// Redaction failed, so nothing is shown (fail closed); the refusal is audited.
    Refused,
}

/// A shared ticket as its contractor sees it: the share's facts and clocks, and the ticket's
/// fields the contract lets leave, redacted and tokenised.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContractorTicket {
    /// Gateway ticket id.
    pub id: TicketId,
    /// Share state.
    pub state: ShareState,
    /// The contract it is shared under.
    pub contract: String,
    /// When shared.
    pub shared_at: DateTime<Utc>,
    /// The contractor's first public reply.
    pub first_response_at: Option<DateTime<Utc>>,
    /// The share's SLA clocks.
    pub sla: Vec<shares::clocks::ClockView>,
    /// The ticket's fields.
    #[serde(flatten)]
    pub fields: ProjectedFields,
}

/// The ticket as the contract lets this contractor see it. The read is audited with its
/// receipt. A share whose contract is no longer in force is not shown (fail closed).
pub fn view(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    who: &ContractorActor,
    ticket_id: TicketId,
    now: DateTime<Utc>,
) -> Result<View, TicketError> {
    let ticket_id = ticket_id.get();
    let (share, file) = visible_share(conn, contracts, who, ticket_id, now)?;
    let actor = who.ledger_name();
    let Some(projection) = projection_or_refusal(conn, keys, &actor, &share, file, None, now)?
    else {
        return Ok(View::Refused);
    };
    ledger::append(
        conn,
        now,
        NewEntry {
            actor: &actor,
            action: Action::ShareRead,
            contract_id: Some(&share.contract_id),
            ticket_id: Some(ticket_id),
            details: json!({ "share_id": share.id, "receipt": projection.receipt }),
        },
    )?;
    let clocks = shares::clocks::of_share(conn, share.id)?;
    Ok(View::Shown(ContractorTicket {
        id: ticket_id.into(),
        state: share.state,
        contract: share.contract_id,
        shared_at: from_db(share.created_at),
        first_response_at: share.first_response_at.map(from_db),
        sla: clocks.iter().map(shares::ClockRow::view).collect(),
        fields: ProjectedFields(projection.body),
    }))
}

/// The share's ticket as its contract lets the contractor see it; when redaction fails, the
/// refusal is logged and audited (naming the file asked for, if one was) and there is nothing
/// to show (fail closed).
fn projection_or_refusal(
    conn: &mut AnyConnection,
    keys: &VaultKeys,
    actor: &str,
    share: &ShareRow,
    file: &ContractFile,
    attachment_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<crate::redaction::Projection>, TicketError> {
    let ticket_id = share.ticket_id;
    let ticket = store::find(conn, ticket_id)?.ok_or(TicketError::NotFound)?;
    match project_for(conn, keys, &file.contract, &ticket, reader_of(share), now)? {
        Ok(projection) => Ok(Some(projection)),
        Err(e) => {
            tracing::warn!(ticket = ticket_id, contract = %share.contract_id, error = %e, "redaction failed; nothing shown");
            let mut details = json!({ "share_id": share.id, "reason": e.to_string() });
            if let Some(id) = attachment_id {
                details["attachment_id"] = json!(id);
            }
            ledger::append(
                conn,
                now,
                NewEntry {
                    actor,
                    action: Action::ReadRefused,
                    contract_id: Some(&share.contract_id),
                    ticket_id: Some(ticket_id),
                    details,
                },
            )?;
            Ok(None)
        }
    }
}

/// What a contractor's download of a file produced.
#[derive(Debug)]
pub enum Download {
    /// The file as the contract lets it leave (redacted, or as it is).
    File(FileDownload),
    /// The contract withholds it: the contractor sees it listed, never its content.
    Withheld(Withheld),
    /// Redaction failed, so nothing is given (fail closed); the refusal is audited.
    Refused,
}

/// File `attachment_id` of a ticket shared with the caller, as its contract lets it leave:
/// the same projection the ticket's view is (so the same tokens), never the helpdesk's copy.
/// A file the caller is not shown (another ticket's, a hidden comment's) is missing to it.
/// Each download is audited.
pub fn download(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    who: &ContractorActor,
    ticket_id: TicketId,
    attachment_id: i64,
    now: DateTime<Utc>,
) -> Result<Download, TicketError> {
    let ticket_id = ticket_id.get();
    let (share, file) = visible_share(conn, contracts, who, ticket_id, now)?;
    let actor = who.ledger_name();
    let asked = Some(attachment_id);
    let Some(mut projection) = projection_or_refusal(conn, keys, &actor, &share, file, asked, now)?
    else {
        return Ok(Download::Refused);
    };
    let shown = projection
        .attachments
        .into_iter()
        .find(|a| a.id == attachment_id)
        .ok_or(TicketError::NotFound)?;
    if let Some(why) = shown.withheld {
        return Ok(Download::Withheld(why));
    }
    let sent = projection.files.remove(&attachment_id).ok_or_else(|| {
        TicketError::Corrupt(format!(
            "file {attachment_id} is listed as sent without content"
        ))
    })?;
    let (content, found) = match sent {
        SentContent::Redacted { text, found } => (std::sync::Arc::unwrap_or_clone(text), found),
        SentContent::Stored(sha256) => (attachments::content(conn, &sha256)?, Default::default()),
    };
    ledger::append(
        conn,
        now,
        NewEntry {
            actor: &actor,
            action: Action::AttachmentDownload,
            contract_id: Some(&share.contract_id),
            ticket_id: Some(ticket_id),
            details: json!({
                "share_id": share.id,
                "attachment_id": attachment_id,
                "media_type": shown.media_type,
                "disposition": shown.disposition,
                "size": content.len(),
                "entities": found,
            }),
        },
    )?;
    Ok(Download::File(FileDownload {
        file_name: shown.file_name,
        media_type: shown.media_type,
        content,
    }))
}

/// A contractor's reply as stored: what it wrote, never the values its tokens stand for.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReplyWritten {
    /// The comment's id.
    pub id: i64,
    /// The text as the contractor wrote it (tokens, not values).
    pub body: String,
    /// A public reply, or an internal note.
    pub public: bool,
    /// When stored.
    pub created_at: DateTime<Utc>,
}

/// A share after the contractor's status change or hand-back.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ShareChanged {
    /// The ticket id.
    pub id: TicketId,
    /// The share's state now.
    pub state: ShareState,
    /// False when it already was in that state.
    pub changed: bool,
}

/// What a reply is, beside its text: how it was made, for the ledger.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReplyOrigin<'a> {
    /// The contract's macro it was rendered from.
    pub macro_id: Option<&'a str>,
    /// The approval it waited for.
    pub approval_id: Option<i64>,
}

/// Whether the share takes replies now (open or pending).
pub(crate) fn check_replyable(share: &ShareRow) -> Result<(), TicketError> {
    let state = share.state;
    if state.holds_capacity() {
        Ok(())
    } else {
        Err(TicketError::Conflict(format!(
            "the ticket is {state}; reopen it before replying"
        )))
    }
}

/// The contractor's reply as a checked comment: what a reply must be, whether it is sent now or
/// waits for approval.
pub(crate) fn checked_reply(
    who: &ContractorActor,
    written: &str,
    public: bool,
    attachments: Vec<crate::tickets::attachments::AttachmentInput>,
    now: DateTime<Utc>,
) -> Result<crate::tickets::input::NewComment, TicketError> {
    CommentInput {
        // Every reply is new: a retry with the same text must be made idempotent by the caller.
        external_id: Some(crate::random::random_hex(16)),
        author: crate::sensitive::Sensitive(who.sub.clone()),
        body: crate::sensitive::Sensitive(written.to_owned()),
        public,
        created_at: Some(now),
        attachments,
    }
    .check("reply")
}

/// Adds the contractor's reply (`written`, as it wrote it) to `share`, which takes replies:
/// its tokens go home as values, its public replies stop the response clocks, and the
/// in-house side is told.
#[allow(clippy::too_many_arguments)]
pub(crate) fn send_reply(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    who: &ContractorActor,
    (share, file): (&ShareRow, &ContractFile),
    (written, public, attachments): (
        String,
        bool,
        Vec<crate::tickets::attachments::AttachmentInput>,
    ),
    origin: ReplyOrigin<'_>,
    now: DateTime<Utc>,
) -> Result<ReplyWritten, TicketError> {
    check_replyable(share)?;
    let ticket_id = share.ticket_id;
    // Checked as written, before anything is looked up for it.
    let mut comment = checked_reply(who, &written, public, attachments, now)?;
    // Each file as the in-house side gets it, with what the contractor sent when that differs.
    let mut files: Vec<(NewAttachment, Option<NewAttachment>)> = comment
        .attachments
        .iter()
        .map(|f| (f.clone(), None))
        .collect();
    // Tokens this contract issued become the real values again for the in-house side, when
    // the contract allows, but only those the contractor was given for this ticket; anything
    // else stays as written and is counted in the audit.
    let rehydrated = if file.contract.confidentiality.rehydrate_replies {
        let given = tokens_given(conn, keys, file, share, now)?;
        let mut vault = Vault::new(conn, keys, &share.contract_id, now);
        let vault_error = |e| match e {
            VaultError::Db(e) => TicketError::from(e),
            other => TicketError::Corrupt(other.to_string()),
        };
        let (text, mut stats) = rehydrate(&written, &mut vault, &given).map_err(vault_error)?;
        comment.body = crate::sensitive::Sensitive(text);
        // Text files are re-hydrated like the reply's text; other files go home as sent.
        for (file, original) in &mut files {
            let text = std::str::from_utf8(file.content.expose())
                .ok()
                .filter(|_| is_text(&file.media_type));
            let Some(text) = text else { continue };
            let (home, found) = rehydrate(text, &mut vault, &given).map_err(vault_error)?;
            if home != text {
                *original = Some(file.clone());
                *file = file.with_content(home.into_bytes());
            }
            stats += found;
        }
        Some(stats)
    } else {
        None
    };
    if comment.public {
        timekeeping::contractor_replied(conn, contracts, share, now)?;
    }
    let row = store::add_comment(
        conn,
        ticket_id,
        Origin::Contractor {
            share_id: share.id,
            written: &written,
        },
        &comment,
        now,
    )?
    .ok_or_else(|| TicketError::Conflict("duplicate reply".into()))?;
    let attached = Attached {
        comment_key: Some(&comment.dedupe_key),
        share_id: Some(share.id),
    };
    let pairs = files.iter().map(|(f, w)| (f, w.as_ref()));
    let files = attachments::add(conn, ticket_id, attached, pairs, now)?;
    let mut details = json!({
        "share_id": share.id,
        "comment_id": row.id,
        "public": row.public,
        "characters": written.chars().count(),
        "attachments": files.len(),
        "rehydration": rehydrated,
    });
    if let Some(id) = origin.macro_id {
        details["macro"] = json!(id);
    }
    if let Some(id) = origin.approval_id {
        details["approval_id"] = json!(id);
    }
    ledger::append(
        conn,
        now,
        NewEntry {
            actor: &who.ledger_name(),
            action: Action::ShareReply,
            contract_id: Some(&share.contract_id),
            ticket_id: Some(ticket_id),
            details,
        },
    )?;
    outbox::enqueue(
        conn,
        now,
        vec![NewEvent::inhouse(
            ticket_id,
            EventType::ShareReplied,
            json!({
                "share_id": share.id,
                "comment_id": row.id,
                "author": who.ledger_name(),
                "public": row.public,
                "body": row.body,
                "attachments": files.iter().map(|f| f.view(Some(row.id))).collect::<Vec<_>>(),
            }),
        )],
    )?;
    // The contractor gets back what it wrote, never the re-hydrated values.
    Ok(ReplyWritten {
        id: row.id,
        body: written,
        public: row.public,
        created_at: from_db(row.created_at),
    })
}

/// The tokens the contractor's view of its share holds now: what it can have been given for
/// this ticket. If the view cannot be projected, none (nothing is turned back).
fn tokens_given(
    conn: &mut AnyConnection,
    keys: &VaultKeys,
    file: &ContractFile,
    share: &ShareRow,
    now: DateTime<Utc>,
) -> Result<BTreeSet<String>, TicketError> {
    let ticket = store::find(conn, share.ticket_id)?.ok_or(TicketError::NotFound)?;
    Ok(
        match project_for(conn, keys, &file.contract, &ticket, reader_of(share), now)? {
            Ok(view) => view.tokens,
            Err(e) => {
                tracing::warn!(ticket = share.ticket_id, contract = %share.contract_id, error = %e, "redaction failed; reply not re-hydrated");
                BTreeSet::new()
            }
        },
    )
}

/// Sets the share's status (`open`, `pending` or `solved`).
pub fn set_status(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    who: &ContractorActor,
    ticket_id: TicketId,
    to: ShareState,
    now: DateTime<Utc>,
) -> Result<ShareChanged, TicketError> {
    let ticket_id = ticket_id.get();
    if !matches!(
        to,
        ShareState::Open | ShareState::Pending | ShareState::Solved
    ) {
        return Err(TicketError::Invalid {
            field: "status".into(),
            message: "a contractor can set `open`, `pending` or `solved`".into(),
        });
    }
    let (share, _) = share_to_change(conn, contracts, who, ticket_id, now)?;
    change_state(conn, contracts, who, &share, to, Ending::default(), now)
}

/// A contractor handing a ticket back (`POST /api/v1/contractor/tickets/{id}/handback`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"reason": "Needs access to the billing system we do not have", "escalate": false}))]
#[serde(deny_unknown_fields)]
pub struct HandBack {
    /// Why it goes back: 1–2000 characters, not only spaces.
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub reason: String,
    /// Hand it up to the L2 agency the contract names (`escalates_to`) instead of back to the
    /// in-house side.
    #[serde(default)]
    pub escalate: bool,
}

/// Hands the ticket back to the in-house side, or up to the contract's L2 agency; the
/// contractor loses access.
pub fn handback(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    who: &ContractorActor,
    ticket_id: TicketId,
    request: &HandBack,
    now: DateTime<Utc>,
) -> Result<ShareChanged, TicketError> {
    let ticket_id = ticket_id.get();
    let reason = checked_reason(&request.reason)?;
    let (share, file) = share_to_change(conn, contracts, who, ticket_id, now)?;
    let overflow = &file.contract.overflow;
    let escalate_to = match (request.escalate, overflow.escalates_to.as_deref()) {
        (false, _) => None,
        (true, Some(l2)) => Some(l2),
        (true, None) => {
            return Err(TicketError::Conflict(format!(
                "contract {} names no agency to escalate to (`escalates_to`)",
                file.contract.id
            )));
        }
    };
    let ending = Ending {
        reason: Some(reason),
        recall_cause: None,
        keep_in_house: escalate_to.is_none() && !overflow.reroute_on_handback,
        escalate_to,
    };
    let changed = change_state(
        conn,
        contracts,
        who,
        &share,
        ShareState::HandedBack,
        ending,
        now,
    )?;
    // Offered to the L2 contract, or to the next contract that fits (never back to this one);
    // the contractor is not told where it went. The decision is stored on the ticket for the
    // in-house side.
    if changed.changed && !ending.keep_in_house {
        let row = store::find(conn, share.ticket_id)?.ok_or(TicketError::NotFound)?;
        route(conn, contracts, keys, &row, &who.ledger_name(), now)?;
    }
    Ok(changed)
}

/// Moves the caller's `share` (found by [`share_to_change`]) to `to`: clocks, ledger, event.
fn change_state(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    who: &ContractorActor,
    share: &ShareRow,
    to: ShareState,
    ending: Ending<'_>,
    now: DateTime<Utc>,
) -> Result<ShareChanged, TicketError> {
    let (action, event_type) = if to == ShareState::HandedBack {
        (Action::ShareHandback, EventType::ShareHandedBack)
    } else {
        (Action::ShareStatus, EventType::ShareStatus)
    };
    let ticket_id = share.ticket_id;
    let (updated, changed) = shares::transition(conn, share, to, ending, now)?;
    if changed {
        timekeeping::sync(conn, contracts, &updated, now)?;
        ledger::append(
            conn,
            now,
            NewEntry {
                actor: &who.ledger_name(),
                action,
                contract_id: Some(&share.contract_id),
                ticket_id: Some(ticket_id),
                details: json!({
                    "share_id": share.id,
                    "from": share.state,
                    "to": updated.state,
                    "reason_characters": ending.reason.map(|r| r.chars().count()),
                    "escalate_to": ending.escalate_to,
                }),
            },
        )?;
        outbox::enqueue(
            conn,
            now,
            vec![NewEvent::inhouse(
                ticket_id,
                event_type,
                json!({
                    "share_id": share.id,
                    "from": share.state,
                    "to": updated.state,
                    "reason": ending.reason,
                    "escalate_to": ending.escalate_to,
                }),
            )],
        )?;
    }
    Ok(ShareChanged {
        id: ticket_id.into(),
        state: updated.state,
        changed,
    })
}

/// Records that `who` asked for `ticket_id`, which it may not see (never shared with it, or
/// taken back): the request is answered like a missing ticket, and the attempt is audited.
pub fn record_denied(
    conn: &mut AnyConnection,
    who: &ContractorActor,
    ticket_id: TicketId,
    attempt: &str,
    now: DateTime<Utc>,
) -> Result<(), TicketError> {
    let ticket_id = ticket_id.get();
    ledger::append(
        conn,
        now,
        NewEntry {
            actor: &who.ledger_name(),
            action: Action::AccessDenied,
            contract_id: None,
            ticket_id: Some(ticket_id),
            details: json!({ "contractor": who.contractor, "attempt": attempt }),
        },
    )?;
    Ok(())
}
