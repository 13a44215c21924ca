package check

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"lote/sheet"
	"lote/validate"
)

// OpenTable opens the sheet at path and reads up to its header: the first
// of rows 1 to sheet.MaxHeaderRow that maps the payout columns, in the
// worksheet asked for or the first that has one (or the row
// CheckOptions.HeaderRow gives). notes say where the table was found when
// that is not the first row of the first worksheet.
func OpenTable(path string, opts CheckOptions) (*sheet.Reader, Mapping, []string, error) {
	// With --header-row, IsHeader picks the worksheet whose row that is,
	// and the error says what the row lacks.
	r, err := sheet.Open(path, sheet.Options{Sheet: opts.Sheet, TmpDir: opts.TmpDir, Limits: opts.Limits, HeaderRow: opts.HeaderRow, IsHeader: IsHeader})
	if err != nil {
		return nil, Mapping{}, nil, noHeaderHint(err, opts)
	}
	m, err := MapHeader(r.Header())
	if err != nil {
		r.Close()
		return nil, m, nil, err
	}
	var notes []string
	if len(r.Skipped()) > 0 {
		var names []string
		for _, s := range r.Skipped() {
			names = append(names, strconv.Quote(s.Sheet))
		}
		notes = append(notes, fmt.Sprintf("read worksheet %q: %s before it %s no header row (give --sheet to read another)",
			r.Sheet(), strings.Join(names, ", "), map[bool]string{true: "has", false: "have"}[len(names) == 1]))
	} else if len(r.Sheets()) > 1 && opts.Sheet == "" {
		notes = append(notes, fmt.Sprintf("read worksheet %q, the first of %d (give --sheet to read another)", r.Sheet(), len(r.Sheets())))
	}
	if n := r.HeaderRow(); n > 1 && opts.HeaderRow == 0 {
		notes = append(notes, fmt.Sprintf("the header is row %d; the rows above it are not read (give --header-row to use another)", n))
	}
	return r, m, notes, nil
}

// noHeaderHint explains a sheet with no header row: where lote looked,
// what the closest row lacks, and the flag that points lote at the table.
func noHeaderHint(err error, opts CheckOptions) error {
	var nh *sheet.NoHeaderError
	if !errors.As(err, &nh) {
		return err
	}
	var b strings.Builder
	if c, ok := nh.Closest(); ok && nh.HeaderRow > 0 {
		where := "row " + strconv.Itoa(c.ClosestRow)
		if c.Sheet != "" {
			where += " of worksheet " + strconv.Quote(c.Sheet)
		}
		_, herr := MapHeader(c.Closest)
		fmt.Fprintf(&b, "; %s: %v", where, herr)
	} else if nh.HeaderRow > 0 {
		b.WriteString(": give the row the header is on, as Excel numbers it, or leave --header-row out to let lote find it")
	} else if c, ok := nh.Closest(); ok {
		where := "row " + strconv.Itoa(c.ClosestRow)
		sheetFlag := ""
		if c.Sheet != "" {
			where += " of worksheet " + strconv.Quote(c.Sheet)
			if len(nh.Searched) > 1 {
				sheetFlag = " --sheet " + quoteArg(c.Sheet)
			}
		}
		_, herr := MapHeader(c.Closest)
		fmt.Fprintf(&b, "; the closest is %s, whose %v. If that row is the header, fix its columns as said", where, herr)
		if sheetFlag != "" {
			b.WriteString(" (and read it with" + sheetFlag + ")")
		}
		fmt.Fprintf(&b, "; if the header is below row %d, give its row with --header-row N%s", sheet.MaxHeaderRow, sheetFlag)
	} else {
		fmt.Fprintf(&b, ": no row has the payout columns (amount, name, document, bank, branch, account). If the header is below row %d, give its row with --header-row N", sheet.MaxHeaderRow)
		if len(nh.Searched) > 1 || nh.Searched[0].Sheet != "" {
			b.WriteString(", and the worksheet with --sheet NAME")
		}
	}
	return fmt.Errorf("%w%s", err, b.String())
}

// quoteArg quotes a worksheet name for a shell when it needs it.
func quoteArg(s string) string {
	if strings.ContainsAny(s, " \t'\"$`\\;&|<>()*?!#") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// totalsLabel reports whether a row that names no payee account has a
// totals label (TOTAL, Soma, Subtotal) in any cell.
func (c *checker) totalsLabel(in *validate.Input, it *chunkItem) bool {
	if strings.TrimSpace(in.Account.Value) != "" || strings.TrimSpace(in.Document.Value) != "" {
		return false
	}
	for _, v := range it.cells {
		if validate.IsTotalsLabel(v) {
			return true
		}
	}
	return false
}
