package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"lote/batch"
	"lote/internal/i18n"
	"lote/ledger"
	"lote/reconcile"
	"lote/validate"
)

func runStatus(ctx context.Context, args []string, cio cmdIO) int {
	fs := newFlags("status", "[BATCH]", cio)
	var conn connFlags
	conn.registerLedger(fs)
	format := fs.String("format", "text", "output: text, or json (one document)")
	withRows := fs.Bool("rows", false, "with a batch: list every row (state, transfer id, key, error)")
	ids, ok := parseFlags(fs, args, cio)
	if !ok {
		return exitUsage
	}
	if len(ids) > 1 {
		return usageError(fs, cio.stderr, "status takes at most one batch id, got %d", len(ids))
	}
	if *format != "text" && *format != "json" {
		return usageError(fs, cio.stderr, "--format %q: use text or json", *format)
	}
	if err := conn.checkEnv(); err != nil {
		return usageError(fs, cio.stderr, "%v", err)
	}
	path := conn.ledgerPath()
	// Opening creates a missing ledger: a typo in --ledger must not leave
	// an empty one behind and report "no batches". A missing ledger whose
	// marker says it existed is for Open to explain.
	if _, err := os.Stat(path); err != nil && !conn.newLedger {
		if _, merr := os.Stat(ledger.MarkerPath(path)); merr != nil {
			fmt.Fprintf(cio.stderr, "lote: no ledger at %s (`lote run` creates it; --ledger or --env chooses another)\n", path)
			return exitUsage
		}
	}
	l, err := conn.openLedger()
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	defer l.Close()

	if len(ids) == 0 {
		return listBatches(ctx, l, *format, cio)
	}
	b, err := l.FindBatch(ctx, ids[0])
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	st, err := newBatchStatus(ctx, l, b)
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	if *withRows {
		st.RowList = []rowStatus{}
		for r, err := range l.Rows(ctx, b.ID) {
			if err != nil {
				fmt.Fprintf(cio.stderr, "lote: %v\n", err)
				return exitUsage
			}
			st.RowList = append(st.RowList, rowStatus{Row: r.Row, State: string(r.State), AmountCents: r.AmountCents,
				TransferID: r.TransferID, APIStatus: r.APIStatus, IdempotencyKey: r.IdempotencyKey, Error: batch.RowError(r)})
		}
	}
	if *format == "json" {
		return writeJSON(cio, st)
	}
	printBatchStatus(cio.stdout, cio.p, st, b)
	return exitOK
}

// batchStatus is one batch as `status --format json` shows it. Amounts are
// in cents.
type batchStatus struct {
	Batch      string                `json:"batch"`
	File       string                `json:"file"`
	Env        string                `json:"env"`
	Account    string                `json:"account"`
	State      string                `json:"state"`
	Created    time.Time             `json:"created"`
	Updated    time.Time             `json:"updated"`
	Rows       int                   `json:"rows"`
	Valid      int                   `json:"valid"`
	Invalid    int                   `json:"invalid"`
	TotalCents int64                 `json:"total_cents"`
	States     map[string]stateTotal `json:"states"`
	// Transfers counts the accepted rows by the status Stone last reported
	// (at creation, by `lote reconcile` or by a webhook).
	Transfers    map[string]transferTotal `json:"transfers"`
	LeaseHolder  string                   `json:"lease_holder,omitempty"`
	LeaseExpires *time.Time               `json:"lease_expires,omitempty"`
	Results      string                   `json:"results"`
	RowList      []rowStatus              `json:"row_list,omitempty"`

	sum map[ledger.State]ledger.Totals
}

// transferTotal is the accepted rows with one transfer status, and what
// that status means for the money (paid, returned, failed, in_flight).
type transferTotal struct {
	Rows        int    `json:"rows"`
	AmountCents int64  `json:"amount_cents"`
	FeeCents    int64  `json:"fee_cents"`
	Meaning     string `json:"meaning"`
}

