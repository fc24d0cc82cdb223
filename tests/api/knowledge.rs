//! The knowledge base: articles applied from files, granted per contract (tags and ids, never
//! an internal article), searched by Russian and English word forms, every read audited and
//! counted in the contract's report.

use msp_bridge::clock::Clock;
use msp_bridge::config::Config;
use serde_json::Value;

use crate::helpers::{Answer, TestApp, fixtures};
use crate::on_both_backends;

fn with_articles(config: &mut Config) {
    config.knowledge_dir = fixtures().join("knowledge");
}

fn ids(answer: &Answer) -> Vec<String> {
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["articles"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", answer.body))
        .iter()
        .map(|a| a.as_str_field("id"))
        .collect()
}

trait Field {
    fn as_str_field(&self, key: &str) -> String;
}

impl Field for Value {
    fn as_str_field(&self, key: &str) -> String {
        self[key].as_str().unwrap_or_default().to_owned()
    }
}

async fn search(app: &TestApp, contractor: &str, query: &str) -> Answer {
    let token = app.contractor(contractor);
    let resp = app
        .client
        .get(format!("{}/api/v1/contractor/knowledge", app.base))
        .query(&[("q", query)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    crate::helpers::answer(resp).await
}

async fn contractors_see_only_what_their_contract_grants(app: TestApp) {
    let acme = app.contractor("acme");
    let listed = app.get("/api/v1/contractor/knowledge", &acme).await;
    crate::helpers::assert_documented("get", "/api/v1/contractor/knowledge", &listed);
    // Billing by tag, shipping by id; never the internal billing article, never legal.
    assert_eq!(
        ids(&listed),
        ["refund-en", "shipping-en", "refund-ru"],
        "ordered by title"
    );
    let ural = app.contractor("ural");
    assert_eq!(
        ids(&app.get("/api/v1/contractor/knowledge", &ural).await),
        ["refund-en", "refund-ru", "legal-ru"]
    );
    let volga = app.contractor("volga");
    assert!(ids(&app.get("/api/v1/contractor/knowledge", &volga).await).is_empty());

    // A read: safe HTML and plain text, audited under the granting contract.
    let read = app
        .get("/api/v1/contractor/knowledge/refund-en", &acme)
        .await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    crate::helpers::assert_documented("get", "/api/v1/contractor/knowledge/{id}", &read);
    assert_eq!(read.body["contract"], "acme-en");
    assert_eq!(read.body["version"], 1);
    let html = read.body.as_str_field("html");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    assert!(
        read.body
            .as_str_field("text")
            .contains("refunded within 10 business days")
    );

    // Not granted, internal, unknown: the same 404, each attempt audited.
    let mut missing = Vec::new();
    for (who, article) in [
        (&acme, "legal-ru"),
        (&acme, "billing-escalation"),
        (&ural, "billing-escalation"),
        (&volga, "refund-en"),
        (&acme, "no-such-article"),
    ] {
        let answer = app
            .get(&format!("/api/v1/contractor/knowledge/{article}"), who)
            .await;
        assert_eq!(answer.status, 404, "{article}: {:?}", answer.body);
        missing.push(answer.body);
    }
    assert!(missing.windows(2).all(|w| w[0] == w[1]), "{missing:?}");

    let ledger = app.ledger();
    let reads: Vec<_> = ledger
        .iter()
        .filter(|e| e.action == "knowledge.read")
        .collect();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].contract_id.as_deref(), Some("acme-en"));
    assert!(reads[0].actor.starts_with("contractor:acme/"));
    assert!(reads[0].details.contains("\"article\":\"refund-en\""));
    let denied: Vec<_> = ledger
        .iter()
        .filter(|e| e.action == "access.denied" && e.details.contains("knowledge.read"))
        .collect();
    assert_eq!(denied.len(), 5);
    assert!(denied[0].details.contains("legal-ru"));
    let applied = ledger
        .iter()
        .filter(|e| e.action == "knowledge.apply")
        .count();
    assert_eq!(applied, 5, "every fixture article applied at start");

    // The contract's report says which articles its contractor used.
    let now = app.clock.now();
    let reports = crate::reports::report_of(
        &app,
        &serde_json::json!({
            "contract": "acme-en",
            "from": now - chrono::Duration::days(1),
            "to": now + chrono::Duration::days(1),
            "formats": ["json", "html"],
            "locale": "ru",
        }),
    )
    .await;
    let json = &reports[0].1;
    assert_eq!(
        json["knowledge"],
        serde_json::json!([{ "contract": "acme-en", "article": "refund-en", "title": "Issuing refunds", "reads": 1, "readers": 1 }])
    );
    let html = reports[1].1.as_str().unwrap_or_default();
    assert!(html.contains("Прочитанные статьи базы знаний"), "{html}");
    assert!(
        html.contains("Issuing refunds <small>(refund-en)</small>"),
        "{html}"
    );
}

async fn search_finds_russian_and_english_word_forms(app: TestApp) {
    // The Russian article holds «возврата» and «возвратом»… never the bare «возврат».
    for query in ["возврат", "возвратом", "Возврату", "оформить возврат"]
    {
        assert_eq!(
            ids(&search(&app, "acme", query).await),
            ["refund-ru"],
            "{query}"
        );
    }
    // A word of the title weighs more than one of the body: both Russian articles speak of
    // «оплата», the legal one in its title.
    assert_eq!(
        ids(&search(&app, "ural", "оплата").await),
        ["legal-ru", "refund-ru"]
    );
    assert_eq!(
        ids(&search(&app, "acme", "How are refunds issued?").await),
        ["refund-en", "refund-ru"],
        "the Russian article names the `refund-issued` macro"
    );
    assert_eq!(
        ids(&search(&app, "acme", "delivery tracking").await),
        ["shipping-en"]
    );
    // Every word must match; stop words alone match nothing; the internal article never.
    assert!(ids(&search(&app, "acme", "возврат доставка").await).is_empty());
    assert!(ids(&search(&app, "acme", "как и что").await).is_empty());
    assert!(ids(&search(&app, "acme", "спорный").await).is_empty());
    // Search syntax is read as words, never as the database's query language.
    assert_eq!(
        ids(&search(&app, "acme", "\"возврата\" OR NEAR(*) ' ;--").await),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&search(&app, "acme", "возврата\"").await),
        ["refund-ru"]
    );

    // Filters and bad input.
    let token = app.contractor("acme");
    let en = app
        .get(
            "/api/v1/contractor/knowledge?language=en&tag=billing",
            &token,
        )
        .await;
    assert_eq!(ids(&en), ["refund-en"]);
    let long = search(&app, "acme", &"возврат ".repeat(30)).await;
    assert_eq!(long.status, 400, "{:?}", long.body);
    assert_eq!(long.body["code"], "invalid_query");
    let bad_limit = app
        .get("/api/v1/contractor/knowledge?limit=0", &token)
        .await;
    assert_eq!(bad_limit.status, 400);
    let in_house = app
        .get("/api/v1/contractor/knowledge", &app.inhouse())
        .await;
    assert_eq!(in_house.status, 403, "{:?}", in_house.body);
}

