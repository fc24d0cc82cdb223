-- SLA clocks of a share, computed on the contract's business calendar at share time.
ALTER TABLE shares ADD COLUMN first_response_due TIMESTAMP;
ALTER TABLE shares ADD COLUMN resolution_due TIMESTAMP;
ALTER TABLE shares ADD COLUMN first_response_at TIMESTAMP;
