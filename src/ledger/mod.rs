//! The audit ledger: an append-only, hash-chained log of every disclosure and access.
//!
//! Entries are appended inside the caller's transaction, so an entry exists exactly when the
//! change it describes does. They are written pending and chained by [`seal`], one sealer at a
//! time, in the order they committed: each entry's `hash = sha256(prev_hash || canonical
//! entry)`. Writers never touch the chain's head, so audited changes commit in parallel;
//! the delivery worker seals after every commit, and readers that must see the latest entries
//! seal first. [`verify`] recomputes the chain and names the first entry that does not fit.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ring::digest;
use serde::Serialize;

use crate::clock::{from_db, to_db};
use crate::db::schema::{audit_log, audit_pending, ledger_head};
use crate::db::{AnyConnection, Db, DbError};

/// The hash that stands before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, as recorded in the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// A contract file's version was stored.
    ContractApply,
    /// A contract's file was removed: it left force.
    ContractWithdraw,
    /// A contract's end was carried out (shares recalled, contractor told to delete, copies
    /// purged).
    ContractEnd,
    /// A ticket was shared with a contractor.
    TicketShare,
    /// The backlog drain routed a waiting ticket and kept it in-house: no contract could take
    /// it (each contract's verdict in the details).
    TicketKept,
    /// A contractor read a shared ticket.
    ShareRead,
    /// A contractor downloaded a file of a shared ticket.
    AttachmentDownload,
    /// A shared ticket changed in-house and its contractor was sent the fresh projection.
    ShareUpdate,
    /// A contractor replied on a shared ticket.
    ShareReply,
    /// A contractor changed a share's status.
    ShareStatus,
    /// A contractor's free-text reply waits for in-house approval.
    ReplyQueued,
    /// The in-house side approved or rejected a waiting reply.
    ReplyDecided,
    /// The customer wrote on a solved share: it is open again.
    ShareReopen,
    /// A contractor handed a ticket back.
    ShareHandback,
    /// A share was not made because redaction failed (fail closed).
    ShareRefused,
    /// A contractor read was refused because redaction failed (fail closed).
    ReadRefused,
    /// An operator switched a contract's manual overflow on or off.
    OverflowSwitch,
    /// The in-house side took a ticket back from its contractor.
    ShareRecall,
    /// An SLA clock reached its warning threshold.
    SlaWarning,
    /// An SLA clock ran past its due time.
    SlaBreach,
    /// A breach flagged the ticket to the in-house side.
    SlaEscalate,
    /// A running clock moved to the target of the ticket's new priority or channel.
    SlaRetarget,
    /// A contract's rolling SLA attainment fell below its floor.
    AttainmentAlert,
    /// A contract's rolling SLA attainment is back at or above its floor.
    AttainmentRestored,
    /// A contract's CSAT, NPS or first-contact resolution fell below its floor.
    QualityAlert,
    /// It is back at or above the floor.
    QualityRestored,
    /// The in-house side reported the customer's satisfaction with a contractor's work.
    Satisfaction,
    /// An operator put a dead-lettered event back in line.
    DeliveryReplay,
    /// A caller asked for something it may not see (answered like a missing one).
    AccessDenied,
    /// Contractor-visible copies past a contract's retention were removed.
    RetentionPurge,
    /// A knowledge-base article's version was stored.
    KnowledgeApply,
    /// A knowledge-base article's file was removed.
    KnowledgeWithdraw,
    /// A contractor read a knowledge-base article.
    KnowledgeRead,
    /// A data subject's disclosures were looked up (the kinds of selector, never the values).
    SubjectAccess,
    /// A data subject's data was erased in the gateway.
    SubjectErase,
    /// A contractor was told to erase a data subject's data.
    SubjectEraseRequested,
    /// A contractor acknowledged an erasure.
    SubjectEraseAck,
    /// A contractor's acknowledgement of an erasure is overdue; escalated in-house.
    SubjectEraseOverdue,
}

