-- 008: the outbox of notifications, and settlements of rows that need a
-- person.
--
-- The outbox of notifications (`--notify URL`). Every event is
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

-- A row that needs a person, settled by one after checking the bank
-- statement: paid (by which transfer) or not paid (why), and, for a row
-- not paid, the decision to send it again with a new key. Who and when,
-- append-only: a settlement is never changed or deleted.
CREATE TABLE settlements (
    id          INTEGER PRIMARY KEY,
    batch       INTEGER NOT NULL,
    row         INTEGER NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('paid', 'not_paid', 'resend')),
    transfer_id TEXT    NOT NULL DEFAULT '',
    reason      TEXT    NOT NULL DEFAULT '',
    settled_by  TEXT    NOT NULL CHECK (settled_by <> ''),
    settled_at  TEXT    NOT NULL,
    old_key     TEXT    NOT NULL DEFAULT '',
    new_key     TEXT    NOT NULL DEFAULT '',
    CHECK (outcome <> 'paid' OR transfer_id <> ''),
    CHECK (outcome <> 'not_paid' OR reason <> ''),
    CHECK (outcome <> 'resend' OR (new_key <> '' AND new_key <> old_key)),
    FOREIGN KEY (batch, row) REFERENCES rows (batch, row)
) STRICT;

CREATE INDEX settlements_row ON settlements (batch, row);

CREATE TRIGGER settlements_no_update BEFORE UPDATE ON settlements
BEGIN
    SELECT RAISE(ABORT, 'settlements are append-only');
END;

CREATE TRIGGER settlements_no_delete BEFORE DELETE ON settlements
BEGIN
    SELECT RAISE(ABORT, 'settlements are append-only');
END;
