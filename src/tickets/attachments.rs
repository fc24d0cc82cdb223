//! Files attached to a ticket or to one of its comments: checked on the way in (name, media
//! type, size, base64 content), stored once per content (addressed by SHA-256) so that the
//! gateway can scan them before anything leaves, and read back for projection and downloads.

use std::sync::Arc;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;

use super::TicketError;
use super::input::NewComment;
use crate::clock::to_db;
use crate::db::AnyConnection;
use crate::db::schema::{attachment_contents, attachments};
use crate::model::CommentOrigin;
use crate::sensitive::Sensitive;

/// Largest file the gateway takes, decoded.
pub const MAX_ATTACHMENT_BYTES: usize = 8 * 1024 * 1024;

/// Most files one request may carry (a ticket push with its comments, or a reply).
pub const MAX_ATTACHMENTS: usize = 50;

/// A file as sent: its content inline, base64-encoded (standard alphabet, padded).
#[derive(Debug, Clone, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"file_name": "invoice-7781.txt", "media_type": "text/plain", "content": "0JrQsNGA0YLQsCA0MTExIDExMTEgMTExMSAxMTEx"}))]
#[serde(deny_unknown_fields)]
pub struct AttachmentInput {
    /// The helpdesk's id for the file; re-sending it does not store it twice.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The file's name (a path is cut to its last part).
    #[schema(value_type = String)]
    pub file_name: Sensitive<String>,
    /// Its media type (`text/plain`, `image/png`, …); parameters such as `charset` are dropped.
    pub media_type: String,
    /// The content, base64 (at most 8 MiB decoded).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Byte)]
    pub content: Option<Sensitive<String>>,
    /// Instead of `content`, where the helpdesk serves the file (a Zendesk `content_url`): the
    /// gateway fetches it from a helpdesk connection of its own on that host, with that
    /// connection's credentials, and from nowhere else.
    #[serde(default)]
    pub url: Option<String>,
}

/// A checked file, ready to store.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    /// Stable per ticket: a re-sent file is not stored twice.
    pub dedupe_key: String,
    /// Its name.
    pub file_name: Sensitive<String>,
    /// Its media type, lower-case, without parameters.
    pub media_type: String,
    /// The content (shared: a ticket is cloned for previews).
    pub content: Arc<Sensitive<Vec<u8>>>,
    /// SHA-256 of the content, hex.
    pub sha256: String,
}

fn invalid(field: String, message: impl Into<String>) -> TicketError {
    TicketError::Invalid {
        field,
        message: message.into(),
    }
}

/// The last part of a file name a helpdesk may send as a path, trimmed.
fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name).trim()
}

impl AttachmentInput {
    /// Checks the file; `prefix` is its field path in errors, `scope` what makes its dedupe
    /// key unique on the ticket (the comment it came with).
    pub fn check(self, prefix: &str, scope: &str) -> Result<NewAttachment, TicketError> {
        let name = base_name(self.file_name.expose());
        if name.is_empty() || name.len() > 255 || name.chars().any(char::is_control) {
            return Err(invalid(
                format!("{prefix}.file_name"),
                "must be 1–255 bytes without control characters",
            ));
        }
        let file_name = Sensitive(name.to_owned());
        let media_type =
            crate::contracts::media_type_essence(&self.media_type).ok_or_else(|| {
                invalid(
                    format!("{prefix}.media_type"),
                    "is not a media type such as `text/plain`",
                )
            })?;
        let Some(encoded) = &self.content else {
            return Err(invalid(
                format!("{prefix}.content"),
                match self.url {
                    Some(_) => {
                        "is missing: no helpdesk connection of the gateway serves this `url`"
                    }
                    None => "is required (base64), or a `url` a helpdesk connection serves",
                },
            ));
        };
        let encoded = encoded.expose();
        // Base64 is at most 4/3 of the content: refuse what cannot fit before decoding it.

        if encoded.len() > MAX_ATTACHMENT_BYTES / 3 * 4 + 4 {
            return Err(invalid(
                format!("{prefix}.content"),
                format!("is larger than {MAX_ATTACHMENT_BYTES} bytes"),
            ));
        }
        let content = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| invalid(format!("{prefix}.content"), "is not base64"))?;
        if content.len() > MAX_ATTACHMENT_BYTES {
            return Err(invalid(
                format!("{prefix}.content"),
                format!("is larger than {MAX_ATTACHMENT_BYTES} bytes"),
            ));
        }
        let sha256 = crate::crypto::sha256_hex(&content);
        let dedupe_key = match self.external_id {
            Some(id) => format!(
                "ext:{}",
                super::input::key(&format!("{prefix}.external_id"), &id)?
            ),
            // Without an id, the same file under the same name with the same comment is the
            // same file.
            None => format!(
                "sum:{}",
                crate::contracts::sha256_hex(&serde_json::json!([scope, name, sha256]).to_string())
            ),
        };
        Ok(NewAttachment {
            dedupe_key,
            file_name,
            media_type,
            content: Arc::new(Sensitive(content)),
            sha256,
        })
    }
}

