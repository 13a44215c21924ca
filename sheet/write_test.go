package sheet

import (
	"archive/zip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

var resultHeader = []string{"nome", "conta", "valor", "data", "status", "obs"}

func resultRows() [][]Cell {
	return [][]Cell{
		{{Value: "Ana"}, {Value: "00123"}, {Value: "123456", Kind: Number}, {Value: "2026-07-01", Kind: Date}, {Value: "accepted"}, {Value: "=HYPERLINK(\"x\")"}},
		{{Value: "Bia; \"B\""}, {Value: "12345678909", Kind: Number}, {Value: "-50", Kind: Number}, {}, {Value: "rejected"}, {Value: "-1+2"}},
		{{Value: "Caio\nSilva"}, {Value: "@SUM(A1)"}, {Value: "7", Kind: Number}, {}, {Value: "needs_review"}, {Value: "\tx"}},
	}
}

func writeAll(t *testing.T, path string, opts WriteOptions) {
	t.Helper()
	w, err := Create(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteHeader(resultHeader); err != nil {
		t.Fatal(err)
	}
	for _, r := range resultRows() {
		if err := w.WriteRow(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file at %s before Close: %v", path, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries after Close, want only the result", len(entries))
	}
}

func TestWriteCSVGolden(t *testing.T) {
	tests := []struct {
		sep  rune
		want string
	}{
		// Every field holding ',' or ';' is quoted whatever the separator:
		// amounts with a decimal comma too, which Excel still reads as
		// numbers.
		{0, "\xEF\xBB\xBFnome;conta;valor;data;status;obs\r\n" +
			"Ana;00123;\"1234,56\";2026-07-01;accepted;\"'=HYPERLINK(\"\"x\"\")\"\r\n" +
			"\"Bia; \"\"B\"\"\";12345678909;\"-0,50\";;rejected;'-1+2\r\n" +
			"\"Caio\r\nSilva\";'@SUM(A1);\"0,07\";;needs_review;\"'\tx\"\r\n"},
		{',', "\xEF\xBB\xBFnome,conta,valor,data,status,obs\r\n" +
			"Ana,00123,1234.56,2026-07-01,accepted,\"'=HYPERLINK(\"\"x\"\")\"\r\n" +
			"\"Bia; \"\"B\"\"\",12345678909,-0.50,,rejected,'-1+2\r\n" +
			"\"Caio\r\nSilva\",'@SUM(A1),0.07,,needs_review,\"'\tx\"\r\n"},
	}
	for _, tt := range tests {
		p := filepath.Join(t.TempDir(), "resultado.csv")
		writeAll(t, p, WriteOptions{Separator: tt.sep, MoneyColumns: []int{2}, StatusColumn: 4})
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("separator %q:\n got %q\nwant %q", tt.sep, got, tt.want)
		}
	}
}

func TestCentsToReais(t *testing.T) {
	for in, want := range map[string]string{"0": "0,00", "5": "0,05", "-5": "-0,05", "123456": "1234,56", "-9223372036854775808": "-92233720368547758,08", "9223372036854775807": "92233720368547758,07"} {
		if got, err := centsToReais(in, ','); err != nil || got != want {
			t.Errorf("centsToReais(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"12.5", "", "1e3", "abc", "99999999999999999999"} {
		if got, err := centsToReais(bad, ','); err == nil {
			t.Errorf("centsToReais(%q) = %q, want error", bad, got)
		}
	}
}

func TestWriteXLSX(t *testing.T) {
	p := filepath.Join(t.TempDir(), "resultado.xlsx")
	writeAll(t, p, WriteOptions{MoneyColumns: []int{2}, StatusColumn: 4, Summary: [][]Cell{
		{{Value: "state"}, {Value: "rows"}}, {{Value: "accepted"}, {Value: "1", Kind: Number}},
	}})
	f, err := excelize.OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !reflect.DeepEqual(got, []string{ResultsSheet, SummarySheet}) {
		t.Errorf("sheets %q", got)
	}
	raw := excelize.Options{RawCellValue: true}
	rows, err := f.GetRows(ResultsSheet, raw)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		resultHeader,
		{"Ana", "00123", "1234.56", "46204", "accepted", "=HYPERLINK(\"x\")"},
		{"Bia; \"B\"", "12345678909", "-0.5", "", "rejected", "-1+2"},
		{"Caio\nSilva", "@SUM(A1)", "0.07", "", "needs_review", "\tx"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows\n got %q\nwant %q", rows, want)
	}
	for cell, want := range map[string]excelize.CellType{"B2": excelize.CellTypeInlineString, "C2": excelize.CellTypeUnset, "F2": excelize.CellTypeInlineString, "B3": excelize.CellTypeUnset} {
		if got, _ := f.GetCellType(ResultsSheet, cell); got != want {
			t.Errorf("%s type %v, want %v", cell, got, want)
		}
	}
	if formula, _ := f.GetCellFormula(ResultsSheet, "F2"); formula != "" {
		t.Errorf("F2 has formula %q", formula)
	}
	style := func(sheet, cell string) *excelize.Style {
		t.Helper()
		id, err := f.GetCellStyle(sheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := style(ResultsSheet, "A1"); st.Font == nil || !st.Font.Bold {
		t.Error("header A1 is not bold")
	}
	if st := style(ResultsSheet, "C3"); st.CustomNumFmt == nil || *st.CustomNumFmt != `"R$" #,##0.00` {
		t.Errorf("money format %v", st.CustomNumFmt)
	}
	for cell, color := range map[string]string{"E2": "C6EFCE", "E3": "FFC7CE", "E4": "FFEB9C"} {
		if st := style(ResultsSheet, cell); len(st.Fill.Color) == 0 || st.Fill.Color[0] != color {
			t.Errorf("%s fill %v, want %s", cell, st.Fill.Color, color)
		}
	}
	panes, err := f.GetPanes(ResultsSheet)
	if err != nil || !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
		t.Errorf("panes %+v, %v", panes, err)
	}
	if sheetXML := zipPart(t, p, "xl/worksheets/sheet1.xml"); !strings.Contains(sheetXML, `<autoFilter ref="$A$1:$F$4"`) {
		t.Errorf("no autofilter over A1:F4 in %s", sheetXML)
	}
	summary, err := f.GetRows(SummarySheet, raw)
	if err != nil || !reflect.DeepEqual(summary, [][]string{{"state", "rows"}, {"accepted", "1"}}) {
		t.Errorf("summary %q, %v", summary, err)
	}
	if st := style(SummarySheet, "B1"); st.Font == nil || !st.Font.Bold {
		t.Error("summary header is not bold")
	}

	// Our own reader sees the same values and kinds.
	_, got := readAll(t, p, Options{})
	c2, c3 := got[0].Cells[2], got[0].Cells[3]
	if c2.Value != "1234.56" || c2.Kind != Number || c2.Format.String() != `"R$" #,##0.00` ||
		c3.Value != "2026-07-01" || c3.Kind != Date || c3.Format.String() != "yyyy-mm-dd" || got[0].Cells[1] != (Cell{Value: "00123"}) {
		t.Errorf("read back %v", got[0].Cells)
	}
}

func zipPart(t *testing.T, path, name string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}

// A write abandoned before Close, or failed, leaves nothing at the path.
func TestWriteInterrupted(t *testing.T) {
	for _, name := range []string{"r.csv", "r.xlsx"} {
		dir := t.TempDir()
		p := filepath.Join(dir, name)
		w, err := Create(p, WriteOptions{MoneyColumns: []int{0}, StatusColumn: -1})
		if err != nil {
			t.Fatal(err)
		}
		w.WriteHeader([]string{"valor"})
		if err := w.WriteRow([]Cell{{Value: "12.5", Kind: Number}}); err == nil {
			t.Errorf("%s: fractional cents accepted", name)
		}
		if err := w.Close(); err == nil {
			t.Errorf("%s: Close after a failed write succeeded", name)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: folder holds %v", name, entries)
		}
	}
	if _, err := Create(filepath.Join(t.TempDir(), "r.ods"), WriteOptions{}); err == nil {
		t.Error("Create accepted .ods")
	}
}

// Close replaces an existing file whole; before Close the old one is intact.
func TestWriteReplaces(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.csv")
	os.WriteFile(p, []byte("old"), 0o600)
	w, err := Create(p, WriteOptions{StatusColumn: -1})
	if err != nil {
		t.Fatal(err)
	}
	w.WriteHeader([]string{"a"})
	w.WriteRow([]Cell{{Value: "1"}})
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("before Close: %q", b)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "\xEF\xBB\xBFa\r\n1\r\n" {
		t.Errorf("after Close: %q", b)
	}
}

// TestWriteXLSXKeepsFormats writes cells as an XLSX input had them and
// reads them back: numbers stay numbers and dates dates, each in its own
// number format, built-in (the locale's short date, 14) or custom.
func TestWriteXLSXKeepsFormats(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.xlsx")
	w, err := Create(p, WriteOptions{StatusColumn: -1})
	if err != nil {
		t.Fatal(err)
	}
	brl := &NumberFormat{ID: 170, Code: `"R$" #,##0.00`}
	in := []Cell{
		{Value: "4250.75", Kind: Number, Format: brl},
		{Value: "2026-12-05", Kind: Date, Format: &NumberFormat{ID: 14}},
		{Value: "2026-12-06", Kind: Date, Format: &NumberFormat{ID: 180, Code: "dd/mm/yyyy"}},
		{Value: "42", Kind: Number},
		{Value: "0501"},
	}
	if err := w.WriteHeader([]string{"Valor", "Data", "Vencimento", "N", "Agência"}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRow(in); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, rows := readAll(t, p, Options{})
	got := rows[0].Cells
	for i, c := range in {
		g := got[i]
		// A custom format's ID is the workbook's own: its code is compared.
		if g.Value != c.Value || g.Kind != c.Kind || g.Format.String() != c.Format.String() {
			t.Errorf("column %d: read back %+v, wrote %+v", i+1, g, c)
		}
	}
}

// TestWriteXLSXDateTime writes a date and time of day as a date-time cell
// with its wall clock as given, and as text in CSV.
func TestWriteXLSXDateTime(t *testing.T) {
	dir := t.TempDir()
	const at = "2026-12-04T16:05:09"
	for _, name := range []string{"r.xlsx", "r.csv"} {
		p := filepath.Join(dir, name)
		w, err := Create(p, WriteOptions{StatusColumn: -1, Separator: ';'})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteHeader([]string{"processed_at"}); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteRow([]Cell{{Value: at, Kind: Date}}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	f, err := excelize.OpenFile(filepath.Join(dir, "r.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sh := f.GetSheetName(0)
	typ, err := f.GetCellType(sh, "A2")
	if err != nil {
		t.Fatal(err)
	}
	shown, _ := f.GetCellValue(sh, "A2")
	raw, _ := f.GetCellValue(sh, "A2", excelize.Options{RawCellValue: true})
	// 2026-12-04 is day 46360 of Excel's calendar; 16:05:09 is 57909 s.
	if typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString || shown != "2026-12-04 16:05:09" ||
		!strings.HasPrefix(raw, "46360.67024") {
		t.Errorf("date-time cell: type %v, shown %q, raw %q", typ, shown, raw)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "r.csv"))
	if err != nil || !strings.Contains(string(csv), "\n"+at) {
		t.Errorf("CSV = %q, %v", csv, err)
	}
}
