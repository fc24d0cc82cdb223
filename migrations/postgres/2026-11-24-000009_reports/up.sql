-- Compliance reports, stored as rendered with their sha256: one row per scope (a contract id,
-- or '*' for the whole gateway), period and format. A scheduled period is produced once: the
-- partial unique index turns a second replica's insert into a no-op.
CREATE TABLE reports (
    id           BIGSERIAL PRIMARY KEY,
    scope        TEXT NOT NULL,
    period_from  TIMESTAMP NOT NULL,
    period_to    TIMESTAMP NOT NULL,
    format       TEXT NOT NULL,
    locale       TEXT NOT NULL,
    trigger      TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    content      TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
-- Reports are written once and read whole: skip TOAST compression, which costs more time on
-- a large CSV than it saves space.
ALTER TABLE reports ALTER COLUMN content SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX reports_scheduled_once ON reports (scope, period_from, period_to, format)
    WHERE trigger = 'schedule';
CREATE INDEX reports_by_scope ON reports (scope, period_to);
-- Reports group the ledger by contract and time.
CREATE INDEX audit_log_by_contract_time ON audit_log (contract_id, at);
