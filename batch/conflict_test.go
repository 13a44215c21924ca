package batch

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"lote/ledger"
	"lote/stone/stonetest"
)

// TestRunConflictIgnoresTransfersOfOtherRows: two identical payouts in one
// sheet (duplicates allowed). The first is paid; the second's request gets
// a 409 although Stone made nothing for it. The lookup finds only the first
// row's transfer, which must not be claimed: the second row needs a person,
// it is not "paid".
func TestRunConflictIgnoresTransfersOfOtherRows(t *testing.T) {
	e := newEnv(t, stonetest.Options{})
	p := payees(1)[0]
	path := e.writeCSV("twice.csv", []payee{p, p}, false)
	var creates atomic.Int32
	e.srv.SetFaults(stonetest.Faults{OnRequest: func(r *http.Request) (int, bool) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/external_transfers" && creates.Add(1) == 2 {
			return http.StatusConflict, true
		}
		return 0, false
	}})
	o := e.opts()
	o.Concurrency = 1 // row 2 is settled before row 3 is sent
	o.Now = e.srv.Now // the lookup compares Stone's created_at with the first attempt
	o.Check.Validate.AllowDuplicates = true
	rep, err := Run(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	rows := e.rows(rep.Batch.ID)
	if got := rows[2].State; got != ledger.Accepted {
		t.Fatalf("row 2 is %s, want accepted", got)
	}
	if got := rows[3]; got.State != ledger.NeedsReview || got.ErrorCode != CodeConflictUnmatched || got.TransferID != "" {
		t.Fatalf("row 3 is %s (%s) with transfer %q, want needs_review, %s and no transfer", got.State, got.ErrorCode, got.TransferID, CodeConflictUnmatched)
	}
	if n := len(e.srv.Transfers()); n != 1 {
		t.Fatalf("%d transfers in the emulator, want 1", n)
	}
}
