package reconcile

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gocarina/gocsv"

	"lote/check"
	"lote/internal/i18n"
	"lote/ledger"
	"lote/sheet"
	"lote/stone"
	"lote/validate"
)

// awaitingApproval is how a transfer waiting in CREATED is shown: Stone
// holds a partner application's transfer until the account's owner
// approves it in Stone's app (stone-api.md §1.9). It is not paid yet, and
// reconciliation keeps checking it.
var awaitingApproval = i18n.Mark("awaiting approval in Stone's app")

// failureMeanings are the documented meanings of failure_reason_code
// (stone-api.md §2.3).
var failureMeanings = map[string]string{
	"0": i18n.Mark("generic error at Stone, the transfer may be sent again"),
	"1": i18n.Mark("insufficient balance"),
	"2": i18n.Mark("restriction on one of the accounts"),
}

// refundMeanings are the documented meanings of refund_reason_code "0".."14"
// (stone-api.md §2.3).
var refundMeanings = [...]string{
	i18n.Mark("processing error at the origin"),
	i18n.Mark("target account does not exist"),
	i18n.Mark("target branch or account does not exist"),
	i18n.Mark("wrong target document"),
	i18n.Mark("account invalid for the transaction type or purpose"),
	i18n.Mark("processing error at the origin"),
	i18n.Mark("amount exceeds the limit of the account type"),
	i18n.Mark("payment not in conformity"),
	i18n.Mark("invalid data, missing field, bad format or missing branch"),
	i18n.Mark("CPF/CNPJ irregular at the Receita Federal"),
	i18n.Mark("invalid target institution"),
	i18n.Mark("account has more than 13 digits for the chosen type"),
	i18n.Mark("requested by the receiving institution's client"),
	i18n.Mark("return of a bank order (devolução de ordem bancária)"),
	i18n.Mark("unidentified beneficiary"),
}

// FailureMeaning returns the documented meaning of a failure_reason_code
// of a FAILED transfer, or false for a code Stone does not document.
func FailureMeaning(code string) (string, bool) {
	m, ok := failureMeanings[code]
	return m, ok
}

// RefundMeaning returns the documented meaning of a refund_reason_code of
// a REFUNDED transfer ("0".."14"), or false for any other code.
func RefundMeaning(code string) (string, bool) {
	n, err := strconv.Atoi(code)
	if err != nil || n < 0 || n >= len(refundMeanings) || strconv.Itoa(n) != code {
		return "", false
	}
	return refundMeanings[n], true
}

// csvText is a text cell of the CSV report, neutralised by the function
// that neutralises the results sheet's (sheet.Neutralize): no spreadsheet
// runs it as a formula, whatever separator it splits lines on.
type csvText string

// MarshalCSV implements gocsv.TypeMarshaller.
func (t csvText) MarshalCSV() (string, error) { return sheet.Neutralize(string(t)), nil }

// csvMoney is cents written as reais with a decimal comma, as Brazilian
// Excel reads a ';'-separated file: 123456 → "1234,56". It is lote's own
// number, not neutralised: "-5,00" stays a negative amount.
type csvMoney int64

// MarshalCSV implements gocsv.TypeMarshaller.
func (m csvMoney) MarshalCSV() (string, error) { return sheet.Reais(int64(m), ','), nil }

