package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"lote/batch"
	"lote/internal/i18n"
	"lote/ledger"
	"lote/reconcile"
	"lote/validate"
)

// reconcileFlags are the flags of `lote reconcile`.
type reconcileFlags struct {
	conn         connFlags
	all          bool
	out          string
	since        string
	refundDays   int
	watch        bool
	watchTimeout time.Duration
	format       string
	rate         float64
	offline      bool
	notify       notifyFlags
	statement    bool
	statementLag time.Duration
}

func (f *reconcileFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.all, "all", false, "reconcile every batch of the account (instead of naming one)")
	fs.StringVar(&f.out, "out", "", "reconciliation report, .xlsx or .csv (default: reconciliation-DATE.xlsx in the current folder)")
	fs.StringVar(&f.since, "since", "", "leave out batches created before this `date` (yyyy-mm-dd)")
	fs.IntVar(&f.refundDays, "refund-window", 7, "`days` a FINISHED transfer is still watched for a refund by the receiving bank")
	fs.BoolVar(&f.watch, "watch", false, "poll again, with backoff, until no transfer is in flight or --watch-timeout passes")
	fs.DurationVar(&f.watchTimeout, "watch-timeout", reconcile.DefaultWatchTimeout, "how long --watch polls at most")
	fs.StringVar(&f.format, "format", "text", "output: text, or json (the summary, one document on stdout)")
	fs.Float64Var(&f.rate, "rate", batch.DefaultRate, "requests per second at most")
	f.notify.register(fs)
	fs.BoolVar(&f.offline, "offline", false, "ask Stone nothing: report what earlier polls and webhooks recorded")
	fs.BoolVar(&f.statement, "statement", false, "also check each paid, returned or failed row against the account statement")
	fs.DurationVar(&f.statementLag, "statement-lag", reconcile.DefaultStatementLag,
		"how long after a transfer settled its movement may be missing from the statement before it counts as a difference")
}

