-- The first answer to each Idempotency-Key, per caller and target: a retried request gets it
-- back and changes nothing.
CREATE TABLE idempotency_keys (
    scope          TEXT NOT NULL,
    key            TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    status         INTEGER NOT NULL,
    response       TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, key)
);
