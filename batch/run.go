package batch

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"lote/check"
	"lote/internal/pace"
	"lote/ledger"
	"lote/sheet"
	"lote/stone"
	"lote/validate"
)

// RunOptions configure Run and Resume. Zero values take the documented
// defaults, none of which can make a payout happen twice.
type RunOptions struct {
	// Ledger records every row and every attempt; required.
	Ledger *ledger.Ledger
	// Client talks to Stone (or the emulator); required.
	Client *stone.Client
	// AccountID is the paying account; Env the API target ("sim",
	// "sandbox", "production"). A batch is bound to both at import.
	AccountID, Env string

	// Check says how the sheet is read and validated.
	Check check.CheckOptions

	// SkipInvalid sends the valid rows of a sheet that has invalid ones;
	// without it, any invalid row stops the run before anything is sent.
	SkipInvalid bool
	// AllowRepeat sends rows held as suspected repeats of a payout
	// accepted in another batch within RepeatWindow, rows held because
	// another batch claims the same payout, and rows held because their
	// batch was superseded: a person's decision, recorded in the ledger
	// with ReleasedBy, and each released row gets a key of its own.
	AllowRepeat bool
	// ReleasedBy names who allowed the repeats ("" means the Holder).
	ReleasedBy string
	// RepeatWindow is how far back repeats are looked for; 0 means 30 days.
	RepeatWindow time.Duration

	// Rate caps requests per second; 0 means 20.
	Rate float64
	// Concurrency is the number of requests in flight, and the number of
	// rows marked attempted in one ledger transaction; 0 means 8.
	Concurrency int
	// MaxAttempts bounds the requests per row in one run; 0 means 8.
	MaxAttempts int
	// IdempotencyTTL is how long Stone is trusted to remember a key: an
	// attempted row first sent longer ago is not sent again but set to
	// needs_review. 0 means 23 hours (the emulator's default is 24).
	IdempotencyTTL time.Duration
	// RequestTimeout bounds one request; 0 means 30 s.
	RequestTimeout time.Duration
	// UnreachableAfter is how long Stone may give no answer at all to any
	// request (connection refused, timeouts) before the run stops sending,
	// with ErrUnreachable; 0 means 30 s.
	UnreachableAfter time.Duration
	// MaxTotal refuses a batch whose amount to send is larger, in cents;
	// 0 means no limit.
	MaxTotal int64

	// Holder names this runner in the batch's lease ("host pid 4242");
	// empty means the host name and process id. LeaseTTL is the lease's
	// life, renewed every third of it; 0 means 30 s.
	Holder   string
	LeaseTTL time.Duration

	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends (backoff, Retry-After, rate limit);
	// nil means a real timer. Tests inject one that does not sleep.
	Sleep func(ctx context.Context, d time.Duration) error
	// Progress, if set, is called at most about 5 times a second while
	// rows are sent, and once at the end, always from one goroutine.
	Progress func(Progress)
	// Confirm, if set, is called with the plan before anything is sent; an
	// error stops the run and nothing is sent.
	Confirm func(ctx context.Context, p Plan) error
	// ImportOnly imports and plans the sheet and sends nothing, as the web
	// page does with an upload (sent once it is submitted, and approved,
	// there); Report.Plan says what would be sent. Without it, a batch
	// with an upload record is sent only when its approval policy cleared
	// it (ledger.Upload.Cleared), else ErrNotCleared.
	ImportOnly bool
	// Warnings, if set, is called during the import with the warnings of
	// each valid row that has some (the ledger keeps only the problems of
	// invalid rows), in row order, from one goroutine. The web page keeps
	// them to show beside the cells.
	Warnings func(row int, issues []check.Issue)
	// Log receives structured events; nil discards them. Documents and
	// accounts are never logged unmasked.
	Log *slog.Logger
}

