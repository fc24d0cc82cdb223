//! Compliance reports over a seeded period: exact figures in JSON, key figures in HTML and CSV,
//! the same content when regenerated.

use msp_bridge::clock::Clock;
use serde_json::{Value, json};

use crate::helpers::{TestApp, ticket_en};
use crate::on_both_backends;

/// Runs a report and returns, per stored format: format, content, sha256, id.
pub(crate) async fn report_of(app: &TestApp, body: &Value) -> Vec<(String, Value, String, i64)> {
    let answer = app.post("/api/v1/reports", &app.admin(), body).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let mut out = Vec::new();
    for item in answer.body["items"].as_array().cloned().unwrap_or_default() {
        let content = app
            .get(&format!("/api/v1/reports/{}", item["id"]), &app.admin())
            .await;
        assert_eq!(content.status, 200);
        let format = item["format"].as_str().unwrap_or_default().to_owned();
        out.push((
            format,
            content.body,
            item["sha256"].as_str().unwrap_or_default().to_owned(),
            item["id"].as_i64().unwrap_or_default(),
        ));
    }
    out
}

async fn a_report_counts_what_the_ledger_holds(app: TestApp) {
    let from = app.clock.now();
    for n in 1..=2 {
        let answer = app.ingest(&ticket_en(&format!("REP-{n}"))).await;
        assert_eq!(
            answer.body["routing"]["outcome"], "shared",
            "{:?}",
            answer.body
        );
    }
    // A German ticket stays in-house: acme-en takes English only.
    let mut german = ticket_en("REP-DE");
    german["language"] = json!("de");
    let kept = app.ingest(&german).await;
    assert_eq!(kept.body["routing"]["outcome"], "kept", "{:?}", kept.body);
    let list = app
        .get("/api/v1/contractor/tickets", &app.contractor("acme"))
        .await;
    let id = list.body["items"][0]["id"].clone();
    let read = app
        .get(
            &format!("/api/v1/contractor/tickets/{id}"),
            &app.contractor("acme"),
        )
        .await;
    assert_eq!(read.status, 200);
    // Asking for a ticket that is not its own: 404, audited, and reported.
    let probe = app
        .get("/api/v1/contractor/tickets/999999", &app.contractor("acme"))
        .await;
    assert_eq!(probe.status, 404);
    let to = from + chrono::Duration::days(1);
    let body = json!({
        "contract": "acme-en", "from": from, "to": to, "formats": ["json", "html", "csv"],
    });
    let first = report_of(&app, &body).await;
    assert_eq!(first.len(), 3);
    let json = &first[0].1;
    assert_eq!(json["schema"], "msp-bridge.report.v1");
    assert_eq!(json["scope"], "acme-en");
    assert_eq!(json["ledger"]["intact"], true);
    assert_eq!(json["tickets"]["shared"], 2);
    assert_eq!(json["reads"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["reads"][0]["count"], 1);
    assert_eq!(json["disclosure_rows"], 3);
    assert_eq!(json["denied_access"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["denied_access"][0]["count"], 1);
    assert_eq!(
        json["kept_in_house"],
        json!([{ "name": "language de is not in scope", "count": 1 }])
    );
    assert!(json.get("disclosures").is_none(), "rows are the CSV's");
    let subject = json["fields_disclosed"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["name"] == "subject").cloned())
        .unwrap_or_default();
    assert_eq!(
        subject["count"], 3,
        "two shares and a read carried the subject"
    );
    assert_eq!(json["contract_versions"][0]["contract"], "acme-en");
    assert_eq!(json["sla"][0]["shared"], 2);
    assert_eq!(json["daily"][0]["shared"], 2);
    let html = first[1].1.as_str().unwrap_or_default();
    assert!(html.contains("<h1>Data-sharing report</h1>"), "{html}");
    assert!(
        html.contains("<tr><th>Tickets shared</th><td class=\"n\">2</td></tr>"),
        "{html}"
    );
    assert!(html.contains("The audit chain verifies for this period"));
    assert!(html.contains("<svg id=\"chart\""));
    let csv = first[2].1.as_str().unwrap_or_default();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 4, "{csv}");
    assert!(rows[0].starts_with("seq,at,action,actor,contract,ticket"));
    assert_eq!(
        rows.iter().filter(|r| r.contains(",ticket.share,")).count(),
        2
    );
    // The same report in another format, by query or by Accept.
    let json_id = &first[0].3;
    let as_csv = app
        .get(
            &format!("/api/v1/reports/{json_id}?format=csv"),
            &app.admin(),
        )
        .await;
    assert!(
        as_csv.content_type.starts_with("text/csv"),
        "{}",
        as_csv.content_type
    );
    assert_eq!(as_csv.body, first[2].1);
    let as_html = app
        .client
        .get(format!("{}/api/v1/reports/{json_id}", app.base))
        .bearer_auth(app.admin())
        .header("accept", "text/html")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        as_html.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html")
    );
    let bad = app
        .get(
            &format!("/api/v1/reports/{json_id}?format=pdf"),
            &app.admin(),
        )
        .await;
    assert_eq!(bad.status, 400);
    // The same period from the same ledger: the same bytes.
    let again = report_of(&app, &body).await;
    for (a, b) in first.iter().zip(&again) {
        assert_eq!(a.2, b.2, "{} differs when regenerated", a.0);
    }
    // In Russian, numbers and labels read as Russian.
    let ru = report_of(
        &app,
        &json!({ "contract": "acme-en", "from": from, "to": to, "formats": ["html"], "locale": "ru" }),
    )
    .await;
    let html = ru[0].1.as_str().unwrap_or_default();
    assert!(html.contains("Передано обращений"), "{html}");
    // Listed, newest first.
    let list = app.get("/api/v1/reports?scope=acme-en", &app.admin()).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(7));
    // Bad input is refused.
    let bad = app
        .post(
            "/api/v1/reports",
            &app.admin(),
            &json!({ "contract": "acme-en", "from": to, "to": from }),
        )
        .await;
    assert_eq!(bad.status, 400);
    let missing = app
        .post(
            "/api/v1/reports",
            &app.admin(),
            &json!({ "contract": "nope", "from": from, "to": to }),
        )
        .await;
    assert_eq!(missing.status, 404);
    let forbidden = app.post("/api/v1/reports", &app.inhouse(), &body).await;
    assert_eq!(forbidden.status, 403);
}

