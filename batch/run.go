package batch

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"lote/ledger"
	"lote/stone"
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
	Check CheckOptions

	// SkipInvalid sends the valid rows of a sheet that has invalid ones;
	// without it, any invalid row stops the run before anything is sent.
	SkipInvalid bool
	// AllowRepeat sends rows held as suspected repeats of a payout
	// accepted in another batch within RepeatWindow.
	AllowRepeat bool
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
	// Interrupted says ctx stopped the run: it is resumable.
	Interrupted bool
	// Unresolved counts rows left attempted after MaxAttempts; a resume
	// sends them again with the same keys.
	Unresolved int
	// NothingToDo says the batch was already finished.
	NothingToDo bool
}

// ErrInvalidRows is returned (wrapped) with a Report when invalid rows stop
// the run before anything is sent; the rows and their errors are in the ledger.
var ErrInvalidRows = errors.New("the sheet has invalid rows")

// ErrConfig is returned (wrapped with Stone's detail) when Stone refuses the
// credentials or the account (401 after a fresh token, 403). The rows being
// sent stay attempted; a resume with the right configuration sends the same keys.
var ErrConfig = errors.New("configuration refused by Stone")

// ErrBatchMismatch is returned when a batch is run with another account or
// environment than it was imported with: one batch is never sent from two accounts.
var ErrBatchMismatch = errors.New("batch belongs to another account or environment")

// ErrMaxTotal is returned (wrapped) when the amount to send is over
// RunOptions.MaxTotal; nothing was sent.
var ErrMaxTotal = errors.New("batch total is over the limit")

var errNotImplemented = errors.New("not implemented")

// Run runs the sheet at path: it hashes the file (the batch id), imports
// and validates every row into the ledger unless the batch is already
// imported, shows the plan, and sends the rows exactly once. Running the
// same file again resumes it; a finished batch returns at once.
func Run(ctx context.Context, path string, opts RunOptions) (Report, error) {
	return Report{}, errNotImplemented
}

// Resume finishes a batch already in the ledger, by id or a unique prefix of
// it; the file is not needed.
func Resume(ctx context.Context, batchID string, opts RunOptions) (Report, error) {
	return Report{}, errNotImplemented
}
