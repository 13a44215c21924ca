package batch

import (
	"context"

	"lote/ledger"
)

// backfill gives the rows of a batch imported before fingerprints existed
// (pending or held, with a payout) the fingerprint they would have today,
// so that resuming it after an upgrade claims each payout as any batch
// does: the same payouts sent meanwhile by a re-saved copy are then held,
// not paid again. Occurrences are counted in row order, as at import.
func (r *runner) backfill(ctx context.Context, b ledger.Batch) error {
	_, n, err := r.l.FindRows(ctx, b.ID, ledger.RowFilter{States: []ledger.State{ledger.Pending, ledger.Held}, NoFingerprint: true}, 0)
	if err != nil || n == 0 {
		return err
	}
	fps := map[int]string{}
	seen := occurrences{}
	missing := false
	for row, err := range r.l.Rows(ctx, b.ID) {
		if err != nil {
			return err
		}
		if row.State == ledger.Invalid || len(row.Payout) == 0 {
			continue
		}
		p, err := storedPayout(b.ID, row)
		if err != nil {
			continue
		}
		fp := seen.next(b.Environment, b.AccountID, &p)
		if row.Fingerprint != "" || (row.State != ledger.Pending && row.State != ledger.Held) {
			continue
		}
		missing = true
		fps[row.Row] = fp
	}
	if !missing {
		return nil
	}
	r.log.Info("gave the rows of a batch imported by an older lote their payouts' fingerprints", "batch", ledger.ShortID(b.ID), "rows", len(fps))
	return r.l.SetFingerprints(context.WithoutCancel(ctx), b.ID, fps)
}