on_both_backends!(a_report_counts_what_the_ledger_holds);

fn utc(y: i32, m: u32, d: u32, h: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .unwrap_or_default()
}

async fn missed_schedules_are_caught_up_once(app: TestApp) {
    // The clock starts on Monday 2026-06-01 10:00 UTC; acme-en reports on Mondays at 06:00 UTC.
    let applied = app.clock.now();
    let answer = app.ingest(&ticket_en("SCHED-1")).await;
    assert_eq!(answer.body["routing"]["outcome"], "shared");
    let run = |app: &TestApp| {
        let scheduler = app.reports.clone();
        async move {
            tokio::task::spawn_blocking(move || scheduler.run_due())
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|e| panic!("{e}"))
        }
    };
    let acme = |stored: &[msp_bridge::reports::ReportMeta]| {
        stored
            .iter()
            .filter(|m| m.scope == "acme-en")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(
        acme(&run(&app).await).is_empty(),
        "no Monday 06:00 has passed yet"
    );
    // Down until Wednesday 24 June: the Mondays 8, 15 and 22 were missed.
    app.clock.set(utc(2026, 6, 24, 9));
    let stored = acme(&run(&app).await);
    assert_eq!(
        stored.len(),
        1,
        "one report (formats = [json]) for all missed runs"
    );
    let report = &stored[0];
    assert_eq!(report.trigger, "schedule");
    assert_eq!(
        msp_bridge::clock::from_db(report.period_from),
        msp_bridge::clock::from_db(msp_bridge::clock::to_db(applied))
    );
    assert_eq!(
        msp_bridge::clock::from_db(report.period_to),
        utc(2026, 6, 22, 6)
    );
    let content = app
        .get(&format!("/api/v1/reports/{}", report.id), &app.admin())
        .await;
    assert_eq!(content.body["tickets"]["shared"], 1);
    assert_eq!(content.body["ledger"]["intact"], true);
    // Running again at the same moment, or later the same week, produces nothing more.
    assert!(acme(&run(&app).await).is_empty());
    app.clock.set(utc(2026, 6, 28, 23));
    assert!(acme(&run(&app).await).is_empty());
    let schedule = app.get("/api/v1/reports/schedule", &app.admin()).await;
    assert_eq!(schedule.status, 200, "{:?}", schedule.body);
    let stream = schedule.body["items"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["scope"] == "acme-en").cloned())
        .unwrap_or_default();
    assert_eq!(stream["schedule"], "0 6 * * 1");
    assert_eq!(stream["last_period_end"], json!(utc(2026, 6, 22, 6)));
    assert_eq!(stream["next_run"], json!(utc(2026, 6, 29, 6)));
    // The next Monday's run covers exactly the week since.
    app.clock.set(utc(2026, 6, 29, 6));
    let next = acme(&run(&app).await);
    assert_eq!(next.len(), 1);
    assert_eq!(
        msp_bridge::clock::from_db(next[0].period_from),
        utc(2026, 6, 22, 6)
    );
    assert_eq!(
        msp_bridge::clock::from_db(next[0].period_to),
        utc(2026, 6, 29, 6)
    );
}