// Plan is what a run is about to do, shown before anything is sent.
// Amounts are in cents; counts are rows.
type Plan struct {
	BatchID, FileName string
	Rows              int   // data rows in the sheet, invalid included
	Valid             int   // rows that passed validation
	Invalid           int   // rows that failed validation: never sent
	Held              int   // suspected repeats that will not be sent
	ToSend            int   // pending or attempted rows this run will send
	TotalCents        int64 // sum of the amounts to send
	FeeCents          int64 // expected fees for the rows to send
	BalanceCents      int64 // the paying account's balance
	BalanceKnown      bool  // false when the balance could not be read
	Scheduled         int   // rows to send with a scheduled_to date
	// HeldRows are the first held rows with why each is held (the
	// payout another batch claims, a repeat, a superseded batch);
	// Held counts them all.
	HeldRows []RowNote
	// Releasing is the held rows that --allow-repeat releases once the
	// plan is confirmed; ToSend and TotalCents count them.
	Releasing int
	// Warnings are the first rows to send that a person should look at
	// (a payee paid another amount recently); WarningCount counts them.
	Warnings     []RowNote
	WarningCount int
	// Rails count and add up the rows to send by rail (TED, internal
	// transfer, Pix), in that order; a rail with nothing to send is left
	// out.
	Rails []RailPlan
	// Notes are what the import found about the sheet as a whole (where
	// the table is, columns not read, totals rows skipped); empty on a
	// resume, which does not read the sheet.
	Notes []string
}

// RailPlan is one rail's share of a plan.
type RailPlan struct {
	Rail       string // validate.RailTED, RailInternal or RailPix
	Rows       int
	TotalCents int64
}

// RowNote is one row of a plan that a person should read about.
type RowNote struct {
	Row     int // as Excel numbers it
	Code    string
	Message string
}

// planListed is how many held rows and warnings a plan lists.
const planListed = 20

func notes(rows []ledger.Row) []RowNote {
	out := make([]RowNote, 0, len(rows))
	for _, r := range rows {
		out = append(out, RowNote{Row: r.Row, Code: r.ErrorCode, Message: r.ErrorMessage})
	}
	return out
}

// Progress is a snapshot of a run's sending.
type Progress struct {
	Total, Done int                  // rows to send this run; rows settled so far
	Counts      map[ledger.State]int // rows settled this run, by state
	Rate        float64              // requests per second allowed now
	ETA         time.Duration        // estimated time left; 0 when unknown
	Elapsed     time.Duration        // since sending started
}

// Report is what a run did.
type Report struct {
	Batch   ledger.Batch
	Plan    Plan
	Summary map[ledger.State]ledger.Totals
	// Interrupted says the run stopped and is resumable: ctx ended, or
	// Stone did not answer a read before anything was sent (the error
	// wraps ErrNoAnswer).
	Interrupted bool
	// Unresolved counts rows left attempted after MaxAttempts; a resume
	// sends them again with the same keys.
	Unresolved int
	// NothingToDo says the batch was already finished.
	NothingToDo bool
	// Superseded is set when the batch's file now holds the bytes of a
	// newer batch: the rows not yet sent were held instead of sent.
	Superseded *Supersession
	// Supersedes lists the older, interrupted batches whose file this one
	// replaced: their rows not yet sent were held, so that this file's
	// version of each payout is the one paid.
	Supersedes []Supersession
}

// Supersession is a batch whose file was replaced by another file's bytes
// that were run as a newer batch.
type Supersession struct {
	Old, New string // batch ids
	Path     string // the file both were run from
	// Held counts the old batch's rows set aside (never sent);
	// Review its rows left for a person (sent once, not again, because
	// the newer batch pays the same payee).
	Held, Review int
	// NewSummary is the newer batch's rows and sums by state: what it
	// paid, holds or still sends.
	NewSummary map[ledger.State]ledger.Totals
}

// ErrInvalidRows is returned (wrapped) with a Report when invalid rows stop
// the run before anything is sent; the rows and their errors are in the ledger.
var ErrInvalidRows = errors.New("the sheet has invalid rows")

// ErrConfig is returned (wrapped with Stone's detail) when Stone refuses the
// credentials or the account (401 after a fresh token, 403). The rows being
// sent stay attempted; a resume with the right configuration sends the same keys.
var ErrConfig = stone.ErrConfig

// ErrNoAnswer is returned (wrapped with what was being read and Stone's last
// error) when a read made before anything is sent (the calendar, the fee,
// the balance) timed out, failed to connect or got 429 or 5xx on every
// attempt. Nothing was sent by this run; the Report says Interrupted: the
// same run later continues.
var ErrNoAnswer = errors.New("Stone did not answer")

