package batch

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"lote/internal/pace"
	"lote/ledger"
	"lote/stone"
	"lote/validate"
)

// Codes of Pix rows set to needs_review by the run.
const (
	// CodePixConflict: Stone answered 409 for a Pix step's key and the
	// payment could not be found confirmed.
	CodePixConflict = "pix_conflict"
)

// workInternal pays a row whose account is at Stone by an internal
// transfer. A dry run first resolves the account's owner, compared with
// the sheet's payee before anything is created; then the transfer is
// created with the row's key, exactly like a TED.
func (s *sender) workInternal(ctx context.Context, row ledger.Row, p *validate.Payout) error {
	r := s.r
	body := internalRequest(r.opts.AccountID, p)
	var dry *stone.InternalTransfer
	_, ok, err := s.call(ctx, row, s.conflictInternal, func(ctx context.Context, info *stone.CallInfo) (err error) {
		dry, err = r.c.DryRunInternalTransfer(ctx, body, stone.WithCallInfo(info))
		return err
	})
	if !ok {
		return err
	}
	owner := dry.Target.Entity.Name
	if owner == "" {
		owner = dry.TargetAccountOwnerName
	}
	if owner != "" {
		if why := payeeMatch(validate.PayoutEntity{Name: p.Target.Entity.Name}, owner, ""); why != "" {
			msg := payeeMessage(validate.RailInternal, why, p.Target.Entity, owner, "", "")
			if err := r.l.NeedsReview(s.bg, s.batch, row.Row, nil, CodePayeeMismatch, msg); err != nil {
				return s.ledgerErr(err)
			}
			s.settled(ledger.NeedsReview)
			return nil
		}
	}
	var tr *stone.InternalTransfer
	a, ok, err := s.call(ctx, row, s.conflictInternal, func(ctx context.Context, info *stone.CallInfo) (err error) {
		tr, err = r.c.CreateInternalTransfer(ctx, row.IdempotencyKey, body, stone.WithCallInfo(info))
		return err
	})
	if !ok {
		return err
	}
	return s.accept(row, a, ledger.Transfer{ID: tr.ID, Status: tr.Status, FeeCents: tr.Fee})
}

// conflictInternal settles a 409 on an internal transfer as conflict does
// a TED's: the transfer is looked up among the account's internal
// transfers (same amount and target account, created since the row's
// first attempt, held by no other row) and accepted if found exactly once.
func (s *sender) conflictInternal(row ledger.Row, a *ledger.Attempt, se *stone.Error) error {
	r := s.r
	p, err := storedPayout(s.batch, row)
	if err != nil {
		return err
	}
	since := row.FirstAttemptedAt.Add(-conflictSkew)
	ctx, cancel := context.WithTimeout(s.bg, 4*r.opts.RequestTimeout)
	defer cancel()
	return lookUpConflict(ctx, s, row, a, se, r.c.ListInternalTransfers(ctx, r.opts.AccountID, 100),
		conflictLookup[stone.InternalTransfer]{
			noun: "internal transfer", target: "account", amount: p.Amount,
			id: func(t stone.InternalTransfer) string { return t.ID },
			match: func(t stone.InternalTransfer) bool {
				code := t.Target.Account.AccountCode
				if code == "" {
					code = t.TargetAccountCode
				}
				return t.Amount == p.Amount && code == p.Target.Account.AccountCode && t.CreatedAt != nil && !t.CreatedAt.Before(since)
			},
			transfer: func(t *stone.InternalTransfer) ledger.Transfer {
				return ledger.Transfer{ID: t.ID, Status: t.Status, FeeCents: t.Fee}
			},
		})
}

// workPix pays a row by Pix in Stone's two steps. The confirmation's key is
// written before the create is first sent; the created payment's id as
// soon as the create answers. A resume of a row whose create answered
// reads that payment; one whose answer was lost sends the create again
// with the same key, and Stone answers with the same payment. Before the
// payment is confirmed, the payee Stone resolved is compared with the
// sheet's (payeeMatch): a payee who differs is held for a person and never
// confirmed. A confirmation whose answer was lost is sent again with its
// own key, and a payment read back confirmed is not confirmed again.
func (s *sender) workPix(ctx context.Context, row ledger.Row, p *validate.Payout) error {
	r := s.r
	confirmKey := row.PixConfirmKey
	if confirmKey == "" {
		confirmKey = PixConfirmKey(row.IdempotencyKey)
		if err := r.l.SetPixConfirmKey(s.bg, s.batch, row.Row, confirmKey); err != nil {
			return s.ledgerErr(err)
		}
	}
	var pay *stone.PixPayment
	name, doc := row.PayeeName, row.PayeeDocument
	if row.PixPaymentID != "" {
		pay = s.readPix(ctx, row, row.PixPaymentID)
		if pay == nil {
			return nil // unresolved: the row stays attempted, a resume reads it again
		}
	} else {
		body := pixRequest(r.opts.AccountID, p)
		a, ok, err := s.call(ctx, row, s.conflictPix, func(ctx context.Context, info *stone.CallInfo) (err error) {
			pay, err = r.c.CreatePix(ctx, row.IdempotencyKey, body, stone.WithCallInfo(info))
			return err
		})
		if !ok {
			return err
		}
		a.Outcome = ledger.OutcomeAccepted
		name, doc = pay.Target.Entity.Name, pay.Target.Entity.Document
		err = r.l.PixCreated(s.bg, s.batch, row.Row, a, pay.ID, pay.EndToEndID, name, doc)
		var taken *ledger.TransferTakenError
		if errors.As(err, &taken) {
			msg := fmt.Sprintf("Stone answered with Pix %s, which another row of the ledger already holds; this row is not confirmed. Check the account statement for this payout.", pay.ID)
			if err := r.l.NeedsReview(s.bg, s.batch, row.Row, nil, CodeTransferTaken, msg); err != nil {
				return s.ledgerErr(err)
			}
			s.settled(ledger.NeedsReview)
			return nil
		}
		if err != nil {
			return s.ledgerErr(err)
		}
	}
	if name == "" && doc == "" {
		name, doc = pay.Target.Entity.Name, pay.Target.Entity.Document
	}
	at := r.now()
	a := ledger.Attempt{At: at, Outcome: ledger.OutcomeAccepted, Error: "read back: Pix " + pay.ID + " is " + pay.Status}
	if !pay.Confirmed() {
		if why := payeeMatch(p.Target.Entity, name, doc); why != "" {
			msg := payeeMessage(validate.RailPix, why, p.Target.Entity, name, doc, pay.ID)
			if err := r.l.NeedsReview(s.bg, s.batch, row.Row, nil, CodePayeeMismatch, msg); err != nil {
				return s.ledgerErr(err)
			}
			s.settled(ledger.NeedsReview)
			return nil
		}
		id := pay.ID
		var ok bool
		var err error
		a, ok, err = s.call(ctx, row, s.conflictPixConfirm(id), func(ctx context.Context, info *stone.CallInfo) error {
			return r.c.ConfirmPix(ctx, confirmKey, id, nil, stone.WithCallInfo(info))
		})
		if !ok {
			return err
		}
		pay.Status = stone.PixConfirmed
	}
	return s.accept(row, a, ledger.Transfer{ID: pay.ID, Status: pay.Status, FeeCents: pay.Fee})
}

