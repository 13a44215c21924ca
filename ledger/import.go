package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// importTxRows is how many rows one import transaction writes: measured at
// about 200k rows/s on modernc with synchronous=FULL; larger barely helps.
const importTxRows = 1000

// ErrorCodeDuplicateKey is the error code of a row that Import stored as
// invalid because, by the time it was written, its idempotency key belonged
// to another row (another process imported it meanwhile; Add reports the
// ordinary case as *KeyConflictError). Its error message is a JSON list of
// one object {"code", "message"} naming the row that owns the key.
const ErrorCodeDuplicateKey = "duplicate_idempotency_key"

// KeyConflictError is returned by Import.Add when the row's idempotency key
// already belongs to another row, in this batch or another one: two rows
// sharing a key would make the bank treat two payouts as one. The row was
// not recorded; the caller adds it again as invalid, saying why.
type KeyConflictError struct {
	Row        int    // the refused row, as Excel numbers it
	Key        string // the idempotency key
	OtherBatch string // the batch of the row that owns the key
	OtherRow   int    // that row, as Excel numbers it
}

// Error names the refused row and the row that owns its key.
func (e *KeyConflictError) Error() string {
	return fmt.Sprintf("row %d: idempotency key %s already used by batch %s row %d", e.Row, e.Key, e.OtherBatch, e.OtherRow)
}

// insertGroup is how many rows one INSERT statement writes: the per
// statement cost of the driver dominates single-row inserts.
const insertGroup = 50

// Import writes a batch's rows. Make one with BeginImport, call Add for
// every row in input order, then Commit. Until Commit the batch stays
// Importing, and an interrupted import is started over by the next
// BeginImport: a batch never looks complete with rows missing.
//
// An Import is used by one goroutine. Between Add calls it may hold the
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
	group   *sql.Stmt // inserts insertGroup rows
	one     *sql.Stmt // inserts one row
	owner   *sql.Stmt // finds the row owning a key
	buf     []pendingRow
	inTx    int
	seq     int
	valid   int
	invalid int
	cents   int64
	done    bool
}

