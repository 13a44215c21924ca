package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"
)

// pageRows is how many rows one query of an iterator reads. Pages keep
// memory bounded and no read transaction open while the caller works (a
// long-lived reader would stop the WAL from being checkpointed).
const pageRows = 1000

// Row returns one row of a batch (row as Excel numbers it), or an error
// wrapping ErrNotFound.
func (l *Ledger) Row(ctx context.Context, batch string, row int) (Row, error) {
	r, err := scanRow(l.r.QueryRowContext(ctx, `SELECT `+rowColumns+` FROM rows r JOIN batches b ON b.num = r.batch
		WHERE b.id = ? AND r.row = ?`, batch, row))
	if errors.Is(err, sql.ErrNoRows) {
		return Row{}, fmt.Errorf("batch %s row %d: %w", batch, row, ErrNotFound)
	}
	if err != nil {
		return Row{}, fmt.Errorf("read batch %s row %d: %w", batch, row, err)
	}
	return r, nil
}

// Rows yields every row of the batch in input order, a page at a time, so
// that a results sheet of a million rows never holds them all in memory.
// Rows changed while iterating are seen as of when their page is read.
// A failure is yielded once as the error, and iteration stops.
func (l *Ledger) Rows(ctx context.Context, batch string) iter.Seq2[Row, error] {
	// Ranges over id, which orders rows by batch then seq.
	return l.pages(ctx, batch, `SELECT `+rowColumns+` FROM rows r WHERE r.id > ?1 AND r.id < ?2 ORDER BY r.id LIMIT ?3`)
}

// Outstanding yields the rows still to work on, pending or attempted, in
// input order, with their idempotency keys and first-attempt times; it is
// what a resume sends. Paged like Rows, so the caller may change the rows'
// states while iterating.
func (l *Ledger) Outstanding(ctx context.Context, batch string) iter.Seq2[Row, error] {
	// The partial index holds only outstanding rows, as (batch, id): a
	// resume with little left does not scan the done rows.
	return l.pages(ctx, batch, `SELECT `+rowColumns+` FROM rows r INDEXED BY rows_outstanding
		WHERE r.batch = ?4 AND r.id > ?1 AND r.id < ?2 AND r.state IN ('pending', 'attempted') ORDER BY r.id LIMIT ?3`)
}

// pages runs q, whose parameters are ?1 and ?2 (the id range, exclusive),
// ?3 (the page size) and ?4 (the batch number, if used), page after page.
func (l *Ledger) pages(ctx context.Context, batch, q string) iter.Seq2[Row, error] {
	var more func(num int64) []any
	if strings.Contains(q, "?4") {
		more = func(num int64) []any { return []any{num} }
	}
	return pagesOf(ctx, l, batch, q, more, scanRow, func(r Row) int { return r.Seq })
}

// pagesOf yields the rows of a batch that q selects, a page at a time:
// q's parameters are ?1 and ?2 (the id range, exclusive) and ?3 (the page
// size), then what more returns for the batch number (nil: nothing). Each
// page's cursor is closed before its rows are yielded, so the caller may
// write to the ledger while iterating; seq gives a row's input order, from
// which the next page starts.
func pagesOf[T any](ctx context.Context, l *Ledger, batch, q string, more func(num int64) []any,
	scan func(interface{ Scan(...any) error }) (T, error), seq func(T) int) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		var num int64
		err := l.r.QueryRowContext(ctx, `SELECT num FROM batches WHERE id = ?`, batch).Scan(&num)
		if errors.Is(err, sql.ErrNoRows) {
			err = fmt.Errorf("batch %s: %w", batch, ErrNotFound)
		}
		if err != nil {
			yield(zero, fmt.Errorf("read rows of batch %s: %w", batch, err))
			return
		}
		after := 0
		page := make([]T, 0, pageRows)
		for {
			args := []any{rowID(num, after), rowID(num+1, 0), pageRows}
			if more != nil {
				args = append(args, more(num)...)
			}
			page = page[:0]
			if err := readPage(ctx, l, q, args, scan, &page); err != nil {
				yield(zero, fmt.Errorf("read rows of batch %s: %w", batch, err))
				return
			}
			for _, r := range page {
				if !yield(r, nil) {
					return
				}
			}
			if len(page) < pageRows {
				return
			}
			after = seq(page[len(page)-1])
		}
	}
}

// readPage reads one page and closes its cursor before any row is yielded.
func readPage[T any](ctx context.Context, l *Ledger, q string, args []any,
	scan func(interface{ Scan(...any) error }) (T, error), page *[]T) error {
	rs, err := l.r.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		r, err := scan(rs)
		if err != nil {
			return err
		}
		*page = append(*page, r)
	}
	return rs.Err()
}

// Totals are the counts and sums of one state's rows.
type Totals struct {
	Rows  int
	Cents int64 // sum of amounts, in cents
	Fees  int64 // sum of bank fees, in cents
}

