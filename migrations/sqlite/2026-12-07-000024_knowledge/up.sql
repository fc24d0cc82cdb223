-- Knowledge-base articles contractors may read, applied from `knowledge/*.md` like contracts:
-- one row per article with its current version; the text is kept as written (Markdown) and
-- as rendered (safe HTML and plain text).
CREATE TABLE knowledge_articles (
    id           TEXT PRIMARY KEY NOT NULL,
    version      INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    title        TEXT NOT NULL,
    language     TEXT NOT NULL,
    -- JSON array of tags.
    tags         TEXT NOT NULL,
    audience     TEXT NOT NULL,
    markdown     TEXT NOT NULL,
    html         TEXT NOT NULL,
    plain        TEXT NOT NULL,
    applied_at   TIMESTAMP NOT NULL,
    withdrawn_at TIMESTAMP
);

-- Full-text search. FTS5 has no Russian stemmer, so the gateway stems the words itself
-- (Snowball, the algorithm PostgreSQL's `russian` and `english` configurations use) and stores
-- the stems here; queries are stemmed the same way. Written with the article, in its
-- transaction.
CREATE VIRTUAL TABLE knowledge_search USING fts5(
    article_id UNINDEXED,
    title_stems,
    body_stems,
    tokenize = 'unicode61 remove_diacritics 0'
);
