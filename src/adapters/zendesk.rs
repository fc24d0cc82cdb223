//! Zendesk Support: its ticket object as the REST API (`GET /api/v2/tickets/{id}.json`) and
//! webhooks carry it, with `requester` and `comments` side-loaded when present, and ticket
//! updates as `PUT /api/v2/tickets/{id}.json` takes them.

use serde_json::{Map, Value, json};

use super::{AdapterError, Helpdesk, internal_form};
use crate::tickets::TicketInput;

/// Zendesk Support.
pub struct Zendesk;

/// Zendesk `via.channel` → our channel.
fn channel(via: Option<&str>) -> &'static str {
    match via {
        Some("email") => "email",
        Some("chat" | "native_messaging" | "messaging" | "sunshine_conversations_api") => "chat",
        Some("voice" | "phone" | "sms") => "phone",
        Some("api") => "api",
        Some("twitter" | "facebook" | "instagram_dm" | "whatsapp" | "telegram" | "line") => {
            "social"
        }
        _ => "web",
    }
}

/// Zendesk status → ours (`hold` is our `on_hold`).
fn status(zendesk: Option<&str>) -> Result<&'static str, AdapterError> {
    Ok(match zendesk {
        None | Some("new") => "new",
        Some("open") => "open",
        Some("pending") => "pending",
        Some("hold") => "on_hold",
        Some("solved") => "solved",
        Some("closed") => "closed",
        // The value is not repeated: it may be anything, personal data included.
        Some(_) => {
            return Err(AdapterError::at(
                "unknown_value",
                "ticket.status",
                "unknown Zendesk status, expected new, open, pending, hold, solved or closed",
            ));
        }
    })
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// A comment's file as Zendesk lists it: the gateway fetches its `content_url` (see
/// [`crate::tickets::attachments::AttachmentInput::url`]).
fn file(a: &Value) -> Value {
    json!({
        "external_id": text(a.get("id")).map(|id| format!("zendesk-attachment-{id}")),
        "file_name": a.get("file_name").cloned().unwrap_or(Value::Null),
        "media_type": a.get("content_type").cloned().unwrap_or(json!("application/octet-stream")),
        "url": a.get("content_url").cloned().unwrap_or(Value::Null),
    })
}

/// Zendesk's `satisfaction_rating` as feedback: its CSAT is good or bad, read as 5 and 1 on
/// the gateway's 1–5 scale; `offered` and `unoffered` are no answer yet.
fn satisfaction(rating: Option<&Value>) -> Value {
    let Some(rating) = rating.filter(|r| r.is_object()) else {
        return Value::Null;
    };
    let score = match rating.get("score").and_then(Value::as_str) {
        Some("good") => 5,
        Some("bad") => 1,
        _ => return Value::Null,
    };
    json!({
        "score": score,
        "comment": rating.get("comment").filter(|c| c.is_string()).cloned().unwrap_or(Value::Null),
    })
}

