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
	// Mapping is the sheet's column mapping, shared by every row: it names
	// columns as the user wrote them.
	Mapping *Mapping
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
//
// Reading and validating overlap: the sheet is read on a second goroutine,
// which hands rows over in chunks, so that a million-row CSV is checked in
// little more than the time it takes to parse it. fn is always called on
// the caller's goroutine, and Check returns only once that reader has
// stopped.
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
	c := newChecker(m, validate.NewChecker(opts.Validate), fn, &s)
	rows := readAhead(ctx, r)
	// Stopping the reader before r.Close (deferred above, so run after
	// this) keeps it from reading a closed file.
	defer rows.stop()
	for {
		chunk, err := rows.next()
		if err != nil {
			return s, c.m, err
		}
		if chunk == nil {
			break
		}
		if err := c.add(chunk.rows); err != nil {
			return s, c.m, err
		}
		if chunk.err != nil && !errors.Is(chunk.err, io.EOF) {
			return s, c.m, &FileError{Path: path, Err: chunk.err}
		}
		rows.recycle(chunk)
	}
	return s, c.m, c.close()
}

// chunkRows is how many rows the reader hands over at a time: enough to
// make the hand-over cost nothing per row, few enough (with readAheadChunks)
// to keep memory small.
const chunkRows = 512

// readAheadChunks is how many chunks the reader may be ahead.
const readAheadChunks = 4

// rowChunk is up to chunkRows rows in file order. err, when set, is what
// ended reading right after these rows (io.EOF at the end of the file).
type rowChunk struct {
	rows []sheet.Row
	err  error
}

// rowReader reads a sheet on its own goroutine. Chunks go out on full and
// come back through free once their rows are checked, so the hand-over
// allocates nothing in the steady state.
type rowReader struct {
	ctx  context.Context
	full chan *rowChunk
	free chan *rowChunk
	quit chan struct{} // closed by stop: the consumer wants no more rows
	done chan struct{} // closed when the reading goroutine has returned
}

