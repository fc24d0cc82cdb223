use chrono::TimeZone;

use super::*;
use crate::contracts::parse_contract;

const BASE: &str = r#"
id = "c1"
contractor = "acme"
display_name = "Acme"
valid_from = "2026-01-01"
valid_until = "2026-12-31"
timezone = "Europe/Moscow"
[scope]
channels = ["email", "chat"]
priorities = ["low", "normal"]
categories = ["billing"]
languages = ["ru"]
exclude_tags = ["vip"]
[overflow]
mode = "MODE"
max_open = 2
queue_depth_above = 50
peak_windows = [{ from = "2026-11-27T00:00", until = "2026-11-30T00:00", label = "Black Friday" }]
[sla]
calendar = { always_open = true }
targets = [{ priority = "normal", first_response = "1h", resolution = "1d" }]
[confidentiality]
fields = { subject = "pass" }
comments = "none"
retention_days = 30
[processing]
purposes = ["customer support on the company's behalf"]
legal_basis = "contract"
data_categories = ["contact details", "order and payment details in ticket text"]
subject_categories = ["customers"]
actions = ["read", "reply", "store", "download"]
safeguards = ["redaction and tokenisation per contract", "access scoped per contractor", "tamper-evident audit"]
location = "GB"
contact = "dpo@contractor.example"
retention_days = 30

[reporting]
schedule = "0 6 * * 1"
formats = ["json"]
locale = "ru"
"#;

fn contract(mode: &str) -> Contract {
    parse_contract("c1.toml", &BASE.replace("MODE", mode)).unwrap_or_else(|p| panic!("{p:?}"))
}

/// No custom fields.
static NO_FIELDS: std::sync::LazyLock<serde_json::Map<String, serde_json::Value>> =
    std::sync::LazyLock::new(serde_json::Map::new);

fn ticket(tags: &[String]) -> RoutableTicket<'_> {
    RoutableTicket {
        channel: Channel::Email,
        priority: Priority::Normal,
        category: Some("billing"),
        language: Some("ru"),
        tags,
        custom_fields: &NO_FIELDS,
        key: "zendesk/1",
    }
}

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .unwrap_or_default()
}

fn verdict(
    c: &Contract,
    t: &RoutableTicket<'_>,
    live: LiveState,
    now: DateTime<Utc>,
) -> Consideration {
    evaluate(t, [(c, live)], now).remove(0)
}

#[test]
fn always_mode_takes_matching_tickets() {
    let c = contract("always");
    let v = verdict(&c, &ticket(&[]), LiveState::default(), at(2026, 6, 1, 12));
    assert!(v.eligible, "{}", v.reason);
}

#[test]
fn scope_mismatches_say_which_part() {
    let c = contract("always");
    let now = at(2026, 6, 1, 12);
    let vip = ["vip".to_owned()];
    assert_eq!(
        verdict(&c, &ticket(&vip), LiveState::default(), now).reason,
        "tag vip is excluded"
    );
    let mut t = ticket(&[]);
    t.channel = Channel::Phone;
    assert_eq!(
        verdict(&c, &t, LiveState::default(), now).reason,
        "channel phone is not in scope"
    );
    let mut t = ticket(&[]);
    t.priority = Priority::Urgent;
    assert_eq!(
        verdict(&c, &t, LiveState::default(), now).reason,
        "priority urgent is not in scope"
    );
    let mut t = ticket(&[]);
    t.category = Some("legal");
    assert_eq!(
        verdict(&c, &t, LiveState::default(), now).reason,
        "category legal is not in scope"
    );
    let mut t = ticket(&[]);
    t.language = None;
    assert!(!verdict(&c, &t, LiveState::default(), now).eligible);
}

#[test]
fn validity_is_read_in_the_contract_timezone() {
    let c = contract("always");
    // 2025-12-31 22:00 UTC is already 2026-01-01 01:00 in Moscow.
    assert!(verdict(&c, &ticket(&[]), LiveState::default(), at(2025, 12, 31, 22)).eligible);
    assert_eq!(
        verdict(&c, &ticket(&[]), LiveState::default(), at(2025, 12, 31, 20)).reason,
        "not in force until 2026-01-01"
    );
    assert_eq!(
        verdict(&c, &ticket(&[]), LiveState::default(), at(2026, 12, 31, 21)).reason,
        "ended on 2026-12-31"
    );
}

