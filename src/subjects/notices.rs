//! Erasure notices: what each contractor must delete of a data subject, by when, and whether
//! it said it did.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::SubjectError;
use crate::clock::{from_db, to_db};
use crate::db::AnyConnection;
use crate::db::schema::{erasure_notices, erasures};

/// A stored notice.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = erasure_notices)]
struct NoticeRow {
    id: i64,
    erasure_id: i64,
    contract_id: String,
    contractor: String,
    tickets: String,
    tokens: String,
    sent_at: NaiveDateTime,
    due_at: NaiveDateTime,
    acknowledged_at: Option<NaiveDateTime>,
    acknowledged_by: Option<String>,
    escalated_at: Option<NaiveDateTime>,
}

/// An erasure notice as the API, the reports and the contractor see it.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct NoticeView {
    /// The notice id (what the contractor acknowledges).
    pub id: i64,
    /// The erasure it belongs to.
    pub erasure: i64,
    /// The contract.
    pub contract: String,
    /// The contractor.
    pub contractor: String,
    /// Gateway ids of the tickets the contractor got with the person's data.
    pub tickets: Vec<i64>,
    /// The person's tokens the contractor was given; the vault no longer knows their values.
    pub tokens: Vec<String>,
    /// When the contractor was told.
    pub sent_at: DateTime<Utc>,
    /// When its acknowledgement is due (`erasure_ack_days` of the contract's register).
    pub due_at: DateTime<Utc>,
    /// When it acknowledged, if it did.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who acknowledged.
    pub acknowledged_by: Option<String>,
    /// When the missing acknowledgement was escalated in-house.
    pub escalated_at: Option<DateTime<Utc>>,
    /// `acknowledged`, `overdue` (escalated, still unacknowledged) or `waiting`.
    #[schema(pattern = "^(acknowledged|overdue|waiting)$")]
    pub state: &'static str,
}

impl NoticeRow {
    fn view(self) -> Result<NoticeView, SubjectError> {
        let corrupt = |what: &str| SubjectError::Corrupt(format!("erasure notice {what}"));
        let state = match (self.acknowledged_at, self.escalated_at) {
            (Some(_), _) => "acknowledged",
            (None, Some(_)) => "overdue",
            (None, None) => "waiting",
        };
        Ok(NoticeView {
            id: self.id,
            erasure: self.erasure_id,
            contract: self.contract_id,
            contractor: self.contractor,
            tickets: serde_json::from_str(&self.tickets).map_err(|_| corrupt("tickets"))?,
            tokens: serde_json::from_str(&self.tokens).map_err(|_| corrupt("tokens"))?,
            sent_at: from_db(self.sent_at),
            due_at: from_db(self.due_at),
            acknowledged_at: self.acknowledged_at.map(from_db),
            acknowledged_by: self.acknowledged_by,
            escalated_at: self.escalated_at.map(from_db),
            state,
        })
    }
}

/// What an erasure found and did, stored without the values asked for.
pub struct NewErasure<'a> {
    /// Who asked.
    pub requested_by: &'a str,
    /// Why (with the person's identifiers struck out).
    pub reason: &'a str,
    /// The kinds of selector given.
    pub selectors: &'a [&'static str],
    /// The tickets concerned.
    pub tickets: &'a [i64],
    /// Token values destroyed.
    pub tokens_erased: usize,
    /// In-house fields and texts rewritten.
    pub fields_struck: usize,
}

/// Stores an erasure; returns its id.
pub fn create_erasure(
    conn: &mut AnyConnection,
    erasure: &NewErasure<'_>,
    now: DateTime<Utc>,
) -> Result<i64, SubjectError> {
    let values = (
        erasures::requested_at.eq(to_db(now)),
        erasures::requested_by.eq(erasure.requested_by),
        erasures::reason.eq(erasure.reason),
        erasures::selectors.eq(json_text(erasure.selectors)),
        erasures::tickets.eq(json_text(erasure.tickets)),
        erasures::tokens_erased.eq(erasure.tokens_erased as i64),
        erasures::fields_struck.eq(erasure.fields_struck as i64),
    );
    let insert = diesel::insert_into(erasures::table)
        .values(values)
        .returning(erasures::id);
    Ok(match conn {
        AnyConnection::Postgresql(pg) => insert.get_result(pg)?,
        AnyConnection::Sqlite(lite) => insert.get_result(lite)?,
    })
}

/// A list as JSON text (lists of ids and tokens always serialise).
fn json_text<T: Serialize>(list: &[T]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

/// One notice to send.
pub struct NewNotice<'a> {
    /// The erasure.
    pub erasure_id: i64,
    /// The contract.
    pub contract_id: &'a str,
    /// Its contractor.
    pub contractor: &'a str,
    /// The tickets it got with the person's data.
    pub tickets: &'a [i64],
    /// The person's tokens it was given.
    pub tokens: &'a [String],
    /// When its acknowledgement is due.
    pub due_at: DateTime<Utc>,
}

