//! What a report says, computed from the ledger (every disclosure and access is an entry) and
//! the SLA clocks. Everything is ordered (BTreeMaps, sorted lists), so the same ledger gives
//! the same report, byte for byte.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::clock::from_db;
use crate::db::AnyConnection;
use crate::db::schema::contract_versions;
use crate::ledger::{self, Broken, Entry};
use crate::service::figures::{self, SlaFigures};
use crate::shares::clocks;

use super::{Period, ReportError};

/// The JSON schema identifier; bump it when a field changes meaning or goes away.
pub const SCHEMA: &str = "msp-bridge.report.v1";

/// A whole report's data.
#[derive(Debug, Clone, Serialize)]
pub struct ReportData {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// A contract id, or `*` for the whole gateway.
    pub scope: String,
    /// The contractor, for a contract's report.
    pub contractor: Option<String>,
    /// The period covered, `[from, to)`.
    pub period: Period,
    /// The timezone days are counted in.
    pub timezone: String,
    /// The ledger's chain over the period.
    pub ledger: LedgerCheck,
    /// Contract versions in force during the period.
    pub contract_versions: Vec<VersionInForce>,
    /// Ticket counts.
    pub tickets: TicketCounts,
    /// Tickets not shared because redaction failed (fail closed), by reason.
    pub withheld: Vec<Counted>,
    /// Tickets kept in-house, by why the contract (each contract, prefixed with its id, for
    /// the gateway) could not take them: out of scope, regulated, at capacity, overflow off…
    pub kept_in_house: Vec<Counted>,
    /// Fields disclosed, by name, with how many disclosures carried each.
    pub fields_disclosed: Vec<Counted>,
    /// Fields kept back, by name and the action that kept them.
    pub fields_withheld: Vec<ActionCount>,
    /// Personal data found in free text, by kind and the action applied.
    pub personal_data: Vec<ActionCount>,
    /// Tokens in contractor replies turned back into real values.
    pub rehydrations: Rehydrations,
    /// Contractor reads of shared tickets, by user.
    pub reads: Vec<Counted>,
    /// Requests for tickets the caller may not see, by user.
    pub denied_access: Vec<Counted>,
    /// Overflow switched on by an operator.
    pub overflow_activations: u64,
    /// Copies removed after `retention_days`.
    pub purges: PurgeCounts,
    /// Files sent and withheld when tickets were shared, and files contractors downloaded.
    pub attachments: AttachmentCounts,
    /// Knowledge-base articles contractors read, per contract, most read first.
    pub knowledge: Vec<KnowledgeUse>,
    /// How contractors answered: approved replies (macros) and the approval queue.
    pub replies: ReplyCounts,
    /// Approved replies used, per contract and macro, most used first.
    pub macros: Vec<MacroUse>,
    /// Each contract's processing register, and where what happened does not match it.
    pub processing: Vec<RegisterEntry>,
    /// Contracts whose end was carried out in the period.
    pub contract_ends: Vec<ContractEnd>,
    /// Erasure notices sent to contractors before the period ended and not acknowledged
    /// before it began: acknowledged, overdue (escalated) or still waiting.
    pub erasures: Vec<crate::subjects::NoticeView>,
    /// Replies and downloads per contract, for the register's findings.
    #[serde(skip)]
    pub acts: BTreeMap<String, (u64, u64)>,
    /// SLA figures per contract.
    pub sla: Vec<SlaFigures>,
    /// Per day: shares and SLA clocks decided.
    pub daily: Vec<Day>,
    /// How many disclosures (shares and reads) the period holds.
    pub disclosure_rows: usize,
    /// Every disclosure, in ledger order: the CSV format's rows. Left out of the JSON format,
    /// which stays a summary whatever the volume.
    #[serde(skip)]
    pub disclosures: Vec<Disclosure>,
}

/// The chain check over the report's period.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerCheck {
    /// True when every entry of the period fits the chain.
    pub intact: bool,
    /// Entries checked.
    pub entries: i64,
    /// The first break, if any.
    pub first_broken: Option<Broken>,
}

