//! The web console for compliance officers and administrators: server-rendered pages (no
//! script). Signing in with a compliance or admin token opens a server-side session
//! ([`crate::auth::session`]) whose random id is kept in an HttpOnly, SameSite=Strict cookie
//! scoped to `/console`. Every form is checked twice against cross-site requests: its Origin
//! (or Referer) must be the console's own — SameSite alone lets another port of the same host
//! through — and it must carry the session's CSRF value (the sign-in form: the value of a
//! short-lived cookie of its own, so nobody can sign a browser into their session).

use std::path::Path;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{StatusCode, header};
use actix_web::web::{Data, Form};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use handlebars::Handlebars;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use crate::auth::Role;
use crate::auth::session::{self, ConsoleSession};
use crate::contracts::{Locale, ReportFormat};
use crate::db::DbError;
use crate::reports::{self, Period, Request};

const COOKIE: &str = "bridge_console";
/// The sign-in form's own CSRF value, before there is a session.
const LOGIN_COOKIE: &str = "bridge_console_login";

const PAGES: [(&str, &str); 5] = [
    ("layout", include_str!("../../templates/console/layout.hbs")),
    (
        "sign_in",
        include_str!("../../templates/console/sign_in.hbs"),
    ),
    ("home", include_str!("../../templates/console/home.hbs")),
    (
        "reports",
        include_str!("../../templates/console/reports.hbs"),
    ),
    ("report", include_str!("../../templates/console/report.hbs")),
];

/// The console's templates, checked when loaded.
#[derive(Debug)]
pub struct ConsolePages(Handlebars<'static>);

impl ConsolePages {
    /// The built-in pages, each overridable by `<dir>/console/<name>.hbs`; every page is
    /// rendered once with sample data, so a broken one stops start-up.
    pub fn load(dir: Option<&Path>) -> Result<Self, String> {
        let mut reg = Handlebars::new();
        reg.set_strict_mode(true);
        for (name, built_in) in PAGES {
            let path = dir.map(|d| d.join("console").join(format!("{name}.hbs")));
            let text = match path.filter(|p| p.is_file()) {
                Some(p) => {
                    std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?
                }
                None => built_in.to_owned(),
            };
            reg.register_template_string(name, text)
                .map_err(|e| format!("console/{name}.hbs: {e}"))?;
        }
        let pages = Self(reg);
        for (name, context) in samples() {
            pages
                .0
                .render(name, &context)
                .map_err(|e| format!("console/{name}.hbs: {e}"))?;
        }
        Ok(pages)
    }

    fn page(&self, name: &str, status: StatusCode, context: &Value) -> HttpResponse {
        match self.0.render(name, context) {
            Ok(html) => HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .insert_header(super::PAGE_CSP)
                .body(html),
            Err(e) => {
                tracing::error!(page = name, error = %e, "console page failed to render");
                HttpResponse::InternalServerError().finish()
            }
        }
    }
}

fn samples() -> Vec<(&'static str, Value)> {
    let base = json!({ "title": "t", "signed_in": true, "who": "w", "csrf": "c" });
    let with = |extra: Value| {
        let mut v = base.clone();
        if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
            v.extend(extra.clone());
        }
        v
    };
    let report = json!({ "id": 1, "scope": "s", "period_from": "f", "period_to": "t",
        "format": "html", "locale": "en", "trigger": "demand", "requested_by": "r",
        "sha256": "h", "created_at": "c" });
    vec![
        ("sign_in", with(json!({ "signed_in": false, "error": "e" }))),
        (
            "home",
            with(json!({
                "ledger": { "intact": false, "entries": 1, "first_broken": { "seq": 1, "problem": "p" } },
                "contracts": [{ "id": "c", "contractor": "c", "version": 1, "overflow": "o",
                    "open_shares": 0, "max_open": 1, "attainment": "—", "csat": "—", "nps": "—",
                    "first_contact_resolution": "—", "reopened": "—", "macro_replies": "0 of 0",
                    "articles_read": 0, "register": "r" }],
                "disclosures": [{ "at": "a", "action": "a", "contract": "c", "ticket": 1,
                    "actor": "a", "fields": "f" }],
                "erasures": [{ "id": 1, "erasure": 1, "contract": "c", "contractor": "c",
                    "tickets": [1], "tokens": ["[EMAIL_1]"], "sent_at": "s", "due_at": "d",
                    "acknowledged_at": null, "acknowledged_by": null, "escalated_at": "e",
                    "state": "overdue" }],
            })),
        ),
        (
            "reports",
            with(
                json!({ "error": "e", "contracts": ["c"], "from": "f", "to": "t",
                "reports": [report.clone()] }),
            ),
        ),
        ("report", with(json!({ "report": report }))),
    ]
}

