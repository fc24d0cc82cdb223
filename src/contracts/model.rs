//! A contract as the gateway uses it: every value parsed and checked.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::schedule::CronSchedule;
use crate::model::{Channel, Priority, TicketStatus};

/// One contractor engagement.
#[derive(Clone, Debug)]
pub struct Contract {
    /// Stable id, unique across files.
    pub id: String,
    /// The contractor agency's id; contractor tokens carry it.
    pub contractor: String,
    /// A name for people.
    pub display_name: String,
    /// First day the contract is in force (in its timezone).
    pub valid_from: NaiveDate,
    /// Last day it is in force, if it ends.
    pub valid_until: Option<NaiveDate>,
    /// The contract's timezone: validity dates and peak windows are read in it.
    pub timezone: Tz,
    /// Which tickets it may see.
    pub scope: Scope,
    /// When and how much work overflows to it.
    pub overflow: Overflow,
    /// Its service levels.
    pub sla: Sla,
    /// What it may see of each field.
    pub confidentiality: Confidentiality,
    /// Compliance reporting.
    pub reporting: Reporting,
    /// Where its webhooks go.
    pub endpoint: Option<Endpoint>,
    /// Knowledge-base articles its contractor may read.
    pub knowledge: KnowledgeGrant,
    /// Floors for what customers say of its work.
    pub quality: QualityFloors,
    /// How its contractor may answer: approved replies (macros), categories answered only by
    /// macro, and whether free text waits for in-house approval.
    pub replies: ReplyRules,
    /// The processing register: what the company instructs the contractor to do with the
    /// personal data it gets (152-FZ art. 6 §3, GDPR art. 28/30). Required when personal data
    /// can reach the contractor.
    pub processing: Option<Processing>,
}

/// A contract's entry in the processing register.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Processing {
    /// Why the contractor processes the data.
    pub purposes: Vec<String>,
    /// The legal basis.
    pub legal_basis: LegalBasis,
    /// Categories of personal data it gets.
    pub data_categories: Vec<String>,
    /// Categories of people the data is about.
    pub subject_categories: Vec<String>,
    /// What the contractor may do with it.
    pub actions: Vec<ProcessingAction>,
    /// Safeguards in place.
    pub safeguards: Vec<String>,
    /// Where the contractor processes it (ISO 3166 alpha-2 country code).
    pub location: String,
    /// The contractor's data-protection contact.
    pub contact: String,
    /// How long the contractor may keep it, in days.
    pub retention_days: u32,
    /// Days the contractor has to acknowledge a data subject's erasure before it is
    /// escalated (default 10).
    pub erasure_ack_days: u32,
}

/// Days to acknowledge an erasure when the register does not say (or there is none).
pub const DEFAULT_ERASURE_ACK_DAYS: u32 = 10;

/// The legal basis of processing (GDPR art. 6; 152-FZ art. 6 has the same grounds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// The subject's consent.
    Consent,
    /// Performing a contract with the subject.
    Contract,
    /// A legal obligation.
    LegalObligation,
    /// The subject's vital interests.
    VitalInterests,
    /// A task in the public interest.
    PublicTask,
    /// The company's legitimate interests.
    LegitimateInterests,
}

/// What a contractor may do with the personal data it gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessingAction {
    /// Read tickets.
    Read,
    /// Answer customers.
    Reply,
    /// Keep copies (retention beyond the share).
    Store,
    /// Download attached files.
    Download,
}

/// How a contract's contractor may answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplyRules {
    /// Approved replies, by id.
    pub macros: Vec<Macro>,
    /// Categories whose tickets are answered only with a macro.
    pub macro_only_categories: Vec<String>,
    /// Whether free-text replies wait for in-house approval.
    pub approval: Approval,
}

impl ReplyRules {
    /// The macro with this id.
    pub fn macro_named(&self, id: &str) -> Option<&Macro> {
        self.macros.iter().find(|m| m.id == id)
    }
}

