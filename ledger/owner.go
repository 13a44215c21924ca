package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// TransferOwner returns the batch and row (as Excel numbers it) that hold
// the transfer id, in any state, or found false when no row holds it.
// After a 409 a transfer found by lookup may be another row's payment of
// the same payee and amount: it must not be claimed twice.
func (l *Ledger) TransferOwner(ctx context.Context, transferID string) (batch string, row int, found bool, err error) {
	err = l.r.QueryRowContext(ctx, `SELECT b.id, r.row FROM rows r INDEXED BY rows_transfer
		JOIN batches b ON b.num = r.batch WHERE r.transfer_id = ? LIMIT 1`, transferID).Scan(&batch, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, fmt.Errorf("find owner of transfer %s: %w", transferID, err)
	}
	return batch, row, true, nil
}
