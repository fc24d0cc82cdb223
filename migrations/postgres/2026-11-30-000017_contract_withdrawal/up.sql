-- A contract whose file is gone when contracts are applied is withdrawn: it leaves force at
-- once and its open shares are recalled. Re-adding the file stores a new version and clears
-- the mark.
ALTER TABLE contracts ADD COLUMN withdrawn_at TIMESTAMP;
-- The open shares of a contract that left force are looked for on every sweep. (Not a partial
-- index on the open states: the query binds them as parameters, which neither backend matches
-- against a partial index's predicate.)
CREATE INDEX shares_by_contract_state ON shares (contract_id, state);
