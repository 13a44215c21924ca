package sheet

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Every CSV file lote writes (results, the sheet of rows to fix, the
// reconciliation report and its summary) goes through Neutralize and
// CSVWriter, so that none can be made to run a formula in any locale.
//
// A CSV file does not say its separator: pt-BR Excel splits lines on ';',
// other locales on ','. A cell "Ana;=2*21;x" written unquoted to a
// comma-separated file is one field to lote and three to a pt-BR Excel,
// the second of them a formula. So every field that holds a separator lote
// knows is quoted whatever the file's own, and a formula start right after
// such a separator inside a cell is neutralised like one at its start.

// cellSeparators are the separators a spreadsheet may split a line on:
// those lote itself reads.
const cellSeparators = ",;\t"

// fieldBreaks are where a reader may start a field inside a cell: after a
// separator, and after a line break, which ends the line for a reader that
// does not see the quote around the cell (one splitting on another
// separator sees the quote inside its field, not at its start).
const fieldBreaks = cellSeparators + "\r\n"

// Neutralize returns the text of cell s so that no spreadsheet runs it as
// a formula (or a DDE payload): an apostrophe goes before a formula start
// (= + - @, tab or carriage return, or the full-width ＝ ＋ － ＠ that some
// input methods type) at the start of s and after each ',', ';', tab or
// line break inside it, spaces between not counting. Other text comes back
// as is.
// It is for text cells only: a number written by lote ("-12,50") is data.
func Neutralize(s string) string {
	var b strings.Builder
	done := 0 // s[:done] is in b, or nothing is when b is empty
	at := 0   // where a field starts: the cell's start, or after a separator
	for {
		i := at
		for i < len(s) && s[i] == ' ' {
			i++ // "Ana; =1" is "=1" to a reader that trims spaces
		}
		if formulaAt(s, i) {
			b.Grow(len(s) + 2)
			b.WriteString(s[done:i])
			b.WriteByte('\'')
			done = i
		}
		j := strings.IndexAny(s[i:], fieldBreaks)
		if j < 0 {
			break
		}
		at = i + j + 1
	}
	if b.Len() == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// formulaAt reports whether a formula start is at s[i:].
func formulaAt(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	switch s[i] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	case 0xEF:
		// The full-width forms U+FF0B ＋, U+FF0D －, U+FF1D ＝, U+FF20 ＠.
		r, _ := utf8.DecodeRuneInString(s[i:])
		return r == '\uFF0B' || r == '\uFF0D' || r == '\uFF1D' || r == '\uFF20'
	}
	return false
}

// isNumber reports whether s is a plain decimal number as lote writes one:
// an optional minus, digits, and at most one decimal point or comma
// followed by digits ("-1234,56", "0.07", "12345678909"). Only such a cell
// is written without neutralising.
func isNumber(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	digits, mark := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case (c == '.' || c == ',') && !mark && digits > 0 && i < len(s)-1:
			mark = true
		default:
			return false
		}
	}
	return digits > 0
}

// CSVWriter writes CSV records as encoding/csv's Writer does, with two
// differences that make a file safe to open in any locale: every field that
// holds a ',', ';' or tab is quoted, whatever the separator, and WriteCells
// neutralises text cells. It has gocsv's CSVWriter methods (Write, Flush,
// Error), so a report marshalled with gocsv is written the same way.
type CSVWriter struct {
	// UseCRLF ends lines with \r\n, as Excel writes and expects, instead
	// of \n.
	UseCRLF bool

	comma rune
	w     *bufio.Writer
	err   error
}

// NewCSVWriter returns a writer of records separated by comma (',', ';' or
// a tab).
func NewCSVWriter(w io.Writer, comma rune) *CSVWriter {
	return &CSVWriter{comma: comma, w: bufio.NewWriter(w)}
}

var errSeparator = errors.New("invalid CSV separator")

// Write writes one record, quoting the fields that need it. Fields are
// written as given: use WriteCells for cells that may hold formulas.
func (w *CSVWriter) Write(record []string) error {
	if w.err != nil {
		return w.err
	}
	if w.comma == '"' || w.comma == '\r' || w.comma == '\n' || !utf8.ValidRune(w.comma) || w.comma == utf8.RuneError {
		w.err = errSeparator
		return w.err
	}
	for n, field := range record {
		if n > 0 {
			w.w.WriteRune(w.comma)
		}
		if !w.needsQuotes(field) {
			w.w.WriteString(field)
			continue
		}
		w.w.WriteByte('"')
		for len(field) > 0 {
			i := strings.IndexAny(field, "\"\r\n")
			if i < 0 {
				i = len(field)
			}
			w.w.WriteString(field[:i])
			field = field[i:]
			if len(field) == 0 {
				break
			}
			switch field[0] {
			case '"':
				w.w.WriteString(`""`)
			case '\r':
				if !w.UseCRLF {
					w.w.WriteByte('\r')
				}
			case '\n':
				if w.UseCRLF {
					w.w.WriteString("\r\n")
				} else {
					w.w.WriteByte('\n')
				}
			}
			field = field[1:]
		}
		w.w.WriteByte('"')
	}
	var err error
	if w.UseCRLF {
		_, err = w.w.WriteString("\r\n")
	} else {
		err = w.w.WriteByte('\n')
	}
	if err != nil {
		w.err = err
	}
	return err
}

// needsQuotes reports whether field must be quoted: it holds a separator
// (this file's or another locale's), a quote or a line break, or starts
// with a space (which a reader might trim), as encoding/csv also quotes.
func (w *CSVWriter) needsQuotes(field string) bool {
	if field == "" {
		return false
	}
	if field == `\.` || strings.ContainsAny(field, cellSeparators+"\"\r\n") || strings.ContainsRune(field, w.comma) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(field)
	return unicode.IsSpace(r)
}

// WriteCells writes one record of cells: text cells neutralised (see
// Neutralize), number cells as they are when they are plain numbers
// ("-1234,56" stays a number), neutralised like text otherwise.
func (w *CSVWriter) WriteCells(cells []Cell) error {
	record := make([]string, len(cells))
	for i, c := range cells {
		record[i] = CSVText(c)
	}
	return w.Write(record)
}

// CSVText is how a cell is written to a CSV file: its value, neutralised
// unless it is a number cell holding a plain number.
func CSVText(c Cell) string {
	if c.Kind == Number && isNumber(c.Value) {
		return c.Value
	}
	return Neutralize(c.Value)
}

// Flush writes any buffered data to the underlying writer.
func (w *CSVWriter) Flush() {
	if err := w.w.Flush(); err != nil && w.err == nil {
		w.err = err
	}
}

// Error reports an error from an earlier Write or Flush.
func (w *CSVWriter) Error() error {
	if w.err != nil {
		return w.err
	}
	_, err := w.w.Write(nil)
	return err
}