async fn changed_and_removed_articles_are_versioned_and_withdrawn(app: TestApp) {
    let dir = app.config().data_dir.join("knowledge-copy");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    for entry in std::fs::read_dir(fixtures().join("knowledge")).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, dir.join(name)).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let edited = std::fs::read_to_string(dir.join("refund-en.md"))
        .unwrap_or_else(|e| panic!("{e}"))
        .replace("10 business days", "5 business days");
    std::fs::write(dir.join("refund-en.md"), edited).unwrap_or_else(|e| panic!("{e}"));
    std::fs::remove_file(dir.join("shipping-en.md")).unwrap_or_else(|e| panic!("{e}"));

    let files = msp_bridge::knowledge::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    let now = chrono::Utc::now();
    let applied = app
        .db
        .write(|c| msp_bridge::knowledge::apply(c, &files, "test", now))
        .unwrap_or_else(|e| panic!("{e}"));
    let outcome = |id: &str| {
        applied
            .iter()
            .find(|a| a.id == id)
            .map(|a| (a.outcome(), a.version))
            .unwrap_or_else(|| panic!("{id}: {applied:?}"))
    };
    assert_eq!(outcome("refund-en"), ("applied", 2));
    assert_eq!(outcome("refund-ru"), ("unchanged", 1));
    assert_eq!(outcome("shipping-en"), ("withdrawn", 1));

    let acme = app.contractor("acme");
    let read = app
        .get("/api/v1/contractor/knowledge/refund-en", &acme)
        .await;
    assert_eq!(read.body["version"], 2);
    assert!(read.body.as_str_field("text").contains("5 business days"));
    // The search index follows: the old wording is gone, the withdrawn article too.
    assert_eq!(
        ids(&search(&app, "acme", "5 business days").await),
        ["refund-en"]
    );
    assert!(ids(&search(&app, "acme", "tracking").await).is_empty());
    let gone = app
        .get("/api/v1/contractor/knowledge/shipping-en", &acme)
        .await;
    assert_eq!(gone.status, 404);
    let ledger = app.ledger();
    assert!(
        ledger
            .iter()
            .any(|e| e.action == "knowledge.withdraw" && e.details.contains("shipping-en"))
    );
    assert_eq!(
        ledger
            .iter()
            .filter(|e| e.action == "knowledge.apply" && e.details.contains("refund-en"))
            .count(),
        2
    );
    // Applying again changes nothing.
    let again = app
        .db
        .write(|c| msp_bridge::knowledge::apply(c, &files, "test", now))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(again.iter().all(|a| !a.changed), "{again:?}");
}

on_both_backends!(with with_articles:
    contractors_see_only_what_their_contract_grants,
    search_finds_russian_and_english_word_forms,
    changed_and_removed_articles_are_versioned_and_withdrawn,
);
