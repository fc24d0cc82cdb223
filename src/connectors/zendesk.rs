//! Zendesk Support's ticket API, as the write-back uses it: `PUT /api/v2/tickets/{id}.json`
//! with the bodies [`crate::adapters::zendesk`] computes, and the ticket's comments to tell
//! whether an earlier attempt already added one. Zendesk's rate limits are honoured: a 429
//! (the account's limit, or the 30 updates in 10 minutes one user may make to one ticket)
//! stops the round until its `Retry-After`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Connector, ConnectorError};

/// A Zendesk API client for one connection.
#[derive(Debug)]
pub struct ZendeskClient {
    http: reqwest::Client,
    connector: Connector,
}

impl ZendeskClient {
    /// A client for `connector`, with `timeout` per request.
    pub fn new(connector: Connector, timeout: std::time::Duration) -> Result<Self, ConnectorError> {
        Ok(Self {
            http: super::http_client(timeout)?,
            connector,
        })
    }

    /// The connection it serves.
    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ConnectorError> {
        let call = format!("{method} {path}");
        // API token authentication: `{agent e-mail}/token` and the token, as Basic.
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.connector.url))
            .basic_auth(
                format!("{}/token", self.connector.user),
                Some(self.connector.token.expose()),
            );
        if let Some(body) = body {
            request = request.json(body);
        }
        super::send_json(call, request).await
    }

    /// Applies an update body (`{"ticket": {…}}`) to ticket `id`.
    pub async fn apply(&self, id: &str, update: &Value) -> Result<(), ConnectorError> {
        self.call(
            reqwest::Method::PUT,
            &format!("/api/v2/tickets/{}.json", super::segment(id)),
            Some(update),
        )
        .await
        .map(|_| ())
    }

    /// Whether the comment of this update is already on ticket `id`, added since `since` (a
    /// crash may have come between Zendesk's answer and the commit that notes it). An update
    /// without a comment sets fields and is the same sent once or twice: not written.
    pub async fn written_since(
        &self,
        id: &str,
        update: &Value,
        since: DateTime<Utc>,
    ) -> Result<bool, ConnectorError> {
        let Some(body) = update
            .pointer("/ticket/comment/body")
            .and_then(Value::as_str)
        else {
            return Ok(false);
        };
        let from = since - chrono::Duration::seconds(1);
        let page = self
            .call(
                reqwest::Method::GET,
                &format!(
                    "/api/v2/tickets/{}/comments.json?sort_order=desc",
                    super::segment(id)
                ),
                None,
            )
            .await?;
        Ok(page
            .get("comments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|c| {
                let recent = c
                    .get("created_at")
                    .and_then(Value::as_str)
                    .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
                    .is_none_or(|at| at.with_timezone(&Utc) >= from);
                let text = c.get("plain_body").or_else(|| c.get("body"));
                recent && text.and_then(Value::as_str).map(str::trim_end) == Some(body.trim_end())
            }))
    }
}
