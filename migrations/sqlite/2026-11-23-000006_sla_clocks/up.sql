-- SLA clocks: one row per clock of a share (first response, each next response, resolution).
-- Pauses shift `warn_at` and `due_at`; the sweeper stamps `warned_at` and `breached_at` once.
CREATE TABLE sla_clocks (
    id           INTEGER PRIMARY KEY NOT NULL,
    share_id     BIGINT NOT NULL REFERENCES shares (id),
    ticket_id    BIGINT NOT NULL REFERENCES tickets (id),
    contract_id  TEXT NOT NULL REFERENCES contracts (id),
    kind         TEXT NOT NULL,
    target_secs  BIGINT NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    warn_at      TIMESTAMP NOT NULL,
    due_at       TIMESTAMP NOT NULL,
    paused_at    TIMESTAMP,
    warned_at    TIMESTAMP,
    breached_at  TIMESTAMP,
    stopped_at   TIMESTAMP,
    outcome      TEXT,
    elapsed_secs BIGINT
);
-- The sweeper reads running clocks by the next instant something happens to them.
CREATE INDEX sla_clocks_running_warn ON sla_clocks (warn_at) WHERE stopped_at IS NULL AND warned_at IS NULL;
CREATE INDEX sla_clocks_running_due ON sla_clocks (due_at) WHERE stopped_at IS NULL AND breached_at IS NULL;
CREATE INDEX sla_clocks_share ON sla_clocks (share_id);
CREATE INDEX sla_clocks_contract ON sla_clocks (contract_id, started_at);

-- Clocks of shares made before this migration, from the due times stored on the share.
INSERT INTO sla_clocks (share_id, ticket_id, contract_id, kind, target_secs, started_at, warn_at, due_at, stopped_at, outcome)
SELECT id, ticket_id, contract_id, 'first_response',
       CAST(ROUND((julianday(first_response_due) - julianday(created_at)) * 86400) AS BIGINT),
       created_at, first_response_due, first_response_due, first_response_at,
       CASE WHEN first_response_at IS NULL THEN NULL
            WHEN first_response_at <= first_response_due THEN 'met' ELSE 'breached' END
FROM shares WHERE first_response_due IS NOT NULL;
INSERT INTO sla_clocks (share_id, ticket_id, contract_id, kind, target_secs, started_at, warn_at, due_at)
SELECT id, ticket_id, contract_id, 'resolution',
       CAST(ROUND((julianday(resolution_due) - julianday(created_at)) * 86400) AS BIGINT),
       created_at, resolution_due, resolution_due
FROM shares WHERE resolution_due IS NOT NULL;

ALTER TABLE shares DROP COLUMN first_response_due;
ALTER TABLE shares DROP COLUMN resolution_due;

-- An SLA breach may flag the ticket to the in-house side.
ALTER TABLE tickets ADD COLUMN escalated_at TIMESTAMP;
ALTER TABLE tickets ADD COLUMN escalation TEXT;

-- Satisfaction ratings the in-house side reports, one per share (a new rating replaces it).
CREATE TABLE satisfaction (
    share_id    BIGINT PRIMARY KEY NOT NULL REFERENCES shares (id),
    ticket_id   BIGINT NOT NULL REFERENCES tickets (id),
    contract_id TEXT NOT NULL REFERENCES contracts (id),
    score       INTEGER NOT NULL,
    rated_at    TIMESTAMP NOT NULL
);
CREATE INDEX satisfaction_contract ON satisfaction (contract_id, rated_at);

-- Since when a contract's rolling attainment has been below its floor (NULL: not below).
ALTER TABLE contracts ADD COLUMN attainment_alert_since TIMESTAMP;