// Summary counts a batch's rows by state, with their amounts and fees.
// States with no rows are absent.
func (l *Ledger) Summary(ctx context.Context, batch string) (map[State]Totals, error) {
	if _, err := l.Batch(ctx, batch); err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	rs, err := l.r.QueryContext(ctx, `SELECT r.state, count(*), coalesce(sum(r.amount_cents), 0), coalesce(sum(r.fee_cents), 0)
		FROM rows r JOIN batches b ON b.num = r.batch WHERE b.id = ? GROUP BY r.state`, batch)
	if err != nil {
		return nil, fmt.Errorf("summary of batch %s: %w", batch, err)
	}
	defer rs.Close()
	out := map[State]Totals{}
	for rs.Next() {
		var s State
		var t Totals
		if err := rs.Scan(&s, &t.Rows, &t.Cents, &t.Fees); err != nil {
			return nil, fmt.Errorf("summary of batch %s: %w", batch, err)
		}
		out[s] = t
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("summary of batch %s: %w", batch, err)
	}
	return out, nil
}

// Attempts returns a row's attempts, oldest first.
func (l *Ledger) Attempts(ctx context.Context, batch string, row int) ([]Attempt, error) {
	rs, err := l.r.QueryContext(ctx, `SELECT a.at, a.http_status, a.request_id, a.latency_ms, a.outcome, a.error
		FROM attempts a JOIN batches b ON b.num = a.batch WHERE b.id = ? AND a.row = ? ORDER BY a.id`, batch, row)
	if err != nil {
		return nil, fmt.Errorf("attempts of batch %s row %d: %w", batch, row, err)
	}
	defer rs.Close()
	var out []Attempt
	for rs.Next() {
		var a Attempt
		var at sql.NullString
		var ms int64
		if err := rs.Scan(&at, &a.HTTPStatus, &a.RequestID, &ms, &a.Outcome, &a.Error); err != nil {
			return nil, fmt.Errorf("attempts of batch %s row %d: %w", batch, row, err)
		}
		if a.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("attempts of batch %s row %d: %w", batch, row, err)
		}
		a.Latency = time.Duration(ms) * time.Millisecond
		out = append(out, a)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("attempts of batch %s row %d: %w", batch, row, err)
	}
	return out, nil
}

// StatusChange is one entry of a transfer's status history.
type StatusChange struct {
	Status string
	At     time.Time
	Source string // "create", or what the caller passed to RecordStatus
}

// StatusHistory returns the statuses recorded for a row's transfer, oldest first.
func (l *Ledger) StatusHistory(ctx context.Context, batch string, row int) ([]StatusChange, error) {
	rs, err := l.r.QueryContext(ctx, `SELECT h.status, h.at, h.source FROM transfer_status_history h
		JOIN batches b ON b.num = h.batch WHERE b.id = ? AND h.row = ? ORDER BY h.id`, batch, row)
	if err != nil {
		return nil, fmt.Errorf("status history of batch %s row %d: %w", batch, row, err)
	}
	defer rs.Close()
	var out []StatusChange
	for rs.Next() {
		var c StatusChange
		var at sql.NullString
		if err := rs.Scan(&c.Status, &at, &c.Source); err != nil {
			return nil, fmt.Errorf("status history of batch %s row %d: %w", batch, row, err)
		}
		if c.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("status history of batch %s row %d: %w", batch, row, err)
		}
		out = append(out, c)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("status history of batch %s row %d: %w", batch, row, err)
	}
	return out, nil
}

// RepeatKey identifies a payout for repeat detection: the same payee,
// account and amount, paid from the same account in the same environment.
type RepeatKey struct {
	Env, AccountID                  string // the paying side
	Document, ISPB, Branch, Account string
	Amount                          int64 // cents
}

// FindRepeat looks for a payout matching p in a batch other than
// excludeBatch created after since, in a state where it may have paid
// someone: accepted, attempted or needs_review. It returns the first such
// batch and row (as Excel numbers it), newest batch first.
func (l *Ledger) FindRepeat(ctx context.Context, p RepeatKey, excludeBatch string, since time.Time) (batchID string, row int, found bool, err error) {
	// The state list repeats the partial index's WHERE so SQLite uses it.
	err = l.r.QueryRowContext(ctx, `SELECT b.id, r.row FROM rows r JOIN batches b ON b.num = r.batch
		WHERE r.document = ? AND r.account = ? AND r.amount_cents = ? AND r.ispb = ? AND r.branch = ?
		AND r.state IN ('attempted', 'accepted', 'needs_review')
		AND b.id <> ? AND b.created_at > ? AND b.environment = ? AND b.account_id = ?
		ORDER BY b.created_at DESC, r.seq LIMIT 1`,
		p.Document, p.Account, p.Amount, p.ISPB, p.Branch, excludeBatch, fmtTime(since), p.Env, p.AccountID).Scan(&batchID, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, fmt.Errorf("find repeat: %w", err)
	}
	return batchID, row, true, nil
}