/// A contract version that was in force at some point of the period.
#[derive(Debug, Clone, Serialize)]
pub struct VersionInForce {
    /// Contract id.
    pub contract: String,
    /// Version number.
    pub version: i32,
    /// sha256 of the contract file.
    pub sha256: String,
    /// When it was applied.
    pub applied_at: DateTime<Utc>,
}

/// Ticket counts of the period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TicketCounts {
    /// Tickets shared.
    pub shared: u64,
    /// Tickets not shared because redaction failed (fail closed).
    pub refused: u64,
    /// Contractor replies.
    pub replies: u64,
    /// Contractor status changes.
    pub status_changes: u64,
    /// Tickets handed back.
    pub handed_back: u64,
    /// Tickets recalled.
    pub recalled: u64,
    /// SLA warnings.
    pub sla_warnings: u64,
    /// SLA breaches.
    pub sla_breaches: u64,
}

/// Something counted.
#[derive(Debug, Clone, Serialize)]
pub struct Counted {
    /// What.
    pub name: String,
    /// How many.
    pub count: u64,
}

/// Something counted per action.
#[derive(Debug, Clone, Serialize)]
pub struct ActionCount {
    /// Field or personal-data kind.
    pub name: String,
    /// The action applied.
    pub action: String,
    /// How many.
    pub count: u64,
}

/// Re-hydration totals.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Rehydrations {
    /// Replies that went through re-hydration.
    pub replies: u64,
    /// Tokens replaced by their real values.
    pub tokens_replaced: u64,
    /// Token-shaped strings left as they were (made up, another contract's, purged, or
    /// issued for another ticket).
    pub unknown_tokens: u64,
    /// Of those, tokens this contract issued for another ticket: replies probing for other
    /// customers' values.
    pub foreign_tokens: u64,
}

/// Files of the period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AttachmentCounts {
    /// In-house files sent with shares (redacted or as they are).
    pub sent: u64,
    /// In-house files withheld from shares (dropped, a type not allowed, not scannable).
    pub withheld: u64,
    /// Files contractors downloaded.
    pub downloads: u64,
}

/// How much one knowledge-base article was read under one contract.
#[derive(Debug, Clone, Serialize)]
pub struct KnowledgeUse {
    /// The contract it was read under.
    pub contract: String,
    /// Article id.
    pub article: String,
    /// Its title when last read.
    pub title: String,
    /// Reads.
    pub reads: u64,
    /// Different users who read it.
    pub readers: u64,
}

/// How contractors answered in the period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplyCounts {
    /// Replies sent.
    pub sent: u64,
    /// Of those, rendered from an approved reply (macro).
    pub by_macro: u64,
    /// Free-text replies put in the approval queue.
    pub queued: u64,
    /// Waiting replies approved (and sent).
    pub approved: u64,
    /// Waiting replies rejected.
    pub rejected: u64,
    /// Waiting replies approved too late (the share no longer took replies): not sent.
    pub void: u64,
}

/// A contract's end, as carried out: shares recalled, the contractor told to delete, copies
/// purged at once.
#[derive(Debug, Clone, Serialize)]
pub struct ContractEnd {
    /// The contract.
    pub contract: String,
    /// When.
    pub at: DateTime<Utc>,
    /// `contract_withdrawn` or `contract_not_in_force`.
    pub reason_code: String,
    /// Tickets taken back from the contractor.
    pub tickets_recalled: u64,
    /// Token values erased.
    pub tokens_erased: u64,
}

/// A contract's processing register in a report.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterEntry {
    /// The contract.
    pub contract: String,
    /// Its register; none when it has none (allowed only when no personal data can reach its
    /// contractor).
    pub register: Option<crate::contracts::Processing>,
    /// Where the contract or the period does not match the register.
    pub findings: Vec<Finding>,
}

/// A mismatch between the register and what the contract allows or what happened.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `replies_not_allowed`, `downloads_not_allowed`, `storage_not_allowed` or
    /// `kept_longer_than_register`.
    pub code: &'static str,
    /// The number it rests on (replies, downloads, days).
    pub count: u64,
}

