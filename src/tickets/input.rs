//! Tickets as the in-house side sends them, checked into [`NewTicket`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::TicketError;
use super::attachments::{AttachmentInput, MAX_ATTACHMENTS, NewAttachment, check_all};
use crate::model::{Channel, Priority, TicketStatus, is_identifier};
use crate::sensitive::Sensitive;

/// The requester as sent.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequesterInput {
    /// Full name.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Option<Sensitive<String>>,
    /// E-mail address.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub email: Option<Sensitive<String>>,
    /// Phone number.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Sensitive<String>>,
}

/// A comment as sent with a ticket or on its own.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"external_id": "c-2", "author": "Ольга Кузнецова", "body": "Клиент перезвонил: просит вернуть деньги на карту", "public": false}))]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    /// The helpdesk's id for the comment; re-sending it does not duplicate the comment.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Who wrote it.
    #[schema(value_type = String)]
    pub author: Sensitive<String>,
    /// Its text.
    #[schema(value_type = String)]
    pub body: Sensitive<String>,
    /// Visible to the customer.
    #[serde(default = "yes")]
    pub public: bool,
    /// When it was written; defaults to now.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// Files that came with it.
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
}

fn yes() -> bool {
    true
}

/// `POST /api/v1/tickets` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"source": "zendesk", "external_id": "48213", "subject": "Возврат за заказ 7781", "description": "Здравствуйте! Карта 4111 1111 1111 1111 списала дважды. Перезвоните: +7 912 345-67-89. Мария Иванова", "requester": {"name": "Мария Иванова", "email": "maria.ivanova@example.ru", "phone": "+79123456789"}, "channel": "email", "priority": "high", "category": "billing", "language": "ru", "tags": ["refund"], "custom_fields": {"plan": "pro"}, "status": "open", "comments": [{"external_id": "c-1", "author": "Мария Иванова", "body": "Жду ответа уже два дня", "public": true}]}))]
#[serde(deny_unknown_fields)]
pub struct TicketInput {
    /// The helpdesk the ticket comes from.
    pub source: String,
    /// The ticket's id there.
    pub external_id: String,
    /// Subject line.
    #[schema(value_type = String)]
    pub subject: Sensitive<String>,
    /// First message.
    #[serde(default)]
    #[schema(value_type = String)]
    pub description: Sensitive<String>,
    /// The customer.
    #[serde(default)]
    pub requester: RequesterInput,
    /// Channel.
    pub channel: Channel,
    /// Priority.
    pub priority: Priority,
    /// Category.
    #[serde(default)]
    pub category: Option<String>,
    /// Language (ISO 639-1).
    #[serde(default)]
    pub language: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Helpdesk-specific fields: name → scalar value.
    #[serde(default)]
    pub custom_fields: BTreeMap<String, Value>,
    /// Status in the helpdesk.
    #[serde(default = "new_status")]
    pub status: TicketStatus,
    /// Comments so far.
    #[serde(default)]
    pub comments: Vec<CommentInput>,
    /// Files attached to the ticket itself (files of a comment go with the comment).
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
    /// The customer's feedback on the contractor's work, when the helpdesk has it (recorded on
    /// the ticket's share, as `POST /api/v1/tickets/{id}/satisfaction` does).
    #[serde(default)]
    pub satisfaction: Option<super::FeedbackInput>,
}

fn new_status() -> TicketStatus {
    TicketStatus::New
}

/// A checked comment.
#[derive(Debug, Clone)]
pub struct NewComment {
    /// Stable key that makes re-sent comments idempotent.
    pub dedupe_key: String,
    /// Author.
    pub author: Sensitive<String>,
    /// Text.
    pub body: Sensitive<String>,
    /// Visible to the customer.
    pub public: bool,
    /// When written.
    pub created_at: Option<DateTime<Utc>>,
    /// Files that came with it.
    pub attachments: Vec<NewAttachment>,
}