// readPix reads a created Pix, retrying what may be retried; nil when it
// could not be read (the row then stays attempted).
func (s *sender) readPix(ctx context.Context, row ledger.Row, id string) *stone.PixPayment {
	r := s.r
	for attempt := 1; attempt <= r.opts.MaxAttempts; attempt++ {
		if err := s.lim.Wait(ctx); err != nil {
			return nil
		}
		reqCtx, cancel := context.WithTimeout(s.bg, r.opts.RequestTimeout)
		pay, err := r.c.GetPix(reqCtx, id)
		cancel()
		if err == nil {
			s.lim.Succeeded()
			return pay
		}
		var se *stone.Error
		if errors.As(err, &se) && se.Status == http.StatusTooManyRequests {
			s.lim.Throttled(se.RetryAfter)
		}
		if outcome, _ := stone.Classify(err); outcome == stone.OutcomeFinal && !errors.Is(err, stone.ErrNotSent) {
			break
		}
		if ctx.Err() != nil || r.opts.Sleep(ctx, pace.Backoff(attempt)) != nil {
			return nil
		}
	}
	s.unresolved.Add(1)
	r.log.Warn("created Pix not read back", "batch", ledger.ShortID(s.batch), "row", row.Row, "payment", id)
	return nil
}

// conflictPix settles a 409 on a Pix create: the key was used with another
// body, or so long ago that Stone forgot it. lote never sends a create
// with a new key, so a person must look.
func (s *sender) conflictPix(row ledger.Row, a *ledger.Attempt, se *stone.Error) error {
	a.Outcome = ledger.OutcomeAmbiguous
	msg := fmt.Sprintf("Stone says this row's idempotency key was used before (409 %s) and did not answer with its Pix; check the account's Pix payments before paying it again.", se.Type)
	if err := s.r.l.NeedsReview(s.bg, s.batch, row.Row, a, CodePixConflict, msg); err != nil {
		return err
	}
	s.settled(ledger.NeedsReview)
	return nil
}

// conflictPixConfirm settles a 409 on a confirmation by reading the
// payment: confirmed, the row is paid by it; still CREATED, a person looks.
func (s *sender) conflictPixConfirm(id string) func(ledger.Row, *ledger.Attempt, *stone.Error) error {
	return func(row ledger.Row, a *ledger.Attempt, se *stone.Error) error {
		if pay := s.readPix(context.WithoutCancel(s.bg), row, id); pay != nil && pay.Confirmed() {
			a.Outcome = ledger.OutcomeAccepted
			a.Error = "409 " + se.Type + " on confirm: Pix " + id + " read back " + pay.Status
			return s.accept(row, *a, ledger.Transfer{ID: pay.ID, Status: pay.Status, FeeCents: pay.Fee})
		}
		return s.conflictPix(row, a, se)
	}
}

// internalRequest is the internal transfer that pays p from accountID: the
// target's account number only; Stone resolves its owner.
func internalRequest(accountID string, p *validate.Payout) stone.CreateInternalTransfer {
	return stone.CreateInternalTransfer{Amount: p.Amount, AccountID: accountID,
		Target:      stone.InternalTarget{Account: stone.InternalAccount{AccountCode: p.Target.Account.AccountCode}},
		ScheduledTo: p.ScheduledTo}
}

// pixRequest is the Pix create that pays p from accountID: to its key, or
// else to its bank data.
func pixRequest(accountID string, p *validate.Payout) stone.CreatePixPayment {
	c := stone.CreatePixPayment{AccountID: accountID, Amount: p.Amount, Key: p.PixKey, ScheduledTo: p.ScheduledTo}
	if p.PixKey == "" {
		a, e := p.Target.Account, p.Target.Entity
		c.Target = stone.NewPixTarget(e.Name, e.Document, a.InstitutionCode,
			stone.PixAccount{AccountCode: a.AccountCode, AccountType: a.AccountType, BranchCode: fmt.Sprintf("%04s", a.BranchCode)})
	}
	return c
}
