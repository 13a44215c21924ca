-- 004: the people who use the web page, and who uploaded, submitted and
-- approved each batch there (four eyes: the approver is never the uploader).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    role          TEXT    NOT NULL CHECK (role IN ('uploader', 'approver', 'admin')),
    -- password_hash is a bcrypt hash; lote never stores a password.
    password_hash TEXT    NOT NULL CHECK (password_hash LIKE '$2%'),
    created_at    TEXT    NOT NULL
) STRICT;

-- uploads are batches that came through the web page. id is the batch id
-- (the SHA-256 of the file), the same as batches.id once imported; it is
-- not a foreign key because the upload is recorded as the import begins.
CREATE TABLE uploads (
    id            TEXT    PRIMARY KEY CHECK (length(id) = 64),
    file_name     TEXT    NOT NULL,
    -- stored_path is where the server keeps the file (never served back).
    stored_path   TEXT    NOT NULL,
    -- fee_cents is the expected fees for the rows to send, from the plan
    -- made at upload.
    fee_cents     INTEGER NOT NULL DEFAULT 0,
    uploaded_by   TEXT    NOT NULL REFERENCES users (name),
    uploaded_at   TEXT    NOT NULL,
    submitted_by  TEXT    REFERENCES users (name),
    submitted_at  TEXT,
    -- submitted_cents and submitted_rows are what the person confirmed.
    submitted_cents INTEGER,
    submitted_rows  INTEGER,
    approved_by   TEXT    REFERENCES users (name),
    approved_at   TEXT,
    paused        INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    CHECK ((submitted_by IS NULL) = (submitted_at IS NULL)),
    CHECK ((approved_by IS NULL) = (approved_at IS NULL)),
    -- Four eyes, in the schema too: nobody approves their own upload, and
    -- nothing is approved before it was submitted.
    CHECK (approved_by IS NULL OR (approved_by <> uploaded_by AND submitted_by IS NOT NULL))
) STRICT, WITHOUT ROWID;

CREATE INDEX uploads_uploaded ON uploads (uploaded_at);

-- upload_warnings keeps the warnings of valid rows (a document whose
-- leading zeros were restored, a date that falls on a holiday), which the
-- rows table does not hold, so that the page can mark them.
CREATE TABLE upload_warnings (
    batch   TEXT    NOT NULL REFERENCES uploads (id),
    row     INTEGER NOT NULL CHECK (row >= 2),
    -- issues is a JSON list, as batch.Issue encodes it.
    issues  TEXT    NOT NULL,
    PRIMARY KEY (batch, row)
) STRICT, WITHOUT ROWID;
