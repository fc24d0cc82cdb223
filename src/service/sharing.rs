//! Sharing: where a ticket goes (routing against the contracts in force, in named steps), the
//! share itself (redacted projection, a place, clocks, audit and events, all in the caller's
//! transaction), and the fresh projection a contractor receives when its ticket changes.

use chrono::{DateTime, Utc};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::contracts::{Contract, ContractSet};
use crate::db::AnyConnection;
use crate::ledger::{self, Action, NewEntry};
use crate::model::{Channel, EventType, Priority, RoutingOutcome, ShareState, TicketStatus};
use crate::outbox::{self, NewEvent};
use crate::redaction::vault::VaultError;
use crate::redaction::{self, RedactionError, Vault, VaultKeys};
use crate::routing::{self, Consideration, RoutableTicket};
use crate::service::recall::{RecallCause, take_back};
use crate::service::timekeeping;
use crate::shares;
use crate::tickets::attachments;
use crate::tickets::store::{self, CommentReader, TicketRow};
use crate::tickets::{NewTicket, TicketError, parse_stored, queue_depth};

/// The routing decision stored on a ticket and returned to the in-house side.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoutingDecision {
    /// What was decided.
    pub outcome: RoutingOutcome,
    /// The contract chosen.
    pub contract: Option<String>,
    /// Its contractor.
    pub contractor: Option<String>,
    /// Why, in words.
    pub reason: String,
    /// Every contract considered, in routing order, with its verdict.
    pub considered: Vec<Consideration>,
    /// When decided.
    pub decided_at: DateTime<Utc>,
}

/// Routes the ticket and stores the decision on it.
pub(crate) fn route(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    row: &TicketRow,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<RoutingDecision, TicketError> {
    let decision = choose(conn, contracts, keys, row, actor, now)?;
    store::set_routing(conn, row.id, &json!(decision))?;
    Ok(decision)
}

/// A decision made at `now`.
fn decided(
    outcome: RoutingOutcome,
    placed: Option<(&str, &str)>,
    reason: String,
    considered: Vec<Consideration>,
    now: DateTime<Utc>,
) -> RoutingDecision {
    RoutingDecision {
        outcome,
        contract: placed.map(|(contract, _)| contract.to_owned()),
        contractor: placed.map(|(_, contractor)| contractor.to_owned()),
        reason,
        considered,
        decided_at: now,
    }
}

/// What routing reads of a stored ticket, owned so that a [`RoutableTicket`] can borrow it.
struct RoutingInput {
    key: String,
    tags: Vec<String>,
    custom_fields: serde_json::Map<String, Value>,
}

impl RoutingInput {
    fn of(row: &TicketRow) -> Self {
        Self {
            key: format!("{}/{}", row.source, row.external_id),
            tags: row.tag_list(),
            custom_fields: row.custom_field_map(),
        }
    }

    fn ticket<'a>(&'a self, row: &'a TicketRow) -> Result<RoutableTicket<'a>, TicketError> {
        Ok(RoutableTicket {
            channel: parse_stored::<Channel>("channel", &row.channel)?,
            priority: parse_stored::<Priority>("priority", &row.priority)?,
            category: row.category.as_deref(),
            language: row.language.as_deref(),
            tags: &self.tags,
            custom_fields: &self.custom_fields,
            key: &self.key,
        })
    }
}

/// A ticket being placed: its row, what routing reads of it, and the share whose replies it
/// takes along when it is escalated.
struct Placing<'a> {
    row: &'a TicketRow,
    ticket: RoutableTicket<'a>,
    escalated_from: Option<i64>,
}