on_both_backends!(missed_schedules_are_caught_up_once);

/// Two replicas on one PostgreSQL database check the schedules at the same moment: every
/// report is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_produce_each_scheduled_report_once() {
    let Some(first) = crate::helpers::spawn(crate::helpers::Backend::Postgres).await else {
        eprintln!("BRIDGE_TEST_POSTGRES_URL unset: PostgreSQL-only test not run");
        return;
    };
    let second = first.replica();
    first.ingest(&ticket_en("REPL-1")).await;
    first.clock.set(utc(2026, 7, 6, 7));
    second.clock.set(utc(2026, 7, 6, 7));
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let runs: Vec<_> = [&first, &second]
        .iter()
        .map(|app| {
            let scheduler = app.reports.clone();
            let barrier = std::sync::Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                scheduler.run_due().map(|v| v.len())
            })
        })
        .collect();
    let mut stored = 0;
    for run in runs {
        stored += run
            .join()
            .unwrap_or_else(|_| panic!("scheduler panicked"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let total = first.count("reports");
    assert!(total > 0, "something was due");
    assert_eq!(
        stored as i64, total,
        "what the two replicas say they stored is what is stored"
    );
    assert_eq!(
        first.count(
            "(SELECT scope, period_from, period_to, format FROM reports \
             GROUP BY scope, period_from, period_to, format HAVING COUNT(*) > 1) AS twice"
        ),
        0
    );
}

/// A period given as dates starts at 00:00 in the gateway's report time zone, for the API, the
/// SLA figures and the gateway-wide schedule alike; a bound in another form is refused with
/// the forms it may take.
async fn dates_are_days_in_the_report_time_zone(backend: crate::helpers::Backend) {
    let Some(app) = crate::helpers::spawn_with(backend, |c| {
        c.report_timezone = "Europe/Moscow".into();
        c.report_schedule = Some("0 6 * * 1".into());
    })
    .await
    else {
        eprintln!("BRIDGE_TEST_POSTGRES_URL unset: PostgreSQL variant not run");
        return;
    };
    let answer = app
        .post(
            "/api/v1/reports",
            &app.admin(),
            &json!({ "contract": "acme-en", "from": "2026-05-01", "to": "2026-06-01T00:00:00+03:00", "formats": ["json"] }),
        )
        .await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let item = &answer.body["items"][0];
    assert_eq!(item["period_from"], "2026-04-30T21:00:00Z", "{item}");
    assert_eq!(item["period_to"], "2026-05-31T21:00:00Z", "{item}");
    for bad in ["29.11.2026", "2026-11-31", "tomorrow", "2026-11-29 10:00"] {
        let refused = app
            .post(
                "/api/v1/reports",
                &app.admin(),
                &json!({ "contract": "acme-en", "from": bad, "to": "2026-06-01" }),
            )
            .await;
        assert_eq!(refused.status, 400, "{bad}: {:?}", refused.body);
        assert_eq!(refused.body["code"], "invalid_field", "{:?}", refused.body);
        let detail = refused.body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.starts_with("from:")
                && detail.contains("RFC 3339")
                && detail.contains("2026-11-29"),
            "{detail}"
        );
        assert!(!detail.contains(bad), "the value is not repeated: {detail}");
    }
    // A period of millennia would make a report of hundreds of megabytes (a row a day).
    let too_long = app
        .post(
            "/api/v1/reports",
            &app.admin(),
            &json!({ "from": "0533-09-25", "to": "6765-11-13" }),
        )
        .await;
    assert_eq!(too_long.status, 400, "{:?}", too_long.body);
    assert_eq!(too_long.body["field"], "to", "{:?}", too_long.body);
    let figures = app
        .get(
            "/api/v1/contracts/acme-en/sla?from=2026-05-01&to=2026-06-01",
            &app.admin(),
        )
        .await;
    assert_eq!(figures.status, 200, "{:?}", figures.body);
    let refused = app
        .get("/api/v1/contracts/acme-en/sla?from=May", &app.admin())
        .await;
    assert_eq!(refused.status, 400, "{:?}", refused.body);
    assert!(
        refused.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("a date (2026-11-29")),
        "{:?}",
        refused.body
    );
    let schedule = app.get("/api/v1/reports/schedule", &app.admin()).await;
    let gateway = schedule.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|s| s["scope"] == "*").cloned())
        .unwrap_or_default();
    assert_eq!(gateway["timezone"], "Europe/Moscow", "{:?}", schedule.body);
}