impl Action {
    /// The stable name stored in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ContractApply => "contract.apply",
            Self::ContractWithdraw => "contract.withdraw",
            Self::ContractEnd => "contract.end",
            Self::TicketShare => "ticket.share",
            Self::TicketKept => "ticket.kept",
            Self::ShareRead => "share.read",
            Self::AttachmentDownload => "share.attachment_download",
            Self::ShareUpdate => "share.update",
            Self::ShareReply => "share.reply",
            Self::ShareStatus => "share.status",
            Self::ReplyQueued => "share.reply_queued",
            Self::ReplyDecided => "share.reply_decided",
            Self::ShareReopen => "share.reopen",
            Self::ShareHandback => "share.handback",
            Self::ShareRefused => "ticket.share_refused",
            Self::ReadRefused => "share.read_refused",
            Self::OverflowSwitch => "contract.overflow",
            Self::ShareRecall => "share.recall",
            Self::SlaWarning => "sla.warning",
            Self::SlaBreach => "sla.breach",
            Self::SlaEscalate => "sla.escalate",
            Self::SlaRetarget => "sla.retarget",
            Self::AttainmentAlert => "sla.attainment_alert",
            Self::AttainmentRestored => "sla.attainment_restored",
            Self::QualityAlert => "quality.alert",
            Self::QualityRestored => "quality.restored",
            Self::Satisfaction => "ticket.satisfaction",
            Self::DeliveryReplay => "delivery.replay",
            Self::AccessDenied => "access.denied",
            Self::RetentionPurge => "retention.purge",
            Self::KnowledgeApply => "knowledge.apply",
            Self::KnowledgeWithdraw => "knowledge.withdraw",
            Self::KnowledgeRead => "knowledge.read",
            Self::SubjectAccess => "subject.access",
            Self::SubjectErase => "subject.erase",
            Self::SubjectEraseRequested => "subject.erase_requested",
            Self::SubjectEraseAck => "subject.erase_ack",
            Self::SubjectEraseOverdue => "subject.erase_overdue",
        }
    }
}

/// One entry to append. `details` holds field names and counts, never personal values.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    /// Who acted (`inhouse:<sub>`, `contractor:<id>/<sub>`, `cli:<user>`, `system`).
    pub actor: &'a str,
    /// What happened.
    pub action: Action,
    /// The contract concerned, if any.
    pub contract_id: Option<&'a str>,
    /// The ticket concerned, if any.
    pub ticket_id: Option<i64>,
    /// Structured details: names and counts only.
    pub details: serde_json::Value,
}

