DROP TABLE quality_alerts;
