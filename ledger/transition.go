package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// TransitionError is returned when a row is not in a state the requested
// change starts from. Nothing was written. It wraps ErrIllegalTransition.
type TransitionError struct {
	Batch string
	Row   int   // as Excel numbers it
	From  State // the row's current state
	To    State
}

// Error names the row and the refused change.
func (e *TransitionError) Error() string {
	return fmt.Sprintf("batch %s row %d: cannot go from %s to %s", e.Batch, e.Row, e.From, e.To)
}

// Unwrap lets errors.Is(err, ErrIllegalTransition) match.
func (e *TransitionError) Unwrap() error { return ErrIllegalTransition }

// Transfer is what the bank answered when it created a transfer.
type Transfer struct {
	ID                   string
	Status               string // the API's status, e.g. "CREATED"
	FeeCents             int64  // in cents
	ScheduledToEffective string // yyyy-mm-dd
}

// MarkAttempted moves rows (Excel row numbers) from pending to attempted in
// one transaction, and must return before their requests leave: after a
// crash, an attempted row is one the bank may have seen, so it is sent again
// only with the same key. Each row takes the claim on its payout's
// fingerprint in the same transaction. If any row is not pending, or its
// payout is claimed by another batch's live row, no row changes and a
// *TransitionError or *ClaimedError names it. Rows of a batch still
// importing are refused. After the commit the marker file beside the
// ledger is brought up to date; if that fails, an error says so and the
// rows, attempted, must not be sent (a resume sends them with the same
// keys). A batch with an upload record that is not Cleared changes
// nothing and gives an error wrapping ErrNotCleared. SendRows is the same
// with a lease check and held rows instead of an error.
func (l *Ledger) MarkAttempted(ctx context.Context, batch string, rows []int, at time.Time) error {
	_, err := l.SendRows(ctx, batch, rows, at, SendOptions{})
	return err
}

// Sent is what SendRows did.
type Sent struct {
	// Held are the rows held instead of attempted, because another
	// batch's live row claims their payout.
	Held []int
	// Keys are the keys SendOptions.Key gave rows as they were marked
	// attempted, by row: the caller sends them with these, not with the
	// keys it read before.
	Keys map[int]string
}

