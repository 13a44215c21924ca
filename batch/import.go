package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"lote/check"
	"lote/ledger"
	"lote/stone"
	"lote/validate"
)

// Codes of the row problems the run adds to validation's (validate.Rule codes).
const (
	// CodeReferenceRepeated: a reference used by an earlier row of the same
	// file; the later row is invalid (both would share one idempotency key).
	CodeReferenceRepeated = "reference_repeated"
	// CodeReferenceReused: a reference already used in another batch.
	CodeReferenceReused = "reference_reused"
	// CodeScheduledAfterLimit: scheduled_to is after Stone's
	// execution_limit_date (stone-api.md §4: Stone answers 422).
	CodeScheduledAfterLimit = "scheduled_after_limit"
	// CodeScheduledNonBusinessDay is a warning: Stone moves the transfer
	// to the next business day.
	CodeScheduledNonBusinessDay = "scheduled_non_business_day"
	// CodeSuspectedRepeat: a held row, equal to a payout of another batch.
	CodeSuspectedRepeat = "suspected_repeat"
	// CodeClaimed: a held row whose payout (the same fingerprint) another
	// batch's row has sent, is sending or is about to send.
	CodeClaimed = "payout_claimed"
	// CodeSuperseded: a held row of a batch whose file was replaced by
	// other bytes that were run as another batch.
	CodeSuperseded = "superseded"
	// CodeChangedAmount: a payee and account paid or being paid in another
	// recent batch, with another amount. A warning on a pending row; a
	// hold when the other batch is the one this file replaced.
	CodeChangedAmount = "changed_amount"
)

// Issues returns the problems recorded for a row: the decoded list of an
// invalid row, or one Issue from ErrorCode and ErrorMessage (held,
// rejected, needs_review), or none.
func Issues(r ledger.Row) []check.Issue {
	is := check.DecodeIssues(r.ErrorCode, r.ErrorMessage)
	if len(is) == 1 && is[0].Message == r.ErrorMessage { // not a decoded list
		is[0].Warning = r.ErrorCode == CodeChangedAmount && r.State != ledger.Held
	}
	return is
}

// fileID hashes the file: the batch id is the hex SHA-256 of its bytes.
// It also says whether the file is a zip (an XLSX workbook).
func fileID(path string) (id string, size int64, format string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, "", fmt.Errorf("hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	var magic [2]byte
	n, _ := io.ReadFull(f, magic[:])
	h.Write(magic[:n])
	m, err := io.Copy(h, f)
	if err != nil {
		return "", 0, "", fmt.Errorf("hash %s: %w", path, err)
	}
	format = "CSV"
	if n == 2 && magic == [2]byte{'P', 'K'} {
		format = "XLSX"
	}
	return hex.EncodeToString(h.Sum(nil)), int64(n) + m, format, nil
}

// calendar is Stone's scheduling calendar, read once per run.
type calendar struct {
	limit       string          // execution_limit_date, yyyy-mm-dd
	nonBusiness map[string]bool // yyyy-mm-dd
	why         map[string]string
}

func newCalendar(c *stone.Calendar) *calendar {
	cal := &calendar{limit: c.ExecutionLimitDate, nonBusiness: map[string]bool{}, why: map[string]string{}}
	for _, d := range c.NonBusinessDays {
		cal.nonBusiness[d.Date] = true
		switch {
		case d.HolidayDescription != nil && *d.HolidayDescription != "":
			cal.why[d.Date] = "a holiday (" + *d.HolidayDescription + ")"
		case d.IsWeekend:
			cal.why[d.Date] = "a weekend day"
		default:
			cal.why[d.Date] = "not a business day"
		}
	}
	return cal
}

// effective returns the first business day on or after date (yyyy-mm-dd).
func (c *calendar) effective(date string) string {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return date
	}
	for i := 0; i < 30 && c.nonBusiness[t.Format(time.DateOnly)]; i++ {
		t = t.AddDate(0, 0, 1)
	}
	return t.Format(time.DateOnly)
}

