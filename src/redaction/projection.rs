//! The field projection: a ticket as one contract lets its contractor see it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

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
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Receipt {
    /// Fields sent (possibly with parts redacted).
    pub fields_sent: Vec<String>,
    /// Fields present on the ticket but not sent, with the contract's action for each.
    pub fields_withheld: BTreeMap<String, FieldAction>,
    /// In-house comments sent.
    pub comments_sent: usize,
    /// In-house comments not sent.
    pub comments_withheld: usize,
    /// Personal data found, by kind, and the action applied, with counts.
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
    if !comments.is_empty() {
        body.insert("comments".into(), Value::Array(comments));
    }
    Ok(Projection {
        body,
        receipt,
        tokens: vault.tokens_handed_out(),
    })
}

fn project_comments(
    ticket: &SourceTicket,
    policy: &Confidentiality,
    redactor: &Redactor<'_>,
    vault: &mut Vault<'_>,
    receipt: &mut Receipt,
) -> Result<Vec<Value>, RedactionError> {
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
        out.push(serde_json::json!({
            "id": c.id,
            "author": if c.from_contractor { c.author.as_str() } else { "in-house" },
            "body": body,
            "public": c.public,
            "from_contractor": c.from_contractor,
            "created_at": c.created_at,
        }));
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
