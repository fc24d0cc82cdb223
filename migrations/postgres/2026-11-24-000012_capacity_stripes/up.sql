-- A contract's open shares are counted in 32 stripes instead of one row: every share used to
-- update the contract's row and hold its lock until commit, so on PostgreSQL shares of one
-- contract committed one after another. A share counts in one stripe (remembered on it); the
-- stripes' limits add up to the contract's `max_open`. Keep the count in step with
-- `contracts::capacity::CAPACITY_STRIPES`. Counts so far move to stripe 0.
CREATE TABLE capacity_stripes (
    contract_id     TEXT NOT NULL REFERENCES contracts (id),
    stripe          INTEGER NOT NULL,
    open_shares     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (contract_id, stripe)
);

INSERT INTO capacity_stripes (contract_id, stripe, open_shares)
SELECT c.id, n.stripe, CASE WHEN n.stripe = 0 THEN c.open_shares ELSE 0 END
FROM contracts c CROSS JOIN generate_series(0, 31) AS n (stripe);
ALTER TABLE shares ADD COLUMN capacity_stripe INTEGER;
UPDATE shares SET capacity_stripe = 0 WHERE state IN ('open', 'pending');
ALTER TABLE contracts DROP COLUMN open_shares;
