package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"lote/sheet"
	"lote/validate"
)

// CheckOptions control how a sheet is read and validated. The zero value
// reads the first sheet and infers the decimal convention.
type CheckOptions struct {
	// Sheet names the XLSX worksheet to read; empty means the first that
	// has a header row.
	Sheet string
	// HeaderRow is the header's row as Excel numbers it; 0 means the first
	// of rows 1 to 20 that has the payout columns.
	HeaderRow int
	// Limits bound what the sheet may make the reader hold (columns, cell
	// and row sizes, XML, shared strings); the zero value is
	// sheet.DefaultLimits. A sheet past one is a *FileError wrapping a
	// *sheet.LimitError.
	Limits sheet.Limits
	// TmpDir is where large XLSX parts are extracted; empty means the
	// system's temporary directory.
	TmpDir string
	// Validate holds the rules' options (decimal convention, duplicates,
	// institution list, today's date).
	Validate validate.Options
	// ReuseRows lets Check reuse the memory of a delivered row once fn has
	// returned: fn must then keep neither Checked.Cells nor Checked.Payout
	// (the strings in them, and copies, may be kept). It is for a caller
	// that reports each row at once, like lote validate; checking a large
	// sheet then allocates far less.
	ReuseRows bool
}

// Checked is one data row after validation, with the cells as the user
// wrote them (one per header column, so the results can copy them). The
// cells of neighbouring rows share one allocation, each row's slice capped
// at its own cells: it may be kept and appended to, and keeping it keeps
// that allocation (a few hundred rows' cells) alive; unless
// CheckOptions.ReuseRows is set, when neither Cells nor Payout may be kept.
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
	Totals     int   // totals rows skipped (not payees, not in Rows)
	// Notes are what the user should know about the file as a whole:
	// where the table was found, columns not read, totals rows skipped.
	Notes []string
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
// The work is a pipeline, so that a million-row CSV is checked in little
// more than the time it takes to parse it on two cores: one goroutine reads
// the sheet, one per CPU (up to maxPreparers) checks each row's cells on
// their own
// (validate.Checker.Prepare), a chunk of rows at a time and in any order,
// and the caller's finishes the rows in file order (decimal convention,
// duplicates) and calls fn. Checking cells is the largest share of the
// work, and no one goroutine's share bounds the time: whichever CPU is free
// takes the next chunk. Rows travel in chunks that are recycled. Check
// returns only once the other goroutines have stopped.
func Check(ctx context.Context, path string, opts CheckOptions, fn func(Checked) error) (Summary, Mapping, error) {
	r, m, notes, err := OpenTable(path, opts)
	if err != nil {
		return Summary{}, m, &FileError{Path: path, Err: err}
	}
	defer r.Close()
	s := Summary{Format: formatName(r.Format()), Notes: append(notes, m.Notes...)}
	if r.Format() == sheet.CSV {
		s.Encoding, s.Separator = r.Encoding(), r.Separator()
	}
	vopts := opts.Validate
	vopts.ReusePayouts = vopts.ReusePayouts || opts.ReuseRows
	c := newChecker(m, validate.NewChecker(vopts), fn, &s)
	c.reuse = opts.ReuseRows
	p := startPipeline(ctx, r, c, min(runtime.GOMAXPROCS(0), maxPreparers))
	// Stopping the pipeline before r.Close (deferred above, so run after
	// this) keeps the reader from reading a closed file.
	defer p.stop()
	for {
		chunk, err := p.next()
		if err != nil {
			return s, c.m, err
		}
		if chunk == nil {
			break
		}
		if chunk.more > 0 {
			c.v.Reserve(chunk.more + len(chunk.items))
		}
		if err := c.add(chunk); err != nil {
			return s, c.m, err
		}
		if chunk.err != nil && !errors.Is(chunk.err, io.EOF) {
			return s, c.m, &FileError{Path: path, Err: chunk.err}
		}
		if len(c.queue) > 0 {
			// Rows of this chunk may be held back, waiting for the decimal
			// convention: their cells must not be overwritten.
			chunk.cells = nil
		}
		p.recycle(chunk)
	}
	return s, c.m, c.close()
}

