DROP TABLE revoked_tokens;
DROP TABLE ledger_head;
DROP TABLE audit_log;
DROP TABLE comments;
DROP TABLE shares;
DROP TABLE tickets;
DROP TABLE contract_versions;
DROP TABLE contracts;
