//! Reading contract files: TOML into raw structs (unknown keys refused, with their path), then
//! every value checked into a [`Contract`], collecting all problems rather than the first.

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use serde::Deserialize;

use super::duration;
use super::model::*;
use super::schedule::CronSchedule;
use crate::model::{Channel, IDENTIFIER_RULE, Priority, TicketStatus, is_identifier};

/// One thing wrong with a contract file, printed as `file: key: what is wrong`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file's name.
    pub file: String,
    /// The key path inside the file (`overflow.peak_windows[0].from`), or `-` for the file.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.key, self.message)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContract {
    id: String,
    contractor: String,
    display_name: String,
    valid_from: String,
    #[serde(default)]
    valid_until: Option<String>,
    timezone: String,
    #[serde(default)]
    tiers: Vec<String>,
    #[serde(default)]
    languages: Vec<String>,
    scope: RawScope,
    overflow: RawOverflow,
    sla: RawSla,
    confidentiality: RawConfidentiality,
    reporting: RawReporting,
    #[serde(default)]
    endpoint: Option<RawEndpoint>,
    #[serde(default)]
    knowledge: RawKnowledge,
    #[serde(default)]
    quality: Option<RawQuality>,
    #[serde(default)]
    replies: RawReplies,
    #[serde(default)]
    processing: Option<RawProcessing>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProcessing {
    purposes: Vec<String>,
    legal_basis: LegalBasis,
    data_categories: Vec<String>,
    subject_categories: Vec<String>,
    actions: Vec<ProcessingAction>,
    safeguards: Vec<String>,
    location: String,
    contact: String,
    retention_days: u32,
    #[serde(default = "default_erasure_ack_days")]
    erasure_ack_days: u32,
}