// rowStatus is one row in `status BATCH --rows`.
type rowStatus struct {
	Row            int    `json:"row"` // as Excel numbers it
	State          string `json:"state"`
	AmountCents    int64  `json:"amount_cents"`
	TransferID     string `json:"transfer_id,omitempty"`
	APIStatus      string `json:"api_status,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	Error          string `json:"error,omitempty"`
}

func newBatchStatus(ctx context.Context, l *ledger.Ledger, b ledger.Batch) (batchStatus, error) {
	sum, err := l.Summary(ctx, b.ID)
	if err != nil {
		return batchStatus{}, err
	}
	tsum, err := l.TransferSummary(ctx, b.ID)
	if err != nil {
		return batchStatus{}, err
	}
	st := batchStatus{Batch: b.ID, File: b.FileName, Env: b.Environment, Account: b.AccountID, State: string(b.State),
		Created: b.Created, Updated: b.Updated, Rows: b.Rows, Valid: b.Valid, Invalid: b.Invalid, TotalCents: b.TotalCents,
		States: statesJSON(sum), Transfers: map[string]transferTotal{}, Results: b.ResultsPath, sum: sum}
	for status, t := range tsum {
		st.Transfers[status] = transferTotal{Rows: t.Rows, AmountCents: t.Cents, FeeCents: t.Fees,
			Meaning: string(reconcile.TransferCategory(status))}
	}
	// A lease past its expiry belongs to a runner that stopped without
	// releasing it: nobody is running the batch.
	if b.LeaseHolder != "" && b.LeaseExpires.After(time.Now()) {
		st.LeaseHolder = b.LeaseHolder
		exp := b.LeaseExpires
		st.LeaseExpires = &exp
	}
	return st, nil
}

func listBatches(ctx context.Context, l *ledger.Ledger, format string, cio cmdIO) int {
	bs, err := l.Batches(ctx)
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	list := make([]batchStatus, 0, len(bs))
	for _, b := range bs {
		st, err := newBatchStatus(ctx, l, b)
		if err != nil {
			fmt.Fprintf(cio.stderr, "lote: %v\n", err)
			return exitUsage
		}
		list = append(list, st)
	}
	if format == "json" {
		return writeJSON(cio, struct {
			Batches []batchStatus `json:"batches"`
		}{list})
	}
	if len(list) == 0 {
		fmt.Fprintln(cio.stdout, cio.p.T("no batches yet: `lote run FILE` starts one"))
		return exitOK
	}
	tw := tabwriter.NewWriter(cio.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, cio.p.T("BATCH\tFILE\tCREATED\tSTATE\tROWS\tACCEPTED\tPAID\tRETURNED\tINVALID\tTOTAL"))
	for _, st := range list {
		state := cio.p.Lookup(st.State)
		switch {
		case st.State == string(ledger.BatchRunning) && st.LeaseHolder == "":
			// Its runner stopped (killed, or the machine restarted)
			// without finishing: `lote resume` goes on with it.
			state = cio.p.T("interrupted")
		case st.State != string(ledger.BatchRunning) && st.LeaseHolder != "":
			state += cio.p.T(" (running)")
		}
		created := st.Created.Local().Format("2006-01-02 15:04")
		if cio.p.Tag() == i18n.Portuguese {
			created = cio.p.DateTime(st.Created)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", ledger.ShortID(st.Batch), st.File,
			created, state, st.Rows, st.sum[ledger.Accepted].Rows,
			st.meaningRows(reconcile.CategoryPaid), st.meaningRows(reconcile.CategoryReturned), st.Invalid, validate.FormatBRL(st.TotalCents))
	}
	tw.Flush()
	return exitOK
}

func printBatchStatus(w io.Writer, tr *i18n.Printer, st batchStatus, b ledger.Batch) {
	moment, clock := func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }, "15:04:05"
	if tr.Tag() == i18n.Portuguese {
		moment = func(t time.Time) string { return t.In(i18n.Location()).Format("02/01/2006 15:04:05") }
	}
	fmt.Fprintln(w, tr.T("batch    %s", st.Batch))
	fmt.Fprintln(w, tr.T("file     %s (%s, %d bytes)", st.File, b.Format, b.FileSize))
	fmt.Fprintln(w, tr.T("target   %s, account %s", st.Env, st.Account))
	fmt.Fprintln(w, tr.T("state    %s (created %s, updated %s)", tr.Lookup(st.State), moment(st.Created), moment(st.Updated)))
	if st.LeaseHolder != "" {
		until := st.LeaseExpires.Local()
		if tr.Tag() == i18n.Portuguese {
			until = st.LeaseExpires.In(i18n.Location())
		}
		fmt.Fprintln(w, tr.T("running  by %s (lease until %s)", st.LeaseHolder, until.Format(clock)))
	}
	if st.Results != "" {
		fmt.Fprintln(w, tr.T("results  %s", st.Results))
	}
	fmt.Fprintln(w, tr.T("rows     %d: %d valid (%s), %d invalid", st.Rows, st.Valid, validate.FormatBRL(st.TotalCents), st.Invalid))
	printStates(w, tr, st.sum)
	if len(st.Transfers) > 0 {
		fmt.Fprintln(w, tr.T("transfers, as Stone last reported them (`lote reconcile` asks again)"))
		for _, s := range slices.Sorted(maps.Keys(st.Transfers)) {
			t := st.Transfers[s]
			name := s
			if name == "" {
				name = tr.T("(unknown)")
			}
			fmt.Fprintf(w, "  %-28s %6s  %18s  %s\n", name, tr.Int(t.Rows), validate.FormatBRL(t.AmountCents), tr.Lookup(meaningText(t.Meaning)))
		}
	}
	for _, r := range st.RowList {
		fmt.Fprintln(w, tr.T("  row %s: %s %s %s", strconv.Itoa(r.Row), tr.Lookup(r.State), r.TransferID, r.Error))
	}
}

// meaningRows counts the accepted rows whose transfer status means m.
func (st batchStatus) meaningRows(m reconcile.Category) int {
	n := 0
	for _, t := range st.Transfers {
		if t.Meaning == string(m) {
			n += t.Rows
		}
	}
	return n
}

// meaningText says in words what a transfer category means for the payee.
func meaningText(m string) string {
	switch reconcile.Category(m) {
	case reconcile.CategoryPaid:
		return i18n.Mark("paid")
	case reconcile.CategoryReturned:
		return i18n.Mark("returned by the payee's bank: not paid")
	case reconcile.CategoryFailed:
		return i18n.Mark("failed: no money left")
	case reconcile.CategoryInFlight:
		return i18n.Mark("on its way")
	}
	return i18n.Mark("unknown status: a person must check")
}

func writeJSON(cio cmdIO, v any) int {
	enc := json.NewEncoder(cio.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	return exitOK
}
