//! Ticket and comment rows.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use super::attachments::AttachmentRow;
use super::input::{NewComment, NewTicket};
use crate::clock::{from_db, to_db};
use crate::db::AnyConnection;
use crate::db::schema::{comments, tickets};
use crate::model::CommentOrigin;
use crate::redaction::attachments::SourceAttachment;
use crate::redaction::{SourceComment, SourceTicket};

/// A stored ticket.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tickets)]
pub struct TicketRow {
    /// Gateway id.
    pub id: i64,
    /// Source helpdesk.
    pub source: String,
    /// Id there.
    pub external_id: String,
    /// Subject.
    pub subject: String,
    /// Description.
    pub description: String,
    /// Requester name.
    pub requester_name: Option<String>,
    /// Requester e-mail.
    pub requester_email: Option<String>,
    /// Requester phone.
    pub requester_phone: Option<String>,
    /// Channel.
    pub channel: String,
    /// Priority.
    pub priority: String,
    /// Category.
    pub category: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// Tags as a JSON array.
    pub tags: String,
    /// Custom fields as a JSON object.
    pub custom_fields: String,
    /// Status.
    pub status: String,
    /// The last routing decision as JSON.
    pub routing: String,
    /// Created.
    pub created_at: chrono::NaiveDateTime,
    /// Last updated.
    pub updated_at: chrono::NaiveDateTime,
    /// When an SLA breach flagged the ticket to the in-house side.
    pub escalated_at: Option<chrono::NaiveDateTime>,
    /// Why it was flagged.
    pub escalation: Option<String>,
    /// A digest of what the helpdesk last sent ([`NewTicket::fingerprint`]).
    pub fingerprint: Option<String>,
}

impl TicketRow {
    /// Tags, parsed.
    pub fn tag_list(&self) -> Vec<String> {
        serde_json::from_str(&self.tags).unwrap_or_default()
    }

    /// Custom fields, parsed.
    pub fn custom_field_map(&self) -> serde_json::Map<String, Value> {
        serde_json::from_str(&self.custom_fields).unwrap_or_default()
    }

    /// The fields by path, as projection expects them.
    pub fn source_fields(&self) -> std::collections::BTreeMap<String, Value> {
        let mut f = std::collections::BTreeMap::new();
        f.insert("subject".into(), json!(self.subject));
        f.insert("description".into(), json!(self.description));
        f.insert("requester.name".into(), json!(self.requester_name));
        f.insert("requester.email".into(), json!(self.requester_email));
        f.insert("requester.phone".into(), json!(self.requester_phone));
        f.insert("channel".into(), json!(self.channel));
        f.insert("priority".into(), json!(self.priority));
        f.insert("category".into(), json!(self.category));
        f.insert("language".into(), json!(self.language));
        f.insert("tags".into(), json!(self.tag_list()));
        f.insert("status".into(), json!(self.status));
        f.insert("created_at".into(), json!(from_db(self.created_at)));
        for (name, value) in self.custom_field_map() {
            f.insert(format!("custom_fields.{name}"), value);
        }
        f
    }
}

/// A stored comment.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = comments)]
pub struct CommentRow {
    /// Id.
    pub id: i64,
    /// Ticket.
    pub ticket_id: i64,
    /// The share it was written under, for contractor replies.
    pub share_id: Option<i64>,
    /// Who wrote it.
    #[diesel(deserialize_as = String)]
    pub origin: CommentOrigin,
    /// Idempotency key.
    pub dedupe_key: String,
    /// Author.
    pub author: String,
    /// Text.
    pub body: String,
    /// Visible to the customer.
    pub public: bool,
    /// When written.
    pub created_at: chrono::NaiveDateTime,
    /// A contractor's reply as it wrote it, before re-hydration (`None` for in-house comments
    /// and replies stored before originals were kept).
    pub written_body: Option<String>,
}

impl CommentRow {
    /// The comment as the in-house side sees it.
    pub fn view(&self) -> CommentView {
        CommentView {
            id: self.id,
            origin: self.origin,
            author: self.author.clone(),
            body: self.body.clone(),
            public: self.public,
            share_id: self.share_id.map(Into::into),
            created_at: from_db(self.created_at),
        }
    }
}

/// A comment as the in-house side sees it: real values, a contractor's reply re-hydrated.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CommentView {
    /// The comment's id.
    pub id: i64,
    /// Who wrote it.
    pub origin: CommentOrigin,
    /// Who wrote it.
    pub author: String,
    /// Its text.
    pub body: String,
    /// Visible to the customer.
    pub public: bool,
    /// The share a contractor replied under.
    pub share_id: Option<crate::ids::ShareId>,
    /// When stored.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Who wrote a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin<'a> {
    /// The in-house side.
    Inhouse,
    /// A contractor, under a share; `written` is its text before re-hydration.
    Contractor {
        /// The share it replied under.
        share_id: i64,
        /// What it wrote.
        written: &'a str,
    },
}

