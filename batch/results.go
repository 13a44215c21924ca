package batch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"lote/check"
	"lote/internal/i18n"
	"lote/ledger"
	"lote/sheet"
)

// ResultColumns are the columns a results sheet adds after the input's own
// columns, in order. fee is money (cents in the ledger, R$ in the sheet).
var ResultColumns = []string{
	"lote_status", "transfer_id", "api_status", "fee", "error",
	"idempotency_key", "scheduled_to_effective", "processed_at",
	"rail", "end_to_end_id", "payee_at_bank",
}

// resultColumnsPT are ResultColumns as a Portuguese results sheet names
// them (ResultsOptions.Lang).
var resultColumnsPT = []string{
	"situação_lote", "id_transferência", "status_api", "tarifa", "erro",
	"chave_idempotência", "data_efetiva", "processado_em",
	"meio", "id_fim_a_fim", "favorecido_no_banco",
}

// ResultsPath is where the results of the sheet at input go by default:
// beside it, same format, NAME.results.EXT ("folha.csv" →
// "folha.results.csv"). An input that is neither CSV nor XLSX gets CSV.
func ResultsPath(input string) string {
	ext := filepath.Ext(input)
	base := strings.TrimSuffix(input, ext)
	switch strings.ToLower(ext) {
	case ".csv", ".xlsx":
		return base + ".results" + ext
	}
	return input + ".results.csv"
}

// ResultsPathOf is where the results of batch id go when the default
// path is another batch's: NAME.results.ID.EXT, with the batch's short id
// ("folha.results.csv" → "folha.results.3fa1c2d4e5f6.csv").
func ResultsPathOf(path, id string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + ledger.ShortID(id) + ext
}

// ErrResultsTaken is returned (wrapped) by WriteResults when the path holds
// another batch's results: one batch's results never overwrite another's.
var ErrResultsTaken = errors.New("the results of another batch are there")

// ResultsOwner returns the batch other than batchID whose results were
// last written to path, or "" when none was.
func ResultsOwner(ctx context.Context, l *ledger.Ledger, batchID, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	all, err := l.Batches(ctx)
	if err != nil {
		return "", err
	}
	for _, b := range all {
		if b.ID == batchID || b.ResultsPath == "" {
			continue
		}
		if other, err := filepath.Abs(b.ResultsPath); err == nil && other == abs {
			return b.ID, nil
		}
	}
	return "", nil
}

// reportStates is the order the Summary sheet and reports list states in:
// the way a row travels, then the outcomes.
var reportStates = []ledger.State{
	ledger.Accepted, ledger.Rejected, ledger.NeedsReview, ledger.Invalid,
	ledger.Held, ledger.Pending, ledger.Attempted,
}

// WriteResults writes the results sheet of a batch to path: every input
// row, in input order, with its original cells (under the batch's header),
// then ResultColumns. The format follows path's extension (.csv or .xlsx).
// CSV is UTF-8 with a BOM and uses the input's separator (';' when the
// input was not CSV). Rows are streamed from the ledger a page at a time,
// so memory stays bounded whatever the batch's size. Nothing exists at path
// until the whole sheet is written; then the path is recorded on the batch.
func WriteResults(ctx context.Context, l *ledger.Ledger, batchID, path string) error {
	return WriteResultsWith(ctx, l, batchID, path, ResultsOptions{})
}

// ResultsOptions adjust WriteResultsWith. The zero value is WriteResults.
type ResultsOptions struct {
	// Separator is the CSV separator to write; 0 means the one the import
	// recorded on the batch (ImportOptions.Separator), else ';'. The
	// caller that still has the input file can pass its separator.
	Separator rune
	// Copy writes a copy, a download: the batch's results path, where
	// `lote run` and `lote resume` write its results next, is left as it
	// is, and nothing is written to the ledger.
	Copy bool
	// Input is the sheet the batch was imported from, when the caller still
	// has it, read with Check as the import read it: XLSX results then keep
	// each input cell's type and number format (numbers stay numbers in
	// their format, dates stay dates). Without it, or when the file no
	// longer holds the rows the ledger does, the input's cells are text.
	Input string
	Check check.CheckOptions
	// Lang is the language of the words lote writes: its column names,
	// the states, the errors, the Summary and processed_at's time
	// (Brasília's, dd/mm/yyyy hh:mm:ss, in Portuguese). nil is English, as
	// results have always been.
	Lang *i18n.Printer
}