/// The signed-in compliance officer or administrator, from the session cookie, if any.
async fn signed_in(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Option<ConsoleSession>, ApiError> {
    let Some(cookie) = req.cookie(COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    let now = state.clock.now();
    Ok(state
        .db
        .read_async(move |c| session::find(c, &cookie, now).map_err(DbError::from))
        .await?)
}

fn who(session: &ConsoleSession) -> String {
    format!("{}:{}", session.role.as_str(), session.sub)
}

/// True when a form was sent from a page of this console: its `Origin` (or, if a browser
/// left that out, its `Referer`) names this very scheme, host and port.
fn from_this_console(req: &HttpRequest) -> bool {
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host()).to_ascii_lowercase();
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    match (header(header::ORIGIN), header(header::REFERER)) {
        (Some(origin), _) => origin == own,
        (None, Some(referer)) => referer
            .strip_prefix(&own)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
        (None, None) => false,
    }
}

/// A form that did not come from this console (another site, another port of this host) or
/// does not carry its CSRF value: refused, nothing done.
fn forged(state: &AppState) -> HttpResponse {
    sign_in_form(
        state,
        StatusCode::FORBIDDEN,
        Some(
            "That form was not sent from this console; nothing was done. Open the console and try again.",
        ),
        None,
    )
}

fn cookie(
    name: &'static str,
    value: String,
    path: &'static str,
    secure: bool,
    age: chrono::Duration,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::seconds(
            age.num_seconds().max(0),
        ))
        .finish()
}

fn removal(name: &'static str, path: &'static str) -> Cookie<'static> {
    let mut c = Cookie::build(name, "").path(path).finish();
    c.make_removal();
    c
}

fn to_sign_in() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/console/sign-in"))
        .finish()
}

fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// `GET /console`: contracts, the ledger's state and recent disclosures.
#[utoipa::path(
    get,
    path = "/console",
    operation_id = "console_home",
    tag = "console",
    responses(
        (status = 200, description = "The console home page (HTML); a redirect (303) to sign-in without a session.", body = String, content_type = "text/html"),
    ),
    security(("console_session" = [])),
)]
pub async fn home(req: HttpRequest, state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    let Some(signed) = signed_in(&req, &state).await? else {
        return Ok(to_sign_in());
    };
    let set = state.contracts.current();
    let now = state.clock.now();
    let overview = state
        .db
        .run_blocking(move |db| crate::service::overview::overview(db, &set, now))
        .await?;
    let context = json!({
        "title": "Overview", "signed_in": true, "who": who(&signed), "csrf": signed.csrf,
        "ledger": {
            "intact": overview.ledger.is_intact(),
            "entries": overview.ledger.entries,
            "first_broken": overview.ledger.first_broken,
        },
        "contracts": overview.contracts, "disclosures": overview.disclosures,
        "erasures": overview.erasures,
    });
    Ok(state.console.page("home", StatusCode::OK, &context))
}

/// `GET /console/sign-in`: the form, with a fresh CSRF value in it and in a cookie of its own.
#[utoipa::path(
    get,
    path = "/console/sign-in",
    operation_id = "console_sign_in_page",
    tag = "console",
    responses(
        (status = 200, description = "The sign-in form (HTML).", body = String, content_type = "text/html"),
    ),
)]
pub async fn sign_in_page(req: HttpRequest, state: Data<AppState>) -> HttpResponse {
    sign_in_form(&state, StatusCode::OK, None, Some(&req))
}