/// Finds a ticket by its source key.
pub fn find_by_key(
    conn: &mut AnyConnection,
    source: &str,
    external_id: &str,
) -> QueryResult<Option<TicketRow>> {
    tickets::table
        .filter(tickets::source.eq(source))
        .filter(tickets::external_id.eq(external_id))
        .select(TicketRow::as_select())
        .get_result(conn)
        .optional()
}

/// A ticket the backlog drain may route, with what orders it.
#[derive(Debug, Clone, Queryable)]
pub struct Drainable {
    /// The ticket.
    pub id: i64,
    /// Its priority, as stored.
    pub priority: String,
    /// Its channel, as stored.
    pub channel: String,
    /// When the gateway first stored it.
    pub created_at: chrono::NaiveDateTime,
}

/// The tickets the backlog drain may route (waiting in-house, and not kept for the in-house
/// team).
pub fn drainable(conn: &mut AnyConnection) -> QueryResult<Vec<Drainable>> {
    drainable_query()
        .select((
            tickets::id,
            tickets::priority,
            tickets::channel,
            tickets::created_at,
        ))
        .load(conn)
}

/// How many tickets wait for an agent in-house.
pub fn waiting_count(conn: &mut AnyConnection) -> QueryResult<i64> {
    waiting_query().count().get_result(conn)
}

/// Whether ticket `id` is one the backlog drain may route.
pub fn is_drainable(conn: &mut AnyConnection, id: i64) -> QueryResult<bool> {
    let found: Option<i64> = drainable_query()
        .filter(tickets::id.eq(id))
        .select(tickets::id)
        .get_result(conn)
        .optional()?;
    Ok(found.is_some())
}

fn drainable_query() -> tickets::BoxedQuery<'static, <AnyConnection as diesel::Connection>::Backend>
{
    use crate::db::schema::shares;
    // An operator took it back, or its contractor handed it back under a contract that keeps
    // hand-backs in-house: it waits for the in-house team, not for a contractor.
    let kept_in_house = shares::table
        .filter(shares::ticket_id.eq(tickets::id))
        .filter(shares::keep_in_house.eq(true));
    waiting_query().filter(diesel::dsl::not(diesel::dsl::exists(kept_in_house)))
}

fn waiting_query() -> tickets::BoxedQuery<'static, <AnyConnection as diesel::Connection>::Backend> {
    use crate::db::schema::shares;
    use crate::model::{ShareState, TicketStatus};
    let with_contractor = shares::table
        .filter(shares::ticket_id.eq(tickets::id))
        .filter(shares::state.eq_any(ShareState::visible_names()));
    tickets::table
        .filter(tickets::status.eq_any(TicketStatus::awaiting_agent_names()))
        .filter(diesel::dsl::not(diesel::dsl::exists(with_contractor)))
        .into_boxed()
}

/// The stored priorities of `ids`.
pub fn priorities(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    tickets::table
        .filter(tickets::id.eq_any(ids))
        .select((tickets::id, tickets::priority))
        .load(conn)
}

