package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Upload is a batch that came through the web page: who uploaded it, who
// submitted it (confirming its total), who approved, rejected or withdrew
// it, and when, with the approval policy it was uploaded under.
type Upload struct {
	// BatchID is the batch's id, the SHA-256 of the file.
	BatchID  string
	FileName string
	// StoredPath is where the server keeps the file; never served back.
	StoredPath string
	// FeeCents is the expected fees of the rows to send, in cents, as
	// planned at upload.
	FeeCents int64

	// PolicyID is the change of the ledger's policy in force when the
	// batch was uploaded (0: the default, or an upload recorded before
	// the ledger kept policies); Policy is that policy, the batch's for
	// good. RecordUpload sets both.
	PolicyID int64
	Policy   Policy

	UploadedBy string
	UploadedAt time.Time
	// SubmittedBy is "" until someone confirmed the total and count.
	SubmittedBy    string
	SubmittedAt    time.Time
	SubmittedCents int64 // the total the submitter confirmed, in cents
	SubmittedRows  int   // the number of payees the submitter confirmed
	// ApprovedBy is "" until a first approver approved, SecondApprovedBy
	// until a second one did (when the policy asks for two).
	ApprovedBy       string
	ApprovedAt       time.Time
	SecondApprovedBy string
	SecondApprovedAt time.Time
	// RejectedBy is "" unless an approver rejected the batch, saying why
	// in RejectedReason; WithdrawnBy unless its uploader, its submitter or
	// an admin withdrew it. Either closes the batch: it is never sent.
	RejectedBy     string
	RejectedAt     time.Time
	RejectedReason string
	WithdrawnBy    string
	WithdrawnAt    time.Time
	// Paused says a person paused the batch: a server restart does not
	// resume it.
	Paused bool
	// Expired is when the upload's files were deleted for their age (see
	// Retention); zero while they are kept.
	Expired time.Time
}

// Submitted reports whether someone confirmed the batch for sending.
func (u Upload) Submitted() bool { return u.SubmittedBy != "" }

// Approved reports whether a first approver approved the batch.
func (u Upload) Approved() bool { return u.ApprovedBy != "" }

// Closed reports whether the batch was rejected or withdrawn.
func (u Upload) Closed() bool { return u.RejectedBy != "" || u.WithdrawnBy != "" }

// ApprovalsNeeded is the number of approvals the batch's policy asks for
// its submitted total (before it is submitted, for a total of 0).
func (u Upload) ApprovalsNeeded() int { return u.Policy.Approvals(u.SubmittedCents) }

// Approvals is the number of approvals given.
func (u Upload) Approvals() int {
	n := 0
	for _, by := range []string{u.ApprovedBy, u.SecondApprovedBy} {
		if by != "" {
			n++
		}
	}
	return n
}

// WaitsForApproval reports whether the batch is submitted, not closed,
// and short of the approvals its policy asks.
func (u Upload) WaitsForApproval() bool {
	return u.Submitted() && !u.Closed() && u.Approvals() < u.ApprovalsNeeded()
}

// Cleared reports whether the batch may be sent: submitted, approved as
// often as its own policy asks, neither rejected nor withdrawn. Whether it
// is paused does not enter: pausing is the page's, not the policy's.
func (u Upload) Cleared() bool { return u.NotCleared() == "" }

// NotCleared says why the batch may not be sent, as the end of "batch X
// …" ("was rejected by bia: …"), or "" when it is Cleared.
func (u Upload) NotCleared() string {
	switch {
	case u.WithdrawnBy != "":
		return fmt.Sprintf("was withdrawn by %s", u.WithdrawnBy)
	case u.RejectedBy != "":
		return fmt.Sprintf("was rejected by %s: %s", u.RejectedBy, u.RejectedReason)
	case !u.Submitted():
		return fmt.Sprintf("was uploaded by %s on the web page and not submitted there", u.UploadedBy)
	case u.Approvals() < u.ApprovalsNeeded() && u.Approved():
		return fmt.Sprintf("waits for a second approver (its policy asks two above %d cents; %s approved)",
			u.Policy.TwoApproversAbove, u.ApprovedBy)
	case u.Approvals() < u.ApprovalsNeeded():
		return "waits for approval on the web page"
	}
	return ""
}

// ErrFourEyes is wrapped when an approval or a rejection is refused
// because of who asks: the uploader, the submitter, the first approver
// again, or someone without the approver role.
var ErrFourEyes = errors.New("a batch must be approved by another person with the approver role")

// ErrNotCleared is wrapped when a batch uploaded on the web page is about
// to be sent without what its approval policy asks (submitted, approved
// as often as required, not rejected or withdrawn): nothing is sent.
var ErrNotCleared = errors.New("not cleared for sending by its approval policy")

