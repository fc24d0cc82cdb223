//! Tickets: ingest from the in-house side, routing to a contract, and what each side may do
//! and see afterwards. Services here know nothing of HTTP; handlers call them in a transaction.

pub mod input;
pub mod performance;
pub mod store;
pub mod timekeeping;

use chrono::{DateTime, Utc};
use diesel::Connection;
use serde::Serialize;
use serde_json::{Value, json};

use crate::contracts::{Contract, ContractSet};
use crate::db::{AnyConnection, DbError};
use crate::ledger::{self, Action, NewEntry};
use crate::model::{Channel, EventType, Priority, RoutingOutcome, TicketStatus};
use crate::outbox::{self, NewEvent};
use crate::redaction::vault::VaultError;
use crate::redaction::{self, RedactionError, Vault, VaultKeys};
use crate::routing::{self, Consideration, RoutableTicket};
use crate::shares::{self, ShareError};
pub use input::{CommentInput, NewTicket, TicketInput};
use store::{Origin, TicketRow};

/// What can go wrong with a ticket request.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    /// A field's value is not acceptable.
    #[error("{field}: {message}")]
    Invalid {
        /// The field path.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// No such ticket (for this caller).
    #[error("ticket not found")]
    NotFound,
    /// The request does not fit the ticket's current state.
    #[error("{0}")]
    Conflict(String),
    /// Stored data does not parse.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for TicketError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(DbError::Query(e))
    }
}

impl From<ShareError> for TicketError {
    fn from(e: ShareError) -> Self {
        match e {
            ShareError::NotFound => Self::NotFound,
            ShareError::InvalidTransition { .. } => Self::Conflict(e.to_string()),
            ShareError::CorruptState(s) => Self::Corrupt(format!("share state {s}")),
            ShareError::Db(e) => e.into(),
        }
    }
}

fn parse_stored<T: std::str::FromStr>(what: &str, value: &str) -> Result<T, TicketError> {
    value
        .parse()
        .map_err(|_| TicketError::Corrupt(format!("{what} `{value}`")))
}

/// The routing decision stored on a ticket and returned to the in-house side.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

/// What ingest did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IngestOutcome {
    /// Gateway ticket id.
    pub id: i64,
    /// True when the ticket was new.
    pub created: bool,
    /// Comments added by this request (re-sent ones are not counted).
    pub comments_added: usize,
    /// The routing decision.
    pub routing: RoutingDecision,
}

