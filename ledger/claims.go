package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultClaimWindow is how long a claim on a payout's fingerprint stands
// when the caller names no window: a payout paid within it is not paid
// again by another batch.
const DefaultClaimWindow = 30 * 24 * time.Hour

// ClaimConflict says why a row could not claim its payout's fingerprint:
// a live row of another batch holds it.
type ClaimConflict struct {
	Row         int    // the row that was refused, as Excel numbers it
	OtherBatch  string // the batch whose row holds the claim
	OtherRow    int    // that row, as Excel numbers it
	OtherState  State  // that row's state
	OtherStatus string // its transfer's status at Stone, when accepted
	ClaimedAt   time.Time
}

// HoldFunc says what to write on a row held because of c: its error code
// and the reason a person reads.
type HoldFunc func(c ClaimConflict) (code, reason string)

// ClaimedError is returned by MarkAttempted when a row's payout is claimed
// by another batch's row; nothing was changed.
type ClaimedError struct{ ClaimConflict }

// Error names both rows.
func (e *ClaimedError) Error() string {
	return fmt.Sprintf("row %d: the same payout is claimed by batch %s row %d (%s)", e.Row, e.OtherBatch, e.OtherRow, e.OtherState)
}

// failedStatuses are Stone's statuses of a transfer that moved no money:
// its claim is released and the payout may be sent again.
var failedStatuses = []string{"FAILED", "CANCELLED", "REJECTED", "EXPIRED"}

// liveClaim is true for a claim whose row may have paid: attempted or
// needing review, whatever its age (its outcome is not known until a
// person settles it), or accepted and not failed within the window. A
// claim is taken as its row is marked attempted, so no pending row holds
// one. ?1 is the start of the window.
var liveClaim = `(r.state IN ('attempted', 'needs_review')
	OR (c.claimed_at > ?1 AND r.state = 'accepted' AND coalesce(r.api_status, '') NOT IN ('` + strings.Join(failedStatuses, "', '") + `')))`

// claimOwnerQuery finds the row holding a fingerprint's claim and whether
// the claim is live. ?1 is the start of the window, ?2 the fingerprint.
var claimOwnerQuery = `SELECT c.batch, c.row, b.id, r.state, coalesce(r.api_status, ''), c.claimed_at, ` + liveClaim + `
	FROM claims c JOIN rows r ON r.batch = c.batch AND r.row = c.row JOIN batches b ON b.num = c.batch
	WHERE c.fingerprint = ?2`

