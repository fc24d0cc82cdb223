-- Contractor replies waiting for in-house approval (a contract with approval = "free_text"):
-- the request as the contractor sent it (its tokens, never values), until the in-house side
-- approves it (then it is sent as any reply) or rejects it.
CREATE TABLE reply_approvals (
    id INTEGER PRIMARY KEY NOT NULL,
    share_id    BIGINT NOT NULL REFERENCES shares (id),
    ticket_id   BIGINT NOT NULL REFERENCES tickets (id),
    contract_id TEXT NOT NULL REFERENCES contracts (id),
    -- The contractor's user (the token's subject).
    author      TEXT NOT NULL,
    -- The reply request, JSON.
    request     TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    decided_at  TIMESTAMP,
    decided_by  TEXT,
    comment_id  BIGINT
);
CREATE INDEX reply_approvals_state ON reply_approvals (state, id);
