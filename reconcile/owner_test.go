package reconcile

import (
	"context"
	"testing"
	"time"

	"lote/batch"
	"lote/check"
	"lote/ledger"
	"lote/stone"
	"lote/stone/stonetest"
)

// TestOwnerApprovalRows: against Stone's owner approval, accepted rows are
// reported awaiting approval in Stone's app, not as paid; reconciliation keeps
// checking them; once the owner approves one it is paid, and the one the
// owner rejects and the one nobody approves are reported.
func TestOwnerApprovalRows(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, stonetest.Options{OwnerApproval: true, ApprovalTTL: 3 * time.Hour})
	o := e.opts()
	o.Concurrency = 1
	rep, err := batch.Run(ctx, e.writeCSV("folha.csv", payees(3), true), o)
	if err != nil {
		t.Fatal(err)
	}
	id := rep.Batch.ID
	rows := e.rows(id)
	for n := 2; n <= 4; n++ {
		if r := rows[n]; r.State != ledger.Accepted || r.APIStatus != stone.StatusCreated {
			t.Fatalf("row %d: %s %s, want accepted CREATED", n, r.State, r.APIStatus)
		}
	}
	lines := func() map[int]Line {
		out := map[int]Line{}
		for rr, err := range e.l.Reconciled(ctx, id) {
			if err != nil {
				t.Fatal(err)
			}
			b, _ := e.l.Batch(ctx, id)
			m, _ := check.MapHeader(b.Header)
			out[rr.Row.Row] = reconLine(rr, b, &m, e.srv.Now(), 7*24*time.Hour)
		}
		return out
	}
	if _, err := Run(ctx, e.reconOpts(id)); err != nil {
		t.Fatal(err)
	}
	for n, ln := range lines() {
		if ln.Reason != "awaiting approval in Stone's app" || ln.Final != "no" {
			t.Errorf("row %d before approval: reason %q final %s", n, ln.Reason, ln.Final)
		}
	}
	if err := e.srv.ApproveAsOwner(rows[2].TransferID); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.RejectAsOwner(rows[3].TransferID); err != nil {
		t.Fatal(err)
	}
	e.srv.Advance(3 * time.Hour) // row 2 finishes; row 4 expires
	if _, err := Run(ctx, e.reconOpts(id)); err != nil {
		t.Fatal(err)
	}
	want := statusOf{2: stone.StatusFinished, 3: stone.StatusRejected, 4: stone.StatusExpired}
	if got := statuses(t, e, id); got[2] != want[2] || got[3] != want[3] || got[4] != want[4] {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	ls := lines()
	if ls[2].NeedsPerson != "" || ls[2].Final != "no" {
		t.Errorf("row 2 paid: %+v", ls[2])
	}
	if ls[3].NeedsPerson != "the account's owner rejected it in Stone's app: the payee was not paid" {
		t.Errorf("row 3: %q", ls[3].NeedsPerson)
	}
	if ls[4].NeedsPerson != "nobody approved it in Stone's app in time (expired): the payee was not paid" {
		t.Errorf("row 4: %q", ls[4].NeedsPerson)
	}
}
