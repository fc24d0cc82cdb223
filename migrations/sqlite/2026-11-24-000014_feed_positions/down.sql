UPDATE outbox_head SET seq = (SELECT COALESCE(MAX(seq), 0) FROM outbox_events);
ALTER TABLE outbox_head DROP COLUMN position;
CREATE INDEX outbox_feed ON outbox_events (audience, seq);
DROP INDEX outbox_unpositioned;
DROP INDEX outbox_feed_position;
DROP INDEX outbox_position;
ALTER TABLE outbox_events DROP COLUMN position;