// claim makes (num, row) the holder of fp's claim unless a live row of
// another batch holds it, which it returns. A row of the same batch never
// stands in the way: rows of one sheet have distinct fingerprints.
func (l *Ledger) claim(ctx context.Context, tx *sql.Tx, num int64, row int, fp string, since time.Time) (*ClaimConflict, error) {
	c, err := l.liveClaim(ctx, tx, num, row, fp, since)
	if err != nil || c != nil {
		return c, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO claims (fingerprint, batch, row, claimed_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (fingerprint) DO UPDATE SET batch = excluded.batch, row = excluded.row, claimed_at = excluded.claimed_at
		WHERE claims.batch <> excluded.batch OR claims.row <> excluded.row`,
		fp, num, row, fmtTime(l.now()))
	if err != nil {
		return nil, fmt.Errorf("row %d: take claim: %w", row, err)
	}
	return nil, nil
}

// liveClaim returns the conflict when a live row of another batch holds
// fp's claim, else nil.
func (l *Ledger) liveClaim(ctx context.Context, tx *sql.Tx, num int64, row int, fp string, since time.Time) (*ClaimConflict, error) {
	var (
		onum     int64
		orow     int
		c        ClaimConflict
		claimed  sql.NullString
		live     bool
		otherID  string
		otherSt  State
		otherAPI string
	)
	err := tx.QueryRowContext(ctx, claimOwnerQuery, fmtTime(since), fp).Scan(&onum, &orow, &otherID, &otherSt, &otherAPI, &claimed, &live)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("row %d: read claim: %w", row, err)
	case live && onum != num:
		c = ClaimConflict{Row: row, OtherBatch: otherID, OtherRow: orow, OtherState: otherSt, OtherStatus: otherAPI}
		c.ClaimedAt, _ = parseTime(claimed)
		return &c, nil
	}
	return nil, nil
}

// hold sets a pending row aside in tx, with the code and reason given.
func hold(ctx context.Context, tx *sql.Tx, num int64, row int, code, reason string, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE rows SET state = 'held', error_code = ?, error_message = ?, updated_at = ?
		WHERE batch = ? AND row = ? AND state = 'pending'`, code, reason, fmtTime(now), num, row)
	if err != nil {
		return fmt.Errorf("hold row %d: %w", row, err)
	}
	return mustAffect(res, 1, fmt.Errorf("hold row %d: it is no longer pending: %w", row, ErrIllegalTransition))
}

// HoldClaimed holds every pending row of the batch whose payout another
// batch's live row claims (see liveClaim; since is the window's start),
// with what holdFn says, and returns how many it held: the plan shown
// before sending then counts them. It takes no claim: SendRows takes each
// row's as the row is marked attempted, and holds the row then if another
// batch took it meanwhile. A ledger where no other batch claimed anything
// is answered with one lookup, whatever the batch's size.
func (l *Ledger) HoldClaimed(ctx context.Context, batch string, since time.Time, holdFn HoldFunc) (int, error) {
	var num int64
	err := l.r.QueryRowContext(ctx, `SELECT num FROM batches WHERE id = ?`, batch).Scan(&num)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("hold claimed rows of batch %s: %w", batch, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("hold claimed rows of batch %s: %w", batch, err)
	}
	var any bool
	if err := l.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM claims WHERE batch <> ?)`, num).Scan(&any); err != nil {
		return 0, fmt.Errorf("hold claimed rows of batch %s: %w", batch, err)
	}
	if !any {
		return 0, nil
	}
	// The rows whose payout is claimed by another batch's row, live or
	// not: the state list repeats rows_outstanding's WHERE so SQLite uses it.
	rs, err := l.r.QueryContext(ctx, `SELECT r.row, r.fingerprint FROM rows r INDEXED BY rows_outstanding
		JOIN claims c ON c.fingerprint = r.fingerprint
		WHERE r.batch = ? AND r.state IN ('pending', 'attempted') AND r.state = 'pending' AND c.batch <> r.batch
		ORDER BY r.id`, num)
	if err != nil {
		return 0, fmt.Errorf("hold claimed rows of batch %s: %w", batch, err)
	}
	fps := map[int]string{}
	var rows []int
	for rs.Next() {
		var row int
		var fp string
		if err := rs.Scan(&row, &fp); err != nil {
			rs.Close()
			return 0, fmt.Errorf("hold claimed rows of batch %s: %w", batch, err)
		}
		rows, fps[row] = append(rows, row), fp
	}
	if err := errors.Join(rs.Err(), rs.Close()); err != nil {
		return 0, fmt.Errorf("hold claimed rows of batch %s: %w", batch, err)
	}
	held, err := l.holdEach(ctx, batch, rows, func(tx *sql.Tx, num int64, row int) (string, string, bool, error) {
		c, err := l.liveClaim(ctx, tx, num, row, fps[row], since)
		if err != nil || c == nil {
			return "", "", false, err
		}
		code, reason := holdFn(*c)
		return code, reason, true, nil
	})
	if err != nil {
		return held, fmt.Errorf("hold claimed rows of batch %s: %w", batch, err)
	}
	return held, nil
}

// SendOptions are what SendRows checks as it marks rows attempted.
type SendOptions struct {
	// Holder is the runner that must hold the batch's lease; "" checks
	// no lease.
	Holder string
	// Since is the start of the claim window; zero means
	// DefaultClaimWindow before now.
	Since time.Time
	// Hold says what to write on a row whose payout another batch's row
	// claims; nil makes such a row an error (*ClaimedError) and changes
	// nothing.
	Hold HoldFunc
	// Key, if set, gives the key a row is sent with, from its row number,
	// fingerprint and current key ("" or the current key keeps it): a key
	// derived when the row is sent rather than imported. It is written in
	// the same transaction, before the request leaves. NextKey gives the
	// key to try when one is taken by another row ("" gives up).
	Key     func(row int, fingerprint, current string) string
	NextKey func(key string) string
}

// LeaseLostError is returned by SendRows when another runner holds the
// batch's lease: it took the batch over, and this runner must stop.
type LeaseLostError struct {
	Batch  string
	Holder string // who holds the lease now ("" when no one does)
}

// Error says who took the batch over.
func (e *LeaseLostError) Error() string {
	if e.Holder == "" {
		return fmt.Sprintf("batch %s: this runner's lease ran out", e.Batch)
	}
	return fmt.Sprintf("batch %s: %s took the batch over", e.Batch, e.Holder)
}

// Unwrap lets errors.Is(err, ErrLeaseLost) match.
func (e *LeaseLostError) Unwrap() error { return ErrLeaseLost }

// Release is a person's decision to send a held row anyway.
type Release struct {
	// By names who released it ("cli alice@host", a page user).
	By string
	// Key and Fingerprint, when set, replace the row's: a released repeat
	// is a payout of its own, so it never reuses the key or the claim of
	// the payout it repeats.
	Key, Fingerprint string
}

// ReleaseHeld returns a held row to pending because a person said so,
// recording who, what it was held for and the key it now has. A batch
// already done is reopened (running), so the row is sent.
func (l *Ledger) ReleaseHeld(ctx context.Context, batch string, row int, rel Release) error {
	if strings.TrimSpace(rel.By) == "" {
		return fmt.Errorf("release batch %s row %d: who releases it is required", batch, row)
	}
	return l.inTx(ctx, func(tx *sql.Tx) error {
		num, _, err := batchNum(ctx, tx, batch)
		if err != nil {
			return fmt.Errorf("release row %d: %w", row, err)
		}
		var (
			st              State
			code, msg, key  sql.NullString
			fp              sql.NullString
			newKey, newFP   any
			releasedAt, now = fmtTime(l.now()), fmtTime(l.now())
		)
		err = tx.QueryRowContext(ctx, `SELECT state, error_code, error_message, idempotency_key, fingerprint FROM rows
			WHERE batch = ? AND row = ?`, num, row).Scan(&st, &code, &msg, &key, &fp)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("batch %s row %d: %w", batch, row, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("release batch %s row %d: %w", batch, row, err)
		}
		if st != Held {
			return &TransitionError{Batch: batch, Row: row, From: st, To: Pending}
		}
		newKey, newFP = key.String, nullString(fp.String)
		if rel.Key != "" {
			newKey = rel.Key
		}
		if rel.Fingerprint != "" {
			newFP = rel.Fingerprint
		}
		_, err = tx.ExecContext(ctx, `UPDATE rows SET state = 'pending', error_code = NULL, error_message = NULL,
			idempotency_key = ?, fingerprint = ?, updated_at = ? WHERE batch = ? AND row = ? AND state = 'held'`,
			newKey, newFP, now, num, row)
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE constraint failed: rows.idempotency_key") {
				return fmt.Errorf("release batch %s row %d: key %s belongs to another row", batch, row, newKey)
			}
			return fmt.Errorf("release batch %s row %d: %w", batch, row, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO releases (batch, row, released_by, released_at, held_code, held_reason, old_key, new_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, num, row, rel.By, releasedAt, code.String, msg.String, key.String, newKey); err != nil {
			return fmt.Errorf("release batch %s row %d: %w", batch, row, err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE batches SET state = 'running', updated_at = ? WHERE num = ? AND state = 'done'`, now, num)
		return err
	})
}