/// How often one approved reply was used under one contract.
#[derive(Debug, Clone, Serialize)]
pub struct MacroUse {
    /// The contract.
    pub contract: String,
    /// The macro's id.
    pub r#macro: String,
    /// Replies sent with it.
    pub uses: u64,
}

/// Retention purges of the period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PurgeCounts {
    /// Purges that removed something.
    pub runs: u64,
    /// Token values erased.
    pub tokens: u64,
    /// Contractor events deleted.
    pub events: u64,
}

/// One day of the period.
#[derive(Debug, Clone, Serialize)]
pub struct Day {
    /// The date in the report's timezone.
    pub date: NaiveDate,
    /// Tickets shared.
    pub shared: u64,
    /// SLA clocks met.
    pub met: u64,
    /// SLA clocks breached.
    pub breached: u64,
    /// Met of decided, in percent (none when nothing was decided).
    pub attainment_percent: Option<f64>,
}

/// A disclosure: a ticket shared or read, and what it carried.
#[derive(Debug, Clone, Serialize)]
pub struct Disclosure {
    /// Ledger sequence number.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// `ticket.share` or `share.read`.
    pub action: String,
    /// Who: the system on a share, the contractor's user on a read.
    pub actor: String,
    /// Contract.
    pub contract: String,
    /// Gateway ticket id.
    pub ticket: i64,
    /// Contract version in force (shares only).
    pub contract_version: Option<i64>,
    /// Fields sent, `; `-separated.
    pub fields: String,
    /// Personal data kinds found, `kind:action×count`, `; `-separated.
    pub personal_data: String,
}

/// Computes the data of a report for `scope` (a contract, or every contract when `None`) over
/// `period`, counting days in `timezone`.
pub fn compute(
    conn: &mut AnyConnection,
    scope: Option<(&str, &str)>,
    contract_ids: &[String],
    period: Period,
    timezone: Tz,
) -> Result<ReportData, ReportError> {
    let mut fold = Fold::default();
    let verification = ledger::walk_period(conn, period.from, period.to, |e| {
        let in_period = from_db(e.at) >= period.from && from_db(e.at) < period.to;
        let in_scope = match scope {
            None => true,
            Some((contract, contractor)) => {
                e.contract_id.as_deref() == Some(contract)
                    // Denied attempts carry the caller, not a contract.
                    || (e.action == "access.denied"
                        && e.contract_id.is_none()
                        && denied_contractor(e).as_deref() == Some(contractor))
            }
        };
        if in_period && in_scope {
            fold.entry(e, timezone);
        }
    })?;
    let mut sla = Vec::new();
    for contract in contract_ids {
        sla.push(figures::figures(conn, contract, period.from, period.to)?);
        for (at, met) in clocks::decided_between(conn, contract, period.from, period.to)? {
            let day = fold.day(at, timezone);
            if met {
                day.met += 1;
            } else {
                day.breached += 1;
            }
        }
    }
    for routing in crate::tickets::store::routings_between(conn, period.from, period.to)? {
        fold.kept(&routing, scope.map(|(c, _)| c), period);
    }
    let contract_versions = versions_in_force(conn, contract_ids, period)?;
    Ok(fold.finish(
        scope.map(|(c, _)| c),
        scope.map(|(_, c)| c),
        period,
        timezone,
        verification,
        contract_versions,
        sla,
    ))
}

fn denied_contractor(e: &Entry) -> Option<String> {
    serde_json::from_str::<Value>(&e.details)
        .ok()?
        .get("contractor")?
        .as_str()
        .map(str::to_owned)
}

