//! Starts the real gateway on port 0 with its own database and a manual clock.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use chrono::{DateTime, TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use msp_bridge::app::Application;
use msp_bridge::auth::{Role, TokenKeys};
use msp_bridge::clock::{Clock, ManualClock};
use msp_bridge::config::Config;
use msp_bridge::db::Db;
use msp_bridge::jobs::SlaSweeper;
use msp_bridge::sensitive::Sensitive;
use serde_json::Value;

pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const VAULT_KEY: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh PostgreSQL database, dropped when the value is.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    /// Creates a database on the server `BRIDGE_TEST_POSTGRES_URL` names, or `None` when it is unset.
    pub fn create() -> Option<Self> {
        let admin_url = std::env::var("BRIDGE_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let name = format!("bridge_test_{}", msp_bridge::random::random_hex(6));
        let mut admin = PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("BRIDGE_TEST_POSTGRES_URL is set but unreachable: {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("create database: {e}"));
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(&admin_url);
        let url = format!("{base}/{name}");
        Some(Self {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// A running gateway.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub keys: TokenKeys,
    pub db: Db,
    /// Sweeps SLA clocks on demand (the background sweeper is off in tests unless a test
    /// turns it on, so each test decides when time is looked at).
    pub sweeper: SlaSweeper,
    /// Runs the report schedules on demand (off in the background in tests).
    pub reports: msp_bridge::jobs::ReportScheduler,
    /// Runs the retention purge on demand.
    pub retention: msp_bridge::jobs::RetentionPurge,
    /// Drains the backlog on demand.
    pub drainer: msp_bridge::jobs::BacklogDrain,
    /// Polls each configured helpdesk connection on demand (their background jobs wait a
    /// whole `poll_ms` before the first round).
    pub pollers: Vec<msp_bridge::jobs::ConnectorPoller>,
    config: Config,
    handle: ServerHandle,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

/// Monday 2026-06-01 10:00 UTC.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0)
        .single()
        .unwrap_or_default()
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The test contracts: `acme-en` (always, max_open 3) and `volga-ru` (manual, peak window).
pub fn test_contracts_dir() -> PathBuf {
    fixtures().join("contracts")
}

pub fn base_config(dir: &Path, database_url: String, contracts_dir: PathBuf) -> Config {
    Config {
        database_url: Sensitive(database_url),
        data_dir: dir.to_path_buf(),
        contracts_dir,
        templates_dir: dir.join("templates"),
        knowledge_dir: dir.join("knowledge"),
        connectors_dir: dir.join("connectors"),
        // Tests poll on demand; a test that wants the background job turns it on.
        connector_jobs: false,
        listen: "127.0.0.1:0".into(),
        jwt_secret: Some(Sensitive(SECRET.into())),
        vault_key: Some(Sensitive(VAULT_KEY.into())),
        tls_cert: None,
        tls_key: None,
        workers: Some(1),
        sla_sweep_ms: 0,
        report_schedule: None,
        report_timezone: "UTC".into(),
        report_locale: "en".into(),
        report_poll_ms: 0,
        retention_poll_ms: 0,
        drain_poll_ms: 0,
        wal_checkpoint_ms: 0,
        inhouse_webhook_url: None,
        inhouse_webhook_secret: None,
        delivery_timeout_ms: 2_000,
        delivery_give_up_secs: 86_400,
        // Fast polling: retries fall due when a test moves the clock, not on a wake-up.
        delivery_poll_ms: 20,
        db_pool_wait_ms: 2_000,
        token_max_ttl: msp_bridge::auth::MaxLifetimes::default(),
        body_timeout_ms: 15_000,
        metrics_token: None,
    }
}

/// The database URL for a backend, and the PostgreSQL database that must outlive the app.
pub fn database(backend: Backend, dir: &Path) -> Option<(String, Option<PgDatabase>)> {
    match backend {
        Backend::Sqlite => Some((format!("sqlite://{}/bridge.db", dir.display()), None)),
        Backend::Postgres => {
            let pg = PgDatabase::create()?;
            Some((pg.url.clone(), Some(pg)))
        }
    }
}

/// Starts the gateway on `backend` with `configure` applied to its settings; `None` when the
/// backend is PostgreSQL and no test server is configured.
pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Option<TestApp> {
    msp_bridge::telemetry::init_logging();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (url, pg) = database(backend, dir.path())?;
    let mut config = base_config(dir.path(), url, test_contracts_dir());
    configure(&mut config);
    Some(start(config, dir, pg, ManualClock::new(start_time())))
}

fn start(
    config: Config,
    dir: tempfile::TempDir,
    pg: Option<PgDatabase>,
    clock: ManualClock,
) -> TestApp {
    let app = Application::build(&config, Arc::new(clock.clone()))
        .unwrap_or_else(|e| panic!("build: {e:#}"));
    let scheme = if config.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    let base = format!("{scheme}://localhost:{}", app.port());
    let handle = app.handle();
    let db = app.state().db.clone();
    let keys = app.state().keys.clone();
    let sweeper = app.sla_sweeper();
    let reports = app.report_scheduler();
    let retention = app.retention_purge();
    let drainer = app.backlog_drain();
    let pollers = app.connector_pollers();
    tokio::spawn(app.run());
    msp_bridge::crypto::tls_provider();
    TestApp {
        base,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|e| panic!("{e}")),
        clock,
        keys,
        db,
        sweeper,
        reports,
        retention,
        drainer,
        pollers,
        config,
        handle,
        _dir: dir,
        _pg: pg,
    }
}

impl TestApp {
    /// A second gateway on the same database and settings, as another replica would run.
    pub fn replica(&self) -> TestApp {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        start(
            self.config.clone(),
            dir,
            None,
            ManualClock::new(start_time()),
        )
    }

    /// The gateway stopped and started again on the same database, settings and clock, as a
    /// restart would (SQLite serves one gateway at a time, so not beside a replica).
    pub async fn restarted(mut self) -> TestApp {
        self.handle.stop(true).await;
        let dir = std::mem::replace(
            &mut self._dir,
            tempfile::tempdir().unwrap_or_else(|e| panic!("{e}")),
        );
        let pg = self._pg.take();
        let (config, clock) = (self.config.clone(), self.clock.clone());
        drop(self);
        start(config, dir, pg, clock)
    }
}

pub async fn spawn(backend: Backend) -> Option<TestApp> {
    spawn_with(backend, |_| {}).await
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop the server so the PostgreSQL database can be dropped after it.
        drop(self.handle.stop(false));
    }
}

/// A JSON answer: status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub content_type: String,
}

impl TestApp {
    pub fn token(&self, role: Role, contractor: Option<&str>) -> String {
        self.keys
            .issue(
                "tester",
                role,
                contractor,
                Duration::from_secs(3600),
                self.clock.now(),
            )
            .unwrap_or_else(|e| panic!("{e}"))
            .0
    }

    pub fn inhouse(&self) -> String {
        self.token(Role::Inhouse, None)
    }

    pub fn contractor(&self, id: &str) -> String {
        self.token(Role::Contractor, Some(id))
    }

    pub fn admin(&self) -> String {
        self.token(Role::Admin, None)
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        answer(resp).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Answer {
        self.send(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    /// Pushes a ticket as the in-house side and returns the answer.
    pub async fn ingest(&self, ticket: &Value) -> Answer {
        self.post("/api/v1/tickets", &self.inhouse(), ticket).await
    }

    /// The ticket as `contractor` sees it.
    pub async fn contractor_view(&self, contractor: &str, id: i64) -> Answer {
        self.get(
            &format!("/api/v1/contractor/tickets/{id}"),
            &self.contractor(contractor),
        )
        .await
    }

    /// The routing decision stored on ticket `id`, as the in-house side sees it.
    pub async fn routing(&self, id: i64) -> Value {
        self.get(&format!("/api/v1/tickets/{id}"), &self.inhouse())
            .await
            .body["routing"]
            .clone()
    }

    /// Runs one pass of the backlog drain, as its job would.
    pub async fn drain(&self) -> msp_bridge::jobs::backlog_drain::DrainReport {
        let drainer = self.drainer.clone();
        tokio::task::spawn_blocking(move || drainer.run_once())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Counts rows of a table (after sealing the ledger, as the worker would have).
    pub fn count(&self, table: &str) -> i64 {
        self.seal_ledger();
        self.db
            .read(|c| count_rows(c, table).map_err(msp_bridge::db::DbError::from))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Drops the PostgreSQL database from under the running app (for failure tests).
    pub fn drop_postgres_database(&self) {
        if let Some(pg) = &self._pg {
            let mut admin =
                PgConnection::establish(&pg.admin_url).unwrap_or_else(|e| panic!("{e}"));
            admin
                .batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", pg.name))
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// Chains the ledger entries committed so far, as the delivery worker would by now: what
    /// a test reads or tampers with next is the sealed chain.
    pub fn seal_ledger(&self) {
        msp_bridge::ledger::seal_committed(&self.db).unwrap_or_else(|e| panic!("seal: {e}"));
    }

    /// The audit ledger, oldest entry first.
    pub fn ledger(&self) -> Vec<msp_bridge::ledger::Entry> {
        self.seal_ledger();
        self.db
            .read(|c| msp_bridge::ledger::list(c, 0, 10_000).map_err(msp_bridge::db::DbError::from))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The settings the gateway was started with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The events written for `contract`'s contractor, in feed order.
    pub fn contractor_events(&self, contract: &str) -> Vec<Value> {
        self.events(&msp_bridge::outbox::Audience::Contractor(contract.into()))
    }

    /// Every event for the in-house side so far, as envelopes.
    pub fn inhouse_events(&self) -> Vec<Value> {
        self.events(&msp_bridge::outbox::Audience::Inhouse)
    }

    fn events(&self, audience: &msp_bridge::outbox::Audience) -> Vec<Value> {
        use msp_bridge::outbox;
        self.db
            .write(|c| {
                outbox::sequence(c)?;
                outbox::list(c, audience, 0, 1_000).map_err(msp_bridge::db::DbError::from)
            })
            .unwrap_or_else(|e| panic!("{e}"))
            .iter()
            .map(|row| {
                row.envelope()
                    .map(|e| serde_json::to_value(e).unwrap_or_default())
                    .unwrap_or_else(|e| panic!("{e}"))
            })
            .collect()
    }

    /// Runs raw SQL on the app's database (for tampering tests).
    pub fn execute(&self, sql: &str) {
        self.seal_ledger();
        self.db
            .write(|c| c.batch_execute(sql).map_err(msp_bridge::db::DbError::from))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// `SELECT COUNT(*) FROM <from>` on `c`; `from` may carry a WHERE clause.
pub fn count_rows(c: &mut msp_bridge::db::AnyConnection, from: &str) -> diesel::QueryResult<i64> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {from}"))
        .get_result::<N>(c)
        .map(|r| r.n)
}

pub async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        body,
        content_type,
    }
}

/// A realistic English ticket full of personal data, in scope for `acme-en`.
pub fn ticket_en(external_id: &str) -> Value {
    serde_json::json!({
        "source": "zendesk",
        "external_id": external_id,
        "subject": "Refund for order 7781 — card 4111 1111 1111 1111",
        "description": "Hi, I'm John Smith, call me on +44 20 7946 0958 or mail john.smith@example.com.",
        "requester": { "name": "John Smith", "email": "john.smith@example.com", "phone": "+44 20 7946 0958" },
        "channel": "email",
        "priority": "normal",
        "category": "billing",
        "language": "en",
        "tags": ["refund"],
        "custom_fields": { "plan": "pro", "account_number": "ACC-99887766" },
        "status": "open",
        "comments": [
            { "external_id": "c1", "author": "John Smith", "body": "Still waiting, my IBAN is GB82WEST12345698765432", "public": true },
            { "external_id": "c2", "author": "Agent Kim", "body": "Internal: customer is angry", "public": false }
        ]
    })
}

/// Values from [`ticket_en`] that must never reach a contractor.
pub const EN_SECRETS: &[&str] = &[
    "John Smith",
    "john.smith@example.com",
    "7946 0958",
    "4111 1111 1111 1111",
    "GB82WEST12345698765432",
    "ACC-99887766",
    "customer is angry",
];

/// Points `config` at a contracts folder of its own, in the app's data folder, holding
/// `files` (file name, text) instead of the test fixtures.
pub fn use_contracts(config: &mut Config, files: &[(&str, &str)]) {
    let folder = config.data_dir.join("contracts");
    std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
    for (name, text) in files {
        std::fs::write(folder.join(name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    config.contracts_dir = folder;
}

/// Declares a test scenario for both backends: `mod name { fn sqlite(); fn postgres(); }`.
/// The PostgreSQL variant runs when `BRIDGE_TEST_POSTGRES_URL` is set, and must pass then.
/// `with configure: …` first applies `configure(&mut Config)` to every scenario's settings.
#[macro_export]
macro_rules! on_both_backends {
    (with $configure:ident: $($scenario:ident),+ $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::helpers::spawn_with($crate::helpers::Backend::Sqlite, super::$configure).await;
                super::$scenario(app.unwrap_or_else(|| panic!("sqlite always runs"))).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $crate::helpers::spawn_with($crate::helpers::Backend::Postgres, super::$configure).await {
                    Some(app) => super::$scenario(app).await,
                    None => eprintln!("BRIDGE_TEST_POSTGRES_URL unset: PostgreSQL variant not run"),
                }
            }
        }
    )+};
    ($($scenario:ident),+ $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::helpers::spawn($crate::helpers::Backend::Sqlite).await;
                super::$scenario(app.unwrap_or_else(|| panic!("sqlite always runs"))).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $crate::helpers::spawn($crate::helpers::Backend::Postgres).await {
                    Some(app) => super::$scenario(app).await,
                    None => eprintln!("BRIDGE_TEST_POSTGRES_URL unset: PostgreSQL variant not run"),
                }
            }
        }
    )+};
}

/// Asserts that `answer` is what the OpenAPI document says `method path` answers with its
/// status: a small JSON Schema check (types, enums, required and listed properties, items,
/// `$ref`, `allOf`, `oneOf`) of the document the gateway serves, so a typed answer and its
/// documented shape cannot drift apart where the fuzzer reaches no data (a shared ticket).
pub fn assert_documented(method: &str, path: &str, answer: &Answer) {
    let document: Value = serde_json::from_str(msp_bridge::http::openapi::document_json())
        .unwrap_or_else(|e| panic!("{e}"));
    let schema = &document["paths"][path][method]["responses"][answer.status.to_string()]["content"]
        ["application/json"]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {path} documents no JSON answer for {}",
        answer.status
    );
    let mut errors = Vec::new();
    conform(&document, schema, &answer.body, "$", true, &mut errors);
    assert!(
        errors.is_empty(),
        "{method} {path}: {errors:#?}\n{}",
        answer.body
    );
}

/// The schema a `$ref` names, or the schema itself.
fn resolved<'d>(document: &'d Value, schema: &'d Value) -> &'d Value {
    match schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        Some(name) => {
            let target = &document["components"]["schemas"][name];
            assert!(!target.is_null(), "$ref to a missing schema {name}");
            target
        }
        None => schema,
    }
}

/// The property names a schema lists, through `$ref` and `allOf`; `None` when it lists none
/// (a free-form object).
fn listed_properties(document: &Value, schema: &Value) -> Option<Vec<String>> {
    let schema = resolved(document, schema);
    let mut names: Vec<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        names.extend(listed_properties(document, part)?);
    }
    (!names.is_empty()).then_some(names)
}

/// Checks `value` against `schema`; `whole` when the schema describes the whole value (not one
/// part of an `allOf`), so that every key it carries must be listed.
fn conform(
    document: &Value,
    schema: &Value,
    value: &Value,
    at: &str,
    whole: bool,
    errors: &mut Vec<String>,
) {
    let schema = resolved(document, schema);
    // Every key an object answer carries is documented: a field added to a type without its
    // schema, or a hand-built answer, shows here.
    if let (true, Value::Object(fields), Some(listed)) =
        (whole, value, listed_properties(document, schema))
    {
        for name in fields.keys().filter(|name| !listed.contains(name)) {
            errors.push(format!("{at}: `{name}` is not documented"));
        }
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        conform(document, part, value, at, false, errors);
    }
    if let Some(choices) = schema["oneOf"].as_array() {
        let fitting = choices
            .iter()
            .filter(|choice| {
                let mut found = Vec::new();
                conform(document, choice, value, at, true, &mut found);
                found.is_empty()
            })
            .count();
        if fitting != 1 {
            errors.push(format!("{at}: fits {fitting} of oneOf's {}", choices.len()));
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let type_fits = |t: &&str| match *t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    };
    if !types.is_empty() && !types.iter().any(type_fits) {
        errors.push(format!("{at}: {value} is not {types:?}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Value::Object(fields) = value {
        for required in schema["required"].as_array().into_iter().flatten() {
            if let Some(name) = required.as_str()
                && !fields.contains_key(name)
            {
                errors.push(format!("{at}: `{name}` is missing"));
            }
        }
        for (name, field) in fields {
            let property = &schema["properties"][name];
            if !property.is_null() {
                conform(
                    document,
                    property,
                    field,
                    &format!("{at}.{name}"),
                    true,
                    errors,
                );
            }
        }
    }
    if let Value::Array(items) = value {
        for (i, item) in items.iter().enumerate() {
            conform(
                document,
                &schema["items"],
                item,
                &format!("{at}[{i}]"),
                true,
                errors,
            );
        }
    }
}
