package ledger

import (
	"context"
	"fmt"
)

// TransferSummary counts a batch's accepted rows by the transfer status
// last recorded for them (at creation, then by reconciliation or a
// webhook), with their amounts and fees in cents. Statuses with no rows
// are absent; a batch with no accepted row gives an empty map.
func (l *Ledger) TransferSummary(ctx context.Context, batch string) (map[string]Totals, error) {
	if _, err := l.Batch(ctx, batch); err != nil {
		return nil, fmt.Errorf("transfer summary: %w", err)
	}
	rs, err := l.r.QueryContext(ctx, `SELECT coalesce(r.api_status, ''), count(*), coalesce(sum(r.amount_cents), 0),
		coalesce(sum(r.fee_cents), 0) FROM rows r JOIN batches b ON b.num = r.batch
		WHERE b.id = ? AND r.state = 'accepted' GROUP BY 1`, batch)
	if err != nil {
		return nil, fmt.Errorf("transfer summary of batch %s: %w", batch, err)
	}
	defer rs.Close()
	out := map[string]Totals{}
	for rs.Next() {
		var s string
		var t Totals
		if err := rs.Scan(&s, &t.Rows, &t.Cents, &t.Fees); err != nil {
			return nil, fmt.Errorf("transfer summary of batch %s: %w", batch, err)
		}
		out[s] = t
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("transfer summary of batch %s: %w", batch, err)
	}
	return out, nil
}
