package sheet

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// DateTimeLayout is the layout of a Date cell's Value that holds a time
// of day too, in the time zone its reader means (see Writer.WriteRow).
const DateTimeLayout = "2006-01-02T15:04:05"

// Writer writes a results sheet: a header, then rows, then Close. Nothing
// exists at the destination path until Close succeeds.
type Writer interface {
	// WriteHeader writes the header row; call it once, first.
	WriteHeader(cols []string) error
	// WriteRow writes one row. Cells of Kind Number in a money column hold
	// integer cents. In XLSX, a Number or Date cell is written as a number
	// or a date in its Format (a date without one as yyyy-mm-dd), so that
	// a sheet read keeps its cells' types and looks when written back. A
	// Date cell whose Value is a date and time of day, DateTimeLayout, is
	// written as a date-time (yyyy-mm-dd hh:mm:ss); CSV writes it as given.
	WriteRow(cells []Cell) error
	// Close commits the file atomically: written to a temporary file in the
	// same folder, synced, then renamed over the path. After a write error
	// Close removes the temporary file and returns the error.
	Close() error
}

// WriteOptions configures Create.
type WriteOptions struct {
	// Separator is the CSV field separator, normally the input's; 0 means
	// ';', what Brazilian Excel expects.
	Separator rune
	// MoneyColumns are 0-based indexes of columns holding amounts as integer
	// cents (Kind Number). XLSX writes them as numbers (cents/100) formatted
	// "R$ #,##0.00"; CSV writes reais with two decimals, with a decimal comma
	// when the separator is ';' and a point otherwise.
	MoneyColumns []int
	// StatusColumn is the 0-based index of the row-state column to colour in
	// XLSX (accepted/finished green, rejected/failed/invalid red,
	// needs_review amber, pending grey); -1 for none.
	StatusColumn int
	// Summary, when not empty, is written to an extra XLSX sheet "Summary",
	// its first row bold. Ignored for CSV.
	Summary [][]Cell
	// SummaryMoneyColumns are the 0-based columns of Summary whose Number
	// cells are integer cents, written as reais in R$ format.
	SummaryMoneyColumns []int
	// TmpDir is where excelize may spill large sheets while writing XLSX;
	// "" means the system default. The result itself is always staged next
	// to its path, so the final rename is atomic.
	TmpDir string
}

// Create starts a results file; the format comes from the extension (.csv
// or .xlsx, any case).
func Create(path string, opts WriteOptions) (Writer, error) {
	if opts.Separator == 0 {
		opts.Separator = ';'
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		w, err := newCSVWriter(path, opts)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		return w, nil
	case ".xlsx":
		w, err := newXLSXWriter(path, opts)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		return w, nil
	}
	return nil, fmt.Errorf("create %s: unknown extension: use .csv or .xlsx", path)
}

// commit syncs tmp and renames it over path, then syncs the folder so the
// rename itself survives a crash.
func commit(tmp *os.File, path string) error {
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // best effort: some filesystems refuse to sync a folder
		d.Close()
	}
	return nil
}

func tempFor(path string) (*os.File, error) {
	return os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
}

// centsToReais formats integer cents as reais with two decimals and the
// given decimal mark, exactly (no float): "-123456" → "-1234.56".
func centsToReais(cents string, mark byte) (string, error) {
	n, err := strconv.ParseInt(cents, 10, 64)
	if err != nil {
		return "", fmt.Errorf("amount %q is not whole cents", cents)
	}
	return Reais(n, mark), nil
}

type csvWriter struct {
	path   string
	tmp    *os.File
	buf    *bufio.Writer
	cw     *CSVWriter
	opts   WriteOptions
	money  []bool
	record []string
	err    error
	closed bool
}

func newCSVWriter(path string, opts WriteOptions) (*csvWriter, error) {
	tmp, err := tempFor(path)
	if err != nil {
		return nil, err
	}
	w := &csvWriter{path: path, tmp: tmp, buf: bufio.NewWriterSize(tmp, 64<<10), opts: opts}
	// A BOM makes Excel read the file as UTF-8, so accents survive.
	w.buf.Write(utf8BOM)
	w.cw = NewCSVWriter(w.buf, opts.Separator)
	w.cw.UseCRLF = true // what Excel writes and expects
	return w, nil
}

func (w *csvWriter) WriteHeader(cols []string) error {
	cells := make([]Cell, len(cols))
	for i, c := range cols {
		cells[i] = Cell{Value: c}
	}
	return w.write(cells, false)
}

func (w *csvWriter) WriteRow(cells []Cell) error { return w.write(cells, true) }

