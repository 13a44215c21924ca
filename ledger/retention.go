package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DefaultRetentionDays is how many days uploaded files are kept on a
// ledger where no admin set it.
const DefaultRetentionDays = 90

// MaxRetentionDays is the longest retention that can be set: ten years.
const MaxRetentionDays = 3650

// Retention is how long the files of an upload (the sheet as uploaded and
// the files made from it: its check, results and reconciliation sheets)
// are kept after the batch was last changed. The ledger keeps the batch,
// its rows and their history whatever the retention.
type Retention struct {
	// ID numbers the changes from 1; 0 is the default of a ledger on which
	// none was set.
	ID    int64
	Days  int
	SetBy string // the admin who set it
	SetAt time.Time
}

// Duration is the retention as a duration.
func (r Retention) Duration() time.Duration { return time.Duration(r.Days) * 24 * time.Hour }

// ErrBadRetention is wrapped when a retention outside 1 to
// MaxRetentionDays days is set.
var ErrBadRetention = errors.New("invalid retention")

func retentionIn(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (Retention, error) {
	var r Retention
	var at string
	err := q.QueryRowContext(ctx, `SELECT id, days, set_by, set_at FROM retention_policy ORDER BY id DESC LIMIT 1`).Scan(&r.ID, &r.Days, &r.SetBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Retention{Days: DefaultRetentionDays}, nil
	}
	if err != nil {
		return Retention{}, fmt.Errorf("read the retention: %w", err)
	}
	if r.SetAt, err = parseTime(sql.NullString{String: at, Valid: true}); err != nil {
		return Retention{}, fmt.Errorf("read the retention: %w", err)
	}
	return r, nil
}

// Retention returns the retention in force: the last change, or
// DefaultRetentionDays with ID 0.
func (l *Ledger) Retention(ctx context.Context) (Retention, error) { return retentionIn(ctx, l.r) }

// RetentionHistory returns every change of the retention, oldest first.
func (l *Ledger) RetentionHistory(ctx context.Context) ([]Retention, error) {
	rs, err := l.r.QueryContext(ctx, `SELECT id, days, set_by, set_at FROM retention_policy ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read the retention's history: %w", err)
	}
	defer rs.Close()
	var out []Retention
	for rs.Next() {
		var r Retention
		var at string
		if err := rs.Scan(&r.ID, &r.Days, &r.SetBy, &at); err != nil {
			return nil, fmt.Errorf("read the retention's history: %w", err)
		}
		if r.SetAt, err = parseTime(sql.NullString{String: at, Valid: true}); err != nil {
			return nil, fmt.Errorf("read the retention's history: %w", err)
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// SetRetention makes days the retention, recorded as set by the admin
// named by (checked in the same transaction, else ErrNotAdmin). It returns
// the retention in force and whether it changed.
func (l *Ledger) SetRetention(ctx context.Context, days int, by string) (Retention, bool, error) {
	if days < 1 || days > MaxRetentionDays {
		return Retention{}, false, fmt.Errorf("set the retention: %d days: use 1 to %d: %w", days, MaxRetentionDays, ErrBadRetention)
	}
	var (
		out     Retention
		changed bool
	)
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		var role Role
		var disabled sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT role, disabled_at FROM users WHERE name = ?`, by).Scan(&role, &disabled)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("set the retention: user %s: %w", by, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("set the retention: %w", err)
		}
		if role != RoleAdmin || disabled.Valid {
			return fmt.Errorf("set the retention: %s is not an enabled admin: %w", by, ErrNotAdmin)
		}
		cur, err := retentionIn(ctx, tx)
		if err != nil {
			return err
		}
		if cur.Days == days && cur.ID > 0 {
			out = cur
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO retention_policy (days, set_by, set_at) VALUES (?, ?, ?)`,
			days, by, fmtTime(l.now())); err != nil {
			return fmt.Errorf("set the retention: %w", err)
		}
		out, err = retentionIn(ctx, tx)
		changed = err == nil
		return err
	})
	return out, changed, err
}

// expirable is the SQL condition of an upload whose files may go: not
// expired already, and finished, so that nothing of it may still need its
// file: its batch done, the upload rejected or withdrawn, or never
// imported or imported with invalid rows (checked only: it is never
// sent). A batch
// importing, waiting to be submitted or approved, or being sent keeps its
// files whatever their age. Its age counts from the last change of the
// batch or of its upload record.
const expirable = `expired_at IS NULL
	AND (coalesce((SELECT state FROM batches b WHERE b.id = uploads.id), '') IN ('done', '')
	     OR coalesce((SELECT state = 'imported' AND rows_invalid > 0 FROM batches b WHERE b.id = uploads.id), 0)
	     OR rejected_by IS NOT NULL OR withdrawn_by IS NOT NULL)
	AND max(uploaded_at, coalesce((SELECT updated_at FROM batches b WHERE b.id = uploads.id), ''),
	        coalesce(submitted_at, ''), coalesce(approved_at, ''), coalesce(second_approved_at, ''),
	        coalesce(rejected_at, ''), coalesce(withdrawn_at, '')) < ?`

// ExpiredUploads returns the uploads whose files are past the retention
// in force and that nothing needs any more (see Retention), with that
// retention.
func (l *Ledger) ExpiredUploads(ctx context.Context) ([]Upload, Retention, error) {
	ret, err := l.Retention(ctx)
	if err != nil {
		return nil, Retention{}, err
	}
	cutoff := fmtTime(l.now().Add(-ret.Duration()))
	rs, err := l.r.QueryContext(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE `+expirable+` ORDER BY uploaded_at`, cutoff)
	if err != nil {
		return nil, Retention{}, fmt.Errorf("list expired uploads: %w", err)
	}
	defer rs.Close()
	var out []Upload
	for rs.Next() {
		u, err := scanUpload(rs)
		if err != nil {
			return nil, Retention{}, fmt.Errorf("list expired uploads: %w", err)
		}
		out = append(out, u)
	}
	if err := rs.Err(); err != nil {
		return nil, Retention{}, fmt.Errorf("list expired uploads: %w", err)
	}
	return out, ret, nil
}

// RecordExpiry records that the files of a batch's upload were deleted
// for their age under ret: the upload's expired_at and one deletion per
// file name, in one transaction. It refuses (ErrIllegalTransition) an
// upload that is not expirable under ret, checked again in the
// transaction.
func (l *Ledger) RecordExpiry(ctx context.Context, batch string, files []string, ret Retention) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		now := fmtTime(l.now())
		cutoff := fmtTime(l.now().Add(-ret.Duration()))
		res, err := tx.ExecContext(ctx, `UPDATE uploads SET expired_at = ? WHERE id = ? AND `+expirable, now, batch, cutoff)
		if err != nil {
			return fmt.Errorf("record expiry of batch %s: %w", batch, err)
		}
		if err := mustAffect(res, 1, fmt.Errorf("record expiry of batch %s: not finished or not past %d days: %w",
			batch, ret.Days, ErrIllegalTransition)); err != nil {
			return err
		}
		return addDeletions(ctx, tx, batch, files, ret, now)
	})
}

