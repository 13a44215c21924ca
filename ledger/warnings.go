package ledger

import (
	"context"
	"database/sql"
	"fmt"
)

// AddWarnings stores the warnings of a batch's valid rows, by sheet row
// (header = 1), each a JSON list as its caller encodes it. The batch must
// have an upload record. Rows stored already are replaced.
func (l *Ledger) AddWarnings(ctx context.Context, batch string, warnings map[int]string) error {
	if len(warnings) == 0 {
		return nil
	}
	return l.inTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO upload_warnings (batch, row, issues) VALUES (?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("store warnings of batch %s: %w", batch, err)
		}
		defer st.Close()
		for row, issues := range warnings {
			if _, err := st.ExecContext(ctx, batch, row, issues); err != nil {
				return fmt.Errorf("store warnings of batch %s row %d: %w", batch, row, err)
			}
		}
		return nil
	})
}

// Warnings returns the stored warnings of the batch's rows from first to
// last (sheet rows, inclusive), by row.
func (l *Ledger) Warnings(ctx context.Context, batch string, first, last int) (map[int]string, error) {
	rs, err := l.r.QueryContext(ctx, `SELECT row, issues FROM upload_warnings WHERE batch = ? AND row BETWEEN ? AND ?`, batch, first, last)
	if err != nil {
		return nil, fmt.Errorf("warnings of batch %s: %w", batch, err)
	}
	defer rs.Close()
	out := map[int]string{}
	for rs.Next() {
		var row int
		var issues string
		if err := rs.Scan(&row, &issues); err != nil {
			return nil, fmt.Errorf("warnings of batch %s: %w", batch, err)
		}
		out[row] = issues
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("warnings of batch %s: %w", batch, err)
	}
	return out, nil
}

// CountWarnings counts the batch's valid rows with stored warnings.
func (l *Ledger) CountWarnings(ctx context.Context, batch string) (int, error) {
	var n int
	if err := l.r.QueryRowContext(ctx, `SELECT count(*) FROM upload_warnings WHERE batch = ?`, batch).Scan(&n); err != nil {
		return 0, fmt.Errorf("count warnings of batch %s: %w", batch, err)
	}
	return n, nil
}
