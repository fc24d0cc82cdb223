//! Start-up: storage, migrations, contracts, keys, then the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::HttpServer;
use actix_web::dev::{Server, ServerHandle};
use anyhow::Context;

use crate::auth::TokenKeys;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::connectors::HelpdeskClient;
use crate::contracts::{self, ContractSet, Registry};
use crate::db::Db;
use crate::delivery::{Destination, Signer};
use crate::http::{self, AppState};
use crate::jobs::{
    BacklogDrain, ConnectorPoller, OutboxDrain, ReportScheduler, RetentionPurge, SlaSweeper,
};
use crate::redaction::{NumberBlocks, VaultKeys};
use crate::telemetry::Metrics;

/// How long a request to a helpdesk may take.
const CONNECTOR_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A built gateway, listening and ready to run.
pub struct Application {
    server: Server,
    port: u16,
    state: AppState,
    sla_sweep_every: Option<std::time::Duration>,
    report_poll: Option<std::time::Duration>,
    retention_poll: Option<std::time::Duration>,
    drain_poll: Option<std::time::Duration>,
    wal_checkpoint: Option<std::time::Duration>,
    delivery: Option<(OutboxDrain, std::time::Duration)>,
    connectors: Vec<Arc<HelpdeskClient>>,
    connector_jobs: bool,
    /// This process's name in the connections' leases.
    replica: String,
}