// Line is one line of the reconciliation report: one input row.
// Amounts are cents (reais in the files); times are RFC 3339 in
// America/Sao_Paulo, the time zone of the people who read the report.
// Institution, Branch and Account are what Stone holds (the ISPB, the
// branch and account as sent); the *AsTyped fields are the input's cells.
type Line struct {
	Batch       csvText `csv:"batch"` // the batch id's first 12 hex digits
	Row         int     `csv:"row"`   // as Excel numbers it (header = 1)
	Reference   csvText `csv:"reference"`
	Name        csvText `csv:"name"`
	Document    csvText `csv:"document"`
	Institution csvText `csv:"institution"`
	Branch      csvText `csv:"branch"`
	Account     csvText `csv:"account"`
	// BankAsTyped, BranchAsTyped and AccountAsTyped are the row's cells as
	// the user wrote them ("Nubank", "0501", "22113-4" for an account and
	// its digit column).
	BankAsTyped    csvText  `csv:"bank_as_typed"`
	BranchAsTyped  csvText  `csv:"branch_as_typed"`
	AccountAsTyped csvText  `csv:"account_as_typed"`
	Amount         csvMoney `csv:"amount"`
	LoteState      csvText  `csv:"lote_state"`
	// Status is Stone's status of the transfer, or the lote state of a row
	// never accepted; Final says whether it can still change.
	Status      csvText  `csv:"status"`
	Final       csvText  `csv:"final"`
	WatchUntil  csvText  `csv:"refund_watch_until"`
	FailureCode csvText  `csv:"failure_code"`
	RefundCode  csvText  `csv:"refund_code"`
	Reason      csvText  `csv:"reason"` // the code's documented meaning
	Fee         csvMoney `csv:"fee"`    // charged and kept, see BatchReport
	TransferID  csvText  `csv:"transfer_id"`
	CreatedAt   csvText  `csv:"created_at"`
	FinishedAt  csvText  `csv:"finished_at"`
	FailedAt    csvText  `csv:"failed_at"`
	RefundedAt  csvText  `csv:"refunded_at"`
	NeedsPerson csvText  `csv:"needs_person"` // why, or empty
	CheckedAt   csvText  `csv:"checked_at"`
	// Rail is how the row is paid: ted, internal or pix; Refunded what of
	// a Pix came back, whole or in part.
	Rail     csvText  `csv:"rail"`
	Refunded csvMoney `csv:"refunded"`
	// Statement is what the account statement says of the transfer
	// (reconcile --statement): "ok", "not yet in the statement", or
	// "differs: …"; empty when not checked.
	Statement csvText `csv:"statement"`
}

// reconMoneyColumns and reconStatusColumn index Line's fields as
// XLSX columns.
var (
	reconMoneyColumns = []int{11, 19, 28}
	reconStatusColumn = 13
)

// reportZone is the time zone of the report's times: Brasília's, where
// finance teams read them; UTC on a system without the zone database.
var reportZone = func() *time.Location {
	if loc, err := time.LoadLocation("America/Sao_Paulo"); err == nil {
		return loc
	}
	return time.UTC
}()

func stamp(t time.Time) csvText {
	if t.IsZero() {
		return ""
	}
	return csvText(t.In(reportZone).Format(time.RFC3339))
}

// asTyped sets the line's bank, branch and account as the row's cells
// have them, by the batch's header.
func (ln *Line) asTyped(m *check.Mapping, cells []string) {
	cell := func(f check.Field) string {
		if i := m.Column(f); i >= 0 && i < len(cells) {
			return strings.TrimSpace(cells[i])
		}
		return ""
	}
	ln.BankAsTyped, ln.BranchAsTyped = csvText(cell(check.FieldInstitution)), csvText(cell(check.FieldBranch))
	account := cell(check.FieldAccount)
	if d := cell(check.FieldAccountDigit); d != "" {
		account += "-" + d
	}
	ln.AccountAsTyped = csvText(account)
}

// reconLine builds a row's line.
func reconLine(rr ledger.ReconciledRow, b ledger.Batch, m *check.Mapping, now time.Time, window time.Duration) Line {
	return reconLineIn(rr, b, m, now, window, nil)
}

