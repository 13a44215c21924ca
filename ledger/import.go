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

// importTxRows is how many rows one import transaction writes. Each commit
// writes every page it dirtied to the WAL (and, past the autocheckpoint,
// to the file) and fsyncs it (synchronous=FULL). Keys derived from
// references land at random places in the key index, so a commit of n rows
// dirties up to n of its pages: with 1,000 rows a commit, a million-row
// import wrote gigabytes; with 100,000 it writes each index page about once
// a commit, ten times in all. An interrupted import starts over anyway (the
// batch stays importing until Commit), so a large transaction loses
// nothing. It holds the writer for about a second, far below the busy
// timeout another process waits (10 s).
const importTxRows = 100_000

// ErrorCodeDuplicateKey is the error code of a row that Import stored as
// invalid because, by the time it was written, its idempotency key belonged
// to another row (another process imported it meanwhile; Add reports the
// ordinary case as *KeyConflictError). Its error message is a JSON list of
// one object {"code", "message"} naming the row that owns the key.
const ErrorCodeDuplicateKey = "duplicate_idempotency_key"

// KeyConflictError is returned by Import.Add when the row's idempotency key
// already belongs to another row, in this batch or another one: two rows
// sharing a key would make the bank treat two payouts as one. The row was
// not recorded; the caller adds it again as invalid, saying why. With
// Import.OnKeyConflict set, it is handed to that function instead.
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
	l          *Ledger
	ctx        context.Context
	id         string
	num        int64
	holder     string
	ttl        time.Duration
	onConflict func(Row, *KeyConflictError) (Row, error)
	options    ImportOptions
	notes      bool // SetNotes was called: Commit writes options
	tx         *sql.Tx
	group      *sql.Stmt // inserts insertGroup rows
	one        *sql.Stmt // inserts one row
	owner      *sql.Stmt // finds the row owning a key
	written    *sql.Stmt // lists the seqs written in a range of ids
	buf        []pendingRow
	args       []any // the group statement's arguments, reused
	inTx       int
	seq        int
	valid      int
	invalid    int
	cents      int64
	done       bool
}

