//! Operators' work on deliveries: putting a dead letter back in line.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::ServiceError;
use crate::db::AnyConnection;
use crate::ledger::{self, Action, NewEntry};

/// Puts the dead event `event_id` back in line and audits it as `delivery.replay`.
pub fn replay(
    conn: &mut AnyConnection,
    event_id: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    if !crate::outbox::replay(conn, event_id, now)? {
        return Err(ServiceError::NotFound);
    }
    ledger::append(
        conn,
        now,
        NewEntry {
            actor,
            action: Action::DeliveryReplay,
            contract_id: None,
            ticket_id: None,
            details: json!({ "event_id": event_id }),
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Db, DbError};

    #[test]
    fn replaying_what_is_not_dead_is_not_found_and_not_audited() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = Db::connect(&format!("sqlite://{}/replay.db", dir.path().display()))
            .unwrap_or_else(|e| panic!("{e}"));
        db.migrate().unwrap_or_else(|e| panic!("{e}"));
        let now = chrono::DateTime::UNIX_EPOCH;
        let replayed = db.write(|c| replay(c, "evt_missing", "admin:test", now));
        assert!(
            matches!(replayed, Err(ServiceError::NotFound)),
            "{replayed:?}"
        );
        let entries = db
            .read(|c| crate::ledger::verify(c).map_err(DbError::from))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(entries.entries, 0);
    }
}
