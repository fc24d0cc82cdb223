ALTER TABLE shares DROP COLUMN first_response_at;
ALTER TABLE shares DROP COLUMN resolution_due;
ALTER TABLE shares DROP COLUMN first_response_due;
