//! The in-house view of one ticket: everything, with its share, clocks, routing and the
//! contractor's replies.

use serde_json::{Value, json};

use crate::db::AnyConnection;
use crate::shares;
use crate::tickets::TicketError;
use crate::tickets::store;

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
