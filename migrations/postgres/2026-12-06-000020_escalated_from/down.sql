ALTER TABLE shares DROP COLUMN escalated_from;
ALTER TABLE shares DROP COLUMN escalate_to;
ALTER TABLE shares DROP COLUMN keep_in_house;