/// Checks a request's files: each by [`AttachmentInput::check`], and their number.
pub fn check_all(
    files: Vec<AttachmentInput>,
    prefix: &str,
    scope: &str,
) -> Result<Vec<NewAttachment>, TicketError> {
    if files.len() > MAX_ATTACHMENTS {
        return Err(invalid(
            prefix.to_owned(),
            format!("at most {MAX_ATTACHMENTS} files"),
        ));
    }
    files
        .into_iter()
        .enumerate()
        .map(|(i, f)| f.check(&format!("{prefix}[{i}]"), scope))
        .collect()
}

/// A stored file.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    /// Id.
    pub id: i64,
    /// Ticket.
    pub ticket_id: i64,
    /// The dedupe key of the comment it came with; `None` for the ticket's own files.
    pub comment_key: Option<String>,
    /// The share a contractor attached it under.
    pub share_id: Option<i64>,
    /// Who attached it.
    #[diesel(deserialize_as = String)]
    pub origin: CommentOrigin,
    /// Idempotency key.
    pub dedupe_key: String,
    /// Its name.
    pub file_name: String,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes (of the in-house content).
    pub size: i64,
    /// SHA-256 of the in-house content.
    pub sha256: String,
    /// SHA-256 of a contractor's file as it sent it, when re-hydration changed it.
    pub written_sha256: Option<String>,
    /// The size of that original.
    pub written_size: Option<i64>,
    /// When stored.
    pub created_at: chrono::NaiveDateTime,
}

/// Who attached a file, and under which comment.
#[derive(Debug, Clone, Copy)]
pub struct Attached<'a> {
    /// The comment's dedupe key, or `None` for the ticket itself.
    pub comment_key: Option<&'a str>,
    /// A contractor's share, or `None` for the in-house side.
    pub share_id: Option<i64>,
}

/// Stores the files of an in-house push: the ticket's own and its comments'. Returns how many
/// were new.
pub fn add_inhouse(
    conn: &mut AnyConnection,
    ticket_id: i64,
    own: &[NewAttachment],
    comments: &[NewComment],
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let mut added = 0;
    let ticket_itself = Attached {
        comment_key: None,
        share_id: None,
    };
    added += add(
        conn,
        ticket_id,
        ticket_itself,
        own.iter().map(|f| (f, None)),
        now,
    )?
    .len();
    for c in comments.iter().filter(|c| !c.attachments.is_empty()) {
        let attached = Attached {
            comment_key: Some(&c.dedupe_key),
            share_id: None,
        };
        added += add(
            conn,
            ticket_id,
            attached,
            c.attachments.iter().map(|f| (f, None)),
            now,
        )?
        .len();
    }
    Ok(added)
}

