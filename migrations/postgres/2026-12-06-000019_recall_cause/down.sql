ALTER TABLE shares DROP COLUMN recall_cause;