func (w *csvWriter) write(cells []Cell, data bool) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("write to closed writer")
	}
	mark := byte('.')
	if w.opts.Separator == ';' {
		mark = ','
	}
	w.record = w.record[:0]
	for i, c := range cells {
		v := CSVText(c)
		if data && c.Kind == Number && slices.Contains(w.opts.MoneyColumns, i) && c.Value != "" {
			// lote's own amount, never a formula: "-0,50" stays a number.
			reais, err := centsToReais(c.Value, mark)
			if err != nil {
				w.err = fmt.Errorf("write %s: column %d: %w", w.path, i+1, err)
				return w.err
			}
			v = reais
		}
		w.record = append(w.record, v)
	}
	if err := w.cw.Write(w.record); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.path, err)
	}
	return w.err
}

func (w *csvWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.err == nil {
		w.cw.Flush()
		w.err = w.cw.Error()
	}
	if w.err == nil {
		w.err = w.buf.Flush()
	}
	if w.err != nil {
		w.tmp.Close()
		os.Remove(w.tmp.Name())
		return w.err
	}
	if err := commit(w.tmp, w.path); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	return nil
}

// Sheet names used in results workbooks.
const (
	ResultsSheet = "Results"
	SummarySheet = "Summary"
)

type xlsxWriter struct {
	path   string
	opts   WriteOptions
	f      *excelize.File
	sw     *excelize.StreamWriter
	styles struct {
		header, money, date int
		datetime            int
		status              map[string]int
		formats             map[NumberFormat]int // the input's number formats
	}
	cols   int
	row    int // last row written or held back (1-based)
	values []any
	err    error
	closed bool

	// The first sizingRows rows are held back in pending and measured into
	// widths, because a stream writer takes column widths only before its
	// first row. Then sized is set and rows stream straight through.
	pending []pendingRow
	widths  colWidths
	sized   bool
}

// pendingRow is a row held back for column sizing: its 1-based row number
// and its cells as excelize takes them.
type pendingRow struct {
	row    int
	values []any
}

func newXLSXWriter(path string, opts WriteOptions) (*xlsxWriter, error) {
	// Fail now, not at Close, when the folder cannot take the file.
	probe, err := tempFor(path)
	if err != nil {
		return nil, err
	}
	probe.Close()
	os.Remove(probe.Name())

	f := excelize.NewFile(excelize.Options{TmpDir: opts.TmpDir})
	w := &xlsxWriter{path: path, opts: opts, f: f}
	if err := w.setup(); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func (w *xlsxWriter) setup() error {
	f := w.f
	if err := f.SetSheetName("Sheet1", ResultsSheet); err != nil {
		return err
	}
	var err error
	if w.styles.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return err
	}
	if w.styles.money, err = f.NewStyle(&excelize.Style{CustomNumFmt: ptrTo(`"R$" #,##0.00`)}); err != nil {
		return err
	}
	if w.styles.date, err = f.NewStyle(&excelize.Style{CustomNumFmt: ptrTo("yyyy-mm-dd")}); err != nil {
		return err
	}
	if w.styles.datetime, err = f.NewStyle(&excelize.Style{CustomNumFmt: ptrTo("yyyy-mm-dd hh:mm:ss")}); err != nil {
		return err
	}
	w.styles.status = map[string]int{}
	for color, states := range map[string][]string{
		"C6EFCE": {"accepted", "finished"},
		"FFC7CE": {"rejected", "failed", "invalid"},
		"FFEB9C": {"needs_review"},
		"D9D9D9": {"pending"},
	} {
		id, err := f.NewStyle(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{color}}})
		if err != nil {
			return err
		}
		for _, s := range states {
			w.styles.status[s] = id
		}
	}
	if w.sw, err = f.NewStreamWriter(ResultsSheet); err != nil {
		return err
	}
	// Panes must come before the first row in a stream.
	return w.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
}

func ptrTo[T any](v T) *T { return &v }

func (w *xlsxWriter) WriteHeader(cols []string) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("write to closed writer")
	}
	if w.row != 0 {
		return errors.New("header written twice")
	}
	// The header is always among the rows held back, so it is sized too.
	values := make([]any, 0, len(cols))
	for i, c := range cols {
		values = append(values, excelize.Cell{StyleID: w.styles.header, Value: c})
		w.widths.see(i, textWidth(c)+headerPadding)
	}
	w.cols = max(w.cols, len(cols))
	return w.emit(values)
}

