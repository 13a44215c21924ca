package check

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lote/internal/bombs"
	"lote/sheet"
)

func bombFile(t *testing.T, name string, make func(io.Writer) error) string {
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

// A sheet whose every row has a cell at XFD: each row is unreadable, says
// where, and holds the header's six cells, where before it held 16,384.
func TestCheckWideRows(t *testing.T) {
	p := bombFile(t, "wide.xlsx", func(w io.Writer) error { return bombs.WideRows(w, 5000, "XFD") })
	n := 0
	sum, _, err := Check(context.Background(), p, chkOptions(), func(c Checked) error {
		n++
		if len(c.Cells) != 6 || c.Valid() || len(c.Errors) != 1 || c.Errors[0].Code != UnreadableRow ||
			!strings.Contains(c.Errors[0].Message(), "XFD") {
			t.Fatalf("row %d: %d cells, %v", c.Row, len(c.Cells), c.Errors)
		}
		return nil
	})
	if err != nil || n != 5000 || sum.Invalid != 5000 {
		t.Fatalf("%d rows, %+v, %v", n, sum, err)
	}
}

// A sheet past a limit is a FileError that says which limit and where.
func TestCheckRefusesLongCell(t *testing.T) {
	p := bombFile(t, "name.csv", func(w io.Writer) error { return bombs.LongNameCSV(w, 45<<20) })
	_, _, err := Check(context.Background(), p, chkOptions(), func(Checked) error { return nil })
	var fe *FileError
	var le *sheet.LimitError
	if !errors.As(err, &fe) || !errors.As(err, &le) || le.Row != 2 || le.Column != "A" {
		t.Fatalf("Check = %v, want a FileError for the cell A2", err)
	}
}
