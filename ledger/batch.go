package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// BatchState is where a batch stands as a whole.
type BatchState string

// Batch states. A batch is Importing from BeginImport until Import.Commit;
// a batch found Importing was interrupted and its import starts over.
const (
	BatchImporting BatchState = "importing"
	BatchImported  BatchState = "imported"
	BatchRunning   BatchState = "running"
	BatchDone      BatchState = "done"
)

// ImportOptions are how a batch's file was read, recorded with the batch
// (as a JSON object, its keys the json names below) so that a resume and
// the results sheet read and write it the same way without the file.
type ImportOptions struct {
	// Decimal is the decimal convention asked for: "auto", "comma" or
	// "point" (validate.Decimal's String).
	Decimal string `json:"decimal,omitempty"`
	// Sheet is the XLSX worksheet asked for; "" for the first that has a
	// header row.
	Sheet string `json:"sheet,omitempty"`
	// HeaderRow is the header's row asked for, as Excel numbers it; 0 when
	// lote found it.
	HeaderRow int `json:"header_row,omitempty"`
	// Separator is a CSV input's field separator, written as it is ("\t"
	// for a tab); "" when the input was not CSV. The results sheet is
	// written with it.
	Separator string `json:"separator,omitempty"`
	// Notes are what the check said about the file as a whole (where the
	// table was found, columns not read, totals rows skipped), set by
	// Import.SetNotes.
	Notes []string `json:"notes,omitempty"`
}

// ErrNotFound is returned when a batch or row is not in the ledger.
var ErrNotFound = errors.New("not found")

// ErrAlreadyImported is returned by BeginImport for a batch whose import
// completed: the same file is the same batch, to be resumed, not imported again.
var ErrAlreadyImported = errors.New("batch already imported")

// ErrIllegalTransition is wrapped by every method that refuses a state change
// because the batch or row is not in a state the change starts from.
var ErrIllegalTransition = errors.New("illegal state transition")

// Batch is one imported file.
type Batch struct {
	// ID is the hex SHA-256 of the file's bytes (64 lower-case hex digits).
	ID          string
	FileName    string
	FileSize    int64 // bytes
	Format      string
	AccountID   string
	Environment string
	// Header is the header row as written in the sheet.
	Header []string
	// ImportOptions are the options that changed how cells were read, such
	// as the decimal convention, so a resume reads nothing differently.
	ImportOptions ImportOptions
	// SourcePath is the absolute path the file was run from, "" if not
	// known: a batch whose file now holds other bytes was superseded.
	SourcePath string

	// Set by the ledger; ignored by BeginImport.
	State        BatchState
	Rows         int   // rows imported, invalid included
	Valid        int   // rows that may be sent (pending or held at import)
	Invalid      int   // rows that failed validation
	TotalCents   int64 // sum of the valid rows' amounts, in cents
	ResultsPath  string
	LeaseHolder  string    // "" when no one holds the lease
	LeaseExpires time.Time // zero when no one holds the lease
	Created      time.Time
	Updated      time.Time
}

const batchColumns = `id, file_name, file_size, format, account_id, environment, header, options, state,
	rows_total, rows_valid, rows_invalid, total_cents, results_path, lease_holder, lease_expires, created_at, updated_at, source_path`

func scanBatch(sc interface{ Scan(...any) error }) (Batch, error) {
	var (
		b                         Batch
		header, options           string
		holder, expires, cre, upd sql.NullString
	)
	err := sc.Scan(&b.ID, &b.FileName, &b.FileSize, &b.Format, &b.AccountID, &b.Environment, &header, &options, &b.State,
		&b.Rows, &b.Valid, &b.Invalid, &b.TotalCents, &b.ResultsPath, &holder, &expires, &cre, &upd, &b.SourcePath)
	if err != nil {
		return Batch{}, err
	}
	if err := json.Unmarshal([]byte(header), &b.Header); err != nil {
		return Batch{}, fmt.Errorf("batch %s header: %w", b.ID, err)
	}
	if err := json.Unmarshal([]byte(options), &b.ImportOptions); err != nil {
		return Batch{}, fmt.Errorf("batch %s options: %w", b.ID, err)
	}
	b.LeaseHolder = holder.String
	for _, p := range []struct {
		dst *time.Time
		src sql.NullString
	}{{&b.LeaseExpires, expires}, {&b.Created, cre}, {&b.Updated, upd}} {
		if *p.dst, err = parseTime(p.src); err != nil {
			return Batch{}, fmt.Errorf("batch %s: %w", b.ID, err)
		}
	}
	return b, nil
}

