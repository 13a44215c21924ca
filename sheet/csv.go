package sheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// sampleSize is how much of a CSV file decides its encoding and separator.
// 64 KiB holds the header and hundreds of rows of a payout sheet; a later
// invalid byte in a file judged UTF-8 is reported on its row, never decoded
// as another encoding.
const sampleSize = 64 << 10

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// csvSource reads records with encoding/csv and numbers them as Excel would.
type csvSource struct {
	file     *os.File
	in       *fileReader
	cr       *csv.Reader
	sep      rune
	encoding string
	checkUTF bool // UTF-8 files: fields must be valid UTF-8
	header   []string
	lim      Limits

	// extra counts physical lines consumed by fields spanning lines, so that
	// Row.Number = line - extra matches the row Excel shows.
	extra int

	slab []Cell // the unused rest of the cells last allocated by toCells
}

// fileReader reads the file for encoding/csv: it adds the bytes read to
// the reader's progress, and watches whether they are valid UTF-8 as they
// go by, a block at a time, so that the records of a valid UTF-8 file need
// no check of their own.
type fileReader struct {
	r     io.Reader
	p     *progress
	utf8v utf8Watch
}

func (f *fileReader) Read(b []byte) (int, error) {
	n, err := f.r.Read(b)
	f.p.done.Add(int64(n))
	f.utf8v.write(b[:n])
	if err == io.EOF {
		f.utf8v.end()
	}
	return n, err
}

// utf8Watch validates a byte stream as UTF-8 in the blocks it comes in. A
// rune cut by the end of a block is carried to the next. Once bad, it stays
// bad and checks nothing more.
type utf8Watch struct {
	bad   bool
	carry [utf8.UTFMax]byte
	n     int // bytes of carry in use: the start of a rune the block cut
}

func (w *utf8Watch) write(b []byte) {
	if w.bad || len(b) == 0 {
		return
	}
	if w.n > 0 {
		// Finish the carried rune with the first bytes of b.
		var buf [2 * utf8.UTFMax]byte
		t := append(buf[:0], w.carry[:w.n]...)
		t = append(t, b[:min(len(b), utf8.UTFMax)]...)
		if !utf8.FullRune(t) {
			w.n = copy(w.carry[:], t) // still cut: b was shorter than the rune
			return
		}
		r, size := utf8.DecodeRune(t)
		if r == utf8.RuneError && size == 1 {
			w.bad = true
			return
		}
		b = b[size-w.n:]
		w.n = 0
	}
	// Carry the last rune if the block cut it.
	for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				w.n = copy(w.carry[:], b[len(b)-i:])
				b = b[:len(b)-i]
			}
			break
		}
	}
	if !utf8.Valid(b) {
		w.bad = true
	}
}

// end is called at the end of the stream: a rune still cut is invalid.
func (w *utf8Watch) end() {
	if w.n > 0 {
		w.bad = true
	}
}

func openCSV(f *os.File, p *progress, lim Limits) (*csvSource, error) {
	in := &fileReader{r: f, p: p}
	br := bufio.NewReaderSize(in, sampleSize)
	sample, err := br.Peek(sampleSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, err
	}
	s := &csvSource{file: f, in: in, lim: lim}
	switch {
	case bytes.HasPrefix(sample, utf8BOM):
		if _, err := br.Discard(len(utf8BOM)); err != nil {
			return nil, err
		}
		sample = sample[len(utf8BOM):]
		s.encoding, s.checkUTF = "UTF-8 with BOM", true
	case !in.utf8v.bad:
		// The sample is all that was read, and the watch found it valid: a
		// character cut by the sample's end waits for the next bytes, and
		// only one cut by the end of the file counts against it.
		s.encoding, s.checkUTF = "UTF-8", true
	default:
		// Excel on a Brazilian Windows saves plain "CSV" in the machine's
		// code page, Windows-1252; every byte decodes, so no later check.
		s.encoding = "Windows-1252"
	}
	if len(bytes.TrimSpace(sample)) == 0 {
		return nil, ErrEmpty
	}
	s.sep = sniffSeparator(sample)
	var text io.Reader = br
	if !s.checkUTF {
		text = transform.NewReader(br, charmap.Windows1252.NewDecoder())
	}
	s.cr = csv.NewReader(newCSVGuard(text, s.sep, lim))
	s.cr.Comma = s.sep
	s.cr.FieldsPerRecord = -1 // counted against the header here, with Excel row numbers
	s.cr.ReuseRecord = true
	return s, nil
}