// maxTotalsNotes is how many totals rows Summary.Notes names one by one.
const maxTotalsNotes = 20

// chunkRows is how many rows travel together: enough to make the hand-over
// cost nothing per row, few enough (with pipelineChunks) that a chunk is
// still in the shared cache when the next stage reads it. Measured on a
// million-row CSV with a preparer per CPU (2), 512 rows take about 8% less
// time than 256 (whose hand-overs woke goroutines 2,000 times a run) and
// than 4,096; 1,024 is as fast as 512.
const chunkRows = 512

// slabCells is how many cells split allocates at once when rows are not
// reused: as many as fit in Go's largest small-object size class (32 KiB,
// less the allocation header of objects holding pointers), a few hundred
// rows of a usual sheet. Larger, each allocation would take the slower
// path of large objects.
const slabCells = (32<<10 - 8) / 16

// pipelineChunks is how many chunks may wait for a preparer, beyond one per
// preparer (and besides those being read, prepared and finished).
const pipelineChunks = 2

// maxPreparers bounds the preparers whatever the CPUs: checking a row's
// cells takes about as long as reading it, so beyond a few the reader is
// the limit, and each preparer adds chunks in flight (memory).
const maxPreparers = 4

// estimateAfter is how far into a file (bytes, or for XLSX its share of
// the file) the reader estimates the rows left, so that the duplicate check
// can size its memory once; smaller files do not need it.
const estimateAfter = 1 << 20

// maxEstimate bounds that estimate (96 MiB of duplicate table): a file
// whose first rows are far shorter than the rest must not make Check
// reserve memory for rows that do not exist.
const maxEstimate = 4_000_000

// rowChunk is up to chunkRows rows in file order. err, when set, is what
// ended reading right after these rows (io.EOF at the end of the file).
type rowChunk struct {
	n   int // rows read into the chunk, blank ones included
	err error
	// more estimates how many rows follow this chunk, once, early in a
	// large file; 0 otherwise.
	more int

	// From the reader: one item per non-blank row, in row order.
	items []chunkItem
	// From the preparer: the items that go to the validator (err == nil),
	// checked on their own, in row order.
	prepared []validate.Prepared
	// done receives once the preparer has filled prepared (capacity 1, so
	// that the preparer never waits).
	done chan struct{}
	// cells is the buffer the rows' cells were carved from, kept for the
	// chunk's next use when rows are reused (CheckOptions.ReuseRows); nil
	// otherwise.
	cells []string
}

// chunkItem is a non-blank row: its cells as the user wrote them, and why
// the reader could not split it, if it could not.
type chunkItem struct {
	row   int
	cells []string
	kinds []sheet.Cell // the sheet's cells, for their kinds; nil when all are text
	err   error        // the sheet's Row.Err: the row never reaches the validator
}

// pipeline runs the reader and the preparers. The reader sends each chunk
// both to work, where the first free preparer takes it, and to order, where
// the caller takes the chunks in file order and waits for each to be
// prepared. Delivered chunks come back to the reader through free, so the
// hand-over allocates nothing in the steady state.
type pipeline struct {
	ctx   context.Context
	work  chan *rowChunk // reader → preparers
	order chan *rowChunk // reader → caller, in file order
	free  chan *rowChunk // caller → reader
	quit  chan struct{}  // closed by stop: the caller wants no more rows
	wg    sync.WaitGroup
}

// startPipeline starts reading r's rows and preparing them with c, on
// preparers goroutines. The caller must call stop, and must not use r
// until stop has returned.
func startPipeline(ctx context.Context, r *sheet.Reader, c *checker, preparers int) *pipeline {
	preparers = max(preparers, 1)
	inFlight := pipelineChunks + preparers
	p := &pipeline{
		ctx:   ctx,
		work:  make(chan *rowChunk, inFlight),
		order: make(chan *rowChunk, inFlight),
		free:  make(chan *rowChunk, inFlight+2),
		quit:  make(chan struct{}),
	}
	p.wg.Add(1 + preparers)
	go p.runReader(r, c)
	for range preparers {
		go p.runPreparer(c)
	}
	return p
}

