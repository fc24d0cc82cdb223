//! Connections to in-house helpdesks that the gateway drives itself: it reads their changes
//! (instead of waiting for `POST /api/v1/tickets`) and, later, writes contractors' work back.
//! One file per connection in `connectors/` (`*.toml`), checked at start-up; the API token
//! comes from an environment variable the file names (`token_env`) or from a file of its own
//! (`token_file`, as secrets are mounted), never from the connector file.
//!
//! ```toml
//! id = "rt-support"
//! kind = "rt"                          # Request Tracker 5, REST2
//! url = "https://rt.example.com/REST/2.0"
//! token_env = "BRIDGE_RT_TOKEN"        # an RT auth token of the user below (or token_file)
//! user = "msp-bridge"                  # the RT user the gateway acts as
//! queues = ["Support", "Billing"]
//! poll_ms = 5000
//! ```

pub mod cursor;
pub mod rt;
pub mod writes;
pub mod zendesk;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::sensitive::Sensitive;
use crate::tickets::attachments::MAX_ATTACHMENT_BYTES;

/// A connection that cannot be used: which file, which key, why (never a secret's value).
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// A connector file is wrong.
    #[error("{file}: {key}: {why}")]
    Config {
        /// The file.
        file: PathBuf,
        /// The key at fault (`url`, `queues`, …), or `file` for the file as a whole.
        key: String,
        /// What is wrong.
        why: String,
    },
    /// The helpdesk could not be reached or did not answer in time.
    #[error("{call}: {why}")]
    Unreachable {
        /// The call (method and path, no query: a query may hold a name).
        call: String,
        /// What went wrong.
        why: String,
    },
    /// The helpdesk answered with an error status.
    #[error("{call}: HTTP {status}")]
    Status {
        /// The call (method and path).
        call: String,
        /// The status it answered.
        status: u16,
    },
    /// The helpdesk answered something that is not what its API documents.
    #[error("{call}: unexpected answer: {why}")]
    Answer {
        /// The call (method and path).
        call: String,
        /// What was wrong with it.
        why: String,
    },
    /// The helpdesk asked to slow down (HTTP 429), for `retry_after` when it said.
    #[error("{call}: rate limited")]
    RateLimited {
        /// The call (method and path).
        call: String,
        /// How long to wait, when the helpdesk said (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// Another replica moved this connection's cursor first; its round wins.
    #[error("another replica took these changes first")]
    Overtaken,
    /// The in-house feed could not be read.
    #[error("the in-house feed: {0}")]
    Feed(String),
    /// Storing what was read failed.
    #[error(transparent)]
    Ticket(#[from] crate::tickets::TicketError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl From<diesel::result::Error> for ConnectorError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Which helpdesk a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorKind {
    /// Request Tracker 5 over REST2: read and written.
    Rt,
    /// Zendesk Support: written back (its tickets come in through its webhooks and
    /// `POST /api/v1/inbound/zendesk`).
    Zendesk,
}

/// A connection's client.
#[derive(Debug)]
pub enum HelpdeskClient {
    /// Request Tracker.
    Rt(rt::RtClient),
    /// Zendesk.
    Zendesk(zendesk::ZendeskClient),
}

impl HelpdeskClient {
    /// The client `connector` needs, with `timeout` per request.
    pub fn new(connector: Connector, timeout: Duration) -> Result<Self, ConnectorError> {
        Ok(match connector.kind {
            ConnectorKind::Rt => Self::Rt(rt::RtClient::new(connector, timeout)?),
            ConnectorKind::Zendesk => {
                Self::Zendesk(zendesk::ZendeskClient::new(connector, timeout)?)
            }
        })
    }

    /// The connection it serves.
    pub fn connector(&self) -> &Connector {
        match self {
            Self::Rt(c) => c.connector(),
            Self::Zendesk(c) => c.connector(),
        }
    }

    /// The source of the tickets this connection owns: a Request Tracker connection's own id
    /// (it reads them in), `zendesk` for Zendesk (its webhooks push them).
    pub fn source(&self) -> &str {
        match self {
            Self::Rt(c) => &c.connector().id,
            Self::Zendesk(_) => "zendesk",
        }
    }

    /// Applies an update its adapter computed to ticket `id`.
    pub async fn apply(&self, id: &str, update: &serde_json::Value) -> Result<(), ConnectorError> {
        match self {
            Self::Rt(c) => c.apply(id, update).await,
            Self::Zendesk(c) => c.apply(id, update).await,
        }
    }

    /// Whether the message of this update is already in ticket `id`, written since `since`.
    pub async fn written_since(
        &self,
        id: &str,
        update: &serde_json::Value,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, ConnectorError> {
        match self {
            Self::Rt(c) => c.written_since(id, update, since).await,
            Self::Zendesk(c) => c.written_since(id, update, since).await,
        }
    }
}

/// Sends `request` (named `call` in errors: method and path, never a query or a token) and
/// reads its JSON answer. A 429 says how long to wait when the helpdesk did (`Retry-After`, in
/// seconds); a success that is not JSON (a proxy's or a login page) is no answer of the API's.
async fn send_json(
    call: String,
    request: reqwest::RequestBuilder,
) -> Result<serde_json::Value, ConnectorError> {
    let response = send(&call, request).await?;
    response.json().await.map_err(|e| ConnectorError::Answer {
        call,
        why: e.without_url().to_string(),
    })
}

/// Sends a request: a 429 is [`ConnectorError::RateLimited`] (with its `Retry-After`), any
/// other status but success is [`ConnectorError::Status`].
async fn send(
    call: &str,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::Response, ConnectorError> {
    let response = request
        .send()
        .await
        .map_err(|e| ConnectorError::Unreachable {
            call: call.to_owned(),
            why: e.without_url().to_string(),
        })?;
    let status = response.status();
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        return Err(ConnectorError::RateLimited {
            call: call.to_owned(),
            retry_after,
        });
    }
    if !status.is_success() {
        return Err(ConnectorError::Status {
            call: call.to_owned(),
            status: status.as_u16(),
        });
    }
    Ok(response)
}

/// Fetches the content of every file among `files` that names a `url` instead, from the
/// helpdesk connection that serves that URL (Zendesk's `content_url`), at most
/// [`MAX_ATTACHMENT_BYTES`] each. A URL no connection serves is left as it is: the file's
/// check refuses it, so the gateway never fetches from anywhere a payload points.
pub async fn fetch_files<'f>(
    helpdesks: &[std::sync::Arc<HelpdeskClient>],
    files: impl IntoIterator<Item = &'f mut crate::tickets::attachments::AttachmentInput>,
) -> Result<(), ConnectorError> {
    use base64::Engine as _;
    for file in files.into_iter().filter(|f| f.content.is_none()) {
        let Some(url) = file.url.as_deref() else {
            continue;
        };
        let serving = helpdesks.iter().find_map(|h| match h.as_ref() {
            HelpdeskClient::Zendesk(z) if z.serves(url) => Some(z),
            _ => None,
        });
        if let Some(zendesk) = serving {
            let content = zendesk.download(url, MAX_ATTACHMENT_BYTES).await?;
            let encoded = base64::engine::general_purpose::STANDARD.encode(content);
            file.content = Some(Sensitive(encoded));
        }
    }
    Ok(())
}

/// `value` as one path segment (an RT user id may be an e-mail address, or hold `/`).
fn segment(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// The HTTP client of a connection.
fn http_client(timeout: Duration) -> Result<reqwest::Client, ConnectorError> {
    // reqwest is built without a TLS provider of its own: the gateway's (ring) must be in
    // place first, or building the client panics.
    crate::crypto::tls_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| ConnectorError::Unreachable {
            call: "client".into(),
            why: e.to_string(),
        })
}

/// A connector file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectorFile {
    id: String,
    kind: ConnectorKind,
    url: String,
    #[serde(default)]
    token_env: Option<String>,
    #[serde(default)]
    token_file: Option<PathBuf>,
    user: String,
    #[serde(default)]
    queues: Vec<String>,
    #[serde(default = "default_poll_ms")]
    poll_ms: u64,
}