/// A checked ticket, ready to store.
#[derive(Debug, Clone)]
pub struct NewTicket {
    /// Source helpdesk.
    pub source: String,
    /// Id there.
    pub external_id: String,
    /// Subject.
    pub subject: Sensitive<String>,
    /// Description.
    pub description: Sensitive<String>,
    /// Requester name.
    pub requester_name: Option<Sensitive<String>>,
    /// Requester e-mail.
    pub requester_email: Option<Sensitive<String>>,
    /// Requester phone.
    pub requester_phone: Option<Sensitive<String>>,
    /// Channel.
    pub channel: Channel,
    /// Priority.
    pub priority: Priority,
    /// Category, lower-case.
    pub category: Option<String>,
    /// Language, lower-case.
    pub language: Option<String>,
    /// Tags, lower-case, unique.
    pub tags: Vec<String>,
    /// Custom fields.
    pub custom_fields: BTreeMap<String, Value>,
    /// Status.
    pub status: TicketStatus,
    /// Comments.
    pub comments: Vec<NewComment>,
    /// Files attached to the ticket itself.
    pub attachments: Vec<NewAttachment>,
    /// The customer's feedback, checked.
    pub satisfaction: Option<super::FeedbackInput>,
}

const MAX_KEY: usize = 200;
const MAX_SUBJECT: usize = 1_000;
const MAX_TEXT: usize = 256 * 1024;
const MAX_TAGS: usize = 100;

