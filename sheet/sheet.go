// Package sheet turns payout files into rows of raw cells, and rows of cells
// into results files.
//
// It knows nothing of banking rules. Reading streams: a CSV file is decoded
// record by record with encoding/csv (separator, BOM and encoding sniffed from
// the file), and an XLSX workbook is read straight from its zip with
// encoding/xml, so memory stays bounded by one row plus the workbook's
// shared strings. Rows are numbered as Excel numbers them (1-based, header
// row = 1 when it is the first line), so that every message a user reads
// points at the row they see.
//
// The table need not start on the first row: with Options.IsHeader, the
// header is found among the first MaxHeaderRow rows of the first worksheet
// that has it, under titles and blank lines; Options.HeaderRow gives it.
//
// Whoever wrote the file, Limits bound what it can make the reader hold or
// do: columns, characters in a cell, bytes in a row, XML nesting and token
// sizes, the shared strings, how far a workbook decompresses. A file past a
// limit is refused with a one-line *LimitError naming the limit and the
// row and cell (or the part) where it was passed, before more than about a
// row is held.
//
// A row-level problem (wrong number of fields, bad quoting, invalid UTF-8,
// a formula without a computed value, cells far past the header's) is
// returned in Row.Err together with the row, and reading goes on; only I/O
// failures, corrupt archives and limits passed stop reading.
package sheet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// Kind tells how a spreadsheet typed a cell.
type Kind uint8

const (
	// Text is a cell typed as text (every CSV cell, XLSX shared, inline
	// and formula strings, booleans as "TRUE"/"FALSE", error values such as
	// "#N/A").
	Text Kind = iota
	// Number is a numeric XLSX cell. Value is the stored value in plain
	// decimal notation, exactly as stored (no rounding, no exponent, no
	// trailing ".0"): "76937.320000000022", "12345678909", "-0.5".
	Number
	// Date is a numeric XLSX cell whose number format is a date format.
	// Value is the calendar date "yyyy-mm-dd" (the time of day is dropped).
	Date
)

