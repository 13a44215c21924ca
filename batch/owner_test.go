package batch

import (
	"context"
	"testing"
	"time"

	"lote/ledger"
	"lote/stone"
	"lote/stone/stonetest"
)

// TestOwnerApprovalResults: against Stone's owner approval, an accepted row
// waits in CREATED, and the results sheet says it awaits approval in
// Stone's app rather than reading as paid.
func TestOwnerApprovalResults(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, stonetest.Options{OwnerApproval: true, ApprovalTTL: 3 * time.Hour})
	o := e.opts()
	o.Concurrency = 1
	rep, err := Run(ctx, e.writeCSV("folha.csv", payees(3), true), o)
	if err != nil {
		t.Fatal(err)
	}
	rows := e.rows(rep.Batch.ID)
	for n := 2; n <= 4; n++ {
		r := rows[n]
		if r.State != ledger.Accepted || r.APIStatus != stone.StatusCreated {
			t.Fatalf("row %d: %s %s, want accepted CREATED", n, r.State, r.APIStatus)
		}
		res := resultCells(nil, len(r.Cells), r, nil)
		if got := res[len(r.Cells)+4].Value; got != "awaiting approval in Stone's app" {
			t.Errorf("row %d: results sheet says %q for a row awaiting approval", n, got)
		}
	}
}
