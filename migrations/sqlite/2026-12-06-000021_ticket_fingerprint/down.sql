ALTER TABLE tickets DROP COLUMN fingerprint;
