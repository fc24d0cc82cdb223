-- Keyed look-ups of the people tickets are about (a data subject's requests): an HMAC, under
-- a key derived from the vault's master key, of the requester's e-mail (lower case), phone
-- (last ten digits) and each word of its name (its dictionary lemma, so every case form
-- finds it). Never the values themselves.
CREATE TABLE subject_keys (
    key       TEXT NOT NULL,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    kind      TEXT NOT NULL,
    PRIMARY KEY (key, ticket_id)
);
CREATE INDEX subject_keys_by_ticket ON subject_keys (ticket_id);
-- Tickets stored before the index: indexed once, at the next start, up to this id.
CREATE TABLE subject_backfill (
    id    INTEGER PRIMARY KEY NOT NULL,
    up_to BIGINT NOT NULL
);
INSERT INTO subject_backfill (id, up_to) SELECT 1, COALESCE(MAX(id), 0) FROM tickets;
-- Which vault tokens went out with which ticket (a token is per contract and value, so one
-- token can travel with several tickets).
CREATE TABLE disclosed_tokens (
    contract_id TEXT NOT NULL,
    token       TEXT NOT NULL,
    ticket_id   BIGINT NOT NULL,
    first_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (contract_id, token, ticket_id)
);
-- A data subject's erasure: who asked, why, and what was found (counts and kinds, never the
-- values that were asked for).
CREATE TABLE erasures (
    id           BIGSERIAL PRIMARY KEY,
    requested_at TIMESTAMP NOT NULL,
    requested_by TEXT NOT NULL,
    reason       TEXT NOT NULL,
    selectors    TEXT NOT NULL,
    tickets      TEXT NOT NULL,
    tokens_erased BIGINT NOT NULL,
    fields_struck BIGINT NOT NULL
);
-- One per contractor that received the subject's data: what it must delete, by when, and its
-- acknowledgement (or the escalation when it did not come in time).
CREATE TABLE erasure_notices (
    id              BIGSERIAL PRIMARY KEY,
    erasure_id      BIGINT NOT NULL REFERENCES erasures (id),
    contract_id     TEXT NOT NULL REFERENCES contracts (id),
    contractor      TEXT NOT NULL,
    tickets         TEXT NOT NULL,
    tokens          TEXT NOT NULL,
    sent_at         TIMESTAMP NOT NULL,
    due_at          TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP,
    acknowledged_by TEXT,
    escalated_at    TIMESTAMP
);
CREATE INDEX erasure_notices_due ON erasure_notices (due_at) WHERE acknowledged_at IS NULL AND escalated_at IS NULL;
CREATE INDEX erasure_notices_by_contract ON erasure_notices (contract_id, sent_at);
-- A subject's disclosures are read per ticket.
CREATE INDEX audit_log_by_ticket ON audit_log (ticket_id, seq);
