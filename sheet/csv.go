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
	guard    *csvGuard

	// extra counts physical lines consumed by fields spanning lines, so that
	// Row.Number = line - extra matches the row Excel shows.
	extra int
	// shift counts the line breaks the guard left out with the fields of
	// records it cut, which encoding/csv's line numbers do not count.
	shift int

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
	s.guard = newCSVGuard(text, s.sep, lim)
	s.cr = csv.NewReader(s.guard)
	s.cr.Comma = s.sep
	s.cr.FieldsPerRecord = -1 // counted against the header here, with Excel row numbers
	s.cr.ReuseRecord = true
	return s, nil
}

// sniffSeparator picks ',', ';' or tab from the first records of the
// sample, counting only separators outside quotes. The header may sit
// under title lines ("Folha de pagamento - Dezembro", a company name),
// which have few separators or none, so no one line decides: the
// separator that splits the most lines into the same number of fields
// wins (the table's lines), then the one that splits them into more
// fields, then the preference for ';' (Brazilian Excel), tab, ','.
func sniffSeparator(sample []byte) rune {
	cands := []byte{';', '\t', ','}
	lines := splitRecords(sample, MaxHeaderRow+1)
	best, bestLines, bestFields := byte(';'), 0, 0
	for _, c := range cands {
		counts := make(map[int]int, len(lines))
		for _, l := range lines {
			if n := countOutsideQuotes(l, c); n > 0 {
				counts[n]++
			}
		}
		for n, k := range counts {
			if k > bestLines || k == bestLines && n > bestFields {
				best, bestLines, bestFields = c, k, n
			}
		}
	}
	return rune(best)
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
		// The guard may have left out fields past Limits.Columns, and line
		// breaks inside them: the row is then one to report (unless all
		// its fields are blank), and the later lines are that many further
		// down the file.
		fields := len(rec)
		cut, wasCut := s.guard.cut(number)
		shift := s.shift
		if wasCut {
			fields = cut.fields
			s.shift += cut.lines
		}
		line += shift
		if !(wasCut && cut.content) && blank(rec) {
			// Excel shows an empty row here; it is skipped but still counted.
			continue
		}
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
						Row: number, Line: fl + shift + strings.Count(f[:firstInvalid(f)], "\n"), Column: columnName(s.header, i), Value: f,
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
	shift := s.shift
	row := Row{Number: pe.StartLine - s.extra, Line: pe.StartLine + shift}
	if cut, ok := s.guard.cut(row.Number); ok {
		s.shift += cut.lines
	}
	s.fill(&row, rec, values)
	// The rest of the bad line was consumed; later rows keep their
	// numbers.
	s.extra += pe.Line - pe.StartLine
	perr := &ParseError{
		Row: row.Number, Line: pe.Line + shift, Column: columnName(s.header, len(rec)),
		Err: fmt.Errorf("%w: %v (column %d of the line)", ErrQuote, pe.Err, pe.Column),
	}
	if pe.Line != pe.StartLine {
		// A quote left open ran over the following lines: point at
		// where it opened, and say which lines it took.
		perr.Line = pe.StartLine + shift
		perr.Err = fmt.Errorf("%w: a quoted field is not closed properly, so lines %d-%d were read as one cell", ErrQuote, pe.StartLine+shift, pe.Line+shift)
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
// memory before it returns any of it. It refuses the file as soon as a
// record passes Limits.CellChars in a field or Limits.RowBytes in all, so
// that a cell of 45 MB is never held; and it passes on only the first
// Limits.Columns fields of a record, so that a record of a million empty
// fields is not made into a million strings: the rest of the record is
// left out up to its end, and the reader is told (cuts) to report the row.
//
// It follows quoting as encoding/csv does (a quote opens a quoted field
// only at the field's start; a bad quote makes the reader drop the rest of
// the line), so it counts fields and rows as the reader splits them and as
// Excel numbers them. Leaving out a quoted field that spans lines leaves
// out line breaks that do not end rows: rows keep their numbers, and the
// reader adds the lines left out (cutRow.lines) to the lines it counts.
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
	bytes int // bytes of the record being read, as written
	state uint8
	err   error

	// cutting is set past the record's Limits.Columns-th field: its bytes
	// are left out up to the record's end. cuts are the rows cut so far
	// and not yet taken by the reader.
	cutting    bool
	cutLines   int  // line breaks inside quoted fields left out of the record
	cutContent bool // whether the fields left out hold more than white space
	cuts       []cutRow

	// While scan compacts a buffer: buf[:kept] is passed on, buf[from:] is
	// still to be decided.
	buf        []byte
	kept, from int
}

// cutRow is a record whose fields past Limits.Columns were left out.
type cutRow struct {
	row    int // as Excel numbers it
	fields int // as written
	lines  int // line breaks left out with the fields (inside quoted ones)
	// content says the fields left out are not all blank: the row is not
	// an empty one, whatever its first fields hold.
	content bool
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
	for {
		if g.err != nil {
			return 0, g.err
		}
		n, err := g.r.Read(p)
		m := g.scan(p[:n])
		if err == io.EOF && g.cutting {
			g.endCut() // the last record, cut, ends without a line break
		}
		if g.err != nil {
			return m, g.err
		}
		if m > 0 || err != nil || n == 0 {
			return m, err
		}
		// Every byte read was left out: read on rather than return nothing.
	}
}

// cut reports whether the record of row was cut; the reader calls it for
// each record in order.
func (g *csvGuard) cut(row int) (cutRow, bool) {
	for len(g.cuts) > 0 && g.cuts[0].row < row {
		g.cuts = g.cuts[1:]
	}
	if len(g.cuts) > 0 && g.cuts[0].row == row {
		return g.cuts[0], true
	}
	return cutRow{}, false
}

// scan follows b, leaving out the bytes of fields past the limit; it
// returns how many bytes of b, moved to its start, are passed on. A limit
// passed sets g.err, and nothing from where it was passed is passed on.
func (g *csvGuard) scan(b []byte) int {
	g.buf, g.kept, g.from = b, 0, 0
	i := 0
	for i < len(b) && g.err == nil {
		if g.state == cFieldStart || g.state == cUnquoted {
			if j := g.scanPlain(i); j > i {
				i = j
				continue
			}
			// At a quote, or a limit passed: scanAny tells which.
		}
		i = g.scanAny(i)
	}
	// After a limit passed, the record's bytes stop where it was passed:
	// encoding/csv never completes the record, and returns the error.
	g.pass(min(i, len(b)))
	g.buf = nil
	return g.kept
}

// pass decides buf[from:to]: passed on, unless the record is being cut.
func (g *csvGuard) pass(to int) {
	if !g.cutting && g.from < to {
		if g.kept != g.from {
			copy(g.buf[g.kept:], g.buf[g.from:to])
		}
		g.kept += to - g.from
	}
	g.from = to
}

// separator is at buf[i]: the next field starts. Past the limit, the
// record is cut from this separator on.
func (g *csvGuard) separator(i int) {
	g.field++
	g.chars = 0
	g.state = cFieldStart
	if g.field == g.lim.Columns && !g.cutting {
		g.pass(i)
		g.cutting = true
	}
}

// lineEnd is at buf[i]: the record ends, and is passed on from its line
// break if it was cut.
func (g *csvGuard) lineEnd(i int) {
	if g.cutting {
		g.from = i
		g.endCut()
	}
	g.row++
	g.field, g.chars, g.bytes = 0, 0, 0
	g.state = cFieldStart
}

func (g *csvGuard) endCut() {
	g.cuts = append(g.cuts, cutRow{row: g.row, fields: g.field + 1, lines: g.cutLines, content: g.cutContent})
	g.cutting, g.cutLines, g.cutContent = false, 0, false
}

// scanPlain follows fields that are not quoted, the usual CSV, from
// buf[i], with the counts in locals; it returns at the first quote (for
// scanAny) or the end of buf. Limits are checked at each separator and line end and
// at the end of buf, which encoding/csv's bufio asks for 4 KiB at a time.
func (g *csvGuard) scanPlain(i int) int {
	b := g.buf
	chars, nbytes, field := g.chars, g.bytes, g.field
	maxRow, maxCell, cutAt := g.lim.RowBytes, g.lim.CellChars, g.lim.Columns
	plain := &g.plain
	inField := g.state == cUnquoted
	defer func() {
		g.chars, g.bytes, g.field = chars, nbytes, field
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
	}()
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
			if g.cutting && !g.cutContent {
				g.cutContent = len(bytes.TrimSpace(b[start:i])) > 0
			}
		}
		if i == len(b) {
			return i
		}
		c := b[i]
		if c == '"' {
			return i // scanAny knows what a quote means here
		}
		if nbytes++; nbytes > maxRow || chars > maxCell {
			return i
		}
		inField = false
		switch {
		case c == '\n':
			g.field = field
			g.lineEnd(i)
			chars, nbytes, field = 0, 0, 0
		case field+1 == cutAt && !g.cutting:
			g.field = field
			g.separator(i)
			chars, field = 0, field+1
		default:
			field, chars = field+1, 0
		}
		i++
	}
	return i
}

