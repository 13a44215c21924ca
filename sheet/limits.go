package sheet

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits bound what a sheet can make the reader hold or do, whoever wrote
// it: a file past one is refused with a *LimitError as soon as the reader
// gets there, having held at most about one row and the shared strings.
// Each default is far above what a payout sheet of a million rows needs.
// A zero field takes its default.
//
// Columns refuse the file only in its header: a data row with a cell more
// than ColumnMargin columns past the header's last, or past Columns, is
// unreadable (its Row.Err), and the cells past that are left out of it
// (for CSV, before encoding/csv splits them), never made into empty cells
// for whatever keeps the rows.
type Limits struct {
	// Columns is how many columns a sheet may have: a header with a cell
	// past the last (ALL, the 1,000th, by default) refuses the file. 0
	// means 1,000.
	Columns int
	// ColumnMargin is how many columns past the header's last a data
	// row's cells may reach. 0 means 10.
	ColumnMargin int
	// CellChars is the most characters one cell may hold. 0 means 32,767,
	// Excel's own limit.
	CellChars int
	// RowBytes is the most bytes of text one row may hold, its cells
	// together (for CSV, the record as written in the file). 0 means 1 MiB.
	RowBytes int
	// XMLDepth is how deep elements may nest in an XLSX part (a worksheet
	// nests about 6 deep). 0 means 64.
	XMLDepth int
	// XMLToken is the most bytes of one XML tag, comment or run of text
	// between tags in an XLSX part. 0 means 1 MiB.
	XMLToken int
	// PartSize is the most an XLSX part other than the worksheet and the
	// shared strings (the workbook, its relationships, the styles) may
	// decompress to. 0 means 8 MiB.
	PartSize int64
	// SharedStringsSize is the most the shared strings part may decompress
	// to. 0 means 64 MiB.
	SharedStringsSize int64
	// SharedStrings is the most entries the shared strings may have.
	// 0 means 1,048,576.
	SharedStrings int
	// SharedText is the most bytes of text all shared strings may hold
	// together. 0 means 32 MiB.
	SharedText int64
	// Expansion is how many times the file's size (plus 16 MiB) an XLSX
	// may decompress to, every cell's text counted again when it is read
	// (so a shared string counts each time a cell uses it); the result is
	// also capped by Options.MaxUnzipSize. 0 means 200: a workbook saved by
	// Excel decompresses to 5 to 20 times its size, a zip bomb to hundreds.
	Expansion int
}

// DefaultLimits are the limits a zero Limits takes.
var DefaultLimits = Limits{
	Columns:           1000,
	ColumnMargin:      10,
	CellChars:         32767,
	RowBytes:          1 << 20,
	XMLDepth:          64,
	XMLToken:          1 << 20,
	PartSize:          8 << 20,
	SharedStringsSize: 64 << 20,
	SharedStrings:     1 << 20,
	SharedText:        32 << 20,
	Expansion:         200,
}

// expansionSlack is what any workbook may decompress to whatever its size,
// so that a small file is never refused for its ratio.
const expansionSlack = 16 << 20

// withDefaults returns l with each zero field set to its default.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	pick := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pick64 := func(v *int64, def int64) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&l.Columns, d.Columns)
	pick(&l.ColumnMargin, d.ColumnMargin)
	pick(&l.CellChars, d.CellChars)
	pick(&l.RowBytes, d.RowBytes)
	pick(&l.XMLDepth, d.XMLDepth)
	pick(&l.XMLToken, d.XMLToken)
	pick64(&l.PartSize, d.PartSize)
	pick64(&l.SharedStringsSize, d.SharedStringsSize)
	pick(&l.SharedStrings, d.SharedStrings)
	pick64(&l.SharedText, d.SharedText)
	pick(&l.Expansion, d.Expansion)
	return l
}

// ErrLimit is what every *LimitError unwraps to, for errors.Is.
var ErrLimit = errors.New("past the reader's limits")

// ErrWideRow: a data row has a cell more than Limits.ColumnMargin columns
// past the header's last. It is a row-level problem (Row.Err).
var ErrWideRow = errors.New("cell beyond the header's columns")

// LimitError is a file refused because it passes one of its Limits. The
// message is one line: `row 7, cell XFD7: more than 1,000 columns, lote's
// limit: …`.
type LimitError struct {
	Limit  string // the limit, as a phrase: "1,000 columns", "32,767 characters in a cell"
	Max    int64  // the limit's number
	Row    int    // 1-based row as Excel numbers it; 0 when the limit is not a row's
	Column string // the cell's column letter as Excel names it ("XFD"); "" when not a cell's
	Part   string // the XLSX part ("xl/sharedStrings.xml") when the limit is a part's
	Hint   string // what probably happened, or what to do; may be ""
}

