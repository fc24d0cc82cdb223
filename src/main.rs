//! The `msp-bridge` command line.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use msp_bridge::auth::{Role, TokenKeys};
use msp_bridge::clock::{Clock, SystemClock};
use msp_bridge::config::Config;
use msp_bridge::contracts::{self, ContractError};
use msp_bridge::db::{Db, DbError};
use msp_bridge::{app::Application, auth, ledger, telemetry};

#[derive(Parser)]
#[command(
    name = "msp-bridge",
    version,
    about = "Gateway between in-house support and outside contractors"
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway: migrate, apply contracts, serve HTTP.
    Serve,
    /// Print the OpenAPI 3.1 document of the HTTP API (as served at `GET /openapi.json`).
    Openapi,
    /// Apply pending database migrations.
    Migrate,
    /// Check or apply contract files.
    Contracts {
        #[command(subcommand)]
        command: ContractsCommand,
    },
    /// Check or apply the knowledge-base articles.
    Knowledge {
        #[command(subcommand)]
        command: KnowledgeCommand,
    },
    /// Check the helpdesk connector files.
    Connectors {
        #[command(subcommand)]
        command: ConnectorsCommand,
    },
    /// Issue or revoke access tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Check the audit ledger.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Compliance reports.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// A data subject's requests.
    Subject {
        #[command(subcommand)]
        command: SubjectCommand,
    },
}

#[derive(Subcommand)]
enum SubjectCommand {
    /// Print every disclosure of one person's data to contractors (audited as
    /// `subject.access`); exits non-zero when a selector is not acceptable.
    Report {
        /// The person's e-mail address.
        #[arg(long)]
        email: Option<String>,
        /// The person's phone number, in any spelling.
        #[arg(long)]
        phone: Option<String>,
        /// The person's full name, in any case form.
        #[arg(long)]
        name: Option<String>,
        /// `json` (default) or `html`.
        #[arg(long, default_value = "json", value_parser = ["json", "html"])]
        format: String,
        /// Labels of the HTML report: `en` (default) or `ru`.
        #[arg(long, value_parser = parse_locale)]
        locale: Option<msp_bridge::contracts::Locale>,
    },
}

#[derive(Subcommand)]
enum ConnectorsCommand {
    /// Check every connector file (and that its token is there); print one line per
    /// connection, or the problem (file, key, why) and exit non-zero.
    Check,
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Produce a report now and store it; print a line per stored format.
    Run {
        /// The contract; leave out for the whole gateway.
        #[arg(long)]
        contract: Option<String>,
        /// Period start: RFC 3339 (`2026-06-01T00:00:00Z`) or a date (00:00 in
        /// `BRIDGE_REPORT_TIMEZONE`).
        #[arg(long)]
        from: msp_bridge::reports::Bound,
        /// Period end (exclusive), same forms.
        #[arg(long)]
        to: msp_bridge::reports::Bound,
        /// Formats (`html,json,csv`); the contract's when left out.
        #[arg(long, value_delimiter = ',', value_parser = parse_format)]
        format: Vec<msp_bridge::contracts::ReportFormat>,
        /// `en` or `ru`; the contract's when left out.
        #[arg(long, value_parser = parse_locale)]
        locale: Option<msp_bridge::contracts::Locale>,
        /// Also write each stored report into this folder as `report-<id>.<format>`.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}

fn parse_format(text: &str) -> Result<msp_bridge::contracts::ReportFormat, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| format!("`{text}` is not html, json or csv"))
}

fn parse_locale(text: &str) -> Result<msp_bridge::contracts::Locale, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| format!("`{text}` is not en or ru"))
}

