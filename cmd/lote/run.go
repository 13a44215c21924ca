package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"lote/batch"
	"lote/check"
	"lote/internal/i18n"
	"lote/ledger"
	"lote/validate"
)

// runFlags are the flags of `lote run` and `lote resume`.
type runFlags struct {
	sheet          sheetFlags // run only: resume does not read the sheet
	conn           connFlags
	out            string
	format         string
	rate           float64
	concurrency    int
	skipInvalid    bool
	allowRepeat    bool
	yes            bool
	maxTotal       int64
	idempotencyTTL time.Duration
	requestTimeout time.Duration
	maxAttempts    int
	unreachable    time.Duration
	ifPresent      bool
	notify         notifyFlags
}

func (f *runFlags) register(fs *flag.FlagSet, readsSheet bool) {
	if readsSheet {
		f.sheet.register(fs)
		fs.BoolVar(&f.ifPresent, "if-present", false, "exit 0, saying nothing, when the file does not exist (a nightly job with no sheet tonight)")
	}
	f.conn.register(fs)
	f.notify.register(fs)
	fs.StringVar(&f.out, "out", "", "results sheet, .csv or .xlsx (default: beside the input, NAME.results.EXT)")
	fs.StringVar(&f.format, "format", "text", "output: text, or json (one document on stdout)")
	fs.Float64Var(&f.rate, "rate", batch.DefaultRate, "requests per second at most")
	fs.IntVar(&f.concurrency, "concurrency", batch.DefaultConcurrency, "requests in flight at most")
	fs.BoolVar(&f.skipInvalid, "skip-invalid", false, "send the valid rows even if some rows are invalid (those are never sent)")
	fs.BoolVar(&f.allowRepeat, "allow-repeat", false, "send rows held because the same payout was accepted in another recent batch")
	fs.BoolVar(&f.yes, "yes", false, "do not ask for confirmation in production")
	fs.Var(reaisFlag{&f.maxTotal}, "max-total", "refuse to send a batch whose total is over this many `reais`, written with the cents: 500,00 or R$ 1.234,56 (0: no limit)")
	fs.DurationVar(&f.idempotencyTTL, "idempotency-ttl", batch.DefaultIdempotencyTTL,
		"how long Stone remembers an idempotency key; an unconfirmed row older than this is not resent but left for review")
	// Hidden: the tests of a Stone that does not answer need them short.
	fs.DurationVar(&f.requestTimeout, "request-timeout", batch.DefaultRequestTimeout, "hidden: how long one request waits for Stone's answer")
	fs.IntVar(&f.maxAttempts, "max-attempts", batch.DefaultMaxAttempts, "hidden: requests per row, and per read, in one run")
	fs.DurationVar(&f.unreachable, "unreachable-after", batch.DefaultUnreachableAfter, "hidden: how long Stone may answer nothing before the run stops sending")
}

func runRun(ctx context.Context, args []string, cio cmdIO) int {
	fs := newFlags("run", "FILE", cio)
	var f runFlags
	f.register(fs, true)
	files, ok := parseFlags(fs, args, cio)
	if !ok {
		return exitUsage
	}
	if len(files) != 1 {
		return usageError(fs, cio.stderr, "run takes one file, got %d", len(files))
	}
	if f.ifPresent {
		if _, err := os.Stat(files[0]); errors.Is(err, os.ErrNotExist) {
			return exitOK
		}
	}
	return f.execute(ctx, fs, cio, files[0], "")
}

func runResume(ctx context.Context, args []string, cio cmdIO) int {
	fs := newFlags("resume", "BATCH", cio)
	var f runFlags
	f.register(fs, false)
	ids, ok := parseFlags(fs, args, cio)
	if !ok {
		return exitUsage
	}
	if len(ids) != 1 {
		return usageError(fs, cio.stderr, "resume takes one batch id (or a unique prefix; `lote status` lists them), got %d", len(ids))
	}
	return f.execute(ctx, fs, cio, "", ids[0])
}

// errNotConfirmed is the answer of a person who did not confirm a
// production run.
var errNotConfirmed = errors.New("not confirmed")

