package batch

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
	"lote/stone/stonetest"
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

// The ledger keeps a row's cells without the empty ones that pad it to a
// wide header.
func TestImportKeepsNoPadding(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(2)
	path := e.writeCSV("folha.csv", ps, true)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// 500 more header columns, left empty in the rows.
	lines := strings.SplitAfter(string(b), "\n")
	lines[0] = strings.TrimSuffix(lines[0], "\n") + strings.Repeat(",extra", 500) + "\n"
	for i := 1; i < len(lines); i++ {
		if l := strings.TrimSuffix(lines[i], "\n"); l != "" {
			lines[i] = l + strings.Repeat(",", 500) + "\n"
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), path, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range e.rows(rep.Batch.ID) {
		if len(r.Cells) != 8 {
			t.Errorf("row %d keeps %d cells, want the 8 written", r.Row, len(r.Cells))
		}
	}
}