#[test]
fn manual_mode_needs_the_switch_or_a_peak_window() {
    let c = contract("manual");
    let quiet = at(2026, 6, 1, 12);
    assert!(!verdict(&c, &ticket(&[]), LiveState::default(), quiet).eligible);
    let on = LiveState {
        manual_on: true,
        ..LiveState::default()
    };
    assert!(verdict(&c, &ticket(&[]), on, quiet).eligible);
    // Window starts 2026-11-27 00:00 Moscow = 2026-11-26 21:00 UTC.
    assert!(!verdict(&c, &ticket(&[]), LiveState::default(), at(2026, 11, 26, 20)).eligible);
    let inside = verdict(&c, &ticket(&[]), LiveState::default(), at(2026, 11, 26, 21));
    assert!(
        inside.eligible && inside.reason.contains("Black Friday"),
        "{}",
        inside.reason
    );
    assert!(!verdict(&c, &ticket(&[]), LiveState::default(), at(2026, 11, 29, 21)).eligible);
}

#[test]
fn off_mode_and_full_capacity_refuse() {
    assert_eq!(
        verdict(
            &contract("off"),
            &ticket(&[]),
            LiveState::default(),
            at(2026, 11, 28, 12)
        )
        .reason,
        "overflow is off"
    );
    let full = LiveState {
        open_shares: 2,
        ..LiveState::default()
    };
    assert_eq!(
        verdict(&contract("always"), &ticket(&[]), full, at(2026, 6, 1, 12)).reason,
        "at capacity (2 of 2 open)"
    );
    let returned = LiveState {
        returned_before: true,
        ..LiveState::default()
    };
    assert!(
        !verdict(
            &contract("always"),
            &ticket(&[]),
            returned,
            at(2026, 6, 1, 12)
        )
        .eligible
    );
}

#[test]
fn regulated_categories_stay_home_unless_named() {
    let mut c = contract("always");
    c.scope.categories.clear();
    let mut t = ticket(&[]);
    t.category = Some("medical");
    assert_eq!(
        verdict(&c, &t, LiveState::default(), at(2026, 6, 1, 12)).reason,
        "category medical is regulated and the contract does not name it"
    );
    c.scope.categories = vec!["medical".into()];
    assert!(verdict(&c, &t, LiveState::default(), at(2026, 6, 1, 12)).eligible);
}

#[test]
fn share_percent_is_stable_per_ticket() {
    let mut c = contract("always");
    c.overflow.share_percent = 30;
    let keys: Vec<String> = (0..1000).map(|n| format!("zendesk/{n}")).collect();
    let taken = keys
        .iter()
        .filter(|k| {
            let mut t = ticket(&[]);
            t.key = k;
            verdict(&c, &t, LiveState::default(), at(2026, 6, 1, 12)).eligible
        })
        .count();
    assert!(
        (250..=350).contains(&taken),
        "about 30 % of tickets: {taken}"
    );
    assert_eq!(share_bucket("zendesk/42"), share_bucket("zendesk/42"));
    // Pinned (FNV-1a computed independently), so a change of hash function, which would
    // move tickets between contractors, is noticed.
    assert_eq!(share_bucket("zendesk/42"), 54);
}

#[test]
fn hourly_cap() {
    let mut c = contract("always");
    c.overflow.max_new_per_hour = Some(5);
    let busy = LiveState {
        shared_last_hour: 5,
        ..LiveState::default()
    };
    assert_eq!(
        verdict(&c, &ticket(&[]), busy, at(2026, 6, 1, 12)).reason,
        "hourly cap reached (5 of 5 new in the last hour)"
    );
    let fine = LiveState {
        shared_last_hour: 4,
        ..LiveState::default()
    };
    assert!(verdict(&c, &ticket(&[]), fine, at(2026, 6, 1, 12)).eligible);
}