func brDate(date string) string {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return date
	}
	return t.Format("02/01/2006")
}

// importStats are what the import saw beyond the ledger's counters.
type importStats struct {
	scheduled   int
	changed     int // rows given a changed-amount warning
	format      string
	notes       []string // Summary.Notes: the table, columns not read, totals rows
	lookRepeats bool     // another batch may hold a repeat
	// seen counts the rows of each payout so far, when identical rows are
	// allowed (otherwise every valid payout is the first of its kind).
	seen occurrences
}

// importFile reads, validates and records every row of the sheet in one
// streamed pass. The batch is created (and leased) when the header is known,
// at the first row. Nothing is sent.
func (r *runner) importFile(ctx context.Context, path string, b ledger.Batch, cal *calendar) (importStats, error) {
	return r.importOnce(ctx, path, b, cal, true)
}

// importOnce is importFile. When mayForget is set and rows were refused
// because their keys belong to batches from which nothing was ever sent
// (a sheet stopped for invalid rows, then corrected), those batches are
// forgotten and the import starts over, once: Stone never saw their keys.
func (r *runner) importOnce(ctx context.Context, path string, b ledger.Batch, cal *calendar, mayForget bool) (importStats, error) {
	var (
		im    *ledger.Import
		w     *ledgerWriter
		st    importStats
		since = r.now().Add(-r.opts.RepeatWindow)
		bg    = context.WithoutCancel(ctx) // ledger writes are never cut in half by ctx

		mu     sync.Mutex
		owners = map[string]bool{} // other batches owning keys of this sheet's rows
	)
	// Repeats can only be found in other batches created within the
	// window: with none (a first run, or a quiet month), the per-row
	// lookup is skipped, which is most of an import's time.
	batches, err := r.l.Batches(ctx)
	if err != nil {
		return st, err
	}
	if r.opts.Check.Validate.AllowDuplicates {
		st.seen = occurrences{}
	}
	for _, o := range batches {
		if o.ID != b.ID && o.Created.After(since) {
			st.lookRepeats = true
		}
	}
	begin := func(m *check.Mapping) error {
		if m != nil {
			b.Header = m.Header
		}
		var err error
		if im, err = r.l.BeginImport(bg, b, r.opts.Holder, r.opts.LeaseTTL); err != nil {
			return err
		}
		// The UNIQUE index finds a reused key as the row is written, with
		// no lookup per row; the row is then recorded invalid, naming the
		// row that owns the key. m is the same for every row of the file.
		return im.OnKeyConflict(func(row ledger.Row, kc *ledger.KeyConflictError) (ledger.Row, error) {
			if kc.OtherBatch != b.ID {
				mu.Lock()
				owners[kc.OtherBatch] = true
				mu.Unlock()
			}
			return reused(row, m, kc, b.ID), nil
		})
	}
	sum, m, err := check.Check(ctx, path, r.opts.Check, func(c check.Checked) error {
		if im == nil {
			if err := begin(c.Mapping); err != nil {
				return err
			}
			w = startWriter(im)
		}
		row, err := r.importRow(ctx, b.ID, c, cal, since, &st)
		if err != nil {
			return err
		}
		// Encoded here, so that the ledger's goroutine only writes.
		p, err := im.Prepare(row)
		if err != nil {
			return err
		}
		return w.add(p)
	})
	if w != nil {
		if err == nil {
			err = w.finish()
		} else {
			w.abort()
		}
	}
	if err == nil && im == nil {
		// A sheet with a header and no rows is still a batch.
		err = begin(&m)
	}
	if err != nil {
		if im != nil {
			im.Close()
		}
		return st, err
	}
	st.format, st.notes = sum.Format, sum.Notes
	im.SetNotes(sum.Notes)
	if err := im.Commit(); err != nil {
		return st, err
	}
	// Keys are checked as rows are written, the last ones at Commit: only
	// now are all the batches owning this sheet's keys known.
	mu.Lock()
	var stale []string
	for other := range owners {
		if ok, err := r.l.NeverSent(ctx, other); err == nil && ok {
			stale = append(stale, other)
		}
	}
	mu.Unlock()
	if !mayForget || len(stale) == 0 {
		return st, nil
	}
	// This import is dropped too (it was never sent either), then the
	// stale batches, and the sheet is imported again with their keys free.
	if err := r.l.ReleaseLease(bg, b.ID, r.opts.Holder); err != nil {
		return st, err
	}
	if ok, err := r.l.ForgetReimport(bg, b.ID); err != nil || !ok {
		return st, err // someone else took the batch: its rows stay as recorded
	}
	for _, other := range stale {
		ok, err := r.l.ForgetNeverSent(bg, other)
		if err != nil {
			return st, err
		}
		if ok {
			r.log.Info("forgot a batch never sent, whose references this sheet reuses", "batch", ledger.ShortID(other))
		}
	}
	return r.importOnce(ctx, path, b, cal, false)
}