// execute runs a file (path) or resumes a batch (batchID), then writes the
// results and the summary, and returns the exit code.
func (f *runFlags) execute(ctx context.Context, fs *flag.FlagSet, cio cmdIO, path, batchID string) int {
	if f.format != "text" && f.format != "json" {
		return usageError(fs, cio.stderr, "--format %q: use text or json", f.format)
	}
	if f.rate <= 0 || f.concurrency <= 0 || f.maxTotal < 0 || f.idempotencyTTL <= 0 || f.requestTimeout <= 0 || f.maxAttempts <= 0 || f.unreachable <= 0 {
		return usageError(fs, cio.stderr, "--rate, --concurrency and --idempotency-ttl must be positive, --max-total not negative")
	}
	if err := f.conn.check(); err != nil {
		return usageError(fs, cio.stderr, "%v", err)
	}
	if err := f.notify.check(); err != nil {
		return usageError(fs, cio.stderr, "%v", err)
	}
	var check check.CheckOptions
	if path != "" {
		var err error
		if check, err = f.sheet.options(); err != nil {
			fmt.Fprintf(cio.stderr, "lote: %v\n", err)
			return exitUsage
		}
	}
	interactive := isTerminal(cio.stdin)
	if f.conn.env == "production" && !f.yes && !interactive {
		fmt.Fprintln(cio.stderr, "lote: --env production moves real money: run it on a terminal to confirm, or pass --yes; nothing was sent")
		return exitUsage
	}
	c, err := f.conn.connect()
	if err != nil {
		// Also a ledger that lost its state or cannot be read: its error
		// says what to do, and no resume could finish anything.
		fmt.Fprintf(cio.stderr, "lote: %v; nothing was sent\n", err)
		return exitUsage
	}
	defer c.Close()

	// Text goes to stdout; with --format json stdout holds only the
	// document, so what people read goes to stderr.
	human := cio.stdout
	if f.format == "json" {
		human = cio.stderr
	}
	progressTerm := isTerminal(cio.stderr)
	logLevel := slog.LevelInfo
	if progressTerm {
		logLevel = slog.LevelWarn // the progress bar says the rest
	}
	log := slog.New(slog.NewTextHandler(cio.stderr, &slog.HandlerOptions{Level: logLevel}))
	view := &progressView{w: cio.stderr, p: cio.p, terminal: progressTerm, now: time.Now, log: log}
	host, _ := os.Hostname()
	opts := batch.RunOptions{
		Ledger: c.ledger, Client: c.client, AccountID: c.accountID, Env: f.conn.env,
		Check: check, SkipInvalid: f.skipInvalid, AllowRepeat: f.allowRepeat,
		Rate: f.rate, Concurrency: f.concurrency, IdempotencyTTL: f.idempotencyTTL, MaxTotal: f.maxTotal,
		RequestTimeout: f.requestTimeout, MaxAttempts: f.maxAttempts, UnreachableAfter: f.unreachable,
		Holder: fmt.Sprintf("%s pid %d", host, os.Getpid()), LeaseTTL: f.conn.leaseTTL,
		// Who released held rows, as the ledger records it.
		ReleasedBy: fmt.Sprintf("lote %s --allow-repeat by %s on %s", fs.Name(), cmp.Or(os.Getenv("USER"), "unknown user"), host),
		Progress:   view.update,
		Log:        log,
		Confirm: func(ctx context.Context, p batch.Plan) error {
			printPlan(human, cio.p, p, f.conn.env, c.accountID)
			if f.conn.env != "production" || f.yes {
				return nil
			}
			return confirm(ctx, cio.stdin, human, cio.p, p)
		},
	}
	var rep batch.Report
	if path != "" {
		rep, err = batch.Run(ctx, path, opts)
	} else {
		rep, err = batch.Resume(ctx, batchID, opts)
	}
	view.finish()
	input := path // "" on resume: the file is not needed, nor read
	if path == "" {
		path = rep.Batch.FileName
	}

	out := runOutput{Batch: rep.Batch.ID, File: path, Env: f.conn.env, Account: c.accountID,
		State: string(rep.Batch.State), Interrupted: rep.Interrupted, NothingToDo: rep.NothingToDo,
		Unresolved: rep.Unresolved, States: statesJSON(rep.Summary), Errors: []problem{},
		Held: rowNotes(rep.Plan.HeldRows), Warnings: rowNotes(rep.Plan.Warnings)}
	for _, s := range rep.Supersedes {
		out.Supersedes = append(out.Supersedes, s.Old)
	}
	if rep.Superseded != nil {
		out.SupersededBy = rep.Superseded.New
	}
	code := exitOK
	// A ledger found damaged during the run can neither give results nor
	// be resumed until it is restored.
	unreadable := c.ledger.Unreadable(err)
	if unreadable != nil {
		err = unreadable
	}
	if err != nil {
		out.Error = err.Error()
		code = f.failure(ctx, cio, c.ledger, rep, path, err, &out)
	} else {
		code = outcome(rep)
	}
	// Results are written for every batch the ledger knows, also after an
	// interruption: the rows done so far, and the others as they stand
	// (pending or attempted), for the person who stopped the run. A batch
	// interrupted while importing has no rows to show yet.
	if rep.Batch.ID != "" && rep.Batch.State != ledger.BatchImporting && code != exitUsage && unreadable == nil {
		res, err := f.writeResults(ctx, c.ledger, rep, input, cio.p)
		if err != nil {
			fmt.Fprintf(cio.stderr, "lote: %v\n", err)
			if code == exitOK {
				code = exitInterrupted // the same command again writes them
			}
		}
		out.Results = res
	}
	// Recorded in the ledger now, delivered once the output is written.
	notifier := f.notify.notifier(c.ledger, log, cio.getenv)
	if err := notifyRun(ctx, notifier, rep, f.conn.env, c.accountID); err != nil {
		log.Warn("notifications not recorded", "err", err)
	}
	defer notifier.Flush(ctx, notifyWait)
	if f.format == "json" {
		out.ExitCode = code
		enc := json.NewEncoder(cio.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(out)
		return code
	}
	if rep.Batch.ID != "" && rep.Summary != nil {
		printSummary(cio.stdout, cio.p, rep, out.Results)
	}
	if unreadable != nil {
		return code // the error said what to do; a resume cannot read the ledger either
	}
	switch {
	case rep.Unresolved > 0 && !rep.Interrupted && err == nil:
		fmt.Fprintln(cio.stdout, cio.p.T(plural(rep.Unresolved,
			i18n.Mark("%d row not confirmed: `lote resume %s` retries it with the same key"),
			i18n.Mark("%d rows not confirmed: `lote resume %s` retries them with the same keys")), rep.Unresolved, ledger.ShortID(rep.Batch.ID)))
	case (rep.Interrupted || code == exitInterrupted) && !resumable(rep.Batch):
		// Stopped before the import finished: resume refuses such a batch.
		fmt.Fprintln(cio.stdout, cio.p.T("interrupted before anything was sent: run the same command again to continue"))
	case rep.Interrupted || code == exitInterrupted:
		fmt.Fprintln(cio.stdout, cio.p.T("interrupted: `lote resume %s` finishes it (same keys, nothing paid twice)", ledger.ShortID(rep.Batch.ID)))
	}
	return code
}

// resumable says whether `lote resume` takes the batch: it is imported.
func resumable(b ledger.Batch) bool {
	return b.ID != "" && b.State != ledger.BatchImporting
}

// failure reports a run's error and returns its exit code.
func (f *runFlags) failure(ctx context.Context, cio cmdIO, l *ledger.Ledger, rep batch.Report, path string, err error, out *runOutput) int {
	var (
		lease *ledger.LeaseHeldError
		fe    *check.FileError
	)
	switch {
	case errors.Is(err, batch.ErrInvalidRows):
		// Listed like `lote validate` lists them, so the same habits work.
		ps, rows, lerr := invalidRows(ctx, l, rep.Batch.ID, listedProblems)
		if lerr != nil {
			fmt.Fprintf(cio.stderr, "lote: %v\n", lerr)
		}
		out.Errors = ps
		out.MoreInvalidRows = max(0, rep.Plan.Invalid-rows)
		if f.format == "text" {
			w := bufio.NewWriter(cio.stdout)
			for _, p := range ps {
				fmt.Fprintf(w, "%s:%d:%s: %s\n", path, p.Row, p.Column, check.Issue{Value: p.Value, Code: p.Code, Message: p.Message, Key: p.key, Args: p.args}.ReasonIn(cio.p))
			}
			if out.MoreInvalidRows > 0 {
				fmt.Fprintf(w, "%s: %s\n", path, cio.p.T(plural(out.MoreInvalidRows,
					i18n.Mark("%d more invalid row not listed here; the results sheet lists every row with its problems"),
					i18n.Mark("%d more invalid rows not listed here; the results sheet lists every row with its problems")), out.MoreInvalidRows))
			}
			w.Flush()
		}
		switch {
		case rep.Plan.Valid == 0:
			fmt.Fprintln(cio.stderr, "lote: "+cio.p.T(plural(rep.Plan.Invalid, i18n.Mark("the only row is invalid; nothing was sent. Fix it and run again."),
				i18n.Mark("all %d rows are invalid; nothing was sent. Fix them and run again.")), rep.Plan.Invalid))
		case rep.Plan.Valid == 1:
			fmt.Fprintln(cio.stderr, "lote: "+cio.p.T(plural(rep.Plan.Invalid, i18n.Mark("%d of %d rows is invalid; nothing was sent. Fix it, or pass --skip-invalid to send the valid row."),
				i18n.Mark("%d of %d rows are invalid; nothing was sent. Fix them, or pass --skip-invalid to send the valid row.")), rep.Plan.Invalid, rep.Plan.Rows))
		default:
			fmt.Fprintln(cio.stderr, "lote: "+cio.p.T(plural(rep.Plan.Invalid, i18n.Mark("%d of %d rows is invalid; nothing was sent. Fix it, or pass --skip-invalid to send the %d valid rows."),
				i18n.Mark("%d of %d rows are invalid; nothing was sent. Fix them, or pass --skip-invalid to send the %d valid rows.")), rep.Plan.Invalid, rep.Plan.Rows, rep.Plan.Valid))
		}
		return exitRows
	case errors.As(err, &lease):
		fmt.Fprintf(cio.stderr, "lote: %v; nothing was sent by this run. If that run was killed on another computer, try again after the lease expires.\n", err)
		return exitUsage
	case errors.Is(err, errNotConfirmed):
		fmt.Fprintln(cio.stderr, "lote: "+cio.p.T("not confirmed; nothing was sent"))
		return exitUsage
	case errors.Is(err, batch.ErrNotCleared):
		// Uploaded on the web page: the page submits and approves it; its
		// policy, recorded in the ledger, holds here as well.
		fmt.Fprintf(cio.stderr, "lote: %v. Submit it (and have it approved, if its policy asks) on the web page, where it is sent.\n", err)
		return exitUsage
	case errors.As(err, &fe), errors.Is(err, batch.ErrConfig), errors.Is(err, batch.ErrBatchMismatch),
		errors.Is(err, batch.ErrMaxTotal), errors.Is(err, ledger.ErrNotFound):
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	case errors.Is(err, batch.ErrNoAnswer):
		// Nothing was sent by this run, so waiting and trying again is safe.
		again := "run the same command again to continue"
		if resumable(rep.Batch) {
			again = fmt.Sprintf("run the same command again, or `lote resume %s`, to continue", ledger.ShortID(rep.Batch.ID))
		}
		fmt.Fprintf(cio.stderr, "lote: %v; nothing was sent by this run: %s\n", err, again)
		return exitInterrupted
	case errors.Is(err, batch.ErrUnreachable):
		// Rows sent before are paid and recorded; those in flight stay
		// attempted and go again with the same keys.
		fmt.Fprintf(cio.stderr, "lote: batch %s: %v; stopped sending. Once Stone answers, `lote resume %s` sends the rest (same keys, nothing paid twice)\n",
			ledger.ShortID(rep.Batch.ID), err, ledger.ShortID(rep.Batch.ID))
		return exitInterrupted
	case errors.Is(err, ledger.ErrLeaseLost):
		fmt.Fprintf(cio.stderr, "lote: %v: another run took the batch over; this one stopped sending\n", err)
		return exitInterrupted
	}
	fmt.Fprintf(cio.stderr, "lote: %v\n", err)
	if rep.Batch.ID != "" && rep.Batch.State != ledger.BatchImporting && rep.Batch.State != ledger.BatchImported {
		// Something may have been sent: say how to finish, never "nothing".
		return exitInterrupted
	}
	return exitUsage
}

// writeResults writes the results sheet where --out says, else where this
// batch's results went last time, else beside the input. A batch that had
// nothing left to do keeps the results it has. input is the sheet run, ""
// on resume (then the default is NAME.results.EXT in the current folder).
func (f *runFlags) writeResults(ctx context.Context, l *ledger.Ledger, rep batch.Report, input string, lang *i18n.Printer) (string, error) {
	path := f.out
	if path == "" && rep.Batch.ResultsPath != "" {
		path = rep.Batch.ResultsPath
	}
	if path == "" {
		path = batch.ResultsPath(cmp.Or(input, rep.Batch.FileName))
		// Another batch's results are there (the same file name, saved
		// again or edited): this batch's go beside them, by its id.
		owner, err := batch.ResultsOwner(ctx, l, rep.Batch.ID, path)
		if err != nil {
			return "", err
		}
		if owner != "" {
			path = batch.ResultsPathOf(path, rep.Batch.ID)
		}
	}
	if rep.NothingToDo && path == rep.Batch.ResultsPath {
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
	}
	// The results use the input's CSV separator, which the import recorded
	// with the batch, so they open the way the input did, also on resume.
	// The person asked to stop only the sending: the results of what was
	// done are still written.
	// The input, when it is at hand, gives its cells' types back.
	check := check.CheckOptions{Sheet: f.sheet.sheet, HeaderRow: f.sheet.headerRow}
	if err := batch.WriteResultsWith(context.WithoutCancel(ctx), l, rep.Batch.ID, path, batch.ResultsOptions{Input: input, Check: check, Lang: lang}); err != nil {
		return "", err
	}
	return path, nil
}

// listedProblems is about how many problems of invalid rows run and resume
// list, in text and in --format json: enough to see what is wrong with a
// sheet. The results sheet has every row with its problems; listing them
// all held a million-row sheet of garbage in memory, for a list no one reads.
const listedProblems = 100

// invalidRows lists the problems of a batch's first invalid rows, warnings
// left out: whole rows, until at least limit problems are listed. rows is
// the number of invalid rows listed. It reads the ledger a page at a time
// and stops there, so memory does not grow with the invalid rows.
func invalidRows(ctx context.Context, l *ledger.Ledger, id string, limit int) (ps []problem, rows int, err error) {
	ps = []problem{}
	for r, err := range l.Rows(ctx, id) {
		if err != nil {
			return ps, rows, err
		}
		if len(ps) >= limit {
			break
		}
		if r.State != ledger.Invalid {
			continue
		}
		rows++
		for _, is := range batch.Issues(r) {
			if is.Warning {
				continue
			}
			is.Row = r.Row
			ps = append(ps, newProblem(is))
		}
	}
	return ps, rows, nil
}

// runOutput is the --format json document of run and resume.
type runOutput struct {
	Batch       string                `json:"batch"`
	File        string                `json:"file"`
	Env         string                `json:"env"`
	Account     string                `json:"account"`
	State       string                `json:"state"`
	States      map[string]stateTotal `json:"states"`
	Results     string                `json:"results"`
	Interrupted bool                  `json:"interrupted"`
	NothingToDo bool                  `json:"nothing_to_do"`
	Unresolved  int                   `json:"unresolved"`
	// Errors are the problems of the first invalid rows (about
	// listedProblems); MoreInvalidRows counts the invalid rows not listed.
	// The results sheet has them all.
	Errors          []problem `json:"errors"`
	MoreInvalidRows int       `json:"more_invalid_rows"`
	// Held and Warnings are the plan's first held rows and rows sent with
	// a warning, with why; States counts them all.
	Held         []rowNote `json:"held"`
	Warnings     []rowNote `json:"warnings"`
	Supersedes   []string  `json:"supersedes,omitempty"`    // older batches this file replaced
	SupersededBy string    `json:"superseded_by,omitempty"` // the newer batch that replaced this one's file
	Error        string    `json:"error,omitempty"`
	ExitCode     int       `json:"exit_code"`
}

// rowNote is a row a person should read about, in --format json.
type rowNote struct {
	Row     int    `json:"row"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func rowNotes(ns []batch.RowNote) []rowNote {
	out := make([]rowNote, 0, len(ns))
	for _, n := range ns {
		out = append(out, rowNote{n.Row, n.Code, n.Message})
	}
	return out
}

// stateTotal is one state's rows and sums, in cents.
type stateTotal struct {
	Rows        int   `json:"rows"`
	AmountCents int64 `json:"amount_cents"`
	FeeCents    int64 `json:"fee_cents"`
}

func statesJSON(sum map[ledger.State]ledger.Totals) map[string]stateTotal {
	out := make(map[string]stateTotal, len(sum))
	for s, t := range sum {
		out[string(s)] = stateTotal{Rows: t.Rows, AmountCents: t.Cents, FeeCents: t.Fees}
	}
	return out
}

// printPlan shows what is about to be sent.
func printPlan(w io.Writer, tr *i18n.Printer, p batch.Plan, env, account string) {
	fmt.Fprintln(w, tr.T("batch %s  %s  (%s, account %s)", ledger.ShortID(p.BatchID), p.FileName, env, account))
	fmt.Fprint(w, tr.T("  rows %d: %d valid, %d invalid, %d held", p.Rows, p.Valid, p.Invalid, p.Held))
	switch {
	case p.Releasing > 0:
		fmt.Fprint(w, tr.T(plural(p.Releasing, i18n.Mark(" (--allow-repeat: this %d is released and sent once you confirm)"),
			i18n.Mark(" (--allow-repeat: these %d are released and sent once you confirm)")), p.Releasing))
	case p.Held > 0:
		fmt.Fprint(w, tr.T(" (not sent unless a person releases them: --allow-repeat)"))
	}
	fmt.Fprintln(w)
	for _, n := range p.Notes {
		fmt.Fprintf(w, "  %s%s\n", tr.T("note: "), tr.Lookup(n))
	}
	printNotes(w, tr, p.HeldRows, p.Held)
	if p.WarningCount > 0 {
		fmt.Fprintln(w, tr.T(plural(p.WarningCount, i18n.Mark("  %d row to send with a warning:"), i18n.Mark("  %d rows to send with a warning:")), p.WarningCount))
		printNotes(w, tr, p.Warnings, p.WarningCount)
	}
	fmt.Fprint(w, tr.T(plural(p.ToSend, i18n.Mark("  to send %d transfer, total %s, expected fees %s"), i18n.Mark("  to send %d transfers, total %s, expected fees %s")),
		p.ToSend, validate.FormatBRL(p.TotalCents), validate.FormatBRL(p.FeeCents)))
	if p.BalanceKnown {
		fmt.Fprint(w, tr.T(", balance %s", validate.FormatBRL(p.BalanceCents)))
		if p.BalanceCents < p.TotalCents+p.FeeCents {
			fmt.Fprint(w, tr.T(" (NOT ENOUGH: some transfers will be refused)"))
		}
	}
	fmt.Fprintln(w)
	if len(p.Rails) > 1 || len(p.Rails) == 1 && p.Rails[0].Rail != validate.RailTED {
		parts := make([]string, len(p.Rails))
		for i, rp := range p.Rails {
			parts[i] = fmt.Sprintf("%s %d (%s)", tr.Lookup(railName(rp.Rail)), rp.Rows, validate.FormatBRL(rp.TotalCents))
		}
		fmt.Fprintln(w, tr.T("  by rail: %s", strings.Join(parts, ", ")))
	}
	if p.Scheduled > 0 {
		fmt.Fprintln(w, tr.T("  %d of them scheduled for a later date", p.Scheduled))
	}
}

// railName is how the plan names a rail.
func railName(rail string) string {
	switch rail {
	case validate.RailInternal:
		return i18n.Mark("internal transfer")
	case validate.RailPix:
		return i18n.Mark("Pix")
	}
	return i18n.Mark("TED")
}

// printSupersessions says which interrupted batches this file replaced,
// or which newer batch replaced this one's file.
func printSupersessions(w io.Writer, tr *i18n.Printer, rep batch.Report) {
	for _, s := range rep.Supersedes {
		fmt.Fprintln(w, tr.T(plural(s.Held, i18n.Mark("  this file replaces batch %s, interrupted, run from the same path: its %d row not yet sent is held there, so that this file's version is paid"),
			i18n.Mark("  this file replaces batch %s, interrupted, run from the same path: its %d rows not yet sent are held there, so that this file's version is paid")),
			ledger.ShortID(s.Old), s.Held))
	}
	if s := rep.Superseded; s != nil {
		fmt.Fprintln(w, tr.T("  SUPERSEDED: %s now holds batch %s; its rows not yet sent are held (%d now) and %d rows in flight are left for review",
			s.Path, ledger.ShortID(s.New), s.Held, s.Review))
		fmt.Fprint(w, tr.T("  batch %s:", ledger.ShortID(s.New)))
		for _, st := range batch.OrderedStates(s.NewSummary) {
			fmt.Fprintf(w, " %s %s (%s);", tr.Lookup(string(st)), tr.Int(s.NewSummary[st].Rows), validate.FormatBRL(s.NewSummary[st].Cents))
		}
		fmt.Fprintln(w)
	}
}

// printNotes lists rows a person should read about, and how many more
// the results sheet has.
func printNotes(w io.Writer, tr *i18n.Printer, ns []batch.RowNote, total int) {
	for _, n := range ns {
		fmt.Fprintln(w, tr.T("    row %s: %s", strconv.Itoa(n.Row), tr.Lookup(n.Message)))
	}
	if more := total - len(ns); more > 0 {
		fmt.Fprintln(w, tr.T("    … and %d more (see the results sheet)", more))
	}
}

// confirm asks a person on a terminal to type the total (or "yes").
func confirm(ctx context.Context, stdin io.Reader, w io.Writer, tr *i18n.Printer, p batch.Plan) error {
	total := strings.TrimPrefix(validate.FormatBRL(p.TotalCents), "R$ ")
	fmt.Fprint(w, tr.T("This sends real money. Type the total (%s) or yes to send: ", total))
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("%w: %v", errNotConfirmed, err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	answer := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "R$"))
	if strings.EqualFold(answer, "yes") || strings.EqualFold(answer, tr.T("yes")) || answer == total {
		return nil
	}
	return errNotConfirmed
}

// printSummary shows a run's outcome by state.
func printSummary(w io.Writer, tr *i18n.Printer, rep batch.Report, results string) {
	state := tr.Lookup(string(rep.Batch.State))
	if rep.NothingToDo {
		state = tr.T("nothing to do: every row was already settled")
	}
	fmt.Fprintln(w, tr.T("batch %s  %s: %s", ledger.ShortID(rep.Batch.ID), rep.Batch.FileName, state))
	printSupersessions(w, tr, rep)
	printStates(w, tr, rep.Summary)
	if results != "" {
		fmt.Fprintln(w, tr.T("results: %s", results))
	}
}

// printStates shows a batch's rows by state, a line each: rows, amount and
// fees.
func printStates(w io.Writer, tr *i18n.Printer, sum map[ledger.State]ledger.Totals) {
	width := 13
	if tr.Tag() == i18n.Portuguese {
		width = 18 // "precisa de revisão"
	}
	for _, s := range batch.OrderedStates(sum) {
		t := sum[s]
		fmt.Fprintf(w, "  %-*s %6s  %18s", width, tr.Lookup(string(s)), tr.Int(t.Rows), validate.FormatBRL(t.Cents))
		if t.Fees > 0 {
			fmt.Fprint(w, tr.T("  fees %s", validate.FormatBRL(t.Fees)))
		}
		fmt.Fprintln(w)
	}
}

// isTerminal says whether r or w is a terminal (a person is there).
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressView shows a run's progress: a bar redrawn in place on a
// terminal, at most 5 times a second; a log line every 5 s otherwise.
type progressView struct {
	w        io.Writer
	p        *i18n.Printer
	terminal bool
	now      func() time.Time
	log      *slog.Logger
	last     time.Time
	drawn    bool
}

func (v *progressView) update(p batch.Progress) {
	now := v.now()
	every := 5 * time.Second
	if v.terminal {
		every = 200 * time.Millisecond
	}
	final := p.Done >= p.Total
	if !final && now.Sub(v.last) < every {
		return
	}
	if !v.terminal && !final && v.last.IsZero() {
		v.last = now // the first line after 5 s, not at once
		return
	}
	v.last = now
	if !v.terminal {
		v.log.Info("progress", "done", p.Done, "total", p.Total, "rate", fmt.Sprintf("%.1f/s", p.Rate),
			"eta", p.ETA.Round(time.Second), "elapsed", p.Elapsed.Round(time.Second))
		return
	}
	pct := 100
	if p.Total > 0 {
		pct = p.Done * 100 / p.Total
	}
	const width = 30
	bar := strings.Repeat("#", pct*width/100) + strings.Repeat(".", width-pct*width/100)
	eta := "--"
	if p.ETA > 0 {
		eta = p.ETA.Round(time.Second).String()
	}
	fmt.Fprintf(v.w, "\r[%s] %s", bar, v.p.T("%d/%d rows %3d%%  %.1f/s  ETA %s   ", p.Done, p.Total, pct, p.Rate, eta))
	v.drawn = true
}

// finish ends the bar's line, so what follows starts on its own.
func (v *progressView) finish() {
	if v.drawn {
		fmt.Fprintln(v.w)
		v.drawn = false
	}
}