/// An approved reply: a handlebars template over what the contractor sees of the ticket
/// (`{{requester.name}}` is the token it sees) and the variables it fills (`{{vars.amount}}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Macro {
    /// Stable id the contractor names.
    pub id: String,
    /// A name for people.
    pub title: String,
    /// The template (checked to compile when the contract is read).
    pub body: String,
    /// Variables the contractor must fill.
    pub vars: Vec<String>,
    /// A public reply (default) or an internal note.
    pub public: bool,
    /// The share's status after it is sent (`open`, `pending` or `solved`), if it changes.
    pub status: Option<crate::model::ShareState>,
}

/// Whether a contractor's replies wait for in-house approval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// Every reply is sent at once.
    #[default]
    None,
    /// Free-text replies wait in a queue the in-house side approves or rejects; macros go at
    /// once. SLA clocks keep running while a reply waits.
    FreeText,
}

/// Floors for customer feedback and first-contact resolution, measured like the attainment
/// floor over a rolling window of shares; crossing one raises an alert once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QualityFloors {
    /// Lowest acceptable share of CSAT ratings of 4 or 5, percent.
    pub csat_floor_percent: Option<u8>,
    /// Lowest acceptable NPS (promoters minus detractors, −100 to 100).
    pub nps_floor: Option<i8>,
    /// Lowest acceptable first-contact resolution, percent.
    pub fcr_floor_percent: Option<u8>,
    /// The rolling window: shares made in it are judged.
    pub window: Duration,
    /// Fewest answers (ratings, or tickets solved for first-contact resolution) in the window
    /// before a floor is judged.
    pub min_answers: u32,
}

impl Default for QualityFloors {
    fn default() -> Self {
        Self {
            csat_floor_percent: None,
            nps_floor: None,
            fcr_floor_percent: None,
            window: Duration::from_secs(7 * 24 * 3600),
            min_answers: 10,
        }
    }
}

impl Contract {
    /// Whether the contract is in force at `now` (its validity dates read in its timezone);
    /// the error says why not, in words.
    pub fn in_force(&self, now: chrono::DateTime<chrono::Utc>) -> Result<(), String> {
        let today = now.with_timezone(&self.timezone).date_naive();
        if today < self.valid_from {
            return Err(format!("not in force until {}", self.valid_from));
        }
        match self.valid_until {
            Some(until) if today > until => Err(format!("ended on {until}")),
            _ => Ok(()),
        }
    }
}

/// Which tickets a contract may receive. Empty category and language lists mean any.
#[derive(Clone, Debug)]
pub struct Scope {
    /// Allowed channels (at least one).
    pub channels: Vec<Channel>,
    /// Allowed categories; empty = any.
    pub categories: Vec<String>,
    /// Allowed priorities (at least one).
    pub priorities: Vec<Priority>,
    /// Allowed ticket languages; empty = any.
    pub languages: Vec<String>,
    /// If not empty, a ticket needs at least one of these tags.
    pub include_tags: Vec<String>,
    /// A ticket with any of these tags is never shared.
    pub exclude_tags: Vec<String>,
    /// Custom fields a ticket must carry with one of the listed values (lower-case), by name.
    pub custom_fields: BTreeMap<String, Vec<String>>,
}

/// How overflow is switched on for a contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverflowMode {
    /// Every matching ticket goes to the contractor.
    Always,
    /// When the in-house queue is deeper than `queue_depth_above`, or inside a peak window.
    Threshold,
    /// When an operator switches it on, or inside a peak window.
    Manual,
    /// Never.
    Off,
}

/// A period in the contract's timezone during which overflow is on.
#[derive(Clone, Debug)]
pub struct PeakWindow {
    /// Start (inclusive), local time.
    pub from: NaiveDateTime,
    /// End (exclusive), local time.
    pub until: NaiveDateTime,
    /// A name for people, e.g. "Black Friday".
    pub label: String,
}