fn invalid(field: impl Into<String>, message: impl Into<String>) -> TicketError {
    TicketError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// A helpdesk key (`external_id`, `source`): trimmed, 1–200 characters, no control characters.
pub(super) fn key(field: &str, value: &str) -> Result<String, TicketError> {
    let v = value.trim();
    if v.is_empty() || v.len() > MAX_KEY || v.chars().any(char::is_control) {
        return Err(invalid(
            field,
            format!("must be 1–{MAX_KEY} characters without control characters"),
        ));
    }
    Ok(v.to_owned())
}

fn text(
    field: &str,
    value: Sensitive<String>,
    max: usize,
    required: bool,
) -> Result<Sensitive<String>, TicketError> {
    if required && value.expose().trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.expose().len() > max {
        return Err(invalid(field, format!("is longer than {max} bytes")));
    }
    Ok(value)
}

fn optional(
    field: &str,
    value: Option<Sensitive<String>>,
) -> Result<Option<Sensitive<String>>, TicketError> {
    match value {
        Some(v) if v.expose().trim().is_empty() => Ok(None),
        Some(v) => text(field, v, MAX_KEY, false).map(Some),
        None => Ok(None),
    }
}

fn label(field: &str, value: Option<String>) -> Result<Option<String>, TicketError> {
    value
        .map(|v| {
            let v = v.trim().to_lowercase();
            if v.is_empty()
                || v.len() > 64
                || v.chars()
                    .any(|c| c.is_control() || c.is_whitespace() && c != ' ')
            {
                Err(invalid(field, "must be 1–64 printable characters"))
            } else {
                Ok(v)
            }
        })
        .transpose()
}

impl CommentInput {
    /// Checks the comment; `index` names it in errors, `prefix` is its field path.
    pub fn check(self, prefix: &str) -> Result<NewComment, TicketError> {
        let author = text(&format!("{prefix}.author"), self.author, MAX_KEY, true)?;
        let body = text(&format!("{prefix}.body"), self.body, MAX_TEXT, true)?;
        let dedupe_key = match self.external_id {
            Some(id) => format!("ext:{}", key(&format!("{prefix}.external_id"), &id)?),
            // Without an id, the same author, time and text is the same comment.
            None => format!(
                "sum:{}",
                crate::contracts::sha256_hex(
                    &serde_json::json!([
                        author.expose(),
                        self.created_at.map(|t| t.to_rfc3339()),
                        body.expose()
                    ])
                    .to_string()
                )
            ),
        };
        let attachments = check_all(
            self.attachments,
            &format!("{prefix}.attachments"),
            &dedupe_key,
        )?;
        Ok(NewComment {
            dedupe_key,
            author,
            body,
            public: self.public,
            created_at: self.created_at,
            attachments,
        })
    }
}

impl NewTicket {
    /// A digest (sha256, hex) of everything the helpdesk sent: every field and every comment,
    /// in order. Equal digests mean a re-push that changes nothing.
    pub fn fingerprint(&self) -> String {
        let expose = |v: &Option<Sensitive<String>>| v.as_ref().map(|s| s.expose().clone());
        let files = |files: &[NewAttachment]| -> Vec<Value> {
            files
                .iter()
                .map(|f| {
                    serde_json::json!([f.dedupe_key, f.file_name.expose(), f.media_type, f.sha256])
                })
                .collect()
        };
        let comments: Vec<Value> = self
            .comments
            .iter()
            .map(|c| {
                serde_json::json!([
                    c.dedupe_key,
                    c.author.expose(),
                    c.body.expose(),
                    c.public,
                    c.created_at,
                    files(&c.attachments),
                ])
            })
            .collect();
        let all = serde_json::json!([
            self.subject.expose(),
            self.description.expose(),
            expose(&self.requester_name),
            expose(&self.requester_email),
            expose(&self.requester_phone),
            self.channel,
            self.priority,
            self.category,
            self.language,
            self.tags,
            self.custom_fields,
            self.status,
            comments,
            files(&self.attachments),
            self.satisfaction,
        ]);
        crate::contracts::sha256_hex(&all.to_string())
    }
}

impl TryFrom<TicketInput> for NewTicket {
    type Error = TicketError;

    fn try_from(t: TicketInput) -> Result<Self, TicketError> {
        let language = label("language", t.language)?;
        if let Some(lang) = &language {
            let ok = (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_lowercase());
            if !ok {
                return Err(invalid(
                    "language",
                    "must be an ISO 639 code such as `ru` or `en`",
                ));
            }
        }
        if t.tags.len() > MAX_TAGS {
            return Err(invalid("tags", format!("at most {MAX_TAGS} tags")));
        }
        let mut tags = Vec::with_capacity(t.tags.len());
        for (i, tag) in t.tags.into_iter().enumerate() {
            if let Some(tag) = label(&format!("tags[{i}]"), Some(tag))?
                && !tags.contains(&tag)
            {
                tags.push(tag);
            }
        }
        for (name, value) in &t.custom_fields {
            if !is_identifier(name) {
                return Err(invalid(
                    format!("custom_fields.{name}"),
                    "names are lower-case letters, digits, `-`, `_`, `.`",
                ));
            }
            if value.is_object() || value.is_array() {
                return Err(invalid(
                    format!("custom_fields.{name}"),
                    "must be a string, number, boolean or null",
                ));
            }
        }
        if let Some(email) = &t.requester.email
            && !email.expose().contains('@')
        {
            return Err(invalid("requester.email", "is not an e-mail address"));
        }
        let comments = t
            .comments
            .into_iter()
            .enumerate()
            .map(|(i, c)| c.check(&format!("comments[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let attachments = check_all(t.attachments, "attachments", "")?;
        let files = attachments.len() + comments.iter().map(|c| c.attachments.len()).sum::<usize>();
        if files > MAX_ATTACHMENTS {
            return Err(invalid(
                "attachments",
                format!("at most {MAX_ATTACHMENTS} files in one push, with its comments'"),
            ));
        }
        if let Some(feedback) = &t.satisfaction {
            feedback.check().map_err(|e| match e {
                TicketError::Invalid { field, message } => TicketError::Invalid {
                    field: format!("satisfaction.{field}"),
                    message,
                },
                other => other,
            })?;
        }
        Ok(Self {
            source: key("source", &t.source)?,
            external_id: key("external_id", &t.external_id)?,
            subject: text("subject", t.subject, MAX_SUBJECT, true)?,
            description: text("description", t.description, MAX_TEXT, false)?,
            requester_name: optional("requester.name", t.requester.name)?,
            requester_email: optional("requester.email", t.requester.email)?,
            requester_phone: optional("requester.phone", t.requester.phone)?,
            channel: t.channel,
            priority: t.priority,
            category: label("category", t.category)?,
            language,
            tags,
            custom_fields: t.custom_fields,
            status: t.status,
            comments,
            attachments,
            satisfaction: t.satisfaction,
        })
    }
}