fn versions_in_force(
    conn: &mut AnyConnection,
    contract_ids: &[String],
    period: Period,
) -> Result<Vec<VersionInForce>, ReportError> {
    let rows: Vec<(String, i32, String, chrono::NaiveDateTime)> = contract_versions::table
        .filter(contract_versions::contract_id.eq_any(contract_ids))
        .filter(contract_versions::applied_at.lt(crate::clock::to_db(period.to)))
        .order((
            contract_versions::contract_id,
            contract_versions::version.asc(),
        ))
        .select((
            contract_versions::contract_id,
            contract_versions::version,
            contract_versions::sha256,
            contract_versions::applied_at,
        ))
        .load(conn)?;
    // A version counts from its application until the next one's; keep those that reach into
    // the period.
    let mut kept = Vec::new();
    for (i, (contract, version, sha256, applied_at)) in rows.iter().enumerate() {
        let superseded = rows
            .get(i + 1)
            .filter(|next| next.0 == *contract)
            .map(|next| from_db(next.3));
        if superseded.is_some_and(|until| until <= period.from) {
            continue;
        }
        kept.push(VersionInForce {
            contract: contract.clone(),
            version: *version,
            sha256: sha256.clone(),
            applied_at: from_db(*applied_at),
        });
    }
    Ok(kept)
}

#[derive(Default)]
struct Fold {
    tickets: TicketCounts,
    withheld: BTreeMap<String, u64>,
    kept: BTreeMap<String, u64>,
    fields_disclosed: BTreeMap<String, u64>,
    fields_withheld: BTreeMap<String, BTreeMap<String, u64>>,
    personal_data: BTreeMap<String, BTreeMap<String, u64>>,
    rehydrations: Rehydrations,
    reads: BTreeMap<String, u64>,
    denied: BTreeMap<String, u64>,
    overflow_activations: u64,
    purges: PurgeCounts,
    attachments: AttachmentCounts,
    /// (contract, article) → (title, reads, readers).
    knowledge: BTreeMap<(String, String), (String, u64, BTreeSet<String>)>,
    replies: ReplyCounts,
    /// (contract, macro) → uses.
    macros: BTreeMap<(String, String), u64>,
    /// contract → (replies, downloads).
    acts: BTreeMap<String, (u64, u64)>,
    contract_ends: Vec<ContractEnd>,
    days: BTreeMap<NaiveDate, DayCounts>,
    disclosures: Vec<Disclosure>,
}

impl Fold {
    /// The counters of the day `at` falls on in `timezone`.
    fn day(&mut self, at: DateTime<Utc>, timezone: Tz) -> &mut DayCounts {
        self.days
            .entry(at.with_timezone(&timezone).date_naive())
            .or_default()
    }