// Released is one ReleaseHeld, as recorded.
type Released struct {
	Row            int
	By             string
	At             time.Time
	HeldCode       string
	HeldReason     string
	OldKey, NewKey string
}

// Releases lists the rows of a batch that a person released, in the order
// they were released.
func (l *Ledger) Releases(ctx context.Context, batch string) ([]Released, error) {
	rs, err := l.r.QueryContext(ctx, `SELECT x.row, x.released_by, x.released_at, x.held_code, x.held_reason, x.old_key, x.new_key
		FROM releases x JOIN batches b ON b.num = x.batch WHERE b.id = ? ORDER BY x.id`, batch)
	if err != nil {
		return nil, fmt.Errorf("releases of batch %s: %w", batch, err)
	}
	defer rs.Close()
	var out []Released
	for rs.Next() {
		var r Released
		var at sql.NullString
		if err := rs.Scan(&r.Row, &r.By, &at, &r.HeldCode, &r.HeldReason, &r.OldKey, &r.NewKey); err != nil {
			return nil, fmt.Errorf("releases of batch %s: %w", batch, err)
		}
		if r.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// HoldRows sets the given pending rows of the batch aside with code and
// reason, a thousand to a transaction, and returns how many it held; a
// row no longer pending is left as it is.
func (l *Ledger) HoldRows(ctx context.Context, batch string, rows []int, code, reason string) (int, error) {
	n, err := l.holdEach(ctx, batch, rows, func(*sql.Tx, int64, int) (string, string, bool, error) {
		return code, reason, true, nil
	})
	if err != nil {
		return n, fmt.Errorf("hold rows of batch %s: %w", batch, err)
	}
	return n, nil
}

// holdEach holds rows of the batch, a thousand to a transaction: for each,
// why says inside the transaction whether to hold it and with what code
// and reason. A row no longer pending (a second runner took it) is left
// as it is. It returns how many it held.
func (l *Ledger) holdEach(ctx context.Context, batch string, rows []int,
	why func(tx *sql.Tx, num int64, row int) (code, reason string, ok bool, err error)) (int, error) {
	held := 0
	for len(rows) > 0 {
		page := rows[:min(len(rows), 1000)]
		rows = rows[len(page):]
		err := l.inTx(ctx, func(tx *sql.Tx) error {
			num, _, err := batchNum(ctx, tx, batch)
			if err != nil {
				return err
			}
			for _, row := range page {
				code, reason, ok, err := why(tx, num, row)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				err = hold(ctx, tx, num, row, code, reason, l.now())
				if errors.Is(err, ErrIllegalTransition) {
					continue
				}
				if err != nil {
					return err
				}
				held++
			}
			return nil
		})
		if err != nil {
			return held, err
		}
	}
	return held, nil
}

// PaymentQuery looks for a row that may have paid a payee: attempted,
// accepted and not failed, or needing review.
type PaymentQuery struct {
	Env, AccountID                  string // the paying side
	Document, ISPB, Branch, Account string // the payee's account
	// NotAmount, when positive, finds only payments of another amount.
	NotAmount int64
	// Batch, when set, looks only in that batch; NotBatch skips one.
	Batch, NotBatch string
	// Since skips batches created before it.
	Since time.Time
}

// Payment is a row found by FindPayment.
type Payment struct {
	Batch       string
	Row         int
	State       State
	AmountCents int64
	APIStatus   string
	Created     time.Time // when its batch was created
}

// FindPayment returns the newest row matching q, if any.
func (l *Ledger) FindPayment(ctx context.Context, q PaymentQuery) (Payment, bool, error) {
	var p Payment
	var created sql.NullString
	// The state list repeats rows_repeat's WHERE so SQLite uses it.
	err := l.r.QueryRowContext(ctx, `SELECT b.id, r.row, r.state, r.amount_cents, coalesce(r.api_status, ''), b.created_at
		FROM rows r JOIN batches b ON b.num = r.batch
		WHERE r.document = ?1 AND r.account = ?2 AND r.ispb = ?3 AND r.branch = ?4
		AND r.state IN ('attempted', 'accepted', 'needs_review')
		AND coalesce(r.api_status, '') NOT IN ('`+strings.Join(failedStatuses, "', '")+`')
		AND (?5 <= 0 OR r.amount_cents <> ?5)
		AND (?6 = '' OR b.id = ?6) AND (?7 = '' OR b.id <> ?7)
		AND b.created_at > ?8 AND b.environment = ?9 AND b.account_id = ?10
		ORDER BY b.created_at DESC, r.seq LIMIT 1`,
		q.Document, q.Account, q.ISPB, q.Branch, q.NotAmount, q.Batch, q.NotBatch, fmtTime(q.Since), q.Env, q.AccountID).
		Scan(&p.Batch, &p.Row, &p.State, &p.AmountCents, &p.APIStatus, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Payment{}, false, nil
	}
	if err != nil {
		return Payment{}, false, fmt.Errorf("find payment: %w", err)
	}
	p.Created, _ = parseTime(created)
	return p, true, nil
}

// SetFingerprints gives rows of the batch that have none the fingerprints
// given, by row (rows imported before fingerprints existed): from then on
// they claim their payouts as other rows do. A row that has one keeps it.
func (l *Ledger) SetFingerprints(ctx context.Context, batch string, fps map[int]string) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		num, _, err := batchNum(ctx, tx, batch)
		if err != nil {
			return fmt.Errorf("set fingerprints of batch %s: %w", batch, err)
		}
		for row, fp := range fps {
			if _, err := tx.ExecContext(ctx, `UPDATE rows SET fingerprint = ? WHERE batch = ? AND row = ? AND fingerprint IS NULL`,
				fp, num, row); err != nil {
				return fmt.Errorf("set fingerprint of batch %s row %d: %w", batch, row, err)
			}
		}
		return nil
	})
}
