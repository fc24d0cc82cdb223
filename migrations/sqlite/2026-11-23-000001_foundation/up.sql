-- Foundation schema (SQLite). Keep in step with ../../postgres/2026-11-23-000001_foundation/up.sql:
-- a test compares the tables and columns of both trees.

CREATE TABLE contracts (
    id              TEXT PRIMARY KEY NOT NULL,
    contractor      TEXT NOT NULL,
    version         INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    body            TEXT NOT NULL,
    applied_at      TIMESTAMP NOT NULL,
    manual_overflow BOOLEAN NOT NULL DEFAULT 0,
    open_shares     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE contract_versions (
    contract_id TEXT NOT NULL REFERENCES contracts (id),
    version     INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    body        TEXT NOT NULL,
    applied_at  TIMESTAMP NOT NULL,
    applied_by  TEXT NOT NULL,
    PRIMARY KEY (contract_id, version)
);

CREATE TABLE tickets (
    id              INTEGER PRIMARY KEY NOT NULL,
    source          TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    subject         TEXT NOT NULL,
    description     TEXT NOT NULL,
    requester_name  TEXT,
    requester_email TEXT,
    requester_phone TEXT,
    channel         TEXT NOT NULL,
    priority        TEXT NOT NULL,
    category        TEXT,
    language        TEXT,
    tags            TEXT NOT NULL,
    custom_fields   TEXT NOT NULL,
    status          TEXT NOT NULL,
    routing         TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (source, external_id)
);

CREATE TABLE shares (
    id               INTEGER PRIMARY KEY NOT NULL,
    ticket_id        BIGINT NOT NULL REFERENCES tickets (id),
    contract_id      TEXT NOT NULL REFERENCES contracts (id),
    contract_version INTEGER NOT NULL,
    contractor       TEXT NOT NULL,
    state            TEXT NOT NULL,
    handback_reason  TEXT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
-- At most one share a contractor is working on per ticket.
CREATE UNIQUE INDEX shares_one_active ON shares (ticket_id) WHERE state IN ('open', 'pending', 'solved');
CREATE INDEX shares_contractor ON shares (contractor, id);

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY NOT NULL,
    ticket_id  BIGINT NOT NULL REFERENCES tickets (id),
    share_id   BIGINT REFERENCES shares (id),
    origin     TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    author     TEXT NOT NULL,
    body       TEXT NOT NULL,
    public     BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (ticket_id, dedupe_key)
);

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY NOT NULL,
    at          TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    contract_id TEXT,
    ticket_id   BIGINT,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

-- The chain's head: updating this single row serialises appenders on every backend.
CREATE TABLE ledger_head (
    id   INTEGER PRIMARY KEY NOT NULL,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO ledger_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY NOT NULL,
    revoked_at TIMESTAMP NOT NULL,
    reason     TEXT NOT NULL
);