    fn entry(&mut self, e: &Entry, timezone: Tz) {
        // Entries written by this gateway always parse; anything else counts as empty details.
        let details: Details<'_> = serde_json::from_str(&e.details).unwrap_or_default();
        match e.action.as_str() {
            "ticket.share" => {
                self.tickets.shared += 1;
                self.day(from_db(e.at), timezone).shared += 1;
                self.receipt(&details.receipt, true);
                self.disclose(e, &details);
            }
            "share.attachment_download" => {
                self.attachments.downloads += 1;
                if let Some(c) = &e.contract_id {
                    self.acts.entry(c.clone()).or_default().1 += 1;
                }
                self.disclose(e, &details);
            }
            "share.update" => {
                self.receipt(&details.receipt, false);
                self.disclose(e, &details);
            }
            "share.read" => {
                bump(&mut self.reads, &e.actor, 1);
                self.receipt(&details.receipt, false);
                self.disclose(e, &details);
            }
            "ticket.share_refused" => {
                self.tickets.refused += 1;
                bump(
                    &mut self.withheld,
                    details.reason.as_deref().unwrap_or("unknown"),
                    1,
                );
            }
            "share.reply" => {
                self.tickets.replies += 1;
                if let Some(c) = &e.contract_id {
                    self.acts.entry(c.clone()).or_default().0 += 1;
                }
                self.replies.sent += 1;
                if let Some(m) = details.r#macro.as_deref() {
                    self.replies.by_macro += 1;
                    let key = (e.contract_id.clone().unwrap_or_default(), m.to_owned());
                    *self.macros.entry(key).or_default() += 1;
                }
                if let Some(r) = details.rehydration {
                    self.rehydrations.replies += 1;
                    self.rehydrations.tokens_replaced += r.replaced;
                    self.rehydrations.unknown_tokens += r.unknown;
                    self.rehydrations.foreign_tokens += r.foreign;
                }
            }
            "knowledge.read" => {
                let key = (
                    e.contract_id.clone().unwrap_or_default(),
                    details.article.as_deref().unwrap_or_default().to_owned(),
                );
                let used = self.knowledge.entry(key).or_default();
                used.0 = details.title.as_deref().unwrap_or_default().to_owned();
                used.1 += 1;
                used.2.insert(e.actor.clone());
            }
            "share.reply_queued" => self.replies.queued += 1,
            "contract.end" => self.contract_ends.push(ContractEnd {
                contract: e.contract_id.clone().unwrap_or_default(),
                at: from_db(e.at),
                reason_code: details
                    .reason_code
                    .as_deref()
                    .unwrap_or_default()
                    .to_owned(),
                tickets_recalled: details.tickets_recalled.unwrap_or(0),
                tokens_erased: details.tokens.unwrap_or(0),
            }),
            "share.reply_decided" => match details.state.as_deref() {
                Some("approved") => self.replies.approved += 1,
                Some("rejected") => self.replies.rejected += 1,
                Some("void") => self.replies.void += 1,
                _ => {}
            },
            "share.status" => self.tickets.status_changes += 1,
            "share.handback" => self.tickets.handed_back += 1,
            "share.recall" => self.tickets.recalled += 1,
            "sla.warning" => self.tickets.sla_warnings += 1,
            "sla.breach" => self.tickets.sla_breaches += 1,
            "contract.overflow" if details.on == Some(true) => self.overflow_activations += 1,
            "access.denied" => bump(&mut self.denied, &e.actor, 1),
            "retention.purge" => {
                self.purges.runs += 1;
                self.purges.tokens += details.tokens.unwrap_or(0);
                self.purges.events += details.events.unwrap_or(0);
            }
            _ => {}
        }
    }

    /// Counts a ticket kept in-house by a decision made in the period, under the reason its
    /// contract (or, for the gateway, each contract) gave. Reasons lose their parenthesised
    /// figures ("at capacity (3 of 3 open)" → "at capacity") so that they group.
    fn kept(&mut self, routing: &str, contract: Option<&str>, period: Period) {
        let Ok(decision) = serde_json::from_str::<Routed<'_>>(routing) else {
            return;
        };
        let decided = decision
            .decided_at
            .as_deref()
            .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&Utc));
        if decision.outcome.as_deref() != Some("kept")
            || !decided.is_some_and(|d| d >= period.from && d < period.to)
        {
            return;
        }
        for c in decision.considered.iter().filter(|c| !c.eligible) {
            let reason = c.reason.split(" (").next().unwrap_or(&c.reason);
            match contract {
                Some(id) if c.contract == id => bump(&mut self.kept, reason, 1),
                Some(_) => {}
                None => bump(&mut self.kept, &format!("{}: {reason}", c.contract), 1),
            }
        }
    }

    /// Counts what a receipt says; fields withheld are counted on shares only, so a read of
    /// the same ticket does not count them twice.
    fn receipt(&mut self, receipt: &ReceiptView<'_>, with_withheld: bool) {
        for name in &receipt.fields_sent {
            bump(&mut self.fields_disclosed, name, 1);
        }
        if !with_withheld {
            return;
        }
        for (field, action) in &receipt.fields_withheld {
            bump_pair(&mut self.fields_withheld, field, action, 1);
        }
        self.attachments.sent += receipt.attachments_sent;
        self.attachments.withheld += receipt.attachments_withheld;
        for (kind, actions) in &receipt.entities {
            for (action, n) in actions {
                bump_pair(&mut self.personal_data, kind, action, *n);
            }
        }
    }

    fn disclose(&mut self, e: &Entry, details: &Details<'_>) {
        let receipt = &details.receipt;
        let mut personal_data = String::new();
        for (kind, actions) in &receipt.entities {
            for (action, n) in actions {
                if !personal_data.is_empty() {
                    personal_data.push_str("; ");
                }
                personal_data.push_str(&format!("{kind}:{action}×{n}"));
            }
        }
        self.disclosures.push(Disclosure {
            seq: e.seq,
            at: from_db(e.at),
            action: e.action.clone(),
            actor: e.actor.clone(),
            contract: e.contract_id.clone().unwrap_or_default(),
            ticket: e.ticket_id.unwrap_or_default(),
            contract_version: details.contract_version,
            fields: receipt.fields_sent.join("; "),
            personal_data,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        self,
        contract: Option<&str>,
        contractor: Option<&str>,
        period: Period,
        timezone: Tz,
        verification: ledger::Verification,
        contract_versions: Vec<VersionInForce>,
        sla: Vec<SlaFigures>,
    ) -> ReportData {
        let counted = |map: BTreeMap<String, u64>| {
            map.into_iter()
                .map(|(name, count)| Counted { name, count })
                .collect::<Vec<_>>()
        };
        let per_action = |map: BTreeMap<String, BTreeMap<String, u64>>| {
            map.into_iter()
                .flat_map(|(name, actions)| {
                    actions.into_iter().map(move |(action, count)| ActionCount {
                        name: name.clone(),
                        action,
                        count,
                    })
                })
                .collect::<Vec<_>>()
        };
        let daily = every_day(period, timezone)
            .map(|date| {
                let d = self.days.get(&date).copied().unwrap_or_default();
                Day {
                    date,
                    shared: d.shared,
                    met: d.met,
                    breached: d.breached,
                    attainment_percent: crate::sla::attainment_percent(d.met, d.breached),
                }
            })
            .collect();
        ReportData {
            schema: SCHEMA,
            scope: contract.unwrap_or("*").to_owned(),
            contractor: contractor.map(str::to_owned),
            period,
            timezone: timezone.name().to_owned(),
            ledger: LedgerCheck {
                intact: verification.is_intact(),
                entries: verification.entries,
                first_broken: verification.first_broken,
            },
            contract_versions,
            tickets: self.tickets,
            withheld: counted(self.withheld),
            kept_in_house: counted(self.kept),
            fields_disclosed: counted(self.fields_disclosed),
            fields_withheld: per_action(self.fields_withheld),
            personal_data: per_action(self.personal_data),
            rehydrations: self.rehydrations,
            reads: counted(self.reads),
            denied_access: counted(self.denied),
            overflow_activations: self.overflow_activations,
            purges: self.purges,
            attachments: self.attachments,
            knowledge: {
                let mut used: Vec<KnowledgeUse> = self
                    .knowledge
                    .into_iter()
                    .map(
                        |((contract, article), (title, reads, readers))| KnowledgeUse {
                            contract,
                            article,
                            title,
                            reads,
                            readers: readers.len() as u64,
                        },
                    )
                    .collect();
                used.sort_by(|a, b| a.contract.cmp(&b.contract).then(b.reads.cmp(&a.reads)));
                used
            },
            replies: self.replies,
            processing: Vec::new(),
            contract_ends: self.contract_ends,
            erasures: Vec::new(),
            acts: self.acts,
            macros: {
                let mut used: Vec<MacroUse> = self
                    .macros
                    .into_iter()
                    .map(|((contract, r#macro), uses)| MacroUse {
                        contract,
                        r#macro,
                        uses,
                    })
                    .collect();
                used.sort_by(|a, b| a.contract.cmp(&b.contract).then(b.uses.cmp(&a.uses)));
                used
            },
            sla,
            daily,
            disclosure_rows: self.disclosures.len(),
            disclosures: self.disclosures,
        }
    }
}

/// What reports read of an entry's details; the rest is ignored. Strings are borrowed from
/// the entry's text where they need no unescaping: a month can hold a million entries.
#[derive(Debug, Default, serde::Deserialize)]
struct Details<'a> {
    #[serde(borrow, default)]
    receipt: ReceiptView<'a>,
    #[serde(borrow, default)]
    reason: Option<Cow<'a, str>>,
    #[serde(default)]
    contract_version: Option<i64>,
    #[serde(default)]
    rehydration: Option<RehydrationView>,
    #[serde(default)]
    on: Option<bool>,
    #[serde(default)]
    tokens: Option<u64>,
    #[serde(default)]
    events: Option<u64>,
    #[serde(borrow, default)]
    article: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    title: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "macro")]
    r#macro: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    state: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reason_code: Option<Cow<'a, str>>,
    #[serde(default)]
    tickets_recalled: Option<u64>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct ReceiptView<'a> {
    #[serde(borrow, default)]
    fields_sent: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    fields_withheld: BTreeMap<Cow<'a, str>, Cow<'a, str>>,
    #[serde(borrow, default)]
    entities: BTreeMap<Cow<'a, str>, BTreeMap<Cow<'a, str>, u64>>,
    #[serde(default)]
    attachments_sent: u64,
    #[serde(default)]
    attachments_withheld: u64,
}

