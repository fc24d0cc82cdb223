//! Request Tracker 5: a ticket as its REST2 API gives it, with what the connector reads
//! beside it: the queue's name, the requestor's user record and the ticket's message
//! transactions with their attachments (`GET /transaction/{id}/attachments`). Updates are the
//! REST2 calls that apply an in-house event (correspond, comment, `PUT /ticket/{id}`).
//!
//! ```json
//! { "ticket": { "id": 1, "Subject": "…", "Status": "open", "Priority": "50", "CustomFields": […] },
//!   "queue": "Gateway",
//!   "requestor": { "RealName": "Иван Петров", "EmailAddress": "ivan@example.ru" },
//!   "transactions": [ { "id": "38", "Type": "Create", "Created": "…", "Creator": { "id": "root" },
//!                       "attachments": [ { "ContentType": "text/plain", "Content": "…",
//!                                          "Headers": "…X-RT-Interface: Email…" } ] } ] }
//! ```

use serde_json::{Map, Value, json};

use super::{AdapterError, Helpdesk, internal_form};
use crate::tickets::TicketInput;

/// Request Tracker.
pub struct RequestTracker;

/// RT's priority (0–100 on the default scale: Low 0, Medium 50, High 100) → ours. An SLA
/// escalation writes [`ESCALATED_PRIORITY`], which reads back as urgent.
fn priority(rt: i64) -> &'static str {
    match rt {
        i64::MIN..=33 => "low",
        34..=66 => "normal",
        67..=89 => "high",
        _ => "urgent",
    }
}

/// The priority an SLA escalation sets in RT: the top of its default scale.
pub const ESCALATED_PRIORITY: i64 = 100;

/// RT's lifecycle status → ours.
fn status(rt: &str) -> Result<&'static str, AdapterError> {
    Ok(match rt {
        "new" => "new",
        "open" => "open",
        "stalled" => "on_hold",
        "resolved" => "solved",
        "rejected" | "deleted" => "closed",
        // The value is not repeated: a custom lifecycle's status may say anything.
        _ => {
            return Err(AdapterError::at(
                "unknown_value",
                "ticket.Status",
                "unknown Request Tracker status, expected new, open, stalled, resolved, \
                 rejected or deleted",
            ));
        }
    })
}

/// Our status → RT's (the default lifecycle's names).
fn rt_status(ours: &str) -> &str {
    match ours {
        "on_hold" | "pending" => "stalled",
        "solved" | "closed" => "resolved",
        "handed_back" | "recalled" => "open",
        other => other,
    }
}

/// The interface a message came in through (`X-RT-Interface` of its first attachment) →
/// our channel.
fn channel(interface: Option<&str>) -> &'static str {
    match interface {
        Some("Web" | "Mobile") => "web",
        Some("REST" | "API" | "CLI") => "api",
        _ => "email",
    }
}

/// A string, or a number written as one (REST2 gives most scalars as strings, a record's own
/// id as a number).
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One message of the ticket: a transaction that carries text.
struct Message<'a> {
    id: String,
    kind: &'a str,
    author: String,
    created: Value,
    body: String,
    interface: Option<String>,
    /// Its files, in the form `attachments` of [`TicketInput`] takes.
    files: Vec<Value>,
}

/// A message part that is a file (it has a name), in our form. Its `Content` is base64, as
/// `GET /attachment/{id}` gives it (RT's collection listing gives binary content mangled, so
/// the connector reads each file by itself); base64 line breaks are dropped.
fn file(part: &Value) -> Option<Value> {
    let name = text(part.get("Filename")).filter(|n| !n.trim().is_empty())?;
    let content: String = part
        .get("Content")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    Some(json!({
        "external_id": text(part.get("id")).map(|id| format!("rt-attachment-{id}")),
        "file_name": name,
        "media_type": part.get("ContentType").cloned().unwrap_or(json!("application/octet-stream")),
        "content": content,
    }))
}

