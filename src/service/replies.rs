//! How a contractor answers under its contract: free text or an approved reply (a macro
//! rendered over what it sees of the ticket), categories answered only by macro, and free text
//! that waits for the in-house side's approval while the SLA clocks run on.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::clock::{from_db, to_db};
use crate::contracts::{Approval as ApprovalRule, ContractFile, ContractSet, Macro};
use crate::db::AnyConnection;
use crate::db::schema::reply_approvals;
use crate::ids::TicketId;
use crate::ledger::{self, Action, NewEntry};
use crate::model::EventType;
use crate::outbox::{self, NewEvent};
use crate::redaction::VaultKeys;
use crate::sensitive::Sensitive;
use crate::service::contractor::{
    self, ContractorActor, ReplyOrigin, ReplyWritten, check_replyable, send_reply,
};
use crate::service::sharing::{project_for, reader_of};
use crate::shares::{self, ShareRow};
use crate::tickets::attachments::AttachmentInput;
use crate::tickets::{TicketError, store};

/// The longest value a macro variable takes.
pub const MAX_VAR_CHARS: usize = 2_000;

/// A contractor's reply, as posted: free text (`body`) or an approved reply (`macro`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"body": "Hello [PERSON_1], the refund is on its way to [EMAIL_1].", "public": true}))]
#[serde(deny_unknown_fields)]
pub struct ReplyInput {
    /// The text (not with `macro`).
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub body: Option<Sensitive<String>>,
    /// An approved reply of the contract, by id: rendered over what the contractor sees of the
    /// ticket, with `vars`; it decides `public` and may set the share's status.
    #[serde(default, rename = "macro")]
    pub macro_id: Option<String>,
    /// The macro's variables, by name (each up to 2,000 characters).
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Visible to the customer (a public reply) or an internal note: required with `body`; a
    /// macro says it itself.
    #[serde(default)]
    pub public: Option<bool>,
    /// Files sent with it: text files have their tokens turned back into values on the way
    /// home, like the reply's text.
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
}

/// What became of a reply.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ReplyOutcome {
    /// Stored and on its way home.
    Sent(ReplyWritten),
    /// Waiting for in-house approval.
    Queued(Queued),
}

/// A reply waiting for approval.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Queued {
    /// The approval's id.
    pub approval_id: i64,
    /// Always `pending`.
    pub state: String,
}

