package batch

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"lote/internal/pace"
	"lote/ledger"
	"lote/stone"
	"lote/validate"
)

// Codes of rows set to needs_review by the run.
const (
	// CodeKeyExpired: an attempted row first sent longer ago than the
	// idempotency lifetime; resending could pay twice.
	CodeKeyExpired = "idempotency_key_expired"
	// CodeConflictUnmatched: Stone answered 409 for the row's key and the
	// transfer could not be found exactly once.
	CodeConflictUnmatched = "conflict_unmatched"
	// CodeNotSendable: the client refused to send the row (its stored
	// request is unusable); nothing was sent.
	CodeNotSendable = "not_sendable"
	// CodeTransferTaken: Stone answered with a transfer id that another
	// row of the ledger already holds.
	CodeTransferTaken = "duplicate_transfer_id"
)

// conflictSkew is how much earlier than the row's first attempt a transfer
// found after a 409 may say it was created: clocks differ.
const conflictSkew = 2 * time.Minute

// progressEvery is the least time between two Progress calls.
const progressEvery = 200 * time.Millisecond

type sendResult struct {
	interrupted bool
	unresolved  int
}

// sender is the state shared by the workers of one run.
type sender struct {
	r       *runner
	batch   string
	lim     *pace.Limiter
	bg      context.Context // never cancelled: requests in flight and ledger writes
	started time.Time
	total   int

	reach *reachability
	// stop ends the run's sending with a cause (Stone unreachable).
	stop context.CancelCauseFunc

	unresolved atomic.Int64
	done       atomic.Int64
	mu         sync.Mutex
	counts     map[ledger.State]int
}

// send submits every pending or attempted row: groups of Concurrency rows
// are marked attempted in one transaction, then sent by an errgroup of
// Concurrency workers under the shared limiter. A row-level failure is
// recorded in the ledger; only infrastructure failures (ledger, credentials,
// lease) stop the group. When ctx ends no more rows are taken and requests
// in flight finish without retries.
func (r *runner) send(ctx context.Context, b ledger.Batch, p Plan) (sendResult, error) {
	s := &sender{r: r, batch: b.ID, lim: pace.New(r.opts.Rate, r.opts.Now, r.opts.Sleep),
		bg: context.WithoutCancel(ctx), started: r.now(), total: p.ToSend, counts: map[ledger.State]int{}}

	// The lease is renewed while the run lasts; losing it stops the run.
	runCtx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)
	s.reach, s.stop = newReachability(r.opts.UnreachableAfter, s.started), stopRun
	leaseDone := make(chan struct{})
	go func() {
		defer close(leaseDone)
		t := time.NewTicker(r.opts.LeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				if _, err := r.l.RenewLease(s.bg, b.ID, r.opts.Holder, r.opts.LeaseTTL); err != nil {
					if errors.Is(err, ledger.ErrLeaseLost) {
						holder := ""
						if cur, berr := r.l.Batch(s.bg, b.ID); berr == nil {
							holder = cur.LeaseHolder
						}
						stopRun(leaseLost(&ledger.LeaseLostError{Batch: b.ID, Holder: holder}))
						return
					}
					stopRun(fmt.Errorf("batch %s: %w", ledger.ShortID(b.ID), err))
					return
				}
			}
		}
	}()
	defer func() { <-leaseDone }()
	defer stopRun(nil)

	g, gctx := errgroup.WithContext(runCtx)
	g.SetLimit(r.opts.Concurrency)
	var lastProgress time.Time
	progress := func(final bool) {
		if r.opts.Progress == nil {
			return
		}
		now := r.now()
		if !final && now.Sub(lastProgress) < progressEvery {
			return
		}
		lastProgress = now
		r.opts.Progress(s.progress(now))
	}

	dispatchErr := s.dispatch(gctx, g, func() { progress(false) })
	// Wait for the workers, reporting progress from this goroutine.
	waited := make(chan error, 1)
	go func() { waited <- g.Wait() }()
	var werr error
	if r.opts.Progress != nil {
		t := time.NewTicker(progressEvery)
	wait:
		for {
			select {
			case werr = <-waited:
				t.Stop()
				break wait
			case <-t.C:
				progress(false)
			}
		}
	} else {
		werr = <-waited
	}
	progress(true)

	res := sendResult{unresolved: int(s.unresolved.Load())}
	if werr == nil {
		werr = dispatchErr
	}
	if cause := context.Cause(runCtx); werr == nil && cause != nil && ctx.Err() == nil {
		werr = cause // the lease was lost
	}
	if werr != nil && !errors.Is(werr, context.Canceled) {
		return res, werr
	}
	res.interrupted = ctx.Err() != nil
	return res, nil
}

