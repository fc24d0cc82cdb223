//! Compliance reports over a seeded period: exact figures in JSON, key figures in HTML and CSV,
//! the same content when regenerated.

use msp_bridge::clock::Clock;
use serde_json::{Value, json};

use crate::helpers::{TestApp, ticket_en};
use crate::on_both_backends;

async fn report_of(app: &TestApp, body: &Value) -> Vec<(String, Value, String)> {
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
    assert_eq!(json["disclosures"].as_array().map(Vec::len), Some(3));
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
