package batch

import (
	"context"
	"errors"
	"testing"

	"lote/ledger"
	"lote/stone/stonetest"
)

// TestRunCorrectedSheetReusesReferences: a sheet stopped for one invalid
// row, then corrected and run as a new file with the same references, pays
// every row once. Stone never saw the first sheet's keys, so the first
// batch gives them up; once a batch has sent anything its keys stay taken.
func TestRunCorrectedSheetReusesReferences(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	ps := payees(5)
	bad := append([]payee(nil), ps...)
	bad[2].doc = "12345678900" // row 4: bad check digits
	first, err := Run(context.Background(), e.writeCSV("folha.csv", bad, true), e.opts())
	if !errors.Is(err, ErrInvalidRows) || e.creates() != 0 {
		t.Fatalf("bad sheet: err %v, %d creates", err, e.creates())
	}

	fixed, err := Run(context.Background(), e.writeCSV("folha-corrigida.csv", ps, true), e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if got := fixed.Summary[ledger.Accepted].Rows; got != 5 {
		t.Fatalf("corrected sheet: %d rows accepted, want 5: %+v", got, fixed.Summary)
	}
	e.checkExactlyOnce(fixed.Batch.ID, ps)
	if _, err := e.l.Batch(context.Background(), first.Batch.ID); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("the stopped batch is still in the ledger: %v", err)
	}

	// The corrected sheet was sent: a third file with the same references
	// cannot take its keys, and pays nothing.
	again := append([]payee(nil), ps...)
	again[0].cents++ // another file, same references
	third, err := Run(context.Background(), e.writeCSV("folha-de-novo.csv", again, true), e.opts())
	if !errors.Is(err, ErrInvalidRows) {
		t.Fatalf("third sheet: err %v, want ErrInvalidRows", err)
	}
	for n, r := range e.rows(third.Batch.ID) {
		if r.State != ledger.Invalid || r.ErrorCode != CodeReferenceReused {
			t.Errorf("third sheet row %d: %s %s, want invalid %s", n, r.State, r.ErrorCode, CodeReferenceReused)
		}
	}
	if n := len(e.srv.Transfers()); n != 5 {
		t.Errorf("%d transfers, want 5", n)
	}
}
