-- 005: a payout is paid once, whatever batch carries it.
--
-- Each valid row has a fingerprint: the hex SHA-256 of what makes it one
-- payout (environment, paying account, payee document, bank, branch,
-- account, amount, scheduled date and its occurrence among identical rows
-- of its sheet), never of the file's bytes. A row about to be sent claims
-- its fingerprint; a row of another batch whose fingerprint is claimed by a
-- live row is held instead of sent.

ALTER TABLE rows ADD COLUMN fingerprint TEXT;

-- source_path is where the batch's file was when it was run (absolute), so
-- that a batch whose file was since replaced by other bytes is recognised
-- as superseded before it is resumed.
ALTER TABLE batches ADD COLUMN source_path TEXT NOT NULL DEFAULT '';

-- One claim per fingerprint, taken in the transaction that marks its row
-- attempted. The claim is live while its row may have paid (attempted,
-- accepted and not failed, needs_review) and was taken within the repeat
-- window; a claim whose row was rejected or failed is released and may be
-- taken by another row.
CREATE TABLE claims (
    fingerprint TEXT    PRIMARY KEY CHECK (length(fingerprint) = 64),
    batch       INTEGER NOT NULL,
    row         INTEGER NOT NULL,
    claimed_at  TEXT    NOT NULL,
    FOREIGN KEY (batch, row) REFERENCES rows (batch, row)
) STRICT, WITHOUT ROWID;

CREATE INDEX claims_row ON claims (batch, row);

-- A held row sent anyway because a person said so: who, when, what it was
-- held for, and the key it was given (a released repeat never reuses the
-- key of the payout it repeats).
CREATE TABLE releases (
    id          INTEGER PRIMARY KEY,
    batch       INTEGER NOT NULL,
    row         INTEGER NOT NULL,
    released_by TEXT    NOT NULL,
    released_at TEXT    NOT NULL,
    held_code   TEXT    NOT NULL DEFAULT '',
    held_reason TEXT    NOT NULL DEFAULT '',
    old_key     TEXT    NOT NULL DEFAULT '',
    new_key     TEXT    NOT NULL DEFAULT '',
    FOREIGN KEY (batch, row) REFERENCES rows (batch, row)
) STRICT;

CREATE INDEX releases_row ON releases (batch, row);

-- The ledger's identity and a counter of rows ever marked attempted, so
-- that a ledger replaced, emptied or rolled back (its -wal deleted) is
-- recognised against the marker file kept beside it.
CREATE TABLE ledger_meta (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    ledger_id   TEXT    NOT NULL,
    attempt_seq INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT    NOT NULL
) STRICT;

INSERT INTO ledger_meta (id, ledger_id, attempt_seq, created_at)
VALUES (1, lower(hex(randomblob(16))),
        (SELECT count(*) FROM rows WHERE first_attempted_at IS NOT NULL),
        strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

CREATE TRIGGER rows_attempt_seq AFTER UPDATE OF state ON rows
WHEN OLD.state = 'pending' AND NEW.state = 'attempted' AND OLD.first_attempted_at IS NULL
BEGIN
    UPDATE ledger_meta SET attempt_seq = attempt_seq + 1 WHERE id = 1;
END;

-- One transfer id on two rows would mark two payouts paid by one transfer.
-- A ledger written before this rule may hold such rows: every row but the
-- first holding an id is set aside for a person, keeping the id in its
-- message.
UPDATE rows SET state = 'needs_review', error_code = 'duplicate_transfer_id',
    error_message = 'Stone''s transfer ' || transfer_id || ' is also recorded for an earlier row; check the account statement for this payout.',
    transfer_id = NULL
WHERE transfer_id IS NOT NULL AND id > (SELECT min(o.id) FROM rows o WHERE o.transfer_id = rows.transfer_id);

DROP INDEX rows_transfer;
CREATE UNIQUE INDEX rows_transfer ON rows (transfer_id) WHERE transfer_id IS NOT NULL;