// pendingRow is a row encoded by Add, waiting in the buffer. Encoding at
// Add time means the caller may reuse its slices (csv.Reader.ReuseRecord):
// r keeps only strings and numbers; its Cells and Payout are in cells and
// payout.
type pendingRow struct {
	r       Row
	seq     int
	cells   string // r.Cells as a JSON array
	payout  any    // r.Payout as a string, or nil
	updated string
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
	options, err := json.Marshal(b.ImportOptions)
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
				header, options, state, created_at, updated_at, source_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'importing', ?, ?, ?)`,
				b.ID, b.FileName, b.FileSize, b.Format, b.AccountID, b.Environment, string(header), string(options), now, now, b.SourcePath)
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
			updated_at = ?, source_path = ? WHERE num = ?`,
			b.FileName, b.FileSize, b.Format, b.AccountID, b.Environment, string(header), string(options), now, b.SourcePath, num)
		if err != nil {
			return fmt.Errorf("import batch %s: %w", b.ID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Import{l: l, ctx: ctx, id: b.ID, num: num, holder: holder, ttl: ttl, options: b.ImportOptions}, nil
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
	reference, idempotency_key, state, error_code, error_message, updated_at, fingerprint, rail) VALUES `

const rowPlaceholders = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// onKeyConflict makes an insert skip a row whose key another row owns
// rather than fail: the UNIQUE index checks every key as it is written,
// and the rows skipped are then found and handled one by one. Any other
// constraint still fails the statement.
const onKeyConflict = ` ON CONFLICT (idempotency_key) DO NOTHING`

// OnKeyConflict makes the import leave the key check to the ledger's
// UNIQUE index, which costs nothing per row, instead of looking every key
// up as Add is called. Add then never returns *KeyConflictError: when the
// rows are written, fn is called for each row whose key another row owns
// (in its group, an earlier group or another batch; rows in input order),
// with the row as it was added (Seq set) and the conflict, and the row it
// returns is recorded in its place. That row must have the same Row, be
// Invalid and have no key. fn runs on the goroutine calling Add or Commit,
// inside the import's transaction: it must not use the ledger. An error
// from fn ends the import, as any error from Add. Call it before the first
// Add.
func (im *Import) OnKeyConflict(fn func(Row, *KeyConflictError) (Row, error)) error {
	if im.done || im.seq > 0 {
		return fmt.Errorf("import batch %s: set the key conflict handler before the first row", im.id)
	}
	im.onConflict = fn
	return nil
}

// Add records one row, in input order. r.State must be Invalid, Pending or
// Held; Seq and the outcome fields are ignored (Seq is the order of Add
// calls, from 1). A row that may be sent needs an idempotency key, a
// payout and a positive amount. A row whose key another row owns is refused
// with *KeyConflictError and the import goes on (unless OnKeyConflict
// handles it). Rows are written in groups. Add is Prepare then AddPrepared.
func (im *Import) Add(r Row) error {
	if im.done {
		return fmt.Errorf("import batch %s: add after commit or close", im.id)
	}
	p, err := im.Prepare(r)
	if err != nil {
		return err
	}
	return im.AddPrepared(p)
}

// PreparedRow is a row checked and encoded by Import.Prepare, for
// Import.AddPrepared.
type PreparedRow struct {
	p  pendingRow
	ok bool // made by Prepare
}

// Prepare checks r and encodes it for the rows table, the part of Add that
// needs no ledger. Unlike Import's other methods it may be called from any
// goroutine, also while another one calls AddPrepared: encoding the next
// rows then overlaps writing earlier ones. The result keeps none of r's
// slices. Its errors are Add's for a row that cannot be recorded.
func (im *Import) Prepare(r Row) (PreparedRow, error) {
	p, err := im.encode(r)
	return PreparedRow{p: p, ok: err == nil}, err
}

// AddPrepared records a row that Prepare made, in input order, as Add does.
func (im *Import) AddPrepared(pr PreparedRow) error {
	if im.done {
		return fmt.Errorf("import batch %s: add after commit or close", im.id)
	}
	if !pr.ok {
		return fmt.Errorf("import batch %s: add a row Prepare did not make", im.id)
	}
	p := pr.p
	if p.r.IdempotencyKey != "" && im.onConflict == nil {
		if err := im.checkKey(p.r); err != nil {
			return err
		}
	}
	im.seq++
	p.seq = im.seq
	im.buf = append(im.buf, p)
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

// encode checks r and encodes it for the rows table. It reads only what
// does not change after BeginImport, so Prepare may run it anywhere.
func (im *Import) encode(r Row) (pendingRow, error) {
	switch r.State {
	case Invalid, Pending, Held:
	default:
		return pendingRow{}, fmt.Errorf("import batch %s row %d: state %q at import: %w", im.id, r.Row, r.State, ErrIllegalTransition)
	}
	if r.State != Invalid && (r.IdempotencyKey == "" || len(r.Payout) == 0 || r.AmountCents <= 0) {
		return pendingRow{}, fmt.Errorf("import batch %s row %d: a %s row needs an idempotency key, a payout and a positive amount",
			im.id, r.Row, r.State)
	}
	if r.Row < 1 {
		return pendingRow{}, fmt.Errorf("import batch %s: row number %d: rows are numbered from 1", im.id, r.Row)
	}
	size := 2 // exact when every cell is plain: the buffer never grows
	for _, c := range r.Cells {
		size += len(c) + 3
	}
	p := pendingRow{cells: string(appendJSONStrings(make([]byte, 0, size), r.Cells)), updated: fmtTime(im.l.now())}
	if len(r.Payout) > 0 {
		if !json.Valid(r.Payout) {
			return pendingRow{}, fmt.Errorf("import batch %s row %d: payout is not valid JSON", im.id, r.Row)
		}
		p.payout = string(r.Payout)
	}
	r.Cells, r.Payout = nil, nil
	p.r = r
	return p, nil
}

// appendJSONStrings appends ss to b as a JSON array, byte for byte as
// json.Marshal writes a []string (nil as []). Most cells are plain ASCII
// and are copied as they are; any other cell is left to encoding/json,
// so that escaping (HTML characters, invalid UTF-8, U+2028) stays its.
func appendJSONStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		if !plainJSON(s) {
			q, _ := json.Marshal(s) // a string always encodes
			b = append(b, q...)
			continue
		}
		b = append(b, '"')
		b = append(b, s...)
		b = append(b, '"')
	}
	return append(b, ']')
}

// plainJSON reports whether json.Marshal writes s between quotes unchanged.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// checkKey returns *KeyConflictError if r's key is already in the ledger
// or in the rows buffered but not yet written, so that Add can refuse the
// very row at fault while still inserting rows in groups.
func (im *Import) checkKey(r Row) error {
	for _, p := range im.buf {
		if p.r.IdempotencyKey == r.IdempotencyKey {
			return &KeyConflictError{Row: r.Row, Key: r.IdempotencyKey, OtherBatch: im.id, OtherRow: p.r.Row}
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

// appendArgs appends p's values in insertColumns' order.
func (im *Import) appendArgs(args []any, p *pendingRow) []any {
	r := &p.r
	return append(args, rowID(im.num, p.seq), im.num, r.Row, p.seq, p.cells, p.payout, r.AmountCents,
		r.Document, r.ISPB, r.Branch, r.Account, r.Reference, nullString(r.IdempotencyKey), string(r.State),
		nullString(r.ErrorCode), nullString(r.ErrorMessage), p.updated, nullString(r.Fingerprint), railOf(r.Rail))
}

// railOf is the rail stored for a row: "" is a TED.
func railOf(rail string) string {
	if rail == "" {
		return RailTED
	}
	return rail
}

// write inserts the buffered rows in the open transaction (opening one if
// needed). A row whose key is taken is skipped by the statement (ON
// CONFLICT DO NOTHING), so the UNIQUE index makes the check that a lookup
// per row would; only when a group comes out short are its rows looked at.
// Any other constraint undoes the group statement as a whole (SQLite aborts
// just that statement) and the rows go in one at a time, so that the one at
// fault is found and named.
func (im *Import) write() error {
	if len(im.buf) == 0 {
		return nil
	}
	if im.tx == nil {
		if err := im.begin(); err != nil {
			return err
		}
	}
	if len(im.buf) == insertGroup {
		args := im.args[:0]
		for i := range im.buf {
			args = im.appendArgs(args, &im.buf[i])
		}
		res, err := im.group.ExecContext(im.ctx, args...)
		clear(args) // keep no row's strings alive
		im.args = args[:0]
		var n int64
		if err == nil {
			n, err = res.RowsAffected()
		}
		switch {
		case err == nil && n == int64(len(im.buf)):
			for _, p := range im.buf {
				im.count(p.r.State, p.r.AmountCents)
			}
		case err == nil:
			if err := im.resolveGroup(); err != nil {
				im.rollback()
				return err
			}
		case !isConstraint(err):
			im.rollback()
			return fmt.Errorf("import batch %s rows %d–%d: %w", im.id, im.buf[0].r.Row, im.buf[len(im.buf)-1].r.Row, err)
		default:
			if err := im.writeEach(); err != nil {
				im.rollback()
				return err
			}
		}
	} else if err := im.writeEach(); err != nil {
		im.rollback()
		return err
	}
	im.inTx += len(im.buf)
	clear(im.buf)
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

// resolveGroup handles a group statement that wrote fewer rows than it
// had: the rows it skipped are those whose key was taken, by a row of
// another batch, an earlier row of this import or an earlier row of the
// group itself (SQLite inserts the VALUES in order).
func (im *Import) resolveGroup() error {
	first, last := im.buf[0].seq, im.buf[len(im.buf)-1].seq
	rows, err := im.written.QueryContext(im.ctx, rowID(im.num, first), rowID(im.num, last))
	if err != nil {
		return fmt.Errorf("import batch %s rows %d–%d: %w", im.id, im.buf[0].r.Row, im.buf[len(im.buf)-1].r.Row, err)
	}
	written := make([]bool, last-first+1)
	for rows.Next() {
		var seq int
		if err := rows.Scan(&seq); err != nil {
			rows.Close()
			return fmt.Errorf("import batch %s rows %d–%d: %w", im.id, im.buf[0].r.Row, im.buf[len(im.buf)-1].r.Row, err)
		}
		written[seq-first] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("import batch %s rows %d–%d: %w", im.id, im.buf[0].r.Row, im.buf[len(im.buf)-1].r.Row, err)
	}
	for i := range im.buf {
		p := &im.buf[i]
		if written[p.seq-first] {
			im.count(p.r.State, p.r.AmountCents)
			continue
		}
		if err := im.replace(p); err != nil {
			return err
		}
	}
	return nil
}

// writeEach inserts the buffered rows one at a time.
func (im *Import) writeEach() error {
	for i := range im.buf {
		if err := im.writeOne(&im.buf[i]); err != nil {
			return err
		}
	}
	return nil
}

// writeOne inserts one row; a row skipped for its key is replaced.
func (im *Import) writeOne(p *pendingRow) error {
	res, err := im.one.ExecContext(im.ctx, im.appendArgs(make([]any, 0, 18), p)...)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	switch {
	case err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed: rows.batch, rows.row"):
		return fmt.Errorf("import batch %s row %d: row added twice", im.id, p.r.Row)
	case err != nil:
		return fmt.Errorf("import batch %s row %d: %w", im.id, p.r.Row, err)
	case n == 0:
		return im.replace(p)
	}
	im.count(p.r.State, p.r.AmountCents)
	return nil
}

// replace records, in place of p, which was not written because its key
// belongs to another row, the invalid row that says so: the one
// OnKeyConflict's function returns, or else one with ErrorCodeDuplicateKey
// (Add had looked the key up, so another process wrote it since).
func (im *Import) replace(p *pendingRow) error {
	kc := &KeyConflictError{Row: p.r.Row, Key: p.r.IdempotencyKey}
	// Look inside the open transaction: the owner may be a row of this
	// import not committed yet.
	if err := im.owner.QueryRowContext(im.ctx, p.r.IdempotencyKey).Scan(&kc.OtherBatch, &kc.OtherRow); err != nil {
		return fmt.Errorf("import batch %s row %d: look up owner of key: %w", im.id, p.r.Row, err)
	}
	q := *p
	if im.onConflict == nil {
		msg, _ := json.Marshal([]map[string]string{{"code": ErrorCodeDuplicateKey,
			"message": fmt.Sprintf("idempotency key %s already used by batch %s row %d", kc.Key, kc.OtherBatch, kc.OtherRow)}})
		q.r.IdempotencyKey, q.r.State, q.r.ErrorCode, q.r.ErrorMessage = "", Invalid, ErrorCodeDuplicateKey, string(msg)
	} else {
		r := p.r
		r.Seq = p.seq
		if err := json.Unmarshal([]byte(p.cells), &r.Cells); err != nil {
			return fmt.Errorf("import batch %s row %d: %w", im.id, p.r.Row, err)
		}
		if s, ok := p.payout.(string); ok {
			r.Payout = json.RawMessage(s)
		}
		nr, err := im.onConflict(r, kc)
		if err != nil {
			return fmt.Errorf("import batch %s row %d: %w", im.id, p.r.Row, err)
		}
		if nr.Row != r.Row || nr.State != Invalid || nr.IdempotencyKey != "" {
			return fmt.Errorf("import batch %s row %d: a row whose key is taken must be replaced by an invalid row without a key, got row %d %s",
				im.id, p.r.Row, nr.Row, nr.State)
		}
		if q, err = im.encode(nr); err != nil {
			return err
		}
		q.seq = p.seq
	}
	if _, err := im.one.ExecContext(im.ctx, im.appendArgs(make([]any, 0, 18), &q)...); err != nil {
		return fmt.Errorf("import batch %s row %d: %w", im.id, p.r.Row, err)
	}
	im.count(Invalid, 0)
	return nil
}

func (im *Import) begin() error {
	tx, err := im.l.w.BeginTx(im.ctx, nil)
	if err != nil {
		return fmt.Errorf("import batch %s: %w", im.id, err)
	}
	var stmts []*sql.Stmt
	for _, q := range []string{
		insertColumns + strings.Repeat(rowPlaceholders+",", insertGroup-1) + rowPlaceholders + onKeyConflict,
		insertColumns + rowPlaceholders + onKeyConflict,
		`SELECT b.id, r.row FROM rows r JOIN batches b ON b.num = r.batch WHERE r.idempotency_key = ?`,
		`SELECT seq FROM rows WHERE id BETWEEN ? AND ?`,
	} {
		st, err := tx.PrepareContext(im.ctx, q)
		if err != nil {
			for _, st := range stmts {
				st.Close()
			}
			tx.Rollback()
			return fmt.Errorf("import batch %s: %w", im.id, err)
		}
		stmts = append(stmts, st)
	}
	im.tx, im.group, im.one, im.owner, im.written, im.inTx = tx, stmts[0], stmts[1], stmts[2], stmts[3], 0
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
	im.written.Close()
	im.group, im.one, im.owner, im.written = nil, nil, nil, nil
}

// SetNotes records what the check said about the file as a whole with the
// batch's ImportOptions; Commit writes them.
func (im *Import) SetNotes(notes []string) {
	im.options.Notes = append([]string(nil), notes...)
	im.notes = true
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
	if err == nil && im.notes {
		var options []byte
		if options, err = json.Marshal(im.options); err == nil {
			_, err = im.tx.ExecContext(im.ctx, `UPDATE batches SET options = ? WHERE num = ?`, string(options), im.num)
		}
	}
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
