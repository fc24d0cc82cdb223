//! The console: sign-in with a cookie, pages without script, and a real browser (headless
//! Chromium driven over WebDriver) signing in, running a report and reading it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use msp_bridge::auth::Role;
use msp_bridge::clock::Clock;
use serde_json::{Value, json};

use crate::helpers::{TestApp, ticket_en};
use crate::on_both_backends;

fn no_redirects() -> reqwest::Client {
    msp_bridge::crypto::tls_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The value of the hidden `csrf` field in a console page.
fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

/// The `name=value` of a `Set-Cookie` header for `name`, and the whole header.
pub(crate) fn set_cookie(resp: &reqwest::Response, name: &str) -> (String, String) {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            (
                v.split(';').next().unwrap_or_default().to_owned(),
                v.to_owned(),
            )
        })
        .unwrap_or_default()
}

/// A browser's visit to the sign-in page: the sign-in cookie and the form's CSRF value.
async fn sign_in_page(app: &TestApp) -> (String, String) {
    let page = no_redirects()
        .get(format!("{}/console/sign-in", app.base))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (cookie, _) = set_cookie(&page, "bridge_console_login");
    let csrf = csrf_of(&page.text().await.unwrap_or_default());
    assert!(!cookie.is_empty() && csrf.len() == 64, "{cookie} {csrf}");
    (cookie, csrf)
}

/// Posts a console form as a browser on `origin` would, with `cookie`.
async fn post_form(
    app: &TestApp,
    path: &str,
    origin: Option<&str>,
    cookie: &str,
    body: String,
) -> reqwest::Response {
    let mut req = no_redirects()
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie)
        .body(body);
    if let Some(origin) = origin {
        req = req.header("origin", origin);
    }
    req.send().await.unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) async fn sign_in(app: &TestApp, token: &str) -> reqwest::Response {
    let (cookie, csrf) = sign_in_page(app).await;
    // JWTs are URL-safe: no encoding needed.
    post_form(
        app,
        "/console/sign-in",
        Some(&own_origin(app)),
        &cookie,
        format!("token={token}&csrf={csrf}"),
    )
    .await
}

fn own_origin(app: &TestApp) -> String {
    app.base.clone()
}

