-- Routing counts each contract's shares of the last hour on every push.
CREATE INDEX shares_created ON shares (created_at);
