package sheet

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// excelDefaultWidth is the width Excel gives a column nobody sized.
const excelDefaultWidth = 9.140625

func colWidth(t *testing.T, f *excelize.File, sheet, col string) float64 {
	t.Helper()
	w, err := f.GetColWidth(sheet, col)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// Every column is as wide as its widest text (header or value) plus some
// padding, between 8 and 50 characters, so nothing a user needs is cut off.
func TestXLSXColumnWidths(t *testing.T) {
	p := filepath.Join(t.TempDir(), "resultado.xlsx")
	w, err := Create(p, WriteOptions{MoneyColumns: []int{2}, StatusColumn: 3, Summary: [][]Cell{
		{{Value: "state"}, {Value: "rows"}},
		{{Value: "needs_review"}, {Value: "1", Kind: Number}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 500)
	rows := [][]Cell{
		{{Value: "Maria Aparecida dos Santos Oliveira"}, {Value: "12345678909", Kind: Number}, {Value: "123456789", Kind: Number}, {Value: "needs_review"}, {Value: long}, {Value: "1"}, {Value: "2026-07-01", Kind: Date}, {Value: "José"}},
		{{Value: "Ana"}, {Value: "00123"}, {Value: "-5", Kind: Number}, {Value: "accepted"}, {}, {}, {}, {Value: "Jose\u0301 da Silva"}},
	}
	if err := w.WriteHeader([]string{"nome", "documento", "valor", "status", "obs", "n", "data"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.WriteRow(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	tests := []struct {
		sheet, col string
		want       float64
		why        string
	}{
		{ResultsSheet, "A", 37, "35-character name + 2"},
		{ResultsSheet, "B", 13, "11-digit document + 2, and header 'documento' + 4"},
		{ResultsSheet, "C", 17, "'R$ 1,234,567.89' + 2"},
		{ResultsSheet, "D", 14, "'needs_review' + 2"},
		{ResultsSheet, "E", 50, "500 characters, capped"},
		{ResultsSheet, "F", 8, "floor"},
		{ResultsSheet, "G", 12, "yyyy-mm-dd + 2"},
		{ResultsSheet, "H", 15, "'José da Silva' (13) with a combining accent + 2, no header"},
		{ResultsSheet, "I", excelDefaultWidth, "beyond the data: untouched"},
		{SummarySheet, "A", 14, "'needs_review' + 2"},
		{SummarySheet, "B", 8, "floor"},
	}
	for _, tt := range tests {
		if got := colWidth(t, f, tt.sheet, tt.col); got != tt.want {
			t.Errorf("%s!%s width %v, want %v (%s)", tt.sheet, tt.col, got, tt.want, tt.why)
		}
	}
	if got := colWidth(t, f, ResultsSheet, "A"); got <= excelDefaultWidth {
		t.Errorf("name column %v not wider than the default %v", got, excelDefaultWidth)
	}

	// Sizing must not disturb what was written.
	got, err := f.GetRows(ResultsSheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1][0] != rows[0][0].Value || got[1][4] != long || got[2][2] != "-0.05" {
		t.Errorf("rows %q", got)
	}
	panes, err := f.GetPanes(ResultsSheet)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes %+v, %v", panes, err)
	}
}

// The writer holds back only the first sizingRows rows (header included):
// rows before, at and past that boundary all arrive complete and in order,
// a header alone makes a valid file, and widths come from the rows held back.
func TestXLSXRowsPastSizing(t *testing.T) {
	for _, n := range []int{0, 1, sizingRows - 2, sizingRows - 1, sizingRows, 300} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "r.xlsx")
			w, err := Create(p, WriteOptions{MoneyColumns: []int{1}, StatusColumn: 2})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteHeader([]string{"nome", "valor", "status"}); err != nil {
				t.Fatal(err)
			}
			want := [][]string{{"nome", "valor", "status"}}
			for i := range n {
				name := fmt.Sprintf("pessoa %d", i+1)
				if i == 250 {
					// Past the rows measured: streamed, not sized.
					name = strings.Repeat("y", 80)
				}
				cents := strconv.Itoa(100*(i+1) + 1)
				if err := w.WriteRow([]Cell{{Value: name}, {Value: cents, Kind: Number}, {Value: "finished"}}); err != nil {
					t.Fatal(err)
				}
				want = append(want, []string{name, fmt.Sprintf("%d.01", i+1), "finished"})
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			f, err := excelize.OpenFile(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := f.GetRows(ResultsSheet, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %d rows, want %d; first difference:", len(got), len(want))
				for i := range min(len(got), len(want)) {
					if !reflect.DeepEqual(got[i], want[i]) {
						t.Errorf("row %d: got %q want %q", i+1, got[i], want[i])
						break
					}
				}
			}
			// Names "pessoa 1".."pessoa 199" are at most 10 characters; the
			// 80-character name at row 252 is past the rows measured.
			wantA := float64(minColWidth) // header "nome" + 4
			if n >= 1 {
				wantA = float64(len("pessoa 1") + cellPadding)
			}
			if n >= 10 {
				wantA = float64(len("pessoa 10") + cellPadding)
			}
			if n >= 100 {
				wantA = float64(len("pessoa 100") + cellPadding)
			}
			if got := colWidth(t, f, ResultsSheet, "A"); got != wantA {
				t.Errorf("column A width %v, want %v", got, wantA)
			}
			if sheetXML := zipPart(t, p, "xl/worksheets/sheet1.xml"); !strings.Contains(sheetXML, fmt.Sprintf(`<autoFilter ref="$A$1:$C$%d"`, n+1)) {
				t.Errorf("no autofilter over A1:C%d", n+1)
			}
			if n > 0 {
				id, _ := f.GetCellStyle(ResultsSheet, fmt.Sprintf("C%d", n+1))
				if st, _ := f.GetStyle(id); st == nil || len(st.Fill.Color) == 0 || st.Fill.Color[0] != "C6EFCE" {
					t.Errorf("last status cell not green: %+v", st)
				}
			}
		})
	}
}

func TestTextAndMoneyWidth(t *testing.T) {
	for s, want := range map[string]int{
		"":                0,
		"Ana":             3,
		"José":            4,
		"Jose\u0301":      4, // decomposed accent
		"Caio\nSilva":     9,
		"東京":              4,
		"transfer-id-123": 15,
	} {
		if got := textWidth(s); got != want {
			t.Errorf("textWidth(%q) = %d, want %d", s, got, want)
		}
	}
	for cents, want := range map[int64]int{
		0:                    len("R$ 0.00"),
		-5:                   len("-R$ 0.05"),
		99999:                len("R$ 999.99"),
		100000:               len("R$ 1,000.00"),
		123456789:            len("R$ 1,234,567.89"),
		-9223372036854775808: len("-R$ 92,233,720,368,547,758.08"),
	} {
		if got := moneyWidth(cents); got != want {
			t.Errorf("moneyWidth(%d) = %d, want %d", cents, got, want)
		}
	}
}