func (p *pipeline) runReader(r *sheet.Reader, c *checker) {
	defer p.wg.Done()
	defer close(p.work)
	defer close(p.order)
	rows, estimated := 0, false
	var slab []string // cells are carved from it, a chunk's worth at a time
	for {
		var chunk *rowChunk
		select {
		case chunk = <-p.free:
		default:
			chunk = &rowChunk{
				items:    make([]chunkItem, 0, chunkRows),
				prepared: make([]validate.Prepared, 0, chunkRows),
				done:     make(chan struct{}, 1),
			}
		}
		if c.reuse {
			slab = chunk.cells // the chunk's rows from its last use are done with
		}
		for chunk.n < chunkRows {
			// NextText: a CSV row's values come as the reader's record,
			// copied once into the chunk's cells by split, rather than
			// into the sheet's cells first.
			row, err := r.NextText()
			if err != nil {
				chunk.err = err
				break
			}
			chunk.n++
			slab = c.split(chunk, row, slab)
		}
		if chunk.err == nil && p.ctx.Err() != nil {
			chunk.err = p.ctx.Err()
		}
		rows += chunk.n
		if done, total := r.Progress(); !estimated && chunk.err == nil && done >= estimateAfter && done < total {
			// The rows so far tell the bytes per row; the rest of the file
			// is about as dense. Read-ahead buffering makes done run at
			// most one buffer ahead, a small error this far in.
			estimated = true
			chunk.more = min(int(float64(total-done)/float64(done)*float64(rows)), maxEstimate)
		}
		// The chunk is the next stages' once sent: decide before. It goes
		// in line for the caller first, so that the caller waits for
		// chunks in the order they were read.
		last := chunk.err != nil
		select {
		case p.order <- chunk:
		case <-p.quit:
			return
		}
		select {
		case p.work <- chunk:
		case <-p.quit:
			return
		}
		if last {
			return
		}
	}
}

func (p *pipeline) runPreparer(c *checker) {
	defer p.wg.Done()
	// The input lives on this goroutine's stack: filling it there costs
	// less than in a chunk on the heap, where every string written would
	// pass the garbage collector's write barrier.
	var in validate.Input
	for {
		var chunk *rowChunk
		select {
		case chunk = <-p.work:
		case <-p.quit:
			return
		}
		if chunk == nil {
			return // work closed: reading has ended
		}
		for i := range chunk.items {
			if it := &chunk.items[i]; it.err == nil {
				c.input(&in, it)
				chunk.prepared = c.v.Prepare(chunk.prepared, in)
			}
		}
		chunk.done <- struct{}{}
	}
}

// next returns the next chunk in file order; nil when reading has ended and
// every chunk was returned. Its error is the context's, when cancelled.
func (p *pipeline) next() (*rowChunk, error) {
	if err := p.ctx.Err(); err != nil {
		return nil, err
	}
	chunk, ok := <-p.order
	if !ok {
		return nil, nil
	}
	select {
	case <-chunk.done:
	case <-p.ctx.Done():
		return nil, p.ctx.Err()
	}
	if chunk.err != nil && chunk.err == p.ctx.Err() {
		return nil, chunk.err
	}
	return chunk, nil
}

// recycle gives a delivered chunk back to the reader. Its slices are not
// cleared: every entry is overwritten whole before it is read again, and
// what the stale ones keep alive is bounded by the chunks in flight.
func (p *pipeline) recycle(chunk *rowChunk) {
	chunk.items, chunk.prepared = chunk.items[:0], chunk.prepared[:0]
	chunk.n, chunk.err, chunk.more = 0, nil, 0
	select {
	case p.free <- chunk:
	default:
	}
}

