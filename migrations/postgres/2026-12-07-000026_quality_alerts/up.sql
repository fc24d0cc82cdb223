-- Quality floors a contract is below now (CSAT, NPS, first-contact resolution): a row is
-- raised once when the floor is crossed and removed once when it is met again, so that each
-- crossing is announced once, whichever replica checks.
CREATE TABLE quality_alerts (
    contract_id TEXT NOT NULL REFERENCES contracts (id),
    metric      TEXT NOT NULL,
    since       TIMESTAMP NOT NULL,
    PRIMARY KEY (contract_id, metric)
);
