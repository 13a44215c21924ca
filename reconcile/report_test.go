package reconcile

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lote/ledger"
	"lote/sheet"
)

// The reconciliation CSV is ';'-separated, as pt-BR Excel reads it; opened
// where ',' is the list separator, a name "Ana,=2*21,x" written unquoted
// would put "=2*21" in a field of its own. Its cells go through the
// results sheet's neutraliser and writer: quoted, the formula start after
// the separator neutralised, full-width forms too; lote's own amounts stay
// numbers, negative ones included.
func TestWriteReconCSVNeutralises(t *testing.T) {
	lines := []Line{{
		Batch: "3fa1c2d4e5f6", Row: 2, Reference: "＝1+1", Name: "Ana,=2*21,x", Document: "-1",
		Amount: -1050, LoteState: "accepted", Status: "FINISHED", Reason: "x;@y", Fee: 400,
		Statement: "=differs",
	}}
	var buf bytes.Buffer
	err := writeReconLines(&buf, func(fn func(Line) error) error {
		for _, ln := range lines {
			if err := fn(ln); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "\uFEFF" + strings.Join(reconHeader(), ";") + "\n" +
		"3fa1c2d4e5f6;2;'＝1+1;\"Ana,'=2*21,x\";'-1;;;;;;;\"-10,50\";accepted;FINISHED;;;;;\"x;'@y\";\"4,00\";;;;;;;;;\"0,00\";'=differs\n"
	if got := buf.String(); got != want {
		t.Errorf("report:\n got %q\nwant %q", got, want)
	}
}

// The summary CSV: a file name that carries a formula after a separator
// is neutralised; a negative total, written by lote, is not.
func TestWriteReconSummaryCSVNeutralises(t *testing.T) {
	rep := Report{
		At:           time.Date(2026, 3, 10, 14, 1, 0, 0, time.UTC),
		RefundWindow: 7 * 24 * time.Hour,
		Batches: []BatchReport{{
			Batch:    ledger.Batch{ID: "3fa1c2d4e5f6aa", FileName: "folha;=1+1.csv", Valid: 1, TotalCents: -500},
			ByStatus: map[string]CategoryTotals{"FINISHED": {Rows: 1, AmountCents: -500, FeeCents: 400}},
			Checks:   []Invariant{{Name: "rows", OK: true, Detail: "@home; -x"}},
		}},
	}
	p := filepath.Join(t.TempDir(), "recon.summary.csv")
	if err := sheet.WriteAtomic(p, func(w io.Writer) error { return writeSummaryCSV(w, rep, nil) }); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, p, "recon_injection.summary.csv.golden", rep.Batches[0].Batch.ID)
}
