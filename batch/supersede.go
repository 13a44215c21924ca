package batch

import (
	"context"
	"errors"
	"fmt"
	"os"

	"lote/ledger"
	"lote/validate"
)

// A batch is the SHA-256 of its file, so a sheet edited after a crash is a
// new batch, and the interrupted one still holds its rows not yet sent.
// Sending both would pay the edited payees twice (the old amount from the
// old batch, the new one from the new) and the others through whichever
// batch claims them first. The newer file is what the person means now:
//
//   - When a file is run, an interrupted batch run from the same path with
//     other bytes is superseded: its rows not yet sent are held (and give
//     up their claims), so the new batch pays them; the rows it already
//     sent keep their claims, so the new batch holds the same payouts; and
//     a row of the new batch that pays a payee the old batch paid (or is
//     paying) another amount is held for a person, not paid on top.
//   - When an old batch is resumed and its file now holds a newer batch's
//     bytes, the same holds are made (for a newer batch run while the old
//     one still had a live runner), its rows in flight whose payee the
//     newer batch pays are left for review instead of sent again, and the
//     report says what the newer batch paid and holds.

// supersede holds the rows not yet sent of the interrupted batches that nb
// replaces at its path, and the rows of nb that change the amount those
// batches paid a payee. A batch whose runner is alive is left to the
// claims.
func (r *runner) supersede(ctx context.Context, nb ledger.Batch) ([]Supersession, error) {
	if nb.SourcePath == "" {
		return nil, nil
	}
	all, err := r.l.Batches(ctx)
	if err != nil {
		return nil, err
	}
	bg := context.WithoutCancel(ctx)
	since := r.now().Add(-r.opts.RepeatWindow)
	var out []Supersession
	for _, old := range all {
		// Batches not finished (interrupted, or imported and never sent),
		// from the same path, account and environment, older and recent:
		// next month's sheet at the same path does not supersede this
		// month's, nor a batch already superseded (then done).
		if old.ID == nb.ID || old.SourcePath != nb.SourcePath ||
			(old.State != ledger.BatchRunning && old.State != ledger.BatchImported) ||
			old.Environment != nb.Environment || old.AccountID != nb.AccountID ||
			old.Created.After(nb.Created) || old.Created.Before(since) {
			continue
		}
		// Taking the old batch's lease keeps a resume of it out meanwhile;
		// a live runner keeps it, its rows keep their claims, and this
		// batch holds every row whose amount differs from the old one's.
		s := Supersession{Old: old.ID, New: nb.ID, Path: old.SourcePath}
		_, err := r.l.AcquireLease(bg, old.ID, r.opts.Holder, r.opts.LeaseTTL)
		var live *ledger.LeaseHeldError
		switch {
		case errors.As(err, &live):
			r.log.Warn("an older batch from the same file is being run; each payout goes once, by whichever batch claims it",
				"batch", ledger.ShortID(old.ID), "runner", live.Holder)
		case err != nil:
			return out, err
		default:
			s, err = r.holdSuperseded(bg, old, nb)
			if rerr := r.l.ReleaseLease(bg, old.ID, r.opts.Holder); err == nil && rerr != nil && !errors.Is(rerr, ledger.ErrLeaseLost) {
				err = rerr
			}
			if err != nil {
				return out, err
			}
		}
		n, err := r.holdChangedAmounts(bg, nb, old)
		if err != nil {
			return out, err
		}
		if s.Held > 0 || n > 0 {
			r.log.Warn("this file replaces an interrupted batch run from the same path",
				"old", ledger.ShortID(old.ID), "held_in_old", s.Held, "held_here", n)
		}
		out = append(out, s)
	}
	return out, nil
}

// payeeOf keys a row by its payee's account.
func payeeOf(row ledger.Row) string {
	return row.Document + "\x00" + row.ISPB + "\x00" + row.Branch + "\x00" + row.Account
}

