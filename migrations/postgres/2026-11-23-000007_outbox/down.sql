DROP TABLE outbox_head;
DROP TABLE outbox_events;