fn default_poll_ms() -> u64 {
    5_000
}

/// A checked connection, with its token.
#[derive(Debug, Clone)]
pub struct Connector {
    /// Its name: in the cursor table, metrics and logs.
    pub id: String,
    /// The helpdesk.
    pub kind: ConnectorKind,
    /// The API's base URL, without a trailing `/`.
    pub url: String,
    /// The API token.
    pub token: Sensitive<String>,
    /// The helpdesk user the gateway acts as: its own changes are not read back (for
    /// Zendesk, the agent's e-mail the API token belongs to).
    pub user: String,
    /// The queues whose tickets are taken in (Request Tracker).
    pub queues: Vec<String>,
    /// How often to look for changes.
    pub poll: Duration,
}

/// Reads every `*.toml` in `dir`, in name order; no folder means no connections. `env`
/// gives the environment (the tokens).
pub fn load_dir(
    dir: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<Connector>, ConnectorError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(ConnectorError::Config {
                file: dir.to_path_buf(),
                key: "file".into(),
                why: e.to_string(),
            });
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out: Vec<Connector> = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| ConnectorError::Config {
            file: file.clone(),
            key: "file".into(),
            why: e.to_string(),
        })?;
        let connector = parse(&file, &text, &env)?;
        if out.iter().any(|c| c.id == connector.id) {
            return Err(ConnectorError::Config {
                file,
                key: "id".into(),
                why: format!("another file already names a connection `{}`", connector.id),
            });
        }
        out.push(connector);
    }
    Ok(out)
}

