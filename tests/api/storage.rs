//! Both migration trees give the same tables and columns, and migrate down and up cleanly.

use std::collections::BTreeMap;

use diesel::prelude::*;
use msp_bridge::db::{AnyConnection, Db, DbError};

use crate::helpers::{Backend, PgDatabase, database};

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
}

fn columns(db: &Db) -> BTreeMap<String, Vec<String>> {
    let rows: Vec<Column> = db
        .read(|c| {
            let sql = match c {
                AnyConnection::Sqlite(_) => {
                    "SELECT m.name AS table_name, p.name AS column_name \
                     FROM sqlite_master m, pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '__diesel%'"
                }
                AnyConnection::Postgresql(_) => {
                    "SELECT table_name::text AS table_name, column_name::text AS column_name \
                     FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name NOT LIKE '__diesel%'"
                }
            };
            diesel::sql_query(sql).load(c).map_err(DbError::from)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in rows {
        out.entry(r.table_name).or_default().push(r.column_name);
    }
    for cols in out.values_mut() {
        cols.sort();
    }
    out
}

fn migrated(backend: Backend, dir: &std::path::Path) -> Option<(Db, Option<PgDatabase>)> {
    let (url, pg) = database(backend, dir)?;
    let db = Db::connect(&url).unwrap_or_else(|e| panic!("{e}"));
    db.migrate().unwrap_or_else(|e| panic!("{e}"));
    Some((db, pg))
}

#[test]
fn both_migration_trees_define_the_same_schema() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (sqlite, _) = migrated(Backend::Sqlite, dir.path()).unwrap_or_else(|| panic!("sqlite"));
    let sqlite_columns = columns(&sqlite);
    assert!(sqlite_columns.contains_key("audit_log") && sqlite_columns.contains_key("shares"));
    let Some((pg, _guard)) = migrated(Backend::Postgres, dir.path()) else {
        eprintln!("BRIDGE_TEST_POSTGRES_URL unset: schema comparison needs PostgreSQL");
        return;
    };
    // The one intended difference: each database's own full-text index of the knowledge base
    // (SQLite's FTS5 table of stems and its shadow tables; PostgreSQL's generated tsvector).
    let mut sqlite_columns = sqlite_columns;
    sqlite_columns.retain(|table, _| !table.starts_with("knowledge_search"));
    let mut pg_columns = columns(&pg);
    if let Some(cols) = pg_columns.get_mut("knowledge_articles") {
        cols.retain(|c| c != "search");
    }
    assert_eq!(sqlite_columns, pg_columns);
}

#[test]
fn migration_directories_have_the_same_names() {
    let names = |backend: &str| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        n.sort();
        n
    };
    assert_eq!(names("sqlite"), names("postgres"));
}

const SQLITE: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/sqlite");
const POSTGRES: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/postgres");

