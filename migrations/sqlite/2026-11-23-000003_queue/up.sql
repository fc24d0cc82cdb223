-- The in-house queue depth as the helpdesk last reported it (one row, id = 1).
CREATE TABLE queue_reports (
    id          INTEGER PRIMARY KEY NOT NULL,
    depth       BIGINT NOT NULL,
    reported_at TIMESTAMP NOT NULL,
    reported_by TEXT NOT NULL
);
CREATE INDEX tickets_status ON tickets (status);