// RecordDeletions records files deleted for their age of an upload that
// expired before: its sheet uploaded again, say, after it expired.
func (l *Ledger) RecordDeletions(ctx context.Context, batch string, files []string, ret Retention) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		return addDeletions(ctx, tx, batch, files, ret, fmtTime(l.now()))
	})
}

func addDeletions(ctx context.Context, tx *sql.Tx, batch string, files []string, ret Retention, now string) error {
	var id any
	if ret.ID > 0 {
		id = ret.ID
	}
	for _, f := range files {
		if _, err := tx.ExecContext(ctx, `INSERT INTO upload_deletions (batch, file, deleted_at, retention_days, retention_id) VALUES (?, ?, ?, ?, ?)`,
			batch, f, now, ret.Days, id); err != nil {
			return fmt.Errorf("record deletions of batch %s: %w", batch, err)
		}
	}
	return nil
}

// Deletion is one file deleted for its age.
type Deletion struct {
	Batch         string
	File          string
	At            time.Time
	RetentionDays int
}

// Deletions returns the files deleted for their age, oldest first.
func (l *Ledger) Deletions(ctx context.Context) ([]Deletion, error) {
	rs, err := l.r.QueryContext(ctx, `SELECT batch, file, deleted_at, retention_days FROM upload_deletions ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list deleted files: %w", err)
	}
	defer rs.Close()
	var out []Deletion
	for rs.Next() {
		var d Deletion
		var at string
		if err := rs.Scan(&d.Batch, &d.File, &at, &d.RetentionDays); err != nil {
			return nil, fmt.Errorf("list deleted files: %w", err)
		}
		if d.At, err = parseTime(sql.NullString{String: at, Valid: true}); err != nil {
			return nil, fmt.Errorf("list deleted files: %w", err)
		}
		out = append(out, d)
	}
	return out, rs.Err()
}