/// A stored entry.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, PartialEq)]
#[diesel(table_name = audit_log)]
pub struct Entry {
    /// Position in the chain, from 1 without gaps.
    pub seq: i64,
    /// When it was appended (UTC).
    #[serde(serialize_with = "serialize_utc")]
    pub at: chrono::NaiveDateTime,
    /// Who acted.
    pub actor: String,
    /// What happened.
    pub action: String,
    /// The contract concerned.
    pub contract_id: Option<String>,
    /// The ticket concerned.
    pub ticket_id: Option<i64>,
    /// Details as canonical JSON text.
    pub details: String,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

fn serialize_utc<S: serde::Serializer>(
    at: &chrono::NaiveDateTime,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&from_db(*at).to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

/// Appends `entry` at time `at` within the caller's transaction (pending until sealed).
pub fn append(conn: &mut AnyConnection, at: DateTime<Utc>, entry: NewEntry<'_>) -> QueryResult<()> {
    append_all(conn, at, vec![entry])
}

/// Appends `entries` in order at time `at` within the caller's transaction, in one statement
/// per thousand; they are chained by the next [`seal`] after they commit.
pub fn append_all(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    entries: Vec<NewEntry<'_>>,
) -> QueryResult<()> {
    let at = to_db(at);
    let rows: Vec<_> = entries
        .into_iter()
        .map(|entry| {
            (
                audit_pending::at.eq(at),
                audit_pending::actor.eq(entry.actor.to_owned()),
                audit_pending::action.eq(entry.action.as_str()),
                audit_pending::contract_id.eq(entry.contract_id.map(str::to_owned)),
                audit_pending::ticket_id.eq(entry.ticket_id),
                audit_pending::details.eq(entry.details.to_string()),
            )
        })
        .collect();
    // Bounded statements: PostgreSQL allows 65,535 parameters per statement.
    // Multi-row INSERT is backend-specific in diesel: run it on the concrete connection.
    for chunk in rows.chunks(1_000) {
        let insert = diesel::insert_into(audit_pending::table).values(chunk);
        match conn {
            AnyConnection::Postgresql(pg) => insert.execute(pg)?,
            AnyConnection::Sqlite(lite) => insert.execute(lite)?,
        };
    }
    Ok(())
}

/// A committed entry waiting to be chained.
#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_pending)]
struct Pending {
    id: i64,
    at: chrono::NaiveDateTime,
    actor: String,
    action: String,
    contract_id: Option<String>,
    ticket_id: Option<i64>,
    details: String,
}

/// Entries chained per statement by [`seal`].
const SEAL_BATCH: i64 = 1_000;

/// Chains every pending entry the caller's transaction can see into the ledger, in the order
/// they were written, and returns how many. Sealers take the head's row lock first, so on
/// PostgreSQL they queue behind each other, and in READ COMMITTED the statements after the
/// lock see every entry committed before it was granted: the chain never forks, and an entry
/// that commits late is chained by the next seal, after the ones sealed before it.
pub fn seal(conn: &mut AnyConnection) -> QueryResult<usize> {
    let waiting: Option<i64> = audit_pending::table
        .select(audit_pending::id)
        .get_result(conn)
        .optional()?;
    if waiting.is_none() {
        return Ok(0);
    }
    let head = ledger_head::table
        .find(1)
        .select((ledger_head::seq, ledger_head::hash));
    let (mut last, mut prev_hash): (i64, String) = match conn {
        AnyConnection::Postgresql(pg) => head.for_update().get_result(pg)?,
        AnyConnection::Sqlite(lite) => head.get_result(lite)?,
    };
    let mut sealed = 0;
    loop {
        let batch: Vec<Pending> = audit_pending::table
            .order(audit_pending::id.asc())
            .limit(SEAL_BATCH)
            .select(Pending::as_select())
            .load(conn)?;
        if batch.is_empty() {
            break;
        }
        let full = batch.len() as i64 == SEAL_BATCH;
        let mut ids = Vec::with_capacity(batch.len());
        let mut rows = Vec::with_capacity(batch.len());
        for p in batch {
            last += 1;
            let hash = chain_hash(
                &prev_hash,
                last,
                p.at,
                &p.actor,
                &p.action,
                p.contract_id.as_deref(),
                p.ticket_id,
                &p.details,
            );
            ids.push(p.id);
            rows.push((
                audit_log::seq.eq(last),
                audit_log::at.eq(p.at),
                audit_log::actor.eq(p.actor),
                audit_log::action.eq(p.action),
                audit_log::contract_id.eq(p.contract_id),
                audit_log::ticket_id.eq(p.ticket_id),
                audit_log::details.eq(p.details),
                audit_log::prev_hash.eq(std::mem::replace(&mut prev_hash, hash.clone())),
                audit_log::hash.eq(hash),
            ));
        }
        let insert = diesel::insert_into(audit_log::table).values(&rows);
        match conn {
            AnyConnection::Postgresql(pg) => insert.execute(pg)?,
            AnyConnection::Sqlite(lite) => insert.execute(lite)?,
        };
        diesel::delete(audit_pending::table.filter(audit_pending::id.eq_any(&ids)))
            .execute(conn)?;
        sealed += ids.len();
        if !full {
            break;
        }
    }
    diesel::update(ledger_head::table.find(1))
        .set((ledger_head::seq.eq(last), ledger_head::hash.eq(&prev_hash)))
        .execute(conn)?;
    Ok(sealed)
}

/// [`seal`] in a transaction of its own: what is read next sees every entry committed so far,
/// and a long read (a report, a verification) never holds the head's lock.
pub fn seal_committed(db: &Db) -> Result<usize, DbError> {
    db.write(|c| seal(c).map_err(DbError::from))
}

/// [`seal_committed`] for async callers.
pub async fn seal_committed_async(db: &Db) -> Result<usize, DbError> {
    db.write_async(|c| seal(c).map_err(DbError::from)).await
}

#[allow(clippy::too_many_arguments)]
fn chain_hash(
    prev_hash: &str,
    seq: i64,
    at: chrono::NaiveDateTime,
    actor: &str,
    action: &str,
    contract_id: Option<&str>,
    ticket_id: Option<i64>,
    details: &str,
) -> String {
    // A JSON array is an unambiguous, length-delimited encoding of the fields. A tuple
    // serialises to the same compact array as `json!([...])`, without building a tree first.
    let at = from_db(at).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let fields = (seq, at, actor, action, contract_id, ticket_id, details);
    let mut canonical = Vec::with_capacity(128 + details.len());
    // Writing plain values into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut canonical, &fields);
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(prev_hash.as_bytes());
    ctx.update(&canonical);
    hex::encode(ctx.finish().as_ref())
}

fn entry_hash(e: &Entry) -> String {
    chain_hash(
        &e.prev_hash,
        e.seq,
        e.at,
        &e.actor,
        &e.action,
        e.contract_id.as_deref(),
        e.ticket_id,
        &e.details,
    )
}

/// The outcome of a chain verification.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Verification {
    /// How many entries were checked.
    pub entries: i64,
    /// The first entry that breaks the chain, if any.
    pub first_broken: Option<Broken>,
}

/// Where and how the chain breaks.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Broken {
    /// The sequence number of the first entry that does not fit (or the one missing).
    pub seq: i64,
    /// What is wrong with it.
    pub problem: String,
}

