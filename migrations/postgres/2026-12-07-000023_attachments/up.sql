-- Files attached to a ticket or to one of its comments: what the gateway knows of each (name,
-- media type, size, SHA-256) and where its content lives. Content is kept by the gateway,
-- addressed by its SHA-256, so that it can be scanned before anything leaves and a contractor
-- downloads through the gateway, never from the helpdesk.
CREATE TABLE attachments (
    id             BIGSERIAL PRIMARY KEY,
    ticket_id      BIGINT NOT NULL REFERENCES tickets (id),
    -- The comment it came with (its dedupe key), or none for the ticket's own.
    comment_key    TEXT,
    -- The share a contractor attached it under; none for in-house files.
    share_id       BIGINT REFERENCES shares (id),
    origin         TEXT NOT NULL,
    dedupe_key     TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    size           BIGINT NOT NULL,
    -- The content as the in-house side sees it (a contractor's text file re-hydrated).
    sha256         TEXT NOT NULL,
    -- A contractor's file as it sent it, when re-hydration changed it.
    written_sha256 TEXT,
    written_size   BIGINT,
    created_at     TIMESTAMP NOT NULL,
    UNIQUE (ticket_id, dedupe_key)
);

CREATE TABLE attachment_contents (
    sha256  TEXT PRIMARY KEY NOT NULL,
    content BYTEA NOT NULL
);