/// The sign-in page; with `req`, a new sign-in CSRF value (form field and cookie).
fn sign_in_form(
    state: &AppState,
    status: StatusCode,
    error: Option<&str>,
    req: Option<&HttpRequest>,
) -> HttpResponse {
    let nonce = crate::random::random_hex(32);
    let mut page = state.console.page(
        "sign_in",
        status,
        &json!({ "title": "Sign in", "signed_in": false, "who": "", "csrf": nonce, "error": error }),
    );
    if let Some(req) = req {
        let secure = req.connection_info().scheme() == "https";
        let login = cookie(
            LOGIN_COOKIE,
            nonce,
            "/console/sign-in",
            secure,
            chrono::Duration::hours(1),
        );
        if let Err(e) = page.add_cookie(&login) {
            tracing::error!(error = %e, "could not set the sign-in cookie");
        }
    }
    page
}

/// The sign-in form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SignInForm {
    token: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /console/sign-in`: checks where the form came from and its CSRF value, then the
/// token (signature, expiry, revocation, role), and opens a session. The token itself is
/// kept nowhere.
#[utoipa::path(
    post,
    path = "/console/sign-in",
    operation_id = "console_sign_in",
    tag = "console",
    request_body(content = SignInForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: a session cookie is set.", body = String, content_type = "text/html"),
    ),
)]
pub async fn sign_in(
    req: HttpRequest,
    state: Data<AppState>,
    form: Form<SignInForm>,
) -> Result<HttpResponse, ApiError> {
    if !from_this_console(&req) || !login_csrf_matches(&req, &form.csrf) {
        tracing::warn!(path = %req.path(), "console sign-in refused: not sent from the console");
        return Ok(forged(&state));
    }
    let refused = |status, why| Ok(sign_in_form(&state, status, Some(why), Some(&req)));
    let Ok(claims) = super::extract::verify_token(&state, form.token.trim(), req.path()).await
    else {
        return refused(
            StatusCode::UNAUTHORIZED,
            "That token is not valid: it may be mistyped, expired or revoked.",
        );
    };
    if !matches!(claims.role, Role::Admin | Role::Compliance) {
        return refused(
            StatusCode::FORBIDDEN,
            "The console is for compliance officers and administrators.",
        );
    }
    let now = state.clock.now();
    let (value, opened) = state
        .db
        .write_async(move |c| session::open(c, &claims, now).map_err(DbError::from))
        .await?;
    Ok(session_started(&req, value, opened.expires_at - now))
}

/// Whether the sign-in form's CSRF value is the one its page set in the sign-in cookie.
fn login_csrf_matches(req: &HttpRequest, sent: &str) -> bool {
    req.cookie(LOGIN_COOKIE).is_some_and(|expected| {
        let expected = expected.value();
        !expected.is_empty() && crate::crypto::same_secret(expected.as_bytes(), sent.as_bytes())
    })
}

/// To the console with the new session's cookie; the sign-in cookie is spent.
fn session_started(req: &HttpRequest, session: String, lasts: chrono::Duration) -> HttpResponse {
    let secure = req.connection_info().scheme() == "https";
    HttpResponse::SeeOther()
        .cookie(cookie(COOKIE, session, "/console", secure, lasts))
        .cookie(removal(LOGIN_COOKIE, "/console/sign-in"))
        .insert_header((header::LOCATION, "/console"))
        .finish()
}

/// The CSRF value a signed-in form sends.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /console/sign-out`: ends the session for good and clears the cookie.
#[utoipa::path(
    post,
    path = "/console/sign-out",
    operation_id = "console_sign_out",
    tag = "console",
    responses(
        (status = 303, description = "Signed out.", body = String, content_type = "text/html"),
    ),
    security(("console_session" = [])),
)]
pub async fn sign_out(
    req: HttpRequest,
    state: Data<AppState>,
    form: Form<CsrfForm>,
) -> Result<HttpResponse, ApiError> {
    if let Some(signed) = signed_in(&req, &state).await? {
        if !from_this_console(&req) || !signed.csrf_matches(&form.csrf) {
            return Ok(forged(&state));
        }
        let value = req
            .cookie(COOKIE)
            .map(|c| c.value().to_owned())
            .unwrap_or_default();
        let now = state.clock.now();
        state
            .db
            .write_async(move |c| session::end(c, &value, now).map_err(DbError::from))
            .await?;
    }
    Ok(HttpResponse::SeeOther()
        .cookie(removal(COOKIE, "/console"))
        .insert_header((header::LOCATION, "/console/sign-in"))
        .finish())
}

