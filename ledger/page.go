package ledger

import (
	"context"
	"fmt"
	"strings"
)

// RowsPage returns up to limit rows of a batch in input order, skipping
// the first offset; with onlyProblems, only rows that are invalid or carry
// an issue (an error or a warning). It serves pages of a batch on the web
// page, where a 100,000-row batch is never read whole for one screen.
func (l *Ledger) RowsPage(ctx context.Context, batch string, offset, limit int, onlyProblems bool) ([]Row, error) {
	if offset < 0 || limit <= 0 {
		return nil, fmt.Errorf("rows of batch %s: offset %d, limit %d: use offset ≥ 0 and limit > 0", batch, offset, limit)
	}
	q := `SELECT ` + rowColumns + ` FROM rows r JOIN batches b ON b.num = r.batch WHERE b.id = ?`
	if onlyProblems {
		q += ` AND (r.state = 'invalid' OR coalesce(r.error_message, '') <> '')`
	}
	q += ` ORDER BY r.id LIMIT ? OFFSET ?`
	rs, err := l.r.QueryContext(ctx, q, batch, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("rows of batch %s: %w", batch, err)
	}
	defer rs.Close()
	out := make([]Row, 0, limit)
	for rs.Next() {
		r, err := scanRow(rs)
		if err != nil {
			return nil, fmt.Errorf("rows of batch %s: %w", batch, err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("rows of batch %s: %w", batch, err)
	}
	return out, nil
}

// CountProblems counts a batch's rows that RowsPage returns with
// onlyProblems.
func (l *Ledger) CountProblems(ctx context.Context, batch string) (int, error) {
	var n int
	err := l.r.QueryRowContext(ctx, `SELECT count(*) FROM rows r JOIN batches b ON b.num = r.batch
		WHERE b.id = ? AND (r.state = 'invalid' OR coalesce(r.error_message, '') <> '')`, batch).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count problem rows of batch %s: %w", batch, err)
	}
	return n, nil
}

// RowFilter selects rows for FindRows: by state (any of States; none
// means every state) and, when Code is set, by error code.
type RowFilter struct {
	States []State
	Code   string
	// NoFingerprint selects rows without a fingerprint (imported by a
	// lote older than fingerprints).
	NoFingerprint bool
}

// FindRows returns the first limit rows of the batch that match f, in
// input order, and how many match in all.
func (l *Ledger) FindRows(ctx context.Context, batch string, f RowFilter, limit int) ([]Row, int, error) {
	where := ` WHERE b.id = ?`
	args := []any{batch}
	if len(f.States) > 0 {
		where += ` AND r.state IN (?` + strings.Repeat(", ?", len(f.States)-1) + `)`
		for _, s := range f.States {
			args = append(args, s)
		}
	}
	if f.Code != "" {
		where += ` AND r.error_code = ?`
		args = append(args, f.Code)
	}
	if f.NoFingerprint {
		where += ` AND r.fingerprint IS NULL`
	}
	var n int
	if err := l.r.QueryRowContext(ctx, `SELECT count(*) FROM rows r JOIN batches b ON b.num = r.batch`+where, args...).Scan(&n); err != nil {
		return nil, 0, fmt.Errorf("find rows of batch %s: %w", batch, err)
	}
	if n == 0 || limit <= 0 {
		return nil, n, nil
	}
	rs, err := l.r.QueryContext(ctx, `SELECT `+rowColumns+` FROM rows r JOIN batches b ON b.num = r.batch`+where+
		` ORDER BY r.id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, 0, fmt.Errorf("find rows of batch %s: %w", batch, err)
	}
	defer rs.Close()
	var out []Row
	for rs.Next() {
		r, err := scanRow(rs)
		if err != nil {
			return nil, 0, fmt.Errorf("find rows of batch %s: %w", batch, err)
		}
		out = append(out, r)
	}
	return out, n, rs.Err()
}