#[test]
fn threshold_mode_follows_the_queue() {
    let mut c = contract("threshold");
    c.overflow.queue_depth_above = Some(50);
    c.overflow.peak_windows.clear();
    let calm = LiveState {
        queue_depth: 50,
        ..LiveState::default()
    };
    assert_eq!(
        verdict(&c, &ticket(&[]), calm, at(2026, 6, 1, 12)).reason,
        "no peak window is open and the in-house queue (50) is not above 50"
    );
    let busy = LiveState {
        queue_depth: 51,
        ..LiveState::default()
    };
    let v = verdict(&c, &ticket(&[]), busy, at(2026, 6, 1, 12));
    assert!(
        v.eligible && v.reason.contains("in-house queue at 51, above 50"),
        "{}",
        v.reason
    );
}

#[test]
fn equal_ranks_go_to_the_one_with_more_room() {
    let mut a = contract("always");
    a.id = "a".into();
    a.overflow.max_open = 10;
    let mut b = contract("always");
    b.id = "b".into();
    b.overflow.max_open = 10;
    let mut later = contract("always");
    later.id = "0-later".into();
    later.overflow.rank += 1;
    let busy_a = LiveState {
        open_shares: 8,
        ..LiveState::default()
    };
    let busy_b = LiveState {
        open_shares: 3,
        ..LiveState::default()
    };
    let order: Vec<&str> =
        in_routing_order([(&later, LiveState::default()), (&a, busy_a), (&b, busy_b)])
            .into_iter()
            .map(|(c, _)| c.id.as_str())
            .collect();
    assert_eq!(order, ["b", "a", "0-later"]);
    let even: Vec<&str> =
        in_routing_order([(&b, LiveState::default()), (&a, LiveState::default())])
            .into_iter()
            .map(|(c, _)| c.id.as_str())
            .collect();
    assert_eq!(even, ["a", "b"], "ties fall back to the id");
}

/// The base contract open 09:00–18:00 Moscow on weekdays, with `extra` in `[overflow]`.
fn office_hours(extra: &str) -> Contract {
    let text = BASE
        .replace("MODE", "always")
        .replace(
            "calendar = { always_open = true }",
            r#"calendar = { hours = { mon = "09:00-18:00", tue = "09:00-18:00", wed = "09:00-18:00", thu = "09:00-18:00", fri = "09:00-18:00" } }"#,
        )
        .replace("max_open = 2\n", &format!("max_open = 2\n{extra}"));
    parse_contract("c1.toml", &text).unwrap_or_else(|p| panic!("{p:?}"))
}

#[test]
fn a_chat_is_not_sent_to_a_closed_agency_and_an_email_is() {
    let c = office_hours("");
    let chat = RoutableTicket {
        channel: Channel::Chat,
        ..ticket(&[])
    };
    // Monday 23:00 Moscow (20:00 UTC): closed.
    let night = at(2026, 6, 1, 20);
    let v = verdict(&c, &chat, LiveState::default(), night);
    assert!(!v.eligible);
    assert_eq!(
        v.reason,
        "closed until 09:00 MSK (a chat is not sent to a closed agency)"
    );
    assert!(verdict(&c, &ticket(&[]), LiveState::default(), night).eligible);
    // Friday 23:00 Moscow: it opens on Monday.
    let weekend = verdict(&c, &chat, LiveState::default(), at(2026, 6, 5, 20));
    assert_eq!(
        weekend.reason,
        "closed until Mon 09:00 MSK (a chat is not sent to a closed agency)"
    );
    // Tuesday 10:00 Moscow (07:00 UTC): open for chats too.
    assert!(verdict(&c, &chat, LiveState::default(), at(2026, 6, 2, 7)).eligible);
}

