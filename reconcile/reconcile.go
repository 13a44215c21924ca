package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"lote/internal/pace"
	"lote/ledger"
	"lote/stone"
	"lote/validate"
)

// Options configure Run. Zero values take the documented
// defaults; reconciliation only reads from Stone, so no setting can pay
// anyone.
type Options struct {
	// Ledger holds the batches; Client reads transfers from Stone; both
	// required.
	Ledger *ledger.Ledger
	Client *stone.Client
	// AccountID is the paying account; only batches imported for it are
	// reconciled. Env, when set, must also be the batches' environment.
	AccountID, Env string

	// Batches are batch ids or unique prefixes of them. Empty with All
	// means every batch of the account (others are listed as skipped).
	Batches []string
	All     bool
	// Since leaves out batches created before it; zero means none.
	Since time.Time

	// RefundWindow is how long a FINISHED transfer is still polled, from
	// its finished_at, because the receiving bank may return it
	// (stone-api.md §2.3); 0 means DefaultRefundWindow.
	RefundWindow time.Duration
	// Watch polls again, with backoff from 30 s to 10 min, until no
	// transfer is in flight or WatchTimeout (0 means 1 h) has passed.
	Watch        bool
	WatchTimeout time.Duration
	// Offline reads only the ledger: nothing is asked of Stone, the report
	// shows what earlier polls and webhooks recorded. Client may be nil.
	Offline bool
	// Statement checks each paid, returned or failed row against the
	// account's statement (statement.go); StatementLag is how long after
	// a transfer settled its movement may be missing from the statement
	// before that is a difference (0 means DefaultStatementLag).
	Statement    bool
	StatementLag time.Duration

	// Rate caps requests per second (0 means DefaultRate); Concurrency the
	// requests in flight (0 means 4); MaxAttempts the requests per
	// transfer in one round (0 means DefaultMaxAttempts); RequestTimeout
	// one request (0 means DefaultRequestTimeout).
	Rate           float64
	Concurrency    int
	MaxAttempts    int
	RequestTimeout time.Duration

	// Now is the clock; nil means time.Now. Sleep waits d or until ctx
	// ends (backoff, Retry-After, rate limit, watch); nil means a timer.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Log receives structured events; nil discards them.
	Log *slog.Logger
}

// Defaults of Options.
const (
	DefaultRefundWindow    = 7 * 24 * time.Hour
	DefaultWatchTimeout    = time.Hour
	defaultReconcileConc   = 4
	watchFirstDelay        = 30 * time.Second
	watchMaxDelay          = 10 * time.Minute
	reconcileSourcePoll    = "poll"
	reconcileSourceWebhook = "webhook"
)

