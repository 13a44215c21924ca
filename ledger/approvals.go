package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Upload is a batch that came through the web page: who uploaded it, who
// submitted it (confirming its total) and who approved it, and when.
type Upload struct {
	// BatchID is the batch's id, the SHA-256 of the file.
	BatchID  string
	FileName string
	// StoredPath is where the server keeps the file; never served back.
	StoredPath string
	// FeeCents is the expected fees of the rows to send, in cents, as
	// planned at upload.
	FeeCents int64

	UploadedBy string
	UploadedAt time.Time
	// SubmittedBy is "" until someone confirmed the total and count.
	SubmittedBy    string
	SubmittedAt    time.Time
	SubmittedCents int64 // the total the submitter confirmed, in cents
	SubmittedRows  int   // the number of payees the submitter confirmed
	// ApprovedBy is "" until an approver other than the uploader approved.
	ApprovedBy string
	ApprovedAt time.Time
	// Paused says a person paused the batch: a server restart does not
	// resume it.
	Paused bool
}

// Submitted reports whether someone confirmed the batch for sending.
func (u Upload) Submitted() bool { return u.SubmittedBy != "" }

// Approved reports whether an approver approved the batch.
func (u Upload) Approved() bool { return u.ApprovedBy != "" }

// ErrFourEyes is wrapped when an approval is refused because the approver
// is the uploader, or lacks the approver role.
var ErrFourEyes = errors.New("a batch must be approved by another person with the approver role")

const uploadColumns = `id, file_name, stored_path, fee_cents, uploaded_by, uploaded_at, submitted_by, submitted_at,
	submitted_cents, submitted_rows, approved_by, approved_at, paused`

func scanUpload(sc interface{ Scan(...any) error }) (Upload, error) {
	var (
		u                         Upload
		upAt, subBy, subAt, apBy  sql.NullString
		apAt                      sql.NullString
		subCents, subRows, paused sql.NullInt64
	)
	if err := sc.Scan(&u.BatchID, &u.FileName, &u.StoredPath, &u.FeeCents, &u.UploadedBy, &upAt, &subBy, &subAt,
		&subCents, &subRows, &apBy, &apAt, &paused); err != nil {
		return Upload{}, err
	}
	u.SubmittedBy, u.ApprovedBy = subBy.String, apBy.String
	u.SubmittedCents, u.SubmittedRows, u.Paused = subCents.Int64, int(subRows.Int64), paused.Int64 == 1
	var err error
	for _, p := range []struct {
		dst *time.Time
		src sql.NullString
	}{{&u.UploadedAt, upAt}, {&u.SubmittedAt, subAt}, {&u.ApprovedAt, apAt}} {
		if *p.dst, err = parseTime(p.src); err != nil {
			return Upload{}, fmt.Errorf("upload %s: %w", u.BatchID, err)
		}
	}
	return u, nil
}

// RecordUpload records who uploaded a batch. When the batch was uploaded
// before, the first record is kept and returned with created false: the
// same file is the same batch.
func (l *Ledger) RecordUpload(ctx context.Context, u Upload) (Upload, bool, error) {
	if len(u.BatchID) != 64 {
		return Upload{}, false, fmt.Errorf("record upload %q: the batch id is not a SHA-256", u.BatchID)
	}
	var created bool
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO uploads (id, file_name, stored_path, fee_cents, uploaded_by, uploaded_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			u.BatchID, u.FileName, u.StoredPath, u.FeeCents, u.UploadedBy, fmtTime(l.now()))
		if err != nil {
			return fmt.Errorf("record upload of batch %s: %w", u.BatchID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("record upload of batch %s: %w", u.BatchID, err)
		}
		created = n == 1
		return nil
	})
	if err != nil {
		return Upload{}, false, err
	}
	got, err := l.Upload(ctx, u.BatchID)
	return got, created, err
}

