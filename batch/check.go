package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"lote/sheet"
	"lote/validate"
)

// CheckOptions control how a sheet is read and validated. The zero value
// reads the first sheet and infers the decimal convention.
type CheckOptions struct {
	// Sheet names the XLSX worksheet to read; empty means the first.
	Sheet string
	// TmpDir is where large XLSX parts are extracted; empty means the
	// system's temporary directory.
	TmpDir string
	// Validate holds the rules' options (decimal convention, duplicates,
	// institution list, today's date).
	Validate validate.Options
}

// Checked is one data row after validation, with the cells as the user
// wrote them (one per header column, so the results can copy them).
type Checked struct {
	validate.Result
	Cells []string
}

// Summary counts what a check found.
type Summary struct {
	Format     string // "CSV" or "XLSX"
	Encoding   string // CSV only
	Separator  rune   // CSV only
	Rows       int    // data rows, blank rows not counted
	Valid      int
	Invalid    int
	Warnings   int   // rows with at least one warning
	TotalCents int64 // sum of the valid rows' amounts
}

// UnreadableRow is the code of a row the sheet reader could not split into
// cells (wrong number of fields, bad quoting, invalid text encoding).
const UnreadableRow = "unreadable_row"

// FileError is a problem with the whole file (it cannot be opened, is not a
// sheet, or its header cannot be used): nothing in it can be validated.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// Check reads the sheet at path, validates every data row and calls fn for
// each one, in row order. Rows whose amounts wait for the file's decimal
// convention are delivered as soon as it is known, still in order. A
// *FileError means the file as a whole could not be used. An error from fn
// stops the check and is returned.
func Check(ctx context.Context, path string, opts CheckOptions, fn func(Checked) error) (Summary, Mapping, error) {
	r, err := sheet.Open(path, sheet.Options{Sheet: opts.Sheet, TmpDir: opts.TmpDir})
	if err != nil {
		return Summary{}, Mapping{}, &FileError{Path: path, Err: err}
	}
	defer r.Close()
	m, err := MapHeader(r.Header())
	if err != nil {
		return Summary{}, m, &FileError{Path: path, Err: err}
	}
	s := Summary{Format: formatName(r.Format())}
	if r.Format() == sheet.CSV {
		s.Encoding, s.Separator = r.Encoding(), r.Separator()
	}
	c := &checker{ctx: ctx, m: m, v: validate.NewChecker(opts.Validate), fn: fn, sum: &s}
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return s, m, ctx.Err()
		}
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return s, m, &FileError{Path: path, Err: err}
		}
		if err := c.add(row); err != nil {
			return s, m, err
		}
	}
	return s, m, c.close()
}

func formatName(f sheet.Format) string {
	if f == sheet.XLSX {
		return "XLSX"
	}
	return "CSV"
}

// pendingRow is a row read but not yet delivered: either waiting for the
// validator, or ready (res set) behind rows that are waiting.
type pendingRow struct {
	cells []string
	res   *validate.Result
}

type checker struct {
	ctx   context.Context
	m     Mapping
	v     *validate.Checker
	fn    func(Checked) error
	sum   *Summary
	queue []pendingRow // in row order; head delivered first
	next  int          // index in queue of the first row the validator still owes
}

func (c *checker) add(row sheet.Row) error {
	cells := make([]string, len(c.m.Header), max(len(c.m.Header), len(row.Cells)))
	for i, cell := range row.Cells {
		if i < len(cells) {
			cells[i] = cell.Value
		} else {
			cells = append(cells, cell.Value)
		}
	}
	if row.Err == nil && blank(row.Cells) {
		return nil // an empty line is not a payout
	}
	if row.Err != nil {
		// The reader could not split this row: it is reported as it is, and
		// never reaches the validator, so it can never be paid.
		res := &validate.Result{Row: row.Number, Errors: []validate.FieldError{{
			Row: row.Number, Code: UnreadableRow, Value: strings.Join(cells, " | "), Err: row.Err,
		}}}
		c.queue = append(c.queue, pendingRow{cells: cells, res: res})
		return c.flush()
	}
	c.queue = append(c.queue, pendingRow{cells: cells})
	if err := c.take(c.v.Add(c.input(row))); err != nil {
		return err
	}
	return c.flush()
}

func (c *checker) close() error {
	if err := c.take(c.v.Close()); err != nil {
		return err
	}
	if err := c.flush(); err != nil {
		return err
	}
	if len(c.queue) > 0 {
		// The validator returned fewer results than rows it was given: a bug
		// that must not pass as "every row checked".
		return fmt.Errorf("check: %d rows were not validated", len(c.queue))
	}
	return nil
}

// take attaches the validator's results to the rows that wait for them, in
// order, skipping rows that were ready already.
func (c *checker) take(results []validate.Result) error {
	for _, res := range results {
		for c.next < len(c.queue) && c.queue[c.next].res != nil {
			c.next++
		}
		if c.next >= len(c.queue) {
			return fmt.Errorf("check: result for row %d has no row", res.Row)
		}
		res := res
		c.queue[c.next].res = &res
		c.next++
	}
	return nil
}

// flush delivers the ready rows at the head of the queue.
func (c *checker) flush() error {
	i := 0
	for ; i < len(c.queue) && c.queue[i].res != nil; i++ {
		p := c.queue[i]
		c.count(*p.res)
		if err := c.fn(Checked{Result: *p.res, Cells: p.cells}); err != nil {
			return err
		}
	}
	if i > 0 {
		c.queue = append(c.queue[:0], c.queue[i:]...)
		c.next -= i
		if c.next < 0 {
			c.next = 0
		}
	}
	return nil
}

func (c *checker) count(r validate.Result) {
	c.sum.Rows++
	if r.Valid() {
		c.sum.Valid++
		c.sum.TotalCents += r.Payout.Amount
	} else {
		c.sum.Invalid++
	}
	if len(r.Warnings) > 0 {
		c.sum.Warnings++
	}
}

func (c *checker) input(row sheet.Row) validate.Input {
	in := validate.Input{Row: row.Number}
	cell := func(f Field) validate.Cell {
		i := c.m.Column(f)
		if i < 0 {
			return validate.Cell{}
		}
		vc := validate.Cell{Column: c.m.ColumnName(i), Present: true}
		if i < len(row.Cells) {
			vc.Value = row.Cells[i].Value
			vc.Kind = kind(row.Cells[i].Kind)
		}
		return vc
	}
	in.Amount = cell(FieldAmount)
	in.AmountCents = cell(FieldAmountCents)
	in.Name = cell(FieldName)
	in.Document = cell(FieldDocument)
	in.DocumentType = cell(FieldDocumentType)
	in.Institution = cell(FieldInstitution)
	in.Branch = cell(FieldBranch)
	in.Account = cell(FieldAccount)
	in.AccountType = cell(FieldAccountType)
	in.ScheduledTo = cell(FieldScheduledTo)
	in.Reference = cell(FieldReference)
	return in
}

func kind(k sheet.Kind) validate.Kind {
	switch k {
	case sheet.Number:
		return validate.Number
	case sheet.Date:
		return validate.Date
	}
	return validate.Text
}

func blank(cells []sheet.Cell) bool {
	for _, c := range cells {
		if strings.TrimSpace(c.Value) != "" {
			return false
		}
	}
	return true
}