func runReconcile(ctx context.Context, args []string, cio cmdIO) int {
	fs := newFlags("reconcile", "[BATCH... | --all]", cio)
	var f reconcileFlags
	f.conn.register(fs)
	f.register(fs)
	ids, ok := parseFlags(fs, args, cio)
	if !ok {
		return exitUsage
	}
	if (len(ids) == 0) == !f.all {
		return usageError(fs, cio.stderr, "name a batch (or a unique prefix; `lote status` lists them), or pass --all")
	}
	if f.format != "text" && f.format != "json" {
		return usageError(fs, cio.stderr, "--format %q: use text or json", f.format)
	}
	if f.refundDays < 0 || f.rate <= 0 || f.watchTimeout <= 0 || f.statementLag <= 0 {
		return usageError(fs, cio.stderr, "--refund-window must not be negative, --rate, --watch-timeout and --statement-lag must be positive")
	}
	if f.statement && f.offline {
		return usageError(fs, cio.stderr, "--statement reads the statement from Stone, --offline asks Stone nothing: pass one of them")
	}
	var since time.Time
	if f.since != "" {
		t, err := time.ParseInLocation("2006-01-02", f.since, time.Local)
		if err != nil {
			return usageError(fs, cio.stderr, "--since %q: use yyyy-mm-dd", f.since)
		}
		since = t
	}
	out := f.out
	if out == "" {
		out = "reconciliation-" + time.Now().Format("2006-01-02") + ".xlsx"
	}
	if ext := strings.ToLower(filepath.Ext(out)); ext != ".xlsx" && ext != ".csv" {
		return usageError(fs, cio.stderr, "--out %s: use a .xlsx or .csv name", out)
	}
	if err := f.conn.check(); err != nil {
		return usageError(fs, cio.stderr, "%v", err)
	}
	if err := f.notify.check(); err != nil {
		return usageError(fs, cio.stderr, "%v", err)
	}
	if f.conn.env == "sim" && !f.offline {
		// The sim emulator lives inside one lote process: the transfers a
		// finished `lote run` made are gone with it.
		fmt.Fprintln(cio.stderr, "lote: --env sim keeps its transfers only while `lote run` runs: reconcile against stonesim "+
			"(--env sandbox --api-url URL --auth-url URL …), or pass --offline to report what the ledger holds")
		return exitUsage
	}
	c, err := f.conn.connect()
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	defer c.Close()

	human := cio.stdout
	if f.format == "json" {
		human = cio.stderr
	}
	log := slog.New(slog.NewTextHandler(cio.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := reconcile.Options{
		Ledger: c.ledger, Client: c.client, AccountID: c.accountID, Env: f.conn.env,
		Batches: ids, All: f.all, Since: since,
		RefundWindow: time.Duration(f.refundDays) * 24 * time.Hour, Watch: f.watch, WatchTimeout: f.watchTimeout,
		Offline: f.offline, Rate: f.rate, Log: log, Statement: f.statement, StatementLag: f.statementLag,
	}
	if f.refundDays == 0 {
		opts.RefundWindow = time.Nanosecond // 0 days: FINISHED is final at once
	}
	rep, err := reconcile.Run(ctx, opts)
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	// The report is written even when interrupted: it says what is known.
	if err := reconcile.WriteReportIn(context.WithoutCancel(ctx), c.ledger, rep, out, cio.p); err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	code := reconcileExit(rep)
	notifier := f.notify.notifier(c.ledger, log, cio.getenv)
	if err := notifyReconcile(ctx, notifier, c.ledger, rep, f.conn.env, c.accountID); err != nil {
		log.Warn("notifications not recorded", "err", err)
	}
	defer notifier.Flush(ctx, notifyWait)
	if f.format == "json" {
		if w := writeJSON(cio, reconcileJSON(rep, out, code)); w != exitOK {
			return w
		}
	}
	printReconcile(human, cio.p, rep, out)
	return code
}

// reconcileDoc is `reconcile --format json`. Amounts are in cents; rows as
// Excel numbers them.
type reconcileDoc struct {
	Status      string               `json:"status"` // settled, pending, attention
	ExitCode    int                  `json:"exit_code"`
	Report      string               `json:"report"`
	At          time.Time            `json:"at"`
	Batches     []reconBatchJSON     `json:"batches"`
	Skipped     []string             `json:"skipped,omitempty"`
	Mismatches  []reconcile.Mismatch `json:"mismatches"`
	Polled      int                  `json:"polled"`
	Changed     int                  `json:"changed"`
	Unchecked   int                  `json:"unchecked"`
	Rounds      int                  `json:"rounds"`
	Interrupted bool                 `json:"interrupted"`
	TimedOut    bool                 `json:"timed_out"`
	// StatementError says why --statement could not read the statement.
	StatementError string `json:"statement_error,omitempty"`
}

type reconBatchJSON struct {
	Batch         string                                          `json:"batch"`
	File          string                                          `json:"file"`
	TotalCents    int64                                           `json:"total_cents"`
	PaidCents     int64                                           `json:"paid_cents"`
	FeeCents      int64                                           `json:"fee_cents"`
	ReturnedCents int64                                           `json:"returned_cents"`
	NeedsPerson   int                                             `json:"needs_person"`
	ByStatus      map[string]reconcile.CategoryTotals             `json:"by_status"`
	ByCategory    map[reconcile.Category]reconcile.CategoryTotals `json:"by_category"`
	ByRail        map[string]reconcile.RailTotals                 `json:"by_rail"`
	Checks        []reconcile.Invariant                           `json:"checks"`
	Statement     *reconcile.StatementTotals                      `json:"statement,omitempty"`
}

func reconcileJSON(rep reconcile.Report, out string, code int) reconcileDoc {
	doc := reconcileDoc{Status: rep.Status().String(), ExitCode: code, Report: out, At: rep.At,
		Batches: []reconBatchJSON{}, Mismatches: rep.Mismatches(), Polled: rep.Polled, Changed: rep.Changed,
		Unchecked: rep.Unchecked, Rounds: rep.Rounds, Interrupted: rep.Interrupted, TimedOut: rep.TimedOut,
		StatementError: rep.StatementErr}
	if doc.Mismatches == nil {
		doc.Mismatches = []reconcile.Mismatch{}
	}
	for _, b := range rep.Batches {
		doc.Batches = append(doc.Batches, reconBatchJSON{Batch: b.Batch.ID, File: b.Batch.FileName, TotalCents: b.Batch.TotalCents,
			PaidCents: b.PaidCents, FeeCents: b.FeeCents, ReturnedCents: b.ReturnedCents, NeedsPerson: b.NeedsPerson,
			ByStatus: b.ByStatus, ByCategory: b.ByCategory, Checks: b.Checks, Statement: statementJSON(b), ByRail: b.ByRail})
	}
	for _, b := range rep.Skipped {
		doc.Skipped = append(doc.Skipped, b.ID)
	}
	return doc
}

// printReconcile writes what a person reads: mismatches first.
func printReconcile(w io.Writer, tr *i18n.Printer, rep reconcile.Report, out string) {
	for _, m := range rep.Mismatches() {
		fmt.Fprintln(w, tr.T("MISMATCH batch %s row %s, transfer %s: %s", ledger.ShortID(m.Batch), strconv.Itoa(m.Row), m.TransferID, m.Detail))
	}
	for _, b := range rep.Batches {
		for _, c := range b.Checks {
			if !c.OK {
				fmt.Fprintln(w, tr.T("CHECK FAILED batch %s %s: %s", ledger.ShortID(b.Batch.ID), tr.Lookup(c.Name), c.Detail))
			}
		}
	}
	for _, b := range rep.Batches {
		fmt.Fprintln(w, tr.T(plural(b.NeedsPerson, i18n.Mark("batch %s (%s): paid %s, fees %s, returned %s; %d row needs a person"),
			i18n.Mark("batch %s (%s): paid %s, fees %s, returned %s; %d rows need a person")), ledger.ShortID(b.Batch.ID),
			b.Batch.FileName, validate.FormatBRL(b.PaidCents), validate.FormatBRL(b.FeeCents), validate.FormatBRL(b.ReturnedCents), b.NeedsPerson))
		for _, cat := range []reconcile.Category{reconcile.CategoryPaid, reconcile.CategoryInFlight, reconcile.CategoryReturned, reconcile.CategoryFailed,
			reconcile.CategoryUnsent, reconcile.CategoryNotSent, reconcile.CategoryReview} {
			if t, ok := b.ByCategory[cat]; ok {
				fmt.Fprintf(w, "  %-10s %6s  %18s\n", tr.Lookup(string(cat)), tr.Int(t.Rows), validate.FormatBRL(t.AmountCents))
			}
		}
		if len(b.ByRail) > 1 || b.ByRail[ledger.RailTED].Rows == 0 {
			for _, rail := range []string{ledger.RailTED, ledger.RailInternal, ledger.RailPix} {
				if t, ok := b.ByRail[rail]; ok {
					fmt.Fprintln(w, tr.T("  %-18s %6d  %18s  paid %s, returned %s", tr.Lookup(railName(rail)), t.Rows, validate.FormatBRL(t.AmountCents),
						validate.FormatBRL(t.PaidCents), validate.FormatBRL(t.ReturnedCents)))
				}
			}
		}
		if st := b.Statement; st.Checked {
			fmt.Fprintf(w, "  statement: %d ok, %d not yet in it, %d differ\n", st.OK, st.NotYet, st.Differ)
		}
	}
	if rep.StatementErr != "" {
		fmt.Fprintf(w, "statement not checked: %s\n", rep.StatementErr)
	}
	for _, b := range rep.Skipped {
		fmt.Fprintln(w, tr.T("skipped batch %s: another account or environment (%s)", ledger.ShortID(b.ID), b.Environment))
	}
	switch {
	case rep.Interrupted:
		fmt.Fprintln(w, tr.T("interrupted: the report shows what was recorded so far"))
	case rep.TimedOut:
		fmt.Fprintln(w, tr.T("--watch-timeout passed with transfers still in flight"))
	}
	fmt.Fprintln(w, tr.T("%s: %d transfers read, %d status changes, %d not read; report %s",
		tr.Lookup(rep.Status().String()), rep.Polled, rep.Changed, rep.Unchecked, out))
}

// statementJSON is a batch's statement counts, when the statement was read.
func statementJSON(b reconcile.BatchReport) *reconcile.StatementTotals {
	if !b.Statement.Checked {
		return nil
	}
	st := b.Statement
	return &st
}