/// Overflow triggers and capacity.
#[derive(Clone, Debug)]
pub struct Overflow {
    /// The trigger mode.
    pub mode: OverflowMode,
    /// Peak windows (used by every mode but `off`).
    pub peak_windows: Vec<PeakWindow>,
    /// Queue depth above which `threshold` mode overflows.
    pub queue_depth_above: Option<u32>,
    /// Share of matching tickets offered, 1–100, stable per ticket.
    pub share_percent: u8,
    /// Most tickets open at the contractor at once.
    pub max_open: u32,
    /// Most new tickets per hour.
    pub max_new_per_hour: Option<u32>,
    /// Order among contracts: lower goes first.
    pub rank: i32,
    /// Whether a ticket this contractor hands back is offered at once to the next contract
    /// that fits (never back to this one); otherwise it stays in-house.
    pub reroute_on_handback: bool,
    /// The contract (an L2 agency) a ticket goes to when this contractor hands it up with
    /// `escalate: true`.
    pub escalates_to: Option<String>,
    /// The channels whose new tickets the contract takes while its calendar is closed (an
    /// e-mail can wait for the morning; a chat cannot).
    pub accept_outside_hours: Vec<Channel>,
}

/// Opening hours of one weekday.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayHours {
    /// Opening time.
    pub open: NaiveTime,
    /// Closing time (after `open`); `None` means midnight at the end of the day (`24:00`).
    pub close: Option<NaiveTime>,
}

/// A business calendar.
#[derive(Clone, Debug)]
pub struct Calendar {
    /// The calendar's timezone.
    pub timezone: Tz,
    /// Open around the clock, every day.
    pub always_open: bool,
    /// Hours per weekday; a missing day is closed.
    pub hours: BTreeMap<u8, DayHours>,
    /// Closed dates.
    pub holidays: Vec<NaiveDate>,
}

impl Calendar {
    /// Open around the clock in UTC: the calendar of clocks whose contract is no longer in force.
    pub fn around_the_clock() -> Self {
        Self {
            timezone: Tz::UTC,
            always_open: true,
            hours: BTreeMap::new(),
            holidays: Vec::new(),
        }
    }

    /// The hours of `day`, if open.
    pub fn hours_on(&self, day: Weekday) -> Option<DayHours> {
        self.hours.get(&(day.num_days_from_monday() as u8)).copied()
    }
}

/// Service-level targets for one priority (and optionally one channel).
#[derive(Clone, Debug)]
pub struct SlaTarget {
    /// The priority it applies to.
    pub priority: Priority,
    /// The channel it applies to; `None` for every channel.
    pub channel: Option<Channel>,
    /// Time to the first public reply, in business time.
    pub first_response: Duration,
    /// Time to each later reply after a customer comment.
    pub next_response: Option<Duration>,
    /// Time to solve.
    pub resolution: Duration,
}

/// What happens when a target is breached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreachAction {
    /// Emit an event.
    Notify,
    /// Flag the ticket to the in-house side.
    Escalate,
    /// Take the ticket back.
    Recall,
}

/// Service levels.
#[derive(Clone, Debug)]
pub struct Sla {
    /// The business calendar the clocks run on.
    pub calendar: Calendar,
    /// Targets per priority/channel.
    pub targets: Vec<SlaTarget>,
    /// Statuses that stop the clock.
    pub pause_on: Vec<TicketStatus>,
    /// Percentage of a target at which to warn.
    pub warn_at_percent: u8,
    /// Actions on breach.
    pub on_breach: Vec<BreachAction>,
    /// Lowest acceptable attainment over a rolling window, percent.
    pub attainment_floor_percent: Option<u8>,
    /// The rolling window attainment is measured over.
    pub attainment_window: Duration,
    /// Fewest decided clocks in the window before the floor is judged (one early breach is
    /// not a trend).
    pub attainment_min_clocks: u32,
}