/// Parses and checks one connector file.
pub fn parse(
    file: &Path,
    text: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Connector, ConnectorError> {
    let wrong = |key: &str, why: String| ConnectorError::Config {
        file: file.to_path_buf(),
        key: key.into(),
        why,
    };
    let raw: ConnectorFile = toml::from_str(text).map_err(|e| {
        // toml's message names the key and the line; it quotes no value of ours but the
        // file's own text.
        wrong("file", e.message().to_owned())
    })?;
    if !crate::model::is_identifier(&raw.id) {
        return Err(wrong(
            "id",
            "lower-case letters, digits, `-`, `_` and `.`, 1 to 64 characters".into(),
        ));
    }
    let url = url::Url::parse(&raw.url).map_err(|e| wrong("url", e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(wrong("url", "expected an http(s) URL with a host".into()));
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(wrong(
            "url",
            "no query and no credentials in the URL: the token comes from `token_env`".into(),
        ));
    }
    // Names go into TicketSQL between single quotes.
    let quotable = |s: &str| !s.is_empty() && !s.contains(['\'', '\\', '\n', '\r']);
    match raw.kind {
        ConnectorKind::Rt if raw.queues.is_empty() => {
            return Err(wrong("queues", "name at least one queue".into()));
        }
        ConnectorKind::Zendesk if !raw.queues.is_empty() => {
            return Err(wrong(
                "queues",
                "a Zendesk connection only writes back; its tickets come in through its webhooks"
                    .into(),
            ));
        }
        _ => {}
    }
    if let Some(i) = raw.queues.iter().position(|q| !quotable(q)) {
        return Err(wrong(
            &format!("queues[{i}]"),
            "a queue name, without quotes, backslashes or line breaks".into(),
        ));
    }
    if !quotable(&raw.user) {
        return Err(wrong(
            "user",
            "the helpdesk user name, without quotes, backslashes or line breaks".into(),
        ));
    }
    if !(100..=3_600_000).contains(&raw.poll_ms) {
        return Err(wrong(
            "poll_ms",
            "between 100 (0.1 s) and 3600000 (an hour)".into(),
        ));
    }
    let token = match (&raw.token_env, &raw.token_file) {
        (Some(var), None) => env(var).ok_or_else(|| {
            wrong(
                "token_env",
                format!("the environment variable {var} holds no token"),
            )
        })?,
        (None, Some(path)) => {
            // Relative to the connector file, as secrets are mounted beside it.
            let path = file.parent().unwrap_or(Path::new(".")).join(path);
            std::fs::read_to_string(&path)
                .map_err(|e| wrong("token_file", format!("{}: {e}", path.display())))?
        }
        _ => {
            return Err(wrong(
                "token_env",
                "give the token through exactly one of `token_env` and `token_file`".into(),
            ));
        }
    };
    if token.trim().is_empty() {
        let key = if raw.token_env.is_some() {
            "token_env"
        } else {
            "token_file"
        };
        return Err(wrong(key, "the token is empty".into()));
    }
    Ok(Connector {
        id: raw.id,
        kind: raw.kind,
        url: raw.url.trim_end_matches('/').to_owned(),
        token: Sensitive(token.trim().to_owned()),
        user: raw.user,
        queues: raw.queues,
        poll: Duration::from_millis(raw.poll_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        id = "rt-support"
        kind = "rt"
        url = "http://127.0.0.1:8181/REST/2.0/"
        token_env = "RT_TOKEN"
        user = "msp-bridge"
        queues = ["Support"]
    "#;

    fn env(name: &str) -> Option<String> {
        (name == "RT_TOKEN").then(|| "1-27-secret".to_owned())
    }

    fn key_at_fault(text: &str) -> String {
        match parse(Path::new("c.toml"), text, env) {
            Err(ConnectorError::Config { key, .. }) => key,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_connector_file_is_read_with_its_token_from_the_environment() {
        let c = parse(Path::new("c.toml"), GOOD, env).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.url, "http://127.0.0.1:8181/REST/2.0");
        assert_eq!(c.token.expose(), "1-27-secret");
        assert_eq!(c.poll, Duration::from_secs(5));
        assert!(
            !format!("{c:?}").contains("secret"),
            "the token is never printed"
        );
    }

    #[test]
    fn a_wrong_connector_file_names_the_key() {
        let with = |from: &str, to: &str| GOOD.replace(from, to);
        assert_eq!(key_at_fault(&with("RT_TOKEN", "NO_SUCH_VAR")), "token_env");
        let both = with("token_env", "token_file = \"t\"\ntoken_env");
        assert_eq!(key_at_fault(&both), "token_env");
        let missing_file = with("token_env = \"RT_TOKEN\"", "token_file = \"absent\"");
        assert_eq!(key_at_fault(&missing_file), "token_file");
        assert_eq!(key_at_fault(&with("http://127", "ftp://127")), "url");
        assert_eq!(key_at_fault(&with("/REST/2.0/", "/REST/2.0/?x=1")), "url");
        assert_eq!(key_at_fault(&with("[\"Support\"]", "[]")), "queues");
        assert_eq!(
            key_at_fault(&with("[\"Support\"]", "[\"a\", \"x' OR 1=1\"]")),
            "queues[1]"
        );
        assert_eq!(key_at_fault(&with("rt-support", "rt support")), "id");
        assert_eq!(
            key_at_fault(&with("kind = \"rt\"", "kind = \"jira\"")),
            "file"
        );
        assert_eq!(key_at_fault(&format!("{GOOD}\npoll_ms = 5")), "poll_ms");
        assert_eq!(key_at_fault(&format!("{GOOD}\nsurprise = 1")), "file");
        // Zendesk pushes its tickets: a Zendesk connection names no queues to read.
        assert_eq!(
            key_at_fault(&with("kind = \"rt\"", "kind = \"zendesk\"")),
            "queues"
        );
        let zendesk =
            with("kind = \"rt\"", "kind = \"zendesk\"").replace("queues = [\"Support\"]", "");
        let c = parse(Path::new("z.toml"), &zendesk, env).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.kind, ConnectorKind::Zendesk);
    }

    #[test]
    fn a_token_file_is_read_beside_the_connector_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("rt.token"), "1-27-from-file\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let text = GOOD.replace("token_env = \"RT_TOKEN\"", "token_file = \"rt.token\"");
        let c =
            parse(&dir.path().join("rt.toml"), &text, |_| None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.token.expose(), "1-27-from-file");
    }

    #[test]
    fn a_missing_folder_is_no_connections_and_ids_are_unique() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let none = load_dir(&dir.path().join("absent"), env).unwrap_or_else(|e| panic!("{e}"));
        assert!(none.is_empty());
        for name in ["a.toml", "b.toml"] {
            std::fs::write(dir.path().join(name), GOOD).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(dir.path().join("notes.md"), "not a connector")
            .unwrap_or_else(|e| panic!("{e}"));
        match load_dir(dir.path(), env) {
            Err(ConnectorError::Config { file, key, .. }) => {
                assert_eq!(
                    (file.file_name(), key.as_str()),
                    (Some("b.toml".as_ref()), "id")
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