// reconLineIn is reconLine with its words in tr's language: the lote
// state, final, the codes' meanings and why a person is needed. Stone's
// status and its own reasons are written as Stone gave them.
func reconLineIn(rr ledger.ReconciledRow, b ledger.Batch, m *check.Mapping, now time.Time, window time.Duration, tr *i18n.Printer) Line {
	r := rr.Row
	ln := Line{Batch: csvText(ledger.ShortID(b.ID)), Row: r.Row, Reference: csvText(r.Reference), Amount: csvMoney(r.AmountCents),
		LoteState: csvText(tr.Lookup(string(r.State))), Status: csvText(outcomeName(r)), TransferID: csvText(r.TransferID),
		Fee: csvMoney(feeCharged(rr)), Rail: csvText(cmp.Or(r.Rail, ledger.RailTED))}
	ln.asTyped(m, r.Cells)
	var p stone.CreateExternalTransfer
	if len(r.Payout) > 0 && json.Unmarshal(r.Payout, &p) == nil {
		ln.Name, ln.Document = csvText(p.Target.Entity.Name), csvText(p.Target.Entity.Document)
		ln.Institution, ln.Branch = csvText(p.Target.Account.InstitutionCode), csvText(p.Target.Account.BranchCode)
		ln.Account = csvText(p.Target.Account.AccountCode)
	}
	cat := categorize(r)
	final := cat == CategoryFailed || cat == CategoryReturned || cat == CategoryNotSent
	if rr.Checked {
		c := rr.Rec
		ln.CreatedAt, ln.FinishedAt, ln.FailedAt, ln.RefundedAt = stamp(c.CreatedAt), stamp(c.FinishedAt), stamp(c.FailedAt), stamp(c.RefundedAt)
		ln.FailureCode, ln.RefundCode, ln.CheckedAt = csvText(c.FailureCode), csvText(c.RefundCode), stamp(c.CheckedAt)
		switch {
		case c.RefundCode != "":
			m, ok := RefundMeaning(c.RefundCode)
			ln.Reason = csvText(cmp.Or(tr.Lookup(m), c.RefundReason))
			if !ok && c.RefundReason == "" {
				ln.Reason = csvText(tr.T("undocumented refund code %s", c.RefundCode))
			}
		case c.FailureCode != "" && (cat == CategoryFailed || cat == CategoryReturned):
			// A scheduled TED short of funds on its date is REFUNDED with
			// the failure's code (stonetest, the docs' refund section).
			m, ok := FailureMeaning(c.FailureCode)
			ln.Reason = csvText(cmp.Or(tr.Lookup(m), c.FailureReason))
			if !ok && c.FailureReason == "" {
				ln.Reason = csvText(tr.T("undocumented failure code %s", c.FailureCode))
			}
		}
		ln.Refunded = csvMoney(c.RefundedCents)
		if cat == CategoryPaid && !c.FinishedAt.IsZero() {
			until := c.FinishedAt.Add(window)
			final = !until.After(now)
			if !final {
				ln.WatchUntil = stamp(until)
			}
		}
	}
	ln.Final = csvText(tr.T("no"))
	if final {
		ln.Final = csvText(tr.T("yes"))
	}
	var why []string
	switch cat {
	case CategoryReturned:
		why = append(why, tr.T("returned by the receiving bank: the payee was not paid"))
	case CategoryPaid:
		if rr.Checked && rr.Rec.RefundedCents > 0 {
			why = append(why, tr.T("the receiving bank returned %s of it: the payee kept %s", validate.FormatBRL(rr.Rec.RefundedCents), validate.FormatBRL(max(r.AmountCents-rr.Rec.RefundedCents, 0))))
		}
	case CategoryFailed:
		switch r.APIStatus {
		case stone.StatusRejected:
			why = append(why, tr.T("the account's owner rejected it in Stone's app: the payee was not paid"))
		case stone.StatusExpired:
			why = append(why, tr.T("nobody approved it in Stone's app in time (expired): the payee was not paid"))
		default:
			why = append(why, tr.T("the transfer %s: the payee was not paid", strings.ToLower(r.APIStatus)))
		}
	case CategoryInFlight:
		if r.APIStatus == stone.StatusCreated {
			ln.Reason = csvText(tr.Lookup(awaitingApproval))
		}
	case CategoryNotSent, CategoryReview:
		why = append(why, cmp.Or(check.ErrorTextIn(r.State == ledger.Invalid, r.ErrorCode, r.ErrorMessage, tr), tr.T("status %s is not one lote knows", outcomeName(r))))
	}
	if rr.Checked && rr.Rec.Mismatch != "" {
		why = append(why, tr.T("differs from Stone: %s", rr.Rec.Mismatch))
	}
	ln.NeedsPerson = csvText(strings.Join(why, "; "))
	return ln
}

