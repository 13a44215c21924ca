-- 001: batches, rows, the append-only attempt log and the status history.
--
-- Times are TEXT in UTC with a fixed width ("2006-01-02T15:04:05.000000Z"),
-- so that comparing strings compares instants and a person reading the file
-- with the sqlite3 shell sees dates. Money is INTEGER cents.

CREATE TABLE batches (
    -- num is a compact surrogate so that every row and index entry does not
    -- repeat the 64-character hash.
    num           INTEGER PRIMARY KEY,
    -- id is the hex SHA-256 of the file's bytes: the same file is the same batch.
    id            TEXT    NOT NULL UNIQUE CHECK (length(id) = 64),
    file_name     TEXT    NOT NULL,
    file_size     INTEGER NOT NULL CHECK (file_size >= 0),
    format        TEXT    NOT NULL,
    account_id    TEXT    NOT NULL,
    environment   TEXT    NOT NULL,
    -- header is the sheet's header row as written, a JSON array of strings,
    -- stored once here rather than on every row.
    header        TEXT    NOT NULL DEFAULT '[]',
    -- options holds the import options that change how cells were read
    -- (e.g. the decimal convention), a JSON object of strings.
    options       TEXT    NOT NULL DEFAULT '{}',
    state         TEXT    NOT NULL CHECK (state IN ('importing', 'imported', 'running', 'done')),
    rows_total    INTEGER NOT NULL DEFAULT 0,
    rows_valid    INTEGER NOT NULL DEFAULT 0,
    rows_invalid  INTEGER NOT NULL DEFAULT 0,
    total_cents   INTEGER NOT NULL DEFAULT 0,
    results_path  TEXT    NOT NULL DEFAULT '',
    lease_holder  TEXT,
    lease_expires TEXT,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
) STRICT;

CREATE INDEX batches_created ON batches (created_at);

CREATE TABLE rows (
    -- id is batch × 2^32 + seq: the table itself is then ordered by batch
    -- and input order, so importing appends and reading in order is a range
    -- scan, with no separate index on seq.
    id            INTEGER PRIMARY KEY,
    batch         INTEGER NOT NULL REFERENCES batches (num),
    -- row is the sheet row as Excel numbers it (header = 1).
    row           INTEGER NOT NULL CHECK (row >= 1),
    -- seq is the input order, 1-based.
    seq           INTEGER NOT NULL CHECK (seq >= 1),
    -- cells are the original cells, all columns including unknown ones.
    cells         TEXT    NOT NULL,
    -- payout is exactly the JSON body to send, less account_id.
    payout        TEXT,
    amount_cents  INTEGER NOT NULL DEFAULT 0,
    document      TEXT    NOT NULL DEFAULT '',
    ispb          TEXT    NOT NULL DEFAULT '',
    branch        TEXT    NOT NULL DEFAULT '',
    account       TEXT    NOT NULL DEFAULT '',
    reference     TEXT    NOT NULL DEFAULT '',
    -- One key for the row's whole life, written before the first request.
    -- UNIQUE: two rows can never share a key, in this batch or any other.
    idempotency_key TEXT UNIQUE,
    state         TEXT    NOT NULL CHECK (state IN ('invalid', 'pending', 'held', 'attempted', 'accepted', 'rejected', 'needs_review')),
    transfer_id   TEXT,
    api_status    TEXT,
    fee_cents     INTEGER,
    error_code    TEXT,
    -- error_message holds the validation errors as a JSON list for invalid rows.
    error_message TEXT,
    scheduled_to_effective TEXT,
    first_attempted_at TEXT,
    processed_at  TEXT,
    updated_at    TEXT    NOT NULL,
    UNIQUE (batch, row),
    CHECK (id = batch * 4294967296 + seq),
    -- A row that may be sent must carry everything sending needs.
    CHECK (state = 'invalid' OR (idempotency_key IS NOT NULL AND payout IS NOT NULL AND amount_cents > 0)),
    -- An accepted row always names the transfer it created.
    CHECK (state <> 'accepted' OR transfer_id IS NOT NULL)
) STRICT;

-- Resume reads only the rows still to work on; this partial index keeps that
-- (and "is anything left?") proportional to the work left, not the batch.
-- Its entries are (batch, id), so they come in input order.
CREATE INDEX rows_outstanding ON rows (batch) WHERE state IN ('pending', 'attempted');

-- A row that left the 'invalid' state would mean an invalid row was sent.
CREATE TRIGGER rows_invalid_is_final
BEFORE UPDATE OF state ON rows
WHEN OLD.state = 'invalid' AND NEW.state <> 'invalid'
BEGIN
    SELECT RAISE(ABORT, 'invalid rows never change state');
END;

CREATE TABLE attempts (
    id           INTEGER PRIMARY KEY,
    batch        INTEGER NOT NULL,
    row          INTEGER NOT NULL,
    at           TEXT    NOT NULL,
    http_status  INTEGER NOT NULL DEFAULT 0,
    request_id   TEXT    NOT NULL DEFAULT '',
    latency_ms   INTEGER NOT NULL DEFAULT 0,
    outcome      TEXT    NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'retry', 'ambiguous', 'error')),
    error        TEXT    NOT NULL DEFAULT '',
    FOREIGN KEY (batch, row) REFERENCES rows (batch, row)
) STRICT;

CREATE INDEX attempts_row ON attempts (batch, row);

-- The attempt log is the audit trail of what was sent: append only.
CREATE TRIGGER attempts_no_update BEFORE UPDATE ON attempts
BEGIN
    SELECT RAISE(ABORT, 'attempts are append-only');
END;

CREATE TRIGGER attempts_no_delete BEFORE DELETE ON attempts
BEGIN
    SELECT RAISE(ABORT, 'attempts are append-only');
END;

CREATE TABLE transfer_status_history (
    id      INTEGER PRIMARY KEY,
    batch   INTEGER NOT NULL,
    row     INTEGER NOT NULL,
    status  TEXT    NOT NULL,
    at      TEXT    NOT NULL,
    -- source says who told us: 'create' (the create response), 'poll', 'webhook'.
    source  TEXT    NOT NULL,
    FOREIGN KEY (batch, row) REFERENCES rows (batch, row)
) STRICT;

CREATE INDEX transfer_status_history_row ON transfer_status_history (batch, row);
