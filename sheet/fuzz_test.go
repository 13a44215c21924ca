package sheet

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

var (
	plainNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$`)
	isoDate     = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// checkStream reads every row of path and checks what callers rely on:
// rows come in Excel order, numbers are plain decimals, dates are ISO, and
// a bad row never stops reading without an error.
func checkStream(t *testing.T, path string, opts Options) {
	r, err := Open(path, opts)
	if err != nil {
		return // a clear refusal is fine; a panic or hang is not
	}
	defer r.Close()
	last := 1
	for n := 0; ; n++ {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return
		}
		// CSV numbers grow strictly; XLSX ones come from the file.
		if row.Line != 0 && row.Number <= last {
			t.Fatalf("row number %d after %d", row.Number, last)
		}
		if row.Line != 0 && row.Line < row.Number {
			t.Fatalf("row %d starts on line %d", row.Number, row.Line)
		}
		last = row.Number
		for _, c := range row.Cells {
			switch {
			case c.Kind == Number && !plainNumber.MatchString(c.Value):
				t.Fatalf("row %d: number %q is not plain decimal", row.Number, c.Value)
			case c.Kind == Date && !isoDate.MatchString(c.Value):
				t.Fatalf("row %d: date %q is not yyyy-mm-dd", row.Number, c.Value)
			}
		}
	}
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"name;amount\nAna;10\n",
		"\xEF\xBB\xBFa,b\r\n\"x\ny\",2\r\n\n3\n",
		"Ag\xeancia\tConta\n1\t2\n",
		"a;b\n1;\"open\n2;3\n",
		"a;b\n1;x\"y\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "fuzz.csv")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		checkStream(t, p, Options{})
		sameRowsNextText(t, p)
		sameRowsWithinLimits(t, p)
	})
}

// tightLimits are small enough for the fuzzer to reach every limit of the
// CSV guard; the margin is wide, so that only Columns cuts rows.
var tightLimits = Limits{Columns: 6, ColumnMargin: 100, CellChars: 12, RowBytes: 64}

// noLimits are too large to be reached by a fuzzed file.
var noLimits = Limits{Columns: 1 << 30, ColumnMargin: 1 << 30, CellChars: 1 << 30, RowBytes: 1 << 30,
	XMLDepth: 1 << 30, XMLToken: 1 << 30, SharedStrings: 1 << 30, SharedText: 1 << 40, PartSize: 1 << 40, SharedStringsSize: 1 << 40}

// sameRowsWithinLimits reads path with tight limits and without: the rows
// before a refusal are the rows read without limits, but for those cut at
// Limits.Columns (the first cells, their numbers and lines, and the same
// problem, saying what was left out); and a refusal for a cell names a row
// that has such a cell. A guard that lost track of quotes or lines fails
// here.
func sameRowsWithinLimits(t *testing.T, path string) {
	t.Helper()
	r, err := Open(path, Options{Limits: tightLimits})
	if err != nil {
		return // the header, refused by Open, is not a row to compare
	}
	r.Close()
	all, errAll := readUntilError(path, Options{Limits: noLimits})
	got, err := readUntilError(path, Options{Limits: tightLimits})
	var le *LimitError
	limited := errors.As(err, &le)
	if !limited && fmt.Sprint(err) != fmt.Sprint(errAll) || len(got) > len(all) || !limited && len(got) != len(all) {
		t.Fatalf("tight limits: rows %v, %v; without limits: %v, %v", got, err, all, errAll)
	}
	for i, g := range got {
		a := all[i]
		if len(a.Cells) > tightLimits.Columns {
			a.Cells = a.Cells[:tightLimits.Columns]
		}
		// A row cut is unreadable for its fields left out, whatever else
		// the reader would have found wrong in them (a bad quote, say).
		cut := g.Err != nil && strings.Contains(g.Err.Error(), "are left out")
		if g.Number != a.Number || g.Line != a.Line || fmt.Sprint(g.Cells) != fmt.Sprint(a.Cells) ||
			(g.Err == nil) != (a.Err == nil) || g.Err != nil && !cut && !strings.HasPrefix(g.Err.Error(), a.Err.Error()) {
			t.Fatalf("row %d with tight limits %+v; without %+v", i, g, all[i])
		}
	}
	if !limited || le.Hint != "" {
		return // no refusal, or a quote left open: the reader's row holds part of the line
	}
	var row *Row
	for i := range all {
		if all[i].Number == le.Row {
			row = &all[i]
		}
	}
	if row == nil {
		if errAll == nil && le.Column != "" {
			t.Fatalf("%v: no row %d without limits: %v", le, le.Row, all)
		}
		return
	}
	if row.Err != nil && errors.Is(row.Err, ErrQuote) {
		return // the reader dropped part of the line
	}
	if le.Max == int64(tightLimits.CellChars) {
		col := 0
		for col < len(row.Cells) && columnLetter(col) != le.Column {
			col++
		}
		if col == len(row.Cells) || utf8.RuneCountInString(strings.ReplaceAll(row.Cells[col].Value, "\r", "")) <= tightLimits.CellChars {
			t.Fatalf("%v: row %d is %q", le, le.Row, cellValues(row.Cells))
		}
	}
}

// sameRowsNextText reads path with Next and with NextText in step: the
// rows, their numbers, values and errors must be the same.
func sameRowsNextText(t *testing.T, path string) {
	t.Helper()
	a, errA := Open(path, Options{})
	b, errB := Open(path, Options{})
	if errA != nil || errB != nil {
		if (errA == nil) != (errB == nil) {
			t.Fatalf("Open: %v, then %v", errA, errB)
		}
		return
	}
	defer a.Close()
	defer b.Close()
	for {
		ra, errA := a.Next()
		rb, errB := b.NextText()
		if (errA == nil) != (errB == nil) || errA != nil && errA.Error() != errB.Error() {
			t.Fatalf("Next error %v, NextText error %v", errA, errB)
		}
		if errA != nil {
			return
		}
		var values []string
		for _, c := range ra.Cells {
			values = append(values, c.Value)
		}
		if ra.Number != rb.Number || ra.Line != rb.Line || len(values) != len(rb.Values) || fmt.Sprint(ra.Err) != fmt.Sprint(rb.Err) {
			t.Fatalf("Next row %d line %d %q err %v; NextText row %d line %d %q err %v", ra.Number, ra.Line, values, ra.Err, rb.Number, rb.Line, rb.Values, rb.Err)
		}
		for i := range values {
			if values[i] != rb.Values[i] {
				t.Fatalf("row %d: Next %q, NextText %q", ra.Number, values, rb.Values)
			}
		}
	}
}

func FuzzReadXLSX(f *testing.F) {
	for _, s := range []string{
		`<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2"><v>1.5E3</v></c><c r="B2" s="1"><v>46204</v></c></row>`,
		`<row><c t="inlineStr"><is><r><t>a_x000D_</t></r></is></c><c t="b"><v>1</v></c></row><row r="9"><c r="XFD9" s="2"><v>-1</v></c></row>`,
		`<row r="1"><c><f>1</f></c><c t="e"><v>#N/A</v></c><c t="d"><v>2026-01-01</v></c><c t="s"><v>7</v></c></row>`,
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, sheetData string) {
		p := filepath.Join(dir, "fuzz.xlsx")
		if err := os.WriteFile(p, zipBytes(t, xlsxParts(sheetData, []string{"Conta"})), 0o600); err != nil {
			t.Fatal(err)
		}
		checkStream(t, p, Options{MaxUnzipSize: 4 << 20})
		tight := Limits{Columns: 8, ColumnMargin: 2, CellChars: 16, RowBytes: 64, XMLDepth: 6, XMLToken: 256, SharedStrings: 4, SharedText: 64}
		checkStream(t, p, Options{MaxUnzipSize: 4 << 20, Limits: tight})
		// Within the limits, the guards change nothing that is read.
		tight.Columns, tight.ColumnMargin = 1<<20, 1<<20
		all, errAll := readUntilError(p, Options{MaxUnzipSize: 4 << 20, Limits: noLimits})
		got, err := readUntilError(p, Options{MaxUnzipSize: 4 << 20, Limits: tight})
		if !errors.Is(err, ErrLimit) && (fmt.Sprint(err) != fmt.Sprint(errAll) || fmt.Sprint(got) != fmt.Sprint(all)) {
			t.Fatalf("within the limits: rows %v, %v; without limits: %v, %v", got, err, all, errAll)
		}
	})
}