func (e *LimitError) Error() string {
	var b strings.Builder
	switch {
	case e.Row > 0 && e.Column != "":
		b.WriteString("row " + strconv.Itoa(e.Row) + ", cell " + e.Column + strconv.Itoa(e.Row))
	case e.Row > 0:
		b.WriteString("row " + strconv.Itoa(e.Row))
	case e.Part != "":
		b.WriteString(e.Part)
	default:
		b.WriteString("the file")
	}
	b.WriteString(": more than " + e.Limit + ", lote's limit")
	if e.Hint != "" {
		b.WriteString(" (" + e.Hint + ")")
	}
	return b.String()
}

// Unwrap returns ErrLimit.
func (e *LimitError) Unwrap() error { return ErrLimit }

// Phrases of the limits, for LimitError.Limit.
func columnsLimit(n int) string      { return thousands(int64(n)) + " columns" }
func cellLimit(n int) string         { return thousands(int64(n)) + " characters in a cell" }
func rowLimit(n int) string          { return byteSize(int64(n)) + " of text in a row" }
func depthLimit(n int) string        { return thousands(int64(n)) + " levels of nested elements" }
func tokenLimit(n int) string        { return byteSize(int64(n)) + " in one XML tag or text" }
func partLimit(n int64) string       { return byteSize(n) + " decompressed" }
func stringsLimit(n int) string      { return thousands(int64(n)) + " shared strings" }
func sharedTextLimit(n int64) string { return byteSize(n) + " of shared strings' text" }

// thousands writes n with commas: 1048576 → "1,048,576".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// byteSize writes n bytes as people read it: "1 MiB", "64 KiB", "300 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return thousands(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return thousands(n>>10) + " KiB"
	}
	return thousands(n) + " bytes"
}

// tooLong reports whether s holds more than max characters.
func tooLong(s string, max int) bool {
	return len(s) > max && utf8.RuneCountInString(s) > max
}

// xmlGuard passes an XML part to encoding/xml, which holds a whole token
// in memory before returning it and a frame per open element: it refuses
// the part as soon as elements nest deeper than Limits.XMLDepth or a tag,
// comment, processing instruction or run of text between tags grows past
// Limits.XMLToken. It follows XML's lexical structure only as far as it
// must to tell where tokens end, as encoding/xml reads them: quoted
// attribute values (which may hold '>'), comments, CDATA sections,
// processing instructions and declarations (with their quotes, nested
// brackets and comments). FuzzXMLGuard holds it to encoding/xml's nesting.
type xmlGuard struct {
	r        io.Reader
	part     string
	maxDepth int
	maxToken int

	depth int
	n     int // bytes of the current token
	state uint8
	quote byte    // the open quote of an attribute value, in a start tag
	last  [2]byte // the last two bytes, to find "-->", "]]>", "?>", "/>"
	bang  []byte  // the start of a "<!" construct, until it is known
	// In a declaration, as encoding/xml reads one: quoted text, nested
	// angle brackets, and how much of "!--" follows a '<'.
	declQuote byte
	declDepth int
	declMatch int
	err       error
}

const (
	xText        uint8 = iota // character data
	xOpen                     // just read '<'
	xStartTag                 // in a start or empty-element tag
	xEndTag                   // in an end tag
	xBang                     // after "<!", telling a comment from CDATA or a declaration
	xComment                  // in <!-- -->
	xCDATA                    // in <![CDATA[ ]]>
	xDecl                     // in <!DOCTYPE …> and the like
	xDeclLt                   // in a declaration, after '<': perhaps a comment
	xDeclComment              // in a comment inside a declaration
	xPI                       // in <? ?>
)

func newXMLGuard(r io.Reader, part string, lim Limits) *xmlGuard {
	return &xmlGuard{r: r, part: part, maxDepth: lim.XMLDepth, maxToken: lim.XMLToken}
}

func (g *xmlGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	if i := g.scan(p[:n]); i < n {
		return i, g.err
	}
	return n, err
}

