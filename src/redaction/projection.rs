//! The field projection: a ticket as one contract lets its contractor see it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

use super::attachments::{
    self, Disposition, Plan, ProjectedAttachment, SentContent, SourceAttachment, Withheld,
};
use super::engine::{EntityCounts, RedactionError, Redactor};
use super::vault::Vault;
use crate::contracts::{CommentVisibility, Confidentiality, FieldAction};

/// A ticket's fields before projection, by field path (`subject`, `requester.email`,
/// `custom_fields.order_id`, …). Absent or null fields are simply not listed.
#[derive(Debug, Clone, Default)]
pub struct SourceTicket {
    /// Field path → value.
    pub fields: BTreeMap<String, Value>,
    /// Comments, oldest first.
    pub comments: Vec<SourceComment>,
    /// Files of the ticket and of the comments above, oldest first.
    pub attachments: Vec<SourceAttachment>,
    /// The customer's feedback on the reading contractor's work.
    pub feedback: Vec<SourceFeedback>,
}

/// Customer feedback before projection.
#[derive(Debug, Clone)]
pub struct SourceFeedback {
    /// `csat` or `nps`.
    pub kind: &'static str,
    /// The score.
    pub score: i32,
    /// The customer's words, as written.
    pub comment: Option<String>,
    /// When given (RFC 3339).
    pub rated_at: String,
}

/// Customer feedback as the contractor sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectedFeedback {
    /// `csat` (1–5) or `nps` (0–10).
    pub kind: &'static str,
    /// The score.
    pub score: i32,
    /// The customer's words, redacted as an in-house public comment is; absent when there are
    /// none or the contract shows no comments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// When given (RFC 3339).
    pub rated_at: String,
}

/// A comment before projection.
#[derive(Debug, Clone)]
pub struct SourceComment {
    /// Gateway comment id.
    pub id: i64,
    /// Who wrote it.
    pub author: String,
    /// Its text.
    pub body: String,
    /// Visible to the customer.
    pub public: bool,
    /// Written by this share's contractor (its own reply).
    pub from_contractor: bool,
    /// `body` is the contractor's own reply exactly as it wrote it (before its tokens were
    /// re-hydrated): shown to it unchanged, never scanned. Re-redacting re-hydrated text would
    /// let a value glued to other characters through, and a hash of a value the contractor
    /// wrote itself would confirm a guess.
    pub as_written: bool,
    /// When it was written (RFC 3339).
    pub created_at: String,
}

/// What was disclosed, for the audit ledger: names and counts, never values.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Receipt {
    /// Fields sent (possibly with parts redacted).
    pub fields_sent: Vec<String>,
    /// Fields present on the ticket but not sent, with the contract's action for each.
    pub fields_withheld: BTreeMap<String, FieldAction>,
    /// In-house comments sent.
    pub comments_sent: usize,
    /// In-house comments not sent.
    pub comments_withheld: usize,
    /// In-house files sent (redacted or as they are).
    pub attachments_sent: usize,
    /// In-house files not sent (the contractor sees those of shown comments listed as
    /// withheld).
    pub attachments_withheld: usize,
    /// Personal data found, by kind, and the action applied, with counts.
    #[schema(value_type = std::collections::BTreeMap<String, std::collections::BTreeMap<FieldAction, usize>>)]
    pub entities: EntityCounts,
}

/// The contractor's view and its receipt.
#[derive(Debug, Clone)]
pub struct Projection {
    /// The fields the contractor may see, nested by path.
    pub body: Map<String, Value>,
    /// What was sent and withheld.
    pub receipt: Receipt,
    /// The vault tokens this view holds: the only ones its contractor can have been given for
    /// this ticket, and so the only ones a reply on it may turn back into values.
    pub tokens: BTreeSet<String>,
    /// The files listed in `body`.
    pub attachments: Vec<ProjectedAttachment>,
    /// What a download of each file sent gives, by file id.
    pub files: BTreeMap<i64, SentContent>,
}

/// The fields of a ticket as one contract lets its contractor see them, nested by path
/// (`requester.email` under `requester`). Which fields are present is the contract's choice,
/// so the type is a map; its schema lists every field the gateway can send.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ProjectedFields(pub Map<String, Value>);