// SendRows moves rows (Excel row numbers) from pending to attempted in one
// transaction, as MarkAttempted does, and returns the rows it held instead
// because another batch's live row claims their payout (with o.Hold; they
// stay out of this send) and the keys o.Key gave. With o.Holder set, a
// batch whose lease another runner holds changes nothing and gives a
// *LeaseLostError.
func (l *Ledger) SendRows(ctx context.Context, batch string, rows []int, at time.Time, o SendOptions) (Sent, error) {
	since := o.Since
	if since.IsZero() {
		since = l.now().Add(-DefaultClaimWindow)
	}
	var out Sent
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		out = Sent{}
		var (
			num    int64
			bstate BatchState
			holder sql.NullString
		)
		err := tx.QueryRowContext(ctx, `SELECT num, state, lease_holder FROM batches WHERE id = ?`, batch).Scan(&num, &bstate, &holder)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("mark attempted: batch %s: %w", batch, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("mark attempted: %w", err)
		}
		if bstate == BatchImporting {
			return fmt.Errorf("mark attempted: batch %s is still importing: %w", batch, ErrIllegalTransition)
		}
		if o.Holder != "" && holder.String != o.Holder {
			return &LeaseLostError{Batch: batch, Holder: holder.String}
		}
		// A batch uploaded on the web page is sent only as its own approval
		// policy allows, checked here, in the transaction before any request
		// leaves, whatever process sends it; a withdrawal or rejection
		// committed first stops it.
		switch u, err := uploadIn(ctx, tx, batch); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("mark attempted: %w", err)
		case !u.Cleared():
			return fmt.Errorf("batch %s %s; nothing of it was sent: %w", batch, u.NotCleared(), ErrNotCleared)
		}
		stmt, err := tx.PrepareContext(ctx, `UPDATE rows SET state = 'attempted',
			first_attempted_at = coalesce(first_attempted_at, ?), updated_at = ?
			WHERE batch = ? AND row = ? AND state = 'pending'`)
		if err != nil {
			return fmt.Errorf("mark attempted: %w", err)
		}
		defer stmt.Close()
		fps, err := tx.PrepareContext(ctx, `SELECT state, coalesce(fingerprint, ''), idempotency_key FROM rows WHERE batch = ? AND row = ?`)
		if err != nil {
			return fmt.Errorf("mark attempted: %w", err)
		}
		defer fps.Close()
		stamp, now := fmtTime(at), fmtTime(l.now())
		for _, row := range rows {
			var (
				st     State
				fp     string
				curKey sql.NullString
			)
			err := fps.QueryRowContext(ctx, num, row).Scan(&st, &fp, &curKey)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("batch %s row %d: %w", batch, row, ErrNotFound)
			}
			if err != nil {
				return fmt.Errorf("mark attempted batch %s row %d: %w", batch, row, err)
			}
			if st != Pending {
				return &TransitionError{Batch: batch, Row: row, From: st, To: Attempted}
			}
			// Rows imported before fingerprints existed have none.
			if fp != "" {
				c, err := l.claim(ctx, tx, num, row, fp, since)
				if err != nil {
					return fmt.Errorf("mark attempted batch %s: %w", batch, err)
				}
				if c != nil {
					if o.Hold == nil {
						return &ClaimedError{*c}
					}
					code, reason := o.Hold(*c)
					if err := hold(ctx, tx, num, row, code, reason, l.now()); err != nil {
						return err
					}
					out.Held = append(out.Held, row)
					continue
				}
			}
			if o.Key != nil {
				key, err := l.rekey(ctx, tx, num, row, fp, curKey.String, o)
				if err != nil {
					return fmt.Errorf("mark attempted batch %s row %d: %w", batch, row, err)
				}
				if key != "" {
					if out.Keys == nil {
						out.Keys = map[int]string{}
					}
					out.Keys[row] = key
				}
			}
			res, err := stmt.ExecContext(ctx, stamp, now, num, row)
			if err != nil {
				return fmt.Errorf("mark attempted batch %s row %d: %w", batch, row, err)
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return refusal(ctx, tx, batch, num, row, Attempted, err)
			}
		}
		return nil
	})
	if err != nil {
		return Sent{}, err
	}
	// The marker beside the ledger learns of the rows now attempted: a
	// ledger rolled back past them is refused at the next Open.
	return out, l.noteAttempted(ctx)
}

// maxKeyTries bounds how many keys SendOptions.NextKey may offer one row.
const maxKeyTries = 1000

// rekey gives a pending row the key o.Key chooses for it, before its first
// request (so no key the bank may have seen ever changes). A key another
// row holds is replaced by o.NextKey's, in turn. It returns the key set,
// or "" when the row keeps its own.
func (l *Ledger) rekey(ctx context.Context, tx *sql.Tx, num int64, row int, fp, cur string, o SendOptions) (string, error) {
	key := o.Key(row, fp, cur)
	if key == "" || key == cur {
		return "", nil
	}
	for range maxKeyTries {
		_, err := tx.ExecContext(ctx, `UPDATE rows SET idempotency_key = ? WHERE batch = ? AND row = ? AND state = 'pending'`, key, num, row)
		if err == nil {
			return key, nil
		}
		if !strings.Contains(err.Error(), "UNIQUE constraint failed: rows.idempotency_key") || o.NextKey == nil {
			return "", err
		}
		if key = o.NextKey(key); key == "" {
			return "", err
		}
	}
	return "", fmt.Errorf("no free idempotency key after %d tries", maxKeyTries)
}

