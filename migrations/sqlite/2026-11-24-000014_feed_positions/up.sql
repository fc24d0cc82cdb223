-- Feed positions are given after commit, by one sequencer at a time (the delivery worker's
-- round, or a feed read), in `seq` order: every writer used to bump `outbox_head` and hold its
-- row lock until commit, so on PostgreSQL events were written one transaction after another.
-- `seq` itself now comes from a sequence on PostgreSQL (SQLite has one writer and keeps the
-- counter row): it is unique and grows along each ticket's changes; the feed's order is
-- `position`, which follows the order events became visible, so a cursor never skips one.
ALTER TABLE outbox_events ADD COLUMN position BIGINT;
UPDATE outbox_events SET position = seq;
CREATE UNIQUE INDEX outbox_position ON outbox_events (position);
CREATE INDEX outbox_feed_position ON outbox_events (audience, position);
CREATE INDEX outbox_unpositioned ON outbox_events (seq) WHERE position IS NULL;
DROP INDEX outbox_feed;
ALTER TABLE outbox_head ADD COLUMN position BIGINT NOT NULL DEFAULT 0;
UPDATE outbox_head SET position = seq;