fn down_and_up(backend: Backend) {
    use diesel_migrations::MigrationHarness;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let Some((db, _guard)) = migrated(backend, dir.path()) else {
        return;
    };
    let before = columns(&db);
    db.write(|c| {
        while !c
            .applied_migrations()
            .map_err(|e| DbError::Migration(e.to_string()))?
            .is_empty()
        {
            let reverted = match c {
                AnyConnection::Sqlite(s) => s.revert_last_migration(SQLITE),
                AnyConnection::Postgresql(p) => p.revert_last_migration(POSTGRES),
            };
            reverted.map_err(|e| DbError::Migration(e.to_string()))?;
        }
        Ok::<_, DbError>(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        columns(&db).is_empty(),
        "down migrations remove every table"
    );
    db.migrate().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(columns(&db), before);
}

#[test]
fn sqlite_migrates_down_and_up_again() {
    down_and_up(Backend::Sqlite);
}

#[test]
fn postgres_migrates_down_and_up_again() {
    down_and_up(Backend::Postgres);
}

#[derive(QueryableByName, Debug, PartialEq)]
struct CarriedClock {
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    target_secs: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    outcome: Option<String>,
}

/// Migration 6 moves the due times stored on shares into SLA clock rows, and back on the way
/// down.
fn sla_clock_migration_carries_due_times(backend: Backend) {
    use diesel::connection::SimpleConnection;
    use diesel_migrations::MigrationHarness;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let Some((db, _guard)) = migrated(backend, dir.path()) else {
        return;
    };
    let revert = |c: &mut AnyConnection| {
        let reverted = match c {
            AnyConnection::Sqlite(s) => s.revert_last_migration(SQLITE),
            AnyConnection::Postgresql(p) => p.revert_last_migration(POSTGRES),
        };
        reverted
            .map(|name| name.to_string())
            .map_err(|e| DbError::Migration(e.to_string()))
    };
    // Down to just before migration 6, whatever came after it.
    let back_before_6 = || {
        while db.write(revert).unwrap_or_else(|e| panic!("{e}")) != "20261123000006" {}
    };
    back_before_6();
    db.write(|c| {
        c.batch_execute(
            "INSERT INTO contracts (id, contractor, version, sha256, file_name, body, applied_at) \
             VALUES ('c', 'x', 1, 'h', 'c.toml', '', '2026-06-01 09:00:00'); \
             INSERT INTO tickets (id, source, external_id, subject, description, channel, priority, \
             tags, custom_fields, status, routing, created_at, updated_at) VALUES (1, 's', 'e', 'x', \
             'x', 'email', 'normal', '[]', '{}', 'open', '{}', '2026-06-01 10:00:00', \
             '2026-06-01 10:00:00'); \
             INSERT INTO shares (id, ticket_id, contract_id, contract_version, contractor, state, \
             created_at, updated_at, first_response_due, resolution_due, first_response_at) VALUES \
             (1, 1, 'c', 1, 'x', 'open', '2026-06-01 10:00:00', '2026-06-01 10:00:00', \
             '2026-06-01 11:00:00', '2026-06-02 10:00:00', '2026-06-01 10:30:00');",
        )
        .map_err(DbError::from)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    db.migrate().unwrap_or_else(|e| panic!("{e}"));
    let carried: Vec<CarriedClock> = db
        .read(|c| {
            diesel::sql_query("SELECT kind, target_secs, outcome FROM sla_clocks ORDER BY id")
                .load(c)
                .map_err(DbError::from)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        carried,
        [
            CarriedClock {
                kind: "first_response".into(),
                target_secs: 3_600,
                outcome: Some("met".into()),
            },
            CarriedClock {
                kind: "resolution".into(),
                target_secs: 86_400,
                outcome: None,
            },
        ]
    );
    back_before_6();
    #[derive(QueryableByName)]
    struct Due {
        #[diesel(sql_type = diesel::sql_types::Timestamp)]
        resolution_due: chrono::NaiveDateTime,
    }
    let due: Vec<Due> = db
        .read(|c| {
            diesel::sql_query("SELECT resolution_due FROM shares")
                .load(c)
                .map_err(DbError::from)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        due.first().map(|d| d.resolution_due.to_string()),
        Some("2026-06-02 10:00:00".to_owned())
    );
}

#[test]
fn sqlite_sla_clock_migration_carries_due_times() {
    sla_clock_migration_carries_due_times(Backend::Sqlite);
}

#[test]
fn postgres_sla_clock_migration_carries_due_times() {
    sla_clock_migration_carries_due_times(Backend::Postgres);
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = diesel::sql_types::Text)]
    enable_bitmapscan: String,
}

fn bitmap_scans(c: &mut AnyConnection) -> QueryResult<String> {
    let AnyConnection::Postgresql(pg) = c else {
        return Ok("n/a".into());
    };
    diesel::sql_query("SHOW enable_bitmapscan")
        .get_result::<Setting>(pg)
        .map(|s| s.enable_bitmapscan)
}

/// The claim reads the outbox with plain index scans, for the rest of its transaction only,
/// and finds what is pending past the events settled before it.
fn claims_past_settled_events(backend: Backend) {
    use msp_bridge::model::EventType;
    use msp_bridge::outbox::{self, Audience, NewEvent, Settled};
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let Some((db, _guard)) = migrated(backend, dir.path()) else {
        return;
    };
    let now = crate::helpers::start_time();
    let lease = chrono::Duration::seconds(30);
    let routed = [Audience::Inhouse.destination()];
    let event = |n: i64| NewEvent {
        audience: Audience::Inhouse,
        ticket_id: None,
        event_type: EventType::TicketShared,
        data: serde_json::json!({ "n": n }),
    };
    let claimed = db
        .write(|c| {
            outbox::enqueue(c, now, (0..50).map(event).collect())?;
            let claimed = outbox::claim(c, now, lease, 100, &routed)?;
            let settled: Vec<(i64, Settled)> =
                claimed.iter().map(|e| (e.id, Settled::Delivered)).collect();
            outbox::settle(c, &settled, now)?;
            outbox::enqueue(c, now, vec![event(50)])?;
            Ok::<_, DbError>(claimed.len())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(claimed, 50);
    let (inside, next) = db
        .write(|c| {
            let next = outbox::claim(c, now, lease, 100, &routed)?;
            Ok::<_, DbError>((bitmap_scans(c)?, next))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let after = db
        .write(|c| bitmap_scans(c).map_err(DbError::from))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        next.len(),
        1,
        "only the event enqueued after the settled ones"
    );
    assert!(next[0].payload.contains(r#""n":50"#), "{}", next[0].payload);
    if backend == Backend::Postgres {
        assert_eq!((inside.as_str(), after.as_str()), ("off", "on"));
    }
}

#[test]
fn sqlite_claims_past_settled_events() {
    claims_past_settled_events(Backend::Sqlite);
}

#[test]
fn postgres_claims_past_settled_events() {
    claims_past_settled_events(Backend::Postgres);
}
