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
    withdrawn_at TIMESTAMP,
    -- Full-text search in the article's own language (the `russian` configuration stems
    -- Latin-script words with the English stemmer too); the title weighs more than the body.
    search       tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector(CASE WHEN language = 'ru' THEN 'russian'::regconfig
                                   ELSE 'english'::regconfig END, title), 'A')
        || setweight(to_tsvector(CASE WHEN language = 'ru' THEN 'russian'::regconfig
                                      ELSE 'english'::regconfig END, plain), 'B')
    ) STORED
);

CREATE INDEX knowledge_articles_search ON knowledge_articles USING GIN (search);
