//! The OpenAPI 3.1 document, generated from the handlers' annotations and the request types;
//! served at `GET /openapi.json`, printed by `msp-bridge openapi` and committed as
//! `docs/openapi.json` (a test fails when the two differ).

use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr};

use super::error::PROBLEM_CODES;
use super::{admin, approvals, console, contractor, inhouse, knowledge, ops, subjects};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "msp-bridge",
        description = "Gateway between a company's in-house support and its outside contractor agencies: tickets in, contracts decide, personal data redacted per contract, replies and status changes synced back, SLA clocks, a tamper-evident audit and compliance reports.\n\nEvery error is `application/problem+json` (see the `Problem` schema) with a stable `code`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        ops::healthz,
        ops::readyz,
        ops::metrics,
        ops::openapi,
        inhouse::ingest,
        inhouse::inbound,
        inhouse::show,
        inhouse::comment,
        inhouse::attachment,
        inhouse::recall,
        inhouse::satisfaction,
        inhouse::routing_preview,
        inhouse::backlog_preview,
        inhouse::report_queue,
        inhouse::events,
        admin::switch_overflow,
        admin::contracts,
        admin::deliveries,
        admin::replay_delivery,
        admin::sla_figures,
        admin::verify_audit,
        admin::reports,
        admin::run_report,
        admin::report_schedule,
        admin::report,
        admin::preview,
        contractor::list,
        contractor::show,
        contractor::reply,
        contractor::attachment,
        contractor::status,
        contractor::handback,
        contractor::figures,
        approvals::list,
        approvals::approve,
        approvals::reject,
        knowledge::list,
        knowledge::read,
        subjects::contractor_erasures,
        subjects::acknowledge,
        subjects::disclosures,
        subjects::erase,
        subjects::erasures,
        console::home,
        console::sign_in_page,
        console::sign_in,
        console::sign_out,
        console::reports_page,
        console::run_report,
        console::report_page,
        console::report_content,
    ),
    components(schemas(crate::outbox::Envelope)),
    modifiers(&Conventions),
    tags(
        (name = "operations", description = "Liveness, readiness, metrics and this document."),
        (name = "in-house", description = "The company's helpdesk: tickets in, comments, recalls, the event feed."),
        (name = "contractor", description = "A contractor agency's scoped API: only its own shares, redacted per contract."),
        (name = "administration", description = "Contracts, deliveries, SLA figures, the audit ledger, redaction previews."),
        (name = "compliance", description = "A data subject's rights: which contractor got the person's data, and its erasure everywhere."),
        (name = "reports", description = "Compliance reports: on demand, scheduled, stored with their sha256."),
        (name = "console", description = "The web console (HTML pages; a session cookie after signing in with a token)."),
    )
)]
struct ApiDoc;

/// What holds for every operation and is said once here rather than on each: the security
/// schemes, the problem schema and the problem answers each kind of operation can give.
struct Conventions;

impl utoipa::Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http({
                let mut scheme = Http::new(HttpAuthScheme::Bearer);
                scheme.bearer_format = Some("JWT".into());
                scheme.description = Some(
                    "HS256 JWT issued by `msp-bridge token issue`: claims `sub`, `role` \
                     (`inhouse`, `contractor`, `compliance` or `admin`), `contractor` for \
                     contractors, `exp`, `jti`. The roles an operation accepts are listed in \
                     its security requirement; any other role is refused with 403 `forbidden`."
                        .into(),
                );
                scheme
            }),
        );
        components.add_security_scheme(
            "console_session",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Cookie(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    "bridge_session",
                    "The console's session cookie, set by `POST /console/sign-in`.",
                ),
            )),
        );
        components
            .schemas
            .insert("Problem".into(), RefOr::T(problem_schema()));
        openapi
            .extensions
            .get_or_insert_with(Default::default)
            .insert("webhooks".into(), webhooks());
        // `/console/` answers as `/console` does.
        if let Some(home) = openapi.paths.paths.get("/console").cloned() {
            let mut slash = home;
            if let Some(get) = slash.get.as_mut() {
                get.operation_id = Some("console_home_slash".into());
            }
            openapi.paths.paths.insert("/console/".into(), slash);
        }
        for (path, item) in &mut openapi.paths.paths {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                add_problems(path, operation);
            }
        }
    }
}