/// What a contractor gets of a field.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    Hash,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FieldAction {
    /// May leave: scanned, and what it holds treated per kind (`[confidentiality.entities]`,
    /// `redact` unless a kind is relaxed).
    Pass,
    /// Leaves exactly as it is, unscanned (`contracts check` lists every such field).
    Raw,
    /// Partly hidden, keeping a hint.
    Mask,
    /// Replaced by a keyed hash, stable per contract.
    Hash,
    /// Replaced by a reversible token.
    Tokenize,
    /// Replaced by a placeholder naming the kind.
    Redact,
    /// Removed.
    Drop,
}

impl FieldAction {
    /// The stable lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Raw => "raw",
            Self::Mask => "mask",
            Self::Hash => "hash",
            Self::Tokenize => "tokenize",
            Self::Redact => "redact",
            Self::Drop => "drop",
        }
    }
}

/// Personal-data detectors that can run over free text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum DetectorKind {
    /// E-mail addresses.
    Email,
    /// Phone numbers.
    Phone,
    /// Payment card numbers (Luhn).
    Card,
    /// IBANs (mod 97).
    Iban,
    /// IPv4 and IPv6 addresses.
    Ip,
    /// Russian internal passports.
    RuPassport,
    /// Russian SNILS.
    Snils,
    /// Russian INN.
    Inn,
    /// US social security numbers.
    Ssn,
    /// Dates of birth (a date next to "born", "DOB", "дата рождения", "д.р.").
    BirthDate,
    /// People's names (Russian and English), without help from the ticket.
    Person,
    /// Postal addresses: Russian ones by their markers, street addresses elsewhere.
    Address,
}

impl DetectorKind {
    /// The name contracts use (`ru_passport`, `birth_date`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Card => "card",
            Self::Iban => "iban",
            Self::Ip => "ip",
            Self::RuPassport => "ru_passport",
            Self::Snils => "snils",
            Self::Inn => "inn",
            Self::Ssn => "ssn",
            Self::BirthDate => "birth_date",
            Self::Person => "person",
            Self::Address => "address",
        }
    }

    /// Every detector the gateway has.
    pub const ALL: [Self; 12] = [
        Self::Email,
        Self::Phone,
        Self::Card,
        Self::Iban,
        Self::Ip,
        Self::RuPassport,
        Self::Snils,
        Self::Inn,
        Self::Ssn,
        Self::BirthDate,
        Self::Person,
        Self::Address,
    ];
}

/// Which comments a contractor sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommentVisibility {
    /// None.
    None,
    /// Public ones only.
    PublicOnly,
    /// All, internal notes included.
    All,
}

/// True for media types whose content is text a person can write personal data into: plain
/// text, CSV, logs, JSON, XML, YAML, HTML and e-mail messages.
pub fn is_text_media_type(media_type: &str) -> bool {
    let (kind, sub) = media_type.split_once('/').unwrap_or((media_type, ""));
    kind == "text"
        || (kind == "message" && matches!(sub, "rfc822" | "global"))
        || (kind == "application"
            && (matches!(
                sub,
                "json" | "xml" | "csv" | "x-ndjson" | "ndjson" | "yaml" | "x-yaml" | "x-log"
            ) || sub.ends_with("+json")
                || sub.ends_with("+xml")))
}

/// A media type reduced to `type/subtype` in lower case (parameters such as `charset`
/// dropped), if it is one: each part a token of RFC 6838's characters, at most 127 long.
pub fn media_type_essence(value: &str) -> Option<String> {
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (kind, sub) = essence.split_once('/')?;
    (media_token(kind) && media_token(sub)).then_some(essence)
}

/// One part of a media type.
fn media_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 127
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
}

/// An entry of an `attachments` list: a media type, `type/*` or `*/*`, in lower case.
pub fn media_type_pattern(value: &str) -> Option<String> {
    let t = value.trim().to_ascii_lowercase();
    let fits = match t.split_once('/')? {
        ("*", "*") => true,
        (kind, "*") => media_token(kind),
        _ => return media_type_essence(&t).filter(|e| *e == t),
    };
    fits.then_some(t)
}

/// What happens to attachments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttachmentPolicy {
    /// Never passed on.
    Drop,
    /// Passed on when their MIME type is listed.
    Allow(Vec<String>),
}