// pendingRow is a row encoded by Add, waiting in the buffer. Encoding at
// Add time means the caller may reuse its slices (csv.Reader.ReuseRecord).
type pendingRow struct {
	row   int
	key   string
	state State
	cents int64
	args  []any // insertRow's arguments
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

// rowID is the rows table's key for a batch's seq-th row (see 001_init.sql).
func rowID(batch int64, seq int) int64 { return batch<<32 + int64(seq) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const insertColumns = `INSERT INTO rows (id, batch, row, seq, cells, payout, amount_cents, document, ispb, branch, account,
	reference, idempotency_key, state, error_code, error_message, updated_at) VALUES `

const rowPlaceholders = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// Add records one row, in input order. r.State must be Invalid, Pending or
// Held; Seq and the outcome fields are ignored (Seq is the order of Add
// calls, from 1). A row that may be sent needs an idempotency key, a
// payout and a positive amount. A row whose key another row owns is refused
// with *KeyConflictError and the import goes on. Rows are written in groups.
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
	if r.Row < 1 {
		return fmt.Errorf("import batch %s: row number %d: rows are numbered from 1", im.id, r.Row)
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
	if r.IdempotencyKey != "" {
		if err := im.checkKey(r); err != nil {
			return err
		}
	}
	im.seq++
	im.buf = append(im.buf, pendingRow{row: r.Row, key: r.IdempotencyKey, state: r.State, cents: r.AmountCents,
		args: []any{rowID(im.num, im.seq), im.num, r.Row, im.seq, string(cells), payout, r.AmountCents,
			r.Document, r.ISPB, r.Branch, r.Account, r.Reference, nullString(r.IdempotencyKey), string(r.State),
			nullString(r.ErrorCode), nullString(r.ErrorMessage), fmtTime(im.l.now())}})
	if len(im.buf) < insertGroup {
		return nil
	}
	if err := im.write(); err != nil {
		return err
	}
	if im.inTx >= importTxRows {
		return im.flush()
	}
	return nil
}

// checkKey returns *KeyConflictError if r's key is already in the ledger
// or in the rows buffered but not yet written, so that Add can refuse the
// very row at fault while still inserting rows in groups.
func (im *Import) checkKey(r Row) error {
	for _, p := range im.buf {
		if p.key == r.IdempotencyKey {
			return &KeyConflictError{Row: r.Row, Key: r.IdempotencyKey, OtherBatch: im.id, OtherRow: p.row}
		}
	}
	if im.tx == nil {
		if err := im.begin(); err != nil {
			return err
		}
	}
	e := &KeyConflictError{Row: r.Row, Key: r.IdempotencyKey}
	// The open transaction sees this import's rows written so far.
	err := im.owner.QueryRowContext(im.ctx, r.IdempotencyKey).Scan(&e.OtherBatch, &e.OtherRow)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		im.rollback()
		return fmt.Errorf("import batch %s row %d: look up key: %w", im.id, r.Row, err)
	}
	return e
}

// write inserts the buffered rows in the open transaction (opening one if
// needed). If the group statement hits a constraint it is undone as a whole
// (SQLite aborts just that statement) and the rows go in one at a time, so
// that the one at fault is found and handled.
func (im *Import) write() error {
	if len(im.buf) == 0 {
		return nil
	}
	if im.tx == nil {
		if err := im.begin(); err != nil {
			return err
		}
	}
	var err error
	if len(im.buf) == insertGroup {
		args := make([]any, 0, insertGroup*len(im.buf[0].args))
		for _, p := range im.buf {
			args = append(args, p.args...)
		}
		_, err = im.group.ExecContext(im.ctx, args...)
	}
	if err != nil || len(im.buf) < insertGroup {
		if err != nil && !isConstraint(err) {
			im.rollback()
			return fmt.Errorf("import batch %s rows %d–%d: %w", im.id, im.buf[0].row, im.buf[len(im.buf)-1].row, err)
		}
		for _, p := range im.buf {
			if err := im.writeOne(p); err != nil {
				im.rollback()
				return err
			}
		}
	} else {
		for _, p := range im.buf {
			im.count(p.state, p.cents)
		}
	}
	im.inTx += len(im.buf)
	im.buf = im.buf[:0]
	return nil
}

func (im *Import) count(s State, cents int64) {
	if s == Invalid {
		im.invalid++
		return
	}
	im.valid++
	im.cents += cents
}

func isConstraint(err error) bool { return strings.Contains(err.Error(), "constraint failed") }

// writeOne inserts one row; a duplicate key makes it an invalid row that
// says which row owns the key.
func (im *Import) writeOne(p pendingRow) error {
	_, err := im.one.ExecContext(im.ctx, p.args...)
	if err == nil {
		im.count(p.state, p.cents)
		return nil
	}
	if !strings.Contains(err.Error(), "UNIQUE constraint failed: rows.idempotency_key") {
		if strings.Contains(err.Error(), "UNIQUE constraint failed: rows.batch, rows.row") {
			return fmt.Errorf("import batch %s row %d: row added twice", im.id, p.row)
		}
		return fmt.Errorf("import batch %s row %d: %w", im.id, p.row, err)
	}
	var otherBatch string
	var otherRow int
	// Look inside the open transaction: the owner may be a row of this
	// import not committed yet.
	err = im.owner.QueryRowContext(im.ctx, p.key).Scan(&otherBatch, &otherRow)
	if err != nil {
		return fmt.Errorf("import batch %s row %d: look up owner of key: %w", im.id, p.row, err)
	}
	msg, _ := json.Marshal([]map[string]string{{"code": ErrorCodeDuplicateKey,
		"message": fmt.Sprintf("idempotency key %s already used by batch %s row %d", p.key, otherBatch, otherRow)}})
	args := slices.Clone(p.args)
	args[12], args[13], args[14], args[15] = nil, string(Invalid), ErrorCodeDuplicateKey, string(msg)
	if _, err := im.one.ExecContext(im.ctx, args...); err != nil {
		return fmt.Errorf("import batch %s row %d: %w", im.id, p.row, err)
	}
	im.count(Invalid, 0)
	return nil
}

func (im *Import) begin() error {
	tx, err := im.l.w.BeginTx(im.ctx, nil)
	if err != nil {
		return fmt.Errorf("import batch %s: %w", im.id, err)
	}
	group, err := tx.PrepareContext(im.ctx, insertColumns+strings.Repeat(rowPlaceholders+",", insertGroup-1)+rowPlaceholders)
	if err != nil {
		tx.Rollback()
		return fmt.Errorf("import batch %s: %w", im.id, err)
	}
	one, err := tx.PrepareContext(im.ctx, insertColumns+rowPlaceholders)
	if err != nil {
		group.Close()
		tx.Rollback()
		return fmt.Errorf("import batch %s: %w", im.id, err)
	}
	owner, err := tx.PrepareContext(im.ctx, `SELECT b.id, r.row FROM rows r JOIN batches b ON b.num = r.batch
		WHERE r.idempotency_key = ?`)
	if err != nil {
		group.Close()
		one.Close()
		tx.Rollback()
		return fmt.Errorf("import batch %s: %w", im.id, err)
	}
	im.tx, im.group, im.one, im.owner, im.inTx = tx, group, one, owner, 0
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
	im.closeStmts()
	err := im.tx.Commit()
	im.tx = nil
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
		im.closeStmts()
		im.tx.Rollback()
		im.tx = nil
	}
	im.buf = nil
	im.done = true
}

func (im *Import) closeStmts() {
	im.group.Close()
	im.one.Close()
	im.owner.Close()
	im.group, im.one, im.owner = nil, nil, nil
}

// Commit writes the remaining rows and the batch totals and marks the batch
// Imported, all in the last transaction: only then does it look complete.
// The lease stays with the holder.
func (im *Import) Commit() error {
	if im.done {
		return fmt.Errorf("import batch %s: commit after commit or close", im.id)
	}
	if err := im.write(); err != nil {
		return err
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
