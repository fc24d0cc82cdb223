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

    /// `request` with API-token authentication: `{agent e-mail}/token` and the token, as Basic.
    fn signed(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.basic_auth(
            format!("{}/token", self.connector.user),
            Some(self.connector.token.expose()),
        )
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ConnectorError> {
        let call = format!("{method} {path}");
        let mut request = self.signed(
            self.http
                .request(method, format!("{}{path}", self.connector.url)),
        );
        if let Some(body) = body {
            request = request.json(body);
        }
        super::send_json(call, request).await
    }

    /// Whether `url` is served by this connection's Zendesk: the same scheme, host and port
    /// as its base URL (a file's `content_url` is on the account's own host).
    pub fn serves(&self, url: &str) -> bool {
        match (
            reqwest::Url::parse(url),
            reqwest::Url::parse(&self.connector.url),
        ) {
            (Ok(file), Ok(base)) => {
                file.scheme() == base.scheme()
                    && file.host_str() == base.host_str()
                    && file.port_or_known_default() == base.port_or_known_default()
            }
            _ => false,
        }
    }

    /// The content of a file this connection serves ([`Self::serves`]), at most `limit`
    /// bytes. Zendesk answers with a redirect to its file store, which is followed without
    /// the credentials (reqwest drops them on a redirect to another host).
    pub async fn download(&self, url: &str, limit: usize) -> Result<Vec<u8>, ConnectorError> {
        let call = "GET attachment content_url".to_owned();
        if !self.serves(url) {
            return Err(ConnectorError::Answer {
                call,
                why: "not a file of this Zendesk".into(),
            });
        }
        let request = self.signed(self.http.get(url));
        let mut response = super::send(&call, request).await?;
        let unreachable = |e: reqwest::Error| ConnectorError::Unreachable {
            call: call.clone(),
            why: e.without_url().to_string(),
        };
        let mut content = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if content.len() + chunk.len() > limit {
                return Err(ConnectorError::Answer {
                    call,
                    why: format!("the file is larger than {limit} bytes"),
                });
            }
            content.extend_from_slice(&chunk);
        }
        Ok(content)
    }

    /// Uploads a file for a comment (`POST /api/v2/uploads.json`); returns the token a
    /// comment's `uploads` takes. An upload no comment takes expires in Zendesk by itself.
    pub async fn upload(
        &self,
        file_name: &str,
        media_type: &str,
        content: Vec<u8>,
    ) -> Result<String, ConnectorError> {
        let call = "POST /api/v2/uploads.json".to_owned();
        let url = format!(
            "{}/api/v2/uploads.json?filename={}",
            self.connector.url,
            super::segment(file_name)
        );
        let request = self
            .signed(self.http.post(url))
            .header(reqwest::header::CONTENT_TYPE, media_type)
            .body(content);
        let answer = super::send_json(call.clone(), request).await?;
        answer
            .pointer("/upload/token")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ConnectorError::Answer {
                call,
                why: "no upload token".into(),
            })
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