func (o *Options) defaults() error {
	if o.Ledger == nil || (o.Client == nil && !o.Offline) {
		return errors.New("reconcile: a ledger and a Stone client are required")
	}
	if strings.TrimSpace(o.AccountID) == "" {
		return errors.New("reconcile: the paying account id is required")
	}
	if len(o.Batches) == 0 && !o.All {
		return errors.New("reconcile: name a batch, or ask for all of them")
	}
	if o.RefundWindow <= 0 {
		o.RefundWindow = DefaultRefundWindow
	}
	if o.WatchTimeout <= 0 {
		o.WatchTimeout = DefaultWatchTimeout
	}
	if o.StatementLag <= 0 {
		o.StatementLag = DefaultStatementLag
	}
	if o.Rate <= 0 {
		o.Rate = pace.DefaultRate
	}
	if o.Concurrency <= 0 {
		o.Concurrency = defaultReconcileConc
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = pace.DefaultMaxAttempts
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = pace.DefaultRequestTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = pace.Sleep
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Category is what a row's outcome means for the money.
type Category string

// Row categories, from the reconciled status (transfer) or the lote state
// (rows never accepted).
const (
	// Paid: the transfer FINISHED. Within the refund window it is still
	// watched, but counts as paid.
	CategoryPaid Category = "paid"
	// Returned: FINISHED, then REFUNDED by the receiving bank; the money
	// and the fee came back. The payee was not paid.
	CategoryReturned Category = "returned"
	// Failed: FAILED, CANCELLED, REJECTED or EXPIRED: no money left.
	CategoryFailed Category = "failed"
	// InFlight: accepted, not final yet (CREATED, APPROVED, SCHEDULED,
	// DELAYED_TO_NEXT_BUSINESS_DAY), or not yet read from Stone.
	CategoryInFlight Category = "in_flight"
	// Unsent: pending or attempted in the ledger: `lote resume` sends it.
	CategoryUnsent Category = "unsent"
	// NotSent: invalid, rejected or held: never sent, never will be as is.
	CategoryNotSent Category = "not_sent"
	// Review: needs_review, or a status lote does not know: a person must
	// find out what happened.
	CategoryReview Category = "review"
)

// transitStatuses are the statuses of a transfer Stone has not settled.
var transitStatuses = map[string]bool{
	stone.StatusCreated: true, stone.StatusApproved: true, stone.StatusScheduled: true,
	stone.StatusDelayedToNextBusinessDay: true,
	// A Pix confirmed, or with its money reserved, is on its way.
	stone.PixConfirmed: true, stone.PixMoneyReserved: true,
}

// categorize says what a row's outcome is. For an accepted row it is the
// transfer's status as last recorded.
func categorize(r ledger.Row) Category {
	switch r.State {
	case ledger.Pending, ledger.Attempted:
		return CategoryUnsent
	case ledger.Invalid, ledger.Rejected, ledger.Held:
		return CategoryNotSent
	case ledger.NeedsReview:
		return CategoryReview
	case ledger.Accepted:
	default:
		return CategoryReview
	}
	switch s := r.APIStatus; {
	case s == "" || transitStatuses[s]:
		return CategoryInFlight
	case s == stone.StatusFinished || s == stone.PixSettled:
		return CategoryPaid
	case s == stone.StatusRefunded:
		return CategoryReturned
	case s == stone.StatusFailed || s == stone.StatusCancelled || s == stone.StatusRejected || s == stone.StatusExpired:
		return CategoryFailed
	}
	// A status Stone did not document: never guess what it means.
	return CategoryReview
}

// statusRank orders statuses so that a late webhook never undoes a newer
// one: in transit < FINISHED < final. Statuses lote does not know rank
// with the final ones, so they are never overwritten by an old event.
func statusRank(s string) int {
	switch {
	case s == "":
		return 0
	case s == stone.StatusCreated:
		return 1
	case transitStatuses[s]:
		return 2
	case s == stone.StatusFinished || s == stone.PixSettled:
		return 3
	}
	return 4
}

// Mismatch is a transfer that Stone reports differently from the ledger.
type Mismatch struct {
	Batch      string `json:"batch"`
	Row        int    `json:"row"` // as Excel numbers it (header = 1)
	TransferID string `json:"transfer_id"`
	Detail     string `json:"detail"` // what differs, for a person
}

// Invariant is one check the reconciliation report verifies.
type Invariant struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// CategoryTotals count rows and add up their amounts and fees, in cents.
type CategoryTotals struct {
	Rows        int   `json:"rows"`
	AmountCents int64 `json:"amount_cents"`
	FeeCents    int64 `json:"fee_cents"`
}

// RailTotals are one rail's rows: their number and amount, and how much of
// it reached payees and came back, in cents.
type RailTotals struct {
	Rows          int   `json:"rows"`
	AmountCents   int64 `json:"amount_cents"`
	PaidCents     int64 `json:"paid_cents"`
	ReturnedCents int64 `json:"returned_cents"`
}

// BatchReport is one batch's reconciled state.
type BatchReport struct {
	Batch ledger.Batch `json:"-"`
	// ByStatus counts rows by their final status: Stone's status for
	// accepted rows (FINISHED, …; "UNCHECKED" before the first poll), the
	// lote state for the others (invalid, rejected, …).
	ByStatus map[string]CategoryTotals `json:"by_status"`
	// ByCategory counts rows by what their outcome means for the money.
	// A Pix partly refunded counts as a paid row, its amount split between
	// paid and returned.
	ByCategory map[Category]CategoryTotals `json:"by_category"`
	// ByRail counts rows and adds up their amounts by rail (ted,
	// internal, pix).
	ByRail map[string]RailTotals `json:"by_rail"`
	// PaidCents is what reached payees (FINISHED); FeeCents the fees
	// charged and kept (FINISHED only: a FAILED transfer is not charged,
	// a REFUNDED one has its fee returned, stone-api.md §2.3);
	// ReturnedCents what came back (REFUNDED).
	PaidCents, FeeCents, ReturnedCents int64
	// NeedsPerson counts rows a person must look at: returned, failed,
	// not sent, needing review, or mismatched.
	NeedsPerson int
	Mismatches  []Mismatch
	Checks      []Invariant
	// Statement counts rows by what the account statement says of them,
	// when Options.Statement asked; statement holds each judged row's
	// verdict, by Excel row.
	Statement StatementTotals
	statement map[int]StatementCheck
}

// Report is what Run found.
type Report struct {
	Batches []BatchReport
	// Skipped are batches of another account or environment, left out of
	// an --all reconciliation.
	Skipped []ledger.Batch
	// Polled counts transfers read from Stone; Changed the status changes
	// recorded; Unchecked the transfers that could not be read this time
	// (they are read again next time).
	Polled, Changed, Unchecked int
	// Rounds is the number of polling rounds (more than one with Watch).
	Rounds int
	// Interrupted says ctx ended the reconciliation; TimedOut that Watch
	// gave up with transfers still in flight.
	Interrupted, TimedOut bool
	// At is when the report was made; RefundWindow the window used.
	At           time.Time
	RefundWindow time.Duration
	// StatementErr says why the statement could not be read, when
	// Options.Statement asked for it; StatementLag is the lag used.
	StatementErr string
	StatementLag time.Duration
}

// Status is the verdict a cron job acts on.
type Status int

// Verdicts, from best to worst for a cron job: attention beats pending,
// because a person must act whatever else is still moving.
const (
	// Settled: every row is final and paid.
	Settled Status = iota
	// Pending: nothing needs a person, but some transfers are in
	// flight, unread, or rows unsent: run again later.
	Pending
	// Attention: some rows failed, were returned, were not sent,
	// need review, or do not match Stone.
	Attention
)

// String returns "settled", "pending" or "attention".
func (s Status) String() string {
	switch s {
	case Settled:
		return "settled"
	case Pending:
		return "pending"
	}
	return "attention"
}

// Status is the report's verdict.
func (r Report) Status() Status {
	st := Settled
	for _, b := range r.Batches {
		if b.NeedsPerson > 0 || len(b.Mismatches) > 0 {
			return Attention
		}
		for _, c := range b.Checks {
			if !c.OK {
				return Attention
			}
		}
		if b.ByCategory[CategoryInFlight].Rows > 0 || b.ByCategory[CategoryUnsent].Rows > 0 || b.Statement.NotYet > 0 {
			st = Pending
		}
	}
	if (r.Unchecked > 0 || r.StatementErr != "") && st == Settled {
		st = Pending
	}
	return st
}

// Mismatches lists every batch's mismatches.
func (r Report) Mismatches() []Mismatch {
	var out []Mismatch
	for _, b := range r.Batches {
		out = append(out, b.Mismatches...)
	}
	return out
}

// Run reads from Stone the transfer of every accepted row whose
// status may still change (not final, or FINISHED within the refund
// window), records each status change in the ledger's history with
// source "poll", compares Stone's amount and target with the ledger's
// payout, and reports every row of the batches. A 404 for a transfer the
// ledger holds is a mismatch. Retryable and ambiguous errors are retried
// with backoff; a transfer still unread is counted in Unchecked and read
// again next time. Stone refusing the credentials stops it with ErrConfig.
// ctx ending stops polling; the report then says Interrupted and covers
// what was recorded. With opts.Statement, the last round's rows are then
// checked against the account statement.
func Run(ctx context.Context, opts Options) (rep Report, err error) {
	if err := opts.defaults(); err != nil {
		return Report{}, err
	}
	rc := &reconciler{opts: opts, l: opts.Ledger, c: opts.Client, log: opts.Log,
		lim: pace.New(opts.Rate, opts.Now, opts.Sleep)}
	batches, skipped, err := rc.selectBatches(ctx)
	if err != nil {
		return Report{}, err
	}
	defer func() {
		if err == nil && opts.Statement && !opts.Offline && !rep.Interrupted {
			err = rc.checkStatement(ctx, &rep)
		}
	}()
	rep = Report{Skipped: skipped, RefundWindow: opts.RefundWindow}
	start := opts.Now()
	delay := watchFirstDelay
	for {
		if !opts.Offline {
			rep.Rounds++
			if err := rc.round(ctx, batches, &rep); err != nil {
				return rep, err
			}
		}
		rep.Batches = rep.Batches[:0]
		bg := context.WithoutCancel(ctx)
		for _, b := range batches {
			br, err := summarize(bg, rc.l, b, opts.Now(), opts.RefundWindow)
			if err != nil {
				return rep, err
			}
			rep.Batches = append(rep.Batches, br)
		}
		rep.At = opts.Now()
		if ctx.Err() != nil {
			rep.Interrupted = true
			return rep, nil
		}
		inFlight := rep.Unchecked
		for _, b := range rep.Batches {
			inFlight += b.ByCategory[CategoryInFlight].Rows
		}
		if !opts.Watch || opts.Offline || inFlight == 0 {
			return rep, nil
		}
		if opts.Now().Add(delay).Sub(start) > opts.WatchTimeout {
			rep.TimedOut = true
			return rep, nil
		}
		rc.log.Info("transfers in flight, polling again", "rows", inFlight, "in", delay)
		if err := opts.Sleep(ctx, delay); err != nil {
			rep.Interrupted = true
			return rep, nil
		}
		delay = min(2*delay, watchMaxDelay)
	}
}

// reconciler is one Run.
type reconciler struct {
	opts Options
	l    *ledger.Ledger
	c    *stone.Client
	log  *slog.Logger
	lim  *pace.Limiter
}

// selectBatches resolves the batches to reconcile, newest first.
func (rc *reconciler) selectBatches(ctx context.Context) (keep, skipped []ledger.Batch, _ error) {
	var cands []ledger.Batch
	if len(rc.opts.Batches) > 0 {
		for _, id := range rc.opts.Batches {
			b, err := rc.l.FindBatch(ctx, id)
			if err != nil {
				return nil, nil, fmt.Errorf("reconcile: %w", err)
			}
			if !rc.ours(b) {
				return nil, nil, fmt.Errorf("reconcile: batch %s was imported for account %s in %s, not account %s: %w",
					ledger.ShortID(b.ID), stone.MaskAccount(b.AccountID), b.Environment, stone.MaskAccount(rc.opts.AccountID), ledger.ErrBatchMismatch)
			}
			cands = append(cands, b)
		}
	} else {
		all, err := rc.l.Batches(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("reconcile: %w", err)
		}
		for _, b := range all {
			if !rc.ours(b) {
				skipped = append(skipped, b)
				continue
			}
			cands = append(cands, b)
		}
	}
	for _, b := range cands {
		if !rc.opts.Since.IsZero() && b.Created.Before(rc.opts.Since) {
			continue
		}
		if b.State == ledger.BatchImporting {
			continue // nothing of it was sent
		}
		keep = append(keep, b)
	}
	return keep, skipped, nil
}

func (rc *reconciler) ours(b ledger.Batch) bool {
	return b.AccountID == rc.opts.AccountID && (rc.opts.Env == "" || b.Environment == rc.opts.Env)
}

// round polls every batch's transfers that may still change, once.
func (rc *reconciler) round(ctx context.Context, batches []ledger.Batch, rep *Report) error {
	var polled, changed, unchecked atomic.Int64
	defer func() {
		rep.Polled += int(polled.Load())
		rep.Changed += int(changed.Load())
		rep.Unchecked = int(unchecked.Load())
	}()
	for _, b := range batches {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(rc.opts.Concurrency)
		for rr, err := range rc.l.ToReconcile(ctx, b.ID, rc.opts.Now(), rc.opts.RefundWindow) {
			if err != nil {
				g.Wait()
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if gctx.Err() != nil {
				break
			}
			g.Go(func() error {
				ok, ch, err := rc.poll(gctx, b, rr)
				if ok {
					polled.Add(1)
				} else if err == nil {
					unchecked.Add(1)
				}
				if ch {
					changed.Add(1)
				}
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

// poll reads one transfer and records it. It reports whether Stone
// answered (read), whether the status changed, and an error only when the
// whole reconciliation must stop (the ledger failed, Stone refused the
// credentials).
func (rc *reconciler) poll(ctx context.Context, b ledger.Batch, rr ledger.ReconciledRow) (read, changed bool, _ error) {
	bg := context.WithoutCancel(ctx)
	for attempt := 1; ; attempt++ {
		if err := rc.lim.Wait(ctx); err != nil {
			return false, false, nil
		}
		reqCtx, cancel := context.WithTimeout(ctx, rc.opts.RequestTimeout)
		rec, err := rc.read(reqCtx, rr.Row)
		cancel()
		at := rc.opts.Now()
		if err == nil {
			rc.lim.Succeeded()
			rec.CheckedAt, rec.Source = at, reconcileSourcePoll
			ch, err := rc.l.RecordReconciliation(bg, b.ID, rr.Row.Row, rec)
			if ch {
				rc.log.Info("transfer status", "batch", ledger.ShortID(b.ID), "row", rr.Row.Row, "from", rr.APIStatus, "to", rec.Status)
			}
			if rec.Mismatch != "" {
				rc.log.Warn("transfer differs from the ledger", "batch", ledger.ShortID(b.ID), "row", rr.Row.Row, "mismatch", rec.Mismatch)
			}
			return true, ch, err
		}
		var se *stone.Error
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			// Stone denies a transfer it once accepted: money may have
			// gone anywhere, or nowhere. A person must look.
			rec := ledger.Reconciliation{Status: cmpOr(rr.APIStatus, "UNKNOWN"), Found: false, CheckedAt: at,
				Source: reconcileSourcePoll, Mismatch: fmt.Sprintf("Stone does not know transfer %s (404 %s)", rr.TransferID, se.Type)}
			if rr.Checked && rr.Rec.Found {
				// Keep what Stone said before it forgot the transfer.
				rec = rr.Rec
				rec.Mismatch = fmt.Sprintf("Stone now answers 404 for transfer %s", rr.TransferID)
				if rr.Rec.Mismatch != "" {
					rec.Mismatch += "; " + rr.Rec.Mismatch
				}
				rec.CheckedAt, rec.Source, rec.Found = at, reconcileSourcePoll, false
			}
			_, err := rc.l.RecordReconciliation(bg, b.ID, rr.Row.Row, rec)
			rc.log.Warn("transfer unknown to Stone", "batch", ledger.ShortID(b.ID), "row", rr.Row.Row, "transfer", rr.TransferID)
			return true, false, err
		}
		if cerr := stone.ConfigError(err); cerr != nil {
			return false, false, cerr
		}
		outcome, why := stone.Classify(err)
		if outcome == stone.OutcomeFinal {
			rc.log.Warn("transfer not read", "batch", ledger.ShortID(b.ID), "row", rr.Row.Row, "why", why)
			return false, false, nil
		}
		if se != nil && se.Status == http.StatusTooManyRequests {
			rc.lim.Throttled(se.RetryAfter)
		}
		if attempt >= rc.opts.MaxAttempts || ctx.Err() != nil {
			rc.log.Warn("transfer not read", "batch", ledger.ShortID(b.ID), "row", rr.Row.Row, "attempts", attempt, "why", why)
			return false, false, nil
		}
		if err := rc.opts.Sleep(ctx, pace.Backoff(attempt)); err != nil {
			return false, false, nil
		}
	}
}

// read asks Stone for the row's transfer or payment, by its rail, and
// returns what the ledger keeps of it (CheckedAt and Source left to the
// caller).
func (rc *reconciler) read(ctx context.Context, row ledger.Row) (ledger.Reconciliation, error) {
	switch row.Rail {
	case ledger.RailPix:
		p, err := rc.c.GetPix(ctx, row.TransferID)
		if err != nil {
			return ledger.Reconciliation{}, err
		}
		return pixReconciliation(row, p, rc.opts.AccountID), nil
	case ledger.RailInternal:
		t, err := rc.c.GetInternalTransfer(ctx, row.TransferID)
		if err != nil {
			return ledger.Reconciliation{}, err
		}
		return internalReconciliation(row, t, rc.opts.AccountID), nil
	}
	tr, err := rc.c.GetTransfer(ctx, row.TransferID)
	if err != nil {
		return ledger.Reconciliation{}, err
	}
	return reconciliationOf(row, tr, rc.opts.AccountID, reconcileSourcePoll, time.Time{}), nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// reconciliationOf is what the ledger keeps of a transfer Stone returned
// for row: its status, codes and dates, and how it differs from the row.
func reconciliationOf(row ledger.Row, tr *stone.Transfer, accountID, source string, at time.Time) ledger.Reconciliation {
	rec := ledger.Reconciliation{
		Status: tr.Status, Found: true, AmountCents: tr.Amount, FeeCents: tr.Fee,
		CreatedAt: timeOf(tr.CreatedAt), FinishedAt: timeOf(tr.FinishedAt), FailedAt: timeOf(tr.FailedAt),
		RefundedAt: timeOf(tr.RefundedAt), CancelledAt: timeOf(tr.CancelledAt),
		CheckedAt: at, Source: source,
	}
	if rec.Status == "" {
		rec.Status = "UNKNOWN"
	}
	if tr.FailureReasonCode != nil {
		rec.FailureCode = string(*tr.FailureReasonCode)
	}
	if tr.FailureReasonDescription != nil {
		rec.FailureReason = *tr.FailureReasonDescription
	}
	if tr.RefundReasonCode != nil {
		rec.RefundCode = string(*tr.RefundReasonCode)
	}
	if tr.RefundReasonDescription != nil {
		rec.RefundReason = *tr.RefundReasonDescription
	}
	rec.Mismatch = compareTransfer(row, tr, accountID)
	return rec
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// compareTransfer says how Stone's transfer differs from the row's payout:
// the amount, the paying account, and the target (account code, branch,
// institution as ISPB or bank code, document). "" when they agree.
// Stone's own rewrites (stone-api.md §2.1) are not differences: leading
// zeros stripped from the account code, the branch removed from a
// payment account (PG).
func compareTransfer(row ledger.Row, tr *stone.Transfer, accountID string) string {
	var want stone.CreateExternalTransfer
	var diffs []string
	if err := json.Unmarshal(row.Payout, &want); err != nil {
		return "the ledger's payout cannot be read: " + err.Error()
	}
	if tr.ID != row.TransferID {
		diffs = append(diffs, fmt.Sprintf("transfer id: ledger %s, Stone %s", row.TransferID, tr.ID))
	}
	if tr.Amount != row.AmountCents || want.Amount != row.AmountCents {
		diffs = append(diffs, fmt.Sprintf("amount: ledger %s, Stone %s", validate.FormatBRL(row.AmountCents), validate.FormatBRL(tr.Amount)))
	}
	if tr.AccountID != "" && tr.AccountID != accountID {
		diffs = append(diffs, fmt.Sprintf("paying account: ledger %s, Stone %s", stone.MaskAccount(accountID), stone.MaskAccount(tr.AccountID)))
	}
	wa, ga := want.Target.Account, tr.Target.Account
	if strings.TrimLeft(wa.AccountCode, "0") != strings.TrimLeft(ga.AccountCode, "0") {
		diffs = append(diffs, fmt.Sprintf("account: ledger %s, Stone %s", wa.AccountCode, ga.AccountCode))
	}
	if wa.BranchCode != ga.BranchCode && !(ga.BranchCode == "" && ga.AccountType == stone.AccountPayment) &&
		strings.TrimLeft(wa.BranchCode, "0") != strings.TrimLeft(ga.BranchCode, "0") {
		diffs = append(diffs, fmt.Sprintf("branch: ledger %q, Stone %q", wa.BranchCode, ga.BranchCode))
	}
	if inst := wa.InstitutionCode; inst != ga.InstitutionCode && inst != ga.InstitutionISPB && inst != ga.InstitutionNumberCode {
		diffs = append(diffs, fmt.Sprintf("institution: ledger %s, Stone %s", inst, cmpOr(ga.InstitutionISPB, ga.InstitutionCode)))
	}
	if docKey(want.Target.Entity.Document) != docKey(tr.Target.Entity.Document) {
		diffs = append(diffs, fmt.Sprintf("document: ledger %s, Stone %s", want.Target.Entity.Document, tr.Target.Entity.Document))
	}
	return strings.Join(diffs, "; ")
}

// docKey is a CPF/CNPJ as digits and upper-case letters (alphanumeric CNPJ),
// without the mask.
func docKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// outcomeName is the status a report shows for a row: Stone's status for
// an accepted row ("UNCHECKED" before it was read), else the lote state.
func outcomeName(r ledger.Row) string {
	if r.State != ledger.Accepted {
		return string(r.State)
	}
	return cmpOr(r.APIStatus, "UNCHECKED")
}

// feeCharged is the fee a row costs: Stone's fee for a FINISHED transfer,
// the expected fee for one in flight, nothing when FAILED (not charged) or
// REFUNDED (returned) or never made (stone-api.md §2.3).
func feeCharged(rr ledger.ReconciledRow) int64 {
	fee := rr.FeeCents
	if rr.Checked && rr.Rec.Found {
		fee = rr.Rec.FeeCents
	}
	switch categorize(rr.Row) {
	case CategoryPaid, CategoryInFlight:
		return fee
	}
	return 0
}

// summarize reads a batch's rows and adds up its reconciled state.
func summarize(ctx context.Context, l *ledger.Ledger, b ledger.Batch, now time.Time, window time.Duration) (BatchReport, error) {
	br := BatchReport{Batch: b, ByStatus: map[string]CategoryTotals{}, ByCategory: map[Category]CategoryTotals{}, ByRail: map[string]RailTotals{}}
	var rows, valid int
	var sum int64
	for rr, err := range l.Reconciled(ctx, b.ID) {
		if err != nil {
			return br, fmt.Errorf("reconcile batch %s: %w", ledger.ShortID(b.ID), err)
		}
		rows++
		cat := categorize(rr.Row)
		fee := feeCharged(rr)
		add := func(t CategoryTotals) CategoryTotals {
			t.Rows++
			t.AmountCents += rr.AmountCents
			t.FeeCents += fee
			return t
		}
		name := outcomeName(rr.Row)
		br.ByStatus[name] = add(br.ByStatus[name])
		// A Pix partly refunded is still SETTLED: what came back is
		// returned, the rest paid, so the outcomes still add up to the
		// sheet's total.
		var back int64
		if cat == CategoryPaid && rr.Checked && rr.Rec.Found && rr.Rec.RefundedCents > 0 {
			back = min(rr.Rec.RefundedCents, rr.AmountCents)
			paid := br.ByCategory[CategoryPaid]
			paid.Rows++
			paid.AmountCents += rr.AmountCents - back
			paid.FeeCents += fee
			br.ByCategory[CategoryPaid] = paid
			ret := br.ByCategory[CategoryReturned]
			ret.AmountCents += back
			br.ByCategory[CategoryReturned] = ret
			br.PaidCents += rr.AmountCents - back
			br.FeeCents += fee
			br.ReturnedCents += back
		} else {
			br.ByCategory[cat] = add(br.ByCategory[cat])
			switch cat {
			case CategoryPaid:
				br.PaidCents += rr.AmountCents
				br.FeeCents += fee
			case CategoryReturned:
				br.ReturnedCents += rr.AmountCents
			}
		}
		if rr.State != ledger.Invalid {
			valid++
			sum += rr.AmountCents
		}
		// An invalid row, never to be paid, has no rail.
		if rr.State != ledger.Invalid {
			rail := cmpOr(rr.Rail, ledger.RailTED)
			rt := br.ByRail[rail]
			rt.Rows++
			rt.AmountCents += rr.AmountCents
			switch {
			case back > 0:
				rt.PaidCents += rr.AmountCents - back
				rt.ReturnedCents += back
			case cat == CategoryPaid:
				rt.PaidCents += rr.AmountCents
			case cat == CategoryReturned:
				rt.ReturnedCents += rr.AmountCents
			}
			br.ByRail[rail] = rt
		}
		if back > 0 {
			br.NeedsPerson++ // part of the money came back
		}
		mismatched := rr.Checked && rr.Rec.Mismatch != ""
		if mismatched {
			br.Mismatches = append(br.Mismatches, Mismatch{Batch: b.ID, Row: rr.Row.Row, TransferID: rr.TransferID, Detail: rr.Rec.Mismatch})
		}
		if needsPerson(cat) || mismatched {
			br.NeedsPerson++
		}
	}
	// The money check: every valid row of the sheet is in exactly one
	// outcome, so the outcomes add up to the sheet's total; a row missing
	// from the ledger or an amount changed in it would break this.
	var outcomes int64
	for _, t := range br.ByCategory {
		outcomes += t.AmountCents
	}
	outcomes -= invalidCents(br)
	br.Checks = append(br.Checks,
		Invariant{Name: "rows", OK: rows == b.Rows && valid == b.Valid,
			Detail: fmt.Sprintf("the sheet had %d rows (%d valid); the ledger holds %d (%d valid)", b.Rows, b.Valid, rows, valid)},
		Invariant{Name: "total", OK: sum == b.TotalCents && outcomes == b.TotalCents,
			Detail: fmt.Sprintf("sheet total %s; outcomes add up to %s", validate.FormatBRL(b.TotalCents), validate.FormatBRL(outcomes))},
		Invariant{Name: "transfers match Stone", OK: len(br.Mismatches) == 0,
			Detail: fmt.Sprintf("%d of %d transfers read differ from the ledger in amount or target", len(br.Mismatches), acceptedRows(br))},
	)
	return br, nil
}

// invalidCents is the amount of invalid rows, which the sheet's total
// (valid rows only) leaves out.
func invalidCents(br BatchReport) int64 {
	return br.ByStatus[string(ledger.Invalid)].AmountCents
}

// acceptedRows counts the rows with a transfer.
func acceptedRows(br BatchReport) int {
	n := 0
	for _, c := range []Category{CategoryPaid, CategoryReturned, CategoryFailed, CategoryInFlight} {
		n += br.ByCategory[c].Rows
	}
	return n
}

// needsPerson says whether a row in cat needs a person.
func needsPerson(cat Category) bool {
	switch cat {
	case CategoryReturned, CategoryFailed, CategoryNotSent, CategoryReview:
		return true
	}
	return false
}

// TransferCategory says what a transfer status means for the money, as the
// reconciliation report counts it: paid (FINISHED), returned (REFUNDED),
// failed, in flight, or review for a status lote does not know.
func TransferCategory(apiStatus string) Category {
	return categorize(ledger.Row{State: ledger.Accepted, APIStatus: apiStatus})
}
