-- When a contract's end (withdrawn, or past its dates) was carried out: its open shares
-- recalled, its contractor told to delete, its copies purged at once. Once per end; a new
-- version of the contract clears it.
ALTER TABLE contracts ADD COLUMN ended_at TIMESTAMP;