// scan follows b; it returns len(b), or the offset of the byte that passed
// a limit (g.err is then set). Text, start tags and end tags, nearly all
// of a part, are skipped through a run at a time; the rest a byte at a
// time. The guard's state is in locals while it runs, written back on
// return.
func (g *xmlGuard) scan(b []byte) int {
	n, state, depth, quote, last := g.n, g.state, g.depth, g.quote, g.last
	maxToken, maxDepth := g.maxToken, g.maxDepth
	defer func() { g.n, g.state, g.depth, g.quote, g.last = n, state, depth, quote, last }()
	for i := 0; i < len(b); {
		// stop is where the run from i ends: at the byte that changes the
		// state, or at the end of b.
		stop := -1 // a byte at a time
		switch state {
		case xText:
			stop = indexFrom(b, i, '<')
		case xEndTag:
			stop = indexFrom(b, i, '>')
		case xStartTag:
			if quote != 0 {
				stop = indexFrom(b, i, quote)
				break
			}
			stop = i
			for stop < len(b) {
				if c := b[stop]; c == '"' || c == '\'' || c == '>' {
					break
				}
				stop++
			}
		}
		if stop >= 0 {
			if n += stop - i; n > maxToken {
				return g.tokenTooLong(i)
			}
			switch run := stop - i; {
			case run == 1:
				last[0], last[1] = last[1], b[i]
			case run > 1:
				last[0], last[1] = b[stop-2], b[stop-1]
			}
			if stop == len(b) {
				return len(b)
			}
			i = stop
		}
		c := b[i]
		n++
		switch state {
		case xText:
			state, n = xOpen, 1
		case xEndTag:
			depth--
			state, n = xText, 0
		case xStartTag:
			switch {
			case quote != 0:
				quote = 0
			case c == '>':
				if last[1] == '/' {
					depth-- // an empty element: <c r="A1"/>
				}
				state, n = xText, 0
			default:
				quote = c
			}
		case xOpen:
			switch c {
			case '/':
				state = xEndTag
			case '!':
				state, g.bang = xBang, g.bang[:0]
			case '?':
				state = xPI
			default:
				state, quote = xStartTag, 0
				if depth++; depth > maxDepth {
					g.err = &LimitError{Limit: depthLimit(maxDepth), Max: int64(maxDepth), Part: g.part}
					return i
				}
			}
		case xBang:
			g.bang = append(g.bang, c)
			switch {
			case string(g.bang) == "--":
				state, last = xComment, [2]byte{}
				i++
				continue
			case string(g.bang) == "[CDATA[":
				state, last = xCDATA, [2]byte{}
				i++
				continue
			case !strings.HasPrefix("--", string(g.bang)) && !strings.HasPrefix("[CDATA[", string(g.bang)):
				// A declaration; encoding/xml takes its first byte as it
				// is, whatever it is.
				state, g.declQuote, g.declDepth = xDecl, 0, 0
			}
		case xComment:
			if c == '>' && last == [2]byte{'-', '-'} {
				state, n = xText, 0
			}
		case xCDATA:
			if c == '>' && last == [2]byte{']', ']'} {
				state, n = xText, 0
			}
		case xDeclLt:
			if c == "!--"[g.declMatch] {
				if g.declMatch++; g.declMatch == 3 {
					state, last = xDeclComment, [2]byte{}
					i++
					continue
				}
				break
			}
			// Not a comment: the '<' nests, and c is read as any byte of
			// the declaration.
			g.declDepth++
			state = xDecl
			fallthrough
		case xDecl:
			switch {
			case g.declQuote == 0 && c == '>' && g.declDepth == 0:
				state, n = xText, 0
			case c == g.declQuote:
				g.declQuote = 0
			case g.declQuote != 0:
			case c == '"' || c == '\'':
				g.declQuote = c
			case c == '>':
				g.declDepth--
			case c == '<':
				state, g.declMatch = xDeclLt, 0
			}
		case xDeclComment:
			if c == '>' && last == [2]byte{'-', '-'} {
				state = xDecl
			}
		case xPI:
			if c == '>' && last[1] == '?' {
				state, n = xText, 0
			}
		}
		if n > maxToken {
			return g.tokenTooLong(i)
		}
		last[0], last[1] = last[1], c
		i++
	}
	return len(b)
}

// indexFrom returns the index of the first c in b from i, or len(b).
func indexFrom(b []byte, i int, c byte) int {
	if j := bytes.IndexByte(b[i:], c); j >= 0 {
		return i + j
	}
	return len(b)
}

func (g *xmlGuard) tokenTooLong(i int) int {
	g.err = &LimitError{Limit: tokenLimit(g.maxToken), Max: int64(g.maxToken), Part: g.part}
	return i
}