/// The message transactions (`Create`, `Correspond`, `Comment`) in id order; status changes,
/// mail records and the rest carry no text of the customer's or the agents'.
fn messages(transactions: &[Value]) -> Result<Vec<Message<'_>>, AdapterError> {
    let mut out = Vec::new();
    for (i, t) in transactions.iter().enumerate() {
        let kind = t.get("Type").and_then(Value::as_str).unwrap_or_default();
        if !matches!(kind, "Create" | "Correspond" | "Comment") {
            continue;
        }
        let id = text(t.get("id")).ok_or_else(|| {
            AdapterError::at(
                "missing_field",
                format!("transactions[{i}].id"),
                "missing or not a number",
            )
        })?;
        let attachments = t
            .get("attachments")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        // The text part: plain text first, HTML when that is all there is; a part with a file
        // name is a file, not the message's text.
        let part = |media: &str| {
            attachments.iter().find(|a| {
                a.get("ContentType")
                    .and_then(Value::as_str)
                    .is_some_and(|c| c.eq_ignore_ascii_case(media))
                    && text(a.get("Filename")).is_none_or(|n| n.trim().is_empty())
            })
        };
        let body = part("text/plain")
            .or_else(|| part("text/html"))
            .and_then(|a| text(a.get("Content")))
            .unwrap_or_default();
        let interface = attachments
            .first()
            .and_then(|a| a.get("Headers"))
            .and_then(Value::as_str)
            .and_then(|h| {
                h.lines()
                    .find_map(|l| l.strip_prefix("X-RT-Interface:"))
                    .map(|v| v.trim().to_owned())
            });
        out.push(Message {
            id,
            kind,
            author: text(t.get("Creator").and_then(|c| c.get("id"))).unwrap_or_else(|| "rt".into()),
            created: t.get("Created").cloned().unwrap_or(Value::Null),
            body,
            interface,
            files: attachments.iter().filter_map(file).collect(),
        });
    }
    out.sort_by_key(|m| m.id.parse::<u64>().unwrap_or(u64::MAX));
    Ok(out)
}