/// The events the gateway posts (OpenAPI 3.1 `webhooks`): to the in-house side and to each
/// contractor, as Standard Webhooks.
fn webhooks() -> serde_json::Value {
    use utoipa::openapi::path::{
        HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
    };
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::{Ref, Required};
    let header = |name: &str, kind: Type, description: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(description))
            .schema(Some(ObjectBuilder::new().schema_type(kind)))
            .build()
    };
    let hook = |id: &str, summary: &str, description: &str| {
        let operation = OperationBuilder::new()
            .operation_id(Some(id))
            .summary(Some(summary))
            .description(Some(description))
            .parameter(header(
                "webhook-id",
                Type::String,
                "The event id, as in the body: drop an id already processed.",
            ))
            .parameter(header(
                "webhook-timestamp",
                Type::Integer,
                "Unix seconds when sent: reject a timestamp more than a few minutes from your clock.",
            ))
            .parameter(header(
                "webhook-signature",
                Type::String,
                "`v1,` and the base64 HMAC-SHA256, keyed with the decoded `whsec_` secret, of \
                 `{webhook-id}.{webhook-timestamp}.{body}` over the raw body; compare in \
                 constant time with each space-separated value.",
            ))
            .request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(RefOr::Ref(Ref::from_schema_name("Envelope"))))
                            .build(),
                    )
                    .build(),
            ))
            .response(
                "2XX",
                ResponseBuilder::new().description(
                    "Taken. Any other status, a timeout (`BRIDGE_DELIVERY_TIMEOUT_MS`) or a \
                     connection error is retried with backoff (1 s doubling to 1 h, `Retry-After` \
                     honoured on 429 and 503) until `BRIDGE_DELIVERY_GIVE_UP_SECS`, then the event \
                     is a dead letter. Events of one ticket arrive in commit order.",
                ),
            )
            .build();
        serde_json::to_value(PathItem::new(HttpMethod::Post, operation)).unwrap_or_default()
    };
    serde_json::json!({
        "inhouse-event": hook(
            "webhook_inhouse_event",
            "An event for the in-house side",
            "Posted to `BRIDGE_INHOUSE_WEBHOOK_URL`, signed with `BRIDGE_INHOUSE_WEBHOOK_SECRET`; \
             the same envelopes as `GET /api/v1/events`. Replies arrive re-hydrated (real values \
             in place of the contractor's tokens).",
        ),
        "contractor-event": hook(
            "webhook_contractor_event",
            "An event for a contractor",
            "Posted to the contract's `[endpoint] url`, signed with the secret in the variable its \
             `secret_env` names. `data` holds only what the contract lets the contractor see \
             (redacted, tokenised); `share.recalled` carries a `reason_code`, never the in-house \
             reason.",
        ),
    })
}

/// The problem answers an operation can give, from what it takes: a body, parameters, an id
/// in its path, a token.
fn add_problems(path: &str, operation: &mut Operation) {
    let html = path.starts_with("/console");
    let has_body = operation.request_body.is_some();
    let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let bearer = operation.security.as_ref().is_some_and(|s| {
        serde_json::to_value(s).is_ok_and(|v| v.to_string().contains("\"bearer\""))
    });
    let mut problems: Vec<(&str, &str)> = Vec::new();
    if has_body || has_params {
        problems.push((
            "400",
            "The request does not fit: `malformed_json`, `missing_field`, `unknown_field`, \
             `unknown_value`, `wrong_type`, `invalid_field`, `invalid_query`, `invalid_path` \
             or `invalid_header`, with the `field` at fault.",
        ));
    }
    if bearer {
        problems.push((
            "401",
            "No usable token: `missing_token`, `malformed_token`, `invalid_token`, \
             `expired_token` or `revoked_token`.",
        ));
        problems.push(
            if path.starts_with("/api/v1/contractor/") && path.ends_with("{attachment}") {
                (
                    "403",
                    "`forbidden`: the token's role may not do this; or `attachment_withheld`: the \
                 contract withholds this file (the ticket lists it, with why).",
                )
            } else {
                ("403", "The token's role may not do this: `forbidden`.")
            },
        );
    }
    if path == "/metrics" {
        problems.push((
            "401",
            "`missing_token`: `BRIDGE_METRICS_TOKEN` is set and its bearer token was not sent.",
        ));
    }
    // A contract named in a report's body may be unknown, too.
    let names_a_contract = has_body && path == "/api/v1/reports";
    if path.contains('{') || names_a_contract {
        problems.push((
            "404",
            "`not_found`: no such resource, or not the caller's to see (a contractor asking for \
             another's ticket gets the same answer).",
        ));
    }
    if has_body {
        problems.push(("408", "`request_timeout`: the body did not arrive in time."));
        problems.push((
            "409",
            "`conflict`: the change conflicts with the resource's state or a concurrent change.",
        ));
        problems.push(("413", "`payload_too_large`: the body is too large."));
        problems.push((
            "415",
            "`unsupported_media_type`: the body is not of the expected media type.",
        ));
    }
    if path != "/healthz" && path != "/openapi.json" {
        problems.push((
            "503",
            "`unavailable`: the database is unreachable (retry later); for a contractor's \
             ticket also `redaction_failed` (nothing is shown rather than something unredacted).",
        ));
        problems.push((
            "500",
            "`internal_error`: a failure of ours, logged; nothing was half-written.",
        ));
    }
    for (status, description) in problems {
        if operation.responses.responses.contains_key(status) {
            continue;
        }
        let mut response = ResponseBuilder::new().description(description);
        if !html {
            response = response.content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                        "Problem",
                    ))))
                    .build(),
            );
        }
        operation
            .responses
            .responses
            .insert(status.into(), RefOr::T(response.build()));
    }
}

