DROP INDEX vault_tokens_by_use;
ALTER TABLE vault_tokens DROP COLUMN purged_at;
ALTER TABLE vault_tokens DROP COLUMN last_used_at;
