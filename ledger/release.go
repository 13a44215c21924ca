package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// neverSentQuery is true for a batch from which nothing can have reached
// the bank: no row ever left invalid, pending or held (MarkAttempted sets
// first_attempted_at before any request), no attempt is logged, nobody
// holds a live lease on it, and the web page has no open upload for it (a
// batch awaiting approval is someone's work in progress; one rejected or
// withdrawn is no one's, and its upload record, with who decided and why,
// stays).
const neverSentQuery = nothingSentQuery + `
	AND NOT EXISTS (SELECT 1 FROM uploads WHERE id = b.id AND rejected_by IS NULL AND withdrawn_by IS NULL)
	FROM batches b WHERE b.id = ?`

// nothingSentQuery is neverSentQuery less its upload: true for a batch
// from which nothing can have reached the bank and that nobody holds.
const nothingSentQuery = `SELECT
	NOT EXISTS (SELECT 1 FROM rows WHERE batch = b.num
		AND (state NOT IN ('invalid', 'pending', 'held') OR first_attempted_at IS NOT NULL))
	AND NOT EXISTS (SELECT 1 FROM attempts WHERE batch = b.num)
	AND (b.lease_holder IS NULL OR b.lease_expires <= ?)`

// NeverSent reports whether nothing of the batch was ever sent and no one
// is working on it: ForgetNeverSent would remove it.
func (l *Ledger) NeverSent(ctx context.Context, batch string) (bool, error) {
	var ok bool
	err := l.r.QueryRowContext(ctx, neverSentQuery, fmtTime(l.now()), batch).Scan(&ok)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("batch %s: %w", batch, ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("check batch %s: %w", batch, err)
	}
	return ok, nil
}

// ForgetNeverSent deletes a batch from which nothing was ever sent (see
// NeverSent, checked again in the same transaction), with its rows, and
// reports whether it did. Such a batch holds idempotency keys that Stone
// never saw: a sheet stopped for its invalid rows keeps its valid rows'
// keys, which a corrected sheet with the same references needs. Running
// the forgotten file again imports it anew. A batch that no longer
// qualifies is left as it is (false, nil).
func (l *Ledger) ForgetNeverSent(ctx context.Context, batch string) (bool, error) {
	return l.forget(ctx, batch, neverSentQuery)
}

// ForgetReimport is ForgetNeverSent for a batch whose import the caller
// is about to redo (its lease released): an upload record of it does not
// keep it, and is kept, for the batch imported again from the same bytes;
// the warnings stored for its rows go with them.
func (l *Ledger) ForgetReimport(ctx context.Context, batch string) (bool, error) {
	return l.forget(ctx, batch, nothingSentQuery+` FROM batches b WHERE b.id = ?`, `DELETE FROM upload_warnings WHERE batch = ?`)
}

func (l *Ledger) forget(ctx context.Context, batch, query string, also ...string) (bool, error) {
	forgot := false
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		var ok bool
		err := tx.QueryRowContext(ctx, query, fmtTime(l.now()), batch).Scan(&ok)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil || !ok {
			return err
		}
		for _, q := range []string{
			`DELETE FROM claims WHERE batch = (SELECT num FROM batches WHERE id = ?)`,
			`DELETE FROM releases WHERE batch = (SELECT num FROM batches WHERE id = ?)`,
			`DELETE FROM rows WHERE batch = (SELECT num FROM batches WHERE id = ?)`,
			`DELETE FROM batches WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, batch); err != nil {
				return err
			}
		}
		for _, q := range also {
			if _, err := tx.ExecContext(ctx, q, batch); err != nil {
				return err
			}
		}
		forgot = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("forget batch %s: %w", batch, err)
	}
	return forgot, nil
}

// ReleaseKeys gives up the idempotency keys of a checked sheet: an
// uploaded batch with invalid rows, from which nothing was ever sent. Such
// a sheet is never submitted (Submit refuses it); it is corrected and
// uploaded again, and the corrected sheet, a new batch, repeats the
// references whose keys these rows took when they were imported. Each of
// its rows to send takes instead the provisional key of its place,
// "lote-" + the batch id's first 40 hex digits + "-" + the row, which no
// other batch can hold. It reports how many rows gave up a key; a batch
// that does not qualify is left as it is (0, nil).
func (l *Ledger) ReleaseKeys(ctx context.Context, batch string) (int, error) {
	n := 0
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		var ok bool
		err := tx.QueryRowContext(ctx, nothingSentQuery+` AND b.rows_invalid > 0
			AND EXISTS (SELECT 1 FROM uploads WHERE id = b.id AND submitted_by IS NULL)
			FROM batches b WHERE b.id = ?`, fmtTime(l.now()), batch).Scan(&ok)
		if errors.Is(err, sql.ErrNoRows) || err == nil && !ok {
			return nil
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE rows SET idempotency_key = 'lote-' || substr(?, 1, 40) || '-' || row
			WHERE batch = (SELECT num FROM batches WHERE id = ?) AND idempotency_key IS NOT NULL
			AND idempotency_key <> 'lote-' || substr(?, 1, 40) || '-' || row`, batch, batch, batch)
		if err != nil {
			return err
		}
		m, err := res.RowsAffected()
		n = int(m)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("release the keys of batch %s: %w", batch, err)
	}
	return n, nil
}
