//! Request Tracker 5's REST2 API, as the connector reads it: the transaction feed of the
//! configured queues after a transaction id (ids only grow, so an id is a cursor with no clock
//! in it), and a ticket with everything [`crate::adapters::rt`] maps.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Connector, ConnectorError, segment};
use crate::tickets::attachments::MAX_ATTACHMENT_BYTES;

/// Transactions read per request.
pub const PAGE: usize = 100;

/// A REST2 client for one connection.
#[derive(Debug)]
pub struct RtClient {
    http: reqwest::Client,
    connector: Connector,
    /// Queue id → name: queues are few and seldom renamed.
    queue_names: Mutex<HashMap<String, String>>,
}

/// A transaction of the feed: which ticket changed, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The transaction id.
    pub id: i64,
    /// The ticket it belongs to.
    pub ticket: String,
    /// When it was made.
    pub at: Option<DateTime<Utc>>,
}

impl RtClient {
    /// A client for `connector`, with `timeout` per request.
    pub fn new(connector: Connector, timeout: std::time::Duration) -> Result<Self, ConnectorError> {
        Ok(Self {
            http: super::http_client(timeout)?,
            connector,
            queue_names: Mutex::new(HashMap::new()),
        })
    }

    /// The connection it serves.
    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// GETs `path` (under the base URL) with `query`.
    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, ConnectorError> {
        self.call(reqwest::Method::GET, path, query, None).await
    }