impl Verification {
    /// True when every entry fits the chain.
    pub fn is_intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

const VERIFY_BATCH: i64 = 10_000;

/// Follows the chain entry by entry from a known link.
struct ChainCheck {
    expected_seq: i64,
    prev_hash: String,
}

impl ChainCheck {
    /// The first problem with `e` as the next entry, if any; otherwise moves past it.
    fn next(&mut self, e: &Entry) -> Option<Broken> {
        let problem = if e.seq != self.expected_seq {
            Some(Broken {
                seq: self.expected_seq,
                problem: format!("entry {} is missing", self.expected_seq),
            })
        } else if e.prev_hash != self.prev_hash {
            Some(Broken {
                seq: e.seq,
                problem: "prev_hash does not match the previous entry's hash".into(),
            })
        } else if entry_hash(e) != e.hash {
            Some(Broken {
                seq: e.seq,
                problem: "content does not match its hash".into(),
            })
        } else {
            None
        };
        if problem.is_none() {
            self.prev_hash.clone_from(&e.hash);
            self.expected_seq += 1;
        }
        problem
    }

    /// Walks entries `expected_seq..=last` in batches, handing each intact one to `visit`;
    /// stops at the first break.
    fn walk(
        &mut self,
        conn: &mut AnyConnection,
        last: Option<i64>,
        mut visit: impl FnMut(&Entry),
    ) -> QueryResult<Option<Broken>> {
        loop {
            let mut query = audit_log::table
                .filter(audit_log::seq.ge(self.expected_seq))
                .order(audit_log::seq.asc())
                .limit(VERIFY_BATCH)
                .select(Entry::as_select())
                .into_boxed();
            if let Some(last) = last {
                query = query.filter(audit_log::seq.le(last));
            }
            let batch: Vec<Entry> = query.load(conn)?;
            let done = (batch.len() as i64) < VERIFY_BATCH;
            for e in &batch {
                if let Some(broken) = self.next(e) {
                    return Ok(Some(broken));
                }
                visit(e);
            }
            if done {
                return Ok(None);
            }
        }
    }
}

/// Recomputes the whole chain in batches and reports the first entry that does not fit:
/// a changed entry, a gap or reordering, a broken link, or a tail cut off behind the head.
pub fn verify(conn: &mut AnyConnection) -> QueryResult<Verification> {
    let mut chain = ChainCheck {
        expected_seq: 1,
        prev_hash: GENESIS_HASH.to_owned(),
    };
    if let Some(first_broken) = chain.walk(conn, None, |_| {})? {
        return Ok(Verification {
            entries: chain.expected_seq - 1,
            first_broken: Some(first_broken),
        });
    }
    let (head_seq, head_hash): (i64, String) = ledger_head::table
        .find(1)
        .select((ledger_head::seq, ledger_head::hash))
        .first(conn)?;
    let entries = chain.expected_seq - 1;
    let first_broken = if head_seq != entries || head_hash != chain.prev_hash {
        Some(Broken {
            seq: entries + 1,
            problem: format!(
                "the chain ends at {entries} but its head records {head_seq}: entries were removed"
            ),
        })
    } else {
        None
    };
    Ok(Verification {
        entries,
        first_broken,
    })
}

/// Visits, in `seq` order, every entry from the first written at or after `from` to the last
/// written before `to`, checking the chain as it goes: each entry against its hash and the
/// one before it, the first against the entry preceding the period. `visit` sees only entries
/// that fit; the verification says how many did and where the chain broke, if it did.
pub fn walk_period(
    conn: &mut AnyConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    visit: impl FnMut(&Entry),
) -> QueryResult<Verification> {
    let first: Option<i64> = audit_log::table
        .filter(audit_log::at.ge(to_db(from)))
        .select(diesel::dsl::min(audit_log::seq))
        .first(conn)?;
    let last: Option<i64> = audit_log::table
        .filter(audit_log::at.lt(to_db(to)))
        .select(diesel::dsl::max(audit_log::seq))
        .first(conn)?;
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(Verification {
            entries: 0,
            first_broken: None,
        });
    };
    if last < first {
        return Ok(Verification {
            entries: 0,
            first_broken: None,
        });
    }
    let prev_hash = if first == 1 {
        Some(GENESIS_HASH.to_owned())
    } else {
        audit_log::table
            .find(first - 1)
            .select(Entry::as_select())
            .first(conn)
            .optional()?
            // The link into the period holds only if the entry before it is itself intact.
            .filter(|e| entry_hash(e) == e.hash)
            .map(|e| e.hash)
    };
    let Some(prev_hash) = prev_hash else {
        return Ok(Verification {
            entries: 0,
            first_broken: Some(Broken {
                seq: first - 1,
                problem: "the entry before the period is missing or altered".into(),
            }),
        });
    };
    let mut chain = ChainCheck {
        expected_seq: first,
        prev_hash,
    };
    let mut first_broken = chain.walk(conn, Some(last), visit)?;
    if first_broken.is_none() && chain.expected_seq <= last {
        first_broken = Some(Broken {
            seq: chain.expected_seq,
            problem: format!("entry {} is missing", chain.expected_seq),
        });
    }
    Ok(Verification {
        entries: chain.expected_seq - first,
        first_broken,
    })
}

