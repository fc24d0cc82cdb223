DROP INDEX audit_log_by_ticket;
DROP TABLE erasure_notices;
DROP TABLE erasures;
DROP TABLE disclosed_tokens;
DROP TABLE subject_backfill;
DROP TABLE subject_keys;
