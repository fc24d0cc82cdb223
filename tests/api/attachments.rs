//! Files of tickets, comments and replies: the contract's `attachments` policy decides what a
//! contractor gets (redacted text, a passed type as it is, or a listing that says it was
//! withheld); downloads go through the gateway, scoped and audited; a contractor's files go
//! home with their tokens turned back into values.

use base64::Engine as _;
use msp_bridge::config::Config;
use serde_json::{Value, json};

use crate::helpers::{EN_SECRETS, TestApp, ticket_en, use_contracts};
use crate::on_both_backends;

const ACME: &str = include_str!("../fixtures/contracts/acme-en.toml");

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn sha256(bytes: &[u8]) -> String {
    msp_bridge::crypto::sha256_hex(bytes)
}

const NOTES: &str = "Customer John Smith, mail john.smith@example.com\nCard 4111 1111 1111 1111, IBAN GB82WEST12345698765432\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x01\xffJohn Smith";

/// `acme-en` sending text files (scanned) and PNG images (as they are).
fn allowing_files(config: &mut Config) {
    let allowing = ACME.replace(
        "[confidentiality]\n",
        "[confidentiality]\nattachments = [\"text/plain\", \"image/png\"]\n",
    );
    use_contracts(config, &[("acme-en.toml", &allowing)]);
}

/// The English ticket with files of every kind the policy treats apart.
fn ticket_with_files(external_id: &str) -> Value {
    let mut ticket = ticket_en(external_id);
    ticket["attachments"] = json!([
        { "external_id": "f-notes", "file_name": "notes for John Smith.txt", "media_type": "text/plain; charset=utf-8", "content": b64(NOTES.as_bytes()) },
        { "external_id": "f-shot", "file_name": "C:\\Users\\kim\\shot.png", "media_type": "image/png", "content": b64(PNG) },
        { "external_id": "f-pdf", "file_name": "invoice.pdf", "media_type": "application/pdf", "content": b64(b"%PDF-1.4 John Smith") },
        { "external_id": "f-latin1", "file_name": "old.txt", "media_type": "text/plain", "content": b64(b"Sm\xefth \xff\xfe") },
    ]);
    // c1 is public (shown under `public_only`), c2 internal (not shown).
    ticket["comments"][0]["attachments"] = json!([{ "file_name": "log.txt", "media_type": "text/plain", "content": b64(b"login by john.smith@example.com\n") }]);
    ticket["comments"][1]["attachments"] = json!([{ "file_name": "secret.txt", "media_type": "text/plain", "content": b64(b"internal only") }]);
    ticket
}

/// A download: status, content type, `Content-Disposition`, bytes.
async fn download(app: &TestApp, path: &str, token: &str) -> (u16, String, String, Vec<u8>) {
    let resp = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (status, media, disposition) = (
        resp.status().as_u16(),
        header("content-type"),
        header("content-disposition"),
    );
    if status == 200 {
        // Nothing in a file runs in a browser, nor is it taken for another type.
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert!(
            header("content-security-policy").contains("sandbox"),
            "{path}"
        );
    }
    let bytes = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    (status, media, disposition, bytes)
}

fn listed<'a>(view: &'a Value, media_type: &str, disposition: &str) -> &'a Value {
    view["attachments"]
        .as_array()
        .and_then(|list| {
            list.iter()
                .find(|a| a["media_type"] == media_type && a["disposition"] == disposition)
        })
        .unwrap_or_else(|| panic!("no {media_type} {disposition} in {view}"))
}