/// `GET /console/reports`: stored reports and the form to run one.
#[utoipa::path(
    get,
    path = "/console/reports",
    operation_id = "console_reports_page",
    tag = "console",
    responses(
        (status = 200, description = "Stored reports and the run-a-report form (HTML).", body = String, content_type = "text/html"),
    ),
    security(("console_session" = [])),
)]
pub async fn reports_page(
    req: HttpRequest,
    state: Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(signed) = signed_in(&req, &state).await? else {
        return Ok(to_sign_in());
    };
    reports_list(&state, &signed, StatusCode::OK, None).await
}

async fn reports_list(
    state: &AppState,
    signed: &ConsoleSession,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let items = state
        .db
        .read_async(|c| reports::list(c, None, None, 100).map_err(DbError::from))
        .await?;
    let mut contracts: Vec<String> = state
        .contracts
        .current()
        .in_rank_order()
        .map(|f| f.contract.id.clone())
        .collect();
    contracts.sort();
    let today = state.clock.now().date_naive();
    let context = json!({
        "title": "Reports", "signed_in": true, "who": who(signed), "csrf": signed.csrf,
        "error": error,
        "contracts": contracts,
        "from": (today - chrono::Duration::days(30)).to_string(),
        "to": today.to_string(),
        "reports": items.iter().map(meta_view).collect::<Vec<_>>(),
    });
    Ok(state.console.page("reports", status, &context))
}

fn meta_view(m: &reports::ReportMeta) -> Value {
    json!({
        "id": m.id, "scope": m.scope, "format": m.format, "locale": m.locale, "trigger": m.trigger,
        "requested_by": m.requested_by, "sha256": m.sha256,
        "period_from": utc(crate::clock::from_db(m.period_from)),
        "period_to": utc(crate::clock::from_db(m.period_to)),
        "created_at": utc(crate::clock::from_db(m.created_at)),
    })
}

/// The run-a-report form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RunForm {
    contract: String,
    from: String,
    to: String,
    locale: String,
    #[serde(default)]
    csrf: String,
}

/// The report the form asks for (HTML, JSON and CSV), or what is wrong with it, in words.
fn report_request(form: RunForm, zone: chrono_tz::Tz, who: String) -> Result<Request, String> {
    let bound = |value: &str, field: &str| {
        value
            .parse::<reports::Bound>()
            .map_err(|e| format!("{field}: {e}"))
    };
    let period = Period::between(bound(&form.from, "From")?, bound(&form.to, "To")?, zone)
        .map_err(|e| e.to_string())?;
    let locale = match form.locale.as_str() {
        "en" => Some(Locale::En),
        "ru" => Some(Locale::Ru),
        _ => None,
    };
    Ok(Request {
        contract: (!form.contract.is_empty()).then_some(form.contract),
        period,
        formats: vec![
            ReportFormat::Html,
            ReportFormat::Json,
            ReportFormat::Csv,
            ReportFormat::FiguresCsv,
        ],
        locale,
        trigger: "demand",
        requested_by: who,
    })
}

