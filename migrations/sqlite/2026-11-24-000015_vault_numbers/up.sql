-- The last token number given per contract and kind. A new token was numbered by counting
-- the kind's tokens (a scan that grew with every token) under the contract row's lock, which
-- every projection took, even of values already tokenised. Numbers so far are 1..count per
-- kind (rows are never deleted, only their values erased), so the count is the last number.
CREATE TABLE vault_numbers (
    contract_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    last        BIGINT NOT NULL,
    PRIMARY KEY (contract_id, kind)
);
INSERT INTO vault_numbers (contract_id, kind, last)
SELECT contract_id, kind, COUNT(*) FROM vault_tokens GROUP BY contract_id, kind;
