-- 007: sign-in sessions kept in the ledger, users that can be disabled,
-- and how long uploaded files are kept.

-- A session is one signed-in browser. The ledger keeps only the SHA-256 of
-- its token (the cookie's value): reading the ledger does not let anyone
-- sign in. A session ends after idle time without a request and, at the
-- latest, at expires_at, however busy it is.
CREATE TABLE sessions (
    token_hash  TEXT    PRIMARY KEY CHECK (length(token_hash) = 64),
    user_name   TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    created_at  TEXT    NOT NULL,
    seen_at     TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    CHECK (expires_at > created_at)
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_user ON sessions (user_name);

-- A disabled user keeps their name in the batches they uploaded, submitted
-- or approved, and cannot sign in.
ALTER TABLE users ADD COLUMN disabled_at TEXT;

-- A new password or disabling a user ends their sessions in the same
-- transaction, whoever changes the row; so does removing them.
CREATE TRIGGER users_end_sessions AFTER UPDATE OF password_hash, disabled_at, role ON users
BEGIN
    DELETE FROM sessions WHERE user_name = NEW.name;
END;

CREATE TRIGGER users_removed_end_sessions AFTER DELETE ON users
BEGIN
    DELETE FROM sessions WHERE user_name = OLD.name;
END;

-- A session belongs to a user who may sign in.
CREATE TRIGGER sessions_enabled_user BEFORE INSERT ON sessions
WHEN NOT EXISTS (SELECT 1 FROM users WHERE name = NEW.user_name AND disabled_at IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'a session belongs to a user who is not disabled');
END;

-- How many days uploaded files and the files made from them are kept:
-- every change, oldest first; the last row is in force. A ledger without
-- rows keeps them 90 days. Only an admin sets it.
CREATE TABLE retention_policy (
    id      INTEGER PRIMARY KEY,
    days    INTEGER NOT NULL CHECK (days BETWEEN 1 AND 3650),
    set_by  TEXT    NOT NULL,
    set_at  TEXT    NOT NULL
) STRICT;

CREATE TRIGGER retention_policy_no_update BEFORE UPDATE ON retention_policy
BEGIN
    SELECT RAISE(ABORT, 'the retention policy''s history is append-only');
END;

CREATE TRIGGER retention_policy_no_delete BEFORE DELETE ON retention_policy
BEGIN
    SELECT RAISE(ABORT, 'the retention policy''s history is append-only');
END;

CREATE TRIGGER retention_policy_who BEFORE INSERT ON retention_policy
WHEN NOT EXISTS (SELECT 1 FROM users WHERE name = NEW.set_by AND role = 'admin' AND disabled_at IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'only an admin changes the retention policy');
END;

-- expired_at is when the upload's files were deleted for its age; the
-- ledger keeps its record, its rows and their history.
ALTER TABLE uploads ADD COLUMN expired_at TEXT;

-- Every file deleted for its age, by name inside the server's data folder.
CREATE TABLE upload_deletions (
    id              INTEGER PRIMARY KEY,
    batch           TEXT    NOT NULL CHECK (length(batch) = 64),
    file            TEXT    NOT NULL,
    deleted_at      TEXT    NOT NULL,
    -- retention_days is the retention the deletion applied, from the
    -- change retention_id of the policy (NULL: the default).
    retention_days  INTEGER NOT NULL,
    retention_id    INTEGER REFERENCES retention_policy (id)
) STRICT;

CREATE INDEX upload_deletions_batch ON upload_deletions (batch);

CREATE TRIGGER upload_deletions_no_update BEFORE UPDATE ON upload_deletions
BEGIN
    SELECT RAISE(ABORT, 'the record of deleted files is append-only');
END;