#[derive(Subcommand)]
enum ContractsCommand {
    /// Validate every contract file; print each problem as `file: key: what is wrong`.
    Check,
    /// Store each changed contract file as a new version; withdraw contracts whose file is
    /// gone and recall their open shares.
    Apply {
        /// Withdraw every contract when the folder holds none (otherwise refused as a likely
        /// mistake: a wrong folder would take every ticket back from every contractor).
        #[arg(long)]
        allow_empty: bool,
    },
    /// Print what a contract's contractor would see of a ticket (JSON file), and the receipt,
    /// without storing anything.
    Preview {
        /// The contract id.
        contract: String,
        /// A ticket as `POST /api/v1/tickets` takes it.
        ticket: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum KnowledgeCommand {
    /// Validate every article file; print each problem as `file: key: what is wrong`, and
    /// warn of contracts granting article ids no file holds.
    Check,
    /// Store each changed article as a new version; withdraw articles whose file is gone.
    Apply,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new token.
    Issue {
        /// inhouse, contractor, compliance or admin.
        #[arg(long)]
        role: Role,
        /// The contractor id (contractor tokens only).
        #[arg(long)]
        contractor: Option<String>,
        /// Lifetime, e.g. `30d`, `12h`.
        #[arg(long, default_value = "30d")]
        ttl: String,
        /// Who the token is for.
        #[arg(long, default_value = "cli")]
        sub: String,
    },
    /// Revoke a token by its `jti`.
    Revoke {
        /// The token id.
        jti: String,
        /// Why.
        #[arg(long, default_value = "revoked by an operator")]
        reason: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain and name the first broken entry.
    Verify,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init_logging();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

/// The vault's keys as `serve` loads them (the same key, or the vault is unreadable).
fn vault_keys(config: &Config) -> anyhow::Result<msp_bridge::redaction::VaultKeys> {
    Ok(msp_bridge::redaction::VaultKeys::load(
        config.vault_key.as_ref().map(|s| s.expose().as_str()),
        &config.data_dir,
    )?)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config;
    let clock = SystemClock;
    match cli.command {
        Command::Serve => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let app = Application::build(&config, Arc::new(clock))?;
                app.run_until_signal().await?;
                tracing::info!("stopped");
                Ok::<_, anyhow::Error>(())
            })?;
        }
        Command::Openapi => print!("{}", msp_bridge::http::openapi::document_json()),
        Command::Migrate => {
            let applied = Db::connect(config.database_url.expose())?.migrate()?;
            println!("{} migration(s) applied", applied.len());
            for name in applied {
                println!("  {name}");
            }
        }
        Command::Connectors {
            command: ConnectorsCommand::Check,
        } => match msp_bridge::connectors::load_dir(&config.connectors_dir, |name| {
            std::env::var(name).ok()
        }) {
            Ok(connections) => {
                for c in &connections {
                    println!(
                        "{}: ok ({:?}, {}, queues {:?})",
                        c.id, c.kind, c.url, c.queues
                    );
                }
                println!("{} connection(s)", connections.len());
            }
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitCode::FAILURE);
            }
        },
        Command::Contracts { command } => match contracts::load_dir(&config.contracts_dir) {
            Err(ContractError::Invalid(problems)) => {
                for p in &problems {
                    eprintln!("{p}");
                }
                eprintln!("{} problem(s) found", problems.len());
                return Ok(ExitCode::FAILURE);
            }
            Err(e) => return Err(e.into()),
            Ok(files) => match command {
                ContractsCommand::Check => {
                    for f in &files {
                        println!(
                            "{}: ok ({}, sha256 {})",
                            f.file_name,
                            f.contract.id,
                            &f.sha256[..12]
                        );
                        for notice in f.contract.confidentiality.notices() {
                            println!("  {}: {notice}", f.file_name);
                        }
                    }
                }
                ContractsCommand::Preview { contract, ticket } => {
                    let text = std::fs::read(&ticket)
                        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", ticket.display()))?;
                    let input: msp_bridge::tickets::TicketInput =
                        msp_bridge::http::extract::parse_json(&text)
                            .map_err(|e| anyhow::anyhow!("{}: {e}", ticket.display()))?;
                    let ticket = msp_bridge::tickets::NewTicket::try_from(input)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", ticket.display()))?;
                    let set = contracts::ContractSet::new(files);
                    if set.get(&contract).is_none() {
                        anyhow::bail!(
                            "no contract `{contract}` in {}",
                            config.contracts_dir.display()
                        );
                    }
                    let db = Db::connect(config.database_url.expose())?;
                    db.migrate()?;
                    let keys = vault_keys(&config)?;
                    let now = clock.now();
                    let out = db.dry_run(|c| {
                        msp_bridge::service::sharing::preview(
                            c, &set, &keys, &contract, &ticket, now,
                        )
                    })?;
                    println!("{}", serde_json::to_string_pretty(&out)?);
                }
                ContractsCommand::Apply { allow_empty } => {
                    let db = Db::connect(config.database_url.expose())?;
                    db.migrate()?;
                    let actor = cli_actor();
                    let set = contracts::ContractSet::new(files);
                    let (applied, recalled) = db.write(|c| {
                        msp_bridge::service::recall::apply_contracts(
                            c,
                            &set,
                            &actor,
                            allow_empty,
                            clock.now(),
                        )
                    })?;
                    for a in applied {
                        println!(
                            "{}: {}, version {} (sha256 {})",
                            a.id,
                            a.outcome(),
                            a.version,
                            &a.sha256[..12]
                        );
                    }
                    if recalled > 0 {
                        println!("{recalled} share(s) of contracts out of force recalled");
                    }
                }
            },
        },
        Command::Knowledge { command } => {
            let articles = match msp_bridge::knowledge::load_dir(&config.knowledge_dir) {
                Err(msp_bridge::knowledge::KnowledgeError::Invalid(problems)) => {
                    for p in &problems {
                        eprintln!("{p}");
                    }
                    eprintln!("{} problem(s) found", problems.len());
                    return Ok(ExitCode::FAILURE);
                }
                other => other?,
            };
            match command {
                KnowledgeCommand::Check => {
                    for f in &articles {
                        let a = &f.article;
                        println!(
                            "{}: ok ({}, {}, {}, tags {:?}, sha256 {})",
                            f.file_name,
                            a.id,
                            a.language.as_str(),
                            a.audience.as_str(),
                            a.tags,
                            &f.sha256[..12]
                        );
                    }
                    println!("{} article(s)", articles.len());
                    if let Ok(files) = contracts::load_dir(&config.contracts_dir) {
                        let set = contracts::ContractSet::new(files);
                        for warning in msp_bridge::knowledge::unknown_grants(&set, &articles) {
                            println!("warning: {warning}");
                        }
                    }
                }
                KnowledgeCommand::Apply => {
                    let db = Db::connect(config.database_url.expose())?;
                    db.migrate()?;
                    let actor = cli_actor();
                    let applied = db.write(|c| {
                        msp_bridge::knowledge::apply(c, &articles, &actor, clock.now())
                    })?;
                    for a in applied {
                        println!(
                            "{}: {}, version {} (sha256 {})",
                            a.id,
                            a.outcome(),
                            a.version,
                            &a.sha256[..12]
                        );
                    }
                }
            }
        }
        Command::Token { command } => match command {
            TokenCommand::Issue {
                role,
                contractor,
                ttl,
                sub,
            } => {
                let ttl =
                    contracts::duration::parse(&ttl).map_err(|e| anyhow::anyhow!("--ttl: {e}"))?;
                let keys = TokenKeys::load(
                    config.jwt_secret.as_ref().map(|s| s.expose().as_str()),
                    &config.data_dir,
                )?
                .with_max_lifetimes(config.token_max_ttl);
                let (token, claims) =
                    keys.issue(&sub, role, contractor.as_deref(), ttl, clock.now())?;
                println!("{token}");
                eprintln!(
                    "jti {} expires {}",
                    claims.jti,
                    chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_default()
                );
            }
            TokenCommand::Revoke { jti, reason } => {
                let db = Db::connect(config.database_url.expose())?;
                db.migrate()?;
                let fresh = db.write(|c| {
                    auth::revoke(c, &jti, &reason, clock.now()).map_err(DbError::from)
                })?;
                println!("{}", if fresh { "revoked" } else { "already revoked" });
            }
        },
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let db = Db::connect(config.database_url.expose())?;
            db.migrate()?;
            ledger::seal_committed(&db)?;
            let result = db.read(|c| ledger::verify(c).map_err(DbError::from))?;
            match result.first_broken {
                None => println!("ledger intact: {} entries verified", result.entries),
                Some(b) => {
                    eprintln!(
                        "ledger BROKEN at entry {}: {} ({} entries before it verified)",
                        b.seq, b.problem, result.entries
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Command::Report {
            command:
                ReportCommand::Run {
                    contract,
                    from,
                    to,
                    format,
                    locale,
                    output,
                },
        } => return run_report(&config, contract, from, to, format, locale, output),
        Command::Subject {
            command:
                SubjectCommand::Report {
                    email,
                    phone,
                    name,
                    format,
                    locale,
                },
        } => {
            let selectors = msp_bridge::subjects::Selectors { email, phone, name };
            let db = Db::connect(config.database_url.expose())?;
            db.migrate()?;
            let keys = vault_keys(&config)?;
            let actor = cli_actor();
            let now = clock.now();
            let report = db.write(|c| {
                msp_bridge::ledger::seal(c)?;
                msp_bridge::service::subjects::disclosures(c, &keys, &selectors, &actor, now)
            });
            let report = match report {
                Err(msp_bridge::subjects::SubjectError::Invalid { field, message }) => {
                    eprintln!("error: --{field}: {message}");
                    return Ok(ExitCode::FAILURE);
                }
                other => other?,
            };
            if format == "html" {
                let renderer = msp_bridge::reports::Renderer::load(Some(&config.templates_dir))?;
                let locale = locale.unwrap_or(msp_bridge::contracts::Locale::En);
                print!("{}", renderer.render_subject(&report, locale)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::too_many_arguments)]
fn run_report(
    config: &Config,
    contract: Option<String>,
    from: msp_bridge::reports::Bound,
    to: msp_bridge::reports::Bound,
    formats: Vec<msp_bridge::contracts::ReportFormat>,
    locale: Option<msp_bridge::contracts::Locale>,
    output: Option<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    use msp_bridge::reports::{self, Period, Renderer, Request};
    let set = contracts::ContractSet::new(contracts::load_dir(&config.contracts_dir)?);
    let asked = (!formats.is_empty()).then_some(formats);
    let formats = match reports::formats_for(&set, contract.as_deref(), asked) {
        Ok(formats) => formats,
        Err(reports::ReportError::NotFound) => {
            eprintln!(
                "error: no contract `{}` in {}",
                contract.as_deref().unwrap_or_default(),
                config.contracts_dir.display()
            );
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    let renderer = Renderer::load(Some(&config.templates_dir))?;
    let request = Request {
        contract,
        period: Period::between(from, to, msp_bridge::app::report_timezone(config)?)?,
        formats,
        locale,
        trigger: "demand",
        requested_by: cli_actor(),
    };
    let db = Db::connect(config.database_url.expose())?;
    db.migrate()?;
    let now = SystemClock.now();
    let stored = match reports::produce(&db, &set, &renderer, &request, now) {
        Ok(stored) => stored,
        Err(reports::ReportError::NotFound) => {
            eprintln!(
                "error: no such contract in {}",
                config.contracts_dir.display()
            );
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    for meta in stored {
        println!(
            "report {} {} {} sha256={}",
            meta.id, meta.scope, meta.format, meta.sha256
        );
        if let Some(dir) = &output {
            let (_, content) = db.read(|c| reports::get(c, meta.id))?;
            std::fs::create_dir_all(dir)?;
            std::fs::write(
                dir.join(msp_bridge::reports::file_name(meta.id.get(), &meta.format)),
                content,
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