// ErrBatchMismatch is returned when a batch is run with another account or
// environment than it was imported with: one batch is never sent from two accounts.
var ErrBatchMismatch = ledger.ErrBatchMismatch

// ErrMaxTotal is returned (wrapped) when the amount to send is over
// RunOptions.MaxTotal; nothing was sent.
var ErrMaxTotal = errors.New("batch total is over the limit")

// ErrNotCleared is returned (wrapped) when the batch was uploaded on the
// web page and its approval policy has not cleared it: not submitted
// there, short of its approvals, rejected or withdrawn. Nothing was sent.
var ErrNotCleared = ledger.ErrNotCleared

// Defaults of RunOptions.
const (
	DefaultRepeatWindow   = 30 * 24 * time.Hour
	DefaultRate           = pace.DefaultRate
	DefaultConcurrency    = 8
	DefaultMaxAttempts    = pace.DefaultMaxAttempts
	DefaultIdempotencyTTL = 23 * time.Hour
	DefaultRequestTimeout = pace.DefaultRequestTimeout
	DefaultLeaseTTL       = 30 * time.Second
)

func (o *RunOptions) defaults() error {
	if o.Ledger == nil || o.Client == nil {
		return errors.New("run: a ledger and a Stone client are required")
	}
	if strings.TrimSpace(o.AccountID) == "" {
		return errors.New("run: the paying account id is required")
	}
	if o.RepeatWindow <= 0 {
		o.RepeatWindow = DefaultRepeatWindow
	}
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.IdempotencyTTL <= 0 {
		o.IdempotencyTTL = DefaultIdempotencyTTL
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.UnreachableAfter <= 0 {
		o.UnreachableAfter = DefaultUnreachableAfter
	}
	if o.Holder == "" {
		host, _ := os.Hostname()
		o.Holder = fmt.Sprintf("%s pid %d", host, os.Getpid())
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

// runner is one Run or Resume.
type runner struct {
	opts RunOptions
	l    *ledger.Ledger
	c    *stone.Client
	log  *slog.Logger

	warned int      // rows the import gave a changed-amount warning
	notes  []string // the import's notes on the sheet, for the plan
}

func (r *runner) now() time.Time { return r.opts.Now() }

// Run runs the sheet at path: it hashes the file (the batch id), imports
// and validates every row into the ledger unless the batch is already
// imported, shows the plan, and sends the rows exactly once. Running the
// same file again resumes it; a finished batch returns at once, without
// reading the sheet again.
func Run(ctx context.Context, path string, opts RunOptions) (Report, error) {
	if err := opts.defaults(); err != nil {
		return Report{}, err
	}
	r := &runner{opts: opts, l: opts.Ledger, c: opts.Client, log: opts.Log}
	id, size, format, err := fileID(path)
	if err != nil {
		return Report{}, err
	}
	b, err := r.l.Batch(ctx, id)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
	case err != nil:
		return Report{}, err
	default:
		if err := r.sameAccount(b); err != nil {
			return Report{Batch: b}, err
		}
		if b.State != ledger.BatchImporting {
			return r.resume(ctx, b)
		}
	}
	// The bytes of a sheet uploaded on the page are not imported here
	// either, unless the page has cleared them for sending.
	if !opts.ImportOnly {
		if err := r.cleared(ctx, id); err != nil {
			return Report{Plan: Plan{BatchID: id, FileName: filepath.Base(path)}}, err
		}
	}
	// Stone's calendar is read once, before the import, to check every
	// scheduled_to against it (stone-api.md §4).
	var sc *stone.Calendar
	err = r.read(ctx, "read Stone's scheduling calendar", func(ctx context.Context) (err error) {
		sc, err = r.c.Calendar(ctx, "", "")
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return Report{Interrupted: true, Plan: Plan{BatchID: id, FileName: filepath.Base(path)}}, nil
		}
		if errors.Is(err, ErrNoAnswer) {
			return Report{Interrupted: true, Plan: Plan{BatchID: id, FileName: filepath.Base(path)}}, err
		}
		return Report{}, err
	}
	cal := newCalendar(sc)
	meta := batchMeta(id, path, size, format, opts)
	if sep := csvSeparator(path, format); sep != "" {
		// The results sheet goes back with the input's separator, also
		// when the batch is resumed without the file.
		meta.ImportOptions.Separator = sep
	}
	r.log.Info("importing", "batch", ledger.ShortID(id), "file", filepath.Base(path))
	st, err := r.importFile(ctx, path, meta, cal)
	if err != nil {
		if ctx.Err() != nil {
			return Report{Interrupted: true, Plan: Plan{BatchID: id, FileName: filepath.Base(path)}}, nil
		}
		return Report{}, err
	}
	b, err = r.l.Batch(ctx, id)
	if err != nil {
		return Report{}, err
	}
	r.warned, r.notes = st.changed, st.notes
	return r.execute(ctx, b, st.scheduled, true)
}

// Resume finishes a batch already in the ledger, by id or a unique prefix of
// it; the file is not needed.
func Resume(ctx context.Context, batchID string, opts RunOptions) (Report, error) {
	if err := opts.defaults(); err != nil {
		return Report{}, err
	}
	r := &runner{opts: opts, l: opts.Ledger, c: opts.Client, log: opts.Log}
	b, err := r.l.FindBatch(ctx, batchID)
	if err != nil {
		return Report{}, err
	}
	if err := r.sameAccount(b); err != nil {
		return Report{Batch: b}, err
	}
	if b.State == ledger.BatchImporting {
		return Report{Batch: b}, fmt.Errorf("resume batch %s: its import was interrupted; run the file again", ledger.ShortID(b.ID))
	}
	return r.resume(ctx, b)
}

// cleared refuses a batch that has an upload record (it came through the
// web page) and is not cleared by its own approval policy. SendRows checks
// the same before any request; this says it before anything is done.
func (r *runner) cleared(ctx context.Context, id string) error {
	u, err := r.l.Upload(ctx, id)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if why := u.NotCleared(); why != "" {
		return fmt.Errorf("batch %s %s; nothing was sent: %w", ledger.ShortID(id), why, ErrNotCleared)
	}
	return nil
}

func (r *runner) sameAccount(b ledger.Batch) error {
	if b.AccountID != r.opts.AccountID || b.Environment != r.opts.Env {
		return fmt.Errorf("batch %s was imported for account %s in %s, not account %s in %s: %w",
			ledger.ShortID(b.ID), stone.MaskAccount(b.AccountID), b.Environment, stone.MaskAccount(r.opts.AccountID), r.opts.Env, ErrBatchMismatch)
	}
	return nil
}

// resume runs a batch already imported: at once when it is done.
func (r *runner) resume(ctx context.Context, b ledger.Batch) (Report, error) {
	if b.State == ledger.BatchDone && !r.opts.AllowRepeat {
		return r.report(ctx, b.ID, Plan{BatchID: b.ID, FileName: b.FileName, Rows: b.Rows, Valid: b.Valid, Invalid: b.Invalid}, true)
	}
	if _, err := r.l.AcquireLease(ctx, b.ID, r.opts.Holder, r.opts.LeaseTTL); err != nil {
		return Report{Batch: b}, err
	}
	if err := r.backfill(ctx, b); err != nil {
		r.l.ReleaseLease(context.WithoutCancel(ctx), b.ID, r.opts.Holder)
		return Report{Batch: b}, err
	}
	return r.execute(ctx, b, -1, false)
}

// report reads the batch's final state.
func (r *runner) report(ctx context.Context, id string, p Plan, nothing bool) (Report, error) {
	ctx = context.WithoutCancel(ctx)
	b, err := r.l.Batch(ctx, id)
	if err != nil {
		return Report{Plan: p}, err
	}
	sum, err := r.l.Summary(ctx, id)
	if err != nil {
		return Report{Batch: b, Plan: p}, err
	}
	if nothing {
		p.Held = sum[ledger.Held].Rows
	}
	return Report{Batch: b, Plan: p, Summary: sum, NothingToDo: nothing}, nil
}

// execute runs an imported batch whose lease this runner holds: plan,
// confirm, send, report. The lease is released at the end. scheduled is
// the number of rows with a date, or -1 when it must be counted.
func (r *runner) execute(ctx context.Context, b ledger.Batch, scheduled int, imported bool) (rep Report, err error) {
	bg := context.WithoutCancel(ctx)
	defer func() {
		if rerr := r.l.ReleaseLease(bg, b.ID, r.opts.Holder); rerr != nil && err == nil && !errors.Is(rerr, ledger.ErrLeaseLost) {
			err = rerr
		}
	}()
	if !r.opts.ImportOnly {
		if err := r.cleared(ctx, b.ID); err != nil {
			rep, _ := r.report(ctx, b.ID, Plan{BatchID: b.ID, FileName: b.FileName, Rows: b.Rows, Valid: b.Valid, Invalid: b.Invalid}, false)
			return rep, err
		}
	}
	plan, err := r.plan(ctx, b, scheduled)
	if err != nil {
		rep, _ := r.report(ctx, b.ID, plan, false)
		rep.Interrupted = errors.Is(err, ErrNoAnswer)
		return rep, err
	}
	if plan.Invalid > 0 && !r.opts.SkipInvalid {
		rep, _ := r.report(ctx, b.ID, plan, false)
		return rep, fmt.Errorf("batch %s: %d of %d rows are invalid, nothing was sent: %w", ledger.ShortID(b.ID), plan.Invalid, plan.Rows, ErrInvalidRows)
	}
	if r.opts.MaxTotal > 0 && plan.TotalCents > r.opts.MaxTotal {
		rep, _ := r.report(ctx, b.ID, plan, false)
		return rep, fmt.Errorf("batch %s: %s to send is over the limit of %s, nothing was sent: %w",
			ledger.ShortID(b.ID), validate.FormatBRL(plan.TotalCents), validate.FormatBRL(r.opts.MaxTotal), ErrMaxTotal)
	}
	if plan.ToSend == 0 {
		if err := r.l.SetBatchState(bg, b.ID, ledger.BatchDone); err != nil {
			return Report{Plan: plan}, err
		}
		return r.report(ctx, b.ID, plan, !imported && b.State == ledger.BatchDone)
	}
	if r.opts.ImportOnly {
		return r.report(ctx, b.ID, plan, false)
	}
	if r.opts.Confirm != nil {
		if err := r.opts.Confirm(ctx, plan); err != nil {
			rep, _ := r.report(ctx, b.ID, plan, false)
			return rep, fmt.Errorf("batch %s not sent: %w", ledger.ShortID(b.ID), err)
		}
	}
	if ctx.Err() != nil {
		rep, _ := r.report(ctx, b.ID, plan, false)
		rep.Interrupted = true
		return rep, nil
	}
	// The person said yes (or nobody needed to): only now are held rows
	// released and other batches' rows superseded, so that a "no", a
	// sheet stopped for invalid rows or over the limit changes nothing.
	if plan.Releasing > 0 {
		if err := r.releaseHeld(ctx, b); err != nil {
			return Report{Plan: plan}, err
		}
	}
	sups, err := r.supersede(ctx, b)
	if err != nil {
		return Report{Plan: plan}, err
	}
	replaced, err := r.superseded(ctx, b)
	if err != nil {
		return Report{Plan: plan}, err
	}
	if err := r.l.SetBatchState(bg, b.ID, ledger.BatchRunning); err != nil {
		return Report{Plan: plan}, err
	}
	res, sendErr := r.send(ctx, b, plan)
	rep, err = r.report(ctx, b.ID, plan, false)
	rep.Interrupted = res.interrupted
	rep.Unresolved = res.unresolved
	rep.Supersedes, rep.Superseded = sups, replaced
	if sendErr != nil {
		return rep, sendErr
	}
	if err != nil {
		return rep, err
	}
	left := rep.Summary[ledger.Pending].Rows + rep.Summary[ledger.Attempted].Rows
	if left == 0 {
		if err := r.l.SetBatchState(bg, b.ID, ledger.BatchDone); err != nil {
			return rep, err
		}
		rep.Batch.State = ledger.BatchDone
	}
	if rep.Unresolved > 0 {
		r.log.Warn("rows not confirmed", "batch", ledger.ShortID(b.ID), "rows", rep.Unresolved,
			"hint", "lote resume retries them with the same keys")
	}
	return rep, nil
}

// plan releases held rows when repeats are allowed and adds up what is to
// be sent, with the expected fees and the balance.
func (r *runner) plan(ctx context.Context, b ledger.Batch, scheduled int) (Plan, error) {
	p := Plan{BatchID: b.ID, FileName: b.FileName, Rows: b.Rows, Valid: b.Valid, Invalid: b.Invalid, Notes: r.notes}
	bg := context.WithoutCancel(ctx)
	// A row whose payout another batch has sent or is sending is held
	// before the plan is shown; each row claims its payout as it is
	// marked attempted, and is held then if another batch was first.
	if _, err := r.l.HoldClaimed(bg, b.ID, r.now().Add(-r.opts.RepeatWindow), r.claimHold); err != nil {
		return p, err
	}
	sum, err := r.l.Summary(ctx, b.ID)
	if err != nil {
		return p, err
	}
	p.Held = sum[ledger.Held].Rows
	if p.Held > 0 {
		held, _, err := r.l.FindRows(ctx, b.ID, ledger.RowFilter{States: []ledger.State{ledger.Held}}, planListed)
		if err != nil {
			return p, err
		}
		p.HeldRows = notes(held)
	}
	// A batch just imported knows whether it gave any warning; one
	// resumed looks.
	if scheduled < 0 || r.warned > 0 {
		warned, n, err := r.l.FindRows(ctx, b.ID, ledger.RowFilter{States: []ledger.State{ledger.Pending, ledger.Attempted},
			Code: CodeChangedAmount}, planListed)
		if err != nil {
			return p, err
		}
		p.Warnings, p.WarningCount = notes(warned), n
	}
	p.ToSend = sum[ledger.Pending].Rows + sum[ledger.Attempted].Rows
	p.TotalCents = sum[ledger.Pending].Cents + sum[ledger.Attempted].Cents
	if r.opts.AllowRepeat && p.Held > 0 {
		// A batch of the page is released on the page, before it is
		// submitted: its submitted and approved total then includes the
		// released rows, which --allow-repeat would send on top.
		if _, err := r.l.Upload(ctx, b.ID); err == nil {
			return p, fmt.Errorf("batch %s was uploaded on the page: its %d held rows are released there, before it is submitted, so that the approved total includes them; nothing was sent: %w",
				ledger.ShortID(b.ID), p.Held, ErrNotCleared)
		} else if !errors.Is(err, ledger.ErrNotFound) {
			return p, err
		}
		// Released only once the person confirmed the plan that counts
		// them: a "no" leaves them held.
		p.Releasing = p.Held
		p.ToSend += sum[ledger.Held].Rows
		p.TotalCents += sum[ledger.Held].Cents
	}
	if scheduled < 0 {
		scheduled = 0
		for row, err := range r.l.Outstanding(ctx, b.ID) {
			if err != nil {
				return p, err
			}
			if bytes.Contains(row.Payout, []byte(`"scheduled_to"`)) {
				scheduled++
			}
		}
	}
	p.Scheduled = scheduled
	rails, err := r.l.RailSummary(ctx, b.ID)
	if err != nil {
		return p, err
	}
	teds := 0
	for _, rt := range rails {
		n, c := rt.ToSend.Rows, rt.ToSend.Cents
		if p.Releasing > 0 {
			n, c = n+rt.Held.Rows, c+rt.Held.Cents
		}
		if rt.Rail == ledger.RailTED {
			teds = n
		}
		if n > 0 {
			p.Rails = append(p.Rails, RailPlan{Rail: rt.Rail, Rows: n, TotalCents: c})
		}
	}
	if p.ToSend == 0 {
		return p, nil
	}
	var fee *stone.Fee
	err = r.read(ctx, "read the transfer fee", func(ctx context.Context) (err error) {
		fee, err = r.c.TransferFee(ctx, r.opts.AccountID)
		return err
	})
	if err != nil {
		// A Stone that answers no read would leave every row sent
		// unconfirmed: stop before sending, resumable.
		if errors.Is(err, ErrConfig) || errors.Is(err, ErrNoAnswer) {
			return p, err
		}
		r.log.Warn("transfer fee unknown", "err", err)
	} else {
		// The fee Stone reports is a TED's; internal transfers and Pix
		// are not charged it.
		p.FeeCents = fee.Amount * int64(max(0, teds-fee.RemainingFreeTransfers))
	}
	var bal *stone.Balance
	err = r.read(ctx, "read the balance", func(ctx context.Context) (err error) {
		bal, err = r.c.Balance(ctx, r.opts.AccountID)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrConfig) || errors.Is(err, ErrNoAnswer) {
			return p, err
		}
		r.log.Warn("balance unknown", "err", err)
	} else {
		p.BalanceCents, p.BalanceKnown = bal.Balance, true
	}
	return p, nil
}

// releaseHeld returns the batch's held rows to pending, recorded as the
// decision of RunOptions.ReleasedBy (else the runner).
func (r *runner) releaseHeld(ctx context.Context, b ledger.Batch) error {
	by := cmp.Or(r.opts.ReleasedBy, r.opts.Holder)
	n, err := ReleaseHeld(ctx, r.l, b.ID, by)
	if n > 0 {
		r.log.Info("released held rows", "batch", ledger.ShortID(b.ID), "rows", n, "by", by)
	}
	return err
}

// ReleaseHeld returns every held row of the batch to pending because the
// person by said so (--allow-repeat, or Release on the page), and records
// it in the ledger. A row without a reference gets a key of its own and a
// fingerprint of its own: the payout it repeats may have been sent with
// the key it had, and it must not take that payout's claim. It returns the
// rows released; a batch already done is reopened, to be sent.
func ReleaseHeld(ctx context.Context, l *ledger.Ledger, batchID, by string) (int, error) {
	bg := context.WithoutCancel(ctx)
	var held []ledger.Row
	for row, err := range l.Rows(ctx, batchID) {
		if err != nil {
			return 0, err
		}
		if row.State == ledger.Held {
			row.Cells, row.Payout = nil, nil
			held = append(held, row)
		}
	}
	for i, row := range held {
		rel := ledger.Release{By: by}
		if row.Reference == "" {
			rel.Key = ReleasedKey(row.IdempotencyKey, batchID, row.Row)
		}
		if row.Fingerprint != "" {
			sum := sha256.Sum256([]byte("released\x00" + row.Fingerprint + "\x00" + batchID + "\x00" + strconv.Itoa(row.Row)))
			rel.Fingerprint = hex.EncodeToString(sum[:])
		}
		if err := l.ReleaseHeld(bg, batchID, row.Row, rel); err != nil {
			return i, err
		}
	}
	return len(held), nil
}

// read runs a request that sends no money (the calendar, the fee, the
// balance), retrying it with backoff while Stone answers 429/5xx, does not
// answer within RequestTimeout or the connection fails, up to MaxAttempts;
// then the error wraps ErrNoAnswer. A refusal of the credentials is an
// ErrConfig error; other failures are wrapped with what was being done.
func (r *runner) read(ctx context.Context, what string, call func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		reqCtx, cancel := context.WithTimeout(ctx, r.opts.RequestTimeout)
		err := call(reqCtx)
		// The request's own deadline, not ctx: Classify calls a request
		// whose context ended before it was sent (here, while getting a
		// token) final, which is right only when the caller stopped.
		timedOut := reqCtx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		if cerr := stone.ConfigError(err); cerr != nil {
			return cerr
		}
		// Reading twice is harmless, so an ambiguous failure is retried too.
		o, _ := stone.Classify(err)
		if ctx.Err() != nil || o == stone.OutcomeFinal && !timedOut {
			return fmt.Errorf("%s: %w", what, err)
		}
		if attempt >= r.opts.MaxAttempts {
			return fmt.Errorf("%s: %w (%d attempts): %w", what, ErrNoAnswer, attempt, err)
		}
		r.log.Warn("retrying", "what", what, "attempt", attempt, "err", err)
		if serr := r.opts.Sleep(ctx, pace.Backoff(attempt)); serr != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
}

// csvSeparator returns the separator of a CSV input as a string, or "" for
// other formats or when it cannot be told (the import reports that).
func csvSeparator(path, format string) string {
	if format != "CSV" {
		return ""
	}
	sr, err := sheet.Open(path, sheet.Options{})
	if err != nil {
		return ""
	}
	defer sr.Close()
	return string(sr.Separator())
}