/// Stores files on a ticket, skipping those it has already (a re-send); returns those that
/// were new. Each file comes with, for a contractor's, its original content when that differs from
/// the in-house one.
pub fn add<'f>(
    conn: &mut AnyConnection,
    ticket_id: i64,
    attached: Attached<'_>,
    files: impl IntoIterator<Item = (&'f NewAttachment, Option<&'f NewAttachment>)>,
    now: DateTime<Utc>,
) -> QueryResult<Vec<AttachmentRow>> {
    let origin = match attached.share_id {
        Some(_) => CommentOrigin::Contractor,
        None => CommentOrigin::Inhouse,
    };
    let mut added = Vec::new();
    for (file, written) in files {
        store_content(conn, file)?;
        if let Some(w) = written {
            store_content(conn, w)?;
        }
        let written_sha256 = written.map(|w| &w.sha256);
        let written_size = written.map(|w| w.content.expose().len() as i64);
        let insert = diesel::insert_into(attachments::table)
            .values((
                attachments::ticket_id.eq(ticket_id),
                attachments::comment_key.eq(attached.comment_key),
                attachments::share_id.eq(attached.share_id),
                attachments::origin.eq(origin.as_str()),
                attachments::dedupe_key.eq(&file.dedupe_key),
                attachments::file_name.eq(file.file_name.expose()),
                attachments::media_type.eq(&file.media_type),
                attachments::size.eq(file.content.expose().len() as i64),
                attachments::sha256.eq(&file.sha256),
                attachments::written_sha256.eq(written_sha256),
                attachments::written_size.eq(written_size),
                attachments::created_at.eq(to_db(now)),
            ))
            .on_conflict((attachments::ticket_id, attachments::dedupe_key))
            .do_nothing()
            .returning(attachments::all_columns);
        added.extend(match conn {
            AnyConnection::Postgresql(pg) => insert.get_result(pg).optional()?,
            AnyConnection::Sqlite(lite) => insert.get_result(lite).optional()?,
        });
    }
    Ok(added)
}

fn store_content(conn: &mut AnyConnection, file: &NewAttachment) -> QueryResult<()> {
    let insert = diesel::insert_into(attachment_contents::table)
        .values((
            attachment_contents::sha256.eq(&file.sha256),
            attachment_contents::content.eq(file.content.expose().as_slice()),
        ))
        .on_conflict(attachment_contents::sha256)
        .do_nothing();
    match conn {
        AnyConnection::Postgresql(pg) => insert.execute(pg)?,
        AnyConnection::Sqlite(lite) => insert.execute(lite)?,
    };
    Ok(())
}

/// Which of a file's stored contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// The in-house content (what a download gives).
    Inhouse,
    /// A contractor's file as it sent it (before re-hydration).
    Written,
}

/// Replaces one stored content of file `id` with `content` (a data subject's erasure struck
/// it): stored under its own digest, and the old content deleted once no file refers to it.
pub fn replace_content(
    conn: &mut AnyConnection,
    id: i64,
    version: Version,
    content: &[u8],
) -> QueryResult<()> {
    let digest = crate::crypto::sha256_hex(content);
    let (inhouse, written): (String, Option<String>) = attachments::table
        .find(id)
        .select((attachments::sha256, attachments::written_sha256))
        .get_result(conn)?;
    let old = match version {
        Version::Inhouse => Some(inhouse),
        Version::Written => written,
    };
    let insert = diesel::insert_into(attachment_contents::table)
        .values((
            attachment_contents::sha256.eq(&digest),
            attachment_contents::content.eq(content),
        ))
        .on_conflict(attachment_contents::sha256)
        .do_nothing();
    match conn {
        AnyConnection::Postgresql(pg) => insert.execute(pg)?,
        AnyConnection::Sqlite(lite) => insert.execute(lite)?,
    };
    let size = i64::try_from(content.len()).unwrap_or(i64::MAX);
    let row = attachments::table.find(id);
    match version {
        Version::Inhouse => diesel::update(row)
            .set((attachments::sha256.eq(&digest), attachments::size.eq(size)))
            .execute(conn)?,
        Version::Written => diesel::update(row)
            .set((
                attachments::written_sha256.eq(Some(&digest)),
                attachments::written_size.eq(Some(size)),
            ))
            .execute(conn)?,
    };
    if let Some(old) = old.filter(|o| *o != digest) {
        let still_used: i64 = attachments::table
            .filter(diesel::BoolExpressionMethods::or(
                attachments::sha256.eq(&old),
                attachments::written_sha256.eq(&old),
            ))
            .count()
            .get_result(conn)?;
        if still_used == 0 {
            diesel::delete(attachment_contents::table.find(&old)).execute(conn)?;
        }
    }
    Ok(())
}

