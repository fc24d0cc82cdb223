-- A contractor's reply as it wrote it, before its tokens were re-hydrated for the in-house
-- side. The contractor is shown this text, never a re-redaction of the re-hydrated one: a
-- value glued to other characters is no longer detected, and a hash of a value it wrote
-- itself would confirm a guess. NULL for in-house comments and for replies stored before
-- this column existed.
ALTER TABLE comments ADD COLUMN written_body TEXT;
