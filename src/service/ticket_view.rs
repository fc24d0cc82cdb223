//! The in-house view of one ticket: everything, with its share, clocks, routing and the
//! contractor's replies.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock::from_db;
use crate::db::AnyConnection;
use crate::ids::TicketId;
use crate::model::{Channel, CommentOrigin, Priority, TicketStatus};
use crate::service::sharing::RoutingDecision;
use crate::shares::{self, ShareSummary};
use crate::tickets::store::{self, CommentView};
use crate::tickets::{TicketError, parse_stored};

/// A ticket as the in-house side sees it (`GET /api/v1/tickets/{id}`): real values.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InhouseTicket {
    /// Gateway ticket id.
    pub id: TicketId,
    /// The helpdesk it came from.
    pub source: String,
    /// Its id there.
    pub external_id: String,
    /// Subject line.
    pub subject: String,
    /// The first message.
    pub description: String,
    /// The customer.
    pub requester: Requester,
    /// How the customer wrote in.
    pub channel: Channel,
    /// Priority.
    pub priority: Priority,
    /// Category, if the helpdesk set one.
    pub category: Option<String>,
    /// Language (BCP 47), if known.
    pub language: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// The helpdesk's custom fields, as sent.
    pub custom_fields: Map<String, Value>,
    /// Status.
    pub status: TicketStatus,
    /// First stored.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// In-house comments, oldest first.
    pub comments: Vec<CommentView>,
    /// Its latest share, with clocks; null if it was never shared.
    pub share: Option<ShareSummary>,
    /// Set when an SLA breach escalated the ticket.
    pub escalation: Option<Escalation>,
    /// The last routing decision; null before the first (or if it could not be read).
    pub routing: Option<RoutingDecision>,
    /// The contractor's replies (public and internal), re-hydrated, oldest first.
    pub replies: Vec<CommentView>,
    /// Files of the ticket, its comments and the replies, oldest first.
    pub attachments: Vec<crate::tickets::attachments::AttachmentView>,
}

/// The customer, in clear.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Requester {
    /// Name.
    pub name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
}

/// An SLA escalation of the ticket.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Escalation {
    /// When.
    pub at: DateTime<Utc>,
    /// Why, in words.
    pub reason: Option<String>,
}

/// A ticket as the in-house side sees it: everything, with its share and the contractor's replies.
pub fn inhouse_view(conn: &mut AnyConnection, id: TicketId) -> Result<InhouseTicket, TicketError> {
    let id = id.get();
    let row = store::find(conn, id)?.ok_or(TicketError::NotFound)?;
    let comments = store::comments_of(conn, id)?;
    let comment_ids = store::ids_by_key(&comments);
    let attachments = crate::tickets::attachments::of_ticket(conn, id)?
        .iter()
        .map(|f| {
            let comment_id = f
                .comment_key
                .as_deref()
                .and_then(|k| comment_ids.get(k).copied());
            f.view(comment_id)
        })
        .collect();
    let share = match shares::latest_for_ticket(conn, id)? {
        Some(s) => {
            let clocks = shares::clocks::of_share(conn, s.id)?;
            Some(s.summary(&clocks))
        }
        None => None,
    };
    let (replies, inhouse): (Vec<_>, Vec<_>) = comments
        .iter()
        .partition(|c| c.origin == CommentOrigin::Contractor);
    Ok(InhouseTicket {
        id: row.id.into(),
        requester: Requester {
            name: row.requester_name.clone(),
            email: row.requester_email.clone(),
            phone: row.requester_phone.clone(),
        },
        channel: parse_stored("channel", &row.channel)?,
        priority: parse_stored("priority", &row.priority)?,
        status: parse_stored("ticket status", &row.status)?,
        tags: row.tag_list(),
        custom_fields: row.custom_field_map(),
        created_at: from_db(row.created_at),
        updated_at: from_db(row.updated_at),
        comments: inhouse.iter().map(|c| c.view()).collect(),
        share,
        escalation: row.escalated_at.map(|at| Escalation {
            at: from_db(at),
            reason: row.escalation.clone(),
        }),
        routing: serde_json::from_str(&row.routing).ok(),
        replies: replies.iter().map(|c| c.view()).collect(),
        attachments,
        source: row.source,
        external_id: row.external_id,
        subject: row.subject,
        description: row.description,
        category: row.category,
        language: row.language,
    })
}
