//! Storage: one connection type over SQLite and PostgreSQL, pools, migrations.
//!
//! The backend is picked from the URL scheme at run time. SQLite takes one writer at a time,
//! so writes go through a single-connection pool while reads use a wider one; on PostgreSQL
//! both pools share the same settings and concurrency is handled by row locks.
//!
//! Look-ups of one row on the request path use `get_result`, not diesel's `first`: `first`
//! adds `LIMIT ?`, and SQLite (3.51, as bundled) marks a statement whose `LIMIT` is a bound
//! value to be compiled again whenever that value is bound again — every run, although diesel
//! keeps the statement prepared. Under full-share load that was 7–9 % of the gateway's CPU.

pub mod idempotency;
pub mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// A connection to whichever backend the configured URL names.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL, for several replicas sharing one database.
    Postgresql(PgConnection),
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Pragmas applied to every SQLite connection; `busy_timeout` must come first so that the
/// others wait for a lock instead of failing on a fresh database.
/// `wal_autocheckpoint`: the writer checkpoints only as a safety net (about 40 MB of WAL at
/// 4 KB pages); the background checkpointer ([`Db::checkpoint`]) keeps the WAL short without
/// making a request wait for the fsyncs.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 10000;";

/// How long a caller waits for a pooled connection unless configured otherwise.
pub const DEFAULT_POOL_WAIT: Duration = Duration::from_secs(2);

/// What a WAL checkpoint did, in pages (`PRAGMA wal_checkpoint`'s answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::QueryableByName)]
pub struct Checkpoint {
    /// 1 when a writer or reader kept it from finishing.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub busy: i32,
    /// Pages in the WAL.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub log: i32,
    /// Pages copied back into the database.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub checkpointed: i32,
}

/// What can go wrong with storage.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL names no supported backend or is unusable.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// No connection could be taken from the pool.
    #[error("database unavailable: {0}")]
    Pool(#[from] r2d2::PoolError),
    /// A statement failed.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The blocking task running the query was cancelled or panicked.
    #[error("database task failed: {0}")]
    Task(String),
}

impl DbError {
    /// True when the database cannot be reached: no connection to be had, or the connection
    /// was lost under the statement (a server restarted, a network gone). The request may
    /// succeed later, so callers are told "unavailable", not "internal error".
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        matches!(
            self,
            Self::Pool(_)
                | Self::Query(
                    Error::DatabaseError(
                        DatabaseErrorKind::ClosedConnection
                            | DatabaseErrorKind::UnableToSendCommand,
                        _,
                    ) | Error::BrokenTransactionManager
                )
        )
    }
}

/// Which backend a URL selects, with what the driver needs to open it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL, passed to libpq as it is.
    Postgres(String),
}

impl Target {
    /// Parses `sqlite://relative/path.db`, `sqlite:///absolute/path.db` or
    /// `postgres://…` / `postgresql://…`.
    pub fn parse(url: &str) -> Result<Self, DbError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() || path.contains(":memory:") {
                return Err(DbError::InvalidUrl(
                    "sqlite needs a file path (an in-memory database cannot be pooled)".into(),
                ));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            if !cfg!(feature = "postgres-tls") && asks_for_tls(url) {
                return Err(DbError::InvalidUrl(
                    "the URL asks for TLS (sslmode=require, verify-ca or verify-full) and this \
                     build has no TLS for PostgreSQL: build with `--features postgres-tls`"
                        .into(),
                ));
            }
            return Ok(Self::Postgres(url.to_owned()));
        }
        Err(DbError::InvalidUrl(
            "expected a URL starting with sqlite:// or postgres://".into(),
        ))
    }

    /// True for SQLite.
    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }
}

/// Whether a PostgreSQL URL's `sslmode` insists on TLS (`prefer` and `allow` fall back to a
/// plain connection, as libpq built without TLS does).
fn asks_for_tls(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| {
        u.query_pairs().any(|(key, value)| {
            key == "sslmode" && matches!(&*value, "require" | "verify-ca" | "verify-full")
        })
    })
}