// emit writes values as the next row, or holds them back while the columns
// are still being measured. A held-back row must not share its slice with
// the next one.
func (w *xlsxWriter) emit(values []any) error {
	w.row++
	if !w.sized {
		w.pending = append(w.pending, pendingRow{row: w.row, values: values})
		if len(w.pending) < sizingRows {
			return nil
		}
		if err := w.release(); err != nil {
			w.err = err
			return err
		}
		return nil
	}
	if err := w.setRow(w.row, values); err != nil {
		w.err = err
		return err
	}
	return nil
}

func (w *xlsxWriter) setRow(row int, values []any) error {
	cell, err := excelize.CoordinatesToCellName(1, row)
	if err == nil {
		err = w.sw.SetRow(cell, values)
	}
	if err != nil {
		return fmt.Errorf("write %s row %d: %w", w.path, row, err)
	}
	return nil
}

// release sets the column widths measured so far, then writes the rows held
// back; from then on rows stream straight through.
func (w *xlsxWriter) release() error {
	w.sized = true
	for i := range max(len(w.widths), w.cols) {
		if err := w.sw.SetColWidth(i+1, i+1, w.widths.width(i)); err != nil {
			return fmt.Errorf("write %s column %d width: %w", w.path, i+1, err)
		}
	}
	for _, p := range w.pending {
		if err := w.setRow(p.row, p.values); err != nil {
			return err
		}
	}
	w.pending = nil
	return nil
}

func (w *xlsxWriter) WriteRow(cells []Cell) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("write to closed writer")
	}
	if w.row == 0 {
		// Keep the frozen header row for the header.
		w.row = 1
	}
	// Rows streamed straight through share one slice; a row held back
	// for sizing needs its own.
	values := w.values[:0]
	if !w.sized {
		values = make([]any, 0, len(cells))
	}
	for i, c := range cells {
		v, err := w.cellValue(i, c)
		if err != nil {
			w.err = fmt.Errorf("write %s row %d column %d: %w", w.path, w.row+1, i+1, err)
			return w.err
		}
		values = append(values, v)
		if !w.sized {
			w.widths.see(i, displayWidth(c, v)+cellPadding)
		}
	}
	if w.sized {
		w.values = values
	}
	w.cols = max(w.cols, len(cells))
	return w.emit(values)
}

// displayWidth is how many characters Excel shows for cell c, written as v
// (what cellValue made of it): money as "R$ 1,234.56", dates as yyyy-mm-dd,
// anything else as its text.
func displayWidth(c Cell, v any) int {
	if x, ok := v.(excelize.Cell); ok {
		switch x.Value.(type) {
		case float64: // money: cellValue has checked it is whole cents
			cents, _ := strconv.ParseInt(c.Value, 10, 64)
			return moneyWidth(cents)
		case time.Time:
			if len(c.Value) == len(DateTimeLayout) {
				return len("2006-01-02 15:04:05")
			}
			return len("2006-01-02")
		}
	}
	return textWidth(c.Value)
}

// cellValue converts a cell for excelize; i is its 0-based column in the
// results sheet, or -1 in the summary, where no column is money or status.
func (w *xlsxWriter) cellValue(i int, c Cell) (any, error) {
	if c.Value == "" {
		return nil, nil
	}
	switch {
	case c.Kind == Number && slices.Contains(w.opts.MoneyColumns, i):
		return w.moneyValue(c)
	case c.Kind == Number:
		// Only numbers a double holds exactly in shortest form become number
		// cells; a 20-digit code stays text rather than change.
		if f, err := strconv.ParseFloat(c.Value, 64); err == nil && !math.IsInf(f, 0) && strconv.FormatFloat(f, 'f', -1, 64) == c.Value {
			if c.Format == nil {
				return f, nil
			}
			id, err := w.formatStyle(*c.Format)
			if err != nil {
				return nil, err
			}
			return excelize.Cell{StyleID: id, Value: f}, nil
		}
		return c.Value, nil
	case c.Kind == Date:
		if t, err := time.Parse("2006-01-02", c.Value); err == nil {
			id := w.styles.date
			if c.Format != nil {
				var err error
				if id, err = w.formatStyle(*c.Format); err != nil {
					return nil, err
				}
			}
			return excelize.Cell{StyleID: id, Value: t}, nil
		}
		if t, err := time.Parse(DateTimeLayout, c.Value); err == nil {
			// The wall clock as given: the cell holds no time zone.
			return excelize.Cell{StyleID: w.styles.datetime, Value: t}, nil
		}
		return c.Value, nil
	case i >= 0 && i == w.opts.StatusColumn:
		if id, ok := w.styles.status[strings.ToLower(strings.TrimSpace(c.Value))]; ok {
			return excelize.Cell{StyleID: id, Value: c.Value}, nil
		}
	}
	// Strings are written as string cells, never formulas, so "=1+1" and
	// "00123" come back exactly as given.
	return c.Value, nil
}