// dispatch reads the outstanding rows in input order and hands them to
// workers, a group at a time.
func (s *sender) dispatch(ctx context.Context, g *errgroup.Group, tick func()) error {
	r := s.r
	group := make([]ledger.Row, 0, r.opts.Concurrency)
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		var pending []int
		now := r.now()
		for i, row := range group {
			if row.State == ledger.Pending {
				pending = append(pending, row.Row)
				group[i].State = ledger.Attempted
				group[i].FirstAttemptedAt = now
			}
		}
		// Written (fsynced) before any of these requests leaves: after a
		// crash these rows are only ever sent again with the same keys.
		// Each row claims its payout in the same transaction; a row whose
		// payout another batch claimed meanwhile is held, not sent.
		if len(pending) > 0 {
			sent, err := r.l.SendRows(s.bg, s.batch, pending, now, ledger.SendOptions{
				Holder: r.opts.Holder, Since: r.now().Add(-r.opts.RepeatWindow), Hold: r.claimHold,
				Key: s.payoutKey(now), NextKey: NextKey})
			if err != nil {
				return leaseLost(err)
			}
			// The rows go with the keys they were given as they were
			// marked, never with the ones read before.
			for i, row := range group {
				if k, ok := sent.Keys[row.Row]; ok {
					group[i].IdempotencyKey = k
				}
			}
			if held := sent.Held; len(held) > 0 {
				group = slices.DeleteFunc(group, func(row ledger.Row) bool { return slices.Contains(held, row.Row) })
				for range held {
					s.settled(ledger.Held)
				}
			}
		}
		for _, row := range group {
			if ctx.Err() != nil {
				break // marked rows stay attempted; a resume sends them
			}
			g.Go(func() error { return s.work(ctx, row) })
			tick()
		}
		group = group[:0]
		return nil
	}
	for row, err := range r.l.Outstanding(s.bg, s.batch) {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		// A Pix whose create answered is read by its id, and confirming a
		// payment twice cannot pay it twice: its keys' age does not matter.
		if row.State == ledger.Attempted && !row.FirstAttemptedAt.IsZero() && row.PixPaymentID == "" &&
			r.now().Sub(row.FirstAttemptedAt) > r.opts.IdempotencyTTL {
			// Stone may have forgotten the key: a resend could be a
			// second transfer (stone-api.md §5).
			msg := fmt.Sprintf("First sent at %s, more than %s ago: Stone may no longer recognise its idempotency key, so it was not sent again. Check the account statement for this payout.",
				row.FirstAttemptedAt.UTC().Format(time.RFC3339), r.opts.IdempotencyTTL)
			if err := r.l.NeedsReview(s.bg, s.batch, row.Row, nil, CodeKeyExpired, msg); err != nil {
				return err
			}
			s.settled(ledger.NeedsReview)
			continue
		}
		group = append(group, row)
		if len(group) == r.opts.Concurrency {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return flush()
}

// payoutKey gives a row imported without a reference its key as it is
// sent: derived from its payout and the day it is sent in Brasília, so the
// same payout sent from another file, ledger or host that day has the same
// key (IdempotencyKey). Keys derived from a reference, and keys of rows
// released by a person, are kept.
func (s *sender) payoutKey(now time.Time) func(row int, fingerprint, cur string) string {
	day := keyDay(now)
	return func(row int, fingerprint, cur string) string {
		if fingerprint == "" || cur != ProvisionalKey(s.batch, row) {
			return ""
		}
		return IdempotencyKey(s.r.opts.AccountID, "", fingerprint, day)
	}
}

// claimHold is what a row held for a claim says: which row of which batch
// has its payout, and in what state.
func (r *runner) claimHold(c ledger.ClaimConflict) (code, reason string) {
	var what string
	switch c.OtherState {
	case ledger.Attempted:
		what = "is being sent by"
	case ledger.Accepted:
		what = "was paid by"
		switch c.OtherStatus {
		case "":
		case "REFUNDED":
			what = "was paid and then returned by the payee's bank (Stone: REFUNDED; check how much came back) in"
		default:
			what = "was paid (Stone: " + c.OtherStatus + ") by"
		}
	case ledger.NeedsReview:
		what = "may have been paid by (it needs review)"
	default:
		what = "is claimed by"
	}
	return CodeClaimed, fmt.Sprintf("The same payout (payee, account, amount and date) %s batch %s row %d in %s; it is not paid again unless a person releases it (--allow-repeat, or Release on the page).",
		what, ledger.ShortID(c.OtherBatch), c.OtherRow, r.opts.Env)
}

// leaseLost turns the ledger's refusal of a runner that lost its lease
// into the message the user reads.
func leaseLost(err error) error {
	var ll *ledger.LeaseLostError
	if errors.As(err, &ll) {
		if ll.Holder == "" {
			return fmt.Errorf("batch %s: this run was stopped for longer than its lease and gave the batch up; nothing more was sent from here (lote status shows where it stands): %w", ledger.ShortID(ll.Batch), ledger.ErrLeaseLost)
		}
		return fmt.Errorf("batch %s: another runner (%s) took the batch over while this one was stopped; this one sent nothing more and stops (lote status shows where it stands): %w", ledger.ShortID(ll.Batch), ll.Holder, ledger.ErrLeaseLost)
	}
	return err
}

func (s *sender) settled(st ledger.State) {
	s.done.Add(1)
	s.mu.Lock()
	s.counts[st]++
	s.mu.Unlock()
}

func (s *sender) progress(now time.Time) Progress {
	s.mu.Lock()
	counts := make(map[ledger.State]int, len(s.counts))
	for k, v := range s.counts {
		counts[k] = v
	}
	s.mu.Unlock()
	p := Progress{Total: s.total, Done: int(s.done.Load()), Counts: counts, Rate: s.lim.Rate(), Elapsed: now.Sub(s.started)}
	if p.Done > 0 && p.Done < p.Total && p.Elapsed > 0 {
		p.ETA = time.Duration(float64(p.Elapsed) / float64(p.Done) * float64(p.Total-p.Done))
	}
	return p
}

// work sends one attempted row until Stone settles it, its attempts run
// out, or ctx ends. It returns an error only for failures that must stop
// the whole run.
func (s *sender) work(ctx context.Context, row ledger.Row) error {
	r := s.r
	p, err := storedPayout(s.batch, row)
	if err != nil {
		return err
	}
	switch validate.RailOf(&p) {
	case validate.RailPix:
		return s.workPix(ctx, row, &p)
	case validate.RailInternal:
		return s.workInternal(ctx, row, &p)
	}
	body := tedRequest(r.opts.AccountID, &p)
	var tr *stone.Transfer
	a, ok, err := s.call(ctx, row, s.conflict, func(ctx context.Context, info *stone.CallInfo) (err error) {
		tr, err = r.c.CreateTransfer(ctx, row.IdempotencyKey, body, stone.WithCallInfo(info))
		return err
	})
	if !ok {
		return err
	}
	return s.accept(row, a, tedTransfer(tr))
}

// call makes one request for row under the shared limiter, again and again
// while its failures may be retried, until it succeeds (ok, with its
// attempt, not yet recorded), the row is settled, its attempts run out or
// ctx ends. A 409 goes to conflict. err is only for failures that must
// stop the run.
func (s *sender) call(ctx context.Context, row ledger.Row, conflict func(ledger.Row, *ledger.Attempt, *stone.Error) error,
	do func(ctx context.Context, info *stone.CallInfo) error) (_ ledger.Attempt, ok bool, _ error) {
	r := s.r
	for attempt := 1; ; attempt++ {
		if err := s.lim.Wait(ctx); err != nil {
			return ledger.Attempt{}, false, nil // stopping: the row stays attempted
		}
		// The request runs on a context that ctx does not cancel: a
		// request already on its way finishes and is recorded.
		reqCtx, cancel := context.WithTimeout(s.bg, r.opts.RequestTimeout)
		var info stone.CallInfo
		at := r.now()
		err := do(reqCtx, &info)
		timedOut := reqCtx.Err() != nil
		cancel()
		if stop := s.reach.observe(r.now(), err, timedOut); stop != nil {
			// The run's error says why, once; the other rows in flight
			// stop at their next retry, left attempted.
			s.stop(stop)
		}
		a := ledger.Attempt{At: at, HTTPStatus: info.Status, RequestID: info.RequestID, Latency: info.Latency}
		if err == nil {
			s.lim.Succeeded()
			return a, true, nil
		}
		settledRow, retry, err := s.failed(ctx, row, &a, err, conflict)
		if err != nil || settledRow {
			return a, false, s.ledgerErr(err)
		}
		if !retry {
			return a, false, nil
		}
		if attempt >= r.opts.MaxAttempts {
			s.unresolved.Add(1)
			r.log.Warn("row not confirmed", "batch", ledger.ShortID(s.batch), "row", row.Row, "attempts", attempt)
			return a, false, nil
		}
		if ctx.Err() != nil {
			return a, false, nil
		}
		if err := r.opts.Sleep(ctx, pace.Backoff(attempt)); err != nil {
			return a, false, nil
		}
	}
}

// tedTransfer is what the ledger keeps of a TED Stone accepted.
func tedTransfer(tr *stone.Transfer) ledger.Transfer {
	t := ledger.Transfer{ID: tr.ID, Status: tr.Status, FeeCents: tr.Fee}
	if tr.ScheduledToEffective != nil {
		t.ScheduledToEffective = *tr.ScheduledToEffective
	}
	return t
}

func (s *sender) accept(row ledger.Row, a ledger.Attempt, t ledger.Transfer) error {
	a.Outcome = ledger.OutcomeAccepted
	err := s.r.l.Accept(s.bg, s.batch, row.Row, a, t)
	var taken *ledger.TransferTakenError
	if errors.As(err, &taken) {
		// Stone named a transfer another row already holds: marking this
		// row paid by it would hide that one of the two was not paid.
		a.Outcome = ledger.OutcomeAmbiguous
		msg := fmt.Sprintf("Stone answered with transfer %s, which is already recorded for batch %s row %d; this row is not marked paid. Check the account statement for this payout.",
			t.ID, ledger.ShortID(taken.OtherBatch), taken.OtherRow)
		if err := s.r.l.NeedsReview(s.bg, s.batch, row.Row, &a, CodeTransferTaken, msg); err != nil {
			return s.ledgerErr(err)
		}
		s.settled(ledger.NeedsReview)
		return nil
	}
	if err != nil {
		return s.ledgerErr(err)
	}
	s.settled(ledger.Accepted)
	return nil
}

// ledgerErr explains a refused transition of a row this run sent: when
// another runner took the batch over (this one was stopped past its
// lease) and settled the row, the run stops saying so, not with the
// transition it was refused.
func (s *sender) ledgerErr(err error) error {
	var te *ledger.TransitionError
	if !errors.As(err, &te) {
		return err
	}
	b, berr := s.r.l.Batch(s.bg, s.batch)
	if berr == nil && b.LeaseHolder != s.r.opts.Holder {
		return leaseLost(&ledger.LeaseLostError{Batch: s.batch, Holder: b.LeaseHolder})
	}
	return err
}

// failed records a failed request. It says whether the row was settled,
// whether to retry it, and returns an error only to stop the run.
func (s *sender) failed(ctx context.Context, row ledger.Row, a *ledger.Attempt, err error,
	conflict func(ledger.Row, *ledger.Attempt, *stone.Error) error) (settled, retry bool, _ error) {
	r := s.r
	outcome, why := stone.Classify(err)
	a.Error = why
	var se *stone.Error
	isAPI := errors.As(err, &se)
	notSent := errors.Is(err, stone.ErrNotSent)
	switch {
	case isAPI && (se.Status == http.StatusUnauthorized || se.Status == http.StatusForbidden ||
		notSent && outcome == stone.OutcomeFinal):
		// The credentials or the account are refused: nothing was
		// created, and every other row would fail the same way. The row
		// stays attempted and a resume sends the same key.
		a.Outcome = ledger.OutcomeError
		if rerr := r.l.RecordAttempt(s.bg, s.batch, row.Row, *a); rerr != nil {
			return false, false, rerr
		}
		return false, false, fmt.Errorf("batch %s row %d not sent: %w: %v", ledger.ShortID(s.batch), row.Row, ErrConfig, err)
	case isAPI && se.Status == http.StatusConflict:
		return true, false, conflict(row, a, se)
	case isAPI && se.Status >= 400 && se.Status < 500 && outcome == stone.OutcomeFinal:
		// 400, 404, 422, 431…: Stone refused the request, so no
		// transfer was made.
		a.Outcome = ledger.OutcomeRejected
		code := se.Type
		if code == "" {
			code = fmt.Sprintf("http_%d", se.Status)
		}
		if rerr := r.l.Reject(s.bg, s.batch, row.Row, *a, code, stoneMessage(se)); rerr != nil {
			return false, false, rerr
		}
		s.settled(ledger.Rejected)
		return true, false, nil
	case notSent && outcome == stone.OutcomeFinal:
		// Not sent: ctx ended before the request left (a request timeout
		// while waiting for a token), or the client refused the input.
		a.Outcome = ledger.OutcomeRetry
		if errors.Is(err, stone.ErrIdempotencyKey) {
			a.Outcome = ledger.OutcomeError
			if rerr := r.l.NeedsReview(s.bg, s.batch, row.Row, a, CodeNotSendable, err.Error()); rerr != nil {
				return false, false, rerr
			}
			s.settled(ledger.NeedsReview)
			return true, false, nil
		}
	case outcome == stone.OutcomeRetry:
		a.Outcome = ledger.OutcomeRetry
	default:
		a.Outcome = ledger.OutcomeAmbiguous
	}
	if rerr := r.l.RecordAttempt(s.bg, s.batch, row.Row, *a); rerr != nil {
		return false, false, rerr
	}
	if isAPI && se.Status == http.StatusTooManyRequests {
		s.lim.Throttled(se.RetryAfter)
	}
	return false, true, nil
}

// stoneMessage is Stone's reasons for a refusal, in one line.
func stoneMessage(se *stone.Error) string {
	var parts []string
	for _, rs := range se.Reasons {
		if len(rs.Path) > 0 {
			parts = append(parts, strings.Join(rs.Path, ".")+": "+rs.Error)
		} else {
			parts = append(parts, rs.Error)
		}
	}
	if se.Detail != "" {
		parts = append(parts, se.Detail)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("Stone answered %d %s", se.Status, se.Type)
	}
	return strings.Join(parts, "; ")
}

// conflict settles a 409: Stone says the key was used before, so the
// transfer may exist. It is looked up among the account's transfers (same
// amount, payee and account, created since the row's first attempt, and
// held by no other row) and accepted if found exactly once; otherwise a
// person must look
// (stone-api.md §5: never resend with a new key).
func (s *sender) conflict(row ledger.Row, a *ledger.Attempt, se *stone.Error) error {
	r := s.r
	p, err := storedPayout(s.batch, row)
	if err != nil {
		return err
	}
	want := tedRequest(r.opts.AccountID, &p)
	since := row.FirstAttemptedAt.Add(-conflictSkew)
	ctx, cancel := context.WithTimeout(s.bg, 4*r.opts.RequestTimeout)
	defer cancel()
	return lookUpConflict(ctx, s, row, a, se, r.c.ListTransfers(ctx, r.opts.AccountID, 100),
		conflictLookup[stone.Transfer]{
			noun: "transfer", target: "payee", amount: want.Amount,
			id:       func(t stone.Transfer) string { return t.ID },
			match:    func(t stone.Transfer) bool { return matches(t, want, since) },
			transfer: func(t *stone.Transfer) ledger.Transfer { return tedTransfer(t) },
		})
}

// conflictLookup says how a rail's transfers are looked up after a 409:
// what they are called in the row's messages, the amount sent, and how one
// is identified, matched to the row and recorded.
type conflictLookup[T any] struct {
	noun, target string // "transfer", "payee": "3 transfers of R$ 10,00 to this payee"
	amount       int64
	id           func(T) string
	match        func(T) bool
	transfer     func(*T) ledger.Transfer
}

// lookUpConflict settles a 409 with the account's transfers of the row's
// rail that list gives: the one that matches and no other row holds is
// accepted; none or several leave the row for a person; a list that
// cannot be read leaves it attempted, and a resume meets the same 409 and
// looks again.
func lookUpConflict[T any](ctx context.Context, s *sender, row ledger.Row, a *ledger.Attempt, se *stone.Error,
	list iter.Seq2[T, error], lk conflictLookup[T]) error {
	r := s.r
	var found []T
	for t, err := range list {
		if err != nil {
			a.Outcome = ledger.OutcomeAmbiguous
			a.Error = "409, and the transfer could not be looked up: " + err.Error()
			if rerr := r.l.RecordAttempt(s.bg, s.batch, row.Row, *a); rerr != nil {
				return rerr
			}
			s.unresolved.Add(1)
			return nil
		}
		if !lk.match(t) {
			continue
		}
		// A transfer another row already holds is that row's payment of
		// the same payee and amount (duplicates allowed, or a repeat):
		// claiming it would mark this row paid when it is not.
		if _, _, owned, err := r.l.TransferOwner(ctx, lk.id(t)); err != nil {
			return err
		} else if owned {
			continue
		}
		found = append(found, t)
	}
	if len(found) == 1 {
		a.Outcome = ledger.OutcomeAccepted
		a.Error = "409 " + se.Type + ": found " + lk.noun + " " + lk.id(found[0]) + " by lookup"
		return s.accept(row, *a, lk.transfer(&found[0]))
	}
	a.Outcome = ledger.OutcomeAmbiguous
	msg := fmt.Sprintf("Stone says this row's idempotency key was used before (409 %s), and %d %ss of %s to this %s were found since its first attempt; check the account statement before paying it again.",
		se.Type, len(found), lk.noun, validate.FormatBRL(lk.amount), lk.target)
	if err := r.l.NeedsReview(s.bg, s.batch, row.Row, a, CodeConflictUnmatched, msg); err != nil {
		return err
	}
	s.settled(ledger.NeedsReview)
	return nil
}

// matches says whether t is the transfer want would have created.
func matches(t stone.Transfer, want stone.CreateExternalTransfer, since time.Time) bool {
	ta, wa := t.Target.Account, want.Target.Account
	inst := ta.InstitutionCode == wa.InstitutionCode || ta.InstitutionISPB == wa.InstitutionCode
	return t.Amount == want.Amount && ta.AccountCode == wa.AccountCode && ta.BranchCode == wa.BranchCode && inst &&
		t.Target.Entity.Document == want.Target.Entity.Document &&
		t.CreatedAt != nil && !t.CreatedAt.Before(since)
}
