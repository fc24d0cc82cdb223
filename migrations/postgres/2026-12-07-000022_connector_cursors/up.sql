-- Where each helpdesk connection has read up to (Request Tracker: the id of the last
-- transaction taken in), moved in the same transaction as the tickets it ingests, so that a
-- change is taken exactly once across restarts and replicas; with the connection's health.
CREATE TABLE connector_cursors (
    connector        TEXT PRIMARY KEY NOT NULL,
    position         BIGINT NOT NULL,
    last_change_at   TIMESTAMP,
    last_success_at  TIMESTAMP,
    last_failure_at  TIMESTAMP,
    last_error       TEXT,
    failures         BIGINT NOT NULL DEFAULT 0
);