// Accept records a 2xx answer for an attempted row: the attempt, the
// transfer and the first status, in one transaction.
func (l *Ledger) Accept(ctx context.Context, batch string, row int, a Attempt, t Transfer) error {
	if t.ID == "" {
		return fmt.Errorf("accept batch %s row %d: no transfer id", batch, row)
	}
	if err := checkOutcome(&a, OutcomeAccepted, OutcomeAccepted); err != nil {
		return fmt.Errorf("accept batch %s row %d: %w", batch, row, err)
	}
	// error_code and error_message stay: an attempted row carries there
	// only a warning given at import, which its results still show.
	cols := columns{"transfer_id": t.ID, "api_status": nullString(t.Status), "fee_cents": t.FeeCents,
		"scheduled_to_effective": nullString(t.ScheduledToEffective), "processed_at": fmtTime(a.At)}
	err := l.transition(ctx, batch, row, []State{Attempted}, Accepted, &a, cols, func(tx *sql.Tx, num int64) error {
		if t.Status == "" {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO transfer_status_history (batch, row, status, at, source)
			VALUES (?, ?, ?, ?, 'create')`, num, row, t.Status, fmtTime(a.At))
		return err
	})
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed: rows.transfer_id") {
		te := &TransferTakenError{Batch: batch, Row: row, TransferID: t.ID}
		te.OtherBatch, te.OtherRow, _, _ = l.TransferOwner(ctx, t.ID)
		return te
	}
	return err
}

// TransferTakenError is returned by Accept when the transfer Stone named
// is already recorded for another row: one transfer never pays two rows.
// Nothing was written; the row is still attempted.
type TransferTakenError struct {
	Batch      string
	Row        int
	TransferID string
	OtherBatch string // the batch of the row that holds the transfer
	OtherRow   int
}

// Error names both rows.
func (e *TransferTakenError) Error() string {
	return fmt.Sprintf("batch %s row %d: transfer %s is already recorded for batch %s row %d", e.Batch, e.Row, e.TransferID, e.OtherBatch, e.OtherRow)
}

// Reject records a 4xx answer that proves no transfer was made (Stone's
// error code and message) for an attempted row. A rejected row is never
// retried automatically.
func (l *Ledger) Reject(ctx context.Context, batch string, row int, a Attempt, code, message string) error {
	if err := checkOutcome(&a, OutcomeRejected, OutcomeRejected); err != nil {
		return fmt.Errorf("reject batch %s row %d: %w", batch, row, err)
	}
	return l.setOutcome(ctx, batch, row, Rejected, &a, code, message)
}

// NeedsReview moves an attempted row whose outcome cannot be known (for
// example its idempotency key may have expired) to needs_review with the
// reason. a is the attempt that led there, or nil if no request was made.
func (l *Ledger) NeedsReview(ctx context.Context, batch string, row int, a *Attempt, code, reason string) error {
	if a != nil {
		if err := checkOutcome(a, OutcomeAmbiguous, OutcomeAmbiguous, OutcomeError, OutcomeRetry, OutcomeRejected); err != nil {
			return fmt.Errorf("needs review batch %s row %d: %w", batch, row, err)
		}
	}
	return l.setOutcome(ctx, batch, row, NeedsReview, a, code, reason)
}

func (l *Ledger) setOutcome(ctx context.Context, batch string, row int, to State, a *Attempt, code, message string) error {
	at := l.now()
	if a != nil {
		at = a.At
	}
	cols := columns{"error_code": nullString(code), "error_message": nullString(message), "processed_at": fmtTime(at)}
	return l.transition(ctx, batch, row, []State{Attempted}, to, a, cols, nil)
}

// RecordAttempt appends an attempt that settled nothing (retryable, or
// ambiguous and to be retried with the same key) to an attempted row, which
// stays attempted.
func (l *Ledger) RecordAttempt(ctx context.Context, batch string, row int, a Attempt) error {
	if err := checkOutcome(&a, "", OutcomeRetry, OutcomeAmbiguous, OutcomeError); err != nil {
		return fmt.Errorf("record attempt batch %s row %d: %w", batch, row, err)
	}
	return l.transition(ctx, batch, row, []State{Attempted}, Attempted, &a, nil, nil)
}

// Hold sets a pending row aside as a suspected repeat (code and reason say
// of what); it is not sent until AllowRepeat.
func (l *Ledger) Hold(ctx context.Context, batch string, row int, code, reason string) error {
	cols := columns{"error_code": nullString(code), "error_message": nullString(reason)}
	return l.transition(ctx, batch, row, []State{Pending}, Held, nil, cols, nil)
}

// AllowRepeat returns a held row to pending because the user confirmed the
// repeat, keeping its key: ReleaseHeld with no new key, released by "lote".
// A batch already done is reopened (running), so the row is sent.
func (l *Ledger) AllowRepeat(ctx context.Context, batch string, row int) error {
	return l.ReleaseHeld(ctx, batch, row, Release{By: "lote"})
}

// RecordStatus records a later status of an accepted row's transfer (from
// polling or a webhook: source) in the history and on the row.
func (l *Ledger) RecordStatus(ctx context.Context, batch string, row int, status string, at time.Time, source string) error {
	if status == "" || source == "" {
		return fmt.Errorf("record status batch %s row %d: status and source are required", batch, row)
	}
	cols := columns{"api_status": status}
	return l.transition(ctx, batch, row, []State{Accepted}, Accepted, nil, cols, func(tx *sql.Tx, num int64) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO transfer_status_history (batch, row, status, at, source)
			VALUES (?, ?, ?, ?, ?)`, num, row, status, fmtTime(at), source)
		return err
	})
}