/// Opens connections for r2d2, choosing the backend explicitly so that libpq's error is kept
/// and a PostgreSQL conninfo can never turn into a stray SQLite file.
#[derive(Clone, Debug)]
pub struct Manager {
    target: Target,
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        match &self.target {
            Target::Sqlite(path) => {
                let path = path.to_str().ok_or_else(|| {
                    r2d2::Error::ConnectionError(diesel::ConnectionError::InvalidConnectionUrl(
                        "the SQLite path is not valid UTF-8".into(),
                    ))
                })?;
                let mut conn =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(AnyConnection::Sqlite(conn))
            }
            Target::Postgres(url) => PgConnection::establish(url)
                .map(AnyConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
        }
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        match conn {
            AnyConnection::Sqlite(c) => r2d2::R2D2Connection::is_broken(c),
            AnyConnection::Postgresql(c) => r2d2::R2D2Connection::is_broken(c),
        }
    }
}

/// A pooled connection.
pub type PooledConn = PooledConnection<Manager>;

/// The gateway's database: a writer pool and a reader pool over the same backend.
#[derive(Clone)]
pub struct Db {
    target: Target,
    writer: Pool<Manager>,
    reader: Pool<Manager>,
    /// On PostgreSQL, connections kept for background jobs; on SQLite, the one writer.
    jobs: Pool<Manager>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: show only the backend.
        let backend = if self.target.is_sqlite() {
            "sqlite"
        } else {
            "postgres"
        };
        f.debug_struct("Db").field("backend", &backend).finish()
    }
}

impl Db {
    /// Connects to the database the URL names, creating the SQLite file's folder if needed;
    /// a caller waits at most [`DEFAULT_POOL_WAIT`] for a connection.
    pub fn connect(url: &str) -> Result<Self, DbError> {
        Self::connect_waiting(url, DEFAULT_POOL_WAIT)
    }

    /// As [`Db::connect`], with callers waiting at most `pool_wait` for a connection before
    /// they are told the database is unavailable. Short, so that during an outage each
    /// request fails fast instead of holding its client.
    pub fn connect_waiting(url: &str, pool_wait: Duration) -> Result<Self, DbError> {
        let target = Target::parse(url)?;
        if let Target::Sqlite(path) = &target {
            ensure_parent_dir(path)?;
        }
        let manager = Manager {
            target: target.clone(),
        };
        let (writers, readers) = if target.is_sqlite() { (1, 8) } else { (8, 8) };
        let build = |size: u32| {
            Pool::builder()
                .max_size(size)
                .min_idle(Some(1))
                // A `SELECT 1` before every transaction is a round trip per request; a broken
                // connection is noticed when it fails and is dropped on return instead.
                .test_on_check_out(false)
                .connection_timeout(pool_wait)
                .build(manager.clone())
        };
        let writer = build(writers)?;
        let (reader, jobs) = if target.is_sqlite() {
            (build(readers)?, writer.clone())
        } else {
            (writer.clone(), build(2)?)
        };
        Ok(Self {
            target,
            writer,
            reader,
            jobs,
        })
    }