// String returns "text", "number" or "date".
func (k Kind) String() string {
	switch k {
	case Text:
		return "text"
	case Number:
		return "number"
	case Date:
		return "date"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Cell is one raw cell value and how the spreadsheet typed it.
type Cell struct {
	Value string
	Kind  Kind
	// Format is how an XLSX workbook shows a Number or Date cell, so that a
	// results sheet can show it the same way; nil for text, for CSV, and
	// for the General format. The cells of one style share one, so that a
	// cell stays 32 bytes.
	Format *NumberFormat
}

// NumberFormat is a cell's number format: a built-in one by its ID (the
// locale's short date is 14), or a custom one by its code ("R$ #,##0.00",
// "dd/mm/yyyy"), when Code is set.
type NumberFormat struct {
	ID   int
	Code string
}

// String returns the format's code, or "#ID" for a built-in one; "" for
// nil (General).
func (f *NumberFormat) String() string {
	switch {
	case f == nil:
		return ""
	case f.Code != "":
		return f.Code
	}
	return "#" + strconv.Itoa(f.ID)
}

// Row is one non-empty record of the sheet.
type Row struct {
	// Number is the 1-based row number as Excel shows it (header = 1 when
	// it is on the first line). For CSV it counts records as Excel would
	// show them: blank lines count, a quoted field spanning lines does not
	// add rows.
	Number int
	// Line is, for CSV, the 1-based physical line where the record starts;
	// 0 for XLSX.
	Line int
	// Cells may be shorter than the header (XLSX drops trailing empty
	// cells) or longer (a CSV row with too many fields, a stray cell past
	// the header), by at most Limits.ColumnMargin: bounds-check. Nil when
	// Values holds the row instead.
	Cells []Cell
	// Values is set instead of Cells by Reader.NextText on a CSV file: the
	// cells' values, all of kind Text, as many as Cells would have had. The
	// reader reuses the slice (not the strings) for the next row: copy
	// what must outlive the next call to Next or NextText.
	Values []string
	// Err is a problem with this row only (*ParseError); the row is still
	// returned so the caller can report it, and reading goes on.
	Err error
}

// Format is the kind of file a Reader reads.
type Format uint8

const (
	// CSV is delimited text.
	CSV Format = iota + 1
	// XLSX is an Office Open XML workbook.
	XLSX
)

// String returns "CSV" or "XLSX".
func (f Format) String() string {
	switch f {
	case CSV:
		return "CSV"
	case XLSX:
		return "XLSX"
	}
	return "format(" + strconv.Itoa(int(f)) + ")"
}

// DefaultMaxUnzipSize is the default cap, in bytes, on what an XLSX file may
// decompress to (1 GiB): far above a million-row payout sheet, far below
// what a zip bomb expands to.
const DefaultMaxUnzipSize int64 = 1 << 30

// Options configures Open. The zero value is ready to use.
type Options struct {
	// Sheet names the XLSX worksheet to read; empty means the first
	// visible one (with IsHeader, the first visible one that has the
	// header). Ignored for CSV.
	Sheet string
	// TmpDir is where temporary files may be written. The reader streams
	// the worksheet straight out of the zip and currently writes none; the
	// field is kept so callers configure one place for scratch space.
	TmpDir string
	// MaxUnzipSize caps the bytes an XLSX may decompress to, all parts read
	// and every cell's text included; 0 means DefaultMaxUnzipSize. A small
	// file is capped lower, by Limits.Expansion.
	MaxUnzipSize int64
	// Limits bound the columns, cells, rows and XML a sheet may have; the
	// zero value is DefaultLimits.
	Limits Limits
	// HeaderRow is the 1-based row, as Excel numbers it, that holds the
	// header; the rows above it are skipped. 0 means the header is found:
	// by IsHeader among the first MaxHeaderRow rows, or, without IsHeader,
	// as the first non-empty row.
	HeaderRow int
	// IsHeader, when set, finds the table: it tells whether a row's cells
	// (trimmed) are the header the caller needs, and when they are not, a
	// score (say, how many of the columns sought the row has) so that an
	// error can name the row closest to a header. Open takes the first row
	// it accepts among the first MaxHeaderRow rows (or row HeaderRow), so
	// that titles, a company name or blank lines above the header are
	// skipped. With no Sheet named, each visible worksheet of a workbook is
	// tried in order, and the first that has the header is read. When none
	// has it, Open fails with a *NoHeaderError.
	IsHeader func(cells []string) (score int, ok bool)
}

// MaxHeaderRow is how far down a worksheet Open looks for the header with
// Options.IsHeader: rows 1 to 20, room for the titles, dates and company
// details finance teams put above a table.
const MaxHeaderRow = 20

// Sentinel errors, for errors.Is. Messages read well after "open FILE: ".
var (
	// ErrEmpty: the file has no bytes, or no non-empty row.
	ErrEmpty = errors.New("empty file: no header row")
	// ErrNotSpreadsheet: the content is neither CSV text nor an XLSX workbook.
	ErrNotSpreadsheet = errors.New("not a spreadsheet")
	// ErrOldExcel: an OLE compound file (Excel 97-2003 .xls, or a
	// password-protected workbook).
	ErrOldExcel = errors.New("old .xls format (or a password-protected workbook): save it as .xlsx or CSV")
	// ErrTooLarge: the workbook decompresses past Options.MaxUnzipSize, or
	// past Limits.Expansion times its size.
	ErrTooLarge = errors.New("workbook decompresses past the size limit (a zip bomb?)")
	// ErrNoSheet: Options.Sheet names no worksheet.
	ErrNoSheet = errors.New("no such sheet")
	// ErrFieldCount: a CSV record has more or fewer fields than the header.
	ErrFieldCount = errors.New("wrong number of fields")
	// ErrInvalidUTF8: a CSV file judged UTF-8 has an invalid byte sequence.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrQuote: a quoted CSV field is malformed or never closed.
	ErrQuote = errors.New("bad quoting")
	// ErrCell: an XLSX cell cannot be read as its type says (bad number,
	// missing shared string, formula with no computed value).
	ErrCell = errors.New("unreadable cell")
	// ErrNoHeader: Options.IsHeader accepted none of the rows looked at
	// (a *NoHeaderError says which).
	ErrNoHeader = errors.New("no header row")
)

// SheetSearch is what Open looked at in one worksheet (or a CSV file) where
// it did not find the header.
type SheetSearch struct {
	// Sheet is the worksheet's name; "" for a CSV file.
	Sheet string
	// First and Last are the rows looked at, as Excel numbers them; both
	// are 0 when the rows looked at were all blank.
	First, Last int
	// Closest is the row that scored highest with Options.IsHeader, and
	// ClosestRow its number; nil and 0 when no row scored above 0 (with
	// Options.HeaderRow, the row given, whatever its score).
	Closest    []string
	ClosestRow int
	Score      int // Closest's score
}

// NoHeaderError says where Open looked for the header without finding it.
type NoHeaderError struct {
	Searched []SheetSearch // in workbook order
	// HeaderRow is Options.HeaderRow, when the header's row was given.
	HeaderRow int
}

// Error reads like `no header row in rows 1-20 of worksheet "Instruções",
// rows 1-9 of worksheet "Pagamentos"`.
func (e *NoHeaderError) Error() string {
	var parts []string
	for _, s := range e.Searched {
		var b strings.Builder
		switch {
		case s.First == 0 && e.HeaderRow > 0:
			fmt.Fprintf(&b, "row %d (blank)", e.HeaderRow)
		case s.First == 0:
			b.WriteString("no rows")
		case s.First == s.Last:
			fmt.Fprintf(&b, "row %d", s.First)
		default:
			fmt.Fprintf(&b, "rows %d-%d", s.First, s.Last)
		}
		if s.Sheet != "" {
			fmt.Fprintf(&b, " of worksheet %q", s.Sheet)
		}
		parts = append(parts, b.String())
	}
	return ErrNoHeader.Error() + " in " + strings.Join(parts, ", ")
}

// Unwrap returns ErrNoHeader.
func (e *NoHeaderError) Unwrap() error { return ErrNoHeader }

// Closest returns the search whose closest row scored highest, the first
// of them on a tie; false when there is none.
func (e *NoHeaderError) Closest() (SheetSearch, bool) {
	best := -1
	for i, s := range e.Searched {
		if s.ClosestRow > 0 && (best < 0 || s.Score > e.Searched[best].Score) {
			best = i
		}
	}
	if best < 0 {
		return SheetSearch{}, false
	}
	return e.Searched[best], true
}

// ParseError is a row-level problem, found in Row.Err.
type ParseError struct {
	Row    int    // 1-based row as Excel numbers it
	Line   int    // CSV: 1-based physical line of the problem; XLSX: 0
	Column string // column as the header names it, or its letter ("C") when the header cell is blank or missing; "" for the whole row
	Value  string // the offending raw value, if any
	Err    error  // a sentinel (ErrFieldCount, ErrInvalidUTF8, ErrQuote, ErrCell) possibly wrapped with detail
}

// Error reads like "row 7 (line 9), column "Conta": invalid UTF-8: "Jos\xe9"".
func (e *ParseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "row %d", e.Row)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %q", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	if e.Value != "" {
		fmt.Fprintf(&b, ": %q", e.Value)
	}
	return b.String()
}

