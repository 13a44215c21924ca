package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// importTxRows is how many rows one import transaction writes: measured at
// about 200k rows/s on modernc with synchronous=FULL; larger barely helps.
const importTxRows = 1000

// KeyConflictError is returned by Import.Add when the row's idempotency key
// already belongs to another row, in this batch or another one. The row was
// not written; the caller may add it again as invalid. Two rows sharing a
// key would make the bank treat two payouts as one.
type KeyConflictError struct {
	Row        int    // the rejected row, as Excel numbers it
	Key        string // the idempotency key
	OtherBatch string // the batch of the row that owns the key ("" if unknown)
	OtherRow   int    // that row, as Excel numbers it
}

func (e *KeyConflictError) Error() string {
	return fmt.Sprintf("row %d: idempotency key %q already used by batch %s row %d", e.Row, e.Key, e.OtherBatch, e.OtherRow)
}

// Import writes a batch's rows. Make one with BeginImport, call Add for
// every row in input order, then Commit. Until Commit the batch stays
// Importing, and an interrupted import is started over by the next
// BeginImport: a batch never looks complete with rows missing.
//
// An Import is used by one goroutine. Between Add calls it holds the
// ledger's writer (for at most importTxRows rows), so that goroutine must
// not call other writing methods before Commit or Close; reads are fine.
type Import struct {
	l       *Ledger
	ctx     context.Context
	id      string
	num     int64
	holder  string
	ttl     time.Duration
	tx      *sql.Tx
	stmt    *sql.Stmt
	inTx    int
	seq     int
	valid   int
	invalid int
	cents   int64
	done    bool
}