impl Helpdesk for Zendesk {
    fn name(&self) -> &'static str {
        "zendesk"
    }

    fn ticket(&self, payload: Value) -> Result<TicketInput, AdapterError> {
        // A webhook or API answer wraps the ticket in `ticket`; a bare object is accepted too.
        let mut payload = payload;
        let ticket = match payload.get_mut("ticket") {
            Some(t) => t.take(),
            None => payload,
        };
        let Value::Object(t) = ticket else {
            return Err(AdapterError::at(
                "wrong_type",
                "ticket",
                "expected a Zendesk ticket object",
            ));
        };
        let id = text(t.get("id")).ok_or_else(|| {
            AdapterError::at("missing_field", "ticket.id", "missing or not a number")
        })?;
        let requester = t.get("requester").cloned().unwrap_or(Value::Null);
        let language = text(requester.get("locale"))
            .and_then(|l| l.split(['-', '_']).next().map(str::to_ascii_lowercase));
        let custom_fields: Map<String, Value> = t
            .get("custom_fields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| {
                let value = f.get("value")?;
                let id = text(f.get("id"))?;
                (!value.is_null()).then(|| (id, value.clone()))
            })
            .collect();
        let comments: Vec<Value> = t
            .get("comments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| {
                json!({
                    "external_id": text(c.get("id")),
                    "author": text(c.get("author").and_then(|a| a.get("name")))
                        .or_else(|| text(c.get("author_id")))
                        .unwrap_or_else(|| "zendesk".into()),
                    "body": c.get("plain_body").or_else(|| c.get("body")).cloned().unwrap_or(Value::Null),
                    "public": c.get("public").cloned().unwrap_or(Value::Bool(true)),
                    "created_at": c.get("created_at").cloned().unwrap_or(Value::Null),
                    "attachments": c.get("attachments").and_then(Value::as_array)
                        .into_iter().flatten().map(file).collect::<Vec<_>>(),
                })
            })
            .collect();
        let via = t
            .get("via")
            .and_then(|v| v.get("channel"))
            .and_then(Value::as_str);
        internal_form(json!({
            "source": "zendesk",
            "external_id": id,
            "subject": t.get("subject").or_else(|| t.get("raw_subject")).cloned().unwrap_or(Value::Null),
            "description": t.get("description").cloned().unwrap_or(json!("")),
            "requester": {
                "name": requester.get("name").cloned().unwrap_or(Value::Null),
                "email": requester.get("email").cloned().unwrap_or(Value::Null),
                "phone": requester.get("phone").cloned().unwrap_or(Value::Null),
            },
            "channel": channel(via),
            "priority": t.get("priority").filter(|p| !p.is_null()).cloned().unwrap_or(json!("normal")),
            "category": t.get("type").filter(|p| !p.is_null()).cloned().unwrap_or(Value::Null),
            "language": language,
            "tags": t.get("tags").cloned().unwrap_or(json!([])),
            "custom_fields": custom_fields,
            "status": status(t.get("status").and_then(Value::as_str))?,
            "comments": comments,
            "satisfaction": satisfaction(t.get("satisfaction_rating")),
        }))
    }

    fn update(&self, event_type: &str, data: &Value) -> Option<Value> {
        fn zendesk_status(ours: &str) -> &str {
            match ours {
                "on_hold" => "hold",
                "handed_back" | "recalled" => "open",
                other => other,
            }
        }
        let ticket = match event_type {
            "share.replied" => json!({
                "comment": { "body": data.get("body")?, "public": data.get("public")? },
            }),
            "share.status" => json!({ "status": zendesk_status(data.get("to")?.as_str()?) }),
            "share.handed_back" => json!({
                "status": "open",
                "comment": {
                    "body": format!("Handed back by the contractor: {}", data.get("reason")?.as_str()?),
                    "public": false,
                },
            }),
            "sla.escalated" => json!({ "priority": "urgent", "tags": ["sla_breach"] }),
            _ => return None,
        };
        Some(json!({ "ticket": ticket }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Value {
        // The shape of Zendesk's "Show ticket" answer, with requester and comments side-loaded.
        json!({ "ticket": {
            "id": 35436,
            "subject": "Help, my printer is on fire!",
            "description": "The fire is very colorful.",
            "priority": "high",
            "status": "hold",
            "type": "incident",
            "tags": ["enterprise", "other_tag"],
            "via": { "channel": "voice" },
            "custom_fields": [ { "id": 27642, "value": "745" }, { "id": 27648, "value": null } ],
            "requester": { "name": "Иван Петров", "email": "ivan@example.ru", "locale": "ru-RU" },
            "comments": [ { "id": 1274, "author_id": 123123, "body": "Позвоните мне", "public": true,
                            "created_at": "2026-06-01T09:00:00Z" } ]
        }})
    }

    #[test]
    fn a_zendesk_ticket_maps_to_ours() {
        let t = Zendesk.ticket(example()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t.source.as_str(), t.external_id.as_str()),
            ("zendesk", "35436")
        );
        assert_eq!(t.subject.expose(), "Help, my printer is on fire!");
        assert_eq!(
            (t.channel.as_str(), t.priority.as_str(), t.status.as_str()),
            ("phone", "high", "on_hold")
        );
        assert_eq!(t.language.as_deref(), Some("ru"));
        assert_eq!(t.category.as_deref(), Some("incident"));
        assert_eq!(t.custom_fields.get("27642"), Some(&json!("745")));
        assert!(!t.custom_fields.contains_key("27648"));
        assert_eq!(t.comments.len(), 1);
        assert_eq!(t.comments[0].author.expose(), "123123");
        assert_eq!(t.comments[0].external_id.as_deref(), Some("1274"));
    }

    #[test]
    fn bad_zendesk_payloads_name_the_field() {
        let mut no_id = example();
        no_id["ticket"]["id"] = Value::Null;
        assert_eq!(
            Zendesk.ticket(no_id).map_err(|e| e.field).err().as_deref(),
            Some("ticket.id")
        );
        let mut bad_status = example();
        bad_status["ticket"]["status"] = json!("deleted");
        assert!(Zendesk.ticket(bad_status).is_err());
        let mut bad_priority = example();
        bad_priority["ticket"]["priority"] = json!("critical");
        assert_eq!(
            Zendesk
                .ticket(bad_priority)
                .map_err(|e| e.field)
                .err()
                .as_deref(),
            Some("priority")
        );
        assert!(Zendesk.ticket(json!([1, 2])).is_err());
    }

    #[test]
    fn in_house_events_become_zendesk_updates() {
        let reply = Zendesk.update("share.replied", &json!({ "body": "Done", "public": true }));
        assert_eq!(
            reply,
            Some(json!({ "ticket": { "comment": { "body": "Done", "public": true } } }))
        );
        let hold = Zendesk.update("share.status", &json!({ "to": "on_hold" }));
        assert_eq!(hold, Some(json!({ "ticket": { "status": "hold" } })));
        assert_eq!(Zendesk.update("ticket.shared", &json!({})), None);
    }
}