// stop tells the reader and the preparers to stop and waits until they
// have: after stop, the sheet may be closed. It is safe to call at any
// time, more than once.
func (p *pipeline) stop() {
	select {
	case <-p.quit:
	default:
		close(p.quit)
	}
	p.wg.Wait()
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
	reuse bool // CheckOptions.ReuseRows
	m     Mapping
	cols  [numFields]column
	v     *validate.Checker
	fn    func(Checked) error
	sum   *Summary
	queue []pendingRow // in row order; head delivered first
	next  int          // index in queue of the first row the validator still owes

	results []validate.Result // scratch, reused from chunk to chunk
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

// split adds a row read to chunk: nothing for a blank row, else its cells,
// carved from slab (the rest of which it returns). It runs on the reader's
// goroutine, where the row's cells are still in the cache, and only reads
// c's per-file settings.
//
// A CSV row comes as Values (all text, and reused by the reader for the
// next row, hence the copy); an XLSX row as Cells, whose kinds are kept.
func (c *checker) split(chunk *rowChunk, row sheet.Row, slab []string) []string {
	text := row.Values != nil
	width := len(row.Cells)
	if text {
		width = len(row.Values)
	}
	if row.Err == nil && (text && blankValues(row.Values) || !text && blank(row.Cells)) {
		return slab // an empty line is not a payout
	}
	// The cells of many rows share one allocation. Each row's slice is
	// capped at its own cells, so a caller appending to one never writes
	// into another's.
	n := max(len(c.m.Header), width)
	var cells []string
	switch {
	case n > len(c.m.Header) && c.reuse:
		// A row wider than the header (extra fields, a stray cell far to
		// the right) is rare and may be very wide: its own allocation,
		// never kept for reuse.
		cells = make([]string, n)
	case n > len(slab):
		if c.reuse {
			// One buffer per chunk, for a whole chunk of rows as wide as
			// the header, kept for its next use (see recycle).
			chunk.cells = make([]string, chunkRows*n)
			slab = chunk.cells
		} else {
			slab = make([]string, max(n, slabCells))
		}
		fallthrough
	default:
		cells = slab[:n:n]
		slab = slab[n:]
	}
	it := chunkItem{row: row.Number, cells: cells, err: row.Err}
	if text {
		copy(cells, row.Values)
	} else {
		for i, cell := range row.Cells {
			cells[i] = cell.Value
		}
		it.kinds = row.Cells
	}
	// A short row (fewer cells than the header, as XLSX rows without their
	// trailing empty cells are) is padded with empty cells; a reused
	// buffer still holds the cells of an earlier row there.
	clear(cells[width:])
	chunk.items = append(chunk.items, it)
	return slab
}

// add finishes a prepared chunk's rows, in file order, and delivers those
// that are final.
func (c *checker) add(chunk *rowChunk) error {
	if len(c.queue) == 0 && len(chunk.prepared) == len(chunk.items) {
		// Nothing held back and every row readable, the usual case: when
		// the validator finishes every row of the chunk, each result goes
		// with its item, and the queue is not needed.
		results := c.v.AddPrepared(c.results[:0], chunk.prepared)
		c.results = results[:0]
		if len(results) == len(chunk.items) {
			for i := range results {
				if err := c.deliver(&results[i], chunk.items[i].cells); err != nil {
					return err
				}
			}
			return nil
		}
		// Some rows wait for the decimal convention: queue the chunk's rows
		// and attach the results that are final.
		for _, it := range chunk.items {
			c.queue = append(c.queue, pendingRow{cells: it.cells})
		}
		return c.attach(results)
	}
	for _, it := range chunk.items {
		if it.err != nil {
			// The reader could not split this row: it is reported as it is,
			// and never reaches the validator, so it can never be paid.
			res := validate.Result{Row: it.row, Errors: []validate.FieldError{{
				Row: it.row, Code: UnreadableRow, Value: strings.Join(TrimCells(it.cells), " | "), Err: it.err,
			}}}
			c.queue = append(c.queue, pendingRow{cells: it.cells, res: res, ready: true})
			continue
		}
		c.queue = append(c.queue, pendingRow{cells: it.cells})
	}
	results := c.v.AddPrepared(c.results[:0], chunk.prepared)
	c.results = results[:0]
	return c.attach(results)
}

// attach gives the validator's results to the queued rows that wait for
// them and delivers the rows now ready at the head of the queue.
func (c *checker) attach(results []validate.Result) error {
	// results is scratch, reused for the next chunk: it is not cleared, as
	// every entry is overwritten before it is read again.
	if err := c.take(results); err != nil {
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
		if err := c.deliver(&c.queue[i].res, c.queue[i].cells); err != nil {
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
// res is passed by pointer: a Result is 152 bytes, and copying it once more
// per row is measurable on a million rows.
func (c *checker) deliver(res *validate.Result, cells []string) error {
	if res.Total {
		// The notes are bounded: a sheet of nothing but totals rows must
		// not make a summary as large as itself.
		c.sum.Totals++
		switch {
		case c.sum.Totals <= maxTotalsNotes:
			c.sum.Notes = append(c.sum.Notes, fmt.Sprintf("row %d is a totals row (%s): not paid", res.Row, res.TotalNote))
		case c.sum.Totals == maxTotalsNotes+1:
			c.sum.Notes = append(c.sum.Notes, "more totals rows follow, not paid either")
		}
		return nil
	}
	c.count(res)
	return c.fn(Checked{Result: *res, Cells: cells, Mapping: &c.m})
}

func (c *checker) count(r *validate.Result) {
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

// input sets in to an item's cells, by field. Every field is written, so in
// can be reused from row to row.
func (c *checker) input(in *validate.Input, it *chunkItem) {
	in.Row = it.row
	c.cell(&in.Amount, it, FieldAmount)
	c.cell(&in.AmountCents, it, FieldAmountCents)
	c.cell(&in.Name, it, FieldName)
	c.cell(&in.Document, it, FieldDocument)
	c.cell(&in.DocumentType, it, FieldDocumentType)
	c.cell(&in.Institution, it, FieldInstitution)
	c.cell(&in.Branch, it, FieldBranch)
	c.cell(&in.Account, it, FieldAccount)
	c.cell(&in.AccountType, it, FieldAccountType)
	c.cell(&in.ScheduledTo, it, FieldScheduledTo)
	c.cell(&in.Reference, it, FieldReference)
	c.cell(&in.AccountDigit, it, FieldAccountDigit)
	c.cell(&in.BranchDigit, it, FieldBranchDigit)
	c.cell(&in.CPF, it, FieldCPF)
	c.cell(&in.CNPJ, it, FieldCNPJ)
	c.cell(&in.PixKey, it, FieldPixKey)
	in.TotalsLabel = c.totalsLabel(in, it)
}

// cell sets vc to field f of an item: the zero Cell (Present false) for a
// column the sheet does not have, an empty value past the end of a short
// row (it.cells is padded to the header's width).
//
// The fields are set one by one: assigning a whole Cell makes the compiler
// build it in a temporary and copy that in 16-byte words over its 8-byte
// stores, which stalls the CPU on every cell (7% of validating a CSV).
func (c *checker) cell(vc *validate.Cell, it *chunkItem, f Field) {
	col := &c.cols[f]
	if col.index < 0 {
		vc.Column, vc.Value, vc.Kind, vc.Present = "", "", validate.Text, false
		return
	}
	vc.Column, vc.Kind, vc.Present = col.name, validate.Text, true
	if col.index >= len(it.cells) {
		vc.Value = ""
		return
	}
	vc.Value = it.cells[col.index]
	if col.index < len(it.kinds) {
		vc.Kind = kind(it.kinds[col.index].Kind)
	}
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

func blankValues(values []string) bool {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

func blank(cells []sheet.Cell) bool {
	for _, c := range cells {
		if strings.TrimSpace(c.Value) != "" {
			return false
		}
	}
	return true
}