// ErrNotYours is wrapped when someone other than its uploader, its
// submitter or an admin withdraws a batch.
var ErrNotYours = errors.New("only the batch's uploader, its submitter or an admin withdraws it")

const uploadColumns = `id, file_name, stored_path, fee_cents, uploaded_by, uploaded_at, submitted_by, submitted_at,
	submitted_cents, submitted_rows, approved_by, approved_at, paused,
	coalesce(policy_id, 0), require_approval, two_approvers_above, second_approved_by, second_approved_at,
	rejected_by, rejected_at, rejected_reason, withdrawn_by, withdrawn_at, expired_at`

func scanUpload(sc interface{ Scan(...any) error }) (Upload, error) {
	var (
		u                                 Upload
		upAt, subBy, subAt, apBy, apAt    sql.NullString
		ap2By, ap2At, rejBy, rejAt, rejWh sql.NullString
		wdBy, wdAt, expAt                 sql.NullString
		subCents, subRows, paused, above  sql.NullInt64
		require                           int64
	)
	if err := sc.Scan(&u.BatchID, &u.FileName, &u.StoredPath, &u.FeeCents, &u.UploadedBy, &upAt, &subBy, &subAt,
		&subCents, &subRows, &apBy, &apAt, &paused,
		&u.PolicyID, &require, &above, &ap2By, &ap2At, &rejBy, &rejAt, &rejWh, &wdBy, &wdAt, &expAt); err != nil {
		return Upload{}, err
	}
	u.SubmittedBy, u.ApprovedBy, u.SecondApprovedBy = subBy.String, apBy.String, ap2By.String
	u.RejectedBy, u.RejectedReason, u.WithdrawnBy = rejBy.String, rejWh.String, wdBy.String
	u.SubmittedCents, u.SubmittedRows, u.Paused = subCents.Int64, int(subRows.Int64), paused.Int64 == 1
	u.Policy = Policy{RequireApproval: require == 1, TwoApproversAbove: NoSecondApprover}
	if above.Valid {
		u.Policy.TwoApproversAbove = above.Int64
	}
	var err error
	for _, p := range []struct {
		dst *time.Time
		src sql.NullString
	}{{&u.UploadedAt, upAt}, {&u.SubmittedAt, subAt}, {&u.ApprovedAt, apAt}, {&u.SecondApprovedAt, ap2At},
		{&u.RejectedAt, rejAt}, {&u.WithdrawnAt, wdAt}, {&u.Expired, expAt}} {
		if *p.dst, err = parseTime(p.src); err != nil {
			return Upload{}, fmt.Errorf("upload %s: %w", u.BatchID, err)
		}
	}
	return u, nil
}

// uploadIn reads a batch's upload record inside a transaction; sql.ErrNoRows
// when it has none.
func uploadIn(ctx context.Context, tx *sql.Tx, batch string) (Upload, error) {
	return scanUpload(tx.QueryRowContext(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = ?`, batch))
}

// RecordUpload records who uploaded a batch, with the ledger's policy in
// force, read in the same transaction: the batch is sent only as that
// policy asks, whatever the policy later. When the batch was uploaded
// before, the first record is kept and returned with created false: the
// same file is the same batch. u's decisions and policy are not read.
func (l *Ledger) RecordUpload(ctx context.Context, u Upload) (Upload, bool, error) {
	if len(u.BatchID) != 64 {
		return Upload{}, false, fmt.Errorf("record upload %q: the batch id is not a SHA-256", u.BatchID)
	}
	var created bool
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		p, err := policyIn(ctx, tx)
		if err != nil {
			return fmt.Errorf("record upload of batch %s: %w", u.BatchID, err)
		}
		var policyID, above any
		if p.ID > 0 {
			policyID = p.ID
		}
		if p.TwoApproversAbove >= 0 {
			above = p.TwoApproversAbove
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO uploads (id, file_name, stored_path, fee_cents, uploaded_by, uploaded_at,
			policy_id, require_approval, two_approvers_above)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			u.BatchID, u.FileName, u.StoredPath, u.FeeCents, u.UploadedBy, fmtTime(l.now()),
			policyID, boolInt(p.RequireApproval), above)
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
// total. A batch is submitted once; submitting it again, or submitting a
// withdrawn one, is refused with an error wrapping ErrIllegalTransition.
func (l *Ledger) Submit(ctx context.Context, batch, user string, cents int64, rows int) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		// A sheet with invalid rows is only ever checked (see ReleaseKeys):
		// it is corrected and uploaded again, never submitted.
		res, err := tx.ExecContext(ctx, `UPDATE uploads SET submitted_by = ?, submitted_at = ?, submitted_cents = ?, submitted_rows = ?
			WHERE id = ? AND submitted_by IS NULL AND withdrawn_by IS NULL
			AND NOT EXISTS (SELECT 1 FROM batches WHERE id = ? AND rows_invalid > 0)`, user, fmtTime(l.now()), cents, rows, batch, batch)
		if err != nil {
			return fmt.Errorf("submit batch %s: %w", batch, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		u, err := uploadIn(ctx, tx, batch)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("submit batch %s: %w", batch, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("submit batch %s: %w", batch, err)
		}
		if u.Closed() {
			return fmt.Errorf("submit batch %s: it %s: %w", batch, u.NotCleared(), ErrIllegalTransition)
		}
		if !u.Submitted() {
			return fmt.Errorf("submit batch %s: it has invalid rows: %w", batch, ErrIllegalTransition)
		}
		return fmt.Errorf("submit batch %s: it was submitted already: %w", batch, ErrIllegalTransition)
	})
}

// SetUploadFee records the expected fees of an upload's rows to send, in
// cents, once its plan is made.
func (l *Ledger) SetUploadFee(ctx context.Context, batch string, cents int64) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE uploads SET fee_cents = ? WHERE id = ?`, cents, batch)
		if err != nil {
			return fmt.Errorf("record the fees of batch %s: %w", batch, err)
		}
		return mustAffect(res, 1, fmt.Errorf("upload of batch %s: %w", batch, ErrNotFound))
	})
}

