//! Settings, read from the environment (or flags) once at start-up.

use std::path::PathBuf;

use crate::sensitive::Sensitive;

/// Where the gateway keeps and finds things, and how it listens.
#[derive(Clone, Debug, clap::Args)]
pub struct Config {
    /// Database URL: `sqlite://path/to/file.db` or `postgres://user@host/db`.
    #[arg(
        long,
        env = "BRIDGE_DATABASE_URL",
        default_value = "sqlite://data/bridge.db",
        global = true
    )]
    pub database_url: Sensitive<String>,
    /// Folder for local state (the generated token secret).
    #[arg(long, env = "BRIDGE_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,
    /// Folder of contract files.
    #[arg(
        long,
        env = "BRIDGE_CONTRACTS_DIR",
        default_value = "contracts",
        global = true
    )]
    pub contracts_dir: PathBuf,
    /// Folder of knowledge-base articles (`*.md` with front matter; see README "Knowledge
    /// base"). No folder, no articles.
    #[arg(
        long,
        env = "BRIDGE_KNOWLEDGE_DIR",
        default_value = "knowledge",
        global = true
    )]
    pub knowledge_dir: PathBuf,
    /// Folder of helpdesk connector files (`*.toml`; see README "Helpdesk connectors"). No
    /// folder, no connectors.
    #[arg(
        long,
        env = "BRIDGE_CONNECTORS_DIR",
        default_value = "connectors",
        global = true
    )]
    pub connectors_dir: PathBuf,
    /// Whether this replica runs the helpdesk connections' jobs (`false`: another replica
    /// does, or they are run on demand).
    #[arg(
        long,
        env = "BRIDGE_CONNECTOR_JOBS",
        default_value_t = true,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub connector_jobs: bool,
    /// Folder whose `reports/` overrides the built-in report templates and labels.
    #[arg(
        long,
        env = "BRIDGE_TEMPLATES_DIR",
        default_value = "templates",
        global = true
    )]
    pub templates_dir: PathBuf,
    /// Address to listen on.
    #[arg(
        long,
        env = "BRIDGE_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: String,
    /// HS256 secret for tokens (at least 32 bytes); generated into the data folder if unset.
    #[arg(long, env = "BRIDGE_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<Sensitive<String>>,
    /// Vault master key (64 hex characters); generated into the data folder if unset.
    #[arg(long, env = "BRIDGE_VAULT_KEY", hide_env_values = true, global = true)]
    pub vault_key: Option<Sensitive<String>>,
    /// PEM certificate chain; with `--tls-key`, serve HTTPS.
    #[arg(long, env = "BRIDGE_TLS_CERT", requires = "tls_key", global = true)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `--tls-cert`.
    #[arg(long, env = "BRIDGE_TLS_KEY", requires = "tls_cert", global = true)]
    pub tls_key: Option<PathBuf>,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "BRIDGE_WORKERS", global = true)]
    pub workers: Option<usize>,
    /// Milliseconds between SLA sweeps (a change to a share also wakes the sweeper);
    /// 0 turns this replica's sweeper off.
    #[arg(
        long,
        env = "BRIDGE_SLA_SWEEP_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub sla_sweep_ms: u64,
    /// Cron schedule of the gateway-wide report (all contracts); unset: none.
    #[arg(long, env = "BRIDGE_REPORT_SCHEDULE", global = true)]
    pub report_schedule: Option<String>,
    /// The gateway's report time zone (IANA name): the gateway-wide schedule is read in it, and
    /// a period bound given as a date (`2026-11-29`) starts at 00:00 there.
    #[arg(
        long,
        env = "BRIDGE_REPORT_TIMEZONE",
        default_value = "UTC",
        global = true
    )]
    pub report_timezone: String,
    /// Language of the gateway-wide report: `en` or `ru`.
    #[arg(
        long,
        env = "BRIDGE_REPORT_LOCALE",
        default_value = "en",
        global = true
    )]
    pub report_locale: String,
    /// Milliseconds between checks of the report schedules; 0 turns this replica's report
    /// scheduler off.
    #[arg(
        long,
        env = "BRIDGE_REPORT_POLL_MS",
        default_value_t = 60_000,
        global = true
    )]
    pub report_poll_ms: u64,
    /// Milliseconds between retention purges; 0 turns this replica's purge off.
    #[arg(
        long,
        env = "BRIDGE_RETENTION_POLL_MS",
        default_value_t = 3_600_000,
        global = true
    )]
    pub retention_poll_ms: u64,
    /// Milliseconds between backlog drains (tickets waiting in-house routed again while a
    /// contract can take more); 0 turns this replica's drain off.
    #[arg(
        long,
        env = "BRIDGE_DRAIN_POLL_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub drain_poll_ms: u64,
    /// Milliseconds between WAL checkpoints on SQLite, made by a background job so that no
    /// request waits for one; 0 leaves them to the writer (SQLite's own, every 10,000 pages).
    #[arg(
        long,
        env = "BRIDGE_WAL_CHECKPOINT_MS",
        default_value_t = 200,
        global = true
    )]
    pub wal_checkpoint_ms: u64,
    /// Where in-house events are posted (unset: the in-house side pulls `GET /api/v1/events`).
    #[arg(long, env = "BRIDGE_INHOUSE_WEBHOOK_URL", global = true)]
    pub inhouse_webhook_url: Option<String>,
    /// The in-house webhook's signing secret: `whsec_` and base64 of at least 24 bytes, as
    /// Standard Webhooks issues them.
    #[arg(
        long,
        env = "BRIDGE_INHOUSE_WEBHOOK_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub inhouse_webhook_secret: Option<Sensitive<String>>,
    /// How long a receiver may take to answer, in milliseconds.
    #[arg(
        long,
        env = "BRIDGE_DELIVERY_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub delivery_timeout_ms: u64,
    /// How long an event is retried before it becomes a dead letter, in seconds.
    #[arg(
        long,
        env = "BRIDGE_DELIVERY_GIVE_UP_SECS",
        default_value_t = 86_400,
        global = true
    )]
    pub delivery_give_up_secs: u64,
    /// Milliseconds between checks for retries that fell due (new events wake the worker at
    /// once); 0 turns this replica's delivery worker off.
    #[arg(
        long,
        env = "BRIDGE_DELIVERY_POLL_MS",
        default_value_t = 1_000,
        global = true
    )]
    pub delivery_poll_ms: u64,
    /// How long a request waits for a database connection before it is answered 503
    /// `unavailable`, in milliseconds.
    #[arg(
        long,
        env = "BRIDGE_DB_POOL_WAIT_MS",
        default_value_t = 2_000,
        global = true
    )]
    pub db_pool_wait_ms: u64,
    /// The longest a token of each role may live, e.g. `contractor=30d,admin=12h` (roles left
    /// out keep their default: inhouse 365d, contractor 90d, compliance 30d, admin 30d).
    /// Checked when issuing and on every request.
    #[arg(
        long,
        env = "BRIDGE_TOKEN_MAX_TTL",
        default_value = "",
        value_parser = crate::auth::MaxLifetimes::parse,
        global = true
    )]
    pub token_max_ttl: crate::auth::MaxLifetimes,
    /// How long a client may take to send a request's body, in milliseconds (then 408).
    #[arg(
        long,
        env = "BRIDGE_BODY_TIMEOUT_MS",
        default_value_t = 15_000,
        global = true
    )]
    pub body_timeout_ms: u64,
    /// When set, `GET /metrics` answers only `Authorization: Bearer <this value>` (it names
    /// contracts and their figures).
    #[arg(
        long,
        env = "BRIDGE_METRICS_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub metrics_token: Option<Sensitive<String>>,
}

impl std::str::FromStr for Sensitive<String> {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Sensitive(s.to_owned()))
    }
}
