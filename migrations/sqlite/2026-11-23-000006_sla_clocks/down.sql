ALTER TABLE contracts DROP COLUMN attainment_alert_since;
DROP TABLE satisfaction;
ALTER TABLE tickets DROP COLUMN escalation;
ALTER TABLE tickets DROP COLUMN escalated_at;
ALTER TABLE shares ADD COLUMN first_response_due TIMESTAMP;
ALTER TABLE shares ADD COLUMN resolution_due TIMESTAMP;
UPDATE shares SET first_response_due = (SELECT due_at FROM sla_clocks c WHERE c.share_id = shares.id AND c.kind = 'first_response');
UPDATE shares SET resolution_due = (SELECT due_at FROM sla_clocks c WHERE c.share_id = shares.id AND c.kind = 'resolution');
DROP TABLE sla_clocks;