/// Decides where the ticket goes, in named steps: a ticket with a contractor stays there
/// while it still fits that contract's scope, and is recalled when it no longer does; a
/// finished one stays where it is, and so does one kept for the in-house team; one handed
/// up goes to the contract it was escalated to; otherwise every contract in force is
/// evaluated against what it can take now, and the first eligible one that redaction and
/// capacity allow gets the share.
fn choose(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    row: &TicketRow,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<RoutingDecision, TicketError> {
    let input = RoutingInput::of(row);
    let placing = Placing {
        row,
        ticket: input.ticket(row)?,
        escalated_from: None,
    };
    let ticket = &placing.ticket;
    // One look-up serves both the current share and the contracts that had it before.
    let mut ticket_shares = shares::of_ticket(conn, row.id)?;
    let recalled = match recheck(conn, contracts, row, &ticket_shares, ticket, actor, now)? {
        Recheck::Settled(decision) => return Ok(decision),
        Recheck::Recalled(why) => {
            // The recalled contract now counts as one the ticket came back from.
            ticket_shares = shares::of_ticket(conn, row.id)?;
            Some(why)
        }
        Recheck::Open => None,
    };
    if let Some(kept) = ticket_shares.iter().find(|s| s.keep_in_house) {
        let reason = if kept.state == ShareState::Recalled {
            format!(
                "kept in-house: an operator took it back from {} under {} to work it in-house",
                kept.contractor, kept.contract_id
            )
        } else {
            format!(
                "kept in-house: {} handed it back under {}, which keeps hand-backs in-house",
                kept.contractor, kept.contract_id
            )
        };
        return Ok(decided(RoutingOutcome::Kept, None, reason, Vec::new(), now));
    }
    if ticket_shares
        .first()
        .is_some_and(|s| s.state == ShareState::HandedBack && s.escalate_to.is_some())
    {
        return escalate(conn, contracts, keys, &placing, &ticket_shares, actor, now);
    }
    let after_recall = |reason: String| after(recalled.as_deref(), reason);
    let live = live_states(conn, contracts, &ticket_shares, now)?;
    let candidates = routing::in_routing_order(contracts.in_rank_order().map(|f| {
        (
            &*f.contract,
            live.get(&f.contract.id).copied().unwrap_or_default(),
        )
    }));
    let mut considered = routing::evaluate(ticket, candidates, now);
    for i in 0..considered.len() {
        let Some(file) = contracts
            .get(&considered[i].contract)
            .filter(|_| considered[i].eligible)
        else {
            continue;
        };
        match share_with(conn, keys, file, &placing, actor, now)? {
            Ok(()) => {
                let contract = &file.contract;
                let reason = after_recall(format!(
                    "shared with {} under {}: {}",
                    contract.contractor, contract.id, considered[i].reason
                ));
                let placed = Some((contract.id.as_str(), contract.contractor.as_str()));
                return Ok(decided(
                    RoutingOutcome::Shared,
                    placed,
                    reason,
                    considered,
                    now,
                ));
            }
            Err(refused) => {
                considered[i].eligible = false;
                considered[i].reason = refused;
            }
        }
    }
    let reason = after_recall(if considered.is_empty() {
        "kept in-house: no contract is in force".to_owned()
    } else {
        "kept in-house: no contract could take it".to_owned()
    });
    Ok(decided(RoutingOutcome::Kept, None, reason, considered, now))
}

/// Offers a ticket handed up by its latest share (the first of `ticket_shares`) to the
/// contract it was escalated to, and to no other: shared there, with the replies written
/// under that share, when that contract can take it ([`routing::evaluate_escalation`]);
/// otherwise kept in-house with the reason, and offered to it again by the next push or
/// drain.
fn escalate(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    placing: &Placing<'_>,
    ticket_shares: &[shares::ShareRow],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<RoutingDecision, TicketError> {
    let Some(from) = ticket_shares.first() else {
        return Err(TicketError::Corrupt(
            "an escalation without its share".into(),
        ));
    };
    let target = from.escalate_to.as_deref().unwrap_or_default();
    let placing = Placing {
        escalated_from: Some(from.id),
        ticket: placing.ticket.clone(),
        ..*placing
    };
    let handed_up = format!(
        "escalated by {} under {} to {target}",
        from.contractor, from.contract_id
    );
    let file = contracts.get(target);
    let mut verdict = match file {
        Some(file) => {
            let live = live_states(conn, contracts, ticket_shares, now)?;
            let state = live.get(target).copied().unwrap_or_default();
            routing::evaluate_escalation(&placing.ticket, &file.contract, state, now)
        }
        None => routing::Consideration {
            contract: target.to_owned(),
            contractor: String::new(),
            eligible: false,
            reason: "no such contract".into(),
        },
    };
    if let Some(file) = file.filter(|_| verdict.eligible) {
        match share_with(conn, keys, file, &placing, actor, now)? {
            Ok(()) => {
                let contract = &file.contract;
                let reason = format!("{handed_up}: {}", verdict.reason);
                let placed = Some((contract.id.as_str(), contract.contractor.as_str()));
                return Ok(decided(
                    RoutingOutcome::Shared,
                    placed,
                    reason,
                    vec![verdict],
                    now,
                ));
            }
            Err(refused) => {
                verdict.eligible = false;
                verdict.reason = refused;
            }
        }
    }
    let reason = format!(
        "kept in-house: {handed_up}, which cannot take it now ({}); offered to it again on the next change or drain",
        verdict.reason
    );
    Ok(decided(
        RoutingOutcome::Kept,
        None,
        reason,
        vec![verdict],
        now,
    ))
}

/// A routing reason, after the recall that preceded it, if any.
fn after(recalled: Option<&str>, reason: String) -> String {
    match recalled {
        Some(why) => format!("{why}; {reason}"),
        None => reason,
    }
}

/// What the re-check of a ticket's current share found.
enum Recheck {
    /// Nothing to route: the ticket stays with its contractor, or is finished.
    Settled(RoutingDecision),
    /// It no longer fit its contract and was recalled (why, in words): route it again.
    Recalled(String),
    /// Not with a contractor: route it.
    Open,
}

/// Re-checks a ticket with a contractor against that contract's scope, as it is now: it stays
/// while it fits (room and overflow are not asked again), and is recalled at once when it no
/// longer does — raised to a priority, moved to a channel, category or language, or given a
/// tag the contract does not take. A finished ticket is not routed again.
fn recheck(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    row: &TicketRow,
    ticket_shares: &[shares::ShareRow],
    ticket: &RoutableTicket,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Recheck, TicketError> {
    let mut recalled = None;
    if let Some(share) = ticket_shares.first()
        && share.state.is_visible_to_contractor()
    {
        // A contract no longer in the set is recalled by the out-of-force check instead.
        let fits = contracts
            .get(&share.contract_id)
            .map_or(Ok(()), |file| routing::still_fits(&file.contract, ticket));
        let placed = Some((share.contract_id.as_str(), share.contractor.as_str()));
        match fits {
            Ok(()) => {
                let reason = format!(
                    "already shared with {} under {}; the change is visible there",
                    share.contractor, share.contract_id
                );
                let decision = decided(
                    RoutingOutcome::AlreadyShared,
                    placed,
                    reason,
                    Vec::new(),
                    now,
                );
                return Ok(Recheck::Settled(decision));
            }
            Err(why) => {
                let why = format!(
                    "recalled from {} under {}: {why}",
                    share.contractor, share.contract_id
                );
                take_back(
                    conn,
                    contracts,
                    share,
                    actor,
                    &why,
                    RecallCause::OutOfScope,
                    now,
                )?;
                recalled = Some(why);
            }
        }
    }
    let status: TicketStatus = parse_stored("ticket status", &row.status)?;
    if status.is_finished() {
        let reason = after(recalled.as_deref(), format!("the ticket is {status}"));
        let decision = decided(RoutingOutcome::Kept, None, reason, Vec::new(), now);
        return Ok(Recheck::Settled(decision));
    }
    Ok(recalled.map_or(Recheck::Open, Recheck::Recalled))
}

/// What each contract can take now: its open shares, the switch, the last hour's shares and,
/// when a contract's trigger needs it, the queue depth (counting it costs a query).
pub(crate) fn live_states(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    ticket_shares: &[shares::ShareRow],
    now: DateTime<Utc>,
) -> Result<std::collections::HashMap<String, routing::LiveState>, TicketError> {
    let hourly_caps = contracts
        .in_rank_order()
        .any(|f| f.contract.overflow.max_new_per_hour.is_some());
    let mut live = shares::live_states(conn, ticket_shares, hourly_caps, now)?;
    if contracts
        .in_rank_order()
        .any(|f| f.contract.overflow.mode == crate::contracts::OverflowMode::Threshold)
    {
        let depth = queue_depth(conn, now)?;
        for state in live.values_mut() {
            state.queue_depth = depth;
        }
    }
    Ok(live)
}

/// Shares the ticket under `file`'s contract: redacts it (failing closed, audited), takes a
/// place, writes the share, its clocks, the audit entry and the events. `Ok(Err(why))` when
/// the contract cannot take it after all.
fn share_with(
    conn: &mut AnyConnection,
    keys: &VaultKeys,
    file: &crate::contracts::ContractFile,
    placing: &Placing<'_>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Result<(), String>, TicketError> {
    let contract = &file.contract;
    let (row, ticket) = (placing.row, &placing.ticket);
    let reader = CommentReader {
        own: None,
        handed_over: placing.escalated_from,
    };
    // Redact first: if that fails, nothing is shared (fail closed) and the refusal is audited.
    let projection = match project_for(conn, keys, contract, row, reader, now)? {
        Ok(projection) => projection,
        Err(e) => {
            tracing::warn!(ticket = row.id, contract = %contract.id, error = %e, "redaction failed; not shared");
            ledger::append(
                conn,
                now,
                NewEntry {
                    actor,
                    action: Action::ShareRefused,
                    contract_id: Some(&contract.id),
                    ticket_id: Some(row.id),
                    details: json!({ "reason": e.to_string() }),
                },
            )?;
            return Ok(Err(format!("redaction failed, not shared: {e}")));
        }
    };
    // Routing saw room, but a parallel share may have taken the last place since.
    let Some(stripe) = crate::contracts::capacity::reserve(
        conn,
        &contract.id,
        contract.overflow.max_open,
        row.id,
    )?
    else {
        return Ok(Err(
            "at capacity (filled while this ticket was routed)".into()
        ));
    };
    let share = shares::create(
        conn,
        row.id,
        &contract.id,
        &contract.contractor,
        stripe,
        placing.escalated_from,
        now,
    )?;
    timekeeping::start_share_clocks(conn, file, &share, ticket.priority, ticket.channel, now)?;
    ledger::append(
        conn,
        now,
        NewEntry {
            actor,
            action: Action::TicketShare,
            contract_id: Some(&contract.id),
            ticket_id: Some(row.id),
            details: json!({
                "share_id": share.id,
                "contract_version": share.contract_version,
                "contract_sha256": file.sha256,
                "escalated_from": placing.escalated_from,
                "receipt": projection.receipt,
            }),
        },
    )?;
    crate::subjects::record_disclosed(conn, &contract.id, row.id, &projection.tokens, now)?;
    let mut view = projection.body;
    view.insert("contract".into(), json!(contract.id));
    outbox::enqueue(
        conn,
        now,
        vec![
            NewEvent::contractor(
                &contract.id,
                row.id,
                EventType::TicketShared,
                Value::Object(view),
            ),
            NewEvent::inhouse(
                row.id,
                EventType::TicketShared,
                json!({
                    "share_id": share.id,
                    "contract": contract.id,
                    "contractor": contract.contractor,
                }),
            ),
        ],
    )?;
    Ok(Ok(()))
}

/// How `share`'s contractor reads the ticket's comments: its own replies, and those of the
/// share it was escalated from.
pub(crate) fn reader_of(share: &shares::ShareRow) -> CommentReader {
    CommentReader {
        own: Some(share.id),
        handed_over: share.escalated_from,
    }
}

/// Projects a ticket for a contract inside a savepoint, so that a failed projection leaves
/// no vault rows behind. The outer error is storage; the inner one is redaction's.
pub(crate) fn project_for(
    conn: &mut AnyConnection,
    keys: &VaultKeys,
    contract: &Contract,
    row: &TicketRow,
    reader: CommentReader,
    now: DateTime<Utc>,
) -> Result<Result<redaction::Projection, RedactionError>, TicketError> {
    let comments = store::comments_of(conn, row.id)?;
    let files = attachments::of_ticket(conn, row.id)?;
    let mut source = store::source_ticket(row, &comments, &files, reader);
    if let Some(share_id) = reader.own {
        source.feedback = crate::service::feedback::of_share(conn, share_id)?
            .into_iter()
            .map(|f| redaction::SourceFeedback {
                kind: f.kind.as_str(),
                score: f.score,
                comment: f.comment,
                rated_at: f.rated_at.to_rfc3339(),
            })
            .collect();
    }
    // Only the files the contract scans are read: the others are sent or withheld unread.
    for file in &mut source.attachments {
        let plan =
            redaction::attachments::plan(&contract.confidentiality.attachments, &file.media_type);
        if !file.own && plan == redaction::attachments::Plan::Scan {
            file.content = Some(std::sync::Arc::new(attachments::content(
                conn,
                &file.sha256,
            )?));
        }
    }
    let attempt = conn.transaction(|c| {
        let mut vault = Vault::new(c, keys, &contract.id, now);
        redaction::project(&source, &contract.confidentiality, &mut vault)
    });
    match attempt {
        Err(RedactionError::Vault(VaultError::Db(e))) => Err(e.into()),
        Err(RedactionError::Vault(VaultError::Numbers(e))) => Err(e.into()),
        other => Ok(other),
    }
}

/// What a contract's contractor would see of a ticket (`POST /api/v1/redaction/preview`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Preview {
    /// The contract.
    pub contract: String,
    /// Whether redaction succeeded, so that the ticket could be shared.
    pub shared: bool,
    /// What the contractor would see, when shared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<redaction::ProjectedFields>,
    /// What would be sent and withheld, when shared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<redaction::Receipt>,
    /// Why redaction refused it, when not shared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// What `contract_id`'s contractor would see of `ticket`, and the receipt, computed on the
/// real path: the ticket is stored under a throw-away key and projected. Run it inside
/// [`crate::db::Db::dry_run`] so that nothing (ticket, comments, vault tokens) is kept.
pub fn preview(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    contract_id: &str,
    ticket: &NewTicket,
    now: DateTime<Utc>,
) -> Result<Preview, TicketError> {
    let file = contracts.get(contract_id).ok_or(TicketError::NotFound)?;
    let mut scratch = ticket.clone();
    scratch.source = "preview".into();
    scratch.external_id = crate::random::random_hex(8);
    let (row, _) = store::upsert(conn, &scratch, None, "", now)?;
    store::add_inhouse_comments(conn, row.id, &scratch.comments, now)?;
    attachments::add_inhouse(conn, row.id, &scratch.attachments, &scratch.comments, now)?;
    let projected = project_for(
        conn,
        keys,
        &file.contract,
        &row,
        CommentReader::default(),
        now,
    )?;
    let (view, receipt, refused) = match projected {
        Ok(p) => (
            Some(redaction::ProjectedFields(p.body)),
            Some(p.receipt),
            None,
        ),
        Err(e) => (None, None, Some(e.to_string())),
    };
    Ok(Preview {
        contract: contract_id.to_owned(),
        shared: refused.is_none(),
        view,
        receipt,
        refused,
    })
}

/// Tells the ticket's contractor, if it has one, that the ticket changed: the event carries a
/// fresh projection. If redaction fails, nothing is sent (fail closed) and the refusal is
/// audited.
pub(crate) fn send_update(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    ticket_id: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), TicketError> {
    let Some(share) =
        shares::latest_for_ticket(conn, ticket_id)?.filter(|s| s.state.is_visible_to_contractor())
    else {
        return Ok(());
    };
    let Some(file) = contracts.get(&share.contract_id) else {
        return Ok(());
    };
    let row = store::find(conn, ticket_id)?.ok_or(TicketError::NotFound)?;
    match project_for(conn, keys, &file.contract, &row, reader_of(&share), now)? {
        Ok(projection) => {
            let tokens = projection.tokens;
            let mut view = Value::Object(projection.body);
            view["contract"] = json!(share.contract_id);
            // A push that changes nothing the contractor sees tells the contractor nothing.
            if outbox::last_projection(conn, &share.contract_id, ticket_id)?.as_ref() == Some(&view)
            {
                return Ok(());
            }
            // A disclosure like the share itself: what the update sends is on the record.
            crate::subjects::record_disclosed(conn, &share.contract_id, ticket_id, &tokens, now)?;
            ledger::append(
                conn,
                now,
                NewEntry {
                    actor,
                    action: Action::ShareUpdate,
                    contract_id: Some(&share.contract_id),
                    ticket_id: Some(ticket_id),
                    details: json!({ "share_id": share.id, "receipt": projection.receipt }),
                },
            )?;
            outbox::enqueue(
                conn,
                now,
                vec![NewEvent::contractor(
                    &share.contract_id,
                    ticket_id,
                    EventType::TicketUpdated,
                    view,
                )],
            )?;
        }
        Err(e) => {
            tracing::warn!(ticket = ticket_id, contract = %share.contract_id, error = %e, "redaction failed; update not sent");
            ledger::append(
                conn,
                now,
                NewEntry {
                    actor,
                    action: Action::ShareRefused,
                    contract_id: Some(&share.contract_id),
                    ticket_id: Some(ticket_id),
                    details: json!({ "share_id": share.id, "update": true, "reason": e.to_string() }),
                },
            )?;
        }
    }
    Ok(())
}
