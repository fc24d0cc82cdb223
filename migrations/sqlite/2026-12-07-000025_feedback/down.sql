ALTER TABLE shares DROP COLUMN reopened_at;
ALTER TABLE shares DROP COLUMN reopened_count;

CREATE TABLE satisfaction (
    share_id    BIGINT PRIMARY KEY NOT NULL REFERENCES shares (id),
    ticket_id   BIGINT NOT NULL REFERENCES tickets (id),
    contract_id TEXT NOT NULL REFERENCES contracts (id),
    score       INTEGER NOT NULL,
    rated_at    TIMESTAMP NOT NULL
);
CREATE INDEX satisfaction_contract ON satisfaction (contract_id, rated_at);
INSERT INTO satisfaction (share_id, ticket_id, contract_id, score, rated_at)
SELECT share_id, ticket_id, contract_id, score, rated_at FROM feedback WHERE kind = 'csat';

DROP TABLE feedback;
