-- Ledger entries are written here, in the transaction of the change they describe, and are
-- chained into audit_log (seq, prev_hash, hash) by a sealer shortly after they commit. The
-- chain's head used to be updated by every writer and its row lock held until commit, so on
-- PostgreSQL every audited change committed one after another.
CREATE TABLE audit_pending (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    contract_id TEXT,
    ticket_id   BIGINT,
    details     TEXT NOT NULL
);
