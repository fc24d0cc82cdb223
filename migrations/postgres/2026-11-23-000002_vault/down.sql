DROP TABLE vault_tokens;