#[test]
fn accept_outside_hours_says_which_channels_wait_for_the_morning() {
    let night = at(2026, 6, 1, 20);
    let chat = RoutableTicket {
        channel: Channel::Chat,
        ..ticket(&[])
    };
    let none = office_hours("accept_outside_hours = false\n");
    assert!(!verdict(&none, &ticket(&[]), LiveState::default(), night).eligible);
    let all = office_hours("accept_outside_hours = true\n");
    assert!(verdict(&all, &chat, LiveState::default(), night).eligible);
    let chats = office_hours("accept_outside_hours = [\"chat\"]\n");
    assert!(verdict(&chats, &chat, LiveState::default(), night).eligible);
    assert!(!verdict(&chats, &ticket(&[]), LiveState::default(), night).eligible);
    // Around the clock, nothing is ever closed.
    assert!(verdict(&contract("always"), &chat, LiveState::default(), night).eligible);
}

#[test]
fn scope_can_ask_for_custom_field_values() {
    let text = BASE.replace("MODE", "always").replace(
        "exclude_tags = [\"vip\"]\n",
        "exclude_tags = [\"vip\"]\ncustom_fields = { plan = [\"Pro\", \"enterprise\"] }\n",
    );
    let c = parse_contract("c1.toml", &text).unwrap_or_else(|p| panic!("{p:?}"));
    let now = at(2026, 6, 1, 12);
    let with_plan = |plan: serde_json::Value| {
        let mut fields = serde_json::Map::new();
        fields.insert("plan".into(), plan);
        fields
    };
    let pro = with_plan(serde_json::json!("PRO"));
    let free = with_plan(serde_json::json!("free"));
    let judge = |fields: &serde_json::Map<String, serde_json::Value>| {
        let t = RoutableTicket {
            custom_fields: fields,
            ..ticket(&[])
        };
        verdict(&c, &t, LiveState::default(), now)
    };
    assert!(judge(&pro).eligible, "{}", judge(&pro).reason);
    assert_eq!(
        judge(&free).reason,
        "custom field plan = free is not in scope"
    );
    assert_eq!(
        judge(&NO_FIELDS).reason,
        "custom field plan is not set and the scope lists values"
    );
    let empty = BASE.replace("MODE", "always").replace(
        "exclude_tags = [\"vip\"]\n",
        "exclude_tags = [\"vip\"]\ncustom_fields = { plan = [] }\n",
    );
    assert!(parse_contract("c1.toml", &empty).is_err());
}

#[test]
fn an_escalation_skips_the_trigger_but_not_scope_hours_or_room() {
    // An L2 agency with overflow off takes what is handed up to it, and only that.
    let l2 = contract("off");
    let now = at(2026, 6, 1, 12);
    let free = LiveState::default();
    assert!(!verdict(&l2, &ticket(&[]), free, now).eligible);
    let v = evaluate_escalation(&ticket(&[]), &l2, free, now);
    assert!(v.eligible, "{}", v.reason);
    assert_eq!(
        v.reason,
        "in scope, an escalation, room for more (0 of 2 open)"
    );
    let full = LiveState {
        open_shares: 2,
        ..free
    };
    assert_eq!(
        evaluate_escalation(&ticket(&[]), &l2, full, now).reason,
        "at capacity (2 of 2 open)"
    );
    assert!(can_take_escalation(&l2, free, now));
    assert!(!can_take_escalation(&l2, full, now));
    assert!(!can_take_escalation(&l2, free, at(2027, 6, 1, 12)));
    let vip = ["vip".to_owned()];
    assert_eq!(
        evaluate_escalation(&ticket(&vip), &l2, free, now).reason,
        "tag vip is excluded"
    );
    let gave_up = LiveState {
        returned_before: true,
        ..free
    };
    assert!(!evaluate_escalation(&ticket(&[]), &l2, gave_up, now).eligible);
    let chat = RoutableTicket {
        channel: Channel::Chat,
        ..ticket(&[])
    };
    let closed = office_hours("");
    assert_eq!(
        evaluate_escalation(&chat, &closed, free, at(2026, 6, 1, 20)).reason,
        "closed until 09:00 MSK (a chat is not sent to a closed agency)"
    );
    // Out of force is out of force.
    assert!(!evaluate_escalation(&ticket(&[]), &l2, free, at(2027, 6, 1, 12)).eligible);
}
