package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lote/internal/bombs"
)

// bomb writes a file made by make into a temp dir.
func bomb(t testing.TB, name string, make func(io.Writer) error) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := make(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// readUntilError opens path and reads every row; it returns the first
// error, from Open or Next, and the rows read before it.
func readUntilError(path string, opts Options) ([]Row, error) {
	r, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var rows []Row
	for {
		row, err := r.Next()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
}

// wantLimit checks that err is a one-line *LimitError with the given
// place and limit, and that its message says them.
func wantLimit(t *testing.T, err error, want LimitError) {
	t.Helper()
	var le *LimitError
	if !errors.As(err, &le) || !errors.Is(err, ErrLimit) {
		t.Fatalf("error %v, want a *LimitError", err)
	}
	if le.Row != want.Row || le.Column != want.Column || le.Part != want.Part || le.Max != want.Max {
		t.Errorf("limit error at row %d column %q part %q max %d, want %d %q %q %d (%v)",
			le.Row, le.Column, le.Part, le.Max, want.Row, want.Column, want.Part, want.Max, err)
	}
	if want.Limit != "" && le.Limit != want.Limit {
		t.Errorf("limit %q, want %q", le.Limit, want.Limit)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "more than "+le.Limit+", lote's limit") {
		t.Errorf("message %q", msg)
	}
	if want.Column != "" && !strings.Contains(msg, fmt.Sprintf("row %d, cell %s%d: ", want.Row, want.Column, want.Row)) {
		t.Errorf("message %q does not name the cell %s%d", msg, want.Column, want.Row)
	}
}

// The bombs issue 13 found, each refused before it is read, with the
// limit it passes and where.
func TestBombsRefused(t *testing.T) {
	tests := []struct {
		name string
		make func(io.Writer) error
		want LimitError
	}{{
		// 5.9 GB and 73 s before: the workbook part declares 200 MB.
		name: "workbook.xlsx", make: func(w io.Writer) error { return bombs.NestedWorkbook(w, 32_000_000) },
		want: LimitError{Part: "xl/workbook.xml", Max: DefaultLimits.PartSize, Limit: "8 MiB decompressed"},
	}, {
		// 3.5 GB and 42 s before.
		name: "strings.xlsx", make: func(w io.Writer) error { return bombs.SharedStrings(w, 53_000_000) },
		want: LimitError{Part: "xl/sharedStrings.xml", Max: DefaultLimits.SharedStringsSize, Limit: "64 MiB decompressed"},
	}, {
		// Accepted as a payee before.
		name: "name.csv", make: func(w io.Writer) error { return bombs.LongNameCSV(w, 45<<20) },
		want: LimitError{Row: 2, Column: "A", Max: 32767, Limit: "32,767 characters in a cell"},
	}, {
		name: "name.xlsx", make: func(w io.Writer) error { return bombs.LongCellXLSX(w, 45<<20) },
		want: LimitError{Row: 2, Column: "A", Max: 32767, Limit: "32,767 characters in a cell"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := bomb(t, tt.name, tt.make)
			_, err := readUntilError(p, Options{})
			wantLimit(t, err, tt.want)
		})
	}
}

// The wide bombs issue 13 found: every data row is unreadable, saying
// where its cells go past the header, and holds no cell past the margin,
// where before each was made into thousands or a million empty cells (a
// check file of 248 MB, a batch page of 720 MB).
func TestWideBombsAreRowErrors(t *testing.T) {
	p := bomb(t, "wide.xlsx", func(w io.Writer) error { return bombs.WideRows(w, 5000, "XFD") })
	rows, err := readUntilError(p, Options{})
	if err != nil || len(rows) != 5000 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	for _, row := range rows {
		var pe *ParseError
		if !errors.As(row.Err, &pe) || !errors.Is(row.Err, ErrWideRow) || pe.Row != row.Number || pe.Column != "XFD" || len(row.Cells) > 6+10 {
			t.Fatalf("row %d: %d cells, %v", row.Number, len(row.Cells), row.Err)
		}
	}
	if msg := rows[0].Err.Error(); msg != `row 2, column "XFD": cell beyond the header's columns: XFD2 is 16378 columns past F, the header's last (lote allows 10): "1"` {
		t.Errorf("message %q", msg)
	}

	p = bomb(t, "wide.csv", func(w io.Writer) error { return bombs.WideCSV(w, 40, 1_000_000) })
	rows, err = readUntilError(p, Options{})
	if err != nil || len(rows) != 40 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	for _, row := range rows {
		if !errors.Is(row.Err, ErrFieldCount) || len(row.Cells) != 6+10 {
			t.Fatalf("row %d: %d cells, %v", row.Number, len(row.Cells), row.Err)
		}
	}
	if msg := rows[0].Err.Error(); msg != `row 2 (line 2): wrong number of fields: 1000000 instead of 6 (the header's); those past column P are left out` {
		t.Errorf("message %q", msg)
	}
}

// Each limit below its bomb's size: the reader still refuses at the limit
// itself, not only at a part's declared size.
func TestLimits(t *testing.T) {
	xlsx := func(sheetData string, sst ...string) []byte { return zipBytes(t, xlsxParts(sheetData, sst)) }
	header := `<row r="1"><c r="A1" t="inlineStr"><is><t>nome</t></is></c><c r="B1" t="inlineStr"><is><t>valor</t></is></c></row>`
	long := strings.Repeat("x", 30000)
	var manyLong strings.Builder
	manyLong.WriteString(header + `<row r="2">`)
	for i := range 40 {
		fmt.Fprintf(&manyLong, `<c r="%s2" t="s"><v>0</v></c>`, columnLetter(i))
	}
	manyLong.WriteString(`</row>`)
	tests := []struct {
		name string
		file []byte
		lim  Limits
		want LimitError
	}{{
		name: "depth.xlsx", file: xlsx(header + `<row r="2"><c r="A2">` + strings.Repeat("<x>", 100) + strings.Repeat("</x>", 100) + `</c></row>`),
		want: LimitError{Part: "xl/worksheets/sheet1.xml", Max: 64, Limit: "64 levels of nested elements"},
	}, {
		name: "token.xlsx", file: xlsx(header + `<row r="2" junk="` + strings.Repeat("x", 2<<20) + `"/>`),
		want: LimitError{Part: "xl/worksheets/sheet1.xml", Max: 1 << 20, Limit: "1 MiB in one XML tag or text"},
	}, {
		name: "strings.xlsx", file: xlsx(header, "a", "b", "c"), lim: Limits{SharedStrings: 2},
		want: LimitError{Part: "xl/sharedStrings.xml", Max: 2, Limit: "2 shared strings"},
	}, {
		name: "text.xlsx", file: xlsx(header, "abc", "defg"), lim: Limits{SharedText: 6},
		want: LimitError{Part: "xl/sharedStrings.xml", Max: 6, Limit: "6 bytes of shared strings' text"},
	}, {
		name: "long string.xlsx", file: xlsx(header, strings.Repeat("é", 40000)),
		want: LimitError{Part: "xl/sharedStrings.xml", Max: 32767, Limit: "32,767 characters in a cell"},
	}, {
		name: "header.xlsx", file: xlsx(`<row r="1"><c r="A1" t="inlineStr"><is><t>nome</t></is></c><c r="ALM1"><v>1</v></c></row>`),
		want: LimitError{Row: 1, Column: "ALM", Max: 1000, Limit: "1,000 columns"},
	}, {
		// Forty cells using one 30,000-character string: 1.2 MB of text.
		name: "row.xlsx", file: xlsx(manyLong.String(), long),
		want: LimitError{Row: 2, Max: 1 << 20, Limit: "1 MiB of text in a row"},
	}, {
		name: "header.csv", file: []byte("a" + strings.Repeat(";", 1000) + "\n"),
		want: LimitError{Row: 1, Column: "ALM", Max: 1000, Limit: "1,000 columns"},
	}, {
		name: "row.csv", file: []byte("nome;obs\n" + strings.Repeat(long+";", 40) + "\n"),
		want: LimitError{Row: 2, Max: 1 << 20, Limit: "1 MiB of text in a row"},
	}, {
		// Quoted fields spanning lines count as one row, as Excel shows
		// them; the long cell is in row 3, column B.
		name: "quoted.csv", file: []byte("nome;obs\nAna;\"two\nlines\"\nBia;\"" + strings.Repeat("é", 32768) + "\"\n"),
		want: LimitError{Row: 3, Column: "B", Max: 32767, Limit: "32,767 characters in a cell"},
	}, {
		name: "open quote.csv", file: []byte("nome;obs\nAna;\"open\n" + strings.Repeat("Bia;10\n", 10000)),
		want: LimitError{Row: 2, Column: "B", Max: 32767, Limit: "32,767 characters in a cell"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readUntilError(writeFile(t, tt.name, tt.file), Options{Limits: tt.lim})
			wantLimit(t, err, tt.want)
		})
	}
}

// A cell exactly at a limit is read.
func TestLimitsAtTheEdge(t *testing.T) {
	name := strings.Repeat("é", 32767)
	_, rows := readAll(t, writeFile(t, "edge.csv", []byte("nome;obs\n\""+name+"\";x\n")), Options{})
	if len(rows) != 1 || rows[0].Cells[0].Value != name {
		t.Errorf("a 32,767-character cell: %d rows", len(rows))
	}
	fields := "a" + strings.Repeat(";", 999) + "\n"
	r, _ := readAll(t, writeFile(t, "wide.csv", []byte(fields)), Options{})
	if len(r.Header()) != 1000 {
		t.Errorf("a 1,000-column header has %d columns", len(r.Header()))
	}
	sheetData := `<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="ALL1"><v>1</v></c></row>`
	r, _ = readAll(t, writeFile(t, "wide.xlsx", zipBytes(t, xlsxParts(sheetData, nil))), Options{})
	if len(r.Header()) != 1000 {
		t.Errorf("a header with a cell in ALL has %d columns", len(r.Header()))
	}
	// Comments, CDATA and quoted '>' do not confuse the XML guard.
	sheetData = `<!-- a "quote -->` + `<row r="1" x='a>b'><c r="A1" t="inlineStr"><is><t><![CDATA[nome > "x]]></t></is></c></row>`
	r, _ = readAll(t, writeFile(t, "lex.xlsx", zipBytes(t, xlsxParts(sheetData, nil))), Options{})
	if h := r.Header(); len(h) != 1 || h[0] != `nome > "x` {
		t.Errorf("header %q", h)
	}
}

// A data row's cells far past the header make only that row unreadable,
// and are not returned; within the margin they are kept.
func TestWideRowIsARowError(t *testing.T) {
	sheetData := `<row r="1"><c r="A1" t="inlineStr"><is><t>nome</t></is></c><c r="D1" t="inlineStr"><is><t>valor</t></is></c></row>` +
		`<row r="2"><c r="A2" t="inlineStr"><is><t>Ana</t></is></c><c r="N2" t="inlineStr"><is><t>nota</t></is></c></row>` +
		`<row r="3"><c r="A3" t="inlineStr"><is><t>Bia</t></is></c><c r="O3" t="inlineStr"><is><t>longe</t></is></c><c r="Z3"/></row>` +
		`<row r="4"><c r="A4" t="inlineStr"><is><t>Caio</t></is></c></row>`
	_, rows := readAll(t, writeFile(t, "margin.xlsx", zipBytes(t, xlsxParts(sheetData, nil))), Options{})
	checkRows(t, rows, []wantRow{
		{num: 2, cells: append(append([]string{"Ana"}, make([]string, 12)...), "nota")},
		{num: 3, cells: []string{"Bia"}, err: ErrWideRow, errCol: "O"},
		{num: 4, cells: []string{"Caio"}},
	})
	if msg := rows[1].Err.Error(); msg != `row 3, column "O": cell beyond the header's columns: O3 is 11 columns past D, the header's last (lote allows 10): "longe"` {
		t.Errorf("message %q", msg)
	}

	in := "a;b;c;d\n1;2;3;4\n" + "5" + strings.Repeat(";x", 19) + "\n"
	_, rows = readAll(t, writeFile(t, "margin.csv", []byte(in)), Options{})
	if len(rows) != 2 || len(rows[1].Cells) != 14 || !errors.Is(rows[1].Err, ErrFieldCount) ||
		!strings.Contains(rows[1].Err.Error(), "20 instead of 4 (the header's); those past column N are left out") {
		t.Errorf("rows %+v", rows)
	}
	if got := readAllText(t, writeFile(t, "margin.csv", []byte(in))); len(got[1].Cells) != 14 {
		t.Errorf("NextText kept %d cells", len(got[1].Cells))
	}
}

// The workbook's budget: a small file may not decompress to more than
// Limits.Expansion times its size plus 16 MiB, cells' text counted again
// as they are read.
func TestExpansion(t *testing.T) {
	// 30 MiB of blank rows in a file of about 200 KB: past 50 times its
	// size plus 16 MiB, refused before a row is read.
	p := bomb(t, "blank.xlsx", func(w io.Writer) error { return bombs.BlankRows(w, 30<<20/6) })
	if fi, _ := os.Stat(p); fi.Size() > 256<<10 {
		t.Fatalf("the file is %d bytes", fi.Size())
	}
	if _, err := Open(p, Options{Limits: Limits{Expansion: 50}}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("30 MiB from a small file: %v", err)
	}
	// A 30,000-character string used by 30 cells a row, row after row:
	// 900 KB a row, past the budget in 20 rows.
	var b strings.Builder
	b.WriteString(`<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>`)
	for r := 2; r < 40; r++ {
		fmt.Fprintf(&b, `<row r="%d">`, r)
		for c := range 30 {
			fmt.Fprintf(&b, `<c r="%s%d" t="s"><v>0</v></c>`, columnLetter(c), r)
		}
		b.WriteString(`</row>`)
	}
	p = writeFile(t, "shared.xlsx", zipBytes(t, xlsxParts(b.String(), []string{strings.Repeat("x", 30000)})))
	rows, err := readUntilError(p, Options{Limits: Limits{ColumnMargin: 40}})
	if !errors.Is(err, ErrTooLarge) || len(rows) < 10 || len(rows) > 25 {
		t.Errorf("%d rows, then %v; want ErrTooLarge after about 18 rows", len(rows), err)
	}
}

func TestLimitErrorMessage(t *testing.T) {
	for _, tt := range []struct {
		e    LimitError
		want string
	}{
		{LimitError{Limit: "1,000 columns", Row: 7, Column: "XFD", Hint: "the last column lote reads is ALL"},
			"row 7, cell XFD7: more than 1,000 columns, lote's limit (the last column lote reads is ALL)"},
		{LimitError{Limit: "1 MiB of text in a row", Row: 3}, "row 3: more than 1 MiB of text in a row, lote's limit"},
		{LimitError{Limit: "64 levels of nested elements", Part: "xl/workbook.xml"}, "xl/workbook.xml: more than 64 levels of nested elements, lote's limit"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 32767: "32,767", 1048576: "1,048,576"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q", n, got)
		}
	}
	if byteSize(8<<20) != "8 MiB" || byteSize(6) != "6 bytes" || byteSize(64<<10) != "64 KiB" {
		t.Errorf("byteSize: %s %s %s", byteSize(8<<20), byteSize(6), byteSize(64<<10))
	}
}

// The shared strings are counted before they are parsed: never fewer than
// encoding/xml finds, whatever the prefixes and spacing.
func TestCountSharedStrings(t *testing.T) {
	sst := `<?xml version="1.0"?><x:sst xmlns:x="` + "http://schemas.openxmlformats.org/spreadsheetml/2006/main" + `">` +
		`<x:si><x:t>a</x:t></x:si><si/><si ` + "\n" + `/><si><r><t>b</t></r><rPh><t>c</t></rPh></si><sis/><!-- <si> --></x:sst>`
	b := zipBytes(t, map[string]string{"xl/sharedStrings.xml": sst})
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	w := &workbookZip{parts: map[string]*zip.File{"xl/sharedstrings.xml": zr.File[0]}, budget: &partBudget{left: 1 << 20}, lim: DefaultLimits}
	n, err := countSharedStrings(w, "xl/sharedStrings.xml")
	if err != nil || n != 5 {
		t.Errorf("counted %d, %v; want 4 strings and the one in the comment", n, err)
	}
	strs, err := readSharedStrings(w, "xl/sharedStrings.xml")
	if err != nil || fmt.Sprint(strs) != "[a   b]" {
		t.Errorf("read %q, %v", strs, err)
	}
}

// FuzzXMLGuard compares the guard's nesting with encoding/xml's on the
// parts encoding/xml reads without error: the guard refuses exactly those
// whose elements nest deeper than its limit.
func FuzzXMLGuard(f *testing.F) {
	for _, s := range []string{
		`<a><b><c/></b></a>`,
		`<?xml version="1.0"?><a x='>' y="/"><b/><!-- <c><d><e> --><![CDATA[<x><y><z>]]></a>`,
		`<a><b><c><d><e></e></d></c></b></a>`,
		`<!DOCTYPE a><a><b  /><c></c ></a>`,
	} {
		f.Add(s)
	}
	const maxDepth = 4
	f.Fuzz(func(t *testing.T, s string) {
		dec := xml.NewDecoder(strings.NewReader(s))
		depth, deepest := 0, 0
		for {
			tok, err := dec.RawToken()
			if err == io.EOF {
				break
			}
			if err != nil {
				return // not XML encoding/xml reads
			}
			switch tok.(type) {
			case xml.StartElement:
				depth++
				deepest = max(deepest, depth)
			case xml.EndElement:
				depth--
			}
		}
		g := newXMLGuard(strings.NewReader(s), "part", Limits{XMLDepth: maxDepth, XMLToken: 1 << 20})
		_, err := io.ReadAll(g)
		var le *LimitError
		refused := errors.As(err, &le) && le.Max == maxDepth
		if refused != (deepest > maxDepth) {
			t.Fatalf("nesting %d: guard error %v", deepest, err)
		}
	})
}