// BeginImport starts importing batch b (b.ID and the file metadata are
// used; counters are ignored) and makes holder the batch's runner for ttl,
// renewed as rows are written. If the batch is new it is created; if a
// previous import of it was interrupted, its rows are deleted and the import
// starts over. A batch whose import completed gives ErrAlreadyImported;
// a batch leased to another live runner gives *LeaseHeldError.
func (l *Ledger) BeginImport(ctx context.Context, b Batch, holder string, ttl time.Duration) (*Import, error) {
	header, err := json.Marshal(nonNil(b.Header))
	if err != nil {
		return nil, fmt.Errorf("import batch %s: %w", b.ID, err)
	}
	opts := b.ImportOptions
	if opts == nil {
		opts = map[string]string{}
	}
	options, err := json.Marshal(opts)
	if err != nil {
		return nil, fmt.Errorf("import batch %s: %w", b.ID, err)
	}
	now := fmtTime(l.now())
	var num int64
	err = l.inTx(ctx, func(tx *sql.Tx) error {
		n, state, err := batchNum(ctx, tx, b.ID)
		switch {
		case errors.Is(err, ErrNotFound):
			res, err := tx.ExecContext(ctx, `INSERT INTO batches (id, file_name, file_size, format, account_id, environment,
				header, options, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'importing', ?, ?)`,
				b.ID, b.FileName, b.FileSize, b.Format, b.AccountID, b.Environment, string(header), string(options), now, now)
			if err != nil {
				return fmt.Errorf("import batch %s: %w", b.ID, err)
			}
			if num, err = res.LastInsertId(); err != nil {
				return fmt.Errorf("import batch %s: %w", b.ID, err)
			}
		case err != nil:
			return fmt.Errorf("import batch %s: %w", b.ID, err)
		case state != BatchImporting:
			return fmt.Errorf("import batch %s (%s): %w", b.ID, state, ErrAlreadyImported)
		default:
			num = n
		}
		if _, err := l.acquire(ctx, tx, b.ID, holder, ttl); err != nil {
			return err
		}
		// An earlier import was interrupted: start over. No row of an
		// importing batch can have been sent (MarkAttempted refuses them),
		// so deleting them loses nothing.
		if _, err := tx.ExecContext(ctx, `DELETE FROM rows WHERE batch = ?`, num); err != nil {
			return fmt.Errorf("import batch %s: clear interrupted import: %w", b.ID, err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE batches SET file_name = ?, file_size = ?, format = ?, account_id = ?,
			environment = ?, header = ?, options = ?, rows_total = 0, rows_valid = 0, rows_invalid = 0, total_cents = 0,
			updated_at = ? WHERE num = ?`,
			b.FileName, b.FileSize, b.Format, b.AccountID, b.Environment, string(header), string(options), now, num)
		if err != nil {
			return fmt.Errorf("import batch %s: %w", b.ID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Import{l: l, ctx: ctx, id: b.ID, num: num, holder: holder, ttl: ttl}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const insertRow = `INSERT INTO rows (batch, row, seq, cells, payout, amount_cents, document, ispb, branch, account,
	reference, idempotency_key, state, error_code, error_message, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// Add writes one row. r.State must be Invalid, Pending or Held; Seq and the
// outcome fields are ignored (Seq is the order of Add calls, from 1).
// A row that may be sent needs an idempotency key, a payout and a positive
// amount. A key already used gives *KeyConflictError and the import goes on.
func (im *Import) Add(r Row) error {
	if im.done {
		return fmt.Errorf("import batch %s: add after commit or close", im.id)
	}
	switch r.State {
	case Invalid, Pending, Held:
	default:
		return fmt.Errorf("import batch %s row %d: state %q at import: %w", im.id, r.Row, r.State, ErrIllegalTransition)
	}
	if r.State != Invalid && (r.IdempotencyKey == "" || len(r.Payout) == 0 || r.AmountCents <= 0) {
		return fmt.Errorf("import batch %s row %d: a %s row needs an idempotency key, a payout and a positive amount",
			im.id, r.Row, r.State)
	}
	if im.tx == nil {
		if err := im.begin(); err != nil {
			return err
		}
	}
	cells, err := json.Marshal(nonNil(r.Cells))
	if err != nil {
		return fmt.Errorf("import batch %s row %d: %w", im.id, r.Row, err)
	}
	var payout any
	if len(r.Payout) > 0 {
		if !json.Valid(r.Payout) {
			return fmt.Errorf("import batch %s row %d: payout is not valid JSON", im.id, r.Row)
		}
		payout = string(r.Payout)
	}
	_, err = im.stmt.ExecContext(im.ctx, im.num, r.Row, im.seq+1, string(cells), payout, r.AmountCents,
		r.Document, r.ISPB, r.Branch, r.Account, r.Reference, nullString(r.IdempotencyKey), r.State,
		nullString(r.ErrorCode), nullString(r.ErrorMessage), fmtTime(im.l.now()))
	if err != nil {
		// A failed statement leaves the transaction open and intact
		// (SQLite's default ABORT undoes only the statement).
		if strings.Contains(err.Error(), "UNIQUE constraint failed: rows.idempotency_key") {
			return im.keyConflict(r)
		}
		if strings.Contains(err.Error(), "UNIQUE constraint failed: rows.batch, rows.row") {
			return fmt.Errorf("import batch %s row %d: row added twice", im.id, r.Row)
		}
		im.rollback()
		return fmt.Errorf("import batch %s row %d: %w", im.id, r.Row, err)
	}
	im.seq++
	im.inTx++
	if r.State == Invalid {
		im.invalid++
	} else {
		im.valid++
		im.cents += r.AmountCents
	}
	if im.inTx >= importTxRows {
		return im.flush()
	}
	return nil
}

func (im *Import) keyConflict(r Row) error {
	e := &KeyConflictError{Row: r.Row, Key: r.IdempotencyKey}
	// Look inside the open transaction: the owner may be a row of this
	// import not committed yet.
	err := im.tx.QueryRowContext(im.ctx, `SELECT b.id, r.row FROM rows r JOIN batches b ON b.num = r.batch
		WHERE r.idempotency_key = ?`, r.IdempotencyKey).Scan(&e.OtherBatch, &e.OtherRow)
	if err != nil {
		im.rollback()
		return fmt.Errorf("import batch %s row %d: look up key owner: %w", im.id, r.Row, err)
	}
	return e
}

func (im *Import) begin() error {
	tx, err := im.l.w.BeginTx(im.ctx, nil)
	if err != nil {
		return fmt.Errorf("import batch %s: %w", im.id, err)
	}
	stmt, err := tx.PrepareContext(im.ctx, insertRow)
	if err != nil {
		tx.Rollback()
		return fmt.Errorf("import batch %s: %w", im.id, err)
	}
	im.tx, im.stmt, im.inTx = tx, stmt, 0
	return nil
}

// flush commits the open transaction, renewing the lease in it: a long
// import keeps its batch, and an import whose lease was taken over stops.
func (im *Import) flush() error {
	if im.tx == nil {
		return nil
	}
	if err := im.renew(im.tx); err != nil {
		im.rollback()
		return err
	}
	im.stmt.Close()
	err := im.tx.Commit()
	im.tx, im.stmt = nil, nil
	if err != nil {
		im.done = true
		return fmt.Errorf("import batch %s: commit: %w", im.id, err)
	}
	return nil
}

func (im *Import) renew(tx *sql.Tx) error {
	res, err := tx.ExecContext(im.ctx, `UPDATE batches SET lease_expires = ? WHERE num = ? AND lease_holder = ?`,
		fmtTime(im.l.now().Add(im.ttl)), im.num, im.holder)
	if err != nil {
		return fmt.Errorf("import batch %s: renew lease: %w", im.id, err)
	}
	return mustAffect(res, 1, fmt.Errorf("import batch %s for %s: %w", im.id, im.holder, ErrLeaseLost))
}

// rollback ends the import after an error; the batch stays Importing.
func (im *Import) rollback() {
	if im.tx != nil {
		im.stmt.Close()
		im.tx.Rollback()
		im.tx, im.stmt = nil, nil
	}
	im.done = true
}

// Commit writes the remaining rows and the batch totals and marks the batch
// Imported, all in the last transaction: only then does it look complete.
// The lease stays with the holder.
func (im *Import) Commit() error {
	if im.done {
		return fmt.Errorf("import batch %s: commit after commit or close", im.id)
	}
	if im.tx == nil {
		if err := im.begin(); err != nil {
			im.done = true
			return err
		}
	}
	_, err := im.tx.ExecContext(im.ctx, `UPDATE batches SET state = 'imported', rows_total = ?, rows_valid = ?,
		rows_invalid = ?, total_cents = ?, updated_at = ? WHERE num = ? AND state = 'importing'`,
		im.seq, im.valid, im.invalid, im.cents, fmtTime(im.l.now()), im.num)
	if err != nil {
		im.rollback()
		return fmt.Errorf("import batch %s: %w", im.id, err)
	}
	err = im.flush()
	im.done = true
	return err
}

// Close abandons an import not committed: the rows of the open transaction
// are rolled back and the batch stays Importing, to be started over.
// After Commit it does nothing.
func (im *Import) Close() error {
	im.rollback()
	return nil
}