// Batch returns the batch with the given id, or an error wrapping
// ErrNotFound. Finding a batch done is one indexed lookup, whatever its size.
func (l *Ledger) Batch(ctx context.Context, id string) (Batch, error) {
	b, err := scanBatch(l.r.QueryRowContext(ctx, `SELECT `+batchColumns+` FROM batches WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Batch{}, fmt.Errorf("batch %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Batch{}, fmt.Errorf("read batch %s: %w", id, err)
	}
	return b, nil
}

// Batches lists every batch, newest first.
func (l *Ledger) Batches(ctx context.Context) ([]Batch, error) {
	rs, err := l.r.QueryContext(ctx, `SELECT `+batchColumns+` FROM batches ORDER BY created_at DESC, num DESC`)
	if err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	defer rs.Close()
	var out []Batch
	for rs.Next() {
		b, err := scanBatch(rs)
		if err != nil {
			return nil, fmt.Errorf("list batches: %w", err)
		}
		out = append(out, b)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	return out, nil
}

// batchSources lists the states SetBatchState may move a batch to state
// from. importing → imported happens only in Import.Commit, with the totals.
func batchSources(state BatchState) []BatchState {
	switch state {
	case BatchRunning:
		return []BatchState{BatchImported, BatchDone}
	case BatchDone:
		return []BatchState{BatchImported, BatchRunning}
	}
	return nil
}

// SetBatchState moves a batch to state: imported → running, running → done,
// imported → done, done → running. Moving to done is refused while any row is
// still pending or attempted, because a done batch is skipped on resume.
func (l *Ledger) SetBatchState(ctx context.Context, id string, state BatchState) error {
	from := batchSources(state)
	if from == nil {
		return fmt.Errorf("set batch %s to %s: %w", id, state, ErrIllegalTransition)
	}
	return l.inTx(ctx, func(tx *sql.Tx) error {
		var cur BatchState
		var num int64
		err := tx.QueryRowContext(ctx, `SELECT num, state FROM batches WHERE id = ?`, id).Scan(&num, &cur)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("set batch %s to %s: %w", id, state, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("set batch %s to %s: %w", id, state, err)
		}
		if cur == state {
			return nil
		}
		legal := false
		for _, f := range from {
			legal = legal || f == cur
		}
		if !legal {
			return fmt.Errorf("set batch %s from %s to %s: %w", id, cur, state, ErrIllegalTransition)
		}
		if state == BatchDone {
			var left int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM rows
				WHERE batch = ? AND state IN ('pending', 'attempted') LIMIT 1)`, num).Scan(&left); err != nil {
				return fmt.Errorf("set batch %s to done: %w", id, err)
			}
			if left > 0 {
				return fmt.Errorf("set batch %s to done: rows are still pending or attempted: %w", id, ErrIllegalTransition)
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE batches SET state = ?, updated_at = ? WHERE num = ?`, state, fmtTime(l.now()), num)
		if err != nil {
			return fmt.Errorf("set batch %s to %s: %w", id, state, err)
		}
		return nil
	})
}

// SetResultsPath records where the batch's results sheet was written.
func (l *Ledger) SetResultsPath(ctx context.Context, id, path string) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE batches SET results_path = ?, updated_at = ? WHERE id = ?`, path, fmtTime(l.now()), id)
		if err != nil {
			return fmt.Errorf("set results path of batch %s: %w", id, err)
		}
		return mustAffect(res, 1, fmt.Errorf("set results path of batch %s: %w", id, ErrNotFound))
	})
}

// inTx runs fn in an immediate transaction on the writer and commits it,
// or rolls it back if fn fails.
func (l *Ledger) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin ledger transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit ledger transaction: %w", err)
	}
	return nil
}

// mustAffect returns errWrong unless res changed exactly n rows.
func mustAffect(res sql.Result, n int64, errWrong error) error {
	got, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if got != n {
		return errWrong
	}
	return nil
}

// batchNum resolves a batch id to its internal number inside tx.
func batchNum(ctx context.Context, tx *sql.Tx, id string) (num int64, state BatchState, err error) {
	err = tx.QueryRowContext(ctx, `SELECT num, state FROM batches WHERE id = ?`, id).Scan(&num, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", fmt.Errorf("batch %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return 0, "", fmt.Errorf("batch %s: %w", id, err)
	}
	return num, state, nil
}
