//! Intake: a ticket or comment from the in-house side is stored, routed and, when it is with
//! a contractor already, reaches that contractor's clocks and feed.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::contracts::ContractSet;
use crate::db::AnyConnection;
use crate::ids::TicketId;
use crate::model::RoutingOutcome;
use crate::redaction::VaultKeys;
use crate::service::sharing::{RoutingDecision, route, send_update};
use crate::service::timekeeping;
use crate::shares;
use crate::tickets::attachments;
use crate::tickets::store::{self, Origin};
use crate::tickets::{CommentInput, NewTicket, TicketError, parse_stored};

/// What ingest did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IngestOutcome {
    /// Gateway ticket id.
    pub id: TicketId,
    /// True when the ticket was new.
    pub created: bool,
    /// Comments added by this request (re-sent ones are not counted).
    pub comments_added: usize,
    /// The routing decision.
    pub routing: RoutingDecision,
}

/// Creates or updates a ticket from the in-house side, adds its new comments and routes it,
/// all in the caller's transaction. A re-push of a shared ticket that changes nothing (the
/// same ticket under the same contract versions, and its share unchanged since:
/// [`store::upsert`] keeps the fingerprint, [`crate::shares::transition`] clears it) is
/// answered with the stored routing decision and writes nothing: routing it again could not
/// decide otherwise. A ticket kept in-house is routed again, as room may have come since.
pub fn ingest(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    ticket: &NewTicket,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<IngestOutcome, TicketError> {
    let fingerprint = format!("{}@{}", ticket.fingerprint(), contracts.versions());
    let stored = store::find_by_key(conn, &ticket.source, &ticket.external_id)?;
    if let Some(stored) = &stored
        && stored.fingerprint.as_deref() == Some(fingerprint.as_str())
        && let Ok(routing) = serde_json::from_str::<RoutingDecision>(&stored.routing)
        && matches!(
            routing.outcome,
            RoutingOutcome::Shared | RoutingOutcome::AlreadyShared
        )
    {
        return Ok(IngestOutcome {
            id: stored.id.into(),
            created: false,
            comments_added: 0,
            routing,
        });
    }
    let requester = |r: &store::TicketRow| {
        (
            r.requester_name.clone(),
            r.requester_email.clone(),
            r.requester_phone.clone(),
        )
    };
    let requester_before = stored.as_ref().map(requester);
    let existing = stored.map(|s| s.id);
    let (row, created) = store::upsert(conn, ticket, existing, &fingerprint, now)?;
    // The requester is indexed when it is new or changed, not on every update.
    if requester_before != Some(requester(&row)) {
        crate::subjects::index_requester(
            conn,
            keys,
            row.id,
            row.requester_name.as_deref(),
            row.requester_email.as_deref(),
            row.requester_phone.as_deref(),
            !created,
        )?;
    }
    let added = store::add_inhouse_comments(conn, row.id, &ticket.comments, now)?;
    let comments_added = added.len();
    attachments::add_inhouse(conn, row.id, &ticket.attachments, &ticket.comments, now)?;
    let customer_wrote = added.iter().any(|c| c.public);
    let routing = route(conn, contracts, keys, &row, actor, now)?;
    if routing.outcome == RoutingOutcome::AlreadyShared {
        // The change reaches the contractor's clocks (a new priority or channel moves their
        // targets; a customer message or a paused status) and the contractor itself, as a
        // fresh projection.
        if let Some(share) = shares::latest_for_ticket(conn, row.id)? {
            let priority = parse_stored("priority", &row.priority)?;
            let channel = parse_stored("channel", &row.channel)?;
            timekeeping::retarget(conn, contracts, &share, priority, channel, now)?;
            if customer_wrote {
                timekeeping::customer_wrote(conn, contracts, row.id, now)?;
            } else {
                timekeeping::sync(conn, contracts, &share, now)?;
            }
        }
        // The customer's rating of the contractor's work, as the helpdesk carries it.
        if let Some(feedback) = &ticket.satisfaction {
            let id = row.id.into();
            crate::service::feedback::record(conn, id, feedback, &ticket.source, actor, now)?;
        }
        send_update(conn, contracts, keys, row.id, actor, now)?;
    }
    Ok(IngestOutcome {
        id: row.id.into(),
        created,
        comments_added,
        routing,
    })
}

/// Adds an in-house comment to a ticket; returns the comment, or `None` when it was a re-send.
pub fn add_inhouse_comment(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    keys: &VaultKeys,
    id: TicketId,
    comment: CommentInput,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<store::CommentView>, TicketError> {
    let id = id.get();
    store::lock(conn, id)?.ok_or(TicketError::NotFound)?;
    let comment = comment.check("comment")?;
    let Some(added) = store::add_comment(conn, id, Origin::Inhouse, &comment, now)? else {
        return Ok(None);
    };
    attachments::add_inhouse(conn, id, &[], std::slice::from_ref(&comment), now)?;
    if added.public {
        timekeeping::customer_wrote(conn, contracts, id, now)?;
    }
    send_update(conn, contracts, keys, id, actor, now)?;
    Ok(Some(added.view()))
}
