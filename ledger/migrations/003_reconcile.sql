-- 003: what reconciliation learnt about each accepted row's transfer, and
-- the webhook events received, deduplicated on Stone's event id.

-- One line per accepted row whose transfer was looked at (by a poll or a
-- webhook): Stone's view of it as of checked_at. rows.api_status stays the
-- current status and transfer_status_history the history; this table keeps
-- the details the report shows (codes, dates, Stone's amount and fee) and
-- what did not match the ledger, so that a final row need not be polled
-- again to be reported.
CREATE TABLE reconciliations (
    batch          INTEGER NOT NULL,
    row            INTEGER NOT NULL,
    status         TEXT    NOT NULL,
    -- found is 0 when Stone answered 404 for a transfer the ledger holds.
    found          INTEGER NOT NULL CHECK (found IN (0, 1)),
    -- Stone's amount and fee, in cents, as it reported them.
    amount_cents   INTEGER NOT NULL DEFAULT 0,
    fee_cents      INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT,
    finished_at    TEXT,
    failed_at      TEXT,
    refunded_at    TEXT,
    cancelled_at   TEXT,
    failure_code   TEXT    NOT NULL DEFAULT '',
    failure_reason TEXT    NOT NULL DEFAULT '',
    refund_code    TEXT    NOT NULL DEFAULT '',
    refund_reason  TEXT    NOT NULL DEFAULT '',
    -- mismatch says, for a person, how Stone's transfer differs from the
    -- ledger's payout; '' when it matches.
    mismatch       TEXT    NOT NULL DEFAULT '',
    checked_at     TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    PRIMARY KEY (batch, row),
    FOREIGN KEY (batch, row) REFERENCES rows (batch, row)
) STRICT, WITHOUT ROWID;

-- A webhook names a transfer by its id; this finds its row without a scan.
-- Only rows with a transfer are indexed, so importing does not pay for it.
CREATE INDEX rows_transfer ON rows (transfer_id) WHERE transfer_id IS NOT NULL;

-- Every webhook event received once, by Stone's event id: a second delivery
-- of the same event is recognised and applied no more.
CREATE TABLE webhook_events (
    id           TEXT    PRIMARY KEY,
    type         TEXT    NOT NULL,
    transfer_id  TEXT    NOT NULL DEFAULT '',
    received_at  TEXT    NOT NULL,
    -- outcome: 'applied' (the row changed), 'unchanged' (nothing new or an
    -- older status than the row's), 'unknown' (no row holds the transfer).
    outcome      TEXT    NOT NULL CHECK (outcome IN ('applied', 'unchanged', 'unknown')),
    batch        INTEGER,
    row          INTEGER
) STRICT;