async fn files_reach_the_contractor_as_the_contract_says(app: TestApp) {
    let pushed = app.ingest(&ticket_with_files("F-1")).await;
    assert_eq!(pushed.status, 201, "{}", pushed.body);
    let id = pushed.body["id"].as_i64().unwrap_or_default();
    assert_eq!(
        pushed.body["routing"]["outcome"], "shared",
        "{}",
        pushed.body
    );

    let view = app.contractor_view("acme", id).await;
    assert_eq!(view.status, 200, "{}", view.body);
    crate::helpers::assert_documented("get", "/api/v1/contractor/tickets/{id}", &view);
    let files = view.body["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // The internal comment's file is not even listed: that would tell the comment is there.
    assert_eq!(files.len(), 5, "{files:?}");
    assert!(!view.body.to_string().contains("secret.txt"));
    let text = view.body["attachments"].to_string();
    for secret in EN_SECRETS {
        assert!(!text.contains(secret), "{secret} in {text}");
    }

    // A text file is scanned like free text; the listing's digest is of what is downloaded.
    let notes = listed(&view.body, "text/plain", "redacted");
    assert!(notes["comment_id"].is_null(), "{notes}");
    let path = |a: &Value| format!("/api/v1/contractor/tickets/{id}/attachments/{}", a["id"]);
    let acme = app.contractor("acme");
    let (status, media, disposition, bytes) = download(&app, &path(notes), &acme).await;
    assert_eq!(status, 200);
    assert_eq!(media, "text/plain; charset=utf-8");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    let got = String::from_utf8(bytes.clone()).unwrap_or_default();
    for secret in EN_SECRETS {
        assert!(!got.contains(secret), "{secret} in {got}");
        assert!(!disposition.contains(secret), "{secret} in {disposition}");
    }
    assert!(got.contains("[EMAIL_1]"), "{got}");
    assert_eq!(notes["sha256"], sha256(&bytes));
    assert_eq!(notes["size"], bytes.len());

    // The comment's file comes with its comment, scanned too.
    let log = view.body["attachments"]
        .as_array()
        .and_then(|l| l.iter().find(|a| !a["comment_id"].is_null()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(log["disposition"], "redacted", "{log}");
    let comment_ids: Vec<&Value> = view.body["comments"]
        .as_array()
        .map(|c| c.iter().map(|c| &c["id"]).collect())
        .unwrap_or_default();
    assert!(comment_ids.contains(&&log["comment_id"]), "{log}");

    // A type the contract passes, and cannot be scanned, goes as it is (its path cut off).
    let shot = listed(&view.body, "image/png", "original");
    assert_eq!(shot["file_name"], "shot.png");
    let (status, media, _, bytes) = download(&app, &path(shot), &acme).await;
    assert_eq!(
        (status, media.as_str(), bytes.as_slice()),
        (200, "image/png", PNG)
    );

    // Not in the list: withheld, and why; text that is not UTF-8 cannot be scanned.
    let pdf = listed(&view.body, "application/pdf", "withheld");
    assert_eq!(pdf["withheld"], "type_not_allowed");
    assert!(pdf["sha256"].is_null() && pdf["size"].is_null(), "{pdf}");
    let latin1 = listed(&view.body, "text/plain", "withheld");
    assert_eq!(latin1["withheld"], "not_scannable");
    let refused = app.get(&path(pdf), &acme).await;
    assert_eq!(
        (refused.status, refused.body["code"].as_str()),
        (403, Some("attachment_withheld"))
    );

    // Another contractor, and another ticket's path, get the answer a missing file gets.
    let other = app.get(&path(notes), &app.contractor("ural")).await;
    assert_eq!(other.status, 404, "{}", other.body);
    let stranger = app
        .get(
            &format!("/api/v1/contractor/tickets/{id}/attachments/999999"),
            &acme,
        )
        .await;
    assert_eq!(stranger.status, 404);
    let ledger = app.ledger();
    let downloads: Vec<_> = ledger
        .iter()
        .filter(|e| e.action == "share.attachment_download")
        .collect();
    assert_eq!(downloads.len(), 2, "the text file and the image");
    assert!(downloads.iter().all(|e| !e.details.contains("John")));
    // Each download names what its file held, in kinds and counts: the text file's e-mail was
    // tokenised, the image was not scanned.
    let found: Vec<Value> = downloads
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e.details).unwrap_or_default()["entities"].clone())
        .collect();
    assert_eq!(found[0]["EMAIL"]["tokenize"], 1, "{found:?}");
    assert_eq!(found[1], json!({}), "{found:?}");
    assert!(ledger.iter().any(|e| e.action == "access.denied"
        && e.actor.contains("ural")
        && e.details.contains("attachment")));
    let share = ledger
        .iter()
        .find(|e| e.action == "ticket.share")
        .map(|e| serde_json::from_str::<Value>(&e.details).unwrap_or_default())
        .unwrap_or_default();
    assert_eq!(share["receipt"]["attachments_sent"], 3, "{share}");
    assert_eq!(share["receipt"]["attachments_withheld"], 3, "{share}");

    // The contractor's webhook lists the files as its view does.
    let shared = app.contractor_events("acme-en");
    assert_eq!(
        shared[0]["data"]["attachments"].as_array().map(Vec::len),
        Some(5)
    );

    // A re-push stores nothing twice; the in-house side sees every file in clear.
    let again = app.ingest(&ticket_with_files("F-1")).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(app.count("attachments"), 6);
    let inhouse = app
        .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await;
    let all = inhouse.body["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(all.len(), 6, "{all:?}");
    let original = all
        .iter()
        .find(|a| a["file_name"] == "notes for John Smith.txt")
        .cloned()
        .unwrap_or_default();
    let href = original["href"].as_str().unwrap_or_default();
    let (status, _, _, bytes) = download(&app, href, &app.inhouse()).await;
    assert_eq!((status, bytes.as_slice()), (200, NOTES.as_bytes()));
    let (status, ..) = download(&app, href, &acme).await;
    assert_eq!(
        status, 403,
        "a contractor token is refused the in-house path"
    );
}

on_both_backends!(with allowing_files: files_reach_the_contractor_as_the_contract_says);

async fn a_contract_that_drops_files_lists_them_as_withheld(app: TestApp) {
    let pushed = app.ingest(&ticket_with_files("F-2")).await;
    let id = pushed.body["id"].as_i64().unwrap_or_default();
    let view = app.contractor_view("acme", id).await;
    let files = view.body["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(files.len(), 5, "{}", view.body);
    assert!(
        files
            .iter()
            .all(|f| f["withheld"] == "dropped" && f["sha256"].is_null())
    );
    for f in &files {
        let path = format!("/api/v1/contractor/tickets/{id}/attachments/{}", f["id"]);
        let answer = app.get(&path, &app.contractor("acme")).await;
        assert_eq!(answer.status, 403, "{}", answer.body);
    }
    assert!(
        app.ledger()
            .iter()
            .all(|e| e.action != "share.attachment_download")
    );
}

on_both_backends!(a_contract_that_drops_files_lists_them_as_withheld);

async fn a_contractors_files_go_home_with_real_values(app: TestApp) {
    let pushed = app.ingest(&ticket_with_files("F-3")).await;
    let id = pushed.body["id"].as_i64().unwrap_or_default();
    let view = app.contractor_view("acme", id).await;
    let email_token = "[EMAIL_1]";
    assert!(view.body.to_string().contains(email_token), "{}", view.body);
    let written = format!("Refund sent to {email_token}; ticket closed.\n");
    let reply = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/replies"),
            &app.contractor("acme"),
            &json!({
                "body": "See the attached summary.",
                "public": true,
                "attachments": [
                    { "file_name": "summary.txt", "media_type": "text/plain", "content": b64(written.as_bytes()) },
                    { "file_name": "receipt.png", "media_type": "image/png", "content": b64(PNG) },
                ],
            }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);

    // In-house: the text file with the real address, the image as sent.
    let feed = app
        .get("/api/v1/events?after=0&limit=200", &app.inhouse())
        .await;
    let replied = feed.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|e| e["type"] == "share.replied"))
        .cloned()
        .unwrap_or_default();
    let files = replied["data"]["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(files.len(), 2, "{replied}");
    let summary = files
        .iter()
        .find(|f| f["file_name"] == "summary.txt")
        .cloned()
        .unwrap_or_default();
    let (status, _, _, home) = download(
        &app,
        summary["href"].as_str().unwrap_or_default(),
        &app.inhouse(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        String::from_utf8(home.clone()).unwrap_or_default(),
        "Refund sent to john.smith@example.com; ticket closed.\n"
    );
    assert_eq!(summary["sha256"], sha256(&home));

    // The contractor finds its own files as it sent them, never the values.
    let view = app.contractor_view("acme", id).await;
    let own = view.body["attachments"]
        .as_array()
        .and_then(|l| l.iter().find(|a| a["file_name"] == "summary.txt"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(own["disposition"], "original", "{own}");
    let path = format!("/api/v1/contractor/tickets/{id}/attachments/{}", own["id"]);
    let (status, _, _, bytes) = download(&app, &path, &app.contractor("acme")).await;
    assert_eq!((status, bytes), (200, written.clone().into_bytes()));
    assert!(!view.body.to_string().contains("john.smith@example.com"));
    let reply_entry = app
        .ledger()
        .into_iter()
        .find(|e| e.action == "share.reply")
        .map(|e| serde_json::from_str::<Value>(&e.details).unwrap_or_default())
        .unwrap_or_default();
    assert_eq!(reply_entry["attachments"], 2);
    assert_eq!(reply_entry["rehydration"]["replaced"], 1, "{reply_entry}");
}

on_both_backends!(with allowing_files: a_contractors_files_go_home_with_real_values);

async fn bad_files_are_refused_naming_the_field(app: TestApp) {
    let cases = [
        (
            json!({ "file_name": "a.txt", "media_type": "text/plain", "content": "not base64!" }),
            "attachments[0].content",
        ),
        (
            json!({ "file_name": "a.txt", "media_type": "plain", "content": "" }),
            "attachments[0].media_type",
        ),
        (
            json!({ "file_name": "bad\u{7}.txt", "media_type": "text/plain", "content": "" }),
            "attachments[0].file_name",
        ),
        (
            json!({ "file_name": "a.txt", "media_type": "text/plain" }),
            "attachments[0].content",
        ),
    ];
    for (i, (file, field)) in cases.into_iter().enumerate() {
        let mut ticket = ticket_en(&format!("BAD-{i}"));
        ticket["attachments"] = json!([file]);
        let answer = app.ingest(&ticket).await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        assert_eq!(answer.body["field"], field, "{}", answer.body);
    }
    let mut ticket = ticket_en("BAD-big");
    let big = vec![b'x'; 8 * 1024 * 1024 + 1];
    ticket["attachments"] =
        json!([{ "file_name": "big.txt", "media_type": "text/plain", "content": b64(&big) }]);
    let answer = app.ingest(&ticket).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("larger than"))
    );
    assert_eq!(app.count("tickets"), 0, "nothing half-written");
    assert_eq!(app.count("attachment_contents"), 0);
}

on_both_backends!(bad_files_are_refused_naming_the_field);