// moneyValue is a cell of integer cents as reais in R$ format.
func (w *xlsxWriter) moneyValue(c Cell) (excelize.Cell, error) {
	cents, err := strconv.ParseInt(c.Value, 10, 64)
	if err != nil || cents > 1<<53 || cents < -(1<<53) {
		return excelize.Cell{}, fmt.Errorf("amount %q is not whole cents", c.Value)
	}
	// Both operands are exact in a float64 and IEEE division rounds
	// correctly, so this is the double nearest to the decimal amount: the
	// same number Excel stores when 1234.56 is typed.
	return excelize.Cell{StyleID: w.styles.money, Value: float64(cents) / 100}, nil
}

// maxFormats bounds the number formats a results sheet takes from its
// input; a workbook has at most a few dozen. Past it, cells keep their
// type in the General format.
const maxFormats = 256

// formatStyle returns the style of a number format read from the input,
// made on first use.
func (w *xlsxWriter) formatStyle(nf NumberFormat) (int, error) {
	if id, ok := w.styles.formats[nf]; ok {
		return id, nil
	}
	if len(w.styles.formats) >= maxFormats {
		return 0, nil
	}
	st := &excelize.Style{NumFmt: nf.ID}
	if nf.Code != "" {
		st = &excelize.Style{CustomNumFmt: ptrTo(nf.Code)}
	}
	id, err := w.f.NewStyle(st)
	if err != nil {
		return 0, fmt.Errorf("number format %q: %w", nf.Code, err)
	}
	if w.styles.formats == nil {
		w.styles.formats = map[NumberFormat]int{}
	}
	w.styles.formats[nf] = id
	return id, nil
}

func (w *xlsxWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	defer w.f.Close()
	if w.err != nil {
		return w.err
	}
	if !w.sized {
		// Fewer rows than sizingRows: size the columns on all of them.
		if err := w.release(); err != nil {
			return err
		}
	}
	if err := w.finish(); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	return nil
}

func (w *xlsxWriter) finish() error {
	if w.cols > 0 {
		last, err := excelize.CoordinatesToCellName(w.cols, max(w.row, 1))
		if err != nil {
			return err
		}
		if err := w.f.AutoFilter(ResultsSheet, "A1:"+last, nil); err != nil {
			return err
		}
	}
	if err := w.sw.Flush(); err != nil {
		return err
	}
	if len(w.opts.Summary) > 0 {
		if err := w.writeSummary(); err != nil {
			return err
		}
	}
	tmp, err := tempFor(w.path)
	if err != nil {
		return err
	}
	if _, err := w.f.WriteTo(tmp); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	return commit(tmp, w.path)
}

func (w *xlsxWriter) writeSummary() error {
	if _, err := w.f.NewSheet(SummarySheet); err != nil {
		return err
	}
	var widths colWidths
	for r, cells := range w.opts.Summary {
		for c, cell := range cells {
			pad := cellPadding
			if r == 0 {
				pad++ // bold
			}
			widths.see(c, textWidth(cell.Value)+pad)
			name, err := excelize.CoordinatesToCellName(c+1, r+1)
			if err != nil {
				return err
			}
			money := r > 0 && cell.Kind == Number && cell.Value != "" && slices.Contains(w.opts.SummaryMoneyColumns, c)
			var v any
			if money {
				v, err = w.moneyValue(cell)
			} else {
				v, err = w.cellValue(-1, Cell{Value: cell.Value, Kind: cell.Kind})
			}
			if err != nil {
				return err
			}
			style := 0
			if x, ok := v.(excelize.Cell); ok {
				v, style = x.Value, x.StyleID
			}
			if money {
				widths.see(c, displayWidth(cell, excelize.Cell{Value: v})+cellPadding)
			}
			if err := w.f.SetCellValue(SummarySheet, name, v); err != nil {
				return err
			}
			if r == 0 {
				style = w.styles.header
			}
			if style != 0 {
				if err := w.f.SetCellStyle(SummarySheet, name, name, style); err != nil {
					return err
				}
			}
		}
	}
	for i := range widths {
		col, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return err
		}
		if err := w.f.SetColWidth(SummarySheet, col, col, widths.width(i)); err != nil {
			return err
		}
	}
	return nil
}
