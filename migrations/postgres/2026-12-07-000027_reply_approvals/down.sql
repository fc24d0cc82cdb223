DROP TABLE reply_approvals;
