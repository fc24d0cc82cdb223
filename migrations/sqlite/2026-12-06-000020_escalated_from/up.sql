-- What follows a share's end, and where a share came from:
-- * keep_in_house: the ticket stays with the in-house team (an operator took it back, or the
--   contractor handed it back under a contract with `reroute_on_handback = false`): neither a
--   later push nor the backlog drain sends it out again. Operator recalls made before this
--   column existed are marked from their recall_cause.
-- * escalate_to: the L1 contractor handed it up with `escalate`; the contract it goes to.
-- * escalated_from: on the L2 share, the L1 share whose replies it reads.
ALTER TABLE shares ADD COLUMN keep_in_house BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE shares ADD COLUMN escalate_to TEXT;
ALTER TABLE shares ADD COLUMN escalated_from BIGINT;
UPDATE shares SET keep_in_house = TRUE WHERE recall_cause = 'operator';
