package check

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"lote/sheet"
)

// TestNoHeaderSaysWhereAndHow: a workbook whose payout worksheet lacks a
// column is refused with the worksheets and rows looked at, what the
// closest row lacks, and the flags that point lote at the table.
func TestNoHeaderSaysWhereAndHow(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Instruções"); err != nil {
		t.Fatal(err)
	}
	f.SetCellValue("Instruções", "A1", "Preencha a aba Pagamentos")
	f.NewSheet("Pagamentos")
	f.SetSheetRow("Pagamentos", "A1", &[]any{"Pagamentos de dezembro"})
	f.SetSheetRow("Pagamentos", "A4", &[]any{"Nome", "Banco", "Agência", "Conta", "Valor"})
	f.SetSheetRow("Pagamentos", "A5", &[]any{"Ana", 341, 1, 22113, 10})
	path := filepath.Join(t.TempDir(), "pagamentos.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	_, _, err := Check(context.Background(), path, chkOptions(), func(Checked) error { return nil })
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a *FileError", err)
	}
	for _, want := range []string{
		`no header row in row 1 of worksheet "Instruções", rows 1-5 of worksheet "Pagamentos"`,
		`the closest is row 4 of worksheet "Pagamentos", whose header: missing column document`,
		"(and read it with --sheet Pagamentos)",
		"give its row with --header-row N --sheet Pagamentos",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// The header's row given: read, whatever is above it.
	csv := filepath.Join(t.TempDir(), "f.csv")
	os.WriteFile(csv, []byte("Nome;CPF;Banco;Agência;Conta;Valor\n"+strings.Repeat("\n", 30)+"Nome;CPF;Banco;Agência;Conta;Valor\n"), 0o600)
	opts := chkOptions()
	opts.HeaderRow = 40
	if _, _, err := Check(context.Background(), csv, opts, func(Checked) error { return nil }); !errors.Is(err, sheet.ErrNoHeader) || !strings.Contains(err.Error(), "row 40 (blank)") {
		t.Errorf("--header-row 40 on a blank row: %v", err)
	}
	opts.HeaderRow = 32
	if _, _, err := Check(context.Background(), csv, opts, func(Checked) error { return nil }); err != nil {
		t.Errorf("--header-row 32: %v", err)
	}
	// The row given is not a header: what it lacks.
	os.WriteFile(csv, []byte("Pagamentos\nNome;Banco;Agência;Conta;Valor\n"), 0o600)
	opts.HeaderRow = 2
	if _, _, err := Check(context.Background(), csv, opts, func(Checked) error { return nil }); err == nil ||
		!strings.Contains(err.Error(), "no header row in row 2; row 2: header: missing column document") {
		t.Errorf("--header-row 2 without a document column: %v", err)
	}
}