impl utoipa::PartialSchema for ProjectedFields {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
        let text = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
        };
        let requester = ObjectBuilder::new()
            .property(
                "name",
                text("The customer's name, if the contract lets it leave."),
            )
            .property(
                "email",
                text("E-mail address, if the contract lets it leave."),
            )
            .property(
                "phone",
                text("Phone number, if the contract lets it leave."),
            );
        let tags = OneOfBuilder::new()
            .item(ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)))
            .item(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(
                "Tags; one text when the contract masks, hashes or tokenises the list as a whole.",
            ));
        let custom_fields = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("The custom fields the contract lets leave, by name."));
        let attachments = ArrayBuilder::new()
            .items(ProjectedAttachment::schema())
            .description(Some(
                "Files of the ticket and of the comments shown, each redacted, as it is, or \
                 listed as withheld; absent when none.",
            ));
        let feedback = ArrayBuilder::new()
            .items(ProjectedFeedback::schema())
            .description(Some(
                "The customer's feedback on this contractor's work (CSAT, NPS); absent when none.",
            ));
        let comments = ArrayBuilder::new()
            .items(ProjectedComment::schema())
            .description(Some(
                "Comments the contract shows, oldest first; absent when none.",
            ));
        let description = "Free text and values, scanned and treated per the contract: a \
                           masked, hashed or tokenised value is text, whatever it was.";
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "The ticket's fields the contract lets leave: a field it drops is absent.",
            ))
            .property("subject", text("Subject line."))
            .property("description", text(description))
            .property("requester", requester)
            .property("channel", text("How the customer wrote in."))
            .property("priority", text("Priority."))
            .property("category", text("Category."))
            .property("language", text("Language (BCP 47)."))
            .property("tags", tags)
            .property("status", text("The in-house status."))
            .property(
                "created_at",
                text("When the ticket was first stored (RFC 3339)."),
            )
            .property("custom_fields", custom_fields)
            .property("comments", comments)
            .property("attachments", attachments)
            .property("feedback", feedback)
            .into()
    }
}

impl utoipa::ToSchema for ProjectedFields {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push(("ProjectedComment".into(), ProjectedComment::schema()));
        schemas.push(("ProjectedAttachment".into(), ProjectedAttachment::schema()));
        schemas.push(("ProjectedFeedback".into(), ProjectedFeedback::schema()));
        schemas.push(("Disposition".into(), Disposition::schema()));
        schemas.push(("Withheld".into(), Withheld::schema()));
    }
}

/// A comment as the contractor sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectedComment {
    /// Gateway comment id.
    pub id: i64,
    /// `in-house` for the company's comments; the contractor's own name on its replies.
    pub author: String,
    /// The text, redacted per the contract (the contractor's own replies as it wrote them).
    pub body: String,
    /// Visible to the customer.
    pub public: bool,
    /// This contractor's own reply.
    pub from_contractor: bool,
    /// When written (RFC 3339).
    pub created_at: String,
}

/// Projects `ticket` through `policy`: unlisted and `drop` fields are left out, free text
/// marked `mask`, `hash`, `tokenize` or `redact` is scanned and what it holds is treated per
/// kind, and other fields get their action as a whole. Any failure fails the whole
/// projection: nothing partial is ever shown.
pub fn project(
    ticket: &SourceTicket,
    policy: &Confidentiality,
    vault: &mut Vault<'_>,
) -> Result<Projection, RedactionError> {
    let redactor = Redactor::new(policy, &ticket.fields);
    let mut body = Map::new();
    let mut receipt = Receipt::default();
    for (path, value) in &ticket.fields {
        if value.is_null() {
            continue;
        }
        let action = policy.action_for(path);
        let projected = match (value, policy.is_free_text(path)) {
            (Value::String(text), true)
                if !matches!(action, FieldAction::Raw | FieldAction::Drop) =>
            {
                Some(Value::String(redactor.text(
                    path,
                    action,
                    text,
                    vault,
                    &mut receipt.entities,
                )?))
            }
            _ => redactor.value(path, action, value, vault, &mut receipt.entities)?,
        };
        match projected {
            Some(v) => {
                insert_path(&mut body, path, v);
                receipt.fields_sent.push(path.clone());
            }
            None => {
                receipt.fields_withheld.insert(path.clone(), action);
            }
        }
    }
    let comments = project_comments(ticket, policy, &redactor, vault, &mut receipt)?;
    let shown: BTreeSet<i64> = comments.iter().map(|c| c.id).collect();
    if !comments.is_empty() {
        body.insert("comments".into(), serde_json::json!(comments));
    }
    let feedback = project_feedback(ticket, policy, &redactor, vault, &mut receipt)?;
    if !feedback.is_empty() {
        body.insert("feedback".into(), serde_json::json!(feedback));
    }
    let (listed, files) =
        project_attachments(ticket, policy, &redactor, &shown, vault, &mut receipt)?;
    if !listed.is_empty() {
        body.insert("attachments".into(), serde_json::json!(listed));
    }
    Ok(Projection {
        body,
        receipt,
        tokens: vault.tokens_handed_out(),
        attachments: listed,
        files,
    })
}