impl Application {
    /// Connects and migrates the database, applies the contract files, loads the token keys
    /// and binds the listener (port 0 picks a free one).
    pub fn build(config: &Config, clock: SharedClock) -> anyhow::Result<Self> {
        let pool_wait = std::time::Duration::from_millis(config.db_pool_wait_ms.max(1));
        let db = Db::connect_waiting(config.database_url.expose(), pool_wait)
            .context("connecting to the database")?;
        let applied = db.migrate()?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "migrations applied");
        }
        let set = ContractSet::new(contracts::load_dir(&config.contracts_dir)?);
        let now = clock.now();
        let (results, recalled) = db.write(|c| {
            crate::service::recall::apply_contracts(c, &set, "system:startup", false, now)
        })?;
        for r in results.iter().filter(|r| r.changed) {
            if r.withdrawn {
                tracing::warn!(contract = %r.id, "contract withdrawn: its file is gone");
            } else {
                tracing::info!(contract = %r.id, version = r.version, sha256 = %r.sha256, "contract applied");
            }
        }
        if recalled > 0 {
            tracing::warn!(recalled, "shares of contracts out of force recalled");
        }
        warn_of_unusable_secrets(&set);
        let articles = crate::knowledge::load_dir(&config.knowledge_dir)?;
        let applied = db.write(|c| crate::knowledge::apply(c, &articles, "system:startup", now))?;
        for a in applied.iter().filter(|a| a.changed) {
            if a.withdrawn {
                tracing::warn!(article = %a.id, "knowledge article withdrawn: its file is gone");
            } else {
                tracing::info!(article = %a.id, version = a.version, "knowledge article applied");
            }
        }
        for problem in crate::knowledge::unknown_grants(&set, &articles) {
            tracing::warn!("{problem}");
        }
        let former =
            db.read(|c| contracts::withdrawn_files(c).map_err(contracts::ContractError::from))?;
        let set = set.with_former(former);
        let keys = TokenKeys::load(
            config.jwt_secret.as_ref().map(|s| s.expose().as_str()),
            &config.data_dir,
        )?
        .with_max_lifetimes(config.token_max_ttl);
        let mut vault_keys = VaultKeys::load(
            config.vault_key.as_ref().map(|s| s.expose().as_str()),
            &config.data_dir,
        )?;
        if !db.is_sqlite() {
            // Writers run in parallel on PostgreSQL: number new tokens from reserved blocks
            // rather than under each contract's lock, on connections of their own (a share
            // waiting for a block must not queue behind a report holding a job connection).
            let numbering = Db::connect_waiting(config.database_url.expose(), pool_wait)
                .context("connecting to the database for token numbers")?;
            vault_keys = vault_keys.with_number_blocks(NumberBlocks::new(numbering));
        }
        let indexed = crate::subjects::backfill(&db, &vault_keys)?;
        if indexed > 0 {
            tracing::info!(
                tickets = indexed,
                "requesters of earlier tickets indexed for data subjects' requests"
            );
        }
        let connectors =
            crate::connectors::load_dir(&config.connectors_dir, |name| std::env::var(name).ok())?
                .into_iter()
                .map(|c| HelpdeskClient::new(c, CONNECTOR_TIMEOUT).map(Arc::new))
                .collect::<Result<Vec<_>, _>>()?;
        for c in &connectors {
            let c = c.connector();
            db.write(|conn| {
                let end = crate::outbox::feed_end(conn)?;
                crate::connectors::cursor::register(conn, &c.id, end)
                    .map_err(crate::db::DbError::from)
            })?;
            tracing::info!(connector = %c.id, queues = ?c.queues, "helpdesk connector configured");
        }
        let sqlite = db.is_sqlite();
        let state = AppState {
            body_timeout: std::time::Duration::from_millis(config.body_timeout_ms.max(1)),
            metrics_token: config
                .metrics_token
                .clone()
                .filter(|t| !t.expose().is_empty()),
            db,
            contracts: Registry::new(set),
            keys,
            vault_keys,
            clock,
            metrics: Arc::new(Metrics::default()),
            sla_wake: Arc::new(tokio::sync::Notify::new()),
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            drain_wake: Arc::new(tokio::sync::Notify::new()),
            connector_wakes: Arc::new(
                connectors
                    .iter()
                    .map(|_| Arc::new(tokio::sync::Notify::new()))
                    .collect(),
            ),
            helpdesks: Arc::new(connectors.clone()),
            reports: Arc::new(
                crate::reports::Renderer::load(Some(&config.templates_dir))
                    .context("loading report templates")?,
            ),
            report_gateway: gateway_schedule(config)?,
            report_timezone: report_timezone(config)?,
            console: Arc::new(
                crate::http::console::ConsolePages::load(Some(&config.templates_dir))
                    .map_err(|e| anyhow::anyhow!("loading console templates: {e}"))?,
            ),
        };
        let delivery = outbox_drain(config, &state)?.map(|drain| {
            (
                drain,
                std::time::Duration::from_millis(config.delivery_poll_ms),
            )
        });
        let listener = TcpListener::bind(&config.listen)
            .with_context(|| format!("binding {}", config.listen))?;
        let port = listener.local_addr()?.port();
        if state.metrics_token.is_none() && !listener.local_addr()?.ip().is_loopback() {
            tracing::warn!(
                "GET /metrics is open to anyone who reaches this address and names contracts and their figures: set BRIDGE_METRICS_TOKEN"
            );
        }
        let app_state = state.clone();
        // Signals are handled in `run_until_signal`, installed before readiness is announced.
        let mut server = HttpServer::new(move || http::app(app_state.clone()))
            .shutdown_timeout(30)
            .disable_signals();
        if let Some(workers) = config.workers {
            server = server.workers(workers.max(1));
        }
        let server = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => {
                let tls = tls_config(cert, key)?;
                server.listen_rustls_0_23(listener, tls)?.run()
            }
            _ => server.listen(listener)?.run(),
        };
        tracing::debug!(port, tls = config.tls_cert.is_some(), "bound");
        Ok(Self {
            server,
            port,
            state,
            sla_sweep_every: (config.sla_sweep_ms > 0)
                .then(|| std::time::Duration::from_millis(config.sla_sweep_ms)),
            report_poll: (config.report_poll_ms > 0)
                .then(|| std::time::Duration::from_millis(config.report_poll_ms)),
            retention_poll: (config.retention_poll_ms > 0)
                .then(|| std::time::Duration::from_millis(config.retention_poll_ms)),
            drain_poll: (config.drain_poll_ms > 0)
                .then(|| std::time::Duration::from_millis(config.drain_poll_ms)),
            // PostgreSQL checkpoints itself.
            wal_checkpoint: (config.wal_checkpoint_ms > 0 && sqlite)
                .then(|| std::time::Duration::from_millis(config.wal_checkpoint_ms)),
            delivery,
            connectors,
            connector_jobs: config.connector_jobs,
            replica: crate::random::random_hex(8),
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (for tests and jobs).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The SLA sweeper over this gateway's state (also for tests, which sweep on demand).
    pub fn sla_sweeper(&self) -> SlaSweeper {
        SlaSweeper {
            db: self.state.db.for_jobs(),
            contracts: self.state.contracts.clone(),
            clock: self.state.clock.clone(),
            metrics: self.state.metrics.clone(),
            wake: self.state.sla_wake.clone(),
            outbox_wake: self.state.outbox_wake.clone(),
            drain_wake: self.state.drain_wake.clone(),
        }
    }

    /// The report scheduler over this gateway's state (also for tests, which run it on demand).
    pub fn report_scheduler(&self) -> ReportScheduler {
        ReportScheduler {
            db: self.state.db.for_jobs(),
            contracts: self.state.contracts.clone(),
            renderer: self.state.reports.clone(),
            clock: self.state.clock.clone(),
            gateway: self.state.report_gateway.clone(),
        }
    }

    /// The retention purge over this gateway's state (also for tests, which run it on demand).
    pub fn retention_purge(&self) -> RetentionPurge {
        RetentionPurge {
            db: self.state.db.for_jobs(),
            contracts: self.state.contracts.clone(),
            clock: self.state.clock.clone(),
        }
    }

    /// The backlog drain over this gateway's state (also for tests, which run it on demand).
    pub fn backlog_drain(&self) -> BacklogDrain {
        BacklogDrain {
            db: self.state.db.for_jobs(),
            contracts: self.state.contracts.clone(),
            keys: self.state.vault_keys.clone(),
            clock: self.state.clock.clone(),
            metrics: self.state.metrics.clone(),
            kept: Default::default(),
            wake: self.state.drain_wake.clone(),
        }
    }

    /// A poller for each configured helpdesk connection (also for tests, which poll on
    /// demand).
    pub fn connector_pollers(&self) -> Vec<ConnectorPoller> {
        self.connectors
            .iter()
            .zip(self.state.connector_wakes.iter())
            .map(|(client, wake)| ConnectorPoller {
                db: self.state.db.for_jobs(),
                contracts: self.state.contracts.clone(),
                keys: self.state.vault_keys.clone(),
                clock: self.state.clock.clone(),
                replica: self.replica.clone(),
                metrics: self.state.metrics.clone(),
                client: client.clone(),
                wake: wake.clone(),
                sla_wake: self.state.sla_wake.clone(),
                outbox_wake: self.state.outbox_wake.clone(),
            })
            .collect()
    }

    /// Starts the background jobs; they stop when the returned guard is dropped.
    fn start_jobs(&self) -> Jobs {
        let sweeper = self
            .sla_sweep_every
            .map(|every| tokio::spawn(self.sla_sweeper().run(every)));
        let drain = self
            .delivery
            .clone()
            .map(|(drain, poll)| tokio::spawn(drain.run(poll)));
        let reports = self
            .report_poll
            .map(|every| tokio::spawn(self.report_scheduler().run(every)));
        let retention = self
            .retention_poll
            .map(|every| tokio::spawn(self.retention_purge().run(every)));
        let backlog = self
            .drain_poll
            .map(|every| tokio::spawn(self.backlog_drain().run(every)));
        let checkpoints = self.wal_checkpoint.map(|every| {
            let checkpointer = crate::jobs::WalCheckpointer {
                db: self.state.db.for_jobs(),
            };
            tokio::spawn(checkpointer.run(every))
        });
        Jobs(
            sweeper
                .into_iter()
                .chain(drain)
                .chain(reports)
                .chain(retention)
                .chain(backlog)
                .chain(checkpoints)
                .chain(
                    self.connector_pollers()
                        .into_iter()
                        .filter(|_| self.connector_jobs)
                        .map(|poller| tokio::spawn(poller.run())),
                )
                .collect(),
        )
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped through [`Application::handle`].
    pub async fn run(self) -> std::io::Result<()> {
        let _jobs = self.start_jobs();
        self.server.await
    }

    /// Serves until SIGTERM or SIGINT, then stops gracefully: no new connections, requests in
    /// flight finish (up to 30 s). "listening" is logged only once the handlers are in place,
    /// so a supervisor that signals right after it cannot kill the process uncleanly.
    pub async fn run_until_signal(self) -> std::io::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let handle = self.server.handle();
        tokio::spawn(async move {
            tokio::select! {
                _ = terminate.recv() => tracing::info!("SIGTERM received, shutting down"),
                _ = interrupt.recv() => tracing::info!("SIGINT received, shutting down"),
            }
            handle.stop(true).await;
        });
        let _jobs = self.start_jobs();
        tracing::info!(port = self.port, "listening");
        self.server.await
    }
}

/// Background jobs, aborted when dropped (the server stopped).
struct Jobs(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Jobs {
    fn drop(&mut self) {
        for job in &self.0 {
            job.abort();
        }
    }
}

/// Says at start-up, rather than at the first delivery, which contractors' webhooks cannot be
/// signed (their secret is missing or not a Standard Webhooks secret): their events will wait
/// and retry until it is fixed.
fn warn_of_unusable_secrets(set: &ContractSet) {
    for file in set.in_rank_order() {
        let Some(endpoint) = &file.contract.endpoint else {
            continue;
        };
        let problem = match std::env::var(&endpoint.secret_env) {
            Err(_) => "is not set".to_owned(),
            Ok(secret) => match Signer::from_secret(&secret) {
                Ok(_) => continue,
                Err(e) => e.to_string(),
            },
        };
        tracing::warn!(contract = %file.contract.id, variable = %endpoint.secret_env, problem = %problem, "the contractor's webhook secret is unusable: its events will not be sent until it is fixed");
    }
}

/// The delivery worker for this configuration; `None` when it is turned off here.
fn outbox_drain(config: &Config, state: &AppState) -> anyhow::Result<Option<OutboxDrain>> {
    if config.delivery_poll_ms == 0 {
        return Ok(None);
    }
    let inhouse = match (&config.inhouse_webhook_url, &config.inhouse_webhook_secret) {
        (Some(url), Some(secret)) => Some(Destination {
            url: url.clone(),
            signer: Signer::from_secret(secret.expose())
                .context("BRIDGE_INHOUSE_WEBHOOK_SECRET")?,
        }),
        (Some(_), None) => {
            anyhow::bail!(
                "BRIDGE_INHOUSE_WEBHOOK_URL is set but BRIDGE_INHOUSE_WEBHOOK_SECRET is not"
            )
        }
        (None, _) => None,
    };
    let timeout = std::time::Duration::from_millis(config.delivery_timeout_ms.max(1));
    crate::crypto::tls_provider();
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .context("building the webhook client")?;
    // A send ends within the timeout and its outcome is stored in milliseconds: a claim older
    // than the timeout plus a margin belongs to a worker that died.
    let lease = chrono::Duration::from_std(timeout).unwrap_or(chrono::Duration::seconds(10))
        + chrono::Duration::seconds(5);
    Ok(Some(OutboxDrain {
        db: state.db.for_jobs(),
        contracts: state.contracts.clone(),
        clock: state.clock.clone(),
        client,
        inhouse,
        give_up: chrono::Duration::seconds(
            i64::try_from(config.delivery_give_up_secs).unwrap_or(i64::MAX / 1_000_000),
        ),
        lease,
        wake: state.outbox_wake.clone(),
    }))
}

fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> anyhow::Result<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading the key {}", key.display()))?;
    rustls::ServerConfig::builder_with_provider(crate::crypto::tls_provider())
        .with_safe_default_protocol_versions()
        .context("the TLS provider offers no protocol version")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the TLS certificate and key do not fit")
}

/// The gateway's report time zone from the configuration; an unknown name stops start-up.
pub fn report_timezone(config: &Config) -> anyhow::Result<chrono_tz::Tz> {
    config.report_timezone.parse().map_err(|_| {
        anyhow::anyhow!(
            "BRIDGE_REPORT_TIMEZONE: `{}` is not an IANA time zone (Europe/Moscow, UTC, …)",
            config.report_timezone
        )
    })
}

/// The gateway-wide report schedule from the configuration; a bad one stops start-up.
fn gateway_schedule(
    config: &Config,
) -> anyhow::Result<Option<crate::reports::schedule::GatewaySchedule>> {
    let Some(expression) = &config.report_schedule else {
        return Ok(None);
    };
    let schedule = crate::contracts::schedule::CronSchedule::parse(expression)
        .map_err(|e| anyhow::anyhow!("BRIDGE_REPORT_SCHEDULE: {e}"))?;
    let locale = match config.report_locale.as_str() {
        "en" => crate::contracts::Locale::En,
        "ru" => crate::contracts::Locale::Ru,
        other => anyhow::bail!("BRIDGE_REPORT_LOCALE: `{other}` is not en or ru"),
    };
    Ok(Some(crate::reports::schedule::GatewaySchedule {
        schedule,
        timezone: report_timezone(config)?,
        locale,
    }))
}
