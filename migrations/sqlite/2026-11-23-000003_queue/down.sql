DROP INDEX tickets_status;
DROP TABLE queue_reports;
