package sheet

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// payoutHeader accepts a row that has the columns "Nome" and "Valor", and
// scores a row by how many of them it has.
func payoutHeader(cells []string) (int, bool) {
	n := 0
	for _, c := range cells {
		if c == "Nome" || c == "Valor" {
			n++
		}
	}
	return n, n == 2
}

// dataRows reads every row left after the header, as "number:cells".
func dataRows(t *testing.T, r *Reader) []string {
	t.Helper()
	var out []string
	for {
		row, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		vals := make([]string, len(row.Cells))
		for i, c := range row.Cells {
			vals[i] = c.Value
		}
		out = append(out, strings.Join(append([]string{fmt.Sprintf("%02d", row.Number)}, vals...), ":"))
	}
}

func TestFindHeaderUnderTitlesCSV(t *testing.T) {
	// A title line with a comma and no semicolon, a company name and a blank
	// line above the table: the separator is still the table's.
	csv := "Folha de pagamento - Dezembro, 2026\nACME Ltda\n\nNome;Valor\nAna;10,50\nBia;20,00\n"
	r, err := Open(writeFile(t, "folha.csv", []byte(csv)), Options{IsHeader: payoutHeader})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Separator() != ';' {
		t.Errorf("Separator = %q, want ';'", r.Separator())
	}
	if got := r.HeaderRow(); got != 4 {
		t.Errorf("HeaderRow = %d, want 4", got)
	}
	if want := []string{"Nome", "Valor"}; !slices.Equal(r.Header(), want) {
		t.Errorf("Header = %q, want %q", r.Header(), want)
	}
	if got, want := dataRows(t, r), []string{"05:Ana:10,50", "06:Bia:20,00"}; !slices.Equal(got, want) {
		t.Errorf("rows = %q, want %q", got, want)
	}
}

