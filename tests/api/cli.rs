//! The command line, run as a separate process.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use crate::helpers::{fixtures, test_contracts_dir};

fn bridge(dir: &Path, args: &[&str], contracts: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_msp-bridge"))
        .args(args)
        .env(
            "BRIDGE_DATABASE_URL",
            format!("sqlite://{}/bridge.db", dir.display()),
        )
        .env("BRIDGE_DATA_DIR", dir)
        .env("BRIDGE_CONTRACTS_DIR", contracts)
        .env_remove("BRIDGE_JWT_SECRET")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A spawned gateway that is killed if the test ends early, so no server outlives a failure.
pub(crate) struct ServerProcess(pub(crate) std::process::Child);

/// A started gateway process and what it logged.
pub(crate) struct Listening {
    pub(crate) server: ServerProcess,
    pub(crate) port: u16,
    /// Log lines up to "listening".
    pub(crate) log: Vec<String>,
    /// Log lines after it, as they come.
    pub(crate) lines: std::sync::mpsc::Receiver<String>,
    pub(crate) reader: std::thread::JoinHandle<()>,
}

impl ServerProcess {
    pub(crate) fn start(dir: &Path, extra_env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_msp-bridge"));
        command
            .arg("serve")
            .env(
                "BRIDGE_DATABASE_URL",
                format!("sqlite://{}/bridge.db", dir.display()),
            )
            .env("BRIDGE_DATA_DIR", dir)
            .env("BRIDGE_CONTRACTS_DIR", test_contracts_dir())
            .env("BRIDGE_LISTEN", "127.0.0.1:0")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        for (k, v) in extra_env {
            command.env(k, v);
        }
        Self(command.spawn().unwrap_or_else(|e| panic!("{e}")))
    }

    /// Starts `serve` and waits until it logs that it listens.
    pub(crate) fn listening(dir: &Path, extra_env: &[(&str, &str)]) -> Listening {
        let mut server = Self::start(dir, extra_env);
        let stderr = server.0.stderr.take().unwrap_or_else(|| panic!("stderr"));
        let (tx, lines) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in
                std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut log = Vec::new();
        let port = loop {
            let line = lines
                .recv_timeout(std::time::Duration::from_secs(30))
                .unwrap_or_else(|e| panic!("no start: {e}: {log:?}"));
            let port = line
                .contains("listening")
                .then(|| line.split("port=").nth(1))
                .flatten()
                .and_then(|p| {
                    p.split_whitespace()
                        .next()
                        .and_then(|n| n.parse::<u16>().ok())
                });
            log.push(line);
            if let Some(port) = port {
                break port;
            }
        };
        Listening {
            server,
            port,
            log,
            lines,
            reader,
        }
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let kill = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(kill.success());
        self.0.wait().unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_shipped_contracts_are_valid() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts");
    let out = bridge(dir.path(), &["contracts", "check"], &repo);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("severnaya-peak-2026") && stdout.contains("brightdesk-tier1-247"),
        "{stdout}"
    );
}

#[test]
fn the_shipped_articles_are_valid_and_every_grant_names_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let articles =
        msp_bridge::knowledge::load_dir(&root.join("knowledge")).unwrap_or_else(|e| panic!("{e}"));
    assert!(articles.len() >= 4, "{articles:?}");
    let contracts = msp_bridge::contracts::ContractSet::new(
        msp_bridge::contracts::load_dir(&root.join("contracts")).unwrap_or_else(|e| panic!("{e}")),
    );
    assert!(msp_bridge::knowledge::unknown_grants(&contracts, &articles).is_empty());
    for file in contracts.in_rank_order() {
        let grant = &file.contract.knowledge;
        assert!(
            articles
                .iter()
                .any(|a| grant.covers(&a.article.id, &a.article.tags)),
            "{} grants no shipped article",
            file.contract.id
        );
    }
}