/// A ticket's files, oldest first.
pub fn of_ticket(conn: &mut AnyConnection, ticket_id: i64) -> QueryResult<Vec<AttachmentRow>> {
    attachments::table
        .filter(attachments::ticket_id.eq(ticket_id))
        .order(attachments::id.asc())
        .select(AttachmentRow::as_select())
        .load(conn)
}

impl NewAttachment {
    /// The same file with other content (a contractor's text file with its tokens turned
    /// back into values).
    pub fn with_content(&self, content: Vec<u8>) -> Self {
        Self {
            sha256: crate::crypto::sha256_hex(&content),
            content: Arc::new(Sensitive(content)),
            ..self.clone()
        }
    }
}

/// A file as the in-house side finds it listed, in clear (a contractor's text file with its
/// tokens turned back into values).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    /// Gateway id.
    pub id: i64,
    /// The comment or reply it came with; absent for the ticket's own files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<i64>,
    /// Who attached it.
    pub origin: CommentOrigin,
    /// Its name.
    pub file_name: String,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: i64,
    /// SHA-256 of its content, hex.
    pub sha256: String,
    /// Where to download it (`GET`, in-house token).
    pub href: String,
}

impl AttachmentRow {
    /// The file as the in-house side finds it listed, under comment `comment_id`.
    pub fn view(&self, comment_id: Option<i64>) -> AttachmentView {
        AttachmentView {
            id: self.id,
            comment_id,
            origin: self.origin,
            file_name: self.file_name.clone(),
            media_type: self.media_type.clone(),
            size: self.size,
            sha256: self.sha256.clone(),
            href: format!("/api/v1/tickets/{}/attachments/{}", self.ticket_id, self.id),
        }
    }
}

/// A file's content, ready to be sent: what its download answers.
#[derive(Debug, Clone)]
pub struct FileDownload {
    /// The name to save it under.
    pub file_name: String,
    /// Its media type.
    pub media_type: String,
    /// The content.
    pub content: Vec<u8>,
}

/// File `id` of ticket `ticket_id`, in clear, for the in-house side.
pub fn inhouse_download(
    conn: &mut AnyConnection,
    ticket_id: i64,
    id: i64,
) -> Result<FileDownload, TicketError> {
    let row: AttachmentRow = attachments::table
        .find(id)
        .filter(attachments::ticket_id.eq(ticket_id))
        .select(AttachmentRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(TicketError::NotFound)?;
    Ok(FileDownload {
        content: content(conn, &row.sha256)?,
        file_name: row.file_name,
        media_type: row.media_type,
    })
}

/// The content stored under `sha256`.
pub fn content(conn: &mut AnyConnection, sha256: &str) -> Result<Vec<u8>, TicketError> {
    attachment_contents::table
        .find(sha256)
        .select(attachment_contents::content)
        .get_result(conn)
        .optional()?
        .ok_or_else(|| TicketError::Corrupt(format!("attachment content {sha256} is missing")))
}
