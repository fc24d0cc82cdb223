-- Customer feedback on a contractor's work, one of each kind per share (a new one replaces it):
-- `csat` 1–5, `nps` 0–10, with the customer's words when given. Replaces `satisfaction`.
CREATE TABLE feedback (
    share_id    BIGINT NOT NULL REFERENCES shares (id),
    kind        TEXT NOT NULL,
    ticket_id   BIGINT NOT NULL REFERENCES tickets (id),
    contract_id TEXT NOT NULL REFERENCES contracts (id),
    score       INTEGER NOT NULL,
    comment     TEXT,
    -- `api` or the helpdesk payload it came with (`zendesk`, …).
    source      TEXT NOT NULL,
    rated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (share_id, kind)
);
CREATE INDEX feedback_contract ON feedback (contract_id, rated_at);

INSERT INTO feedback (share_id, kind, ticket_id, contract_id, score, comment, source, rated_at)
SELECT share_id, 'csat', ticket_id, contract_id, score, NULL, 'api', rated_at FROM satisfaction;

DROP TABLE satisfaction;

-- A solved share the customer wrote on again: it went back to the contractor, and its first
-- contact did not resolve it.
ALTER TABLE shares ADD COLUMN reopened_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shares ADD COLUMN reopened_at TIMESTAMP;
