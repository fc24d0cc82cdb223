ALTER TABLE contracts ADD COLUMN open_shares INTEGER NOT NULL DEFAULT 0;
UPDATE contracts SET open_shares =
    (SELECT COALESCE(SUM(s.open_shares), 0) FROM capacity_stripes s WHERE s.contract_id = contracts.id);
ALTER TABLE shares DROP COLUMN capacity_stripe;
DROP TABLE capacity_stripes;
