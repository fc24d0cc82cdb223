DROP INDEX audit_log_by_contract_time;
DROP TABLE reports;
