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
}

impl std::str::FromStr for Sensitive<String> {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Sensitive(s.to_owned()))
    }
}
