package sheet_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"lote/sheet"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "folha.csv")
	// Windows-1252, as Excel on a Brazilian Windows saves "CSV".
	os.WriteFile(path, []byte("Ag\xeancia;Conta;Valor\n0001;12345-6;\"1.234,56\"\n\n0002;7\n"), 0o600)

	r, err := sheet.Open(path, sheet.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	fmt.Println(r.Format(), r.Encoding(), string(r.Separator()), r.Header())
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if row.Err != nil {
			fmt.Println(row.Err)
			continue
		}
		fmt.Println(row.Number, row.Cells[0].Value, row.Cells[2].Value)
	}
	// Output:
	// CSV Windows-1252 ; [Agência Conta Valor]
	// 2 0001 1.234,56
	// row 4 (line 4): wrong number of fields: 2 instead of 3 (the header's)
}