// DiscardUpload deletes the upload record of a batch whose import never
// began (the file could not be read): nobody decided on it and the ledger
// has no batch for it. It reports whether it did; any other upload is
// kept (false, nil).
func (l *Ledger) DiscardUpload(ctx context.Context, batch string) (bool, error) {
	var done bool
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM upload_warnings WHERE batch = ?
			AND EXISTS (SELECT 1 FROM uploads WHERE id = ? AND submitted_by IS NULL)
			AND NOT EXISTS (SELECT 1 FROM batches WHERE id = ?)`, batch, batch, batch); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE id = ? AND submitted_by IS NULL
			AND NOT EXISTS (SELECT 1 FROM batches WHERE id = ?)`, batch, batch)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		done = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("discard upload of batch %s: %w", batch, err)
	}
	return done, nil
}

// Approve records that user approved a submitted batch, and returns the
// upload as it is now (Cleared once the approvals its policy asks are
// given). In the same transaction it checks four eyes: user exists with
// the approver or admin role, neither uploaded nor submitted the batch,
// and is not its first approver (else ErrFourEyes); and the batch is
// submitted, not closed and short of the approvals its own policy asks
// (else ErrIllegalTransition).
func (l *Ledger) Approve(ctx context.Context, batch, user string) (Upload, error) {
	var out Upload
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		u, err := l.decider(ctx, tx, "approve", batch, user)
		if err != nil {
			return err
		}
		switch {
		case u.ApprovedBy == user:
			return fmt.Errorf("approve batch %s: %s approved it already; a second approver is another person: %w", batch, user, ErrFourEyes)
		case u.ApprovalsNeeded() == 0:
			return fmt.Errorf("approve batch %s: its policy asks no approval: %w", batch, ErrIllegalTransition)
		case !u.WaitsForApproval():
			return fmt.Errorf("approve batch %s: %s approved it already: %w", batch, u.ApprovedBy, ErrIllegalTransition)
		}
		q := `UPDATE uploads SET approved_by = ?, approved_at = ? WHERE id = ? AND approved_by IS NULL`
		if u.Approved() {
			q = `UPDATE uploads SET second_approved_by = ?, second_approved_at = ? WHERE id = ? AND second_approved_by IS NULL`
		}
		res, err := tx.ExecContext(ctx, q, user, fmtTime(l.now()), batch)
		if err != nil {
			return fmt.Errorf("approve batch %s: %w", batch, err)
		}
		if err := mustAffect(res, 1, fmt.Errorf("approve batch %s: approved meanwhile: %w", batch, ErrIllegalTransition)); err != nil {
			return err
		}
		out, err = uploadIn(ctx, tx, batch)
		return err
	})
	return out, err
}

