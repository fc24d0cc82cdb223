-- Console sign-ins as sessions of their own: the browser's cookie holds a random session id
-- (only its sha256 is stored here), never the bearer token it was opened with, so the cookie
-- is no key to the API, lasts at most 8 hours, and ends for good on sign-out. Each session
-- carries the CSRF token its forms must send back.
CREATE TABLE console_sessions (
    id_hash    TEXT PRIMARY KEY NOT NULL,
    sub        TEXT NOT NULL,
    role       TEXT NOT NULL,
    token_jti  TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ended_at   TIMESTAMP
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