// sniffSeparator picks ',', ';' or tab from the header record, counting only
// separators outside quotes. A tie is broken by the following lines of the
// sample (the separator that splits them into as many fields as the header),
// then by preference for ';' (Brazilian Excel), tab, ','.
func sniffSeparator(sample []byte) rune {
	cands := []byte{';', '\t', ','}
	lines := splitRecords(sample, 11)
	if len(lines) == 0 {
		return ';'
	}
	best, bestN := byte(';'), -1
	var tied []byte
	for _, c := range cands {
		n := countOutsideQuotes(lines[0], c)
		switch {
		case n > bestN:
			best, bestN, tied = c, n, []byte{c}
		case n == bestN:
			tied = append(tied, c)
		}
	}
	if bestN == 0 || len(tied) == 1 {
		return rune(best)
	}
	for _, c := range tied {
		consistent := true
		for _, l := range lines[1:] {
			if countOutsideQuotes(l, c) != bestN {
				consistent = false
				break
			}
		}
		if consistent {
			return rune(c)
		}
	}
	return rune(tied[0])
}

// splitRecords returns up to max records of b, split at newlines outside
// quotes; blank lines are left out, and a record cut by the end of b is
// dropped unless it is the only one.
func splitRecords(b []byte, max int) [][]byte {
	var out [][]byte
	inQuotes, start := false, 0
	for i, c := range b {
		switch {
		case c == '"':
			inQuotes = !inQuotes
		case c == '\n' && !inQuotes:
			if rec := bytes.TrimRight(b[start:i], "\r"); len(bytes.TrimSpace(rec)) > 0 {
				out = append(out, rec)
				if len(out) == max {
					return out
				}
			}
			start = i + 1
		}
	}
	if len(out) == 0 && len(bytes.TrimSpace(b[start:])) > 0 {
		out = append(out, b[start:])
	}
	return out
}

func countOutsideQuotes(b []byte, sep byte) int {
	n, inQuotes := 0, false
	for _, c := range b {
		switch {
		case c == '"':
			inQuotes = !inQuotes
		case c == sep && !inQuotes:
			n++
		}
	}
	return n
}

func (s *csvSource) setHeader(h []string) { s.header = h }

func (s *csvSource) close() error { return s.file.Close() }

// next returns the next non-empty record as a Row.
//
// encoding/csv reports a quote left open up to the end of the file as
// ErrQuote (it does not swallow the later rows silently); we report it on
// the row where the quote opened.
func (s *csvSource) next() (Row, error) { return s.read(false) }