// cells is the line as XLSX cells, in Line's field order.
func (ln Line) cells() []sheet.Cell {
	t := func(s csvText) sheet.Cell { return sheet.Cell{Value: string(s)} }
	m := func(c csvMoney) sheet.Cell {
		return sheet.Cell{Value: strconv.FormatInt(int64(c), 10), Kind: sheet.Number}
	}
	return []sheet.Cell{t(ln.Batch), {Value: strconv.Itoa(ln.Row), Kind: sheet.Number}, t(ln.Reference), t(ln.Name),
		t(ln.Document), t(ln.Institution), t(ln.Branch), t(ln.Account), t(ln.BankAsTyped), t(ln.BranchAsTyped), t(ln.AccountAsTyped),
		m(ln.Amount), t(ln.LoteState), t(ln.Status),
		t(ln.Final), t(ln.WatchUntil), t(ln.FailureCode), t(ln.RefundCode), t(ln.Reason), m(ln.Fee), t(ln.TransferID),
		t(ln.CreatedAt), t(ln.FinishedAt), t(ln.FailedAt), t(ln.RefundedAt), t(ln.NeedsPerson), t(ln.CheckedAt),
		t(ln.Rail), m(ln.Refunded), t(ln.Statement)}
}

// reconHeader is Line's csv tags, in order.
func reconHeader() []string {
	return []string{"batch", "row", "reference", "name", "document", "institution", "branch", "account",
		"bank_as_typed", "branch_as_typed", "account_as_typed", "amount",
		"lote_state", "status", "final", "refund_watch_until", "failure_code", "refund_code", "reason", "fee",
		"transfer_id", "created_at", "finished_at", "failed_at", "refunded_at", "needs_person", "checked_at",
		"rail", "refunded", "statement"}
}

// reconHeaderPT is reconHeader in Portuguese.
var reconHeaderPT = []string{"lote", "linha", "referência", "nome", "documento", "instituição", "agência", "conta",
	"banco_como_digitado", "agência_como_digitada", "conta_como_digitada", "valor",
	"situação_lote", "status", "final", "vigiar_devolução_até", "código_falha", "código_devolução", "motivo", "tarifa",
	"id_transferência", "criada_em", "concluída_em", "falhou_em", "devolvida_em", "precisa_de_pessoa", "conferida_em",
	"meio", "devolvido", "extrato"}

// headerIn is the report's header in tr's language.
func headerIn(tr *i18n.Printer) []string {
	if tr.Tag() == i18n.Portuguese {
		return reconHeaderPT
	}
	return reconHeader()
}

// SummaryPath is where the CSV report's summary and checks go: beside
// it, NAME.summary.csv. A CSV file holds one table, so the checks cannot
// sit at its top; the XLSX report has them at the top of its Summary sheet.
func SummaryPath(csvPath string) string {
	return strings.TrimSuffix(csvPath, filepath.Ext(csvPath)) + ".summary.csv"
}

// WriteReport writes the reconciliation report of rep to path,
// .xlsx or .csv. Every row of every batch in rep is a line (Line), in
// input order, read from the ledger a page at a time. XLSX has a Summary
// sheet whose first rows are the verdict, then every mismatch and failed
// check, then counts and sums per status, the totals and the checks. CSV is
// UTF-8 with a BOM, ';'-separated, decimal comma, and the summary goes to
// SummaryPath(path), mismatches first. Files appear complete or not
// at all.
func WriteReport(ctx context.Context, l *ledger.Ledger, rep Report, path string) error {
	return WriteReportIn(ctx, l, rep, path, nil)
}

