package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Settlement outcomes.
const (
	SettledPaid    = "paid"     // the statement shows the transfer: the row is accepted
	SettledNotPaid = "not_paid" // the statement shows nothing: the row stays for review
	SettledResend  = "resend"   // a row settled not paid goes again, with a new key
)

// Settlement is one decision of a person about a row that needed one,
// as recorded: append-only.
type Settlement struct {
	Row            int
	Outcome        string
	TransferID     string
	Reason         string
	By             string
	At             time.Time
	OldKey, NewKey string // of a resend
}

// ErrNotSettledNotPaid is returned by Resend for a row whose last
// settlement is not "not paid": only a person's explicit decision that a
// row was not paid lets it go again.
var ErrNotSettledNotPaid = errors.New("the row was not settled as not paid")

// SettlePaid records that the person by found the row, which needs
// review, paid by transfer: the row becomes accepted with that transfer
// and keeps its payout's claim, so no other batch pays the payout again.
// A transfer another row holds is refused with a *TransferTakenError.
func (l *Ledger) SettlePaid(ctx context.Context, batch string, row int, transfer, by, reason string) error {
	if strings.TrimSpace(transfer) == "" || strings.TrimSpace(by) == "" {
		return fmt.Errorf("settle batch %s row %d: the transfer and who settles it are required", batch, row)
	}
	at := fmtTime(l.now())
	msg := fmt.Sprintf("Settled as paid by %s on %s: transfer %s.", by, at[:10], transfer)
	if reason != "" {
		msg = fmt.Sprintf("Settled as paid by %s on %s: transfer %s (%s).", by, at[:10], transfer, reason)
	}
	cols := columns{"transfer_id": transfer, "error_code": "settled_paid", "error_message": msg, "processed_at": at}
	err := l.transition(ctx, batch, row, []State{NeedsReview}, Accepted, nil, cols, func(tx *sql.Tx, num int64) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settlements (batch, row, outcome, transfer_id, reason, settled_by, settled_at)
			VALUES (?, ?, 'paid', ?, ?, ?, ?)`, num, row, transfer, reason, by, at)
		return err
	})
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed: rows.transfer_id") {
		te := &TransferTakenError{Batch: batch, Row: row, TransferID: transfer}
		te.OtherBatch, te.OtherRow, _, _ = l.TransferOwner(ctx, transfer)
		return te
	}
	return err
}

// SettleNotPaid records that the person by found no transfer for the row,
// which needs review, and why. The row stays needs_review and keeps its
// payout's claim: it is sent again only after Resend.
func (l *Ledger) SettleNotPaid(ctx context.Context, batch string, row int, by, reason string) error {
	if strings.TrimSpace(reason) == "" || strings.TrimSpace(by) == "" {
		return fmt.Errorf("settle batch %s row %d: why it was not paid, and who settles it, are required", batch, row)
	}
	at := fmtTime(l.now())
	cols := columns{"error_code": "settled_not_paid",
		"error_message": fmt.Sprintf("Settled as not paid by %s on %s: %s. Not sent again unless a person resends it (lote settle --resend).", by, at[:10], reason)}
	return l.transition(ctx, batch, row, []State{NeedsReview}, NeedsReview, nil, cols, func(tx *sql.Tx, num int64) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settlements (batch, row, outcome, reason, settled_by, settled_at)
			VALUES (?, ?, 'not_paid', ?, ?, ?)`, num, row, reason, by, at)
		return err
	})
}

// Resend returns a row settled as not paid to pending with newKey, a key
// never used, because the person by said so (reason may say why); its payout's claim is
// released here, and taken again when it is sent. A row whose last
// settlement is not "not paid" is refused with ErrNotSettledNotPaid. A
// batch already done is reopened, to be sent.
func (l *Ledger) Resend(ctx context.Context, batch string, row int, by, reason, newKey string) error {
	if strings.TrimSpace(by) == "" || newKey == "" {
		return fmt.Errorf("resend batch %s row %d: who resends it and a new key are required", batch, row)
	}
	return l.inTx(ctx, func(tx *sql.Tx) error {
		num, _, err := batchNum(ctx, tx, batch)
		if err != nil {
			return fmt.Errorf("resend row %d: %w", row, err)
		}
		var st State
		var key sql.NullString
		err = tx.QueryRowContext(ctx, `SELECT state, idempotency_key FROM rows WHERE batch = ? AND row = ?`, num, row).Scan(&st, &key)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("batch %s row %d: %w", batch, row, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("resend batch %s row %d: %w", batch, row, err)
		}
		var last string
		err = tx.QueryRowContext(ctx, `SELECT outcome FROM settlements WHERE batch = ? AND row = ? ORDER BY id DESC LIMIT 1`, num, row).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("resend batch %s row %d: %w", batch, row, err)
		}
		if st != NeedsReview || last != SettledNotPaid {
			return fmt.Errorf("resend batch %s row %d (%s): %w", batch, row, st, ErrNotSettledNotPaid)
		}
		now := fmtTime(l.now())
		if _, err := tx.ExecContext(ctx, `UPDATE rows SET state = 'pending', error_code = NULL, error_message = NULL,
			idempotency_key = ?, first_attempted_at = NULL, updated_at = ? WHERE batch = ? AND row = ? AND state = 'needs_review'`,
			newKey, now, num, row); err != nil {
			if strings.Contains(err.Error(), "UNIQUE constraint failed: rows.idempotency_key") {
				return fmt.Errorf("resend batch %s row %d: key %s belongs to another row", batch, row, newKey)
			}
			return fmt.Errorf("resend batch %s row %d: %w", batch, row, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM claims WHERE batch = ? AND row = ?`, num, row); err != nil {
			return fmt.Errorf("resend batch %s row %d: release claim: %w", batch, row, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO settlements (batch, row, outcome, reason, settled_by, settled_at, old_key, new_key)
			VALUES (?, ?, 'resend', ?, ?, ?, ?, ?)`, num, row, reason, by, now, key.String, newKey); err != nil {
			return fmt.Errorf("resend batch %s row %d: %w", batch, row, err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE batches SET state = 'running', updated_at = ? WHERE num = ? AND state = 'done'`, now, num)
		return err
	})
}

// Settlements lists a batch's settlements in the order they were made.
func (l *Ledger) Settlements(ctx context.Context, batch string) ([]Settlement, error) {
	rs, err := l.r.QueryContext(ctx, `SELECT s.row, s.outcome, s.transfer_id, s.reason, s.settled_by, s.settled_at, s.old_key, s.new_key
		FROM settlements s JOIN batches b ON b.num = s.batch WHERE b.id = ? ORDER BY s.id`, batch)
	if err != nil {
		return nil, fmt.Errorf("settlements of batch %s: %w", batch, err)
	}
	defer rs.Close()
	var out []Settlement
	for rs.Next() {
		var s Settlement
		var at string
		if err := rs.Scan(&s.Row, &s.Outcome, &s.TransferID, &s.Reason, &s.By, &at, &s.OldKey, &s.NewKey); err != nil {
			return nil, fmt.Errorf("settlements of batch %s: %w", batch, err)
		}
		if s.At, err = parseTime(sql.NullString{String: at, Valid: true}); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rs.Err()
}