// WriteResultsWith is WriteResults with options.
func WriteResultsWith(ctx context.Context, l *ledger.Ledger, batchID, path string, opts ResultsOptions) error {
	b, err := l.Batch(ctx, batchID)
	if err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if owner, err := ResultsOwner(ctx, l, batchID, path); err != nil {
		return fmt.Errorf("write results: %w", err)
	} else if owner != "" {
		return fmt.Errorf("write results of batch %s to %s: %w (batch %s); choose another file with --out",
			ledger.ShortID(batchID), path, ErrResultsTaken, ledger.ShortID(owner))
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	sum, err := l.Summary(ctx, batchID)
	if err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	width := len(b.Header)
	statusCol := width
	feeCol := width + 3
	w, err := sheet.Create(path, sheet.WriteOptions{
		Separator:    cmp.Or(opts.Separator, resultsSeparator(b)),
		MoneyColumns: []int{feeCol},
		StatusColumn: statusCol,
		Summary:      resultsSummary(b, sum, opts.Lang),
		// The Summary's amount and fees columns, in cents.
		SummaryMoneyColumns: []int{2, 3},
	})
	if err != nil {
		return fmt.Errorf("write results of batch %s: %w", ledger.ShortID(batchID), err)
	}
	// Close is deferred for the error paths only: it then discards the
	// temporary file, leaving nothing at path.
	committed := false
	defer func() {
		if !committed {
			w.Close()
		}
	}()
	header := make([]string, 0, width+len(ResultColumns))
	header = append(header, b.Header...)
	if opts.Lang.Tag() == i18n.Portuguese {
		header = append(header, resultColumnsPT...)
	} else {
		header = append(header, ResultColumns...)
	}
	if err := w.WriteHeader(header); err != nil {
		return fmt.Errorf("write results of batch %s: %w", ledger.ShortID(batchID), err)
	}
	var typed *inputCells
	xlsx := strings.EqualFold(filepath.Ext(path), ".xlsx")
	processedCol := width + slices.Index(ResultColumns, "processed_at")
	if opts.Input != "" && xlsx {
		typed = openInputCells(opts.Input, opts.Check)
		defer typed.close()
	}
	cells := make([]sheet.Cell, 0, len(header))
	n := 0
	for r, err := range l.Rows(ctx, batchID) {
		if err != nil {
			return fmt.Errorf("write results of batch %s: %w", ledger.ShortID(batchID), err)
		}
		if n++; n%1024 == 0 && ctx.Err() != nil {
			return fmt.Errorf("write results of batch %s: %w", ledger.ShortID(batchID), ctx.Err())
		}
		cells = resultCells(cells[:0], width, r, opts.Lang)
		if typed != nil {
			typed.apply(r.Row, cells[:width])
		}
		if xlsx && !r.ProcessedAt.IsZero() {
			// A date-time cell, in the time zone of the people who read it.
			cells[processedCol] = sheet.Cell{Value: r.ProcessedAt.In(brasilia).Format(sheet.DateTimeLayout), Kind: sheet.Date}
		}
		if err := w.WriteRow(cells); err != nil {
			return fmt.Errorf("write results of batch %s row %d: %w", ledger.ShortID(batchID), r.Row, err)
		}
	}
	committed = true
	if err := w.Close(); err != nil {
		return fmt.Errorf("write results of batch %s: %w", ledger.ShortID(batchID), err)
	}
	if opts.Copy {
		return nil
	}
	if err := l.SetResultsPath(ctx, batchID, path); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// resultsSeparator is the input's CSV separator as the import recorded it, or
// ';' (what Brazilian Excel expects) when the input was not CSV.
func resultsSeparator(b ledger.Batch) rune {
	s := b.ImportOptions.Separator
	if s == `\t` || s == "tab" {
		return '\t'
	}
	if r := []rune(s); len(r) == 1 && r[0] != '"' && r[0] != '\r' && r[0] != '\n' {
		return r[0]
	}
	return ';'
}

// resultCells appends one results row to dst: the row's cells padded to the
// header's width, then the ResultColumns.
func resultCells(dst []sheet.Cell, width int, r ledger.Row, lang *i18n.Printer) []sheet.Cell {
	for i := range width {
		v := ""
		if i < len(r.Cells) {
			v = r.Cells[i]
		}
		dst = append(dst, sheet.Cell{Value: v})
	}
	fee := sheet.Cell{}
	if r.State == ledger.Accepted {
		fee = sheet.Cell{Value: strconv.FormatInt(r.FeeCents, 10), Kind: sheet.Number}
	}
	errText := RowErrorIn(r, lang)
	if r.State == ledger.Accepted && r.APIStatus == "CREATED" {
		// Accepted, not paid: it waits for the account's owner (stone-api.md §1.9).
		errText = joinPresent("; ", lang.T("awaiting approval in Stone's app"), errText)
	}
	if len(r.Cells) > width {
		// A row longer than the header has nowhere to put its extra cells:
		// say what they were rather than drop them silently.
		extra := lang.T("cells beyond the header: %s", strings.Join(r.Cells[width:], " | "))
		errText = joinPresent("; ", errText, extra)
	}
	processed := ""
	if !r.ProcessedAt.IsZero() {
		if lang.Tag() == i18n.Portuguese {
			processed = r.ProcessedAt.In(i18n.Location()).Format("02/01/2006 15:04:05")
		} else {
			processed = r.ProcessedAt.UTC().Format(time.RFC3339)
		}
	}
	sched := sheet.Cell{Value: r.ScheduledToEffective}
	if sched.Value != "" {
		sched.Kind = sheet.Date
	}
	return append(dst,
		sheet.Cell{Value: lang.Lookup(string(r.State))},
		sheet.Cell{Value: r.TransferID},
		sheet.Cell{Value: r.APIStatus},
		fee,
		sheet.Cell{Value: errText},
		sheet.Cell{Value: r.IdempotencyKey},
		sched,
		sheet.Cell{Value: processed},
		sheet.Cell{Value: railCell(r)},
		sheet.Cell{Value: r.EndToEndID},
		sheet.Cell{Value: joinPresent(", ", r.PayeeName, r.PayeeDocument)},
	)
}

// railCell is a row's rail in the results: empty for a row never to be
// paid (invalid), which has none.
func railCell(r ledger.Row) string {
	if r.State == ledger.Invalid {
		return ""
	}
	return r.Rail
}

// RowError is the results sheet's error text for a row: for an invalid row
// its validation problems joined ("valor: …; cpf: …"); for a rejected, held
// or needs_review row the bank's or lote's reason; "" otherwise.
func RowError(r ledger.Row) string {
	return check.ErrorText(r.State == ledger.Invalid, r.ErrorCode, r.ErrorMessage)
}

// RowErrorIn is RowError in a reader's language.
func RowErrorIn(r ledger.Row, lang *i18n.Printer) string {
	return check.ErrorTextIn(r.State == ledger.Invalid, r.ErrorCode, r.ErrorMessage, lang)
}

func joinPresent(sep string, parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// resultsSummary is the XLSX Summary sheet: counts, amounts and fees by state,
// a total, then what the batch is.
func resultsSummary(b ledger.Batch, sum map[ledger.State]ledger.Totals, lang *i18n.Printer) [][]sheet.Cell {
	text := func(s string) sheet.Cell { return sheet.Cell{Value: lang.Lookup(s)} }
	value := func(s string) sheet.Cell { return sheet.Cell{Value: s} }
	num := func(n int64) sheet.Cell { return sheet.Cell{Value: strconv.FormatInt(n, 10), Kind: sheet.Number} }
	// Amounts are cents in the Summary's money columns (2 and 3), which
	// the writer shows as reais in R$ format.
	reais := func(c int64) sheet.Cell {
		return sheet.Cell{Value: strconv.FormatInt(c, 10), Kind: sheet.Number}
	}
	rows := [][]sheet.Cell{{text(i18n.Mark("state")), text(i18n.Mark("rows")), text(i18n.Mark("amount")), text(i18n.Mark("fees"))}}
	var total ledger.Totals
	for _, s := range OrderedStates(sum) {
		t := sum[s]
		total.Rows += t.Rows
		total.Cents += t.Cents
		total.Fees += t.Fees
		rows = append(rows, []sheet.Cell{text(string(s)), num(int64(t.Rows)), reais(t.Cents), reais(t.Fees)})
	}
	rows = append(rows,
		[]sheet.Cell{text(i18n.Mark("total")), num(int64(total.Rows)), reais(total.Cents), reais(total.Fees)},
		nil,
		[]sheet.Cell{text(i18n.Mark("batch")), value(b.ID)},
		[]sheet.Cell{text(i18n.Mark("file")), value(b.FileName)},
		[]sheet.Cell{text(i18n.Mark("account")), value(b.AccountID)},
		[]sheet.Cell{text(i18n.Mark("environment")), value(b.Environment)},
	)
	return rows
}

// OrderedStates lists the states present in sum in the order reports show
// them (accepted, rejected, needs_review, invalid, held, pending,
// attempted), then any state this program does not know, by name, so that
// none is hidden.
func OrderedStates(sum map[ledger.State]ledger.Totals) []ledger.State {
	var out, unknown []ledger.State
	for _, s := range reportStates {
		if _, ok := sum[s]; ok {
			out = append(out, s)
		}
	}
	for s := range sum {
		if !slices.Contains(reportStates, s) {
			unknown = append(unknown, s)
		}
	}
	slices.Sort(unknown)
	return append(out, unknown...)
}
