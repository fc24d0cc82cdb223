DROP INDEX shares_by_contract_state;
ALTER TABLE contracts DROP COLUMN withdrawn_at;