/// Ticket `id`, locked until the caller's transaction ends ([`crate::db::lock_tickets`]):
/// how a workflow that changes a ticket begins.
pub fn lock(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<TicketRow>> {
    crate::db::lock_tickets(conn, &[id], crate::db::LockWait::Block)?;
    find(conn, id)
}

/// Loads a ticket.
pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<TicketRow>> {
    tickets::table
        .find(id)
        .select(TicketRow::as_select())
        .get_result(conn)
        .optional()
}

/// Inserts a new ticket, or overwrites the fields of `existing` (its id, when the caller found
/// it stored under the same key with [`find_by_key`]); returns the row and whether it was
/// created.
pub fn upsert(
    conn: &mut AnyConnection,
    t: &NewTicket,
    existing: Option<i64>,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> QueryResult<(TicketRow, bool)> {
    let tags = serde_json::to_string(&t.tags).unwrap_or_else(|_| "[]".into());
    let custom = serde_json::to_string(&t.custom_fields).unwrap_or_else(|_| "{}".into());
    let expose =
        |v: &Option<crate::sensitive::Sensitive<String>>| v.as_ref().map(|s| s.expose().clone());
    let changes = (
        tickets::subject.eq(t.subject.expose()),
        tickets::description.eq(t.description.expose()),
        tickets::requester_name.eq(expose(&t.requester_name)),
        tickets::requester_email.eq(expose(&t.requester_email)),
        tickets::requester_phone.eq(expose(&t.requester_phone)),
        tickets::channel.eq(t.channel.as_str()),
        tickets::priority.eq(t.priority.as_str()),
        tickets::category.eq(&t.category),
        tickets::language.eq(&t.language),
        tickets::tags.eq(&tags),
        tickets::custom_fields.eq(&custom),
        tickets::status.eq(t.status.as_str()),
        tickets::updated_at.eq(to_db(now)),
        tickets::fingerprint.eq(fingerprint),
    );
    if let Some(existing) = existing {
        let row = diesel::update(tickets::table.find(existing))
            .set(changes)
            .returning(tickets::all_columns)
            .get_result(conn)?;
        return Ok((row, false));
    }
    let row = diesel::insert_into(tickets::table)
        .values((
            tickets::source.eq(&t.source),
            tickets::external_id.eq(&t.external_id),
            changes,
            tickets::routing.eq("{}"),
            tickets::created_at.eq(to_db(now)),
        ))
        .returning(tickets::all_columns)
        .get_result(conn)?;
    Ok((row, true))
}

/// The helpdesk keys (`source`, `external_id`) of `ids`.
pub fn external_keys(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, (String, String)>> {
    let rows: Vec<(i64, String, String)> = tickets::table
        .filter(tickets::id.eq_any(ids))
        .select((tickets::id, tickets::source, tickets::external_id))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, s, e)| (id, (s, e))).collect())
}