// read returns the next non-empty record: in Row.Values when values is
// set (the record itself, reused by the next read), else in Row.Cells.
func (s *csvSource) read(values bool) (Row, error) {
	for {
		rec, err := s.cr.Read()
		if err == io.EOF {
			return Row{}, io.EOF
		}
		if err != nil {
			if row, ok := s.quoteError(rec, err, values); ok {
				return row, nil
			}
			return Row{}, fmt.Errorf("read CSV: %w", err)
		}
		line, _ := s.cr.FieldPos(0)
		number := line - s.extra
		// The lines the record's quoted fields spanned: every line feed
		// before its last field moved that field's start down a line.
		if len(rec) > 0 {
			last, _ := s.cr.FieldPos(len(rec) - 1)
			s.extra += last - line
			if f := rec[len(rec)-1]; strings.IndexByte(f, '\n') >= 0 {
				s.extra += strings.Count(f, "\n")
			}
		}
		if blank(rec) {
			// Excel shows an empty row here; it is skipped but still counted.
			continue
		}
		fields := len(rec)
		if s.header == nil && fields > s.lim.Columns {
			// The header says what the columns are: past the limit, the
			// file is not a payout sheet lote can read.
			return Row{}, &LimitError{Limit: columnsLimit(s.lim.Columns), Max: int64(s.lim.Columns), Row: number,
				Column: columnLetter(s.lim.Columns), Hint: "the last column lote reads is " + columnLetter(s.lim.Columns-1)}
		}
		if s.header != nil && fields > len(s.header)+s.lim.ColumnMargin {
			// Fields far past the header's are not kept: a row of a
			// thousand empty fields must not become a thousand cells in
			// every file and page made from the sheet.
			rec = rec[:len(s.header)+s.lim.ColumnMargin]
		}
		row := Row{Number: number, Line: line}
		s.fill(&row, rec, values)
		// Records need a check of their own only once the file has shown
		// an invalid byte: reading runs ahead of the records, so until
		// then every record returned was valid.
		if s.checkUTF && s.in.utf8v.bad {
			for i, f := range rec {
				if !utf8.ValidString(f) {
					fl, _ := s.cr.FieldPos(i)
					row.Err = &ParseError{
						Row: number, Line: fl + strings.Count(f[:firstInvalid(f)], "\n"), Column: columnName(s.header, i), Value: f,
						Err: fmt.Errorf("%w (the file starts as UTF-8 but is not UTF-8 here; save it again as \"CSV UTF-8\")", ErrInvalidUTF8),
					}
					return row, nil
				}
			}
		}
		if s.header != nil && fields != len(s.header) {
			perr := &ParseError{
				Row: number, Line: line,
				Err: fmt.Errorf("%w: %d instead of %d (the header's)", ErrFieldCount, fields, len(s.header)),
			}
			if fields > len(rec) {
				perr.Err = fmt.Errorf("%w: %d instead of %d (the header's); those past column %s are left out",
					ErrFieldCount, fields, len(s.header), columnLetter(len(rec)-1))
			}
			row.Err = perr
		}
		return row, nil
	}
}

// quoteError turns encoding/csv's quoting errors into a row with Err set,
// so that reading goes on at the next line.
func (s *csvSource) quoteError(rec []string, err error, values bool) (Row, bool) {
	var pe *csv.ParseError
	if !errors.As(err, &pe) || pe.Err != csv.ErrQuote && pe.Err != csv.ErrBareQuote {
		return Row{}, false
	}
	row := Row{Number: pe.StartLine - s.extra, Line: pe.StartLine}
	s.fill(&row, rec, values)
	// The rest of the bad line was consumed; later rows keep their
	// numbers.
	s.extra += pe.Line - pe.StartLine
	perr := &ParseError{
		Row: row.Number, Line: pe.Line, Column: columnName(s.header, len(rec)),
		Err: fmt.Errorf("%w: %v (column %d of the line)", ErrQuote, pe.Err, pe.Column),
	}
	if pe.Line != pe.StartLine {
		// A quote left open ran over the following lines: point at
		// where it opened, and say which lines it took.
		perr.Line = pe.StartLine
		perr.Err = fmt.Errorf("%w: a quoted field is not closed properly, so lines %d-%d were read as one cell", ErrQuote, pe.StartLine, pe.Line)
	}
	row.Err = perr
	return row, true
}

// firstInvalid returns the byte offset of the first invalid UTF-8 sequence.
func firstInvalid(s string) int {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(s)
}

