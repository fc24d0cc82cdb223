DROP TABLE connector_writes;
DROP TABLE connector_cursors;