// checkOutcome fills an empty outcome with def and refuses outcomes that do
// not fit the transition, so the audit log never contradicts the row.
func checkOutcome(a *Attempt, def Outcome, allowed ...Outcome) error {
	if a.Outcome == "" {
		a.Outcome = def
	}
	if a.At.IsZero() {
		return errors.New("attempt has no time")
	}
	if !slices.Contains(allowed, a.Outcome) {
		return fmt.Errorf("attempt outcome %q does not fit this transition", a.Outcome)
	}
	return nil
}

// columns are the row columns a transition sets along with the state, by
// name (names are constants in this file, never user input).
type columns map[string]any

// transition changes one row's state from one of from to to and sets cols
// in the same UPDATE, guarded by the current state in its WHERE; then it
// appends the attempt a (if any) and runs extra for other tables — all in
// one transaction.
func (l *Ledger) transition(ctx context.Context, batch string, row int, from []State, to State, a *Attempt,
	cols columns, extra func(tx *sql.Tx, num int64) error) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		num, _, err := batchNum(ctx, tx, batch)
		if err != nil {
			return fmt.Errorf("set row %d to %s: %w", row, to, err)
		}
		q := `UPDATE rows SET state = ?, updated_at = ?`
		args := []any{to, fmtTime(l.now())}
		names := slices.Sorted(maps.Keys(cols))
		for _, name := range names {
			q += ", " + name + " = ?"
			args = append(args, cols[name])
		}
		q += ` WHERE batch = ? AND row = ? AND state IN (?` + strings.Repeat(", ?", len(from)-1) + `)`
		args = append(args, num, row)
		for _, f := range from {
			args = append(args, f)
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("batch %s row %d to %s: %w", batch, row, to, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return refusal(ctx, tx, batch, num, row, to, err)
		}
		if extra != nil {
			if err := extra(tx, num); err != nil {
				return fmt.Errorf("batch %s row %d to %s: %w", batch, row, to, err)
			}
		}
		if a != nil {
			_, err := tx.ExecContext(ctx, `INSERT INTO attempts (batch, row, at, http_status, request_id, latency_ms, outcome, error)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				num, row, fmtTime(a.At), a.HTTPStatus, a.RequestID, a.Latency.Milliseconds(), a.Outcome, a.Error)
			if err != nil {
				return fmt.Errorf("batch %s row %d: record attempt: %w", batch, row, err)
			}
		}
		return nil
	})
}

// refusal explains why an UPDATE guarded by state changed nothing.
func refusal(ctx context.Context, tx *sql.Tx, batch string, num int64, row int, to State, err error) error {
	if err != nil {
		return fmt.Errorf("batch %s row %d to %s: %w", batch, row, to, err)
	}
	var cur State
	err = tx.QueryRowContext(ctx, `SELECT state FROM rows WHERE batch = ? AND row = ?`, num, row).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("batch %s row %d: %w", batch, row, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("batch %s row %d to %s: %w", batch, row, to, err)
	}
	return &TransitionError{Batch: batch, Row: row, From: cur, To: to}
}