#[test]
fn contract_problems_are_reported_as_file_key_message() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = bridge(
        dir.path(),
        &["contracts", "check"],
        &fixtures().join("bad-contracts"),
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    let expected = [
        "bad-cron.toml: reporting.schedule: `0 25 * * *` is not a valid cron expression",
        "bad-duration.toml: sla.targets[0].first_response: `4 hours` is not a duration",
        "bad-timezone.toml: timezone: `Moscow/Europe` is not an IANA timezone",
        "valid.toml: id: `valid` is also the id in duplicate-id.toml",
        "empty-scope.toml: scope.channels: empty scope: list at least one channel",
        "empty-scope.toml: scope.priorities: empty scope: list at least one priority",
        "unknown-key.toml: overflow.max_opne: unknown field `max_opne`",
        "bad-action.toml: confidentiality.fields.description: unknown variant `blur`",
        "unknown-field.toml: confidentiality.fields.requester.address: unknown field",
        "bad-endpoint.toml: endpoint.url: must not carry a user name or password",
        "bad-escalation.toml: overflow.escalates_to: `nowhere` is not the id of a contract in this directory",
        "self-escalation.toml: overflow.escalates_to: names this contract itself",
    ];
    for line in expected {
        assert!(stderr.contains(line), "missing `{line}` in:\n{stderr}");
    }
}

#[test]
fn apply_stores_versions_and_keeps_history() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let contracts = dir.path().join("contracts");
    std::fs::create_dir(&contracts).unwrap_or_else(|e| panic!("{e}"));
    let source = test_contracts_dir().join("acme-en.toml");
    let target = contracts.join("acme-en.toml");
    std::fs::copy(&source, &target).unwrap_or_else(|e| panic!("{e}"));
    let first = bridge(dir.path(), &["contracts", "apply"], &contracts);
    assert!(
        text(&first.stdout).contains("acme-en: applied, version 1"),
        "{}",
        text(&first.stderr)
    );
    let same = bridge(dir.path(), &["contracts", "apply"], &contracts);
    assert!(text(&same.stdout).contains("acme-en: unchanged, version 1"));
    let body = std::fs::read_to_string(&source)
        .unwrap_or_default()
        .replace("max_open = 3", "max_open = 4");
    std::fs::write(&target, body).unwrap_or_else(|e| panic!("{e}"));
    let second = bridge(dir.path(), &["contracts", "apply"], &contracts);
    assert!(
        text(&second.stdout).contains("acme-en: applied, version 2"),
        "{}",
        text(&second.stdout)
    );
    let db = msp_bridge::db::Db::connect(&format!("sqlite://{}/bridge.db", dir.path().display()))
        .unwrap_or_else(|e| panic!("{e}"));
    let history = db
        .read(|c| {
            msp_bridge::contracts::history(c, "acme-en").map_err(msp_bridge::db::DbError::from)
        })
        .unwrap_or_default();
    assert_eq!(
        history.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_ne!(history[0].sha256, history[1].sha256);
    assert!(history[1].applied_by.starts_with("cli:"));
    // The file is removed: an empty folder is refused as a likely mistake, unless meant.
    std::fs::remove_file(&target).unwrap_or_else(|e| panic!("{e}"));
    let refused = bridge(dir.path(), &["contracts", "apply"], &contracts);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("refusing to withdraw them all"),
        "{}",
        text(&refused.stderr)
    );
    let withdrawn = bridge(
        dir.path(),
        &["contracts", "apply", "--allow-empty"],
        &contracts,
    );
    assert!(
        text(&withdrawn.stdout).contains("acme-en: withdrawn, version 2"),
        "{}{}",
        text(&withdrawn.stdout),
        text(&withdrawn.stderr)
    );
    // Restored, it is a new version even with the same text.
    std::fs::copy(&source, &target).unwrap_or_else(|e| panic!("{e}"));
    let back = bridge(dir.path(), &["contracts", "apply"], &contracts);
    assert!(
        text(&back.stdout).contains("acme-en: applied, version 3"),
        "{}",
        text(&back.stdout)
    );
    let verify = bridge(dir.path(), &["audit", "verify"], &contracts);
    assert!(
        // Three versions, the withdrawal and its end carried out (`contract.end`).
        text(&verify.stdout).contains("ledger intact: 5 entries verified"),
        "{}",
        text(&verify.stdout)
    );
}