/// What reports read of a stored routing decision.
#[derive(Debug, Default, serde::Deserialize)]
struct Routed<'a> {
    #[serde(borrow, default)]
    outcome: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    decided_at: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    considered: Vec<Considered<'a>>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct Considered<'a> {
    #[serde(borrow)]
    contract: Cow<'a, str>,
    eligible: bool,
    #[serde(borrow)]
    reason: Cow<'a, str>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct RehydrationView {
    #[serde(default)]
    replaced: u64,
    #[serde(default)]
    unknown: u64,
    #[serde(default)]
    foreign: u64,
}

/// Adds `n` to `key`'s count, allocating the key only the first time it is seen.
fn bump(map: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    match map.get_mut(key) {
        Some(count) => *count += n,
        None => {
            map.insert(key.to_owned(), n);
        }
    }
}

fn bump_pair(map: &mut BTreeMap<String, BTreeMap<String, u64>>, a: &str, b: &str, n: u64) {
    match map.get_mut(a) {
        Some(inner) => bump(inner, b, n),
        None => {
            map.insert(a.to_owned(), BTreeMap::from([(b.to_owned(), n)]));
        }
    }
}

/// What happened on one day.
#[derive(Debug, Default, Clone, Copy)]
struct DayCounts {
    shared: u64,
    met: u64,
    breached: u64,
}