impl Helpdesk for RequestTracker {
    fn name(&self) -> &'static str {
        "rt"
    }

    fn ticket(&self, payload: Value) -> Result<TicketInput, AdapterError> {
        let Value::Object(mut payload) = payload else {
            return Err(AdapterError::at(
                "wrong_type",
                "",
                "expected an object with `ticket` (a Request Tracker REST2 ticket)",
            ));
        };
        let Some(Value::Object(t)) = payload.remove("ticket") else {
            return Err(AdapterError::at(
                "wrong_type",
                "ticket",
                "expected a Request Tracker REST2 ticket object",
            ));
        };
        let id = text(t.get("id"))
            .ok_or_else(|| AdapterError::at("missing_field", "ticket.id", "missing"))?;
        let rt_priority = match text(t.get("Priority")) {
            None => 0,
            Some(p) => p.trim().parse::<i64>().map_err(|_| {
                AdapterError::at("wrong_type", "ticket.Priority", "expected a number")
            })?,
        };
        let state = status(t.get("Status").and_then(Value::as_str).unwrap_or("new"))?;
        let transactions = match payload.remove("transactions") {
            Some(Value::Array(list)) => list,
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                return Err(AdapterError::at(
                    "wrong_type",
                    "transactions",
                    "expected a list of transactions",
                ));
            }
        };
        let messages = messages(&transactions)?;
        let created = messages.iter().find(|m| m.kind == "Create");
        let custom_fields: Map<String, Value> = t
            .get("CustomFields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| {
                let name = text(f.get("name"))?;
                let values: Vec<String> = f
                    .get("values")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|v| text(Some(v)))
                    .collect();
                (!values.is_empty()).then(|| (name, json!(values.join(", "))))
            })
            .collect();
        let comments: Vec<Value> = messages
            .iter()
            .filter(|m| m.kind != "Create")
            .map(|m| {
                json!({
                    "external_id": m.id,
                    "author": m.author,
                    "body": m.body,
                    "public": m.kind == "Correspond",
                    "created_at": m.created,
                    "attachments": m.files,
                })
            })
            .collect();
        let requestor = payload.remove("requestor").unwrap_or(Value::Null);
        let requestor_email = text(requestor.get("EmailAddress")).or_else(|| {
            // Without the user record, the ticket names its requestor by address.
            t.get("Requestor")
                .and_then(Value::as_array)
                .and_then(|r| r.first())
                .and_then(|r| text(r.get("id")))
                .filter(|id| id.contains('@'))
        });
        let phone = text(requestor.get("MobilePhone"))
            .or_else(|| text(requestor.get("WorkPhone")))
            .or_else(|| text(requestor.get("HomePhone")))
            .filter(|p| !p.is_empty());
        let language = text(requestor.get("Lang"))
            .and_then(|l| l.split(['-', '_']).next().map(str::to_ascii_lowercase))
            .filter(|l| !l.is_empty());
        internal_form(json!({
            "source": "rt",
            "external_id": id,
            "subject": t.get("Subject").cloned().unwrap_or(json!("")),
            "description": created.map(|m| m.body.as_str()).unwrap_or_default(),
            "requester": {
                "name": text(requestor.get("RealName")).filter(|n| !n.is_empty()),
                "email": requestor_email,
                "phone": phone,
            },
            "channel": channel(created.and_then(|m| m.interface.as_deref())),
            "priority": priority(rt_priority),
            "category": payload.get("queue").cloned().unwrap_or(Value::Null),
            "language": language,
            "custom_fields": custom_fields,
            "status": state,
            "comments": comments,
            "attachments": created.map(|m| m.files.clone()).unwrap_or_default(),
        }))
    }

    fn update(&self, event_type: &str, data: &Value) -> Option<Value> {
        // Each update names the REST2 call it is: `correspond` and `comment` post to
        // `/ticket/{id}/correspond|comment`, `update` puts to `/ticket/{id}`.
        Some(match event_type {
            "share.replied" => {
                let call = if data.get("public")?.as_bool()? {
                    "correspond"
                } else {
                    "comment"
                };
                json!({ "call": call, "body": {
                    "Content": data.get("body")?, "ContentType": "text/plain" } })
            }
            "share.status" => json!({ "call": "update", "body": {
                "Status": rt_status(data.get("to")?.as_str()?) } }),
            "share.handed_back" => json!({ "call": "comment", "body": {
                "Content": format!("Handed back by the contractor: {}",
                    data.get("reason")?.as_str()?),
                "ContentType": "text/plain", "Status": "open" } }),
            "sla.escalated" => json!({ "call": "update", "body": {
                "Priority": ESCALATED_PRIORITY } }),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the connector assembles from RT 5.0.3's answers (captured from a running RT:
    /// `GET /ticket/1`, `GET /user/{requestor}`, the ticket's transactions and their
    /// attachments).
    fn example() -> Value {
        json!({
            "ticket": {
                "id": 1, "Subject": "Принтер горит", "Status": "open", "Priority": "50",
                "Queue": { "type": "queue", "id": "3" },
                "Requestor": [ { "type": "user", "id": "ivan@example.ru" } ],
                "CustomFields": [
                    { "id": "2", "name": "ExternalID", "values": ["EXT-1"], "type": "customfield" },
                    { "id": "3", "name": "Empty", "values": [], "type": "customfield" } ]
            },
            "queue": "Gateway",
            "requestor": { "Name": "ivan@example.ru", "RealName": "Иван Петров",
                           "EmailAddress": "ivan@example.ru", "Lang": "ru" },
            "transactions": [
                { "id": "43", "Type": "Comment", "Created": "2026-12-07T00:34:58Z",
                  "Creator": { "id": "root" },
                  "attachments": [ { "ContentType": "text/plain", "Content": "Internal: XJ-9" } ] },
                { "id": "38", "Type": "Create", "Created": "2026-12-07T00:34:56Z",
                  "Creator": { "id": "root" },
                  "attachments": [ { "ContentType": "text/plain",
                      "Content": "Позвоните мне +7 912 345-67-89",
                      "Headers": "Subject: x\nX-RT-Interface: Email\nContent-Length: 42" } ] },
                { "id": "42", "Type": "Status", "Field": "Status", "OldValue": "new",
                  "NewValue": "open", "Creator": { "id": "RT_System" } },
                { "id": "40", "Type": "Correspond", "Created": "2026-12-07T00:34:57Z",
                  "Creator": { "id": "root" },
                  "attachments": [ { "ContentType": "text/html", "Content": "<p>Мы выезжаем.</p>" } ] }
            ]
        })
    }

    #[test]
    fn an_rt_ticket_maps_to_ours() {
        let t = RequestTracker
            .ticket(example())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((t.source.as_str(), t.external_id.as_str()), ("rt", "1"));
        assert_eq!(t.subject.expose(), "Принтер горит");
        assert_eq!(t.description.expose(), "Позвоните мне +7 912 345-67-89");
        assert_eq!(
            (t.channel.as_str(), t.priority.as_str(), t.status.as_str()),
            ("email", "normal", "open")
        );
        assert_eq!(t.category.as_deref(), Some("Gateway"));
        assert_eq!(t.language.as_deref(), Some("ru"));
        let requester = &t.requester;
        assert_eq!(
            requester.name.as_ref().map(|n| n.expose().as_str()),
            Some("Иван Петров")
        );
        assert_eq!(
            requester.email.as_ref().map(|n| n.expose().as_str()),
            Some("ivan@example.ru")
        );
        assert_eq!(t.custom_fields.get("ExternalID"), Some(&json!("EXT-1")));
        assert!(!t.custom_fields.contains_key("Empty"));
        // In id order, the status change left out; a reply public, a comment internal.
        let comments: Vec<_> = t
            .comments
            .iter()
            .map(|c| (c.external_id.as_deref(), c.public, c.body.expose().as_str()))
            .collect();
        assert_eq!(
            comments,
            [
                (Some("40"), true, "<p>Мы выезжаем.</p>"),
                (Some("43"), false, "Internal: XJ-9")
            ]
        );
    }

    #[test]
    fn rt_priorities_and_statuses_map_both_ways() {
        let cases = [(0, "low"), (33, "low"), (50, "normal"), (80, "high")];
        for (rt, ours) in cases {
            assert_eq!(priority(rt), ours, "{rt}");
        }
        assert_eq!(priority(ESCALATED_PRIORITY), "urgent");
        for (rt, ours) in [("stalled", "on_hold"), ("resolved", "solved")] {
            assert_eq!(status(rt).ok(), Some(ours));
            assert_eq!(rt_status(ours), rt);
        }
        let mut without_user = example();
        without_user["requestor"] = Value::Null;
        let t = RequestTracker
            .ticket(without_user)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            t.requester.email.as_ref().map(|e| e.expose().as_str()),
            Some("ivan@example.ru")
        );
        assert!(t.requester.name.is_none());
    }

    #[test]
    fn bad_rt_payloads_name_the_field() {
        let field = |payload: Value| RequestTracker.ticket(payload).err().map(|e| e.field);
        let mut custom_status = example();
        custom_status["ticket"]["Status"] = json!("waiting for vendor");
        assert_eq!(field(custom_status).as_deref(), Some("ticket.Status"));
        let mut bad_priority = example();
        bad_priority["ticket"]["Priority"] = json!("High");
        assert_eq!(field(bad_priority).as_deref(), Some("ticket.Priority"));
        let mut no_id = example();
        no_id["transactions"][1]["id"] = Value::Null;
        assert_eq!(field(no_id).as_deref(), Some("transactions[1].id"));
        assert_eq!(field(json!([1])).as_deref(), Some("body"));
        assert_eq!(field(json!({ "ticket": 5 })).as_deref(), Some("ticket"));
    }

    #[test]
    fn in_house_events_become_rt_calls() {
        let reply =
            RequestTracker.update("share.replied", &json!({ "body": "Done", "public": true }));
        assert_eq!(
            reply,
            Some(json!({ "call": "correspond",
                "body": { "Content": "Done", "ContentType": "text/plain" } }))
        );
        let note = RequestTracker.update("share.replied", &json!({ "body": "n", "public": false }));
        assert_eq!(
            note.as_ref().and_then(|n| n["call"].as_str()),
            Some("comment")
        );
        let hold = RequestTracker.update("share.status", &json!({ "to": "on_hold" }));
        assert_eq!(
            hold,
            Some(json!({ "call": "update", "body": { "Status": "stalled" } }))
        );
        let escalated = RequestTracker.update("sla.escalated", &json!({}));
        assert_eq!(
            escalated,
            Some(json!({ "call": "update", "body": { "Priority": 100 } }))
        );
        assert_eq!(RequestTracker.update("ticket.shared", &json!({})), None);
    }
}
