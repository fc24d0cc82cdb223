ALTER TABLE comments DROP COLUMN written_body;