pub(crate) async fn get_page(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    no_redirects()
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn the_console_signs_in_with_a_cookie_and_shows_no_script(app: TestApp) {
    // Not signed in: sent to the sign-in page.
    let home = get_page(&app, "/console", "").await;
    assert_eq!(home.status(), 303);
    assert_eq!(home.headers()["location"], "/console/sign-in");
    // A wrong token, and a contractor's, are refused with a page that says why.
    let wrong = sign_in(&app, "not-a-token").await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.unwrap_or_default().contains("not valid"));
    let contractor = sign_in(&app, &app.contractor("acme")).await;
    assert_eq!(contractor.status(), 403);
    // A compliance token opens a session: an HttpOnly, SameSite=Strict cookie scoped to the
    // console, holding a random session id — never the token — for at most 8 hours.
    let token = app.token(Role::Compliance, None);
    let ok = sign_in(&app, &token).await;
    assert_eq!(ok.status(), 303);
    let (pair, cookie) = set_cookie(&ok, "bridge_console");
    for flag in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=3600",
    ] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    for part in token.split('.') {
        assert!(
            !cookie.contains(part),
            "the cookie carries the token: {cookie}"
        );
    }
    let page = get_page(&app, "/console", &pair).await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = page.text().await.unwrap_or_default();
    assert!(!html.contains("<script"), "the console runs no script");
    assert!(html.contains("acme-en"), "{html}");
    assert!(html.contains("The chain verifies"), "{html}");
    let csrf = csrf_of(&html);
    // The cookie is not a way into the API, neither as a cookie nor as a bearer.
    let api = get_page(&app, "/api/v1/reports", &pair).await;
    assert_eq!(api.status(), 401);
    let session_id = pair.split_once('=').map(|(_, v)| v).unwrap_or_default();
    assert_eq!(app.get("/api/v1/reports", session_id).await.status, 401);

    // Forms must come from this console and carry the session's CSRF value.
    let run = |csrf: &str| format!("contract=&from=2026-05-01&to=2026-06-02&locale=en&csrf={csrf}");
    let other_port = format!(
        "http://localhost:{}",
        app.base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok())
            .map_or(1, |p| p.wrapping_add(1))
    );
    for (what, origin, body) in [
        ("no CSRF value", Some(own_origin(&app)), run("")),
        (
            "a wrong CSRF value",
            Some(own_origin(&app)),
            run(&"0".repeat(64)),
        ),
        (
            "another port of this host",
            Some(other_port.clone()),
            run(&csrf),
        ),
        (
            "another site",
            Some("https://attacker.example".to_owned()),
            run(&csrf),
        ),
        ("no Origin or Referer", None, run(&csrf)),
    ] {
        let refused = post_form(&app, "/console/reports", origin.as_deref(), &pair, body).await;
        assert_eq!(refused.status(), 403, "{what}");
    }
    assert_eq!(app.count("reports"), 0, "nothing was run");
    let ran = post_form(
        &app,
        "/console/reports",
        Some(&own_origin(&app)),
        &pair,
        run(&csrf),
    )
    .await;
    assert_eq!(ran.status(), 303);
    assert_eq!(
        app.count("reports"),
        4,
        "HTML, JSON, disclosure CSV, figures CSV"
    );

    // Sign-in cannot be forced from elsewhere (login CSRF): a form from another port, or one
    // whose CSRF value is not the sign-in cookie's, opens no session.
    let (login, login_csrf) = sign_in_page(&app).await;
    let attacker = app.token(Role::Admin, None);
    for (origin, cookie, csrf) in [
        (other_port.as_str(), login.as_str(), login_csrf.as_str()),
        (own_origin(&app).as_str(), login.as_str(), "f00d"),
        (own_origin(&app).as_str(), "", login_csrf.as_str()),
    ] {
        let forced = post_form(
            &app,
            "/console/sign-in",
            Some(origin),
            cookie,
            format!("token={attacker}&csrf={csrf}"),
        )
        .await;
        assert_eq!(forced.status(), 403);
        assert!(set_cookie(&forced, "bridge_console").0.is_empty());
    }

    // Signing out ends the session for good, whatever the browser keeps.
    let refused = post_form(
        &app,
        "/console/sign-out",
        Some(&own_origin(&app)),
        &pair,
        "csrf=nope".into(),
    )
    .await;
    assert_eq!(refused.status(), 403, "sign-out needs the CSRF value too");
    let out = post_form(
        &app,
        "/console/sign-out",
        Some(&own_origin(&app)),
        &pair,
        format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(out.status(), 303);
    let (_, cleared) = set_cookie(&out, "bridge_console");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = get_page(&app, "/console", &pair).await;
    assert_eq!(after.status(), 303, "the old cookie opens nothing");

    // A session ends with its 8 hours, and when its token is revoked.
    let again = sign_in(&app, &app.token(Role::Admin, None)).await;
    let (pair, _) = set_cookie(&again, "bridge_console");
    assert_eq!(get_page(&app, "/console", &pair).await.status(), 200);
    app.clock.advance(chrono::Duration::minutes(59));
    assert_eq!(get_page(&app, "/console", &pair).await.status(), 200);
    app.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(
        get_page(&app, "/console", &pair).await.status(),
        303,
        "its token expired"
    );
    let long = app
        .keys
        .issue(
            "anna",
            Role::Compliance,
            None,
            Duration::from_secs(30 * 86_400),
            app.clock.now(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let third = sign_in(&app, &long.0).await;
    let (pair, cookie) = set_cookie(&third, "bridge_console");
    assert!(cookie.contains("Max-Age=28800"), "{cookie}");
    app.execute(&format!(
        "INSERT INTO revoked_tokens (jti, revoked_at, reason) VALUES ('{}', '2026-06-01 11:00:00', 'test')",
        long.1.jti
    ));
    assert_eq!(
        get_page(&app, "/console", &pair).await.status(),
        303,
        "its token was revoked"
    );
    let fourth = sign_in(
        &app,
        &app.keys
            .issue(
                "anna",
                Role::Compliance,
                None,
                Duration::from_secs(30 * 86_400),
                app.clock.now(),
            )
            .unwrap_or_else(|e| panic!("{e}"))
            .0,
    )
    .await;
    let (pair, _) = set_cookie(&fourth, "bridge_console");
    app.clock.advance(chrono::Duration::hours(8));
    assert_eq!(
        get_page(&app, "/console", &pair).await.status(),
        303,
        "8 hours passed"
    );
}

on_both_backends!(the_console_signs_in_with_a_cookie_and_shows_no_script);

/// A minimal W3C WebDriver client over HTTP.
struct Browser {
    http: reqwest::Client,
    base: String,
    driver: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The W3C WebDriver element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    /// Starts chromedriver with headless Chromium, or `None` when they are not installed and
    /// the run does not require them (`scripts/test` installs them and requires them).
    async fn start() -> Option<Self> {
        let driver_path = PathBuf::from("/usr/bin/chromedriver");
        if !driver_path.exists() {
            assert!(
                std::env::var("BRIDGE_TEST_BROWSER").as_deref() != Ok("require"),
                "BRIDGE_TEST_BROWSER=require but /usr/bin/chromedriver is missing"
            );
            eprintln!("chromedriver not installed: browser test not run");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("{e}"));
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        msp_bridge::crypto::tls_provider();
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut browser = Self { http, base, driver };
        let session = browser
            .call(
                reqwest::Method::POST,
                "/session",
                json!({ "capabilities": { "alwaysMatch": { "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", "--window-size=1280,1600"]
                } } } }),
            )
            .await;
        let id = session["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("{session}"));
        browser.base = format!("{}/session/{id}", browser.base);
        // Look-ups wait for their element, so a step never races the page it navigated to.
        browser
            .call(
                reqwest::Method::POST,
                "/timeouts",
                json!({ "implicit": 15_000, "pageLoad": 30_000 }),
            )
            .await;
        Some(browser)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if method != reqwest::Method::GET {
            req = req.json(&body);
        }
        let answer: Value = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        answer["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                json!({ "using": "css selector", "value": css }),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            json!({}),
        )
        .await;
    }

    async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::GET,
            &format!("/element/{id}/text"),
            json!({}),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", json!({}))
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Saves a PNG of the window under `target/test-artefacts/`.
    async fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine;
        let png = self
            .call(reqwest::Method::GET, "/screenshot", json!({}))
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artefacts");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
        path
    }

    async fn quit(&self) {
        self.call(reqwest::Method::DELETE, "", json!({})).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compliance_officer_signs_in_runs_a_report_and_reads_it() {
    let app = crate::helpers::spawn(crate::helpers::Backend::Sqlite)
        .await
        .unwrap_or_else(|| panic!("sqlite always runs"));
    let Some(browser) = Browser::start().await else {
        return;
    };
    let shared = app.ingest(&ticket_en("BROWSER-1")).await;
    assert_eq!(shared.body["routing"]["outcome"], "shared");
    // The contractor answers and solves it; the customer is happy.
    let id = shared.body["id"].as_i64().unwrap_or_default();
    let acme = app.contractor("acme");
    let path = |what: &str| format!("/api/v1/contractor/tickets/{id}/{what}");
    let answered = app
        .post(
            &path("replies"),
            &acme,
            &json!({ "body": "Done.", "public": true }),
        )
        .await;
    assert_eq!(answered.status, 201, "{:?}", answered.body);
    let solved = app
        .post(&path("status"), &acme, &json!({ "status": "solved" }))
        .await;
    assert_eq!(solved.status, 200, "{:?}", solved.body);
    let rated = app
        .post(
            &format!("/api/v1/tickets/{id}/satisfaction"),
            &app.inhouse(),
            &json!({ "score": 5, "nps": 9 }),
        )
        .await;
    assert_eq!(rated.status, 200, "{:?}", rated.body);
    // The next day, so that the form's default period (the last 30 days) holds the share.
    app.clock.set(app.clock.now() + chrono::Duration::days(1));
    browser.go(&format!("{}/console", app.base)).await;
    assert!(browser.url().await.ends_with("/console/sign-in"));
    browser
        .type_into("#token", &app.token(Role::Compliance, None))
        .await;
    browser.click("#sign-in").await;
    assert!(browser.text("#who").await.starts_with("compliance:"));
    assert!(browser.text("#ledger").await.contains("The chain verifies"));
    let contracts = browser.text("#contracts").await;
    assert!(
        contracts.contains("acme-en") && contracts.contains("0 / 3"),
        "{contracts}"
    );
    assert!(browser.text("#disclosures").await.contains("ticket.share"));
    let quality = browser.text("#quality").await;
    assert!(
        quality.contains("acme-en")
            && quality.contains("100.0% of 1")
            && quality.contains("100.0 of 1"),
        "{quality}"
    );
    let register = browser.text("#register").await;
    assert!(
        register.contains(
            "contract; GB; read, reply, store, download; 30 days; dpo@contractor.example"
        ),
        "{register}"
    );
    browser.screenshot("console-overview.png").await;
    browser.go(&format!("{}/console/reports", app.base)).await;
    browser.click("#run").await;
    // `#sha256` is only on a report's page.
    let sha = browser.text("#sha256").await;
    assert!(
        browser.url().await.contains("/console/reports/"),
        "opened the new report"
    );
    assert_eq!(sha.len(), 64, "{sha}");
    browser.click("#open").await;
    // What a person sees in the document (`#summary` is only there).
    let summary = browser.text("#summary").await;
    assert_eq!(browser.text("h1").await, "Data-sharing report");
    assert_eq!(browser.text("#scope").await, "All contracts");
    assert!(summary.contains("Tickets shared 1"), "{summary}");
    assert!(
        browser
            .text("#ledger")
            .await
            .contains("The audit chain verifies")
    );
    // Feedback and resolution per contract, how contractors answered, the daily chart.
    let quality = browser.text("#quality").await;
    assert!(
        quality.contains("First-contact resolution") && quality.contains("acme-en"),
        "{quality}"
    );
    assert!(
        quality.contains("5.0 (1)") && quality.contains("100.0 (1)"),
        "{quality}"
    );
    assert!(browser.text("#replies").await.contains("Replies sent 1"));
    browser.find("#chart").await;
    let shot = browser.screenshot("console-report.png").await;
    assert!(
        std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0) > 10_000,
        "a real screenshot"
    );
    browser.quit().await;
}
