-- Where each helpdesk connection has read up to (Request Tracker: the id of the last
-- transaction taken in), moved in the same transaction as the tickets it ingests, so that a
-- change is taken exactly once across restarts and replicas; how far it has written the
-- in-house feed back into the helpdesk (a feed position); and the connection's health.
CREATE TABLE connector_cursors (
    connector        TEXT PRIMARY KEY NOT NULL,
    position         BIGINT NOT NULL,
    write_position   BIGINT NOT NULL DEFAULT 0,
    last_change_at   TIMESTAMP,
    last_success_at  TIMESTAMP,
    last_failure_at  TIMESTAMP,
    last_error       TEXT,
    failures         BIGINT NOT NULL DEFAULT 0,
    -- The replica running the connection's round, until when (released when it ends): one
    -- replica talks to the helpdesk at a time.
    lease_owner      TEXT,
    lease_until      TIMESTAMP
);
-- Each in-house event a connection writes into its helpdesk: `sending` is committed before the
-- helpdesk is called and `done` after it answered, so a crash in between leaves `sending`,
-- which the next round settles by looking for the write in the helpdesk instead of writing
-- again (at most once).
CREATE TABLE connector_writes (
    connector     TEXT NOT NULL,
    event_id      TEXT NOT NULL,
    state         TEXT NOT NULL,
    attempted_at  TIMESTAMP NOT NULL,
    done_at       TIMESTAMP,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    PRIMARY KEY (connector, event_id)
);
