-- 009: the outbox of notifications (`--notify URL`). Every event is
-- recorded here, one row per receiver, before it is posted, so a run never
-- waits for a receiver and an event not yet delivered survives a restart.

CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    url           TEXT    NOT NULL CHECK (url <> ''),
    event         TEXT    NOT NULL CHECK (event <> ''),
    -- One event per receiver and key: the same batch sent, or the same
    -- row returned, is announced once however often it is seen.
    dedupe_key    TEXT    NOT NULL CHECK (dedupe_key <> ''),
    body          BLOB    NOT NULL,
    created_at    TEXT    NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_at       TEXT    NOT NULL,
    delivered_at  TEXT,
    -- Set when the retries ran out: the event is kept, not delivered.
    abandoned_at  TEXT,
    last_error    TEXT    NOT NULL DEFAULT '',
    UNIQUE (url, dedupe_key),
    CHECK (delivered_at IS NULL OR abandoned_at IS NULL)
) STRICT;

CREATE INDEX outbox_due ON outbox (next_at) WHERE delivered_at IS NULL AND abandoned_at IS NULL;
