package ledger

import (
	"context"
	"fmt"
	"strings"
)

// SetPixConfirmKey records the idempotency key a Pix row's confirmation
// will use, before its create is first sent. The key is derived from the
// row's own, so writing it again after a crash writes the same key.
func (l *Ledger) SetPixConfirmKey(ctx context.Context, batch string, row int, key string) error {
	if strings.TrimSpace(key) == "" {
		return fmt.Errorf("set pix confirm key batch %s row %d: empty key", batch, row)
	}
	return l.transition(ctx, batch, row, []State{Attempted}, Attempted, nil,
		columns{"pix_confirm_key": key}, nil)
}

// PixCreated records that Stone created the row's Pix: the create's
// attempt, the payment's id and end-to-end id, and the payee Stone
// resolved, in one transaction. The row stays attempted until the payment
// is confirmed (Accept) or held for a person (NeedsReview); a resume reads
// this payment instead of creating another.
func (l *Ledger) PixCreated(ctx context.Context, batch string, row int, a Attempt, paymentID, endToEndID, payeeName, payeeDocument string) error {
	if paymentID == "" {
		return fmt.Errorf("pix created batch %s row %d: no payment id", batch, row)
	}
	if err := checkOutcome(&a, OutcomeAccepted, OutcomeAccepted); err != nil {
		return fmt.Errorf("pix created batch %s row %d: %w", batch, row, err)
	}
	err := l.transition(ctx, batch, row, []State{Attempted}, Attempted, &a, columns{
		"pix_payment_id": paymentID, "end_to_end_id": nullString(endToEndID),
		"payee_name": payeeName, "payee_document": payeeDocument}, nil)
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed: rows.pix_payment_id") {
		return &TransferTakenError{Batch: batch, Row: row, TransferID: paymentID}
	}
	return err
}
