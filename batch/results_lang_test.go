package batch

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/xuri/excelize/v2"

	"lote/internal/i18n"
	"lote/ledger"
	"lote/sheet"
)

// A results sheet in Portuguese: lote's columns, the states, its own
// sentences and the Summary in Portuguese, processed_at in Brasília's
// time; the input's cells and the bank's reasons as they were.
func TestWriteResultsPortuguese(t *testing.T) {
	l, id := resultsLedger(t, ledger.ImportOptions{Separator: ";"})
	out := filepath.Join(t.TempDir(), "folha.results.csv")
	pt := ResultsOptions{Lang: i18n.New(i18n.Portuguese)}
	if err := WriteResultsWith(context.Background(), l, id, out, pt); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "results_semicolon.pt-BR.csv.golden")
	if *updateResults {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("results differ from %s:\n got %q\nwant %q", golden, got, want)
	}

	xlsx := filepath.Join(t.TempDir(), "folha.results.xlsx")
	if err := WriteResultsWith(context.Background(), l, id, xlsx, pt); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := f.GetRows(sheet.SummarySheet)
	if err != nil {
		t.Fatal(err)
	}
	wantSum := [][]string{
		{"situação", "linhas", "valor", "tarifas"},
		{"aceita", "1", "R$ 1,234.56", "R$ 4.00"}, // excelize shows numbers with en-US separators
		{"rejeitada", "1", "R$ 10.00", "R$ 0.00"},
		{"precisa de revisão", "1", "R$ 7.00", "R$ 0.00"},
		{"inválida", "1", "R$ 0.00", "R$ 0.00"},
		{"pendente", "1", "R$ 5.00", "R$ 0.00"},
		{"total", "5", "R$ 1,256.56", "R$ 4.00"},
	}
	if len(sum) < len(wantSum) || !reflect.DeepEqual(sum[:len(wantSum)], wantSum) {
		t.Errorf("Summary in Portuguese:\n got %q\nwant %q", sum, wantSum)
	}
	if len(sum) < 9 || sum[8][0] != "lote" || sum[9][0] != "arquivo" {
		t.Errorf("Summary's batch lines in Portuguese: %q", sum[len(wantSum):])
	}
}