/// Creates or updates a ticket from the in-house side, adds its new comments and routes it,
/// all in the caller's transaction.
pub fn ingest(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    ticket: &NewTicket,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<IngestOutcome, TicketError> {
    let (row, created) = store::upsert(conn, ticket, now)?;
    let mut comments_added = 0;
    let mut customer_wrote = false;
    for c in &ticket.comments {
        if let Some(added) = store::add_comment(conn, row.id, Origin::Inhouse, c, now)? {
            comments_added += 1;
            customer_wrote |= added.public;
        }
    }
    let routing = route(conn, contracts, keys, &row, actor, now)?;
    if routing.outcome == RoutingOutcome::AlreadyShared {
        // The change reaches the contractor's clocks (a customer message or a paused status)
        // and the contractor itself, as a fresh projection.
        if customer_wrote {
            timekeeping::customer_wrote(conn, contracts, row.id, now)?;
        } else if let Some(share) = shares::latest_for_ticket(conn, row.id)? {
            timekeeping::sync(conn, contracts, &share, now)?;
        }
        send_update(conn, contracts, keys, row.id, actor, now)?;
    }
    Ok(IngestOutcome {
        id: row.id,
        created,
        comments_added,
        routing,
    })
}

/// Routes the ticket and stores the decision on it.
fn route(
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

/// Decides where the ticket goes, in named steps: a ticket already with a contractor or
/// finished stays where it is; otherwise every contract in force is evaluated against what it
/// can take now, and the first eligible one that redaction and capacity allow gets the share.
fn choose(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    row: &TicketRow,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<RoutingDecision, TicketError> {
    // One look-up serves both the current share and the contracts that had it before.
    let ticket_shares = shares::of_ticket(conn, row.id)?;
    if let Some(settled) = settled(row, &ticket_shares, now)? {
        return Ok(settled);
    }
    let routing_key = format!("{}/{}", row.source, row.external_id);
    let tags = row.tag_list();
    let ticket = RoutableTicket {
        channel: parse_stored::<Channel>("channel", &row.channel)?,
        priority: parse_stored::<Priority>("priority", &row.priority)?,
        category: row.category.as_deref(),
        language: row.language.as_deref(),
        tags: &tags,
        key: &routing_key,
    };
    let live = live_states(conn, contracts, &ticket_shares, now)?;
    let candidates = routing::in_routing_order(contracts.in_rank_order().map(|f| {
        (
            &*f.contract,
            live.get(&f.contract.id).copied().unwrap_or_default(),
        )
    }));
    let mut considered = routing::evaluate(&ticket, candidates, now);
    for i in 0..considered.len() {
        let Some(file) = contracts
            .get(&considered[i].contract)
            .filter(|_| considered[i].eligible)
        else {
            continue;
        };
        match share_with(conn, keys, file, row, &ticket, actor, now)? {
            Ok(()) => {
                let contract = &file.contract;
                let reason = format!(
                    "shared with {} under {}: {}",
                    contract.contractor, contract.id, considered[i].reason
                );
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
    let reason = if considered.is_empty() {
        "kept in-house: no contract is in force".to_owned()
    } else {
        "kept in-house: no contract could take it".to_owned()
    };
    Ok(decided(RoutingOutcome::Kept, None, reason, considered, now))
}

/// The decision for a ticket that is not to be routed again: already with a contractor, or
/// finished.
fn settled(
    row: &TicketRow,
    ticket_shares: &[shares::ShareRow],
    now: DateTime<Utc>,
) -> Result<Option<RoutingDecision>, TicketError> {
    if let Some(share) = ticket_shares.first()
        && share.state()?.is_visible_to_contractor()
    {
        let reason = format!(
            "already shared with {} under {}; the change is visible there",
            share.contractor, share.contract_id
        );
        let placed = Some((share.contract_id.as_str(), share.contractor.as_str()));
        return Ok(Some(decided(
            RoutingOutcome::AlreadyShared,
            placed,
            reason,
            Vec::new(),
            now,
        )));
    }
    let status: TicketStatus = parse_stored("ticket status", &row.status)?;
    Ok(status.is_finished().then(|| {
        let reason = format!("the ticket is {status}");
        decided(RoutingOutcome::Kept, None, reason, Vec::new(), now)
    }))
}

/// What each contract can take now: its open shares, the switch, the last hour's shares and,
/// when a contract's trigger needs it, the queue depth (counting it costs a query).
fn live_states(
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
    row: &TicketRow,
    ticket: &RoutableTicket,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Result<(), String>, TicketError> {
    let contract = &file.contract;
    // Redact first: if that fails, nothing is shared (fail closed) and the refusal is audited.
    let projection = match project_for(conn, keys, contract, row, None, now)? {
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
                "receipt": projection.receipt,
            }),
        },
    )?;
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

/// Projects a ticket for a contract inside a savepoint, so that a failed projection leaves
/// no vault rows behind. The outer error is storage; the inner one is redaction's.
pub(crate) fn project_for(
    conn: &mut AnyConnection,
    keys: &VaultKeys,
    contract: &Contract,
    row: &TicketRow,
    share_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Result<redaction::Projection, RedactionError>, TicketError> {
    let comments = store::comments_of(conn, row.id)?;
    let source = store::source_ticket(row, &comments, share_id);
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
) -> Result<Value, TicketError> {
    let file = contracts.get(contract_id).ok_or(TicketError::NotFound)?;
    let mut scratch = ticket.clone();
    scratch.source = "preview".into();
    scratch.external_id = crate::random::random_hex(8);
    let (row, _) = store::upsert(conn, &scratch, now)?;
    for c in &scratch.comments {
        store::add_comment(conn, row.id, Origin::Inhouse, c, now)?;
    }
    Ok(
        match project_for(conn, keys, &file.contract, &row, None, now)? {
            Ok(p) => {
                json!({ "contract": contract_id, "shared": true, "view": p.body, "receipt": p.receipt })
            }
            Err(e) => json!({ "contract": contract_id, "shared": false, "refused": e.to_string() }),
        },
    )
}

/// A hand-back or recall reason: trimmed, 1–2000 characters.
pub(crate) fn checked_reason(reason: &str) -> Result<&str, TicketError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 2_000 {
        return Err(TicketError::Invalid {
            field: "reason".into(),
            message: "must be 1–2000 characters".into(),
        });
    }
    Ok(reason)
}

/// Why a share was taken back. The contractor is told this code, never the in-house reason
/// text (which can say anything about the customer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecallCause {
    /// An in-house operator took it back.
    Operator,
    /// An SLA breach, under a contract whose `on_breach` recalls.
    SlaBreach,
    /// The contract was withdrawn (its file removed).
    ContractWithdrawn,
    /// The contract is not in force (its `valid_until` passed, or `valid_from` not reached).
    ContractNotInForce,
}

/// A ticket taken back from its contractor.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recalled {
    /// The ticket.
    pub id: i64,
    /// Its share, now `recalled`.
    pub share: shares::ShareSummary,
}

/// Takes a ticket back from its contractor: the share becomes `recalled`, the contractor loses
/// access at once (its next request answers 404), its place is freed, and the ticket will not
/// be routed back to it.
pub fn recall(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    id: i64,
    actor: &str,
    reason: &str,
    cause: RecallCause,
    now: DateTime<Utc>,
) -> Result<Recalled, TicketError> {
    let reason = checked_reason(reason)?;
    store::find(conn, id)?.ok_or(TicketError::NotFound)?;
    let share = shares::latest_for_ticket(conn, id)?
        .filter(|s| s.state().is_ok_and(|st| st.is_visible_to_contractor()))
        .ok_or_else(|| TicketError::Conflict("the ticket is not with a contractor".into()))?;
    let updated = take_back(conn, contracts, &share, actor, reason, cause, now)?;
    let clocks = shares::clocks::of_share(conn, updated.id)?;
    Ok(Recalled {
        id,
        share: updated.summary(&clocks),
    })
}

/// Recalls `share` (visible to its contractor): state, clocks, ledger entry and events.
fn take_back(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    share: &shares::ShareRow,
    actor: &str,
    reason: &str,
    cause: RecallCause,
    now: DateTime<Utc>,
) -> Result<shares::ShareRow, TicketError> {
    let id = share.ticket_id;
    let (updated, _) = shares::transition(
        conn,
        share,
        crate::model::ShareState::Recalled,
        Some(reason),
        now,
    )?;
    timekeeping::sync(conn, contracts, &updated, now)?;
    ledger::append(
        conn,
        now,
        NewEntry {
            actor,
            action: Action::ShareRecall,
            contract_id: Some(&share.contract_id),
            ticket_id: Some(id),
            details: json!({
                "share_id": share.id,
                "from": share.state,
                "cause": cause,
                "reason_characters": reason.chars().count(),
            }),
        },
    )?;
    outbox::enqueue(
        conn,
        now,
        vec![
            NewEvent::contractor(
                &share.contract_id,
                id,
                EventType::ShareRecalled,
                json!({ "share_id": share.id, "reason_code": cause }),
            ),
            NewEvent::inhouse(
                id,
                EventType::ShareRecalled,
                json!({ "share_id": share.id, "by": actor, "reason": reason, "reason_code": cause }),
            ),
        ],
    )?;
    Ok(updated)
}

/// Applies the contract files of `set` (new versions, withdrawals of files that are gone) and
/// recalls the shares of every contract that is now out of force, in the caller's transaction.
/// Returns what was applied and how many shares were recalled. An empty `set` while contracts
/// are in force is refused unless `allow_empty`: a wrong folder would otherwise take every
/// ticket back from every contractor, and a recalled ticket never returns to its contractor.
pub fn apply_contracts(
    conn: &mut AnyConnection,
    set: &ContractSet,
    actor: &str,
    allow_empty: bool,
    now: DateTime<Utc>,
) -> Result<(Vec<crate::contracts::Applied>, usize), TicketError> {
    let files: Vec<_> = set.in_rank_order().cloned().collect();
    if files.is_empty() && !allow_empty {
        let in_force = crate::contracts::in_force_count(conn)?;
        if in_force > 0 {
            return Err(TicketError::Conflict(format!(
                "the contracts folder holds no contract, but {in_force} are in force: refusing to \
                 withdraw them all (check the folder; `msp-bridge contracts apply --allow-empty` \
                 withdraws them on purpose)"
            )));
        }
    }
    let applied = crate::contracts::apply(conn, &files, actor, now)?;
    let recalled = recall_out_of_force(conn, set, now)?;
    Ok((applied, recalled))
}

/// Who recalls the shares of contracts that left force.
pub const CONTRACTS_ACTOR: &str = "system:contracts";

/// Recalls every share still with a contractor whose contract left force: withdrawn (its
/// file removed), or outside its validity dates at `now` in its timezone. A contract that
/// leaves force grants nothing from that moment; this takes its tickets back so they can be
/// worked in-house (or routed again), and tells both sides. Returns how many were recalled.
pub fn recall_out_of_force(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    now: DateTime<Utc>,
) -> Result<usize, TicketError> {
    let lapsed = lapsed_contracts(conn, contracts, now)?;
    if lapsed.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&str> = lapsed.iter().map(|(id, _, _)| id.as_str()).collect();
    let open = shares::visible_of_contracts(conn, &ids)?;
    for share in &open {
        if let Some((_, cause, why)) = lapsed.iter().find(|(id, _, _)| *id == share.contract_id) {
            take_back(conn, contracts, share, CONTRACTS_ACTOR, why, *cause, now)?;
        }
    }
    Ok(open.len())
}

/// Whether any share is still with a contractor whose contract left force (a read, so that
/// an idle check never takes SQLite's writer).
pub fn any_out_of_force(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    now: DateTime<Utc>,
) -> Result<bool, TicketError> {
    let lapsed = lapsed_contracts(conn, contracts, now)?;
    if lapsed.is_empty() {
        return Ok(false);
    }
    let ids: Vec<&str> = lapsed.iter().map(|(id, _, _)| id.as_str()).collect();
    Ok(shares::any_visible_of_contracts(conn, &ids)?)
}

/// The contracts out of force at `now`, with the cause and the reason in words.
fn lapsed_contracts(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    now: DateTime<Utc>,
) -> Result<Vec<(String, RecallCause, String)>, TicketError> {
    let mut lapsed: Vec<(String, RecallCause, String)> = crate::contracts::withdrawn(conn)?
        .into_iter()
        .map(|id| {
            let why = format!("contract {id} was withdrawn (its file was removed)");
            (id, RecallCause::ContractWithdrawn, why)
        })
        .collect();
    for file in contracts.in_rank_order() {
        let c = &file.contract;
        if let Err(why) = c.in_force(now) {
            let why = format!("contract {} is no longer in force: {why}", c.id);
            lapsed.push((c.id.clone(), RecallCause::ContractNotInForce, why));
        }
    }
    Ok(lapsed)
}

/// How long a depth the in-house side reported stays in force before the gateway falls back
/// to counting the tickets it holds.
pub const QUEUE_REPORT_TTL_MINUTES: i64 = 15;

/// The in-house queue depth: the figure the helpdesk last reported with `PUT /api/v1/queue`
/// if it is fresh, otherwise the open tickets the gateway holds that no contractor has.
pub fn queue_depth(conn: &mut AnyConnection, now: DateTime<Utc>) -> Result<i64, TicketError> {
    use crate::db::schema::{queue_reports, shares as share_rows, tickets as ticket_rows};
    use diesel::prelude::*;
    let fresh_after =
        crate::clock::to_db(now - chrono::Duration::minutes(QUEUE_REPORT_TTL_MINUTES));
    let reported: Option<i64> = queue_reports::table
        .find(1)
        .filter(queue_reports::reported_at.gt(fresh_after))
        .select(queue_reports::depth)
        .first(conn)
        .optional()?;
    if let Some(depth) = reported {
        return Ok(depth);
    }
    let with_contractor = share_rows::table
        .filter(share_rows::ticket_id.eq(ticket_rows::id))
        .filter(share_rows::state.eq_any(["open", "pending", "solved"]));
    Ok(ticket_rows::table
        .filter(ticket_rows::status.eq_any(["new", "open"]))
        .filter(diesel::dsl::not(diesel::dsl::exists(with_contractor)))
        .count()
        .get_result(conn)?)
}

/// Stores the queue depth the in-house side reports.
pub fn report_queue(
    conn: &mut AnyConnection,
    depth: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), TicketError> {
    use crate::db::schema::queue_reports;
    use diesel::prelude::*;
    if depth < 0 {
        return Err(TicketError::Invalid {
            field: "depth".into(),
            message: "must not be negative".into(),
        });
    }
    let values = (
        queue_reports::depth.eq(depth),
        queue_reports::reported_at.eq(crate::clock::to_db(now)),
        queue_reports::reported_by.eq(actor),
    );
    let updated = diesel::update(queue_reports::table.find(1))
        .set(values)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(queue_reports::table)
            .values((queue_reports::id.eq(1), values))
            .execute(conn)?;
    }
    Ok(())
}

/// A ticket as the in-house side sees it: everything, with its share and the contractor's replies.
pub fn inhouse_view(conn: &mut AnyConnection, id: i64) -> Result<Value, TicketError> {
    let row = store::find(conn, id)?.ok_or(TicketError::NotFound)?;
    let comments = store::comments_of(conn, id)?;
    let share = match shares::latest_for_ticket(conn, id)? {
        Some(s) => {
            let clocks = shares::clocks::of_share(conn, s.id)?;
            Some(s.summary(&clocks))
        }
        None => None,
    };
    let routing: Value = serde_json::from_str(&row.routing).unwrap_or(Value::Null);
    let (replies, inhouse): (Vec<_>, Vec<_>) =
        comments.iter().partition(|c| c.origin == "contractor");
    Ok(json!({
        "id": row.id,
        "source": row.source,
        "external_id": row.external_id,
        "subject": row.subject,
        "description": row.description,
        "requester": {
            "name": row.requester_name,
            "email": row.requester_email,
            "phone": row.requester_phone,
        },
        "channel": row.channel,
        "priority": row.priority,
        "category": row.category,
        "language": row.language,
        "tags": row.tag_list(),
        "custom_fields": row.custom_field_map(),
        "status": row.status,
        "created_at": crate::clock::from_db(row.created_at),
        "updated_at": crate::clock::from_db(row.updated_at),
        "comments": inhouse.iter().map(|c| c.view()).collect::<Vec<_>>(),
        "share": share,
        "escalation": row.escalated_at.map(|at| json!({
            "at": crate::clock::from_db(at),
            "reason": row.escalation,
        })),
        "routing": routing,
        "replies": replies.iter().map(|c| c.view()).collect::<Vec<_>>(),
    }))
}

/// Adds an in-house comment to a ticket; returns the comment, or `None` when it was a re-send.
pub fn add_inhouse_comment(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    id: i64,
    comment: CommentInput,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<store::CommentView>, TicketError> {
    store::find(conn, id)?.ok_or(TicketError::NotFound)?;
    let comment = comment.check("comment")?;
    let Some(added) = store::add_comment(conn, id, Origin::Inhouse, &comment, now)? else {
        return Ok(None);
    };
    if added.public {
        timekeeping::customer_wrote(conn, contracts, id, now)?;
    }
    send_update(conn, contracts, keys, id, actor, now)?;
    Ok(Some(added.view()))
}

/// Tells the ticket's contractor, if it has one, that the ticket changed: the event carries a
/// fresh projection. If redaction fails, nothing is sent (fail closed) and the refusal is
/// audited.
fn send_update(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    ticket_id: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), TicketError> {
    let Some(share) = shares::latest_for_ticket(conn, ticket_id)?
        .filter(|s| s.state().is_ok_and(|st| st.is_visible_to_contractor()))
    else {
        return Ok(());
    };
    let Some(file) = contracts.get(&share.contract_id) else {
        return Ok(());
    };
    let row = store::find(conn, ticket_id)?.ok_or(TicketError::NotFound)?;
    match project_for(conn, keys, &file.contract, &row, Some(share.id), now)? {
        Ok(projection) => {
            let mut view = Value::Object(projection.body);
            view["contract"] = json!(share.contract_id);
            // A push that changes nothing the contractor sees tells the contractor nothing.
            if outbox::last_projection(conn, &share.contract_id, ticket_id)?.as_ref() == Some(&view)
            {
                return Ok(());
            }
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