// WriteReportIn is WriteReport with the report's words (its header, lote's
// states, the codes' meanings, why a person is needed, the Summary) in
// tr's language; nil is English, as WriteReport writes.
func WriteReportIn(ctx context.Context, l *ledger.Ledger, rep Report, path string, tr *i18n.Printer) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xlsx":
		return writeReconXLSX(ctx, l, rep, path, tr)
	case ".csv":
		if err := sheet.WriteAtomic(SummaryPath(path), func(w io.Writer) error { return writeSummaryCSV(w, rep, tr) }); err != nil {
			return fmt.Errorf("write reconciliation summary %s: %w", SummaryPath(path), err)
		}
		if err := sheet.WriteAtomic(path, func(w io.Writer) error { return writeReconCSV(ctx, l, rep, w, tr) }); err != nil {
			return fmt.Errorf("write reconciliation %s: %w", path, err)
		}
		return nil
	}
	return fmt.Errorf("write reconciliation %s: use a .xlsx or .csv name", path)
}

// eachLine calls fn with every line of the report, in batch then input order.
func eachLine(ctx context.Context, l *ledger.Ledger, rep Report, tr *i18n.Printer, fn func(Line) error) error {
	for _, b := range rep.Batches {
		// The header as the import mapped it; a header that no longer maps
		// leaves the columns as typed empty.
		m, _ := check.MapHeader(b.Batch.Header)
		for rr, err := range l.Reconciled(ctx, b.Batch.ID) {
			if err != nil {
				return err
			}
			ln := reconLineIn(rr, b.Batch, &m, rep.At, rep.RefundWindow, tr)
			if sc, ok := b.statement[rr.Row.Row]; ok {
				ln.withStatement(sc)
			}
			if err := fn(ln); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeReconXLSX(ctx context.Context, l *ledger.Ledger, rep Report, path string, tr *i18n.Printer) error {
	w, err := sheet.Create(path, sheet.WriteOptions{MoneyColumns: reconMoneyColumns, StatusColumn: reconStatusColumn,
		Summary: summaryCells(rep, true, tr)})
	if err != nil {
		return fmt.Errorf("write reconciliation: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			w.Close() // discards the temporary file
		}
	}()
	if err := w.WriteHeader(headerIn(tr)); err != nil {
		return fmt.Errorf("write reconciliation %s: %w", path, err)
	}
	if err := eachLine(ctx, l, rep, tr, func(ln Line) error { return w.WriteRow(ln.cells()) }); err != nil {
		return fmt.Errorf("write reconciliation %s: %w", path, err)
	}
	committed = true
	if err := w.Close(); err != nil {
		return fmt.Errorf("write reconciliation %s: %w", path, err)
	}
	return nil
}

// reconCSVPage is how many lines are marshalled at a time: memory stays
// bounded whatever the batch's size.
const reconCSVPage = 1000

func writeReconCSV(ctx context.Context, l *ledger.Ledger, rep Report, w io.Writer, tr *i18n.Printer) error {
	if tr.Tag() == i18n.Portuguese {
		return writeReconLinesHeader(w, reconHeaderPT, func(fn func(Line) error) error { return eachLine(ctx, l, rep, tr, fn) })
	}
	return writeReconLines(w, func(fn func(Line) error) error { return eachLine(ctx, l, rep, tr, fn) })
}

// writeReconLines writes the CSV report of the lines each gives, in order.
func writeReconLines(w io.Writer, each func(fn func(Line) error) error) error {
	return writeReconLinesHeader(w, nil, each)
}

// writeReconLinesHeader is writeReconLines with header instead of Line's
// tags, unless it is nil.
func writeReconLinesHeader(w io.Writer, header []string, each func(fn func(Line) error) error) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	// A writer per call: gocsv's package-level writer setting is global
	// state another goroutine could change. sheet's writer quotes every
	// field holding a separator, as the results sheet's does.
	sw := sheet.NewCSVWriter(w, ';')
	page := make([]Line, 0, reconCSVPage)
	first := true
	if header != nil {
		if err := sw.Write(header); err != nil {
			return err
		}
		first = false
	}
	flush := func() error {
		if len(page) == 0 && !first {
			return nil
		}
		var err error
		if first {
			err = gocsv.MarshalCSV(page, sw)
		} else {
			err = gocsv.MarshalCSVWithoutHeaders(page, sw)
		}
		first = false
		page = page[:0]
		return err
	}
	err := each(func(ln Line) error {
		page = append(page, ln)
		if len(page) == reconCSVPage {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if first && len(page) == 0 && header == nil {
		// gocsv writes no header for an empty slice; the file still says
		// what its columns are.
		if err := sw.Write(reconHeader()); err != nil {
			return err
		}
		sw.Flush()
		return sw.Error()
	}
	if err := flush(); err != nil {
		return err
	}
	sw.Flush()
	return sw.Error()
}

// sumCell is a Summary cell: text, a count, or money in cents.
type sumCell struct {
	text string
	n    int64
	kind int // 0 text, 1 count, 2 cents
}

func txt(s string) sumCell      { return sumCell{text: s} }
func count(n int) sumCell       { return sumCell{n: int64(n), kind: 1} }
func centsCell(c int64) sumCell { return sumCell{n: c, kind: 2} }

// The words of the Summary that reach it as values: the verdicts and the
// checks' names.
var _ = []string{i18n.Mark("settled"), i18n.Mark("attention"), i18n.Mark("transfers match Stone")}

// The categories, as lote reconcile lists them.
var _ = []string{i18n.Mark("paid"), i18n.Mark("returned"), i18n.Mark("failed"), i18n.Mark("in_flight"),
	i18n.Mark("unsent"), i18n.Mark("not_sent"), i18n.Mark("review")}

// summaryRows is the report's summary: the verdict, mismatches and failed
// checks first, so they cannot be missed; then per batch the counts and
// sums per status, the totals and every check.
func summaryRows(rep Report, tr *i18n.Printer) [][]sumCell {
	var rows [][]sumCell
	mism := rep.Mismatches()
	people := 0
	var failed []string
	for _, b := range rep.Batches {
		people += b.NeedsPerson
		for _, c := range b.Checks {
			if !c.OK {
				failed = append(failed, ledger.ShortID(b.Batch.ID)+" "+tr.Lookup(c.Name)+": "+c.Detail)
			}
		}
	}
	verdict := strings.ToUpper(tr.Lookup(rep.Status().String()))
	var parts []string
	if len(mism) > 0 {
		parts = append(parts, tr.T("%d transfers differ from Stone", len(mism)))
	}
	if len(failed) > 0 {
		parts = append(parts, tr.T("%d checks failed", len(failed)))
	}
	if people > 0 {
		parts = append(parts, tr.T("%d rows need a person", people))
	}
	if rep.Unchecked > 0 {
		parts = append(parts, tr.T("%d transfers could not be read from Stone", rep.Unchecked))
	}
	parts = append(parts, statementParts(rep)...)
	rows = append(rows, []sumCell{txt(tr.T("reconciliation")), txt(verdict), txt(strings.Join(parts, "; "))})
	for _, m := range mism {
		rows = append(rows, []sumCell{txt(tr.T("MISMATCH")), txt(ledger.ShortID(m.Batch)), txt(tr.T("row %s", strconv.Itoa(m.Row))), txt(m.TransferID), txt(m.Detail)})
	}
	for _, f := range failed {
		rows = append(rows, []sumCell{txt(tr.T("CHECK FAILED")), txt(f)})
	}
	rows = append(rows, nil, []sumCell{txt(tr.T("batch")), txt(tr.T("status")), txt(tr.T("rows")), txt(tr.T("amount")), txt(tr.T("fees"))})
	for _, b := range rep.Batches {
		id := ledger.ShortID(b.Batch.ID)
		for _, s := range slices.Sorted(maps.Keys(b.ByStatus)) {
			t := b.ByStatus[s]
			rows = append(rows, []sumCell{txt(id), txt(s), count(t.Rows), centsCell(t.AmountCents), centsCell(t.FeeCents)})
		}
		rows = append(rows,
			[]sumCell{txt(id), txt(tr.T("total paid")), count(b.ByCategory[CategoryPaid].Rows), centsCell(b.PaidCents)},
			[]sumCell{txt(id), txt(tr.T("total fees")), txt(""), txt(""), centsCell(b.FeeCents)},
			[]sumCell{txt(id), txt(tr.T("total returned")), count(b.ByCategory[CategoryReturned].Rows), centsCell(b.ReturnedCents)},
			[]sumCell{txt(id), txt(tr.T("rows needing a person")), count(b.NeedsPerson)},
			[]sumCell{txt(id), txt(tr.T("sheet total")), count(b.Batch.Valid), centsCell(b.Batch.TotalCents)},
		)
		for _, rail := range slices.Sorted(maps.Keys(b.ByRail)) {
			t := b.ByRail[rail]
			rows = append(rows, []sumCell{txt(id), txt(tr.T("rail %s", rail)), count(t.Rows), centsCell(t.AmountCents),
				txt(tr.T("paid")), centsCell(t.PaidCents), txt(tr.T("returned")), centsCell(t.ReturnedCents)})
		}
		rows = append(rows, statementSummary(id, b)...)
		for _, c := range b.Checks {
			ok := tr.T("ok")
			if !c.OK {
				ok = tr.T("FAILED")
			}
			rows = append(rows, []sumCell{txt(id), txt(tr.T("check %s", tr.Lookup(c.Name))), txt(ok), txt(c.Detail)})
		}
		rows = append(rows, []sumCell{txt(id), txt(tr.T("file")), txt(b.Batch.FileName)})
	}
	reconciledAt := rep.At.UTC().Format(time.RFC3339)
	if tr.Tag() == i18n.Portuguese {
		reconciledAt = rep.At.In(reportZone).Format("02/01/2006 15:04:05")
	}
	rows = append(rows, nil,
		[]sumCell{txt(tr.T("reconciled at")), txt(reconciledAt)},
		[]sumCell{txt(tr.T("refund window")), txt(tr.T("%s days", strconv.FormatFloat(rep.RefundWindow.Hours()/24, 'g', -1, 64)))},
		[]sumCell{txt(tr.T("transfers read")), count(rep.Polled)},
		[]sumCell{txt(tr.T("status changes")), count(rep.Changed)},
	)
	for _, b := range rep.Skipped {
		rows = append(rows, []sumCell{txt(tr.T("skipped batch")), txt(ledger.ShortID(b.ID)), txt(tr.T("account %s in %s", stone.MaskAccount(b.AccountID), b.Environment))})
	}
	return rows
}

// summaryCells is the summary as sheet cells; money as reais numbers in
// XLSX (exact up to 2^53 cents), as "1234,56" in CSV (a number cell, so
// that a negative total is not neutralised as a formula).
func summaryCells(rep Report, xlsx bool, tr *i18n.Printer) [][]sheet.Cell {
	var out [][]sheet.Cell
	for _, r := range summaryRows(rep, tr) {
		cells := make([]sheet.Cell, 0, len(r))
		for _, c := range r {
			switch {
			case c.kind == 1:
				cells = append(cells, sheet.Cell{Value: strconv.FormatInt(c.n, 10), Kind: sheet.Number})
			case c.kind == 2 && xlsx:
				cells = append(cells, sheet.Cell{Value: strconv.FormatFloat(float64(c.n)/100, 'f', -1, 64), Kind: sheet.Number})
			case c.kind == 2:
				cells = append(cells, sheet.Cell{Value: sheet.Reais(c.n, ','), Kind: sheet.Number})
			default:
				cells = append(cells, sheet.Cell{Value: c.text})
			}
		}
		out = append(out, cells)
	}
	return out
}

func writeSummaryCSV(w io.Writer, rep Report, tr *i18n.Printer) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := sheet.NewCSVWriter(w, ';')
	for _, r := range summaryCells(rep, false, tr) {
		if err := cw.WriteCells(r); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