/// `POST /console/reports`: runs a report (HTML, JSON and CSV) and opens the HTML one.
#[utoipa::path(
    post,
    path = "/console/reports",
    operation_id = "console_run_report",
    tag = "console",
    request_body(content = RunForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "The report ran; to its page.", body = String, content_type = "text/html"),
    ),
    security(("console_session" = [])),
)]
pub async fn run_report(
    req: HttpRequest,
    state: Data<AppState>,
    form: Form<RunForm>,
) -> Result<HttpResponse, ApiError> {
    let Some(signed) = signed_in(&req, &state).await? else {
        return Ok(to_sign_in());
    };
    if !from_this_console(&req) || !signed.csrf_matches(&form.csrf) {
        return Ok(forged(&state));
    }
    let request = match report_request(form.into_inner(), state.report_timezone, who(&signed)) {
        Ok(request) => request,
        Err(e) => return reports_list(&state, &signed, StatusCode::BAD_REQUEST, Some(e)).await,
    };
    match state.run_report(request).await {
        Ok(stored) => Ok(to_report(stored.first().map_or(0, |m| m.id.get()))),
        Err(reports::ReportError::NotFound) => {
            let why = Some("No such contract.".into());
            reports_list(&state, &signed, StatusCode::BAD_REQUEST, why).await
        }
        Err(e) => Err(e.into()),
    }
}

/// To a stored report's page.
fn to_report(id: i64) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/console/reports/{id}")))
        .finish()
}

/// `GET /console/reports/{id}`: a stored report's facts and a link to its document.
#[utoipa::path(
    get,
    path = "/console/reports/{id}",
    operation_id = "console_report_page",
    tag = "console",
    params(
        ("id" = crate::ids::ReportId, Path, description = "The report id (a positive integer; anything else is 404)."),
    ),
    responses(
        (status = 200, description = "A stored report's page (HTML).", body = String, content_type = "text/html"),
    ),
    security(("console_session" = [])),
)]
pub async fn report_page(
    req: HttpRequest,
    state: Data<AppState>,
    id: actix_web::web::Path<crate::ids::ReportId>,
) -> Result<HttpResponse, ApiError> {
    let Some(signed) = signed_in(&req, &state).await? else {
        return Ok(to_sign_in());
    };
    let id = id.into_inner();
    let (meta, _) = state.db.read_async(move |c| reports::get(c, id)).await?;
    let context = json!({
        "title": format!("Report {}", meta.id), "signed_in": true, "who": who(&signed),
        "csrf": signed.csrf,
        "report": meta_view(&meta),
    });
    Ok(state.console.page("report", StatusCode::OK, &context))
}

/// `GET /console/reports/{id}/content`: the stored document itself.
#[utoipa::path(
    get,
    path = "/console/reports/{id}/content",
    operation_id = "console_report_content",
    tag = "console",
    params(
        ("id" = crate::ids::ReportId, Path, description = "The report id (a positive integer; anything else is 404)."),
    ),
    responses(
        (status = 200, description = "A stored report's content.",
            content(
                (String = "text/html"),
                (crate::reports::ReportDocument = "application/json"),
                (String = "text/csv"),
            ),
        ),
    ),
    security(("console_session" = [])),
)]
pub async fn report_content(
    req: HttpRequest,
    state: Data<AppState>,
    id: actix_web::web::Path<crate::ids::ReportId>,
) -> Result<HttpResponse, ApiError> {
    if signed_in(&req, &state).await?.is_none() {
        return Ok(to_sign_in());
    }
    let id = id.into_inner();
    let (meta, content) = state.db.read_async(move |c| reports::get(c, id)).await?;
    Ok(HttpResponse::Ok()
        .content_type(reports::media_type(&meta.format))
        .insert_header(super::PAGE_CSP)
        .insert_header(("X-Content-SHA256", meta.sha256))
        .body(content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_console_page_is_refused_when_loaded() {
        assert!(ConsolePages::load(None).is_ok());
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let pages = dir.path().join("console");
        std::fs::create_dir_all(&pages).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            pages.join("home.hbs"),
            "{{#> layout}}{{no_such_value}}{{/layout}}",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let err = ConsolePages::load(Some(dir.path())).err();
        assert!(err.is_some_and(|e| e.contains("console/home.hbs")));
    }
}
