-- Per-ticket look-ups that had no usable index and scanned the whole table on every ingest:
-- a ticket's shares (the partial unique index covers only active ones) and the last projection
-- sent about a ticket (the pending-only index forgets delivered events).
CREATE INDEX shares_by_ticket ON shares (ticket_id, id);
CREATE INDEX outbox_by_ticket ON outbox_events (ticket_id, seq);