/// 152-FZ art. 21 gives ten working days to destroy data on a subject's demand.
fn default_erasure_ack_days() -> u32 {
    crate::contracts::model::DEFAULT_ERASURE_ACK_DAYS
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawReplies {
    #[serde(default)]
    approval: Approval,
    #[serde(default)]
    macro_only_categories: Vec<String>,
    #[serde(default)]
    macros: Vec<RawMacro>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMacro {
    id: String,
    title: String,
    body: String,
    #[serde(default)]
    vars: Vec<String>,
    #[serde(default = "yes")]
    public: bool,
    #[serde(default)]
    status: Option<crate::model::ShareState>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuality {
    #[serde(default)]
    csat_floor_percent: Option<u8>,
    #[serde(default)]
    nps_floor: Option<i8>,
    #[serde(default)]
    fcr_floor_percent: Option<u8>,
    #[serde(default)]
    window: Option<String>,
    #[serde(default)]
    min_answers: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawKnowledge {
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    articles: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScope {
    #[serde(default)]
    channels: Vec<Channel>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    priorities: Vec<Priority>,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    include_tags: Vec<String>,
    #[serde(default)]
    exclude_tags: Vec<String>,
    #[serde(default)]
    custom_fields: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeakWindow {
    from: String,
    until: String,
    #[serde(default)]
    label: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverflow {
    mode: OverflowMode,
    #[serde(default)]
    peak_windows: Vec<RawPeakWindow>,
    #[serde(default)]
    queue_depth_above: Option<u32>,
    #[serde(default)]
    share_percent: Option<u8>,
    max_open: u32,
    #[serde(default)]
    max_new_per_hour: Option<u32>,
    #[serde(default)]
    rank: i32,
    #[serde(default)]
    reroute_on_handback: Option<bool>,
    #[serde(default)]
    escalates_to: Option<String>,
    #[serde(default)]
    accept_outside_hours: Option<RawOutsideHours>,
}

/// `accept_outside_hours`: every channel, none, or these.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawOutsideHours {
    All(bool),
    Channels(Vec<Channel>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    always_open: bool,
    #[serde(default)]
    hours: BTreeMap<String, String>,
    #[serde(default)]
    holidays: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    priority: Priority,
    #[serde(default)]
    channel: Option<Channel>,
    first_response: String,
    #[serde(default)]
    next_response: Option<String>,
    resolution: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSla {
    calendar: RawCalendar,
    targets: Vec<RawTarget>,
    #[serde(default)]
    pause_on: Vec<TicketStatus>,
    #[serde(default = "default_warn")]
    warn_at_percent: u8,
    #[serde(default)]
    on_breach: Vec<BreachAction>,
    #[serde(default)]
    attainment_floor_percent: Option<u8>,
    #[serde(default)]
    attainment_window: Option<String>,
    #[serde(default = "default_min_clocks")]
    attainment_min_clocks: u32,
}

fn default_min_clocks() -> u32 {
    10
}

fn default_warn() -> u8 {
    80
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPattern {
    name: String,
    regex: String,
    action: FieldAction,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDictionary {
    name: String,
    words: Vec<String>,
    action: FieldAction,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawAttachments {
    Word(String),
    Allow(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfidentiality {
    fields: BTreeMap<String, FieldAction>,
    #[serde(default)]
    detectors: Vec<DetectorKind>,
    #[serde(default)]
    entities: BTreeMap<DetectorKind, FieldAction>,
    #[serde(default)]
    aggressive: bool,
    #[serde(default)]
    personal_fields: Vec<String>,
    #[serde(default)]
    text_fields: Vec<String>,
    #[serde(default)]
    custom_patterns: Vec<RawPattern>,
    #[serde(default)]
    dictionaries: Vec<RawDictionary>,
    comments: CommentVisibility,
    #[serde(default)]
    attachments: Option<RawAttachments>,
    #[serde(default)]
    rehydrate_replies: bool,
    retention_days: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReporting {
    schedule: String,
    formats: Vec<ReportFormat>,
    locale: Locale,
    #[serde(default = "default_template")]
    template: String,
}

fn default_template() -> String {
    "default".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    url: String,
    secret_env: String,
}

/// Collects problems for one file.
struct Checker<'f> {
    file: &'f str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn fail(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.to_owned(),
            key: key.into(),
            message: message.into(),
        });
    }

    fn check<T>(&mut self, key: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|m| self.fail(key, m)).ok()
    }

    fn date(&mut self, key: &str, text: &str) -> Option<NaiveDate> {
        self.check(
            key,
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| format!("`{text}` is not a date (write YYYY-MM-DD)")),
        )
    }

    fn timezone(&mut self, key: &str, text: &str) -> Option<Tz> {
        self.check(
            key,
            Tz::from_str(text)
                .map_err(|_| format!("`{text}` is not an IANA timezone (e.g. Europe/Moscow, UTC)")),
        )
    }

    fn duration(&mut self, key: &str, text: &str) -> Option<std::time::Duration> {
        self.check(key, duration::parse(text))
    }
}

/// TOML text read into `T`; the error names the key it is about (`-` for the whole text).
pub fn from_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, (String, String)> {
    let deserializer = toml::Deserializer::parse(text)
        .map_err(|e| ("-".to_owned(), format!("not valid TOML: {}", e.message())))?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = match e.path().to_string() {
            p if p == "." => "-".to_owned(),
            p => p,
        };
        (key, e.inner().message().to_owned())
    })
}

/// Parses and checks one contract file's text. `file` names it in problems.
pub fn parse_contract(file: &str, text: &str) -> Result<Contract, Vec<Problem>> {
    let raw: RawContract = from_toml(text).map_err(|(key, message)| {
        vec![Problem {
            file: file.to_owned(),
            key,
            message,
        }]
    })?;
    let mut c = Checker {
        file,
        problems: Vec::new(),
    };
    let contract = build(&mut c, raw);
    match contract {
        Some(contract) if c.problems.is_empty() => Ok(contract),
        _ => Err(c.problems),
    }
}

fn build(c: &mut Checker<'_>, raw: RawContract) -> Option<Contract> {
    if !is_identifier(&raw.id) {
        c.fail("id", format!("must be {IDENTIFIER_RULE}"));
    }
    if !is_identifier(&raw.contractor) {
        c.fail("contractor", format!("must be {IDENTIFIER_RULE}"));
    }
    if raw.display_name.trim().is_empty() {
        c.fail("display_name", "must not be empty");
    }
    let valid_from = c.date("valid_from", &raw.valid_from);
    let valid_until = match raw.valid_until.as_deref() {
        Some(text) => c.date("valid_until", text).map(Some),
        None => Some(None),
    };
    if let (Some(from), Some(Some(until))) = (valid_from, valid_until)
        && until < from
    {
        c.fail("valid_until", "is before valid_from");
    }
    let timezone = c.timezone("timezone", &raw.timezone);
    // Every key has an effect or is refused: these two were read and then ignored.
    if !raw.tiers.is_empty() {
        c.fail(
            "tiers",
            "has no effect and is not accepted: say which tickets the contractor takes with \
             [scope] (channels, priorities, categories, languages, include_tags, exclude_tags)",
        );
    }
    if !raw.languages.is_empty() {
        c.fail(
            "languages",
            "has no effect and is not accepted: the languages routed to the contractor are \
             [scope] languages",
        );
    }
    let scope = build_scope(c, raw.scope);
    if raw.overflow.escalates_to.as_deref() == Some(raw.id.as_str()) {
        c.fail(
            "overflow.escalates_to",
            "names this contract itself: name the L2 agency's contract",
        );
    }
    let overflow = build_overflow(c, raw.overflow);
    let sla = timezone.and_then(|tz| build_sla(c, raw.sla, tz));
    let confidentiality = build_confidentiality(c, raw.confidentiality);
    let reporting = build_reporting(c, raw.reporting);
    let endpoint = raw.endpoint.and_then(|e| build_endpoint(c, e));
    let quality = raw.quality.map(|q| build_quality(c, q)).unwrap_or_default();
    let replies = build_replies(c, raw.replies);
    let processing = raw.processing.map(|p| build_processing(c, p));
    if processing.is_none()
        && confidentiality
            .as_ref()
            .is_some_and(|c| c.lets_personal_data_out())
    {
        c.fail(
            "processing",
            "is required: personal data can reach this contractor, so the contract must say \
             why, on what legal basis, what it may do with it, where and for how long \
             (purposes, legal_basis, data_categories, subject_categories, actions, safeguards, \
             location, contact, retention_days)",
        );
    }
    for (key, names) in [
        ("knowledge.tags", &raw.knowledge.tags),
        ("knowledge.articles", &raw.knowledge.articles),
    ] {
        if let Some(bad) = names.iter().find(|n| !is_identifier(n)) {
            c.fail(key, format!("`{bad}` must be {IDENTIFIER_RULE}"));
        }
    }
    Some(Contract {
        id: raw.id,
        contractor: raw.contractor,
        display_name: raw.display_name,
        valid_from: valid_from?,
        valid_until: valid_until?,
        timezone: timezone?,
        scope,
        overflow: overflow?,
        sla: sla?,
        confidentiality: confidentiality?,
        reporting: reporting?,
        endpoint,
        knowledge: KnowledgeGrant {
            tags: raw.knowledge.tags,
            articles: raw.knowledge.articles,
        },
        quality,
        replies,
        processing,
    })
}

fn build_processing(c: &mut Checker<'_>, raw: RawProcessing) -> Processing {
    for (key, list) in [
        ("processing.purposes", &raw.purposes),
        ("processing.data_categories", &raw.data_categories),
        ("processing.subject_categories", &raw.subject_categories),
        ("processing.safeguards", &raw.safeguards),
    ] {
        if list.is_empty() || list.iter().any(|item| item.trim().is_empty()) {
            c.fail(key, "list at least one, none empty");
        }
    }
    if raw.actions.is_empty() {
        c.fail(
            "processing.actions",
            "list what the contractor may do: read, reply, store, download",
        );
    }
    let location = raw.location.trim().to_owned();
    if location.len() != 2 || !location.bytes().all(|b| b.is_ascii_uppercase()) {
        c.fail(
            "processing.location",
            "must be the country's ISO 3166 code, such as `RU` or `DE`",
        );
    }
    if raw.contact.trim().is_empty() {
        c.fail(
            "processing.contact",
            "name the contractor's data-protection contact",
        );
    }
    if !(1..=90).contains(&raw.erasure_ack_days) {
        c.fail(
            "processing.erasure_ack_days",
            "must be between 1 and 90 days",
        );
    }
    let mut actions = raw.actions;
    actions.sort();
    actions.dedup();
    Processing {
        purposes: raw.purposes,
        legal_basis: raw.legal_basis,
        data_categories: raw.data_categories,
        subject_categories: raw.subject_categories,
        actions,
        safeguards: raw.safeguards,
        location,
        contact: raw.contact.trim().to_owned(),
        retention_days: raw.retention_days,
        erasure_ack_days: raw.erasure_ack_days,
    }
}

fn build_replies(c: &mut Checker<'_>, raw: RawReplies) -> ReplyRules {
    for (i, m) in raw.macros.iter().enumerate() {
        let key = |k: &str| format!("replies.macros[{i}].{k}");
        if !is_identifier(&m.id) {
            c.fail(key("id"), format!("must be {IDENTIFIER_RULE}"));
        }
        if raw.macros[..i].iter().any(|earlier| earlier.id == m.id) {
            c.fail(key("id"), format!("`{}` is used by an earlier macro", m.id));
        }
        if m.title.trim().is_empty() {
            c.fail(key("title"), "must not be empty");
        }
        if m.body.trim().is_empty() {
            c.fail(key("body"), "must not be empty");
        } else if let Err(e) = handlebars::Template::compile(&m.body) {
            c.fail(key("body"), format!("is not a valid template: {e}"));
        }
        if let Some(bad) = m.vars.iter().find(|v| !is_identifier(v)) {
            c.fail(key("vars"), format!("`{bad}` must be {IDENTIFIER_RULE}"));
        }
        if m.status.is_some_and(|s| {
            !matches!(
                s,
                crate::model::ShareState::Open
                    | crate::model::ShareState::Pending
                    | crate::model::ShareState::Solved
            )
        }) {
            c.fail(key("status"), "must be `open`, `pending` or `solved`");
        }
    }
    let categories: Vec<String> = raw
        .macro_only_categories
        .iter()
        .map(|cat| cat.trim().to_lowercase())
        .collect();
    if !categories.is_empty() && raw.macros.is_empty() {
        c.fail(
            "replies.macro_only_categories",
            "lists categories answered only by macro, but the contract has no macros",
        );
    }
    ReplyRules {
        macros: raw
            .macros
            .into_iter()
            .map(|m| Macro {
                id: m.id,
                title: m.title.trim().to_owned(),
                body: m.body,
                vars: m.vars,
                public: m.public,
                status: m.status,
            })
            .collect(),
        macro_only_categories: categories,
        approval: raw.approval,
    }
}

fn build_quality(c: &mut Checker<'_>, raw: RawQuality) -> QualityFloors {
    let mut floors = QualityFloors::default();
    for (key, percent) in [
        ("quality.csat_floor_percent", raw.csat_floor_percent),
        ("quality.fcr_floor_percent", raw.fcr_floor_percent),
    ] {
        if percent.is_some_and(|p| p > 100) {
            c.fail(key, "must be at most 100");
        }
    }
    if raw.nps_floor.is_some_and(|n| !(-100..=100).contains(&n)) {
        c.fail("quality.nps_floor", "must be between -100 and 100");
    }
    if raw.csat_floor_percent.is_none()
        && raw.nps_floor.is_none()
        && raw.fcr_floor_percent.is_none()
    {
        c.fail(
            "quality",
            "sets no floor: give csat_floor_percent, nps_floor or fcr_floor_percent",
        );
    }
    if let Some(text) = raw.window.as_deref()
        && let Some(window) = c.duration("quality.window", text)
    {
        if window.is_zero() {
            c.fail("quality.window", "must be longer than zero");
        }
        floors.window = window;
    }
    if raw.min_answers == Some(0) {
        c.fail("quality.min_answers", "must be at least 1");
    }
    floors.min_answers = raw.min_answers.unwrap_or(floors.min_answers);
    floors.csat_floor_percent = raw.csat_floor_percent;
    floors.nps_floor = raw.nps_floor;
    floors.fcr_floor_percent = raw.fcr_floor_percent;
    floors
}

fn build_scope(c: &mut Checker<'_>, raw: RawScope) -> Scope {
    if raw.channels.is_empty() {
        c.fail("scope.channels", "empty scope: list at least one channel");
    }
    if raw.priorities.is_empty() {
        c.fail(
            "scope.priorities",
            "empty scope: list at least one priority",
        );
    }
    let lower = |v: Vec<String>| {
        v.into_iter()
            .map(|s| s.trim().to_lowercase())
            .collect::<Vec<_>>()
    };
    let include_tags = lower(raw.include_tags);
    let exclude_tags = lower(raw.exclude_tags);
    if let Some(both) = include_tags.iter().find(|t| exclude_tags.contains(t)) {
        c.fail(
            "scope.exclude_tags",
            format!("`{both}` is both included and excluded"),
        );
    }
    for (name, values) in &raw.custom_fields {
        if values.is_empty() {
            c.fail(
                format!("scope.custom_fields.{name}"),
                "list at least one value (leave the field out to take any)",
            );
        }
    }
    Scope {
        channels: raw.channels,
        categories: lower(raw.categories),
        priorities: raw.priorities,
        languages: lower(raw.languages),
        include_tags,
        exclude_tags,
        custom_fields: raw
            .custom_fields
            .into_iter()
            .map(|(name, values)| (name, lower(values)))
            .collect(),
    }
}

fn build_overflow(c: &mut Checker<'_>, raw: RawOverflow) -> Option<Overflow> {
    let mut windows = Vec::new();
    for (i, w) in raw.peak_windows.iter().enumerate() {
        let key = format!("overflow.peak_windows[{i}]");
        let parse = |t: &str| {
            NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
                .or_else(|_| {
                    NaiveDate::parse_from_str(t, "%Y-%m-%d").map(|d| d.and_time(NaiveTime::MIN))
                })
                .map_err(|_| {
                    format!("`{t}` is not a local date-time (write YYYY-MM-DDTHH:MM or YYYY-MM-DD)")
                })
        };
        let from = c.check(&format!("{key}.from"), parse(&w.from));
        let until = c.check(&format!("{key}.until"), parse(&w.until));
        if let (Some(from), Some(until)) = (from, until) {
            if until <= from {
                c.fail(format!("{key}.until"), "must be after `from`");
            }
            windows.push(PeakWindow {
                from,
                until,
                label: w.label.clone(),
            });
        }
    }
    if raw.mode == OverflowMode::Threshold && raw.queue_depth_above.is_none() {
        c.fail(
            "overflow.queue_depth_above",
            "mode `threshold` needs a queue depth",
        );
    }
    let share_percent = raw.share_percent.unwrap_or(100);
    if !(1..=100).contains(&share_percent) {
        c.fail("overflow.share_percent", "must be between 1 and 100");
    }
    if raw.max_open == 0 {
        c.fail("overflow.max_open", "must be at least 1");
    }
    if raw.max_new_per_hour == Some(0) {
        c.fail(
            "overflow.max_new_per_hour",
            "must be at least 1 (leave it out for no limit)",
        );
    }
    Some(Overflow {
        mode: raw.mode,
        peak_windows: windows,
        queue_depth_above: raw.queue_depth_above,
        share_percent,
        max_open: raw.max_open,
        max_new_per_hour: raw.max_new_per_hour,
        rank: raw.rank,
        reroute_on_handback: raw.reroute_on_handback.unwrap_or(true),
        escalates_to: raw.escalates_to,
        accept_outside_hours: match raw.accept_outside_hours {
            Some(RawOutsideHours::All(true)) => Channel::ALL.to_vec(),
            Some(RawOutsideHours::All(false)) => Vec::new(),
            Some(RawOutsideHours::Channels(channels)) => channels,
            // A customer waiting in a chat or on the phone is not sent to a closed agency.
            None => Channel::ALL
                .iter()
                .copied()
                .filter(|c| !matches!(c, Channel::Chat | Channel::Phone))
                .collect(),
        },
    })
}

const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn build_sla(c: &mut Checker<'_>, raw: RawSla, contract_tz: Tz) -> Option<Sla> {
    let timezone = match raw.calendar.timezone.as_deref() {
        Some(text) => c.timezone("sla.calendar.timezone", text)?,
        None => contract_tz,
    };
    let mut hours = BTreeMap::new();
    for (day, span) in &raw.calendar.hours {
        let key = format!("sla.calendar.hours.{day}");
        let Some(index) = DAY_KEYS.iter().position(|d| d == day) else {
            c.fail(key, "unknown day; use mon, tue, wed, thu, fri, sat, sun");
            continue;
        };
        let parsed = span
            .split_once('-')
            .and_then(|(a, b)| {
                let open = NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
                let close = match b.trim() {
                    "24:00" => None,
                    t => Some(NaiveTime::parse_from_str(t, "%H:%M").ok()?),
                };
                close
                    .is_none_or(|c| c > open)
                    .then_some(DayHours { open, close })
            })
            .ok_or_else(|| format!("`{span}` is not an opening span (write e.g. 09:00-18:00)"));
        if let Some(h) = c.check(&key, parsed) {
            hours.insert(index as u8, h);
        }
    }
    if !raw.calendar.always_open && hours.is_empty() {
        c.fail(
            "sla.calendar.hours",
            "no opening hours: list some days or set always_open = true",
        );
    }
    let mut holidays = Vec::new();
    for (i, h) in raw.calendar.holidays.iter().enumerate() {
        holidays.extend(c.date(&format!("sla.calendar.holidays[{i}]"), h));
    }
    if raw.targets.is_empty() {
        c.fail("sla.targets", "list at least one target");
    }
    let mut seen = HashSet::new();
    let mut targets = Vec::new();
    for (i, t) in raw.targets.iter().enumerate() {
        let key = format!("sla.targets[{i}]");
        if !seen.insert((t.priority, t.channel)) {
            c.fail(
                key.clone(),
                "a second target for the same priority and channel",
            );
        }
        let first = c.duration(&format!("{key}.first_response"), &t.first_response);
        let next = match t.next_response.as_deref() {
            Some(text) => c.duration(&format!("{key}.next_response"), text).map(Some),
            None => Some(None),
        };
        let resolution = c.duration(&format!("{key}.resolution"), &t.resolution);
        if let (Some(first), Some(next), Some(resolution)) = (first, next, resolution) {
            if resolution < first {
                c.fail(
                    format!("{key}.resolution"),
                    "is shorter than first_response",
                );
            }
            targets.push(SlaTarget {
                priority: t.priority,
                channel: t.channel,
                first_response: first,
                next_response: next,
                resolution,
            });
        }
    }
    if !(1..=99).contains(&raw.warn_at_percent) {
        c.fail("sla.warn_at_percent", "must be between 1 and 99");
    }
    if raw.attainment_floor_percent.is_some_and(|p| p > 100) {
        c.fail("sla.attainment_floor_percent", "must be at most 100");
    }
    let week = std::time::Duration::from_secs(7 * 24 * 3600);
    let attainment_window = match raw.attainment_window.as_deref() {
        Some(text) => c.duration("sla.attainment_window", text).unwrap_or(week),
        None => week,
    };
    if attainment_window.is_zero() {
        c.fail("sla.attainment_window", "must be longer than zero");
    }
    if raw.attainment_min_clocks == 0 {
        c.fail("sla.attainment_min_clocks", "must be at least 1");
    }
    Some(Sla {
        calendar: Calendar {
            timezone,
            always_open: raw.calendar.always_open,
            hours,
            holidays,
        },
        targets,
        pause_on: raw.pause_on,
        warn_at_percent: raw.warn_at_percent,
        on_breach: raw.on_breach,
        attainment_floor_percent: raw.attainment_floor_percent,
        attainment_window,
        attainment_min_clocks: raw.attainment_min_clocks,
    })
}

fn build_confidentiality(c: &mut Checker<'_>, raw: RawConfidentiality) -> Option<Confidentiality> {
    for field in raw.fields.keys() {
        let custom = field
            .strip_prefix("custom_fields.")
            .is_some_and(|name| !name.is_empty());
        if !custom && !KNOWN_FIELDS.contains(&field.as_str()) {
            c.fail(
                format!("confidentiality.fields.{field}"),
                format!(
                    "unknown field; use one of {} or custom_fields.<name>",
                    KNOWN_FIELDS.join(", ")
                ),
            );
        }
    }
    let mut names = HashSet::new();
    let mut patterns = Vec::new();
    for (i, p) in raw.custom_patterns.into_iter().enumerate() {
        let key = format!("confidentiality.custom_patterns[{i}]");
        if !is_identifier(&p.name) || !names.insert(p.name.clone()) {
            c.fail(
                format!("{key}.name"),
                "must be a unique lower-case identifier",
            );
        }
        let compiled = regex::RegexBuilder::new(&p.regex)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| format!("not a valid pattern: {e}"));
        if let Some(regex) = c.check(&format!("{key}.regex"), compiled) {
            patterns.push(CustomPattern {
                name: p.name,
                regex,
                action: p.action,
            });
        }
    }
    let mut dictionaries = Vec::new();
    for (i, d) in raw.dictionaries.into_iter().enumerate() {
        let key = format!("confidentiality.dictionaries[{i}]");
        if !is_identifier(&d.name) || !names.insert(d.name.clone()) {
            c.fail(
                format!("{key}.name"),
                "must be a unique lower-case identifier",
            );
        }
        if d.words.iter().all(|w| w.trim().is_empty()) {
            c.fail(format!("{key}.words"), "list at least one word");
            continue;
        }
        let alternatives: Vec<String> = d
            .words
            .iter()
            .filter(|w| !w.trim().is_empty())
            .flat_map(|w| crate::names::forms(w.trim()))
            .map(|f| regex::escape(&f))
            .collect();
        let compiled = regex::RegexBuilder::new(&format!(r"\b(?:{})\b", alternatives.join("|")))
            .case_insensitive(true)
            .size_limit(4 << 20)
            .build()
            .map_err(|e| format!("too many or too long words: {e}"));
        if let Some(matcher) = c.check(&format!("{key}.words"), compiled) {
            dictionaries.push(Dictionary {
                name: d.name,
                words: d.words,
                matcher,
                action: d.action,
            });
        }
    }
    let attachments = match raw.attachments {
        None => AttachmentPolicy::Drop,
        Some(RawAttachments::Word(w)) if w == "drop" => AttachmentPolicy::Drop,
        Some(RawAttachments::Word(w)) => {
            c.fail(
                "confidentiality.attachments",
                format!("`{w}`: write \"drop\" or a list of MIME types"),
            );
            AttachmentPolicy::Drop
        }
        Some(RawAttachments::Allow(types)) => {
            let mut allowed = Vec::with_capacity(types.len());
            for (i, t) in types.iter().enumerate() {
                match super::media_type_pattern(t) {
                    Some(pattern) => allowed.push(pattern),
                    None => c.fail(
                        format!("confidentiality.attachments[{i}]"),
                        format!("`{t}` is not a media type (`text/plain`, `image/*`)"),
                    ),
                }
            }
            AttachmentPolicy::Allow(allowed)
        }
    };
    for (key, list) in [
        ("personal_fields", &raw.personal_fields),
        ("text_fields", &raw.text_fields),
    ] {
        for (i, f) in list.iter().enumerate() {
            if f.strip_prefix("custom_fields.").is_none_or(str::is_empty) {
                c.fail(
                    format!("confidentiality.{key}[{i}]"),
                    "must name a custom field: custom_fields.<name>",
                );
            }
        }
    }
    Some(Confidentiality {
        fields: raw.fields,
        detectors: raw.detectors,
        entities: raw.entities,
        aggressive: raw.aggressive,
        personal_fields: raw.personal_fields,
        text_fields: raw.text_fields,
        custom_patterns: patterns,
        dictionaries,
        comments: raw.comments,
        attachments,
        rehydrate_replies: raw.rehydrate_replies,
        retention_days: raw.retention_days,
    })
}

fn build_reporting(c: &mut Checker<'_>, raw: RawReporting) -> Option<Reporting> {
    let schedule = c.check("reporting.schedule", CronSchedule::parse(&raw.schedule));
    if raw.formats.is_empty() {
        c.fail("reporting.formats", "list at least one of html, json, csv");
    }
    if !is_identifier(&raw.template) {
        c.fail(
            "reporting.template",
            "must be a template name such as `default`",
        );
    }
    Some(Reporting {
        schedule: schedule?,
        formats: raw.formats,
        locale: raw.locale,
        template: raw.template,
    })
}

/// Checks a webhook URL on its parsed parts (never a prefix of the text, which
/// `http://localhost.attacker.example` or `http://localhost@attacker.example` would pass):
/// https to any host, plain http only to this machine's loopback, no user name or password.
fn webhook_url(url: &str) -> Result<(), String> {
    use url::{Host, Url};
    let parsed = Url::parse(url).map_err(|e| format!("is not a URL: {e}"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry a user name or password".into());
    }
    let loopback = match parsed.host() {
        None => return Err("must name a host".into()),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(
            "must be https:// (plain http only to this machine: localhost, 127.0.0.0/8, [::1])"
                .into(),
        ),
        _ => Err("must be an https:// URL".into()),
    }
}

fn build_endpoint(c: &mut Checker<'_>, raw: RawEndpoint) -> Option<Endpoint> {
    if let Err(why) = webhook_url(&raw.url) {
        c.fail("endpoint.url", why);
    }
    let env_ok = !raw.secret_env.is_empty()
        && raw
            .secret_env
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && !raw.secret_env.as_bytes()[0].is_ascii_digit();
    if !env_ok {
        c.fail(
            "endpoint.secret_env",
            "must name an environment variable (A-Z, 0-9, _)",
        );
    }
    Some(Endpoint {
        url: raw.url,
        secret_env: raw.secret_env,
    })
}

#[cfg(test)]
mod tests {
    use super::{parse_contract, webhook_url};

    const ACME: &str = include_str!("../../tests/fixtures/contracts/acme-en.toml");

    #[test]
    fn macros_are_checked_when_the_contract_is_read() {
        let with = |section: &str| parse_contract("acme-en.toml", &format!("{ACME}\n{section}"));
        let macro_with = |extra: &str| {
            format!(
                "[replies]\napproval = \"free_text\"\n[[replies.macros]]\nid = \"thanks\"\n\
                 title = \"Thanks\"\nbody = \"Thank you, {{{{requester.email}}}}\"\n{extra}"
            )
        };
        let ok = with(&macro_with("status = \"solved\"")).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(ok.replies.approval, crate::contracts::Approval::FreeText);
        let m = ok
            .replies
            .macro_named("thanks")
            .unwrap_or_else(|| panic!("no macro"));
        assert!(m.public);
        assert_eq!(m.status, Some(crate::model::ShareState::Solved));
        for (section, key) in [
            (
                macro_with("status = \"recalled\""),
                "replies.macros[0].status",
            ),
            (
                macro_with("").replace("Thank you, {{", "Thank you, {{#if"),
                "replies.macros[0].body",
            ),
            (macro_with("vars = [\"Amount\"]"), "replies.macros[0].vars"),
            (
                "[replies]\nmacro_only_categories = [\"billing\"]".to_owned(),
                "replies.macro_only_categories",
            ),
        ] {
            let problems = match with(&section) {
                Ok(_) => panic!("taken: {section}"),
                Err(p) => p,
            };
            assert_eq!(problems[0].key, key, "{section}: {problems:?}");
        }
    }

    #[test]
    fn the_processing_register_is_required_where_personal_data_can_leave() {
        let register = ACME
            .split("\n[processing]")
            .nth(1)
            .map(|r| r.split("\n[").next());
        assert!(register.flatten().is_some(), "the fixture has a register");
        let (head, rest) = ACME.split_once("\n[processing]").unwrap_or_default();
        let tail = rest
            .split_once("\n[reporting]")
            .map(|r| r.1)
            .unwrap_or_default();
        let without = format!("{head}\n[reporting]{tail}");
        let problems = match parse_contract("acme-en.toml", &without) {
            Ok(_) => panic!("taken without a register"),
            Err(p) => p,
        };
        assert_eq!(problems[0].key, "processing", "{problems:?}");
        assert!(problems[0].message.contains("legal_basis"));
        // Nothing personal leaves: no register is needed.
        let mut anonymous = without.clone();
        for (from, to) in [
            ("subject = \"redact\"", "subject = \"drop\""),
            ("description = \"redact\"", "description = \"drop\""),
            ("comments = \"redact\"", "comments = \"drop\""),
            (
                "\"requester.name\" = \"mask\"",
                "\"requester.name\" = \"drop\"",
            ),
            (
                "\"requester.email\" = \"tokenize\"",
                "\"requester.email\" = \"drop\"",
            ),
            ("comments = \"public_only\"", "comments = \"none\""),
        ] {
            assert!(anonymous.contains(from), "{from}");
            anonymous = anonymous.replace(from, to);
        }
        let ok = parse_contract("acme-en.toml", &anonymous).unwrap_or_else(|p| panic!("{p:?}"));
        assert!(ok.processing.is_none());
        for (from, to, key) in [
            (
                "location = \"GB\"",
                "location = \"Britain\"",
                "processing.location",
            ),
            (
                "actions = [\"read\", \"reply\", \"store\", \"download\"]",
                "actions = []",
                "processing.actions",
            ),
            (
                "subject_categories = [\"customers\"]",
                "subject_categories = [\" \"]",
                "processing.subject_categories",
            ),
        ] {
            let problems = match parse_contract("acme-en.toml", &ACME.replace(from, to)) {
                Ok(_) => panic!("taken: {to}"),
                Err(p) => p,
            };
            assert_eq!(problems[0].key, key, "{problems:?}");
        }
        let unknown = ACME.replace("legal_basis = \"contract\"", "legal_basis = \"because\"");
        assert!(parse_contract("acme-en.toml", &unknown).is_err());
    }

    #[test]
    fn quality_floors_are_checked() {
        let with = |section: &str| parse_contract("acme-en.toml", &format!("{ACME}\n{section}"));
        let ok = with("[quality]\ncsat_floor_percent = 80\nnps_floor = -20\nwindow = \"30d\"")
            .unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(ok.quality.csat_floor_percent, Some(80));
        assert_eq!(ok.quality.nps_floor, Some(-20));
        assert_eq!(ok.quality.min_answers, 10);
        assert_eq!(ok.quality.window.as_secs(), 30 * 24 * 3600);
        for (section, key) in [
            (
                "[quality]\ncsat_floor_percent = 120",
                "quality.csat_floor_percent",
            ),
            ("[quality]\nnps_floor = -101", "quality.nps_floor"),
            (
                "[quality]\nfcr_floor_percent = 50\nmin_answers = 0",
                "quality.min_answers",
            ),
            (
                "[quality]\nfcr_floor_percent = 50\nwindow = \"0d\"",
                "quality.window",
            ),
            ("[quality]\nwindow = \"7d\"", "quality"),
        ] {
            let problems = match with(section) {
                Ok(_) => panic!("taken: {section}"),
                Err(p) => p,
            };
            assert_eq!(problems[0].key, key, "{section}: {problems:?}");
        }
    }

    #[test]
    fn knowledge_grants_are_read_and_bad_names_refused() {
        let contract = parse_contract("acme-en.toml", ACME).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(contract.knowledge.tags, ["billing"]);
        assert!(contract.knowledge.covers("shipping-en", &[]));
        assert!(contract.knowledge.covers("any", &["billing".into()]));
        assert!(!contract.knowledge.covers("legal-ru", &["legal".into()]));
        let bad = ACME.replace("tags = [\"billing\"]", "tags = [\"Billing Team\"]");
        let problems = match parse_contract("acme-en.toml", &bad) {
            Ok(_) => panic!("taken"),
            Err(p) => p,
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].key, "knowledge.tags");
        let none = ACME.split("\n[knowledge]").next().unwrap_or_default();
        let contract = parse_contract("acme-en.toml", none).unwrap_or_else(|p| panic!("{p:?}"));
        assert!(
            !contract
                .knowledge
                .covers("shipping-en", &["billing".into()])
        );
    }

    #[test]
    fn plain_http_only_to_this_machine_judged_by_the_parsed_host() {
        for fine in [
            "https://hooks.example.com/bridge",
            "https://203.0.113.9:8443/in",
            "http://localhost:8080/hook",
            "http://LOCALHOST/hook",
            "http://127.0.0.1:9000/hook",
            "http://127.10.0.1/hook",
            "http://[::1]:9000/hook",
        ] {
            assert_eq!(webhook_url(fine), Ok(()), "{fine}");
        }
        for refused in [
            "http://localhost.attacker.example/hook",
            "http://localhost@attacker.example/hook",
            "http://127.0.0.1.nip.io/hook",
            "http://127.0.0.1@attacker.example/hook",
            "http://attacker.example/hook?x=http://localhost",
            "https://user:pass@hooks.example.com/",
            "http://[::ffff:203.0.113.9]/hook",
            "ftp://localhost/hook",
            "file:///etc/passwd",
            "localhost/hook",
            "",
        ] {
            assert!(webhook_url(refused).is_err(), "{refused} was accepted");
        }
    }
}