// Unwrap returns the underlying sentinel.
func (e *ParseError) Unwrap() error { return e.Err }

// source is one file format's row stream.
type source interface {
	next() (Row, error)
	// setHeader gives the source the header, read by its first next call,
	// for field counts and column names in messages.
	setHeader(h []string)
	close() error
}

// Reader streams the rows of one CSV or XLSX file. Its methods must not be
// called concurrently, except Progress.
type Reader struct {
	src       source
	format    format
	header    []string
	headerRow int
	sheet     string
	sheets    []string
	skipped   []SheetSearch
	progress  *progress
}

type format struct {
	kind     Format
	sep      rune
	encoding string
}

// progress is shared with the source; Progress may be read from another
// goroutine (a progress bar) while Next runs.
type progress struct {
	done, total atomic.Int64
}

// Open opens a payout sheet, choosing the format by content (a zip is
// XLSX, text is CSV; the extension is not trusted), and reads the header
// row: the first non-empty row. Errors are one line, meant for the user:
// "open folha.xlsx: not a spreadsheet (a PDF file?)".
func Open(path string, opts Options) (*Reader, error) {
	r, err := open(path, opts)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return r, nil
}

func open(path string, opts Options) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		// The *PathError already names the file; keep only its reason.
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, errors.New("is a directory")
	}
	var magic [8]byte
	n, err := io.ReadFull(f, magic[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	r := &Reader{progress: &progress{}}
	r.progress.total.Store(st.Size())
	switch kind, err := sniff(magic[:n]); {
	case err != nil:
		f.Close()
		return nil, err
	case kind == XLSX:
		src, err := openXLSX(f, st.Size(), opts, r.progress)
		if err != nil {
			f.Close()
			return nil, err
		}
		r.src, r.format = src, format{kind: XLSX}
	default:
		src, err := openCSV(f, r.progress, opts.Limits.withDefaults())
		if err != nil {
			f.Close()
			return nil, err
		}
		r.src, r.format = src, format{kind: CSV, sep: src.sep, encoding: src.encoding}
	}
	if err := r.findTable(opts); err != nil {
		r.src.close()
		return nil, err
	}
	return r, nil
}

// findTable reads up to the header row: in the worksheet asked for, or in
// the first visible one that has it.
func (r *Reader) findTable(opts Options) error {
	x, ok := r.src.(*xlsxSource)
	if !ok {
		return r.readHeaderOrFail(opts, "")
	}
	names, visible := x.book.sheets()
	r.sheets = names
	if opts.Sheet != "" || opts.IsHeader == nil {
		return r.readHeaderOrFail(opts, x.sheet)
	}
	var searched []SheetSearch
	empty := true
	for i, name := range names {
		if !visible[i] {
			continue
		}
		// The first visible worksheet is open already (pickSheet), or
		// the first after it that has cells.
		if i < x.index {
			continue
		}
		if i > x.index {
			if err := x.openSheet(i); errors.Is(err, errNotTable) {
				continue // a chart: no table there
			} else if err != nil {
				return err
			}
		}
		found, search, err := r.readHeader(opts, name)
		if err != nil {
			return err
		}
		if found {
			r.sheet, r.skipped = name, searched
			return nil
		}
		empty = empty && search.First == 0
		searched = append(searched, search)
	}
	if len(searched) == 0 {
		// No visible worksheet: the one pickSheet chose.
		return r.readHeaderOrFail(opts, x.sheet)
	}
	if empty && opts.HeaderRow == 0 {
		return ErrEmpty
	}
	return &NoHeaderError{Searched: searched, HeaderRow: opts.HeaderRow}
}

// readHeaderOrFail reads up to the header of the one source there is.
func (r *Reader) readHeaderOrFail(opts Options, name string) error {
	r.sheet = name
	found, search, err := r.readHeader(opts, name)
	if err != nil || found {
		return err
	}
	if search.First == 0 && opts.HeaderRow == 0 {
		return ErrEmpty
	}
	return &NoHeaderError{Searched: []SheetSearch{search}, HeaderRow: opts.HeaderRow}
}

// sniff decides the format from the first bytes of the file.
func sniff(b []byte) (Format, error) {
	switch {
	case len(b) == 0:
		return 0, ErrEmpty
	case bytes.HasPrefix(b, []byte("PK\x03\x04")), bytes.HasPrefix(b, []byte("PK\x05\x06")):
		return XLSX, nil
	case bytes.HasPrefix(b, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		return 0, ErrOldExcel
	case bytes.HasPrefix(b, []byte("%PDF")):
		return 0, fmt.Errorf("%w (a PDF file?)", ErrNotSpreadsheet)
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return 0, fmt.Errorf("%w: UTF-16 text (Excel \"Unicode Text\"); save it as \"CSV UTF-8\"", ErrNotSpreadsheet)
	case bytes.IndexByte(b, 0) >= 0:
		// Text never holds NUL bytes; images, archives and executables do.
		return 0, fmt.Errorf("%w (binary content)", ErrNotSpreadsheet)
	}
	return CSV, nil
}

// readHeader reads the rows of the source up to its header, and reports
// whether it found it and, when not, what it looked at.
func (r *Reader) readHeader(opts Options, name string) (bool, SheetSearch, error) {
	last := 0 // no bound: the first non-empty row is the header
	switch {
	case opts.HeaderRow > 0:
		last = opts.HeaderRow
	case opts.IsHeader != nil:
		last = MaxHeaderRow
	}
	search := SheetSearch{Sheet: name}
	for {
		row, err := r.src.next()
		if err == io.EOF {
			return false, search, nil
		}
		if err != nil {
			return false, search, err
		}
		if last > 0 && row.Number > last {
			return false, search, nil
		}
		if row.Number < opts.HeaderRow {
			continue
		}
		if search.First == 0 {
			search.First = max(opts.HeaderRow, 1)
		}
		search.Last = row.Number
		cells := make([]string, len(row.Cells))
		for i, c := range row.Cells {
			cells[i] = strings.TrimSpace(c.Value)
		}
		if opts.IsHeader != nil {
			score, ok := opts.IsHeader(cells)
			if !ok {
				if score > search.Score || search.ClosestRow == 0 && opts.HeaderRow > 0 {
					search.Score, search.Closest, search.ClosestRow = score, cells, row.Number
				}
				continue
			}
		}
		if row.Err != nil {
			// A header we cannot read makes every later column name wrong.
			return false, search, fmt.Errorf("header: %w", row.Err)
		}
		r.header, r.headerRow = cells, row.Number
		r.src.setHeader(r.header)
		return true, search, nil
	}
}

// Header returns the header row as written, trimmed, BOM removed. Blank
// header cells are "".
func (r *Reader) Header() []string { return r.header }

// Next returns the next non-empty data row. It returns io.EOF at the end. A
// non-nil error other than io.EOF is fatal (I/O, corrupt zip or XML, a
// *LimitError): reading cannot go on. Row-level problems are in Row.Err
// instead.
func (r *Reader) Next() (Row, error) {
	return r.src.next()
}

// NextText is Next for a caller that wants the cells' values without
// the Cell wrappers. On a CSV file, whose cells are all Text, the row's
// values are in Row.Values (reused by the next call) and Row.Cells is nil:
// a million-row file is not copied into cells only to be copied out again.
// On an XLSX file, whose cells have kinds, it is exactly Next.
func (r *Reader) NextText() (Row, error) {
	if s, ok := r.src.(*csvSource); ok {
		return s.read(true)
	}
	return r.src.next()
}

// HeaderRow returns the header's row number, as Excel numbers it.
func (r *Reader) HeaderRow() int { return r.headerRow }

// Sheet returns the name of the worksheet read; "" for CSV.
func (r *Reader) Sheet() string { return r.sheet }

// Sheets returns the names of the workbook's worksheets, in order; nil for
// CSV.
func (r *Reader) Sheets() []string { return r.sheets }

// Skipped returns what was looked at in the worksheets before the one
// read, which had no header (Options.IsHeader); nil when the first visible
// worksheet was read.
func (r *Reader) Skipped() []SheetSearch { return r.skipped }

// Format returns CSV or XLSX.
func (r *Reader) Format() Format { return r.format.kind }

// Separator returns the CSV field separator (',', ';' or '\t'); 0 for XLSX.
func (r *Reader) Separator() rune { return r.format.sep }

// Encoding returns the CSV text encoding: "UTF-8", "UTF-8 with BOM" or
// "Windows-1252"; "" for XLSX.
func (r *Reader) Encoding() string { return r.format.encoding }

// Progress returns how far reading is, for a progress bar: bytes of the file
// consumed so far and the file size. For XLSX, done is the share of the
// worksheet decompressed so far scaled to the file size. It is safe to call
// from another goroutine.
func (r *Reader) Progress() (done, total int64) {
	return r.progress.done.Load(), r.progress.total.Load()
}

// Close releases the file.
func (r *Reader) Close() error { return r.src.close() }

// columnName names column i (0-based) for messages: the header text, or the
// Excel letter when the header cell is blank or missing.
func columnName(header []string, i int) string {
	if i < len(header) && header[i] != "" {
		return header[i]
	}
	return columnLetter(i)
}

// ColumnLetter returns the Excel letter of column i (0-based): 0 → "A",
// 26 → "AA".
func ColumnLetter(i int) string { return columnLetter(i) }

func columnLetter(i int) string {
	var b [8]byte
	p := len(b)
	for i++; i > 0; i = (i - 1) / 26 {
		p--
		b[p] = byte('A' + (i-1)%26)
	}
	return string(b[p:])
}
