-- A digest of everything the helpdesk sent for a ticket (fields and comments), so that a
-- re-push that changes nothing is answered from the stored routing without writing: helpdesk
-- webhooks re-send whole tickets. NULL for tickets stored before this column existed.
ALTER TABLE tickets ADD COLUMN fingerprint TEXT;