/// The files the contractor sees listed, and what downloading each sent one gives. Files of
/// comments it is not shown are not listed (that would tell the comment is there), only
/// counted as withheld.
fn project_attachments(
    ticket: &SourceTicket,
    policy: &Confidentiality,
    redactor: &Redactor<'_>,
    shown_comments: &BTreeSet<i64>,
    vault: &mut Vault<'_>,
    receipt: &mut Receipt,
) -> Result<(Vec<ProjectedAttachment>, BTreeMap<i64, SentContent>), RedactionError> {
    let mut listed = Vec::new();
    let mut files = BTreeMap::new();
    for a in &ticket.attachments {
        if a.comment_id.is_some_and(|c| !shown_comments.contains(&c)) {
            receipt.attachments_withheld += usize::from(!a.own);
            continue;
        }
        let plan = if a.own {
            Plan::Pass
        } else {
            attachments::plan(&policy.attachments, &a.media_type)
        };
        let sent = match plan {
            Plan::Withhold(why) => Err(why),
            Plan::Pass => Ok(SentContent::Stored(a.sha256.clone())),
            Plan::Scan => {
                let content = a.content.as_deref().map(Vec::as_slice).unwrap_or_default();
                match attachments::redact_text(redactor, content, vault)? {
                    Some((text, found)) => {
                        attachments::add_counts(&mut receipt.entities, &found);
                        let text = std::sync::Arc::new(text);
                        Ok(SentContent::Redacted { text, found })
                    }
                    None => Err(Withheld::NotScannable),
                }
            }
        };
        let file_name = if a.own {
            a.file_name.clone()
        } else {
            let (field, action) = ("attachments.file_name", FieldAction::Redact);
            redactor.text(field, action, &a.file_name, vault, &mut receipt.entities)?
        };
        let mut shown = ProjectedAttachment {
            id: a.id,
            comment_id: a.comment_id,
            file_name,
            media_type: a.media_type.clone(),
            disposition: Disposition::Withheld,
            withheld: None,
            size: None,
            sha256: None,
        };
        match sent {
            Err(why) => {
                shown.withheld = Some(why);
                receipt.attachments_withheld += usize::from(!a.own);
            }
            Ok(content) => {
                let (disposition, size, sha256) = match &content {
                    SentContent::Redacted { text, .. } => (
                        Disposition::Redacted,
                        text.len() as i64,
                        crate::crypto::sha256_hex(text),
                    ),
                    SentContent::Stored(sha256) => (Disposition::Original, a.size, sha256.clone()),
                };
                shown.disposition = disposition;
                shown.size = Some(size);
                shown.sha256 = Some(sha256);
                receipt.attachments_sent += usize::from(!a.own);
                files.insert(a.id, content);
            }
        }
        listed.push(shown);
    }
    Ok((listed, files))
}

/// The customer's feedback: scores as they are, words only where the contract shows the
/// customer's public comments, and then redacted as those are.
fn project_feedback(
    ticket: &SourceTicket,
    policy: &Confidentiality,
    redactor: &Redactor<'_>,
    vault: &mut Vault<'_>,
    receipt: &mut Receipt,
) -> Result<Vec<ProjectedFeedback>, RedactionError> {
    let action = policy.action_for("comments");
    let words_shown = action != FieldAction::Drop && policy.comments != CommentVisibility::None;
    let mut out = Vec::with_capacity(ticket.feedback.len());
    for f in &ticket.feedback {
        let comment = match &f.comment {
            Some(words) if words_shown && action == FieldAction::Raw => Some(words.clone()),
            Some(words) if words_shown => {
                Some(redactor.text("comments", action, words, vault, &mut receipt.entities)?)
            }
            _ => None,
        };
        out.push(ProjectedFeedback {
            kind: f.kind,
            score: f.score,
            comment,
            rated_at: f.rated_at.clone(),
        });
    }
    Ok(out)
}

fn project_comments(
    ticket: &SourceTicket,
    policy: &Confidentiality,
    redactor: &Redactor<'_>,
    vault: &mut Vault<'_>,
    receipt: &mut Receipt,
) -> Result<Vec<ProjectedComment>, RedactionError> {
    let action = policy.action_for("comments");
    let mut out = Vec::new();
    for c in &ticket.comments {
        let visible = c.from_contractor
            || (action != FieldAction::Drop
                && match policy.comments {
                    CommentVisibility::None => false,
                    CommentVisibility::PublicOnly => c.public,
                    CommentVisibility::All => true,
                });
        if !visible {
            receipt.comments_withheld += 1;
            continue;
        }
        let body = if c.as_written || action == FieldAction::Raw {
            c.body.clone()
        } else {
            // `drop` only lets the contractor's own replies through (those stored before
            // their original was kept), and those scanned.
            let action = if action == FieldAction::Drop {
                FieldAction::Redact
            } else {
                action
            };
            redactor.text("comments", action, &c.body, vault, &mut receipt.entities)?
        };
        if !c.from_contractor {
            receipt.comments_sent += 1;
        }
        out.push(ProjectedComment {
            id: c.id,
            author: if c.from_contractor {
                c.author.clone()
            } else {
                "in-house".to_owned()
            },
            body,
            public: c.public,
            from_contractor: c.from_contractor,
            created_at: c.created_at.clone(),
        });
    }
    Ok(out)
}

/// Inserts `value` at a dotted path, creating objects on the way.
fn insert_path(body: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            body.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let child = body
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(map) = child {
                map.insert(rest.to_owned(), value);
            }
        }
    }
}