func blank(rec []string) bool {
	if len(rec) > 0 && rec[0] != "" && rec[0][0] > ' ' && rec[0][0] < utf8.RuneSelf {
		return false // the usual row: its first cell starts with a character
	}
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// cellsPerSlab is how many cells toCells allocates at once (2,048 cells is
// 48 KiB). One allocation for many rows instead of one per row: the rows
// share a backing array, each capped at its own cells, so appending to one
// row's cells never touches another's. A caller that keeps one row keeps
// its slab too, a few hundred rows at most; lote's callers copy the values
// out.
const cellsPerSlab = 2048

// fill sets row's cells to rec: the record itself in Values when values
// is set, else a copy in Cells.
func (s *csvSource) fill(row *Row, rec []string, values bool) {
	if values {
		if rec == nil {
			rec = []string{} // Values, not Cells, holds the row: never nil
		}
		row.Values = rec
		return
	}
	row.Cells = s.toCells(rec)
}

// toCells converts a record to cells, carving them from s.slab.
func (s *csvSource) toCells(rec []string) []Cell {
	n := len(rec)
	if n > len(s.slab) {
		s.slab = make([]Cell, max(cellsPerSlab, n))
	}
	cells := s.slab[:n:n]
	s.slab = s.slab[n:]
	for i, f := range rec {
		cells[i] = Cell{Value: f}
	}
	return cells
}

// csvGuard passes CSV text to encoding/csv, which holds a whole record in
// memory before it returns any of it: it refuses the file as soon as a
// record passes the limits (a field longer than Limits.CellChars, more
// bytes than Limits.RowBytes), so that a cell of 45 MB is never held, nor a
// record of more than 1 MiB (which bounds its fields too: a million empty
// ones take 25 MB in encoding/csv, and the reader keeps a few of them). It follows quoting
// as encoding/csv does (a quote opens a quoted field only at the field's
// start; a bad quote makes the reader drop the rest of the line), so it
// counts fields and rows as the reader splits them and as Excel numbers
// them.
type csvGuard struct {
	r   io.Reader
	sep byte
	lim Limits
	// plain and quoted classify bytes in a field that is not quoted and in
	// one that is: byteChar starts a character, byteNoChar is within one
	// (or a \r, which encoding/csv drops before \n), byteStop needs the
	// state machine.
	plain, quoted [256]uint8

	row   int // 1-based row of the record being read
	field int // 0-based field of the record being read
	chars int // characters of the field being read
	bytes int // bytes of the record being read
	state uint8
	err   error
}

const (
	cFieldStart  uint8 = iota // at a field's start
	cUnquoted                 // in a field that is not quoted
	cQuoted                   // in a quoted field
	cQuoteQuoted              // just read a quote in a quoted field: it ends the field or is doubled
	cSkipLine                 // a quote error: encoding/csv drops the rest of the line
)

const (
	byteChar uint8 = iota
	byteNoChar
	byteStop
)

func newCSVGuard(r io.Reader, sep rune, lim Limits) *csvGuard {
	g := &csvGuard{r: r, sep: byte(sep), lim: lim, row: 1}
	for c := range 256 {
		k := byteChar
		if c&0xC0 == 0x80 || c == '\r' {
			k = byteNoChar
		}
		g.plain[c], g.quoted[c] = k, k
	}
	g.plain[g.sep], g.plain['\n'], g.plain['"'] = byteStop, byteStop, byteStop
	g.quoted['"'] = byteStop
	return g
}

func (g *csvGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	if i := g.scan(p[:n]); i < n {
		return i, g.err
	}
	return n, err
}

// scan follows b; it returns len(b), or an offset at or before the byte
// that passed a limit (g.err is then set).
func (g *csvGuard) scan(b []byte) int {
	i := 0
	if g.state == cFieldStart || g.state == cUnquoted {
		i = g.scanPlain(b)
		if g.err != nil {
			return i
		}
	}
	return i + g.scanAny(b[i:])
}

// scanPlain follows fields that are not quoted, the usual CSV, with the
// counts in locals; it returns at the first quote (for scanAny) or the end
// of b, or where a limit was passed (g.err is then set). Limits are
// checked at each separator and line end and at the end of b, which
// encoding/csv's bufio asks for 4 KiB at a time.
func (g *csvGuard) scanPlain(b []byte) int {
	chars, nbytes, field, row := g.chars, g.bytes, g.field, g.row
	maxRow, maxCell := g.lim.RowBytes, g.lim.CellChars
	sep, plain := g.sep, &g.plain
	inField := g.state == cUnquoted
	i := 0
	for i < len(b) {
		start, noChar := i, 0
		for i < len(b) {
			k := plain[b[i]]
			if k == byteStop {
				break
			}
			noChar += int(k)
			i++
		}
		if run := i - start; run > 0 {
			nbytes += run
			chars += run - noChar
			inField = true
		}
		if i == len(b) {
			break
		}
		c := b[i]
		if c != sep && c != '\n' {
			break // a quote: scanAny knows what it means here
		}
		if nbytes++; nbytes > maxRow || chars > maxCell {
			break
		}
		if c == '\n' {
			row++
			field, chars, nbytes = 0, 0, 0
		} else {
			field, chars = field+1, 0
		}
		inField = false
		i++
	}
	g.chars, g.bytes, g.field, g.row = chars, nbytes, field, row
	g.state = cFieldStart
	if inField {
		g.state = cUnquoted
	}
	switch {
	case nbytes > maxRow:
		g.rowTooLong()
	case chars > maxCell:
		g.cellTooLong()
	}
	return i
}

// scanAny follows b in any state, a run or a byte at a time.
func (g *csvGuard) scanAny(b []byte) int {
	for i := 0; i < len(b); {
		// A run of the field's characters, counted a byte at a time by
		// table: this loop is the guard's cost on a large file.
		var class *[256]uint8
		switch g.state {
		case cFieldStart, cUnquoted:
			class = &g.plain
		case cQuoted:
			class = &g.quoted
		case cSkipLine:
			j := bytes.IndexByte(b[i:], '\n')
			if j < 0 {
				g.bytes += len(b) - i
				if g.bytes > g.lim.RowBytes {
					return i + g.rowTooLong()
				}
				return len(b)
			}
			g.bytes += j + 1
			if g.bytes > g.lim.RowBytes {
				return i + g.rowTooLong()
			}
			g.nextRecord()
			i += j + 1
			continue
		}
		if class != nil {
			j, noChar := i, 0
			for j < len(b) {
				k := class[b[j]]
				if k == byteStop {
					break
				}
				noChar += int(k)
				j++
			}
			if j > i {
				if g.state == cFieldStart {
					g.state = cUnquoted
				}
				g.bytes += j - i
				g.chars += j - i - noChar
				if g.bytes > g.lim.RowBytes {
					return i + g.rowTooLong()
				}
				if g.chars > g.lim.CellChars {
					return i + g.cellTooLong()
				}
				if i = j; i == len(b) {
					break
				}
			}
		}
		// One byte that changes the state.
		c := b[i]
		i++
		if g.bytes++; g.bytes > g.lim.RowBytes {
			return i - 1 + g.rowTooLong()
		}
		switch g.state {
		case cFieldStart, cUnquoted:
			switch c {
			case g.sep:
				g.nextField()
			case '\n':
				g.nextRecord()
			case '"':
				if g.state == cFieldStart {
					g.state = cQuoted
				} else {
					g.state = cSkipLine // a bare quote
				}
			}
		case cQuoted: // c is a quote
			g.state = cQuoteQuoted
		case cQuoteQuoted:
			switch c {
			case '"':
				g.state = cQuoted // a doubled quote: one character
				if g.chars++; g.chars > g.lim.CellChars {
					return i - 1 + g.cellTooLong()
				}
			case g.sep:
				g.nextField()
			case '\n':
				g.nextRecord()
			case '\r':
				// "…"\r\n ends the record
			default:
				g.state = cSkipLine
			}
		}
	}
	return len(b)
}

// rowTooLong and cellTooLong set g.err; they return 0, to add to an offset.
func (g *csvGuard) rowTooLong() int {
	g.err = &LimitError{Limit: rowLimit(g.lim.RowBytes), Max: int64(g.lim.RowBytes), Row: g.row, Hint: g.openQuote()}
	return 0
}

func (g *csvGuard) cellTooLong() int {
	g.err = &LimitError{Limit: cellLimit(g.lim.CellChars), Max: int64(g.lim.CellChars), Row: g.row, Column: columnLetter(g.field), Hint: g.openQuote()}
	return 0
}

// nextField starts the next field of the record.
func (g *csvGuard) nextField() {
	g.field++
	g.chars = 0
	g.state = cFieldStart
}

func (g *csvGuard) nextRecord() {
	g.row++
	g.field, g.chars, g.bytes = 0, 0, 0
	g.state = cFieldStart
}

// openQuote says what a limit passed inside a quoted field probably means.
func (g *csvGuard) openQuote() string {
	if g.state == cQuoted || g.state == cQuoteQuoted {
		return "a quote left open?"
	}
	return ""
}