/// Every date the period touches in `timezone`, first to last.
fn every_day(period: Period, timezone: Tz) -> impl Iterator<Item = NaiveDate> {
    let first = period.from.with_timezone(&timezone).date_naive();
    // `to` is exclusive: a period ending at midnight does not touch the next day.
    let last = (period.to - chrono::Duration::microseconds(1))
        .with_timezone(&timezone)
        .date_naive();
    first.iter_days().take_while(move |d| *d <= last)
}

/// A report with one row in every list, for checking templates when they are loaded.
pub fn sample() -> ReportData {
    use crate::service::figures::{Attainment, Csat, Nps, Rate, Times};
    let at = DateTime::<Utc>::from_timestamp(1_780_000_000, 0).unwrap_or_default();
    let period = Period {
        from: at,
        to: at + chrono::Duration::days(2),
    };
    let counted = || {
        vec![Counted {
            name: "sample".into(),
            count: 1,
        }]
    };
    let per_action = || {
        vec![ActionCount {
            name: "email".into(),
            action: "tokenize".into(),
            count: 1,
        }]
    };
    let times = Times {
        stopped: 1,
        median_seconds: Some(3_600),
        p90_seconds: Some(7_200),
    };
    let attainment = Attainment {
        met: 1,
        breached: 1,
        running: 0,
        percent: Some(50.0),
    };
    let rate = Rate {
        count: 1,
        percent: Some(100.0),
        of: 1,
    };
    ReportData {
        schema: SCHEMA,
        scope: "sample".into(),
        contractor: Some("Sample".into()),
        period,
        timezone: "UTC".into(),
        ledger: LedgerCheck {
            intact: false,
            entries: 2,
            first_broken: Some(Broken {
                seq: 2,
                problem: "sample".into(),
            }),
        },
        contract_versions: vec![VersionInForce {
            contract: "sample".into(),
            version: 1,
            sha256: "0".repeat(64),
            applied_at: at,
        }],
        tickets: TicketCounts::default(),
        withheld: counted(),
        kept_in_house: counted(),
        fields_disclosed: counted(),
        fields_withheld: per_action(),
        personal_data: per_action(),
        rehydrations: Rehydrations::default(),
        reads: counted(),
        denied_access: counted(),
        overflow_activations: 0,
        purges: PurgeCounts::default(),
        attachments: AttachmentCounts::default(),
        replies: ReplyCounts::default(),
        processing: vec![RegisterEntry {
            contract: "sample".into(),
            register: Some(crate::contracts::Processing {
                purposes: vec!["support".into()],
                legal_basis: crate::contracts::LegalBasis::Contract,
                data_categories: vec!["contact details".into()],
                subject_categories: vec!["customers".into()],
                actions: vec![crate::contracts::ProcessingAction::Read],
                safeguards: vec!["redaction".into()],
                location: "RU".into(),
                contact: "dpo@example.com".into(),
                retention_days: 30,
                erasure_ack_days: 10,
            }),
            findings: vec![Finding {
                code: "replies_not_allowed",
                count: 1,
            }],
        }],
        acts: BTreeMap::new(),
        contract_ends: vec![ContractEnd {
            contract: "sample".into(),
            at,
            reason_code: "contract_not_in_force".into(),
            tickets_recalled: 1,
            tokens_erased: 1,
        }],
        erasures: vec![crate::subjects::NoticeView {
            id: 1,
            erasure: 1,
            contract: "sample".into(),
            contractor: "sample".into(),
            tickets: vec![1],
            tokens: vec!["[EMAIL_1]".into()],
            sent_at: at,
            due_at: at,
            acknowledged_at: None,
            acknowledged_by: None,
            escalated_at: Some(at),
            state: "overdue",
        }],
        macros: vec![MacroUse {
            contract: "sample".into(),
            r#macro: "sample-macro".into(),
            uses: 1,
        }],
        knowledge: vec![KnowledgeUse {
            contract: "sample".into(),
            article: "sample-article".into(),
            title: "Sample".into(),
            reads: 1,
            readers: 1,
        }],
        sla: vec![SlaFigures {
            contract: "sample".into(),
            from: period.from,
            to: period.to,
            shared: 1,
            first_response: times.clone(),
            next_response: times.clone(),
            resolution: times,
            attainment: attainment.clone(),
            attainment_by_clock: BTreeMap::from([("first_response".into(), attainment)]),
            one_touch_resolution: rate.clone(),
            first_contact_resolution: rate.clone(),
            reopened: rate.clone(),
            solved: 1,
            handed_back: rate.clone(),
            recalled: rate,
            csat: Csat {
                ratings: 1,
                average: Some(5.0),
                satisfied_percent: Some(100.0),
                with_comment: 1,
            },
            nps: Nps {
                responses: 1,
                promoters: 1,
                passives: 0,
                detractors: 0,
                score: Some(100.0),
            },
        }],
        daily: every_day(period, Tz::UTC)
            .map(|date| Day {
                date,
                shared: 1,
                met: 1,
                breached: 0,
                attainment_percent: Some(100.0),
            })
            .collect(),
        disclosure_rows: 1,
        disclosures: vec![Disclosure {
            seq: 1,
            at,
            action: "ticket.share".into(),
            actor: "system".into(),
            contract: "sample".into(),
            ticket: 1,
            contract_version: Some(1),
            fields: "subject".into(),
            personal_data: "email:tokenize×1".into(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented schema and the data stay in step: every field the JSON format writes is
    /// described, and every described field is written.
    #[test]
    fn the_documented_schema_names_every_field() {
        let schema: Value = serde_json::from_str(include_str!("../../docs/report-v1.schema.json"))
            .unwrap_or_else(|e| panic!("{e}"));
        let sample = serde_json::to_value(sample()).unwrap_or_else(|e| panic!("{e}"));
        let written: Vec<&String> = sample
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        let described: Vec<&String> = schema["properties"]
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        let mut written_sorted = written.clone();
        written_sorted.sort();
        let mut described_sorted = described.clone();
        described_sorted.sort();
        assert_eq!(written_sorted, described_sorted);
        let required = schema["required"].as_array().map(Vec::len);
        assert_eq!(required, Some(written.len()));
        assert_eq!(schema["properties"]["schema"]["enum"][0], SCHEMA);
    }
}
