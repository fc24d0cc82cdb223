-- Reversible tokens: one per (contract, kind, value). The value is kept encrypted
-- (AES-256-GCM); `lookup` is a keyed hash of it, so equal values find their token without
-- decrypting anything.
CREATE TABLE vault_tokens (
    contract_id TEXT NOT NULL,
    token       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    lookup      TEXT NOT NULL,
    ciphertext  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (contract_id, token),
    UNIQUE (contract_id, kind, lookup)
);