/// Stores a notice; returns it.
pub fn create_notice(
    conn: &mut AnyConnection,
    notice: &NewNotice<'_>,
    now: DateTime<Utc>,
) -> Result<NoticeView, SubjectError> {
    let values = (
        erasure_notices::erasure_id.eq(notice.erasure_id),
        erasure_notices::contract_id.eq(notice.contract_id),
        erasure_notices::contractor.eq(notice.contractor),
        erasure_notices::tickets.eq(json_text(notice.tickets)),
        erasure_notices::tokens.eq(json_text(notice.tokens)),
        erasure_notices::sent_at.eq(to_db(now)),
        erasure_notices::due_at.eq(to_db(notice.due_at)),
    );
    let insert = diesel::insert_into(erasure_notices::table)
        .values(values)
        .returning(erasure_notices::id);
    let id: i64 = match conn {
        AnyConnection::Postgresql(pg) => insert.get_result(pg)?,
        AnyConnection::Sqlite(lite) => insert.get_result(lite)?,
    };
    erasure_notices::table
        .find(id)
        .select(NoticeRow::as_select())
        .get_result(conn)?
        .view()
}

/// `contractor`'s notice `id`, acknowledged by `who` now unless it was already (then as it
/// stands); the flag says whether this call acknowledged it.
pub fn acknowledge(
    conn: &mut AnyConnection,
    contractor: &str,
    id: i64,
    who: &str,
    now: DateTime<Utc>,
) -> Result<(NoticeView, bool), SubjectError> {
    let mine = |conn: &mut AnyConnection| {
        erasure_notices::table
            .find(id)
            .filter(erasure_notices::contractor.eq(contractor))
            .select(NoticeRow::as_select())
            .get_result(conn)
            .optional()
    };
    let row = mine(conn)?.ok_or(SubjectError::NotFound)?;
    if row.acknowledged_at.is_some() {
        return Ok((row.view()?, false));
    }
    diesel::update(erasure_notices::table.find(id))
        .set((
            erasure_notices::acknowledged_at.eq(Some(to_db(now))),
            erasure_notices::acknowledged_by.eq(Some(who)),
        ))
        .execute(conn)?;
    let row = mine(conn)?.ok_or(SubjectError::NotFound)?;
    Ok((row.view()?, true))
}

/// Notices newest first: of one contractor or of all; only those still unacknowledged when
/// `open`.
pub fn list(
    conn: &mut AnyConnection,
    contractor: Option<&str>,
    open: bool,
    limit: i64,
) -> Result<Vec<NoticeView>, SubjectError> {
    let mut query = erasure_notices::table.into_boxed();
    if let Some(contractor) = contractor {
        query = query.filter(erasure_notices::contractor.eq(contractor));
    }
    if open {
        query = query.filter(erasure_notices::acknowledged_at.is_null());
    }
    query
        .order(erasure_notices::id.desc())
        .limit(limit)
        .select(NoticeRow::as_select())
        .load(conn)?
        .into_iter()
        .map(NoticeRow::view)
        .collect()
}

/// Marks every notice past its due time and still unacknowledged as escalated; returns them.
pub fn escalate_overdue(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
) -> Result<Vec<NoticeView>, SubjectError> {
    let due: Vec<NoticeRow> = erasure_notices::table
        .filter(erasure_notices::due_at.le(to_db(now)))
        .filter(erasure_notices::acknowledged_at.is_null())
        .filter(erasure_notices::escalated_at.is_null())
        .order(erasure_notices::id)
        .select(NoticeRow::as_select())
        .load(conn)?;
    let mut out = Vec::with_capacity(due.len());
    for mut row in due {
        diesel::update(erasure_notices::table.find(row.id))
            .set(erasure_notices::escalated_at.eq(Some(to_db(now))))
            .execute(conn)?;
        row.escalated_at = Some(to_db(now));
        out.push(row.view()?);
    }
    Ok(out)
}

/// The notices a report on `contract_ids` over `[from, to)` lists: those sent before its end
/// and not acknowledged before its start.
pub fn notices_for_report(
    conn: &mut AnyConnection,
    contract_ids: &[String],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<NoticeView>, SubjectError> {
    erasure_notices::table
        .filter(erasure_notices::contract_id.eq_any(contract_ids))
        .filter(erasure_notices::sent_at.lt(to_db(to)))
        .filter(
            erasure_notices::acknowledged_at
                .is_null()
                .or(erasure_notices::acknowledged_at.ge(to_db(from))),
        )
        .order(erasure_notices::id)
        .select(NoticeRow::as_select())
        .load(conn)?
        .into_iter()
        .map(NoticeRow::view)
        .collect()
}