/// RFC 9457 problem details with the gateway's stable `code` and the `field` at fault.
fn problem_schema() -> Schema {
    let string = |description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
    };
    Schema::Object(
        ObjectBuilder::new()
            .description(Some(
                "An error answer (`application/problem+json`, RFC 9457). Internal causes are \
                 logged, never sent; a value sent in the request is never repeated.",
            ))
            .property("type", string("`https://msp-bridge.dev/problems/<code>`."))
            .property("title", string("The HTTP status's reason phrase."))
            .property(
                "status",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .description(Some("The HTTP status.")),
            )
            .property("detail", string("What is wrong, for a person."))
            .property(
                "code",
                string("A stable code to branch on.")
                    .enum_values(Some(PROBLEM_CODES.iter().copied())),
            )
            .property(
                "field",
                string("The field, parameter or header at fault (`requester.email`, `limit`)."),
            )
            .required("type")
            .required("title")
            .required("status")
            .required("detail")
            .required("code")
            .build(),
    )
}

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as pretty JSON with a final newline, as committed in `docs/openapi.json`;
/// built once per process (it depends on the code only).
pub fn document_json() -> &'static str {
    static JSON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    JSON.get_or_init(|| {
        let mut json = document()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        json.push('\n');
        json
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `example` is read by the type the schema `name` stands for, with the parser
    /// the API uses: an example a client copies is one the gateway takes.
    fn parses_as(name: &str, example: &serde_json::Value) -> Result<(), String> {
        fn read<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<(), String> {
            crate::json_input::parse::<T>(v.to_string().as_bytes())
                .map(|_| ())
                .map_err(|p| p.detail)
        }
        match name {
            "TicketInput" => read::<crate::tickets::TicketInput>(example),
            "CommentInput" => read::<crate::tickets::CommentInput>(example),
            "RecallInput" => read::<inhouse::RecallInput>(example),
            "QueueInput" => read::<inhouse::QueueInput>(example),
            "FeedbackInput" => read::<crate::service::feedback::FeedbackInput>(example),
            "StatusInput" => read::<contractor::StatusInput>(example),
            "HandBack" => read::<crate::service::contractor::HandBack>(example),
            "ReplyInput" => read::<crate::service::replies::ReplyInput>(example),
            "OverflowInput" => read::<admin::OverflowInput>(example),
            "PreviewInput" => read::<admin::PreviewInput>(example),
            "ReportInput" => read::<admin::ReportInput>(example),
            "ErasureRequest" => read::<crate::service::subjects::ErasureRequest>(example),
            // The inbound payload is the helpdesk's: its adapter reads it.
            "inbound" => crate::adapters::by_name("zendesk")
                .ok_or("no zendesk adapter")?
                .ticket(example.clone())
                .map(|_| ())
                .map_err(|e| e.to_string()),
            other => Err(format!("no type known for request schema {other}")),
        }
    }

    #[test]
    fn every_json_request_body_has_an_example_the_gateway_reads() {
        let document = serde_json::to_value(document()).unwrap_or_default();
        let mut checked = 0;
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let media = &operation["requestBody"]["content"]["application/json"];
                if media.is_null() {
                    continue;
                }
                let (name, example) = match media["schema"]["$ref"].as_str() {
                    Some(r) => {
                        let name = r.trim_start_matches("#/components/schemas/");
                        (name, &document["components"]["schemas"][name]["example"])
                    }
                    None => ("inbound", &media["example"]),
                };
                assert!(!example.is_null(), "{method} {path}: no example");
                if let Err(e) = parses_as(name, example) {
                    panic!("{method} {path}: the example is refused: {e}");
                }
                checked += 1;
            }
        }
        assert!(checked >= 13, "{checked}");
    }

    #[test]
    fn the_committed_document_is_the_generated_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == document_json(),
            "docs/openapi.json is stale: run `cargo run -- openapi > docs/openapi.json`"
        );
    }

    #[test]
    fn every_route_is_documented_and_nothing_else() {
        let document = serde_json::to_value(document()).unwrap_or_default();
        let mut documented: Vec<(String, String)> = Vec::new();
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
                documented.push((method.clone(), path.clone()));
            }
        }
        let mut registered: Vec<(String, String)> = crate::http::ROUTES
            .iter()
            .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
            .collect();
        documented.sort();
        registered.sort();
        assert_eq!(documented, registered);
        assert_eq!(registered.len(), 52);
    }

    #[test]
    fn every_operation_names_its_problems_and_its_roles() {
        let document = serde_json::to_value(document()).unwrap_or_default();
        assert_eq!(document["openapi"], "3.1.0");
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let responses = &operation["responses"];
                if path.starts_with("/api/") {
                    for status in ["401", "403", "500", "503"] {
                        assert!(responses.get(status).is_some(), "{method} {path}: {status}");
                    }
                    let roles = operation["security"][0]["bearer"]
                        .as_array()
                        .map(Vec::len)
                        .unwrap_or(0);
                    assert!(roles >= 1, "{method} {path}: no role");
                }
                if path.contains('{') {
                    assert!(responses.get("404").is_some(), "{method} {path}");
                }
            }
        }
    }

    #[test]
    fn every_reference_resolves() {
        let text = document_json();
        let document: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        let schemas = &document["components"]["schemas"];
        let mut refs = 0;
        for (at, _) in text.match_indices("\"#/components/schemas/") {
            let name: String = text[at + 22..].chars().take_while(|c| *c != '"').collect();
            assert!(
                schemas.get(&name).is_some(),
                "{name} is referenced but not defined"
            );
            refs += 1;
        }
        assert!(refs >= 20, "{refs}");
    }

    #[test]
    fn the_webhooks_are_described_with_their_signature_headers() {
        let document = serde_json::to_value(document()).unwrap_or_default();
        for hook in ["inhouse-event", "contractor-event"] {
            let post = &document["webhooks"][hook]["post"];
            let headers: Vec<&str> = post["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "header" && p["required"] == true)
                .filter_map(|p| p["name"].as_str())
                .collect();
            assert_eq!(
                headers,
                ["webhook-id", "webhook-timestamp", "webhook-signature"],
                "{hook}"
            );
            assert_eq!(
                post["requestBody"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/Envelope"
            );
        }
        // The schema is the envelope as sent: the same keys, every event type.
        let envelope = crate::outbox::Envelope {
            id: "evt_1".into(),
            event_type: crate::model::EventType::ShareRecalled,
            seq: 1,
            occurred_at: chrono::DateTime::UNIX_EPOCH,
            ticket: Some(1.into()),
            data: serde_json::json!({}),
        };
        let sent = serde_json::to_value(&envelope).unwrap_or_default();
        let schema = &document["components"]["schemas"]["Envelope"];
        let mut keys: Vec<&String> = sent
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
            .collect();
        let mut properties: Vec<&String> = schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
            .collect();
        keys.sort();
        properties.sort();
        assert_eq!(keys, properties);
        assert_eq!(sent["type"], "share.recalled");
        let types = serde_json::to_value(crate::model::EventType::ALL).unwrap_or_default();
        let described = serde_json::to_string(&document).unwrap_or_default();
        for t in types.as_array().into_iter().flatten() {
            assert!(described.contains(&t.to_string()), "{t}");
        }
    }

    #[test]
    fn the_problem_schema_fits_what_errors_send() {
        use actix_web::ResponseError;
        let schema = problem_schema();
        let schema = serde_json::to_value(schema).unwrap_or_default();
        let error = crate::http::error::ApiError::invalid("invalid_field", "limit", "too big");
        let body = actix_web::body::to_bytes(error.error_response().into_body());
        let body = futures_util::FutureExt::now_or_never(body)
            .and_then(Result::ok)
            .unwrap_or_default();
        let sent: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let properties = schema["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for key in sent.as_object().into_iter().flatten().map(|(k, _)| k) {
            assert!(properties.contains_key(key), "{key} is not in the schema");
        }
        for required in schema["required"].as_array().into_iter().flatten() {
            assert!(sent.get(required.as_str().unwrap_or_default()).is_some());
        }
        let codes = schema["properties"]["code"]["enum"].clone();
        assert!(
            codes
                .as_array()
                .is_some_and(|c| c.contains(&serde_json::json!("invalid_field")))
        );
    }
}
