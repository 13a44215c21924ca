package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"lote/ledger"
	"lote/stone/stonetest"
)

// uploadedOnPage records path's bytes as uploaded on the web page by
// "ana", under the ledger's policy, as the page does.
func (e *env) uploadedOnPage(path string) string {
	e.t.Helper()
	ctx := context.Background()
	for name, role := range map[string]ledger.Role{"ana": ledger.RoleUploader, "bia": ledger.RoleApprover, "caio": ledger.RoleAdmin} {
		if _, err := e.l.User(ctx, name); err == nil {
			continue
		}
		if err := e.l.AddUser(ctx, name, role, []byte("$2a$10$not-a-real-hash")); err != nil {
			e.t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	id := hex.EncodeToString(sum[:])
	if _, _, err := e.l.RecordUpload(ctx, ledger.Upload{BatchID: id, FileName: "folha.csv", StoredPath: path, UploadedBy: "ana"}); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// TestRunRefusesAnUploadNotCleared is finding 2b of issue 13: an uploaded,
// never-submitted sheet was paid in full by `lote run` of the same bytes
// on the same ledger. Run and Resume send a batch that has an upload
// record only once its own policy cleared it, and say why not.
func TestRunRefusesAnUploadNotCleared(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, stonetest.Options{})
	path := e.writeCSV("folha.csv", payees(3), true)
	id := e.uploadedOnPage(path)

	// Not imported yet (the page only checked it): not imported here either.
	rep, err := Run(ctx, path, e.opts())
	if !errors.Is(err, ErrNotCleared) || !strings.Contains(err.Error(), "not submitted") || !strings.Contains(err.Error(), "nothing was sent") {
		t.Fatalf("Run of the uploaded bytes = %v, want ErrNotCleared saying it was not submitted", err)
	}
	if rep.Plan.BatchID != id {
		t.Errorf("report names batch %q, want %s", rep.Plan.BatchID, id[:12])
	}
	if _, err := e.l.Batch(ctx, id); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("the refused run imported the batch: %v", err)
	}
	// Imported by the page, as the server does: Run and Resume refuse.
	imp := e.opts()
	imp.ImportOnly = true
	if rep, err := Run(ctx, path, imp); err != nil || rep.Plan.ToSend != 3 {
		t.Fatalf("import only = %+v, %v", rep.Plan, err)
	}
	refused := func(when string) {
		t.Helper()
		if _, err := Run(ctx, path, e.opts()); !errors.Is(err, ErrNotCleared) {
			t.Errorf("Run %s = %v, want ErrNotCleared", when, err)
		}
		if _, err := Resume(ctx, id, e.opts()); !errors.Is(err, ErrNotCleared) {
			t.Errorf("Resume %s = %v, want ErrNotCleared", when, err)
		}
		if n := len(e.srv.Transfers()); n != 0 {
			t.Fatalf("%d transfers %s", n, when)
		}
	}
	refused("before it is submitted")

	// Under a policy that requires approval: submitted is not enough.
	id2path := e.writeCSV("folha2.csv", payees(2), false)
	if _, _, err := e.l.SetPolicy(ctx, ledger.Policy{RequireApproval: true, TwoApproversAbove: ledger.NoSecondApprover}, "caio"); err != nil {
		t.Fatal(err)
	}
	id2 := e.uploadedOnPage(id2path)
	if _, err := Run(ctx, id2path, imp); err != nil {
		t.Fatal(err)
	}
	if err := e.l.Submit(ctx, id2, "ana", 2001, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := Resume(ctx, id2, e.opts()); !errors.Is(err, ErrNotCleared) || !strings.Contains(err.Error(), "waits for approval") {
		t.Errorf("Resume of a submitted batch waiting for approval = %v, want ErrNotCleared", err)
	}
	if n := len(e.srv.Transfers()); n != 0 {
		t.Fatalf("%d transfers before approval", n)
	}
	if _, err := e.l.Approve(ctx, id2, "bia"); err != nil {
		t.Fatal(err)
	}
	if rep, err := Resume(ctx, id2, e.opts()); err != nil || rep.Batch.State != ledger.BatchDone {
		t.Fatalf("Resume once approved = %+v, %v", rep.Batch, err)
	}
	if n := len(e.srv.Transfers()); n != 2 {
		t.Errorf("%d transfers once approved, want 2", n)
	}

	// The first batch, uploaded under the default policy, is cleared once
	// submitted; withdrawn instead, it is never sent.
	if err := e.l.WithdrawBatch(ctx, id, "ana"); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, path, e.opts()); !errors.Is(err, ErrNotCleared) || !strings.Contains(err.Error(), "withdrawn by ana") {
		t.Errorf("Run of a withdrawn batch = %v, want ErrNotCleared", err)
	}
	if n := len(e.srv.Transfers()); n != 2 {
		t.Errorf("%d transfers after the withdrawn batch's run, want the 2 approved", n)
	}
}
