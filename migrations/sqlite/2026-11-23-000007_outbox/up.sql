-- The outbox: events written in the same transaction as the change they report, delivered
-- later. One row per event and destination: the in-house side, or one contract's contractor.
CREATE TABLE outbox_events (
    id              INTEGER PRIMARY KEY NOT NULL,
    seq             BIGINT NOT NULL UNIQUE,
    event_id        TEXT NOT NULL UNIQUE,
    audience        TEXT NOT NULL,
    contract_id     TEXT REFERENCES contracts (id),
    destination     TEXT NOT NULL,
    ticket_id       BIGINT REFERENCES tickets (id),
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      TEXT,
    retry_until     TIMESTAMP,
    delivered_at    TIMESTAMP
);
-- The pull feed reads one audience in commit order.
CREATE INDEX outbox_feed ON outbox_events (audience, seq);
-- The worker walks pending events in commit order and stops after a batch.
CREATE INDEX outbox_pending ON outbox_events (seq) WHERE state = 'pending';
-- "A later event of a ticket waits for the earlier one to its destination" is one probe here.
CREATE INDEX outbox_ticket_order ON outbox_events (destination, ticket_id, seq) WHERE state = 'pending';

-- The feed position: bumped under a row lock, so `seq` follows commit order on every backend.
CREATE TABLE outbox_head (
    id  INTEGER PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL
);
INSERT INTO outbox_head (id, seq) VALUES (1, 0);