    /// Calls `path` (under the base URL) with `query` and a JSON `body`; errors name the call
    /// without the query, which may hold names.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ConnectorError> {
        // A user's id is a name or an address: errors and logs say only which call failed.
        let call = match path.strip_prefix("/user/") {
            Some(_) => format!("{method} /user/…"),
            None => format!("{method} {path}"),
        };
        let mut url = url::Url::parse(&format!("{}{path}", self.connector.url))
            .map_err(|e| answer(&call, &e.to_string()))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request = self.http.request(method, url).header(
            reqwest::header::AUTHORIZATION,
            format!("token {}", self.connector.token.expose()),
        );
        if let Some(body) = body {
            request = request.json(body);
        }
        super::send_json(call, request).await
    }

    /// Applies an update [`crate::adapters::rt`] computed (`{"call": …, "body": …}`) to ticket
    /// `id`.
    pub async fn apply(&self, id: &str, update: &Value) -> Result<(), ConnectorError> {
        let body = update.get("body");
        let path = format!("/ticket/{}", segment(id));
        match update.get("call").and_then(Value::as_str) {
            Some(call @ ("correspond" | "comment")) => {
                self.call(reqwest::Method::POST, &format!("{path}/{call}"), &[], body)
                    .await?;
            }
            Some("update") => {
                self.call(reqwest::Method::PUT, &path, &[], body).await?;
            }
            _ => return Err(answer("update", "not a Request Tracker call")),
        }
        Ok(())
    }

    /// Whether the gateway's user already wrote this update into ticket `id` since `since`:
    /// a `correspond` or `comment` is looked for by its text among the user's messages (a
    /// crash may have come between RT's answer and the commit that notes it); an `update`
    /// sets fields and is the same whether sent once or twice, so it counts as not written.
    pub async fn written_since(
        &self,
        id: &str,
        update: &Value,
        since: DateTime<Utc>,
    ) -> Result<bool, ConnectorError> {
        let kind = match update.get("call").and_then(Value::as_str) {
            Some("correspond") => "Correspond",
            Some("comment") => "Comment",
            _ => return Ok(false),
        };
        let content = update
            .get("body")
            .and_then(|b| b.get("Content"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        // RT keeps seconds: an attempt begun within the second before `since` counts.
        let from = since - chrono::Duration::seconds(1);
        for item in self.history(&format!("/ticket/{}", segment(id))).await? {
            let created = text(item.get("Created"))
                .and_then(|c| DateTime::parse_from_rfc3339(&c).ok())
                .map(|c| c.with_timezone(&Utc));
            let mine = text(item.get("Creator").and_then(|c| c.get("id"))).as_deref()
                == Some(self.connector.user.as_str());
            if !mine
                || item.get("Type").and_then(Value::as_str) != Some(kind)
                || created.is_some_and(|c| c < from)
            {
                continue;
            }
            let txn = text(item.get("id")).unwrap_or_default();
            let parts = self.attachments(&txn).await?;
            let same = parts.as_array().into_iter().flatten().any(|part| {
                part.get("Content")
                    .and_then(Value::as_str)
                    .is_some_and(|c| c.trim_end() == content.trim_end())
            });
            if same {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The attachments (message parts) of transaction `txn`.
    async fn attachments(&self, txn: &str) -> Result<Value, ConnectorError> {
        let page = self
            .get(
                &format!("/transaction/{}/attachments", segment(txn)),
                &[
                    ("fields", "ContentType,Content,Headers,Filename".into()),
                    ("per_page", PAGE.to_string()),
                ],
            )
            .await?;
        let mut parts = match page.get("items") {
            Some(Value::Array(items)) => items.clone(),
            _ => return Ok(json!([])),
        };
        // A file's content comes from its own record, base64: the listing gives binary
        // content as text, which loses bytes. A file larger than the gateway takes is left
        // out, and said so in the log (the ticket and its other files still come in).
        let mut kept = Vec::with_capacity(parts.len());
        for mut part in parts.drain(..) {
            let named = text(part.get("Filename")).is_some_and(|n| !n.trim().is_empty());
            if named && let Some(id) = text(part.get("id")) {
                let record = self
                    .get(&format!("/attachment/{}", segment(&id)), &[])
                    .await?;
                let content = record.get("Content").cloned().unwrap_or(json!(""));
                let encoded = content.as_str().map_or(0, |c| c.trim().len());
                if encoded / 4 * 3 > MAX_ATTACHMENT_BYTES {
                    tracing::warn!(connector = %self.connector.id, transaction = txn, attachment = %id, "file larger than the gateway takes; left out");
                    continue;
                }
                part["Content"] = content;
            }
            kept.push(part);
        }
        Ok(Value::Array(kept))
    }

    /// Up to [`PAGE`] transactions of the configured queues after transaction `after`, in
    /// id order, leaving out mail records and the gateway user's own changes (what it wrote
    /// is not news, and reading it back would echo it).
    pub async fn changes(&self, after: i64) -> Result<Vec<Change>, ConnectorError> {
        let queues = self
            .connector
            .queues
            .iter()
            .map(|q| format!("TicketQueue = '{q}'"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let query = format!(
            "ObjectType = 'RT::Ticket' AND ({queues}) AND id > {after} \
             AND Type != 'EmailRecord' AND Creator != '{}'",
            self.connector.user
        );
        let page = self
            .get(
                "/transactions",
                &[
                    ("query", query),
                    ("orderby", "id".into()),
                    ("order", "ASC".into()),
                    ("per_page", PAGE.to_string()),
                    ("fields", "ObjectId,Created".into()),
                ],
            )
            .await?;
        let items = page
            .get("items")
            .and_then(Value::as_array)
            .ok_or_else(|| answer("GET /transactions", "no `items` list"))?;
        items
            .iter()
            .map(|item| {
                let id = number(item.get("id"))
                    .ok_or_else(|| answer("GET /transactions", "a transaction without an id"))?;
                let ticket = text(item.get("ObjectId"))
                    .ok_or_else(|| answer("GET /transactions", "a transaction without a ticket"))?;
                let at = text(item.get("Created"))
                    .and_then(|c| DateTime::parse_from_rfc3339(&c).ok())
                    .map(|c| c.with_timezone(&Utc));
                Ok(Change { id, ticket, at })
            })
            .collect()
    }

    /// Ticket `id` as [`crate::adapters::rt`] reads it: the ticket, its queue's name, its
    /// first requestor's user record and its message transactions with their attachments —
    /// all but the gateway user's own.
    pub async fn ticket(&self, id: &str) -> Result<Value, ConnectorError> {
        let path = format!("/ticket/{}", segment(id));
        let ticket = self.get(&path, &[]).await?;
        let queue = match text(ticket.get("Queue").and_then(|q| q.get("id"))) {
            Some(queue) => Some(self.queue_name(&queue).await?),
            None => None,
        };
        let requestor = match ticket
            .get("Requestor")
            .and_then(Value::as_array)
            .and_then(|r| r.first())
            .and_then(|r| text(r.get("id")))
        {
            Some(user) => match self.get(&format!("/user/{}", segment(&user)), &[]).await {
                Ok(record) => record,
                // A requestor the token may not read is known by its address alone.
                Err(ConnectorError::Status {
                    status: 403 | 404, ..
                }) => Value::Null,
                Err(e) => return Err(e),
            },
            None => Value::Null,
        };
        let mut transactions = Vec::new();
        for item in self.history(&path).await? {
            let kind = item.get("Type").and_then(Value::as_str).unwrap_or_default();
            let creator = text(item.get("Creator").and_then(|c| c.get("id")));
            if !matches!(kind, "Create" | "Correspond" | "Comment")
                || creator.as_deref() == Some(self.connector.user.as_str())
            {
                continue;
            }
            let Some(txn) = text(item.get("id")) else {
                return Err(answer("GET /ticket/history", "a transaction without an id"));
            };
            let mut item = item;
            item["attachments"] = self.attachments(&txn).await?;
            transactions.push(item);
        }
        Ok(json!({
            "ticket": ticket,
            "queue": queue,
            "requestor": requestor,
            "transactions": transactions,
        }))
    }

    /// Every transaction of a ticket, page by page.
    async fn history(&self, ticket_path: &str) -> Result<Vec<Value>, ConnectorError> {
        let mut all = Vec::new();
        for page in 1.. {
            let answer_page = self
                .get(
                    &format!("{ticket_path}/history"),
                    &[
                        ("fields", "Type,Creator,Created".into()),
                        ("per_page", PAGE.to_string()),
                        ("page", page.to_string()),
                    ],
                )
                .await?;
            let items = answer_page
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let last_page = items.len() < PAGE
                || number(answer_page.get("pages")).is_some_and(|pages| pages <= page);
            all.extend(items);
            if last_page {
                break;
            }
        }
        Ok(all)
    }

    async fn queue_name(&self, id: &str) -> Result<String, ConnectorError> {
        if let Some(name) = self.cached_queue(id) {
            return Ok(name);
        }
        let queue = self.get(&format!("/queue/{}", segment(id)), &[]).await?;
        let name = text(queue.get("Name")).ok_or_else(|| answer("GET /queue", "no `Name`"))?;
        if let Ok(mut names) = self.queue_names.lock() {
            names.insert(id.to_owned(), name.clone());
        }
        Ok(name)
    }

    fn cached_queue(&self, id: &str) -> Option<String> {
        self.queue_names.lock().ok()?.get(id).cloned()
    }
}

fn answer(call: &str, why: &str) -> ConnectorError {
    ConnectorError::Answer {
        call: call.into(),
        why: why.into(),
    }
}

/// A string, or a number written as one (REST2 gives ids both ways).
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(v: Option<&Value>) -> Option<i64> {
    text(v)?.parse().ok()
}