    /// On SQLite, copies what the WAL holds back into the database as far as no reader
    /// prevents it (`wal_checkpoint(PASSIVE)`: it never waits, and the writer goes on
    /// meanwhile), on a reader connection; `None` on PostgreSQL, which checkpoints itself.
    pub fn checkpoint(&self) -> Result<Option<Checkpoint>, DbError> {
        if !self.target.is_sqlite() {
            return Ok(None);
        }
        let mut conn = self.reader.get()?;
        let done = diesel::RunQueryDsl::get_result(
            diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)"),
            &mut *conn,
        )?;
        Ok(Some(done))
    }

    /// The same database for a background job: on PostgreSQL its transactions use connections
    /// of their own, so a backlog of requests waiting for the pool never holds up delivery or
    /// the SLA sweep (SQLite has one writer, shared by all).
    pub fn for_jobs(&self) -> Self {
        let mut db = self.clone();
        if !self.target.is_sqlite() {
            db.writer = self.jobs.clone();
            db.reader = self.jobs.clone();
        }
        db
    }

    /// True when the backend is SQLite.
    pub fn is_sqlite(&self) -> bool {
        self.target.is_sqlite()
    }

    /// Applies the embedded migrations that have not run yet; returns their names.
    pub fn migrate(&self) -> Result<Vec<String>, DbError> {
        let mut conn = self.writer.get()?;
        let applied = match &mut *conn {
            AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
            AnyConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
        }
        .map_err(|e| DbError::Migration(e.to_string()))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    }

    /// Runs `work` in one write transaction: everything it writes commits together or not at all.
    pub fn write<T, E>(&self, work: impl FnOnce(&mut AnyConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<DbError>,
    {
        in_transaction(&self.writer, Access::Write, work)
    }

    /// Runs `work` on a reader connection inside a transaction, so that it sees one snapshot.
    pub fn read<T, E>(&self, work: impl FnOnce(&mut AnyConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<DbError>,
    {
        in_transaction(&self.reader, Access::Read, work)
    }

    /// [`Db::write`] on a blocking thread, for async callers.
    pub async fn write_async<T, E>(
        &self,
        work: impl FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<diesel::result::Error> + From<DbError> + Send + 'static,
    {
        let pool = self.writer.clone();
        off_the_executor(move || in_transaction(&pool, Access::Write, work)).await
    }

    /// Runs `job`, which uses this database through [`Db::read`] and [`Db::write`] (several
    /// transactions, with work between them), on a blocking thread, for async callers.
    pub async fn run_blocking<T, E>(
        &self,
        job: impl FnOnce(&Db) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let db = self.clone();
        off_the_executor(move || job(&db)).await
    }

    /// Runs `work` (one read) waiting at most two seconds for a connection, so a readiness
    /// probe gets its answer before it gives up.
    pub async fn probe<T>(
        &self,
        work: impl FnOnce(&mut AnyConnection) -> diesel::QueryResult<T> + Send + 'static,
    ) -> Result<T, DbError>
    where
        T: Send + 'static,
    {
        let pool = self.reader.clone();
        off_the_executor(move || {
            let mut conn = pool.get_timeout(Duration::from_secs(2))?;
            Ok(work(&mut conn)?)
        })
        .await
    }

    /// [`Db::read`] on a blocking thread, for async callers.
    pub async fn read_async<T, E>(
        &self,
        work: impl FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<diesel::result::Error> + From<DbError> + Send + 'static,
    {
        let pool = self.reader.clone();
        off_the_executor(move || in_transaction(&pool, Access::Read, work)).await
    }

    /// Runs one statement on a reader connection outside any transaction, on a blocking
    /// thread: a single statement sees one snapshot anyway, and it costs one round trip
    /// instead of three (a per-request check such as token revocation).
    pub async fn read_statement_async<T, E>(
        &self,
        work: impl FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.reader.clone();
        off_the_executor(move || {
            let mut conn = pool.get().map_err(DbError::from)?;
            work(&mut conn)
        })
        .await
    }

    /// Runs `work` in a write transaction that is always rolled back, and returns what it
    /// produced: the real code path, with nothing left behind (previews, dry runs).
    pub fn dry_run<T, E>(
        &self,
        work: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<DbError>,
    {
        let mut produced = None;
        let outcome: Result<(), E> = in_transaction(&self.writer, Access::Write, |c| {
            produced = Some(work(c)?);
            Err(diesel::result::Error::RollbackTransaction.into())
        });
        match (produced, outcome) {
            (Some(value), _) => Ok(value),
            (None, Err(e)) => Err(e),
            (None, Ok(())) => Err(DbError::Task("dry run produced nothing".into()).into()),
        }
    }

    /// [`Db::dry_run`] on a blocking thread, for async callers.
    pub async fn dry_run_async<T, E>(
        &self,
        work: impl FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<diesel::result::Error> + From<DbError> + Send + 'static,
    {
        let db = self.clone();
        off_the_executor(move || db.dry_run(work)).await
    }
}

/// What a transaction does: only reads, or writes too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

fn in_transaction<T, E>(
    pool: &Pool<Manager>,
    access: Access,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error> + From<DbError>,
{
    let mut conn = pool.get().map_err(DbError::from)?;
    // On SQLite a write transaction takes the write lock when it begins (`BEGIN IMMEDIATE`),
    // waiting for it under `busy_timeout`. Begun deferred, a transaction that reads before it
    // writes holds a snapshot that another process's commit (a second gateway, a CLI command,
    // the jobs of a gateway restarting on the same file) makes stale: SQLite then refuses the
    // write at once with "database is locked", without waiting. A read-only transaction
    // begins deferred: it takes no lock, and readers never wait for the writer in WAL mode
    // (begun immediate, a long read such as a report's held the write lock and made writes
    // time out — found by fuzzing).
    match &mut *conn {
        AnyConnection::Sqlite(sqlite) if access == Access::Write => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
        }
        _ => return (*conn).transaction(work),
    }
    type Transactions = <AnyConnection as Connection>::TransactionManager;
    match work(&mut conn) {
        Ok(value) => {
            Transactions::commit_transaction(&mut *conn)?;
            Ok(value)
        }
        // As diesel's own `transaction`: a rollback that fails because the connection is
        // already broken keeps the original error (the pool drops such a connection).
        Err(error) => match Transactions::rollback_transaction(&mut *conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// Diesel blocks: run database work on tokio's blocking pool, never on an executor thread.
async fn off_the_executor<T, E>(job: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| E::from(DbError::Task(e.to_string())))?
}

fn ensure_parent_dir(path: &Path) -> Result<(), DbError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| DbError::InvalidUrl(format!("cannot create {}: {e}", dir.display()))),
        _ => Ok(()),
    }
}

/// Whether [`lock_tickets`] waits for a ticket another transaction holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockWait {
    /// Wait for it.
    Block,
    /// Leave it out (a background job takes it next round).
    SkipLocked,
}

/// Locks the ticket rows `ids` until the caller's transaction ends and returns the ids locked,
/// in id order. Every workflow that writes events for a ticket holds its ticket row first, so
/// writes to one ticket run one after the other and its events' `seq` grows in commit order:
/// what delivery in order relies on. On SQLite the single writer is the lock.
pub fn lock_tickets(
    conn: &mut AnyConnection,
    ids: &[i64],
    wait: LockWait,
) -> diesel::QueryResult<Vec<i64>> {
    use diesel::prelude::*;
    use schema::tickets;
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    match conn {
        AnyConnection::Postgresql(pg) if !ids.is_empty() => {
            let query = tickets::table
                .filter(tickets::id.eq_any(&ids))
                .order(tickets::id)
                .select(tickets::id)
                // Not FOR UPDATE: that would also wait for (or skip) every insert elsewhere
                // whose foreign key names the ticket (PostgreSQL's KEY SHARE locks).
                .for_no_key_update();
            match wait {
                LockWait::Block => query.load(pg),
                LockWait::SkipLocked => query.skip_locked().load(pg),
            }
        }
        _ => Ok(ids),
    }
}

/// True when `err` is a unique-constraint violation (a concurrent insert won a race).
pub fn is_unique_violation(err: &diesel::result::Error) -> bool {
    matches!(
        err,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_leave_the_checkpoint_to_the_background_checkpointer() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = Db::connect(&format!("sqlite://{}/wal.db", dir.path().display()))
            .unwrap_or_else(|e| panic!("{e}"));
        db.write(|c| {
            c.batch_execute("CREATE TABLE t (body TEXT)")
                .map_err(DbError::from)
        })
        .unwrap_or_else(|e| panic!("{e}"));
        // About 1,500 pages: past SQLite's default threshold of 1,000, under ours.
        for _ in 0..300 {
            db.write(|c| {
                c.batch_execute("INSERT INTO t VALUES (hex(randomblob(9000)))")
                    .map_err(DbError::from)
            })
            .unwrap_or_else(|e| panic!("{e}"));
        }
        let done = db.checkpoint().unwrap_or_else(|e| panic!("{e}"));
        let Some(done) = done else {
            panic!("SQLite checkpoints")
        };
        assert!(done.log > 1_000, "the commits did not checkpoint: {done:?}");
        assert_eq!((done.busy, done.checkpointed), (0, done.log), "{done:?}");
        // Nothing written since: the next one has nothing left to copy.
        let again = db.checkpoint().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.map(|c| c.checkpointed), Some(done.log));
    }

    #[test]
    fn a_long_read_does_not_hold_the_write_lock() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = Db::connect(&format!("sqlite://{}/read.db", dir.path().display()))
            .unwrap_or_else(|e| panic!("{e}"));
        db.write(|c| {
            c.batch_execute("CREATE TABLE t (n INTEGER)")
                .map_err(DbError::from)
        })
        .unwrap_or_else(|e| panic!("{e}"));
        // While a read transaction is open (a report rendering), a write commits at once;
        // were the read begun `IMMEDIATE`, the write would wait out the busy timeout and fail.
        let written = db.read(|c| {
            c.batch_execute("SELECT count(*) FROM t")
                .map_err(DbError::from)?;
            db.write(|w| {
                w.batch_execute("INSERT INTO t VALUES (1)")
                    .map_err(DbError::from)
            })
        });
        assert!(written.is_ok(), "{written:?}");
    }

    #[test]
    fn a_write_that_reads_first_waits_for_another_gateway_instead_of_failing() {
        use std::sync::mpsc;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let url = format!("sqlite://{}/shared.db", dir.path().display());
        let connect = || Db::connect(&url).unwrap_or_else(|e| panic!("{e}"));
        let (ours, theirs) = (connect(), connect());
        ours.write(|c| {
            c.batch_execute("CREATE TABLE t (n INTEGER)")
                .map_err(DbError::from)
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let (have_read, wait_for_read) = mpsc::channel();
        let (committed, wait_for_commit) = mpsc::channel();
        let other = std::thread::spawn(move || {
            let _ = wait_for_read.recv();
            let written = theirs.write(|c| {
                c.batch_execute("INSERT INTO t VALUES (2)")
                    .map_err(DbError::from)
            });
            let _ = committed.send(());
            written
        });
        let ours_written = ours.write(|c| {
            c.batch_execute("SELECT count(*) FROM t")?;
            let _ = have_read.send(());
            // The other gateway writes now if it can; begun `IMMEDIATE`, it waits for us.
            let _ = wait_for_commit.recv_timeout(Duration::from_millis(300));
            c.batch_execute("INSERT INTO t VALUES (1)")
                .map_err(DbError::from)
        });
        assert!(ours_written.is_ok(), "{ours_written:?}");
        let theirs_written = other.join().unwrap_or_else(|_| panic!("writer panicked"));
        assert!(theirs_written.is_ok(), "{theirs_written:?}");
        let rows: i64 = ours
            .read(|c| {
                use diesel::RunQueryDsl;
                #[derive(diesel::QueryableByName)]
                struct Count {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    n: i64,
                }
                diesel::sql_query("SELECT count(*) AS n FROM t")
                    .get_result::<Count>(c)
                    .map(|r| r.n)
                    .map_err(DbError::from)
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rows, 2);
    }

    #[test]
    fn urls_pick_the_backend() {
        assert_eq!(
            Target::parse("sqlite://data/bridge.db").ok(),
            Some(Target::Sqlite(PathBuf::from("data/bridge.db")))
        );
        assert_eq!(
            Target::parse("sqlite:///var/lib/bridge.db").ok(),
            Some(Target::Sqlite(PathBuf::from("/var/lib/bridge.db")))
        );
        assert!(matches!(
            Target::parse("postgresql://u@h/db"),
            Ok(Target::Postgres(_))
        ));
        for bad in [
            "sqlite://",
            "sqlite://:memory:",
            "host=x user=y",
            "mysql://x",
            "",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn a_url_insisting_on_tls_is_refused_by_a_build_without_it() {
        for plain in ["postgres://u@h/db", "postgres://u@h/db?sslmode=prefer"] {
            assert!(Target::parse(plain).is_ok(), "{plain}");
        }
        for tls in [
            "postgres://u@h/db?sslmode=require",
            "postgresql://u@h:5432/db?application_name=x&sslmode=verify-full",
        ] {
            let parsed = Target::parse(tls);
            if cfg!(feature = "postgres-tls") {
                assert!(parsed.is_ok(), "{tls}");
            } else {
                let message = parsed.err().map(|e| e.to_string()).unwrap_or_default();
                assert!(
                    message.contains("--features postgres-tls"),
                    "{tls}: {message}"
                );
            }
        }
    }
}