fn invalid(field: &str, message: impl Into<String>) -> TicketError {
    TicketError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// The contractor's reply on a share it holds, as its contract lets it answer.
pub fn reply(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    who: &ContractorActor,
    ticket_id: TicketId,
    input: ReplyInput,
    now: DateTime<Utc>,
) -> Result<ReplyOutcome, TicketError> {
    let (share, file) = contractor::share_to_change(conn, contracts, who, ticket_id.get(), now)?;
    check_replyable(&share)?;
    let rules = &file.contract.replies;
    let Some(macro_id) = &input.macro_id else {
        let body = input
            .body
            .ok_or_else(|| invalid("body", "give the reply's `body`, or a `macro`"))?;
        if !input.vars.is_empty() {
            return Err(invalid("vars", "only goes with `macro`"));
        }
        let ticket = store::find(conn, share.ticket_id)?.ok_or(TicketError::NotFound)?;
        if let Some(category) = ticket.category.as_deref()
            && rules.macro_only_categories.iter().any(|c| c == category)
        {
            return Err(invalid(
                "body",
                format!(
                    "tickets of category `{category}` are answered with a macro under this \
                     contract: send `macro` and its `vars`"
                ),
            ));
        }
        // Never assumed: a forgotten flag must not send an internal note to the customer.
        let public = input.public.ok_or_else(|| {
            invalid(
                "public",
                "say whether the reply goes to the customer (true) or is an internal note",
            )
        })?;
        if rules.approval == ApprovalRule::FreeText {
            let request = WireRequest {
                body: body.into_inner(),
                public,
                attachments: input.attachments,
            };
            return queue(conn, who, &share, &request, now).map(ReplyOutcome::Queued);
        }
        let content = (body.expose().clone(), public, input.attachments);
        let sent = send_reply(
            conn,
            contracts,
            keys,
            who,
            (&share, file),
            content,
            ReplyOrigin::default(),
            now,
        )?;
        return Ok(ReplyOutcome::Sent(sent));
    };
    let m = rules
        .macro_named(macro_id)
        .ok_or_else(|| invalid("macro", "is not a macro of this contract"))?;
    if input.body.is_some() {
        return Err(invalid("body", "give `body` or `macro`, not both"));
    }
    if input.public.is_some_and(|p| p != m.public) {
        return Err(invalid("public", "is the macro's to say"));
    }
    let text = render(conn, keys, file, &share, m, &input.vars, now)?;
    let origin = ReplyOrigin {
        macro_id: Some(&m.id),
        approval_id: None,
    };
    let content = (text, m.public, input.attachments);
    let sent = send_reply(
        conn,
        contracts,
        keys,
        who,
        (&share, file),
        content,
        origin,
        now,
    )?;
    if let Some(status) = m.status {
        contractor::set_status(conn, contracts, who, ticket_id, status, now)?;
    }
    Ok(ReplyOutcome::Sent(sent))
}

/// The macro's text over what the contractor sees of the ticket (its tokens, never values)
/// and the variables it filled. A placeholder for something the contract does not show, a
/// missing or unknown variable, is refused by name.
fn render(
    conn: &mut AnyConnection,
    keys: &VaultKeys,
    file: &ContractFile,
    share: &ShareRow,
    m: &Macro,
    vars: &BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> Result<String, TicketError> {
    if let Some(unknown) = vars.keys().find(|k| !m.vars.contains(k)) {
        return Err(invalid(
            &format!("vars.{unknown}"),
            "is not a variable of this macro",
        ));
    }
    for name in &m.vars {
        let value = vars.get(name).map(|v| v.trim()).unwrap_or_default();
        if value.is_empty() {
            return Err(invalid(&format!("vars.{name}"), "the macro needs it"));
        }
        if value.chars().count() > MAX_VAR_CHARS {
            return Err(invalid(
                &format!("vars.{name}"),
                format!("must be at most {MAX_VAR_CHARS} characters"),
            ));
        }
    }
    let ticket = store::find(conn, share.ticket_id)?.ok_or(TicketError::NotFound)?;
    let view =
        project_for(conn, keys, &file.contract, &ticket, reader_of(share), now)?.map_err(|_| {
            TicketError::Conflict(
                "the ticket cannot be shown safely right now, so no macro can be filled".into(),
            )
        })?;
    let mut data = Value::Object(view.body);
    data["vars"] = json!(vars);
    let mut engine = handlebars::Handlebars::new();
    engine.set_strict_mode(true);
    // A reply is plain text: nothing is HTML-escaped.
    engine.register_escape_fn(handlebars::no_escape);
    engine.render_template(&m.body, &data).map_err(|e| {
        // The reason names the missing placeholder, never a value.
        let reason = match e.reason() {
            handlebars::RenderErrorReason::MissingVariable(Some(path)) => {
                format!("`{path}` is not something this contract shows of the ticket")
            }
            other => other.to_string(),
        };
        invalid("macro", format!("cannot be filled: {reason}"))
    })
}

/// Puts a free-text reply in the approval queue: nothing reaches the customer and the clocks
/// run on until the in-house side approves it.
fn queue(
    conn: &mut AnyConnection,
    who: &ContractorActor,
    share: &ShareRow,
    request: &WireRequest,
    now: DateTime<Utc>,
) -> Result<Queued, TicketError> {
    // Checked now as it would be when sent, so that a bad reply is refused to its writer.
    let attachments = request.attachments.clone();
    contractor::checked_reply(who, &request.body, request.public, attachments, now)?;
    let text = serde_json::to_string(request).map_err(|e| TicketError::Corrupt(e.to_string()))?;
    let id: i64 = diesel::insert_into(reply_approvals::table)
        .values((
            reply_approvals::share_id.eq(share.id),
            reply_approvals::ticket_id.eq(share.ticket_id),
            reply_approvals::contract_id.eq(&share.contract_id),
            reply_approvals::author.eq(&who.sub),
            reply_approvals::request.eq(&text),
            reply_approvals::state.eq("pending"),
            reply_approvals::created_at.eq(to_db(now)),
        ))
        .returning(reply_approvals::id)
        .get_result(conn)?;
    ledger::append(
        conn,
        now,
        NewEntry {
            actor: &who.ledger_name(),
            action: Action::ReplyQueued,
            contract_id: Some(&share.contract_id),
            ticket_id: Some(share.ticket_id),
            details: json!({ "share_id": share.id, "approval_id": id }),
        },
    )?;
    outbox::enqueue(
        conn,
        now,
        vec![NewEvent::inhouse(
            share.ticket_id,
            EventType::ReplyAwaitingApproval,
            json!({ "share_id": share.id, "approval_id": id }),
        )],
    )?;
    Ok(Queued {
        approval_id: id,
        state: "pending".into(),
    })
}

/// A waiting reply as stored in the gateway's own database: what the contractor sent.
#[derive(Serialize, Deserialize)]
struct WireRequest {
    body: String,
    public: bool,
    attachments: Vec<AttachmentInput>,
}

/// A reply waiting for (or given) a decision, as the in-house side sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingReply {
    /// Its id.
    pub id: i64,
    /// The ticket.
    pub ticket: TicketId,
    /// The share it was written on.
    pub share_id: i64,
    /// The contract.
    pub contract: String,
    /// The contractor's user.
    pub author: String,
    /// The text as the contractor wrote it (its tokens; values come back when it is sent).
    pub body: String,
    /// A public reply or an internal note.
    pub public: bool,
    /// How many files it carries.
    pub attachments: usize,
    /// `pending`, `approved`, `rejected` or `void` (the share ended before a decision).
    pub state: String,
    /// When written.
    pub created_at: DateTime<Utc>,
    /// When decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// The comment it became, when approved.
    pub comment_id: Option<i64>,
}

type ApprovalRow = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    String,
    chrono::NaiveDateTime,
    Option<chrono::NaiveDateTime>,
    Option<String>,
    Option<i64>,
);

