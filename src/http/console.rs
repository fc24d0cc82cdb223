//! The web console for compliance officers and administrators: server-rendered pages (no
//! script), signed in with a compliance or admin token kept in an HttpOnly, SameSite=Strict
//! cookie scoped to `/console`.

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
use crate::auth::{Claims, Role};
use crate::contracts::{Locale, OverflowMode, ReportFormat};
use crate::db::DbError;
use crate::reports::{self, Period, Request};

const COOKIE: &str = "bridge_console";

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
                .insert_header(security_headers())
                .body(html),
            Err(e) => {
                tracing::error!(page = name, error = %e, "console page failed to render");
                HttpResponse::InternalServerError().finish()
            }
        }
    }
}

/// No script may run, nothing may frame the console, styles are inline.
fn security_headers() -> (&'static str, &'static str) {
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
}

fn samples() -> Vec<(&'static str, Value)> {
    let base = json!({ "title": "t", "signed_in": true, "who": "w" });
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
                    "open_shares": 0, "max_open": 1, "attainment": "—" }],
                "disclosures": [{ "at": "a", "action": "a", "contract": "c", "ticket": 1,
                    "actor": "a", "fields": "f" }],
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

/// The signed-in compliance officer or administrator, from the cookie, if any.
async fn signed_in(req: &HttpRequest, state: &AppState) -> Option<Claims> {
    let token = req.cookie(COOKIE)?.value().to_owned();
    let claims = super::extract::verify_token(state, &token, req.path())
        .await
        .ok()?;
    matches!(claims.role, Role::Admin | Role::Compliance).then_some(claims)
}