/// A contract's own pattern of sensitive text.
#[derive(Clone, Debug)]
pub struct CustomPattern {
    /// Name, used in receipts and placeholders.
    pub name: String,
    /// The compiled pattern.
    pub regex: regex::Regex,
    /// What to do with a match.
    pub action: FieldAction,
}

/// A contract's own list of sensitive words.
#[derive(Clone, Debug)]
pub struct Dictionary {
    /// Name, used in receipts and placeholders.
    pub name: String,
    /// The words, as written.
    pub words: Vec<String>,
    /// Matches any word, in any case and (for Russian names) any grammatical case.
    pub matcher: regex::Regex,
    /// What to do with a match.
    pub action: FieldAction,
}

/// What a contractor may see, field by field. Anything not listed is dropped.
#[derive(Clone, Debug)]
pub struct Confidentiality {
    /// Action per field path (`subject`, `requester.email`, `custom_fields.order_id`, …).
    pub fields: BTreeMap<String, FieldAction>,
    /// The `detectors` list as written. Every detector runs whatever it says (see
    /// [`Confidentiality::scanned_kinds`]); it is kept to warn about what it leaves out.
    pub detectors: Vec<DetectorKind>,
    /// Action per detected entity kind.
    pub entities: BTreeMap<DetectorKind, FieldAction>,
    /// Flag checksum-failing look-alikes too.
    pub aggressive: bool,
    /// Custom fields holding personal data: their values are also looked for in free text.
    pub personal_fields: Vec<String>,
    /// Custom fields holding free text: scanned like the description.
    pub text_fields: Vec<String>,
    /// Own patterns.
    pub custom_patterns: Vec<CustomPattern>,
    /// Own word lists.
    pub dictionaries: Vec<Dictionary>,
    /// Which comments are shared.
    pub comments: CommentVisibility,
    /// Attachments.
    pub attachments: AttachmentPolicy,
    /// Turn tokens in replies back into real values.
    pub rehydrate_replies: bool,
    /// Days contractor-visible copies are kept.
    pub retention_days: u32,
}

impl Confidentiality {
    /// What the scanner looks for under this contract: every detector the gateway has, less
    /// the kinds the contract explicitly lets through (`[confidentiality.entities] kind =
    /// "pass"`). The `detectors` list no longer narrows it.
    pub fn scanned_kinds(&self) -> Vec<DetectorKind> {
        DetectorKind::ALL
            .into_iter()
            .filter(|k| self.entities.get(k) != Some(&FieldAction::Pass))
            .collect()
    }

    /// Kinds the contract lets through unchanged.
    pub fn passed_kinds(&self) -> Vec<DetectorKind> {
        DetectorKind::ALL
            .into_iter()
            .filter(|k| self.entities.get(k) == Some(&FieldAction::Pass))
            .collect()
    }