// Upload returns the upload record of a batch, or an error wrapping
// ErrNotFound (a batch run from the command line has none).
func (l *Ledger) Upload(ctx context.Context, batch string) (Upload, error) {
	u, err := scanUpload(l.r.QueryRowContext(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = ?`, batch))
	if errors.Is(err, sql.ErrNoRows) {
		return Upload{}, fmt.Errorf("upload of batch %s: %w", batch, ErrNotFound)
	}
	if err != nil {
		return Upload{}, fmt.Errorf("read upload of batch %s: %w", batch, err)
	}
	return u, nil
}

// Uploads returns every upload record, keyed by batch id.
func (l *Ledger) Uploads(ctx context.Context) (map[string]Upload, error) {
	rs, err := l.r.QueryContext(ctx, `SELECT `+uploadColumns+` FROM uploads`)
	if err != nil {
		return nil, fmt.Errorf("list uploads: %w", err)
	}
	defer rs.Close()
	out := map[string]Upload{}
	for rs.Next() {
		u, err := scanUpload(rs)
		if err != nil {
			return nil, fmt.Errorf("list uploads: %w", err)
		}
		out[u.BatchID] = u
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("list uploads: %w", err)
	}
	return out, nil
}

// Submit records that user confirmed sending rows payees for cents in
// total. A batch is submitted once; submitting it again is refused with an
// error wrapping ErrIllegalTransition.
func (l *Ledger) Submit(ctx context.Context, batch, user string, cents int64, rows int) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE uploads SET submitted_by = ?, submitted_at = ?, submitted_cents = ?, submitted_rows = ?
			WHERE id = ? AND submitted_by IS NULL`, user, fmtTime(l.now()), cents, rows, batch)
		if err != nil {
			return fmt.Errorf("submit batch %s: %w", batch, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM uploads WHERE id = ?`, batch).Scan(&n); err != nil {
			return fmt.Errorf("submit batch %s: %w", batch, err)
		}
		if n == 0 {
			return fmt.Errorf("submit batch %s: %w", batch, ErrNotFound)
		}
		return fmt.Errorf("submit batch %s: it was submitted already: %w", batch, ErrIllegalTransition)
	})
}

// Approve records that user approved a submitted batch. In the same
// transaction it checks four eyes: user exists with the approver or admin
// role and is not the uploader (else ErrFourEyes), and the batch is
// submitted and not yet approved (else ErrIllegalTransition).
func (l *Ledger) Approve(ctx context.Context, batch, user string) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		var role Role
		err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE name = ?`, user).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("approve batch %s: user %s: %w", batch, user, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("approve batch %s: %w", batch, err)
		}
		u, err := scanUpload(tx.QueryRowContext(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = ?`, batch))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("approve batch %s: %w", batch, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("approve batch %s: %w", batch, err)
		}
		switch {
		case role != RoleApprover && role != RoleAdmin:
			return fmt.Errorf("approve batch %s: %s is an %s: %w", batch, user, role, ErrFourEyes)
		case u.UploadedBy == user:
			return fmt.Errorf("approve batch %s: %s uploaded it: %w", batch, user, ErrFourEyes)
		case !u.Submitted():
			return fmt.Errorf("approve batch %s: it was not submitted: %w", batch, ErrIllegalTransition)
		case u.Approved():
			return fmt.Errorf("approve batch %s: %s approved it already: %w", batch, u.ApprovedBy, ErrIllegalTransition)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE uploads SET approved_by = ?, approved_at = ? WHERE id = ?`,
			user, fmtTime(l.now()), batch); err != nil {
			return fmt.Errorf("approve batch %s: %w", batch, err)
		}
		return nil
	})
}

// SetPaused records whether a person paused the batch.
func (l *Ledger) SetPaused(ctx context.Context, batch string, paused bool) error {
	v := 0
	if paused {
		v = 1
	}
	return l.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE uploads SET paused = ? WHERE id = ?`, v, batch)
		if err != nil {
			return fmt.Errorf("pause batch %s: %w", batch, err)
		}
		return mustAffect(res, 1, fmt.Errorf("upload of batch %s: %w", batch, ErrNotFound))
	})
}
