DROP INDEX shares_created;
