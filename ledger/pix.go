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

// RailTotals are the rows of one rail still to send: pending and
// attempted, and held ones apart.
type RailTotals struct {
	Rail        string
	ToSend      Totals // pending and attempted
	Held        Totals
	Accepted    Totals
	NeedsReview Totals
}

// RailSummary counts a batch's valid rows and adds up their amounts by
// rail, in the order ted, internal, pix; rails without rows are left out.
func (l *Ledger) RailSummary(ctx context.Context, batch string) ([]RailTotals, error) {
	rs, err := l.r.QueryContext(ctx, `SELECT r.rail, r.state, count(*), coalesce(sum(r.amount_cents), 0)
		FROM rows r JOIN batches b ON b.num = r.batch WHERE b.id = ? AND r.state <> 'invalid' GROUP BY r.rail, r.state`, batch)
	if err != nil {
		return nil, fmt.Errorf("rails of batch %s: %w", batch, err)
	}
	defer rs.Close()
	by := map[string]*RailTotals{}
	for rs.Next() {
		var rail string
		var st State
		var t Totals
		if err := rs.Scan(&rail, &st, &t.Rows, &t.Cents); err != nil {
			return nil, fmt.Errorf("rails of batch %s: %w", batch, err)
		}
		rt := by[rail]
		if rt == nil {
			rt = &RailTotals{Rail: rail}
			by[rail] = rt
		}
		var dst *Totals
		switch st {
		case Pending, Attempted:
			dst = &rt.ToSend
		case Held:
			dst = &rt.Held
		case Accepted:
			dst = &rt.Accepted
		case NeedsReview:
			dst = &rt.NeedsReview
		default:
			continue
		}
		dst.Rows += t.Rows
		dst.Cents += t.Cents
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("rails of batch %s: %w", batch, err)
	}
	var out []RailTotals
	for _, rail := range []string{RailTED, RailInternal, RailPix} {
		if rt := by[rail]; rt != nil {
			out = append(out, *rt)
		}
	}
	return out, nil
}