// RejectBatch records that user rejected a batch waiting for approval,
// for reason (shown to its uploader): it is never sent. The same people
// may reject as may approve (else ErrFourEyes), and only a batch that is
// submitted, not closed and short of its approvals (else
// ErrIllegalTransition). reason is required.
func (l *Ledger) RejectBatch(ctx context.Context, batch, user, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return fmt.Errorf("reject batch %s: say why: %w", batch, ErrIllegalTransition)
	}
	if utf8.RuneCountInString(reason) > MaxReason {
		return fmt.Errorf("reject batch %s: the reason is longer than %d characters: %w", batch, MaxReason, ErrIllegalTransition)
	}
	return l.inTx(ctx, func(tx *sql.Tx) error {
		u, err := l.decider(ctx, tx, "reject", batch, user)
		if err != nil {
			return err
		}
		if !u.WaitsForApproval() {
			return fmt.Errorf("reject batch %s: it is not waiting for approval: %w", batch, ErrIllegalTransition)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE uploads SET rejected_by = ?, rejected_at = ?, rejected_reason = ? WHERE id = ?`,
			user, fmtTime(l.now()), reason, batch); err != nil {
			return fmt.Errorf("reject batch %s: %w", batch, err)
		}
		return nil
	})
}

// MaxReason is the longest reason for a rejection, in characters.
const MaxReason = 500

// decider reads the upload for an approval or a rejection by user, and
// checks who user is: an approver or admin, not the uploader nor the
// submitter (ErrFourEyes); and that the batch is submitted and not
// closed (ErrIllegalTransition).
func (l *Ledger) decider(ctx context.Context, tx *sql.Tx, what, batch, user string) (Upload, error) {
	var role Role
	err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE name = ?`, user).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return Upload{}, fmt.Errorf("%s batch %s: user %s: %w", what, batch, user, ErrNotFound)
	}
	if err != nil {
		return Upload{}, fmt.Errorf("%s batch %s: %w", what, batch, err)
	}
	u, err := uploadIn(ctx, tx, batch)
	if errors.Is(err, sql.ErrNoRows) {
		return Upload{}, fmt.Errorf("%s batch %s: %w", what, batch, ErrNotFound)
	}
	if err != nil {
		return Upload{}, fmt.Errorf("%s batch %s: %w", what, batch, err)
	}
	switch {
	case role != RoleApprover && role != RoleAdmin:
		return u, fmt.Errorf("%s batch %s: %s is an %s: %w", what, batch, user, role, ErrFourEyes)
	case u.UploadedBy == user:
		return u, fmt.Errorf("%s batch %s: %s uploaded it: %w", what, batch, user, ErrFourEyes)
	case u.SubmittedBy == user:
		return u, fmt.Errorf("%s batch %s: %s submitted it: %w", what, batch, user, ErrFourEyes)
	case u.Closed():
		return u, fmt.Errorf("%s batch %s: it %s: %w", what, batch, u.NotCleared(), ErrIllegalTransition)
	case !u.Submitted():
		return u, fmt.Errorf("%s batch %s: it was not submitted: %w", what, batch, ErrIllegalTransition)
	}
	return u, nil
}

// WithdrawBatch records that user withdrew a batch: it is never sent.
// user must have uploaded or submitted it, or be an admin (else
// ErrNotYours); the batch must not be closed, and no row of it may ever
// have been marked attempted (else ErrIllegalTransition): what may have
// reached the bank is not withdrawn. Checked in one transaction with the
// write, as SendRows checks the upload in the transaction that marks rows
// attempted, so a withdrawal and a send never both happen.
func (l *Ledger) WithdrawBatch(ctx context.Context, batch, user string) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		var role Role
		err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE name = ?`, user).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("withdraw batch %s: user %s: %w", batch, user, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("withdraw batch %s: %w", batch, err)
		}
		u, err := uploadIn(ctx, tx, batch)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("withdraw batch %s: %w", batch, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("withdraw batch %s: %w", batch, err)
		}
		if user != u.UploadedBy && user != u.SubmittedBy && role != RoleAdmin {
			return fmt.Errorf("withdraw batch %s: %s neither uploaded nor submitted it: %w", batch, user, ErrNotYours)
		}
		if u.Closed() {
			return fmt.Errorf("withdraw batch %s: it %s: %w", batch, u.NotCleared(), ErrIllegalTransition)
		}
		var sent bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM rows WHERE batch = (SELECT num FROM batches WHERE id = ?)
			AND (first_attempted_at IS NOT NULL OR state NOT IN ('invalid', 'pending', 'held')))`, batch).Scan(&sent); err != nil {
			return fmt.Errorf("withdraw batch %s: %w", batch, err)
		}
		if sent {
			return fmt.Errorf("withdraw batch %s: rows of it were sent; pause it instead: %w", batch, ErrIllegalTransition)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE uploads SET withdrawn_by = ?, withdrawn_at = ? WHERE id = ?`,
			user, fmtTime(l.now()), batch); err != nil {
			return fmt.Errorf("withdraw batch %s: %w", batch, err)
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
