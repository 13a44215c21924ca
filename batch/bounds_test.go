package batch

import (
	"context"
	"os"
	"strings"
	"testing"

	"lote/stone/stonetest"
)

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
