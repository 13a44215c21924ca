package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// The sheets in testdata/sheets are shaped as finance teams make them
// (issue 14): titles above the header, check digits in their own columns,
// banks by name, a totals row, a worksheet of instructions first, typed
// cells. Every one must pass `lote validate` with no flags, every payee
// read right.
var realSheets = []struct {
	file string
	// accounts are the payouts' bank/branch/account/date, in row order, as
	// they must be sent.
	accounts []string
}{
	{"fornecedores-cp1252.csv", []string{
		"00000000/1234/221134/2026-12-05", "60701190/0501/987650/2026-12-05",
		"00360305/4321/100203/2026-12-07", "18236120/0001/76543219/2026-12-05",
	}},
	{"folha-utf8-bom.csv", []string{
		"00000000/3456/7788991/2026-12-20", "60746948/0102/554432/2026-12-20", "02038232/3001/1200345/2026-12-20",
	}},
	{"pagamentos.xlsx", []string{
		"60701190/0501/123456/2026-12-05", "00360305/4321/1002003/2026-12-08", "18236120/0001/98765/",
	}},
}

func TestRealWorldSheets(t *testing.T) {
	if *update {
		writePagamentosXLSX(t, filepath.Join("testdata", "sheets", "pagamentos.xlsx"))
	}
	t.Chdir("../..")
	for _, s := range realSheets {
		path := filepath.Join("cmd", "lote", "testdata", "sheets", s.file)
		for _, format := range []string{"text", "jsonl"} {
			t.Run(s.file+"."+format, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				code := run(context.Background(), []string{"validate", "--today", "2026-11-23", "--format", format, path},
					strings.NewReader(""), &stdout, &stderr, noEnv)
				if code != exitOK || stderr.Len() > 0 {
					t.Errorf("exit %d, want %d; stderr: %s", code, exitOK, stderr.String())
				}
				golden(t, path+"."+format+".golden", stdout.Bytes())
				if format != "jsonl" {
					return
				}
				var got []string
				for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
					var r rowReport
					if err := json.Unmarshal([]byte(line), &r); err != nil {
						t.Fatal(err)
					}
					if !r.Valid || r.Payout == nil {
						t.Errorf("row %d: not valid: %+v", r.Row, r.Errors)
						continue
					}
					a := r.Payout.Target.Account
					got = append(got, a.InstitutionCode+"/"+a.BranchCode+"/"+a.AccountCode+"/"+r.Payout.ScheduledTo)
				}
				if strings.Join(got, " ") != strings.Join(s.accounts, " ") {
					t.Errorf("payouts\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(s.accounts, "\n"))
				}
			})
		}
	}
}

// writePagamentosXLSX makes testdata/sheets/pagamentos.xlsx (with -update):
// an instructions worksheet first, then "Pagamentos" with two title rows,
// a blank row, the header on row 4, typed cells (amounts as numbers in R$
// format, dates as dates, a branch as text with its zero, a bank code as a
// number) and a totals row.
func writePagamentosXLSX(t *testing.T, path string) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetName("Sheet1", "Instruções"))
	must(f.SetCellValue("Instruções", "A1", "Preencha a aba Pagamentos, uma linha por favorecido."))
	must(f.SetCellValue("Instruções", "A2", "Valor em reais; data no formato dd/mm/aaaa."))
	_, err := f.NewSheet("Pagamentos")
	must(err)
	const sh = "Pagamentos"
	brl := "\"R$\" #,##0.00"
	money, err := f.NewStyle(&excelize.Style{CustomNumFmt: &brl})
	must(err)
	date, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	must(err)
	must(f.SetSheetRow(sh, "A1", &[]any{"Pagamentos a fornecedores"}))
	must(f.SetSheetRow(sh, "A2", &[]any{"ACME Comércio de Peças Ltda"}))
	must(f.SetSheetRow(sh, "A4", &[]any{"Nome", "CPF/CNPJ", "Banco", "Agência", "Conta", "Valor", "Data de Pagamento", "Observação"}))
	day := func(d int) time.Time { return time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC) }
	rows := [][]any{
		{"Maria Conceição", "234.567.892-54", 341, "0501", "12345-6", 4250.75, day(5), "NF 1001"},
		{"Peças Paulistas Ltda", "44.555.666/0001-81", "Caixa", "4321", "100200-3", 10000, day(8), "NF 1002"},
		{"José Araújo", "345.678.903-37", "260 - Nu Pagamentos", "0001", 98765, 350.5, nil, 42},
		{"Total", nil, nil, nil, nil, 14601.25},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, 5+i)
		must(f.SetSheetRow(sh, cell, &r))
		must(f.SetCellStyle(sh, "F"+strconv.Itoa(5+i), "F"+strconv.Itoa(5+i), money))
		if r := r; len(r) > 6 && r[6] != nil {
			must(f.SetCellStyle(sh, "G"+strconv.Itoa(5+i), "G"+strconv.Itoa(5+i), date))
		}
	}
	must(f.SaveAs(path))
}

// TestRunGivesTheSheetBackTyped runs the typed workbook through the
// emulator and opens the results with excelize: each input cell comes
// back with its type and number format (amounts numbers in R$, dates
// dates, text text), under the same header.
func TestRunGivesTheSheetBackTyped(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "sheets", "pagamentos.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "pagamentos.xlsx")
	if err := os.WriteFile(in, src, 0o600); err != nil {
		t.Fatal(err)
	}
	c := cli{t: t, env: map[string]string{"LOTE_LEDGER": filepath.Join(dir, "lote.db")}}
	r := c.run("run", in)
	if r.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"rows 3: 3 valid, 0 invalid, 0 held",
		`note: read worksheet "Pagamentos": "Instruções" before it has no header row`,
		"note: row 8 is a totals row (R$ 14.601,25, the sum of the valid rows above): not paid",
		"to send 3 transfers, total R$ 14.601,25",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	input, err := excelize.OpenFile(in)
	if err != nil {
		t.Fatal(err)
	}
	defer input.Close()
	results, err := excelize.OpenFile(filepath.Join(dir, "pagamentos.results.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer results.Close()
	// kind is how a person sees a cell: text, or a number in a format.
	kind := func(f *excelize.File, sheet, cell string) string {
		t.Helper()
		typ, err := f.GetCellType(sheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
		switch {
		case v == "":
			return "empty"
		case typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString || typ == excelize.CellTypeFormula:
			return "text " + v
		}
		id, _ := f.GetCellStyle(sheet, cell)
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		format := strconv.Itoa(st.NumFmt)
		if st.CustomNumFmt != nil {
			format = *st.CustomNumFmt
		}
		return "number " + v + " in " + format
	}
	header, _ := input.GetRows("Pagamentos")
	cols := len(header[3])
	for i := range 3 { // input rows 5-7 are results rows 2-4
		for col := 1; col <= cols; col++ {
			from, _ := excelize.CoordinatesToCellName(col, 5+i)
			to, _ := excelize.CoordinatesToCellName(col, 2+i)
			if got, want := kind(results, "Results", to), kind(input, "Pagamentos", from); got != want {
				t.Errorf("results %s is %s; input %s is %s", to, got, from, want)
			}
		}
	}
	if got := kind(results, "Results", "F2"); got != `number 4250.75 in "R$" #,##0.00` {
		t.Errorf("amount F2 is %s", got)
	}
	if got := kind(results, "Results", "G2"); !strings.HasPrefix(got, "number ") || !strings.HasSuffix(got, " in 14") {
		t.Errorf("date G2 is %s, want a date in the locale's short format", got)
	}
}