// FuzzRoundTripCSV writes a results CSV and reads it back: every value must
// come back as written, except the neutralising apostrophes before
// formula-like text and carriage returns, which Excel's CRLF convention
// does not keep.
func FuzzRoundTripCSV(f *testing.F) {
	f.Add("Ana", "00123", "=1+1")
	f.Add("Caio\nSilva", "-5", "\"quoted\"; x")
	f.Add(" lead", "\r\n", "@x")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, a, b, c string) {
		in := []string{a, b, c}
		for _, v := range in {
			if !utf8.ValidString(v) {
				t.Skip("the reader reports invalid UTF-8 as a row error")
			}
		}
		p := filepath.Join(dir, "round.csv")
		w, err := Create(p, WriteOptions{StatusColumn: -1})
		if err != nil {
			t.Fatal(err)
		}
		w.WriteHeader([]string{"nome", "conta", "obs"})
		w.WriteRow([]Cell{{Value: a}, {Value: b}, {Value: c}})
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := Open(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if r.Separator() != ';' || r.Encoding() != "UTF-8 with BOM" {
			t.Fatalf("separator %q encoding %q", r.Separator(), r.Encoding())
		}
		row, err := r.Next()
		want := make([]string, len(in))
		for i, v := range in {
			want[i] = strings.ReplaceAll(Neutralize(v), "\r", "")
		}
		if strings.TrimSpace(strings.Join(want, "")) == "" {
			if err != io.EOF {
				t.Fatalf("blank row read as %v, %v", row, err)
			}
			return
		}
		if err != nil || row.Err != nil || row.Number != 2 || row.Line != 2 {
			t.Fatalf("row %+v, %v", row, err)
		}
		var got []string
		for _, c := range row.Cells {
			got = append(got, c.Value)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("read back %q, want %q", got, want)
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("after the row: %v", err)
		}
	})
}
