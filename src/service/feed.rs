//! The in-house event feed: the pull alternative to the in-house webhook.

use serde::Serialize;

use super::ServiceError;
use crate::adapters::Helpdesk;
use crate::db::{Db, DbError};
use crate::outbox::{self, Audience, Envelope};

/// A page of the in-house feed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedPage {
    /// Events in feed order.
    pub items: Vec<FeedItem>,
    /// Pass it back as `after` for the next page.
    pub next_after: i64,
}

/// An event of the feed: its envelope, and with `?format=` the helpdesk update that applies it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedItem {
    /// The event as the in-house webhook carries it.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Only with `?format=`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helpdesk: Option<HelpdeskUpdate>,
    /// Its feed position (what `after` takes; the page's `next_after` is the last one's).
    #[serde(skip)]
    pub position: i64,
}

/// What the named adapter makes of an event for the helpdesk the ticket came from.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HelpdeskUpdate {
    /// The ticket's helpdesk.
    pub source: Option<String>,
    /// Its id there.
    pub external_id: Option<String>,
    /// The update body (the adapter's own shape), or null when the event needs none.
    pub update: Option<serde_json::Value>,
}

/// The in-house events after feed position `after`, at most `limit`; with an adapter, each
/// also carries the update that applies it to its helpdesk.
pub fn inhouse_page(
    db: &Db,
    adapter: Option<&'static dyn Helpdesk>,
    after: i64,
    limit: i64,
) -> Result<FeedPage, ServiceError> {
    // Number what has committed since the worker last did, so the page ends at the latest.
    db.write(|c| outbox::sequence(c).map_err(DbError::from))?;
    let rows =
        db.read(|c| outbox::list(c, &Audience::Inhouse, after, limit).map_err(DbError::from))?;
    let next_after = rows.last().and_then(|r| r.position).unwrap_or(after);
    let mut items = rows
        .iter()
        .map(|row| {
            row.envelope().map(|envelope| FeedItem {
                envelope,
                helpdesk: None,
                position: row.position.unwrap_or(after),
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ServiceError::Corrupt(format!("a stored event does not parse: {e}")))?;
    if let Some(adapter) = adapter {
        let ids: Vec<i64> = rows.iter().filter_map(|r| r.ticket_id).collect();
        let keys =
            db.read(|c| crate::tickets::store::external_keys(c, &ids).map_err(DbError::from))?;
        for item in &mut items {
            let envelope = &item.envelope;
            let key = envelope.ticket.and_then(|id| keys.get(&id.get()));
            item.helpdesk = Some(HelpdeskUpdate {
                source: key.map(|k| k.0.clone()),
                external_id: key.map(|k| k.1.clone()),
                update: adapter.update(envelope.event_type.as_str(), &envelope.data),
            });
        }
    }
    Ok(FeedPage { items, next_after })
}