// writeChunk is how many rows travel to the ledger's goroutine together,
// and writerChunks how many may wait for it: enough that handing rows over
// costs nothing per row, few enough to keep memory small.
const (
	writeChunk   = 256
	writerChunks = 4
)

// ledgerWriter adds prepared rows to an import on a goroutine of its own.
// Writing to SQLite is most of an import's time; on its own goroutine it
// overlaps reading, validating and encoding the sheet (Check's goroutines
// and the caller's) instead of stopping them while each group of rows is
// inserted. Rows are added in the order given.
type ledgerWriter struct {
	im      *ledger.Import
	rows    chan []ledger.PreparedRow // to the goroutine; closed by finish or abort
	free    chan []ledger.PreparedRow // chunks written, for reuse
	stopped chan struct{}             // closed when the goroutine has returned
	err     error                     // why it stopped early; read after stopped
	buf     []ledger.PreparedRow      // the chunk being filled
}

// startWriter starts the goroutine. The import is its own until finish or
// abort returns.
func startWriter(im *ledger.Import) *ledgerWriter {
	w := &ledgerWriter{
		im:      im,
		rows:    make(chan []ledger.PreparedRow, writerChunks),
		free:    make(chan []ledger.PreparedRow, writerChunks+2),
		stopped: make(chan struct{}),
	}
	go w.run()
	return w
}

func (w *ledgerWriter) run() {
	defer close(w.stopped)
	for rows := range w.rows {
		for _, row := range rows {
			if err := w.im.AddPrepared(row); err != nil {
				w.err = err
				return
			}
		}
		clear(rows) // keep no row's strings alive
		select {
		case w.free <- rows[:0]:
		default:
		}
	}
}

// add queues row. An error means the goroutine stopped on an earlier row:
// the import must be abandoned.
func (w *ledgerWriter) add(row ledger.PreparedRow) error {
	if w.buf == nil {
		select {
		case w.buf = <-w.free:
		default:
			w.buf = make([]ledger.PreparedRow, 0, writeChunk)
		}
	}
	w.buf = append(w.buf, row)
	if len(w.buf) < writeChunk {
		return nil
	}
	return w.send()
}

func (w *ledgerWriter) send() error {
	if len(w.buf) == 0 {
		return nil
	}
	select {
	case w.rows <- w.buf:
		w.buf = nil
		return nil
	case <-w.stopped:
		return w.err // set: the goroutine stops early only on an error
	}
}

// finish hands over the last rows and waits until every row was added:
// the import is then the caller's again, to commit.
func (w *ledgerWriter) finish() error {
	err := w.send()
	close(w.rows)
	<-w.stopped
	if err != nil {
		return err
	}
	return w.err
}

// abort stops the goroutine after the chunks already handed over (a few
// hundred rows at most) and waits for it: the import is then the caller's
// again, to close.
func (w *ledgerWriter) abort() {
	close(w.rows)
	<-w.stopped
}

