DROP TABLE attachment_contents;
DROP TABLE attachments;
