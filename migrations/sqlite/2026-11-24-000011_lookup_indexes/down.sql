DROP INDEX outbox_by_ticket;
DROP INDEX shares_by_ticket;