fn approval_of(row: ApprovalRow) -> Result<(PendingReply, WireRequest), TicketError> {
    let (id, share_id, ticket, contract, author, request, state, created, decided, by, comment) =
        row;
    let request: WireRequest = serde_json::from_str(&request)
        .map_err(|e| TicketError::Corrupt(format!("approval {id}: {e}")))?;
    Ok((
        PendingReply {
            id,
            ticket: ticket.into(),
            share_id,
            contract,
            author,
            body: request.body.clone(),
            public: request.public,
            attachments: request.attachments.len(),
            state,
            created_at: from_db(created),
            decided_at: decided.map(from_db),
            decided_by: by,
            comment_id: comment,
        },
        request,
    ))
}

fn load(conn: &mut AnyConnection, id: i64) -> Result<(PendingReply, WireRequest), TicketError> {
    let row: ApprovalRow = reply_approvals::table
        .find(id)
        .select(reply_approvals::all_columns)
        .first(conn)
        .optional()?
        .ok_or(TicketError::NotFound)?;
    approval_of(row)
}

/// Replies in `state` (`pending` by default), oldest first, at most `limit`.
pub fn list(
    conn: &mut AnyConnection,
    state: &str,
    limit: i64,
) -> Result<Vec<PendingReply>, TicketError> {
    let rows: Vec<ApprovalRow> = reply_approvals::table
        .filter(reply_approvals::state.eq(state))
        .order(reply_approvals::id.asc())
        .limit(limit)
        .select(reply_approvals::all_columns)
        .load(conn)?;
    rows.into_iter()
        .map(|r| approval_of(r).map(|(a, _)| a))
        .collect()
}

/// The in-house decision on a waiting reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send it now, as the contractor wrote it.
    Approve,
    /// Do not send it; the contractor is told.
    Reject,
}

/// Approves (sends it now, as its writer's reply; the response clocks stop now) or rejects a
/// waiting reply. Approving a reply whose share no longer takes replies (solved, handed back,
/// recalled, its contract out of force) sends nothing: the reply is `void`.
pub fn decide(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    id: i64,
    decision: Decision,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<PendingReply, TicketError> {
    let ticket_id = load(conn, id)?.0.ticket.get();
    crate::db::lock_tickets(conn, &[ticket_id], crate::db::LockWait::Block)?;
    // Read under the ticket's lock, so that two decisions cannot both pass.
    let (approval, request) = load(conn, id)?;
    if approval.state != "pending" {
        return Err(TicketError::Conflict(format!(
            "the reply is already {}",
            approval.state
        )));
    }
    let share = shares::find(conn, approval.share_id)?.ok_or(TicketError::NotFound)?;
    let file = contracts.in_force(&share.contract_id, now);
    let open = file.is_some() && check_replyable(&share).is_ok();
    let (state, comment_id) = match (decision, file) {
        (Decision::Approve, Some(file)) if open => {
            let who = ContractorActor {
                contractor: share.contractor.clone(),
                sub: approval.author.clone(),
            };
            let origin = ReplyOrigin {
                macro_id: None,
                approval_id: Some(id),
            };
            let content = (request.body, request.public, request.attachments);
            let sent = send_reply(
                conn,
                contracts,
                keys,
                &who,
                (&share, file),
                content,
                origin,
                now,
            )?;
            ("approved", Some(sent.id))
        }
        (Decision::Approve, _) => ("void", None),
        (Decision::Reject, _) => ("rejected", None),
    };
    diesel::update(reply_approvals::table.find(id))
        .set((
            reply_approvals::state.eq(state),
            reply_approvals::decided_at.eq(Some(to_db(now))),
            reply_approvals::decided_by.eq(Some(actor)),
            reply_approvals::comment_id.eq(comment_id),
        ))
        .execute(conn)?;
    ledger::append(
        conn,
        now,
        NewEntry {
            actor,
            action: Action::ReplyDecided,
            contract_id: Some(&share.contract_id),
            ticket_id: Some(share.ticket_id),
            details: json!({
                "share_id": share.id,
                "approval_id": id,
                "state": state,
                "comment_id": comment_id,
            }),
        },
    )?;
    if state == "rejected" {
        outbox::enqueue(
            conn,
            now,
            vec![NewEvent {
                audience: outbox::Audience::Contractor(share.contract_id.clone()),
                ticket_id: Some(share.ticket_id),
                event_type: EventType::ReplyRejected,
                data: json!({ "share_id": share.id, "approval_id": id }),
            }],
        )?;
    }
    Ok(load(conn, id)?.0)
}
