-- Retention: a token's value is erased once no share has used it for `retention_days`. The
-- row stays (with its number), so a number is never issued twice for different values.
ALTER TABLE vault_tokens ADD COLUMN last_used_at TIMESTAMP;
ALTER TABLE vault_tokens ADD COLUMN purged_at TIMESTAMP;
UPDATE vault_tokens SET last_used_at = created_at;
CREATE INDEX vault_tokens_by_use ON vault_tokens (contract_id, last_used_at);