// readAhead starts reading r's rows. The caller must call stop, and must not
// use r until stop has returned.
func readAhead(ctx context.Context, r *sheet.Reader) *rowReader {
	rr := &rowReader{
		ctx:  ctx,
		full: make(chan *rowChunk, readAheadChunks),
		free: make(chan *rowChunk, readAheadChunks+2),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	go rr.run(r)
	return rr
}

func (rr *rowReader) run(r *sheet.Reader) {
	defer close(rr.done)
	defer close(rr.full)
	for {
		var chunk *rowChunk
		select {
		case chunk = <-rr.free:
		default:
			chunk = &rowChunk{rows: make([]sheet.Row, 0, chunkRows)}
		}
		for len(chunk.rows) < chunkRows {
			row, err := r.Next()
			if err != nil {
				chunk.err = err
				break
			}
			chunk.rows = append(chunk.rows, row)
		}
		if chunk.err == nil && rr.ctx.Err() != nil {
			chunk.err = rr.ctx.Err()
		}
		// The chunk is the consumer's once sent: decide before.
		last := chunk.err != nil
		select {
		case rr.full <- chunk:
		case <-rr.quit:
			return
		}
		if last {
			return
		}
	}
}

// next returns the next chunk in file order; nil when reading has ended and
// every chunk was returned. Its error is the context's, when cancelled.
func (rr *rowReader) next() (*rowChunk, error) {
	if err := rr.ctx.Err(); err != nil {
		return nil, err
	}
	chunk, ok := <-rr.full
	if !ok {
		return nil, nil
	}
	if chunk.err != nil && chunk.err == rr.ctx.Err() {
		return nil, chunk.err
	}
	return chunk, nil
}

// recycle gives a checked chunk back to the reader. Its rows are cleared
// first: the cells they point to belong to the rows delivered, not to the
// chunk.
func (rr *rowReader) recycle(chunk *rowChunk) {
	clear(chunk.rows)
	chunk.rows, chunk.err = chunk.rows[:0], nil
	select {
	case rr.free <- chunk:
	default:
	}
}

// stop tells the reader to stop and waits until it has: after stop, the
// sheet may be closed. It is safe to call at any time, more than once.
func (rr *rowReader) stop() {
	select {
	case <-rr.quit:
	default:
		close(rr.quit)
	}
	<-rr.done
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
	res   validate.Result
	ready bool
}

// column is where a field is in the sheet, and its name for messages,
// worked out once per file rather than for every cell of every row.
type column struct {
	index int    // 0-based; -1 when the sheet has no such column
	name  string // as Mapping.ColumnName gives it
}

type checker struct {
	m     Mapping
	cols  [numFields]column
	v     *validate.Checker
	fn    func(Checked) error
	sum   *Summary
	queue []pendingRow // in row order; head delivered first
	next  int          // index in queue of the first row the validator still owes

	// Scratch reused from chunk to chunk.
	ins     []validate.Input
	results []validate.Result
}

func newChecker(m Mapping, v *validate.Checker, fn func(Checked) error, sum *Summary) *checker {
	c := &checker{m: m, v: v, fn: fn, sum: sum}
	for f := range c.cols {
		i := m.Column(Field(f))
		c.cols[f] = column{index: i}
		if i >= 0 {
			c.cols[f].name = m.ColumnName(i)
		}
	}
	return c
}

// add validates rows, in file order, and delivers those that are final.
func (c *checker) add(rows []sheet.Row) error {
	ins := c.ins[:0]
	for _, row := range rows {
		if row.Err == nil && blank(row.Cells) {
			continue // an empty line is not a payout
		}
		cells := make([]string, max(len(c.m.Header), len(row.Cells)))
		for i, cell := range row.Cells {
			cells[i] = cell.Value
		}
		if row.Err != nil {
			// The reader could not split this row: it is reported as it is,
			// and never reaches the validator, so it can never be paid.
			res := validate.Result{Row: row.Number, Errors: []validate.FieldError{{
				Row: row.Number, Code: UnreadableRow, Value: strings.Join(cells, " | "), Err: row.Err,
			}}}
			c.queue = append(c.queue, pendingRow{cells: cells, res: res, ready: true})
			continue
		}
		c.queue = append(c.queue, pendingRow{cells: cells})
		ins = append(ins, c.input(row))
	}
	// The validator takes the whole chunk at once: it looks up earlier
	// payments faster that way.
	results := c.v.AddAll(c.results[:0], ins)
	clear(ins) // drop the cells' strings until the next chunk
	c.ins = ins[:0]
	err := c.take(results)
	clear(results)
	c.results = results[:0]
	if err != nil {
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
		for c.next < len(c.queue) && c.queue[c.next].ready {
			c.next++
		}
		if c.next >= len(c.queue) {
			return fmt.Errorf("check: result for row %d has no row", res.Row)
		}
		c.queue[c.next].res, c.queue[c.next].ready = res, true
		c.next++
	}
	return nil
}

// flush delivers the ready rows at the head of the queue.
func (c *checker) flush() error {
	i := 0
	for ; i < len(c.queue) && c.queue[i].ready; i++ {
		if err := c.deliver(c.queue[i].res, c.queue[i].cells); err != nil {
			return err
		}
	}
	if i > 0 {
		n := copy(c.queue, c.queue[i:])
		clear(c.queue[n:]) // let delivered rows be collected
		c.queue = c.queue[:n]
		c.next -= i
		if c.next < 0 {
			c.next = 0
		}
	}
	return nil
}

// deliver counts a final row and hands it to fn.
func (c *checker) deliver(res validate.Result, cells []string) error {
	c.count(res)
	return c.fn(Checked{Result: res, Cells: cells, Mapping: &c.m})
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
	return validate.Input{
		Row:          row.Number,
		Amount:       c.cell(row, FieldAmount),
		AmountCents:  c.cell(row, FieldAmountCents),
		Name:         c.cell(row, FieldName),
		Document:     c.cell(row, FieldDocument),
		DocumentType: c.cell(row, FieldDocumentType),
		Institution:  c.cell(row, FieldInstitution),
		Branch:       c.cell(row, FieldBranch),
		Account:      c.cell(row, FieldAccount),
		AccountType:  c.cell(row, FieldAccountType),
		ScheduledTo:  c.cell(row, FieldScheduledTo),
		Reference:    c.cell(row, FieldReference),
	}
}

// cell is field f of row for the validator; a missing column gives the
// zero Cell (Present false), a short row an empty value.
func (c *checker) cell(row sheet.Row, f Field) validate.Cell {
	col := c.cols[f]
	if col.index < 0 {
		return validate.Cell{}
	}
	vc := validate.Cell{Column: col.name, Present: true}
	if col.index < len(row.Cells) {
		vc.Value = row.Cells[col.index].Value
		vc.Kind = kind(row.Cells[col.index].Kind)
	}
	return vc
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