    /// Fields that leave unscanned (`raw`).
    pub fn raw_fields(&self) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(_, a)| **a == FieldAction::Raw)
            .map(|(f, _)| f.as_str())
            .collect()
    }

    /// Kinds a `detectors` list leaves out: once a way to switch them off, now caught anyway
    /// (`contracts check` says so).
    pub fn detectors_left_out(&self) -> Vec<DetectorKind> {
        if self.detectors.is_empty() {
            return Vec::new();
        }
        DetectorKind::ALL
            .into_iter()
            .filter(|k| {
                !self.detectors.contains(k) && self.entities.get(k) != Some(&FieldAction::Pass)
            })
            .collect()
    }

    /// What `contracts check` tells about this contract's confidentiality beyond errors: the
    /// kinds it lets through, the fields it passes unscanned, and a `detectors` list that no
    /// longer switches anything off.
    pub fn notices(&self) -> Vec<String> {
        let names = |kinds: &[DetectorKind]| {
            kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = Vec::new();
        let passed = self.passed_kinds();
        if !passed.is_empty() {
            out.push(format!(
                "lets through unchanged: {} ([confidentiality.entities] … = \"pass\")",
                names(&passed)
            ));
        }
        let raw = self.raw_fields();
        if !raw.is_empty() {
            out.push(format!("leaves unscanned (raw): {}", raw.join(", ")));
        }
        if let AttachmentPolicy::Allow(types) = &self.attachments {
            let (scanned, unscanned): (Vec<&str>, Vec<&str>) = types
                .iter()
                .map(String::as_str)
                .partition(|t| is_text_media_type(t));
            if !scanned.is_empty() {
                out.push(format!(
                    "sends attachments of {} scanned and redacted like free text (withheld when \
                     they cannot be scanned)",
                    scanned.join(", ")
                ));
            }
            if !unscanned.is_empty() {
                out.push(format!(
                    "sends attachments of {} as they are, unscanned: whatever they hold leaves",
                    unscanned.join(", ")
                ));
            }
        }
        let left_out = self.detectors_left_out();
        if !left_out.is_empty() {
            out.push(format!(
                "warning: confidentiality.detectors leaves out {}: they are now caught too \
                 (every detector runs; relax a kind explicitly with \
                 [confidentiality.entities] <kind> = \"pass\")",
                names(&left_out)
            ));
        }
        out
    }

    /// True when `field` holds free text to scan (the built-in ones and `text_fields`).
    pub fn is_free_text(&self, field: &str) -> bool {
        FREE_TEXT_FIELDS.contains(&field) || self.text_fields.iter().any(|f| f == field)
    }

    /// The action for a field; unlisted fields are dropped (default deny).
    pub fn action_for(&self, field: &str) -> FieldAction {
        self.fields.get(field).copied().unwrap_or(FieldAction::Drop)
    }

    /// Whether personal data can reach the contractor: a requester field, free text (redacted
    /// text still names people the detectors miss), a personal custom field or a file leaves
    /// in any form but `drop`, or comments are shown.
    pub fn lets_personal_data_out(&self) -> bool {
        let personal = |path: &str| {
            path.starts_with("requester.")
                || matches!(path, "subject" | "description" | "comments")
                || path.strip_prefix("custom_fields.").is_some_and(|name| {
                    self.personal_fields.iter().any(|f| f == name)
                        || self.text_fields.iter().any(|f| f == name)
                })
        };
        self.fields
            .iter()
            .any(|(path, action)| *action != FieldAction::Drop && personal(path))
            || self.comments != CommentVisibility::None
            || self.attachments != AttachmentPolicy::Drop
    }
}

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    /// A printable document.
    Html,
    /// Machine-readable data.
    Json,
    /// Disclosure rows.
    Csv,
    /// One row of figures per contract (response times, attainment, first-contact resolution,
    /// reopen rate, CSAT, NPS, macro replies, articles read).
    FiguresCsv,
}

/// The knowledge-base articles a contract lets its contractor read: those carrying one of
/// `tags`, and those named in `articles`. Articles written for the in-house team only are never
/// granted, whatever is listed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KnowledgeGrant {
    /// Tags granted.
    pub tags: Vec<String>,
    /// Article ids granted.
    pub articles: Vec<String>,
}

impl KnowledgeGrant {
    /// Whether the grant covers an article with this id and these tags (audience aside).
    pub fn covers(&self, article_id: &str, tags: &[String]) -> bool {
        self.articles.iter().any(|a| a == article_id) || tags.iter().any(|t| self.tags.contains(t))
    }
}

/// Report language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Locale {
    /// Russian.
    Ru,
    /// English.
    En,
}

impl Locale {
    /// The language code: `en` or `ru`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ru => "ru",
        }
    }
}

/// Compliance reporting.
#[derive(Clone, Debug)]
pub struct Reporting {
    /// When reports run.
    pub schedule: CronSchedule,
    /// Formats produced.
    pub formats: Vec<ReportFormat>,
    /// Language of the reports.
    pub locale: Locale,
    /// Template name under `templates/reports/`.
    pub template: String,
}