fn who(claims: &Claims) -> String {
    let role = if claims.role == Role::Admin {
        "admin"
    } else {
        "compliance"
    };
    format!("{role}:{}", claims.sub)
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
pub async fn home(req: HttpRequest, state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    let Some(claims) = signed_in(&req, &state).await else {
        return Ok(to_sign_in());
    };
    let set = state.contracts.current();
    let now = state.clock.now();
    let month_ago = now - chrono::Duration::days(30);
    let overview_set = set.clone();
    crate::ledger::seal_committed_async(&state.db).await?;
    let (contracts, ledger, recent) = state
        .db
        .read_async(move |c| {
            let contracts = crate::contracts::overview(c, &overview_set)?;
            let mut attainment = Vec::new();
            for row in &contracts {
                let figures = crate::tickets::performance::figures(c, &row.id, month_ago, now)?;
                attainment.push(figures.attainment.percent);
            }
            let until = now + chrono::Duration::seconds(1);
            let ledger = crate::ledger::walk_period(c, month_ago, until, |_| {})?;
            let recent = crate::ledger::recent(c, &["ticket.share", "share.read"], 20)?;
            let rows = contracts.into_iter().zip(attainment).collect::<Vec<_>>();
            Ok::<_, crate::tickets::TicketError>((rows, ledger, recent))
        })
        .await?;
    let contracts: Vec<Value> = contracts
        .into_iter()
        .map(|(row, attainment)| {
            let overflow = match (row.overflow_mode, row.manual_overflow == Some(true)) {
                (_, true) => "on (manual switch)".to_owned(),
                (OverflowMode::Manual, false) => "manual switch: off".to_owned(),
                (OverflowMode::Always, false) => "always".to_owned(),
                (OverflowMode::Threshold, false) => "threshold".to_owned(),
                (OverflowMode::Off, false) => "off".to_owned(),
            };
            json!({
                "id": row.id, "contractor": row.contractor, "version": row.version,
                "overflow": overflow, "open_shares": row.open_shares, "max_open": row.max_open,
                "attainment": attainment.map_or("—".to_owned(), |p| format!("{p:.1}%")),
            })
        })
        .collect();
    let disclosures: Vec<Value> = recent
        .iter()
        .map(|e| {
            let details: Value = serde_json::from_str(&e.details).unwrap_or(Value::Null);
            let fields = details["receipt"]["fields_sent"]
                .as_array()
                .map(|f| {
                    f.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            json!({
                "at": utc(crate::clock::from_db(e.at)), "action": e.action,
                "contract": e.contract_id, "ticket": e.ticket_id, "actor": e.actor, "fields": fields,
            })
        })
        .collect();
    let context = json!({
        "title": "Overview", "signed_in": true, "who": who(&claims),
        "ledger": { "intact": ledger.is_intact(), "entries": ledger.entries, "first_broken": ledger.first_broken },
        "contracts": contracts, "disclosures": disclosures,
    });
    Ok(state.console.page("home", StatusCode::OK, &context))
}

/// `GET /console/sign-in`.
pub async fn sign_in_page(state: Data<AppState>) -> HttpResponse {
    sign_in_form(&state, StatusCode::OK, None)
}

fn sign_in_form(state: &AppState, status: StatusCode, error: Option<&str>) -> HttpResponse {
    state.console.page(
        "sign_in",
        status,
        &json!({ "title": "Sign in", "signed_in": false, "who": "", "error": error }),
    )
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    token: String,
}

/// `POST /console/sign-in`: checks the token (signature, expiry, revocation, role) and keeps
/// it in the cookie.
pub async fn sign_in(
    req: HttpRequest,
    state: Data<AppState>,
    form: Form<SignInForm>,
) -> HttpResponse {
    let token = form.token.trim();
    let claims = match super::extract::verify_token(&state, token, req.path()).await {
        Ok(claims) => claims,
        Err(_) => {
            return sign_in_form(
                &state,
                StatusCode::UNAUTHORIZED,
                Some("That token is not valid: it may be mistyped, expired or revoked."),
            );
        }
    };
    if !matches!(claims.role, Role::Admin | Role::Compliance) {
        return sign_in_form(
            &state,
            StatusCode::FORBIDDEN,
            Some("The console is for compliance officers and administrators."),
        );
    }
    let secure = req.connection_info().scheme() == "https";
    let cookie = Cookie::build(COOKIE, token.to_owned())
        .path("/console")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::hours(8))
        .finish();
    HttpResponse::SeeOther()
        .cookie(cookie)
        .insert_header((header::LOCATION, "/console"))
        .finish()
}

/// `POST /console/sign-out`.
pub async fn sign_out() -> HttpResponse {
    let mut cookie = Cookie::build(COOKIE, "").path("/console").finish();
    cookie.make_removal();
    HttpResponse::SeeOther()
        .cookie(cookie)
        .insert_header((header::LOCATION, "/console/sign-in"))
        .finish()
}

/// `GET /console/reports`: stored reports and the form to run one.
pub async fn reports_page(
    req: HttpRequest,
    state: Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(claims) = signed_in(&req, &state).await else {
        return Ok(to_sign_in());
    };
    reports_list(&state, &claims, StatusCode::OK, None).await
}

async fn reports_list(
    state: &AppState,
    claims: &Claims,
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
        "title": "Reports", "signed_in": true, "who": who(claims), "error": error,
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
#[derive(Debug, Deserialize)]
pub struct RunForm {
    contract: String,
    from: String,
    to: String,
    locale: String,
}

fn form_date(value: &str, field: &str) -> Result<DateTime<Utc>, String> {
    value
        .parse::<chrono::NaiveDate>()
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| format!("{field}: expected a date"))
}

/// `POST /console/reports`: runs a report (HTML, JSON and CSV) and opens the HTML one.
pub async fn run_report(
    req: HttpRequest,
    state: Data<AppState>,
    form: Form<RunForm>,
) -> Result<HttpResponse, ApiError> {
    let Some(claims) = signed_in(&req, &state).await else {
        return Ok(to_sign_in());
    };
    let form = form.into_inner();
    let period = match (form_date(&form.from, "From"), form_date(&form.to, "To")) {
        (Ok(from), Ok(to)) => Period::new(from, to).map_err(|e| e.to_string()),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let period = match period {
        Ok(p) => p,
        Err(e) => return reports_list(&state, &claims, StatusCode::BAD_REQUEST, Some(e)).await,
    };
    let locale = match form.locale.as_str() {
        "en" => Some(Locale::En),
        "ru" => Some(Locale::Ru),
        _ => None,
    };
    let request = Request {
        contract: (!form.contract.is_empty()).then_some(form.contract),
        period,
        formats: vec![ReportFormat::Html, ReportFormat::Json, ReportFormat::Csv],
        locale,
        trigger: "demand",
        requested_by: who(&claims),
    };
    let contracts = state.contracts.current();
    let renderer = state.reports.clone();
    let now = state.clock.now();
    crate::ledger::seal_committed_async(&state.db).await?;
    let stored = state
        .db
        .write_async(move |c| reports::produce(c, &contracts, &renderer, &request, now))
        .await;
    match stored {
        Ok(stored) => {
            let first = stored.first().map_or(0, |m| m.id);
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/console/reports/{first}")))
                .finish())
        }
        Err(reports::ReportError::NotFound) => {
            reports_list(
                &state,
                &claims,
                StatusCode::BAD_REQUEST,
                Some("No such contract.".into()),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /console/reports/{id}`: a stored report's facts and a link to its document.
pub async fn report_page(
    req: HttpRequest,
    state: Data<AppState>,
    id: actix_web::web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let Some(claims) = signed_in(&req, &state).await else {
        return Ok(to_sign_in());
    };
    let id = id.into_inner();
    let (meta, _) = state.db.read_async(move |c| reports::get(c, id)).await?;
    let context = json!({
        "title": format!("Report {}", meta.id), "signed_in": true, "who": who(&claims),
        "report": meta_view(&meta),
    });
    Ok(state.console.page("report", StatusCode::OK, &context))
}

/// `GET /console/reports/{id}/content`: the stored document itself.
pub async fn report_content(
    req: HttpRequest,
    state: Data<AppState>,
    id: actix_web::web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    if signed_in(&req, &state).await.is_none() {
        return Ok(to_sign_in());
    }
    let id = id.into_inner();
    let (meta, content) = state.db.read_async(move |c| reports::get(c, id)).await?;
    Ok(HttpResponse::Ok()
        .content_type(reports::media_type(&meta.format))
        .insert_header(security_headers())
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