// scanAny follows buf from i in any state, up to a state change.
func (g *csvGuard) scanAny(i int) int {
	b := g.buf
	// A run of the field's characters, counted a byte at a time by table.
	var class *[256]uint8
	switch g.state {
	case cFieldStart, cUnquoted:
		class = &g.plain
	case cQuoted:
		class = &g.quoted
	case cSkipLine:
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			if g.bytes += len(b) - i; g.bytes > g.lim.RowBytes {
				g.rowTooLong()
			}
			return len(b)
		}
		if g.bytes += j + 1; g.bytes > g.lim.RowBytes {
			g.rowTooLong()
			return i + j
		}
		g.lineEnd(i + j)
		return i + j + 1
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
			if g.cutting {
				if g.state == cQuoted {
					g.cutLines += bytes.Count(b[i:j], []byte{'\n'})
				}
				if !g.cutContent {
					g.cutContent = len(bytes.TrimSpace(b[i:j])) > 0
				}
			}
			g.bytes += j - i
			g.chars += j - i - noChar
			if g.bytes > g.lim.RowBytes {
				g.rowTooLong()
				return j
			}
			if g.chars > g.lim.CellChars {
				g.cellTooLong()
				return j
			}
			if j == len(b) {
				return j
			}
		}
		i = j
	}
	// One byte that changes the state.
	c := b[i]
	if g.bytes++; g.bytes > g.lim.RowBytes {
		g.rowTooLong()
		return i
	}
	switch g.state {
	case cFieldStart, cUnquoted:
		switch c {
		case g.sep:
			g.separator(i)
		case '\n':
			g.lineEnd(i)
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
				g.cellTooLong()
			}
		case g.sep:
			g.separator(i)
		case '\n':
			g.lineEnd(i)
		case '\r':
			// "…"\r\n ends the record
		default:
			g.state = cSkipLine
		}
	}
	return i + 1
}

// rowTooLong and cellTooLong set g.err.
func (g *csvGuard) rowTooLong() {
	g.err = &LimitError{Limit: rowLimit(g.lim.RowBytes), Max: int64(g.lim.RowBytes), Row: g.row, Hint: g.openQuote()}
}

func (g *csvGuard) cellTooLong() {
	g.err = &LimitError{Limit: cellLimit(g.lim.CellChars), Max: int64(g.lim.CellChars), Row: g.row, Column: columnLetter(g.field), Hint: g.openQuote()}
}

// openQuote says what a limit passed inside a quoted field probably means.
func (g *csvGuard) openQuote() string {
	if g.state == cQuoted || g.state == cQuoteQuoted {
		return "a quote left open?"
	}
	return ""
}
