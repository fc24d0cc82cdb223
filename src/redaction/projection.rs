//! The field projection: a ticket as one contract lets its contractor see it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

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
    /// When it was written (RFC 3339).
    pub created_at: String,
}

/// What was disclosed, for the audit ledger: names and counts, never values.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Receipt {
    /// Fields sent.
    pub fields_sent: Vec<String>,
    /// Fields present on the ticket but not sent, with the contract's action for each.
    pub fields_withheld: BTreeMap<String, FieldAction>,
    /// In-house comments sent.
    pub comments_sent: usize,
    /// In-house comments not sent.
    pub comments_withheld: usize,
}

/// The contractor's view and its receipt.
#[derive(Debug, Clone)]
pub struct Projection {
    /// The fields the contractor may see, nested by path.
    pub body: Map<String, Value>,
    /// What was sent and withheld.
    pub receipt: Receipt,
}

/// Projects `ticket` through `policy`. Only `pass` fields are copied; fields awaiting
/// redaction are listed by name under `withheld` so the contractor knows they exist.
pub fn project(ticket: &SourceTicket, policy: &Confidentiality) -> Projection {
    let mut body = Map::new();
    let mut receipt = Receipt::default();
    let mut pending = Vec::new();
    for (path, value) in &ticket.fields {
        if value.is_null() {
            continue;
        }
        match policy.action_for(path) {
            FieldAction::Pass => {
                insert_path(&mut body, path, value.clone());
                receipt.fields_sent.push(path.clone());
            }
            FieldAction::Drop => {
                receipt
                    .fields_withheld
                    .insert(path.clone(), FieldAction::Drop);
            }
            other => {
                receipt.fields_withheld.insert(path.clone(), other);
                pending.push(Value::String(path.clone()));
            }
        }
    }
    let comments = project_comments(ticket, policy, &mut receipt, &mut pending);
    if !comments.is_empty() {
        body.insert("comments".into(), Value::Array(comments));
    }
    body.insert("withheld".into(), Value::Array(pending));
    Projection { body, receipt }
}

fn project_comments(
    ticket: &SourceTicket,
    policy: &Confidentiality,
    receipt: &mut Receipt,
    pending: &mut Vec<Value>,
) -> Vec<Value> {
    let bodies_pass = policy.action_for("comments") == FieldAction::Pass;
    let mut out = Vec::new();
    let mut withheld_for_redaction = false;
    for c in &ticket.comments {
        let visible = c.from_contractor
            || match policy.comments {
                CommentVisibility::None => false,
                CommentVisibility::PublicOnly => c.public,
                CommentVisibility::All => true,
            };
        if !visible {
            receipt.comments_withheld += 1;
            continue;
        }
        if !c.from_contractor && !bodies_pass {
            receipt.comments_withheld += 1;
            withheld_for_redaction |= policy.action_for("comments") != FieldAction::Drop;
            continue;
        }
        if !c.from_contractor {
            receipt.comments_sent += 1;
        }
        out.push(serde_json::json!({
            "id": c.id,
            "author": if c.from_contractor { c.author.as_str() } else { "in-house" },
            "body": c.body,
            "public": c.public,
            "from_contractor": c.from_contractor,
            "created_at": c.created_at,
        }));
    }
    if withheld_for_redaction {
        pending.push(Value::String("comments".into()));
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contracts::parse_contract;
    use serde_json::json;

    fn policy(fields: &str, comments: &str) -> Confidentiality {
        let text = format!(
            r#"
id = "c"
contractor = "acme"
display_name = "Acme"
valid_from = "2026-01-01"
timezone = "UTC"
[scope]
channels = ["email"]
priorities = ["normal"]
[overflow]
mode = "always"
max_open = 5
[sla]
calendar = {{ always_open = true }}
targets = [{{ priority = "normal", first_response = "1h", resolution = "1d" }}]
[confidentiality]
fields = {{ {fields} }}
comments = "{comments}"
retention_days = 30
[reporting]
schedule = "@daily"
formats = ["json"]
locale = "en"
"#
        );
        parse_contract("c.toml", &text)
            .unwrap_or_else(|p| panic!("{p:?}"))
            .confidentiality
    }

    fn ticket() -> SourceTicket {
        let mut fields = BTreeMap::new();
        fields.insert("subject".into(), json!("Refund for order 1234"));
        fields.insert("description".into(), json!("Call me on +7 912 345-67-89"));
        fields.insert("requester.name".into(), json!("Мария Иванова"));
        fields.insert("requester.email".into(), json!("maria@example.ru"));
        fields.insert("channel".into(), json!("email"));
        fields.insert("custom_fields.order_id".into(), json!("1234"));
        fields.insert("custom_fields.card".into(), json!("4111111111111111"));
        let comment = |id, public, from_contractor| SourceComment {
            id,
            author: "agent".into(),
            body: format!("comment {id}"),
            public,
            from_contractor,
            created_at: "2026-01-01T00:00:00Z".into(),
        };
        SourceTicket {
            fields,
            comments: vec![
                comment(1, true, false),
                comment(2, false, false),
                comment(3, true, true),
            ],
        }
    }

    #[test]
    fn only_pass_fields_leave_and_the_rest_is_withheld_or_dropped() {
        let p = project(
            &ticket(),
            &policy(
                r#"subject = "pass", description = "redact", "requester.name" = "pass", "requester.email" = "tokenize", channel = "pass", "custom_fields.order_id" = "pass""#,
                "none",
            ),
        );
        let text = serde_json::to_string(&p.body).unwrap_or_default();
        assert_eq!(p.body["subject"], json!("Refund for order 1234"));
        assert_eq!(p.body["requester"], json!({"name": "Мария Иванова"}));
        assert_eq!(p.body["custom_fields"], json!({"order_id": "1234"}));
        for secret in ["+7 912", "maria@example.ru", "4111111111111111"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert_eq!(
            p.body["withheld"],
            json!(["description", "requester.email"])
        );
        assert_eq!(
            p.receipt.fields_withheld.get("custom_fields.card"),
            Some(&FieldAction::Drop)
        );
        assert_eq!(
            p.receipt.fields_sent,
            [
                "channel",
                "custom_fields.order_id",
                "requester.name",
                "subject"
            ]
        );
    }

    #[test]
    fn comments_follow_visibility_and_body_action() {
        let public = project(&ticket(), &policy(r#"comments = "pass""#, "public_only"));
        let ids: Vec<_> = public.body["comments"]
            .as_array()
            .map(|a| a.iter().map(|c| c["id"].clone()).collect())
            .unwrap_or_default();
        assert_eq!(ids, vec![json!(1), json!(3)]);
        assert_eq!(
            (
                public.receipt.comments_sent,
                public.receipt.comments_withheld
            ),
            (1, 1)
        );

        let all = project(&ticket(), &policy(r#"comments = "pass""#, "all"));
        assert_eq!(all.receipt.comments_sent, 2);

        // Bodies awaiting redaction are withheld; the contractor still sees its own reply.
        let pending = project(&ticket(), &policy(r#"comments = "redact""#, "all"));
        assert_eq!(pending.body["comments"].as_array().map(Vec::len), Some(1));
        assert!(
            pending.body["withheld"]
                .as_array()
                .is_some_and(|w| w.contains(&json!("comments")))
        );
    }
}