// importRow turns one checked row into a ledger row: invalid with its
// problems, held as a suspected repeat, or pending with its key.
func (r *runner) importRow(ctx context.Context, batchID string, c check.Checked, cal *calendar, since time.Time, st *importStats) (ledger.Row, error) {
	// The ledger keeps the cells as written, without the empty ones that
	// pad the row to the header's width: a sheet whose header is wide and
	// whose rows are short must not fill the ledger with empty cells.
	row := ledger.Row{Row: c.Row, Cells: check.TrimCells(c.Cells), Reference: c.Reference}
	errs, warns := c.Errors, c.Warnings
	if c.Valid() && c.Payout.ScheduledTo != "" && cal != nil {
		col := "scheduled_to"
		value := c.Payout.ScheduledTo
		if c.Mapping != nil && c.Mapping.Has(check.FieldScheduledTo) {
			i := c.Mapping.Column(check.FieldScheduledTo)
			col = c.Mapping.ColumnName(i)
			if i < len(c.Cells) {
				value = c.Cells[i]
			}
		}
		d := c.Payout.ScheduledTo
		switch {
		case cal.limit != "" && d > cal.limit:
			errs = append(errs, validate.FieldError{Row: c.Row, Column: col, Value: value, Code: CodeScheduledAfterLimit,
				Err: fmt.Errorf("Stone schedules TEDs until %s (its calendar's execution limit); this date is later.", brDate(cal.limit))})
		case cal.nonBusiness[d]:
			eff := cal.effective(d)
			warns = append(warns, validate.FieldError{Row: c.Row, Column: col, Value: value, Code: CodeScheduledNonBusinessDay,
				Err: fmt.Errorf("%s is %s; Stone will execute the transfer on %s.", brDate(d), cal.why[d], brDate(eff))})
		}
	}
	if len(errs) > 0 || c.Payout == nil {
		row.State = ledger.Invalid
		is := check.IssuesOf(errs, warns)
		row.ErrorCode = "invalid"
		if len(is) > 0 && !is[0].Warning {
			row.ErrorCode = is[0].Code
		}
		row.ErrorMessage = check.EncodeIssues(is)
		return row, nil
	}
	if len(warns) > 0 && r.opts.Warnings != nil {
		is := make([]check.Issue, len(warns))
		for i, w := range warns {
			is[i] = check.IssueOf(w, true)
		}
		r.opts.Warnings(c.Row, is)
	}
	p := c.Payout
	payout, err := encodePayout(p)
	if err != nil {
		return row, fmt.Errorf("row %d: encode payout: %w", c.Row, err)
	}
	row.Payout = payout
	row.AmountCents = p.Amount
	row.Document = p.Target.Entity.Document
	row.ISPB = p.Target.Account.InstitutionCode
	row.Branch = p.Target.Account.BranchCode
	row.Account = p.Target.Account.AccountCode
	row.Rail = validate.RailOf(p)
	if st.seen != nil {
		row.Fingerprint = st.seen.next(r.opts.Env, r.opts.AccountID, p)
	} else {
		row.Fingerprint = Fingerprint(r.opts.Env, r.opts.AccountID, p, 1)
	}
	row.IdempotencyKey = ProvisionalKey(batchID, c.Row)
	if c.Reference != "" {
		row.IdempotencyKey = IdempotencyKey(r.opts.AccountID, c.Reference, row.Fingerprint, "")
	}
	row.State = ledger.Pending
	if p.ScheduledTo != "" {
		st.scheduled++
	}
	if !st.lookRepeats {
		return row, nil
	}
	// A payout that may already have paid this payee in a recent batch is
	// held: uploading last month's sheet again must not pay it again.
	other, otherRow, found, err := r.l.FindRepeat(ctx, ledger.RepeatKey{Env: r.opts.Env, AccountID: r.opts.AccountID,
		Document: row.Document, ISPB: row.ISPB, Branch: row.Branch, Account: row.Account, Amount: row.AmountCents}, batchID, since)
	if err != nil {
		return row, err
	}
	if found {
		row.State = ledger.Held
		row.ErrorCode = CodeSuspectedRepeat
		row.ErrorMessage = fmt.Sprintf("The same payee, account and amount (%s) is in batch %s row %d, sent in the last %s from this account (%s); it is not paid again unless repeats are allowed (--allow-repeat, or Release on the page).",
			validate.FormatBRL(row.AmountCents), ledger.ShortID(other), otherRow, days(r.opts.RepeatWindow), r.opts.Env)
		return row, nil
	}
	// The same payee and account paid another amount recently: perhaps
	// the sheet was corrected after a first run. Said, not guessed.
	pay, found, err := r.l.FindPayment(ctx, ledger.PaymentQuery{Env: r.opts.Env, AccountID: r.opts.AccountID,
		Document: row.Document, ISPB: row.ISPB, Branch: row.Branch, Account: row.Account,
		NotAmount: row.AmountCents, NotBatch: batchID, Since: since})
	if err != nil {
		return row, err
	}
	if found {
		row.ErrorCode = CodeChangedAmount
		row.ErrorMessage = changedAmountMessage(row.AmountCents, pay)
		st.changed++
	}
	return row, nil
}