/// Flags the ticket to the in-house side, once: false when it was already flagged.
pub fn escalate(
    conn: &mut AnyConnection,
    id: i64,
    why: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let n = diesel::update(
        tickets::table
            .find(id)
            .filter(tickets::escalated_at.is_null()),
    )
    .set((
        tickets::escalated_at.eq(to_db(now)),
        tickets::escalation.eq(why),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Stores the routing decision on the ticket.
pub fn set_routing(conn: &mut AnyConnection, id: i64, routing: &Value) -> QueryResult<()> {
    diesel::update(tickets::table.find(id))
        .set(tickets::routing.eq(routing.to_string()))
        .execute(conn)?;
    Ok(())
}

/// Adds a comment unless one with the same dedupe key exists; returns it if it was added.
pub fn add_comment(
    conn: &mut AnyConnection,
    ticket_id: i64,
    origin: Origin<'_>,
    c: &NewComment,
    now: DateTime<Utc>,
) -> QueryResult<Option<CommentRow>> {
    Ok(add_comments(conn, ticket_id, origin, std::slice::from_ref(c), now)?.pop())
}

/// Adds in-house comments to a ticket; returns those stored (re-sent ones are not).
pub fn add_inhouse_comments(
    conn: &mut AnyConnection,
    ticket_id: i64,
    new: &[NewComment],
    now: DateTime<Utc>,
) -> QueryResult<Vec<CommentRow>> {
    add_comments(conn, ticket_id, Origin::Inhouse, new, now)
}

/// Adds comments from one origin, skipping those whose dedupe key the ticket has already (a
/// re-sent comment: one statement, where a look-up first would be two); returns those stored.
/// Several go to PostgreSQL in one multi-row statement (one round trip instead of one a
/// comment); one, and all on SQLite, as the single-row statement diesel caches — a batch of
/// varying length would be compiled each time, and SQLite has no round trip to save.
fn add_comments(
    conn: &mut AnyConnection,
    ticket_id: i64,
    origin: Origin<'_>,
    new: &[NewComment],
    now: DateTime<Utc>,
) -> QueryResult<Vec<CommentRow>> {
    let (origin_name, share_id, written) = match origin {
        Origin::Inhouse => (CommentOrigin::Inhouse.as_str(), None, None),
        Origin::Contractor { share_id, written } => {
            let origin = CommentOrigin::Contractor.as_str();
            (origin, Some(share_id), Some(written))
        }
    };
    let rows: Vec<_> = new
        .iter()
        .map(|c| {
            (
                comments::ticket_id.eq(ticket_id),
                comments::share_id.eq(share_id),
                comments::origin.eq(origin_name),
                comments::dedupe_key.eq(&c.dedupe_key),
                comments::author.eq(c.author.expose()),
                comments::body.eq(c.body.expose()),
                comments::public.eq(c.public),
                comments::created_at.eq(to_db(c.created_at.unwrap_or(now))),
                comments::written_body.eq(written),
            )
        })
        .collect();
    // Upserts are backend-specific in diesel.
    if let AnyConnection::Postgresql(pg) = conn
        && rows.len() > 1
    {
        return diesel::insert_into(comments::table)
            .values(rows)
            .on_conflict((comments::ticket_id, comments::dedupe_key))
            .do_nothing()
            .returning(comments::all_columns)
            .get_results(pg);
    }
    let mut added = Vec::with_capacity(rows.len());
    for row in rows {
        let insert = diesel::insert_into(comments::table)
            .values(row)
            .on_conflict((comments::ticket_id, comments::dedupe_key))
            .do_nothing()
            .returning(comments::all_columns);
        added.extend(match conn {
            AnyConnection::Postgresql(pg) => insert.get_result(pg).optional()?,
            AnyConnection::Sqlite(lite) => insert.get_result(lite).optional()?,
        });
    }
    Ok(added)
}

/// A ticket's comments, oldest first.
pub fn comments_of(conn: &mut AnyConnection, ticket_id: i64) -> QueryResult<Vec<CommentRow>> {
    comments::table
        .filter(comments::ticket_id.eq(ticket_id))
        .order((comments::created_at.asc(), comments::id.asc()))
        .select(CommentRow::as_select())
        .load(conn)
}

/// The ticket, its comments and files in the form projection takes, as `reader` may see them.
/// File contents are not loaded here: only those the contract scans are needed.
pub fn source_ticket(
    ticket: &TicketRow,
    comments: &[CommentRow],
    files: &[AttachmentRow],
    reader: CommentReader,
) -> SourceTicket {
    // Replies written under another (earlier) share are never shown to this contractor,
    // except those of the share it was escalated from.
    let readable = |c: &&CommentRow| {
        c.origin == CommentOrigin::Inhouse
            || reader.is_own(c.share_id)
            || reader.is_handed_over(c.share_id)
    };
    let readable_comments: Vec<&CommentRow> = comments.iter().filter(readable).collect();
    let comment_ids = ids_by_key(readable_comments.iter().copied());
    SourceTicket {
        fields: ticket.source_fields(),
        comments: readable_comments
            .iter()
            .map(|c| {
                let own = reader.is_own(c.share_id);
                // Its own replies come back to the contractor as it wrote them; replies handed
                // over are the in-house copy, redacted under this contract like any text.
                let as_written = own.then_some(c.written_body.as_ref()).flatten();
                SourceComment {
                    id: c.id,
                    author: c.author.clone(),
                    body: as_written.unwrap_or(&c.body).clone(),
                    public: c.public,
                    from_contractor: own,
                    as_written: as_written.is_some(),
                    created_at: from_db(c.created_at).to_rfc3339(),
                }
            })
            .collect(),
        attachments: files
            .iter()
            .filter_map(|f| {
                let comment_id = match &f.comment_key {
                    Some(key) => Some(*comment_ids.get(key.as_str())?),
                    None => None,
                };
                let own = reader.is_own(f.share_id);
                // The contractor's own file comes back as it sent it.
                let (sha256, size) = match (&f.written_sha256, own) {
                    (Some(written), true) => (written.clone(), f.written_size.unwrap_or(f.size)),
                    _ => (f.sha256.clone(), f.size),
                };
                Some(SourceAttachment {
                    id: f.id,
                    comment_id,
                    file_name: f.file_name.clone(),
                    media_type: f.media_type.clone(),
                    size,
                    sha256,
                    own,
                    content: None,
                })
            })
            .collect(),
        feedback: Vec::new(),
    }
}

/// Comment ids by dedupe key: how a file finds the comment it came with.
pub fn ids_by_key<'c>(
    comments: impl IntoIterator<Item = &'c CommentRow>,
) -> std::collections::HashMap<&'c str, i64> {
    comments
        .into_iter()
        .map(|c| (c.dedupe_key.as_str(), c.id))
        .collect()
}

/// Whose view of a ticket's comments a projection is.
#[derive(Clone, Copy, Debug, Default)]
pub struct CommentReader {
    /// The share reading: its replies come back as written. `None` before the share exists.
    pub own: Option<i64>,
    /// The share it was escalated from: the replies written there are handed over.
    pub handed_over: Option<i64>,
}

impl CommentReader {
    fn is_own(self, share_id: Option<i64>) -> bool {
        self.own.is_some() && share_id == self.own
    }

    fn is_handed_over(self, share_id: Option<i64>) -> bool {
        self.handed_over.is_some() && share_id == self.handed_over
    }
}

/// The stored routing decisions of tickets pushed in `[from, to)` (JSON text, as
/// [`set_routing`] wrote them), oldest first.
pub fn routings_between(
    conn: &mut AnyConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<String>> {
    tickets::table
        .filter(tickets::updated_at.ge(to_db(from)))
        .filter(tickets::updated_at.lt(to_db(to)))
        .order(tickets::id)
        .select(tickets::routing)
        .load(conn)
}