// holdSuperseded holds old's rows not yet sent whose payee nb pays (or
// that nb's file no longer has: the person took the row out), and leaves
// for review its rows in flight whose payee nb pays. A payee whose rows in
// nb are all invalid keeps old's row: nb cannot pay it. old is marked done
// when nothing of it is left to send, so it is superseded once. The
// caller holds old's lease.
func (r *runner) holdSuperseded(ctx context.Context, old, nb ledger.Batch) (Supersession, error) {
	s := Supersession{Old: old.ID, New: nb.ID, Path: old.SourcePath}
	// nb's payees: true when nb may pay them, false when all their rows
	// are invalid.
	payees := map[string]bool{}
	for row, err := range r.l.Rows(ctx, nb.ID) {
		if err != nil {
			return s, err
		}
		k := payeeOf(row)
		payees[k] = payees[k] || row.State != ledger.Invalid
	}
	var pending []int
	var inFlight []ledger.Row
	for row, err := range r.l.Outstanding(ctx, old.ID) {
		if err != nil {
			return s, err
		}
		pays, listed := payees[payeeOf(row)]
		switch {
		case row.State == ledger.Pending && (pays || !listed):
			pending = append(pending, row.Row)
		case row.State == ledger.Attempted && pays:
			row.Cells, row.Payout = nil, nil
			inFlight = append(inFlight, row)
		}
	}
	msg := fmt.Sprintf("Not sent: %s now holds other bytes, run as batch %s on %s, which pays this payee, or no longer has this row. Release this row (--allow-repeat, or Release on the page) only if it must be paid as well.",
		old.SourcePath, ledger.ShortID(nb.ID), nb.Created.In(brasilia).Format("02/01/2006 15:04"))
	n, err := r.l.HoldRows(ctx, old.ID, pending, CodeSuperseded, msg)
	if err != nil {
		return s, err
	}
	s.Held = n
	for _, row := range inFlight {
		pay, found, err := r.l.FindPayment(ctx, ledger.PaymentQuery{Env: old.Environment, AccountID: old.AccountID,
			Document: row.Document, ISPB: row.ISPB, Branch: row.Branch, Account: row.Account, Batch: nb.ID})
		if err != nil {
			return s, err
		}
		if !found {
			continue // sent again with its key: the newer batch holds this payee
		}
		why := fmt.Sprintf("Not sent again: %s now holds batch %s, whose row %d pays this payee %s (%s). This row may have reached Stone before the interruption; check the account statement.",
			old.SourcePath, ledger.ShortID(nb.ID), pay.Row, validate.FormatBRL(pay.AmountCents), pay.State)
		if err := r.l.NeedsReview(ctx, old.ID, row.Row, nil, CodeSuperseded, why); err != nil {
			return s, err
		}
		s.Review++
	}
	sum, err := r.l.Summary(ctx, old.ID)
	if err != nil {
		return s, err
	}
	if sum[ledger.Pending].Rows+sum[ledger.Attempted].Rows == 0 && old.State == ledger.BatchRunning {
		if err := r.l.SetBatchState(ctx, old.ID, ledger.BatchDone); err != nil {
			return s, err
		}
	}
	if s.NewSummary, err = r.l.Summary(ctx, nb.ID); err != nil {
		return s, err
	}
	return s, nil
}

// holdChangedAmounts holds the pending rows of nb whose payee and account
// old paid, is paying or may still pay another amount: the file was
// edited after old sent (or planned) that row, and paying the new amount
// on top would pay twice. old's rows are read once, into a table of its
// payees; then nb's.
func (r *runner) holdChangedAmounts(ctx context.Context, nb, old ledger.Batch) (int, error) {
	type paid struct {
		row   int
		cents int64
		state ledger.State
	}
	payees := map[string][]paid{}
	key := payeeOf
	for row, err := range r.l.Rows(ctx, old.ID) {
		if err != nil {
			return 0, err
		}
		switch row.State {
		case ledger.Pending, ledger.Attempted, ledger.Accepted, ledger.NeedsReview:
			k := key(row)
			payees[k] = append(payees[k], paid{row.Row, row.AmountCents, row.State})
		}
	}
	if len(payees) == 0 {
		return 0, nil
	}
	type hold struct {
		row int
		why string
	}
	var holds []hold
	for row, err := range r.l.Outstanding(ctx, nb.ID) {
		if err != nil {
			return 0, err
		}
		if row.State != ledger.Pending {
			continue
		}
		for _, p := range payees[key(row)] {
			if p.cents == row.AmountCents {
				continue // the same payout: its claim decides
			}
			holds = append(holds, hold{row.Row, fmt.Sprintf("Held: batch %s row %d, run from this same file before it was changed, %s this payee and account %s; this row pays %s. Release it (--allow-repeat, or Release on the page) to pay this amount as well.",
				ledger.ShortID(old.ID), p.row, paidVerb(p.state), validate.FormatBRL(p.cents), validate.FormatBRL(row.AmountCents))})
			break
		}
	}
	for _, h := range holds {
		if err := r.l.Hold(ctx, nb.ID, h.row, CodeChangedAmount, h.why); err != nil {
			return 0, err
		}
	}
	return len(holds), nil
}

func paidVerb(s ledger.State) string {
	switch s {
	case ledger.Pending:
		return "is about to pay"
	case ledger.Attempted:
		return "is paying"
	case ledger.NeedsReview:
		return "may have paid"
	}
	return "paid"
}

// superseded checks, before old is resumed, whether its file now holds the
// bytes of a newer batch; if so it holds what old has not sent, as
// supersede does, and says so. A file changed but never run is only
// logged: resuming sends what old recorded.
func (r *runner) superseded(ctx context.Context, old ledger.Batch) (*Supersession, error) {
	if old.SourcePath == "" {
		return nil, nil
	}
	if _, err := os.Stat(old.SourcePath); err != nil {
		return nil, nil // moved or deleted: nothing to compare
	}
	id, _, _, err := fileID(old.SourcePath)
	if err != nil || id == old.ID {
		return nil, nil
	}
	nb, err := r.l.Batch(ctx, id)
	if errors.Is(err, ledger.ErrNotFound) {
		r.log.Warn("the file of this batch has changed since it was run; resuming sends what the batch recorded",
			"batch", ledger.ShortID(old.ID), "file", old.SourcePath)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// The newer batch must have been sent (or be sending): one stopped
	// for invalid rows, or never confirmed, pays nobody.
	if nb.Environment != old.Environment || nb.AccountID != old.AccountID ||
		(nb.State != ledger.BatchRunning && nb.State != ledger.BatchDone) {
		return nil, nil
	}
	s, err := r.holdSuperseded(context.WithoutCancel(ctx), old, nb)
	if err != nil {
		return nil, err
	}
	return &s, nil
}