// changedAmountMessage says that the payee of a row of cents was paid (or
// is being paid) another amount by pay.
func changedAmountMessage(cents int64, pay ledger.Payment) string {
	what := "was paid"
	switch pay.State {
	case ledger.Attempted:
		what = "is being paid"
	case ledger.NeedsReview:
		what = "may have been paid"
	}
	return fmt.Sprintf("Warning: this payee and account %s %s by batch %s row %d (%s); this row pays %s. Check that both payments are meant.",
		what, validate.FormatBRL(pay.AmountCents), ledger.ShortID(pay.Batch), pay.Row, pay.Created.In(brasilia).Format("02/01/2006 15:04"), validate.FormatBRL(cents))
}

// reused turns a row whose key belongs to another row into an invalid row
// that names the other row. m is the sheet's column mapping.
func reused(row ledger.Row, m *check.Mapping, kc *ledger.KeyConflictError, batchID string) ledger.Row {
	col, value := "reference", row.Reference
	if m != nil && m.Has(check.FieldReference) {
		i := m.Column(check.FieldReference)
		col = m.ColumnName(i)
		if i < len(row.Cells) {
			value = row.Cells[i]
		}
	}
	is := check.Issue{Column: col, Value: value}
	if kc.OtherBatch == batchID {
		is.Code = CodeReferenceRepeated
		is.Message = fmt.Sprintf("Reference %s is also on row %d; each payout needs its own reference.", row.Reference, kc.OtherRow)
	} else {
		is.Code = CodeReferenceReused
		is.Message = fmt.Sprintf("Reference %s is already used by batch %s row %d; to pay it again, give it a new reference.",
			row.Reference, ledger.ShortID(kc.OtherBatch), kc.OtherRow)
	}
	return ledger.Row{Row: row.Row, Cells: row.Cells, Reference: row.Reference, State: ledger.Invalid,
		ErrorCode: is.Code, ErrorMessage: check.EncodeIssues([]check.Issue{is})}
}

func days(d time.Duration) string {
	n := int(d / (24 * time.Hour))
	if n == 1 {
		return "1 day"
	}
	if n > 1 {
		return strconv.Itoa(n) + " days"
	}
	return d.String()
}

// batchMeta is the batch as BeginImport wants it.
func batchMeta(id, path string, size int64, format string, opts RunOptions) ledger.Batch {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = ""
	}
	io := ledger.ImportOptions{Decimal: opts.Check.Validate.Decimal.String(), Sheet: opts.Check.Sheet, HeaderRow: opts.Check.HeaderRow}
	return ledger.Batch{ID: id, FileName: filepath.Base(path), FileSize: size, Format: format,
		AccountID: opts.AccountID, Environment: opts.Env, ImportOptions: io, SourcePath: abs}
}