#[tokio::test]
async fn dates_are_days_in_the_report_time_zone_sqlite() {
    dates_are_days_in_the_report_time_zone(crate::helpers::Backend::Sqlite).await;
}

#[tokio::test]
async fn dates_are_days_in_the_report_time_zone_postgres() {
    dates_are_days_in_the_report_time_zone(crate::helpers::Backend::Postgres).await;
}

/// `acme-en` whose register allows reading only: what it lets happen is a finding.
fn read_only_register(config: &mut msp_bridge::config::Config) {
    let acme = include_str!("../fixtures/contracts/acme-en.toml").replace(
        "actions = [\"read\", \"reply\", \"store\", \"download\"]",
        "actions = [\"read\"]",
    );
    crate::helpers::use_contracts(config, &[("acme-en.toml", &acme)]);
}

async fn the_register_is_in_every_report_with_what_does_not_match_it(app: TestApp) {
    let from = app.clock.now();
    let pushed = app.ingest(&ticket_en("REG-1")).await;
    let id = pushed.body["id"].as_i64().unwrap_or_default();
    let replied = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/replies"),
            &app.contractor("acme"),
            &json!({ "body": "On it.", "public": true }),
        )
        .await;
    assert_eq!(replied.status, 201, "{:?}", replied.body);
    let to = from + chrono::Duration::days(1);
    for locale in ["en", "ru"] {
        let reports = report_of(
            &app,
            &json!({ "contract": "acme-en", "from": from, "to": to, "formats": ["json", "html"], "locale": locale }),
        )
        .await;
        let entry = &reports[0].1["processing"][0];
        assert_eq!(entry["contract"], "acme-en");
        assert_eq!(entry["register"]["legal_basis"], "contract");
        assert_eq!(entry["register"]["actions"], json!(["read"]));
        assert_eq!(
            entry["findings"],
            json!([
                { "code": "replies_not_allowed", "count": 1 },
                { "code": "storage_not_allowed", "count": 30 },
            ])
        );
        let html = reports[1].1.as_str().unwrap_or_default();
        let (title, basis, finding) = if locale == "ru" {
            (
                "Реестр обработки персональных данных",
                "договор с субъектом",
                "Отправлены ответы, хотя реестр не разрешает отвечать: 1",
            )
        } else {
            (
                "Processing register",
                "a contract with the data subject",
                "Replies sent although the register does not allow answering: 1",
            )
        };
        for shown in [
            title,
            basis,
            finding,
            "dpo@contractor.example",
            "<td>GB</td>",
        ] {
            assert!(html.contains(shown), "{locale}: {shown} not in {html}");
        }
    }
}

on_both_backends!(with read_only_register: the_register_is_in_every_report_with_what_does_not_match_it);