/// The contractor's webhook receiver.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Where events are posted.
    pub url: String,
    /// The environment variable holding the signing secret.
    pub secret_env: String,
}

/// The free-text and structured fields a contract can name, besides `custom_fields.<name>`.
pub const KNOWN_FIELDS: &[&str] = &[
    "subject",
    "description",
    "comments",
    "requester.name",
    "requester.email",
    "requester.phone",
    "channel",
    "priority",
    "category",
    "language",
    "tags",
    "status",
    "created_at",
];

/// Fields that hold free text, which detectors scan.
pub const FREE_TEXT_FIELDS: &[&str] = &["subject", "description", "comments"];

#[cfg(test)]
mod tests {
    use super::{media_type_essence, media_type_pattern};
    use crate::contracts::parse_contract;

    #[test]
    fn keys_without_effect_are_refused_or_warned_about() {
        let acme = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/contracts/acme-en.toml"
        ))
        .unwrap_or_default();
        for (key, line) in [
            ("tiers", "tiers = [\"tier1\"]"),
            ("languages", "languages = [\"en\"]"),
        ] {
            let text = acme.replace(
                "timezone = \"UTC\"\n",
                &format!("timezone = \"UTC\"\n{line}\n"),
            );
            let Err(problems) = parse_contract("acme-en.toml", &text) else {
                panic!("{key} was accepted");
            };
            let problem = problems.iter().find(|p| p.key == key);
            assert!(
                problem.is_some_and(|p| p.message.contains("[scope]")),
                "{problems:?}"
            );
        }
        let allowing = acme.replace(
            "[confidentiality]\n",
            "[confidentiality]\nattachments = [\"image/png\"]\n",
        );
        let contract =
            parse_contract("acme-en.toml", &allowing).unwrap_or_else(|p| panic!("{p:?}"));
        assert!(
            contract.confidentiality.notices().iter().any(|n| n
                == "sends attachments of image/png as they are, unscanned: whatever they hold \
                    leaves"),
            "{:?}",
            contract.confidentiality.notices()
        );
    }

    #[test]
    fn media_types_and_their_patterns() {
        assert_eq!(
            media_type_essence(" Text/Plain; charset=UTF-8").as_deref(),
            Some("text/plain")
        );
        assert_eq!(media_type_essence("plain"), None);
        assert_eq!(media_type_essence("text/"), None);
        assert_eq!(media_type_essence("text/pl ain"), None);
        assert_eq!(media_type_pattern("IMAGE/*").as_deref(), Some("image/*"));
        assert_eq!(media_type_pattern("*/*").as_deref(), Some("*/*"));
        assert_eq!(
            media_type_pattern("application/pdf").as_deref(),
            Some("application/pdf")
        );
        assert_eq!(media_type_pattern("*/png"), None);
        assert_eq!(media_type_pattern("text/plain; charset=utf-8"), None);
    }

    #[test]
    fn check_tells_what_a_contract_lets_through() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/contracts/acme-en.toml"
        ))
        .unwrap_or_default()
        .replace(
            r#""custom_fields.plan" = "pass""#,
            r#""custom_fields.plan" = "raw""#,
        ) + "\n[confidentiality.entities]\nip = \"pass\"\n";
        let contract = parse_contract("acme-en.toml", &text).unwrap_or_else(|p| panic!("{p:?}"));
        let notices = contract.confidentiality.notices();
        assert_eq!(notices.len(), 3, "{notices:?}");
        assert!(
            notices[0].starts_with("lets through unchanged: ip"),
            "{notices:?}"
        );
        assert_eq!(notices[1], "leaves unscanned (raw): custom_fields.plan");
        assert!(
            notices[2].starts_with(
                "warning: confidentiality.detectors leaves out ru_passport, snils, inn, ssn, birth_date, person, address:"
            ),
            "{notices:?}"
        );
        assert!(
            !contract
                .confidentiality
                .scanned_kinds()
                .contains(&super::DetectorKind::Ip)
        );
    }
}