/// The latest `limit` entries whose action is one of `actions`, newest first.
pub fn recent(conn: &mut AnyConnection, actions: &[&str], limit: i64) -> QueryResult<Vec<Entry>> {
    audit_log::table
        .filter(audit_log::action.eq_any(actions))
        .order(audit_log::seq.desc())
        .limit(limit)
        .select(Entry::as_select())
        .load(conn)
}

/// The sealed entries about `ticket_ids` whose action is one of `actions`, in `seq` order.
pub fn of_tickets(
    conn: &mut AnyConnection,
    ticket_ids: &[i64],
    actions: &[&str],
) -> QueryResult<Vec<Entry>> {
    let mut out = Vec::new();
    for batch in ticket_ids.chunks(500) {
        out.extend(
            audit_log::table
                .filter(audit_log::ticket_id.eq_any(batch))
                .filter(audit_log::action.eq_any(actions))
                .select(Entry::as_select())
                .load(conn)?,
        );
    }
    out.sort_by_key(|e| e.seq);
    Ok(out)
}

/// Entries in `seq` order, starting after `after`, at most `limit`.
pub fn list(conn: &mut AnyConnection, after: i64, limit: i64) -> QueryResult<Vec<Entry>> {
    audit_log::table
        .filter(audit_log::seq.gt(after))
        .order(audit_log::seq.asc())
        .limit(limit)
        .select(Entry::as_select())
        .load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The canonical form must never change, or every stored chain would stop verifying: the
    /// tuple encoding is checked against the JSON array it replaced, on awkward text.
    #[test]
    fn the_canonical_form_is_the_json_array_of_the_fields() {
        let at = chrono::DateTime::from_timestamp(1_780_000_000, 123_456_000)
            .unwrap_or_default()
            .naive_utc();
        for (contract, ticket, details) in [
            (
                Some("acme-en"),
                Some(42),
                r#"{"reason":"кавычки \" и \\ слэш"}"#,
            ),
            (None, None, "{}"),
        ] {
            let expected = {
                let canonical = serde_json::json!([
                    7,
                    from_db(at).to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                    "contractor:acme/агент",
                    "share.read",
                    contract,
                    ticket,
                    details
                ])
                .to_string();
                let mut ctx = digest::Context::new(&digest::SHA256);
                ctx.update(b"prev");
                ctx.update(canonical.as_bytes());
                hex::encode(ctx.finish().as_ref())
            };
            let actual = chain_hash(
                "prev",
                7,
                at,
                "contractor:acme/агент",
                "share.read",
                contract,
                ticket,
                details,
            );
            assert_eq!(actual, expected);
        }
    }
}