func TestFindHeaderRowGiven(t *testing.T) {
	csv := "Relatório;;\nNome;Valor\nAna;1\n"
	r, err := Open(writeFile(t, "f.csv", []byte(csv)), Options{HeaderRow: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.HeaderRow() != 2 || r.Header()[0] != "Nome" {
		t.Errorf("header = row %d %q, want row 2 [Nome Valor]", r.HeaderRow(), r.Header())
	}
	// Row 3 given is the data row: IsHeader refuses it, and the error says
	// which row was looked at.
	_, err = Open(writeFile(t, "f.csv", []byte(csv)), Options{HeaderRow: 3, IsHeader: payoutHeader})
	var nh *NoHeaderError
	if !errors.As(err, &nh) || !errors.Is(err, ErrNoHeader) {
		t.Fatalf("err = %v, want a *NoHeaderError", err)
	}
	if want := "no header row in row 3"; !strings.HasSuffix(err.Error(), want) {
		t.Errorf("err = %q, want it to end %q", err, want)
	}
}

func TestFindHeaderNotFoundCSV(t *testing.T) {
	var b strings.Builder
	b.WriteString("Nome;Quantia\n")
	for range 30 {
		b.WriteString("Ana;1\n")
	}
	_, err := Open(writeFile(t, "f.csv", []byte(b.String())), Options{IsHeader: payoutHeader})
	var nh *NoHeaderError
	if !errors.As(err, &nh) {
		t.Fatalf("err = %v, want a *NoHeaderError", err)
	}
	if want := "no header row in rows 1-20"; !strings.HasSuffix(err.Error(), want) {
		t.Errorf("err = %q, want it to end %q", err, want)
	}
	c, ok := nh.Closest()
	if !ok || c.ClosestRow != 1 || !slices.Equal(c.Closest, []string{"Nome", "Quantia"}) {
		t.Errorf("Closest = %+v, %v; want row 1 [Nome Quantia]", c, ok)
	}
}

// workbook writes an XLSX whose sheets hold the given rows, in order.
func workbook(t *testing.T, sheets []string, rows map[string][][]any) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, name := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for j, row := range rows[name] {
			cell, _ := excelize.CoordinatesToCellName(1, j+1)
			if err := f.SetSheetRow(name, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	p := filepath.Join(t.TempDir(), "book.xlsx")
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFindHeaderOtherWorksheet(t *testing.T) {
	path := workbook(t, []string{"Instruções", "Pagamentos"}, map[string][][]any{
		"Instruções": {{"Preencha a aba Pagamentos"}, {"Valor em reais"}},
		"Pagamentos": {{"Pagamentos de fornecedores"}, {"Dezembro"}, {nil}, {"Nome", "Valor"}, {"Ana", 10.5}},
	})
	r, err := Open(path, Options{IsHeader: payoutHeader})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Sheet() != "Pagamentos" || r.HeaderRow() != 4 {
		t.Errorf("table at %q row %d, want \"Pagamentos\" row 4", r.Sheet(), r.HeaderRow())
	}
	if sk := r.Skipped(); len(sk) != 1 || sk[0].Sheet != "Instruções" || sk[0].First != 1 || sk[0].Last != 2 {
		t.Errorf("Skipped = %+v, want Instruções rows 1-2", sk)
	}
	if got, want := dataRows(t, r), []string{"05:Ana:10.5"}; !slices.Equal(got, want) {
		t.Errorf("rows = %q, want %q", got, want)
	}

	// Named, the worksheet is read even when another comes first.
	r2, err := Open(path, Options{Sheet: "pagamentos", IsHeader: payoutHeader})
	if err != nil {
		t.Fatal(err)
	}
	r2.Close()
	if r2.Sheet() != "Pagamentos" || len(r2.Skipped()) != 0 {
		t.Errorf("named: sheet %q skipped %v", r2.Sheet(), r2.Skipped())
	}
}

func TestFindHeaderNotFoundXLSX(t *testing.T) {
	path := workbook(t, []string{"Instruções", "Pagamentos"}, map[string][][]any{
		"Instruções": {{"Preencha a aba Pagamentos"}},
		"Pagamentos": {{"Título"}, {nil}, {nil}, {"Nome", "Quantia"}, {"Ana", 1}},
	})
	_, err := Open(path, Options{IsHeader: payoutHeader})
	var nh *NoHeaderError
	if !errors.As(err, &nh) {
		t.Fatalf("err = %v, want a *NoHeaderError", err)
	}
	want := `no header row in row 1 of worksheet "Instruções", rows 1-5 of worksheet "Pagamentos"`
	if !strings.HasSuffix(err.Error(), want) {
		t.Errorf("err = %q\nwant it to end %q", err, want)
	}
	if c, ok := nh.Closest(); !ok || c.Sheet != "Pagamentos" || c.ClosestRow != 4 {
		t.Errorf("Closest = %+v, want Pagamentos row 4", c)
	}
}

func TestSniffSeparatorUnderTitles(t *testing.T) {
	for _, tc := range []struct {
		text string
		want rune
	}{
		{"Nome;Valor\nAna;1\n", ';'},
		{"Nome,Valor\nAna,1\n", ','},
		{"Nome\tValor\nAna\t1,50\n", '\t'},
		{"Pagamentos, dezembro\n\nNome;CPF;Valor\nAna;1;1,50\nBia;2;2,50\n", ';'},
		{"ACME; Ltda\nNome,CPF,Valor\nAna,1,\"1,50\"\n", ','},
		{"nome;cpf,cnpj\n", ';'},
	} {
		if got := sniffSeparator([]byte(tc.text)); got != tc.want {
			t.Errorf("sniffSeparator(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// FuzzFindHeader reads arbitrary text looking for a header: whatever the
// bytes, Open either fails or stops at a row IsHeader accepted, within the
// rows it may look at, and every later row comes after it.
func FuzzFindHeader(f *testing.F) {
	f.Add([]byte("Folha;;\n\nNome;Valor\nAna;1\n"), uint8(0))
	f.Add([]byte("Nome,Valor\nAna,1\n"), uint8(1))
	f.Add([]byte("\"Nome\nX\";Valor\nNome;Valor\n"), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, headerRow uint8) {
		opts := Options{IsHeader: payoutHeader, HeaderRow: int(headerRow % 24)}
		r, err := Open(writeFile(t, "f.csv", data), opts)
		if err != nil {
			return
		}
		defer r.Close()
		if _, ok := payoutHeader(r.Header()); !ok {
			t.Fatalf("header %q was not accepted", r.Header())
		}
		if n := r.HeaderRow(); n < 1 || n > MaxHeaderRow && opts.HeaderRow == 0 || opts.HeaderRow > 0 && n != opts.HeaderRow {
			t.Fatalf("header on row %d (HeaderRow %d)", n, opts.HeaderRow)
		}
		for {
			row, err := r.Next()
			if err != nil {
				return
			}
			if row.Number <= r.HeaderRow() {
				t.Fatalf("row %d after the header on row %d", row.Number, r.HeaderRow())
			}
		}
	})
}

func TestFindHeaderAfterAChart(t *testing.T) {
	parts := xlsxParts(`<row r="1"><c r="A1" t="inlineStr"><is><t>Nome</t></is></c><c r="B1" t="inlineStr"><is><t>Valor</t></is></c></row>`+
		`<row r="2"><c r="A2" t="inlineStr"><is><t>Ana</t></is></c><c r="B2"><v>3</v></c></row>`, nil)
	// A chart sheet in front of the worksheet, as Excel saves one moved to
	// the first tab.
	parts["xl/workbook.xml"] = strings.Replace(parts["xl/workbook.xml"], `<sheets>`, `<sheets><sheet name="Gráfico" sheetId="2" r:id="rId9"/>`, 1)
	parts["xl/_rels/workbook.xml.rels"] = strings.Replace(parts["xl/_rels/workbook.xml.rels"], `</Relationships>`,
		`<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/chartsheet" Target="chartsheets/sheet1.xml"/></Relationships>`, 1)
	parts["xl/chartsheets/sheet1.xml"] = `<?xml version="1.0"?><chartsheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>`
	path := writeFile(t, "chart.xlsx", zipBytes(t, parts))
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "chart") {
		t.Errorf("first sheet, no header test: %v, want the chart refused", err)
	}
	r, err := Open(path, Options{IsHeader: payoutHeader})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Sheet() != "Plan1" || r.HeaderRow() != 1 {
		t.Errorf("table at %q row %d, want Plan1 row 1", r.Sheet(), r.HeaderRow())
	}
}
