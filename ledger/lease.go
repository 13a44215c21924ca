package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LeaseHeldError is returned when another runner holds a live lease on the
// batch. Holder names it (e.g. "host pid 4242") so the user knows who.
type LeaseHeldError struct {
	Batch   string
	Holder  string
	Expires time.Time
}

// Error says who holds the batch and until when.
func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("batch %s is being run by %s (lease expires %s)", e.Batch, e.Holder, e.Expires.Format(time.RFC3339))
}

// ErrLeaseLost is returned by RenewLease and ReleaseLease when the caller no
// longer holds the lease: it expired and another runner took the batch over.
// A runner that gets it must stop sending.
var ErrLeaseLost = errors.New("lease lost")

// AcquireLease makes holder the only runner of the batch until the returned
// expiry (now + ttl). It succeeds when no one holds the lease, when the
// lease expired (its holder was killed), when Options.HolderDead says its
// holder is gone, or when holder already holds it; otherwise it returns a
// *LeaseHeldError. The check and the take are one
// immediate transaction, so two processes cannot both win.
func (l *Ledger) AcquireLease(ctx context.Context, batch, holder string, ttl time.Duration) (time.Time, error) {
	var expires time.Time
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		expires, err = l.acquire(ctx, tx, batch, holder, ttl)
		return err
	})
	return expires, err
}

func (l *Ledger) acquire(ctx context.Context, tx *sql.Tx, batch, holder string, ttl time.Duration) (time.Time, error) {
	if holder == "" || ttl <= 0 {
		return time.Time{}, fmt.Errorf("acquire lease on batch %s: holder and a positive ttl are required", batch)
	}
	now := l.now()
	expires := now.Add(ttl)
	res, err := tx.ExecContext(ctx, `UPDATE batches SET lease_holder = ?, lease_expires = ?
		WHERE id = ? AND (lease_holder IS NULL OR lease_holder = ? OR lease_expires <= ?)`,
		holder, fmtTime(expires), batch, holder, fmtTime(now))
	if err != nil {
		return time.Time{}, fmt.Errorf("acquire lease on batch %s: %w", batch, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return expires, err
	}
	var h, e sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT lease_holder, lease_expires FROM batches WHERE id = ?`, batch).Scan(&h, &e)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("acquire lease on batch %s: %w", batch, ErrNotFound)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("acquire lease on batch %s: %w", batch, err)
	}
	exp, err := parseTime(e)
	if err != nil {
		return time.Time{}, fmt.Errorf("acquire lease on batch %s: %w", batch, err)
	}
	if l.dead != nil && l.dead(h.String) {
		// A run killed on this host need not keep the batch for the rest
		// of its lease. This transaction holds the write lock since the
		// first UPDATE, so the lease cannot have changed hands meanwhile.
		_, err := tx.ExecContext(ctx, `UPDATE batches SET lease_holder = ?, lease_expires = ? WHERE id = ?`,
			holder, fmtTime(expires), batch)
		if err != nil {
			return time.Time{}, fmt.Errorf("acquire lease on batch %s from %s: %w", batch, h.String, err)
		}
		return expires, nil
	}
	return time.Time{}, &LeaseHeldError{Batch: batch, Holder: h.String, Expires: exp}
}

// RenewLease extends holder's lease to now + ttl and returns the new expiry.
// A runner calls it well before the lease expires, for as long as it runs.
// It fails with ErrLeaseLost if another runner has taken the batch over.
func (l *Ledger) RenewLease(ctx context.Context, batch, holder string, ttl time.Duration) (time.Time, error) {
	expires := l.now().Add(ttl)
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE batches SET lease_expires = ? WHERE id = ? AND lease_holder = ?`,
			fmtTime(expires), batch, holder)
		if err != nil {
			return fmt.Errorf("renew lease on batch %s: %w", batch, err)
		}
		return mustAffect(res, 1, fmt.Errorf("renew lease on batch %s for %s: %w", batch, holder, ErrLeaseLost))
	})
	if err != nil {
		return time.Time{}, err
	}
	return expires, nil
}

// ReleaseLease gives the batch up so that the next runner need not wait for
// the lease to expire. It fails with ErrLeaseLost if holder no longer holds it.
func (l *Ledger) ReleaseLease(ctx context.Context, batch, holder string) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE batches SET lease_holder = NULL, lease_expires = NULL
			WHERE id = ? AND lease_holder = ?`, batch, holder)
		if err != nil {
			return fmt.Errorf("release lease on batch %s: %w", batch, err)
		}
		return mustAffect(res, 1, fmt.Errorf("release lease on batch %s for %s: %w", batch, holder, ErrLeaseLost))
	})
}