#[test]
fn tokens_are_issued_with_a_private_generated_secret_and_can_be_revoked() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let contracts = test_contracts_dir();
    let out = bridge(
        dir.path(),
        &[
            "token",
            "issue",
            "--role",
            "contractor",
            "--contractor",
            "acme",
            "--ttl",
            "2h",
        ],
        &contracts,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    let secret_file = dir.path().join("jwt-secret");
    let mode = std::fs::metadata(&secret_file)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or_default();
    assert_eq!(mode, 0o600);
    let secret = std::fs::read_to_string(&secret_file).unwrap_or_default();
    let keys = msp_bridge::auth::TokenKeys::from_secret(secret.trim().as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let claims = keys
        .verify(&token, chrono::Utc::now())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(claims.contractor.as_deref(), Some("acme"));
    assert!((claims.exp - claims.iat - 7200).abs() <= 1);
    // The token itself is never logged; the jti is printed for revocation.
    assert!(!text(&out.stderr).contains(&token));
    let revoke = bridge(dir.path(), &["token", "revoke", &claims.jti], &contracts);
    assert_eq!(text(&revoke.stdout).trim(), "revoked");

    for bad in [
        vec!["token", "issue", "--role", "contractor"],
        vec!["token", "issue", "--role", "wizard"],
        vec!["token", "issue", "--role", "admin", "--ttl", "soon"],
        vec!["token", "issue", "--role", "admin", "--ttl", "36500d"],
        vec!["token", "issue", "--role", "admin", "--ttl", "999999999d"],
        vec!["token", "issue", "--role", "admin", "--ttl", "9999999999d"],
    ] {
        let out = bridge(dir.path(), &bad, &contracts);
        assert!(!out.status.success(), "{bad:?} must fail");
        let stderr = text(&out.stderr);
        assert!(!stderr.is_empty());
        assert!(!stderr.contains("panicked"), "{bad:?}: {stderr}");
    }
    let capped = Command::new(env!("CARGO_BIN_EXE_msp-bridge"))
        .args(["token", "issue", "--role", "admin", "--ttl", "60d"])
        .env("BRIDGE_DATA_DIR", dir.path())
        .env("BRIDGE_TOKEN_MAX_TTL", "admin=90d")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(capped.status.success(), "{}", text(&capped.stderr));
    let refused = bridge(
        dir.path(),
        &["token", "issue", "--role", "admin", "--ttl", "60d"],
        &contracts,
    );
    assert!(
        text(&refused.stderr).contains("at most 30 days"),
        "{}",
        text(&refused.stderr)
    );
}

#[test]
fn audit_verify_fails_on_a_tampered_ledger() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let contracts = test_contracts_dir();
    assert!(
        bridge(dir.path(), &["contracts", "apply"], &contracts)
            .status
            .success()
    );
    let db = msp_bridge::db::Db::connect(&format!("sqlite://{}/bridge.db", dir.path().display()))
        .unwrap_or_else(|e| panic!("{e}"));
    db.write(|c| {
        use diesel::connection::SimpleConnection;
        c.batch_execute("UPDATE audit_log SET actor = 'nobody' WHERE seq = 1")
            .map_err(msp_bridge::db::DbError::from)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let out = bridge(dir.path(), &["audit", "verify"], &contracts);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("ledger BROKEN at entry 1"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn serve_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_msp-bridge"))
        .arg("serve")
        .env(
            "BRIDGE_DATABASE_URL",
            format!("sqlite://{}/bridge.db", dir.path().display()),
        )
        .env("BRIDGE_DATA_DIR", dir.path())
        .env("BRIDGE_CONTRACTS_DIR", test_contracts_dir())
        .env("BRIDGE_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = child.stderr.take().unwrap_or_else(|| panic!("stderr"));
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    // Wait (by reading its log, not by sleeping) until it listens.
    let listening = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("listening"));
    assert!(listening, "the gateway never started");
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(kill.success());
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "exit status after SIGTERM: {status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");
}

/// Drives the real binary at debug level and checks that no token, secret or personal value
/// from the ticket reaches its log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_no_tokens_secrets_or_personal_data() {
    use msp_bridge::auth::{Role, TokenKeys};
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let Listening {
        mut server,
        port,
        mut log,
        lines: rx,
        reader,
    } = ServerProcess::listening(
        dir.path(),
        &[
            ("RUST_LOG", "debug"),
            ("BRIDGE_JWT_SECRET", crate::helpers::SECRET),
        ],
    );
    let keys =
        TokenKeys::from_secret(crate::helpers::SECRET.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let now = chrono::Utc::now();
    let hour = std::time::Duration::from_secs(3600);
    let (inhouse, _) = keys
        .issue("ops", Role::Inhouse, None, hour, now)
        .unwrap_or_else(|e| panic!("{e}"));
    let (acme, _) = keys
        .issue("agent", Role::Contractor, Some("acme"), hour, now)
        .unwrap_or_else(|e| panic!("{e}"));
    let base = format!("http://127.0.0.1:{port}");
    msp_bridge::crypto::tls_provider();
    let client = reqwest::Client::new();
    let created: serde_json::Value = client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(&inhouse)
        .json(&crate::helpers::ticket_en("LOG-1"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_default();
    let id = created["id"].as_i64().unwrap_or_default();
    let ru = client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(&inhouse)
        .json(&crate::redaction::ticket_ru("LOG-RU"))
        .send()
        .await;
    assert_eq!(ru.map(|r| r.status().as_u16()).unwrap_or_default(), 201);
    assert!(id > 0, "{created}");
    let view = client
        .get(format!("{base}/api/v1/contractor/tickets/{id}"))
        .bearer_auth(&acme)
        .send()
        .await;
    assert_eq!(view.map(|r| r.status().as_u16()).unwrap_or_default(), 200);
    let reply =
        serde_json::json!({ "body": "Refund sent to john.smith@example.com", "public": true });
    let _ = client
        .post(format!("{base}/api/v1/contractor/tickets/{id}/replies"))
        .bearer_auth(&acme)
        .json(&reply)
        .send()
        .await;
    // A data subject looked up by its e-mail and name in the query string: the path is logged,
    // never the query.
    let (compliance, _) = keys
        .issue("dpo", Role::Compliance, None, hour, now)
        .unwrap_or_else(|e| panic!("{e}"));
    let looked_up = client
        .get(format!(
            "{base}/api/v1/subjects/disclosures?email=john.smith%40example.com&name=John%20Smith"
        ))
        .bearer_auth(&compliance)
        .send()
        .await;
    assert_eq!(
        looked_up.map(|r| r.status().as_u16()).unwrap_or_default(),
        200
    );
    // Refused tokens and bad bodies are logged too: check them as well.
    let _ = client
        .get(format!("{base}/api/v1/tickets/{id}"))
        .bearer_auth(format!("{inhouse}x"))
        .send()
        .await;
    let mut bad = crate::helpers::ticket_en("LOG-2");
    bad["requester"]["email"] = serde_json::json!(["john.smith@example.com"]);
    let _ = client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(&inhouse)
        .json(&bad)
        .send()
        .await;
    // Log forging: a key with a newline, a fake log line and escape sequences.
    let forging = "{\"subject\": \"s\", \"x\\n2026-11-30T00:00:00.000000Z  INFO msp_bridge: FORGED admin token issued\\u001b[31m\\r\": 1}";
    let refused = client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(&inhouse)
        .header("content-type", "application/json")
        .body(forging)
        .send()
        .await
        .map(|r| r.status().as_u16());
    assert_eq!(refused.unwrap_or_default(), 400);

    assert!(server.terminate().success());
    let _ = reader.join();
    log.extend(rx.try_iter());
    for line in &log {
        assert!(
            !line.starts_with("2026-11-30T00:00:00.000000Z"),
            "a forged line: {line}"
        );
        assert!(
            !line.contains('\u{1b}') && !line.contains('\r'),
            "a control character: {line}"
        );
    }
    assert!(
        log.iter()
            .any(|l| l.contains("FORGED") && l.contains("unknown_field")),
        "the forged key is logged inside the genuine line: {log:?}"
    );
    let log = log.join("\n");
    assert!(
        log.contains("ticket ingested") && log.contains("/api/v1/subjects/disclosures"),
        "the log was captured: {log}"
    );
    let mut forbidden: Vec<&str> = crate::helpers::EN_SECRETS.to_vec();
    forbidden.extend(crate::redaction::RU_SECRETS);
    forbidden.extend([
        inhouse.as_str(),
        acme.as_str(),
        compliance.as_str(),
        crate::helpers::SECRET,
        "john.smith%40example.com",
        "John%20Smith",
    ]);
    for secret in forbidden {
        assert!(!log.contains(secret), "the log contains `{secret}`");
    }
    // Not even the signature part of a token.
    for token in [&inhouse, &acme] {
        let signature = token.rsplit('.').next().unwrap_or_default();
        assert!(!log.contains(signature));
    }
}

#[test]
fn contracts_preview_prints_the_view_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let ticket = dir.path().join("ticket.json");
    std::fs::write(&ticket, crate::redaction::ticket_ru("CLI-1").to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    let path = ticket.to_string_lossy().into_owned();
    let out = bridge(
        dir.path(),
        &["contracts", "preview", "ural-ru", &path],
        &test_contracts_dir(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let view: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(view["view"]["requester"]["email"], "[EMAIL_1]");
    crate::redaction::assert_no_ru_secrets("CLI preview", &view["view"]);
    let db = msp_bridge::db::Db::connect(&format!("sqlite://{}/bridge.db", dir.path().display()))
        .unwrap_or_else(|e| panic!("{e}"));
    let kept: i64 = db
        .read(|c| {
            use diesel::prelude::*;
            msp_bridge::db::schema::vault_tokens::table
                .count()
                .get_result(c)
                .map_err(msp_bridge::db::DbError::from)
        })
        .unwrap_or(-1);
    assert_eq!(kept, 0, "no token was kept");

    let unknown = bridge(
        dir.path(),
        &["contracts", "preview", "nope", &path],
        &test_contracts_dir(),
    );
    assert!(!unknown.status.success());
    assert!(text(&unknown.stderr).contains("no contract `nope`"));
    std::fs::write(&ticket, "{\"source\": 1}").unwrap_or_else(|e| panic!("{e}"));
    let bad = bridge(
        dir.path(),
        &["contracts", "preview", "ural-ru", &path],
        &test_contracts_dir(),
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("source"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn report_run_stores_and_writes_each_format() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let contracts = test_contracts_dir();
    assert!(
        bridge(dir.path(), &["contracts", "apply"], &contracts)
            .status
            .success()
    );
    let out_dir = dir.path().join("out");
    let out_arg = out_dir.display().to_string();
    let args = [
        "report",
        "run",
        "--contract",
        "acme-en",
        "--from",
        "2020-01-01",
        "--to",
        "2100-01-01",
        "--format",
        "json,csv",
        "--locale",
        "ru",
        "--output",
        &out_arg,
    ];
    let out = bridge(dir.path(), &args, &contracts);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("report 1 acme-en json sha256="),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("report 2 acme-en csv sha256="),
        "{lines:?}"
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("report-1.json")).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // The CLI's own apply is in the ledger: the chain verifies and the version is listed.
    assert_eq!(json["ledger"]["intact"], true);
    assert_eq!(json["contract_versions"][0]["version"], 1);
    let csv =
        std::fs::read_to_string(out_dir.join("report-2.csv")).unwrap_or_else(|e| panic!("{e}"));
    assert!(csv.starts_with("seq,at,action"), "{csv}");
    // Bad input: a clear message and a failing exit, nothing stored.
    for (bad, says) in [
        (
            vec![
                "report",
                "run",
                "--contract",
                "nope",
                "--from",
                "2026-01-01",
                "--to",
                "2026-02-01",
            ],
            "no contract `nope`",
        ),
        (
            vec![
                "report",
                "run",
                "--from",
                "2026-02-01",
                "--to",
                "2026-01-01",
            ],
            "must be after",
        ),
        (
            vec![
                "--report-timezone",
                "Mars/Olympus",
                "report",
                "run",
                "--from",
                "2026-01-01",
                "--to",
                "2026-02-01",
            ],
            "BRIDGE_REPORT_TIMEZONE: `Mars/Olympus` is not an IANA time zone",
        ),
        (
            vec!["report", "run", "--from", "yesterday", "--to", "2026-01-01"],
            "expected an RFC 3339 instant (2026-11-29T09:00:00Z) or a date",
        ),
        (
            vec![
                "report",
                "run",
                "--from",
                "2026-01-01",
                "--to",
                "2026-02-01",
                "--format",
                "pdf",
            ],
            "not html, json or csv",
        ),
    ] {
        let out = bridge(dir.path(), &bad, &contracts);
        assert!(!out.status.success(), "{bad:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{bad:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn connector_files_are_checked_and_a_wrong_one_stops_the_start() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let connectors = dir.path().join("connectors");
    std::fs::create_dir_all(&connectors).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(connectors.join("rt.token"), "1-27-abc").unwrap_or_else(|e| panic!("{e}"));
    let good = "id = \"rt-support\"\nkind = \"rt\"\nurl = \"http://127.0.0.1:9/REST/2.0\"\n\
                token_file = \"rt.token\"\nuser = \"msp-bridge\"\nqueues = [\"Support\"]\n";
    std::fs::write(connectors.join("rt.toml"), good).unwrap_or_else(|e| panic!("{e}"));
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_msp-bridge"))
            .args(args)
            .env(
                "BRIDGE_DATABASE_URL",
                format!("sqlite://{}/bridge.db", dir.path().display()),
            )
            .env("BRIDGE_DATA_DIR", dir.path())
            .env("BRIDGE_CONTRACTS_DIR", test_contracts_dir())
            .env("BRIDGE_CONNECTORS_DIR", &connectors)
            .env("BRIDGE_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let checked = run(&["connectors", "check"]);
    let out = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{out}");
    assert!(
        out.contains("rt-support: ok") && out.contains("1 connection(s)"),
        "{out}"
    );
    assert!(
        !out.contains("1-27-abc"),
        "the token is never printed: {out}"
    );

    std::fs::write(
        connectors.join("rt.toml"),
        good.replace("[\"Support\"]", "[]"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for args in [&["connectors", "check"][..], &["serve"][..]] {
        let refused = run(args);
        let err = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "{args:?} went on");
        assert!(
            err.contains("rt.toml") && err.contains("queues"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn knowledge_check_names_each_bad_file_and_apply_versions_articles() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let articles = dir.path().join("knowledge");
    std::fs::create_dir_all(&articles).unwrap_or_else(|e| panic!("{e}"));
    for entry in std::fs::read_dir(fixtures().join("knowledge")).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, articles.join(name)).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_msp-bridge"))
            .args(args)
            .env(
                "BRIDGE_DATABASE_URL",
                format!("sqlite://{}/bridge.db", dir.path().display()),
            )
            .env("BRIDGE_DATA_DIR", dir.path())
            .env("BRIDGE_CONTRACTS_DIR", test_contracts_dir())
            .env("BRIDGE_KNOWLEDGE_DIR", &articles)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let text = |o: &Output| {
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };

    let checked = run(&["knowledge", "check"]);
    let (out, err) = text(&checked);
    assert!(checked.status.success(), "{out}{err}");
    assert!(
        out.contains("refund-ru.md: ok (refund-ru, ru, contractors"),
        "{out}"
    );
    assert!(out.contains("5 article(s)"), "{out}");

    let applied = run(&["knowledge", "apply"]);
    let (out, err) = text(&applied);
    assert!(applied.status.success(), "{out}{err}");
    assert!(out.contains("refund-en: applied, version 1"), "{out}");
    let again = run(&["knowledge", "apply"]);
    assert!(text(&again).0.contains("refund-en: unchanged, version 1"));

    // A contract granting an article no file holds is warned of.
    let contracts = dir.path().join("contracts");
    std::fs::create_dir_all(&contracts).unwrap_or_else(|e| panic!("{e}"));
    let acme = std::fs::read_to_string(test_contracts_dir().join("acme-en.toml"))
        .unwrap_or_else(|e| panic!("{e}"))
        .replace(
            "articles = [\"shipping-en\"]",
            "articles = [\"shiping-en\"]",
        );
    std::fs::write(contracts.join("acme-en.toml"), acme).unwrap_or_else(|e| panic!("{e}"));
    let warned = Command::new(env!("CARGO_BIN_EXE_msp-bridge"))
        .args(["knowledge", "check"])
        .env("BRIDGE_CONTRACTS_DIR", &contracts)
        .env("BRIDGE_KNOWLEDGE_DIR", &articles)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        text(&warned)
            .0
            .contains("warning: acme-en: knowledge.articles: no article `shiping-en`"),
        "{:?}",
        text(&warned)
    );

    // Bad files: each named with its key; nothing applied.
    std::fs::write(articles.join("broken.md"), "# no front matter\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let dup = std::fs::read_to_string(articles.join("refund-en.md"))
        .unwrap_or_else(|e| panic!("{e}"))
        .replace("Issuing refunds", "Refunds again");
    std::fs::write(articles.join("zz-copy.md"), dup).unwrap_or_else(|e| panic!("{e}"));
    let refused = run(&["knowledge", "apply"]);
    let (out, err) = text(&refused);
    assert!(!refused.status.success(), "{out}{err}");
    assert!(
        err.contains("broken.md: -: must start with front matter"),
        "{err}"
    );
    assert!(
        err.contains("zz-copy.md: id: `refund-en` is also the id in refund-en.md"),
        "{err}"
    );
    assert!(err.contains("2 problem(s) found"), "{err}");
}
