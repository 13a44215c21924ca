package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lote/batch"
	"lote/ledger"
)

// TestRestartWithoutTheFlagKeepsWaiting is finding 2a of issue 13: a batch
// submitted under --require-approval and left waiting was sent by a
// server restarted without the flag. The policy is the ledger's and the
// batch's: it keeps waiting until someone approves it.
func TestRestartWithoutTheFlagKeepsWaiting(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RequireApproval = true })
	_, fixed := sheets(t)
	id, path := submittedForApproval(t, e.login("ana"), fixed)
	e.stop()
	e.opts.RequireApproval = false
	e.start()
	if e.srv.running(id) != nil {
		t.Fatal("the restarted server is sending a batch waiting for approval")
	}
	bia := e.login("bia")
	_, page := bia.get(path)
	if !strings.Contains(page, `id="status">Waiting for approval`) || !strings.Contains(page, `id="approve"`) {
		t.Errorf("the batch's page after the restart:\n%.3000s", page)
	}
	if n := len(e.sim.Transfers()); n != 0 {
		t.Fatalf("%d transfers after a restart without the flag, want 0", n)
	}
	// The restarted server did not lower the ledger's policy either: a
	// sheet uploaded now waits for approval too.
	ana := e.login("ana")
	other := bytes.ReplaceAll(fixed, []byte("PAY-2026-11-"), []byte("PAY-2026-12-"))
	_, _, otherPath := ana.upload("december.csv", other)
	_, page = ana.get(otherPath)
	form := url.Values{"confirm": {"yes"}, "total": {hiddenValue(t, page, "total")}, "rows": {hiddenValue(t, page, "rows")}}
	if code, body := ana.post(otherPath+"/submit", form); code != http.StatusOK || !strings.Contains(body, "waits for another person") {
		t.Errorf("submit after the restart: %d\n%.2000s", code, body)
	}
	if code, body := bia.post(path+"/approve", nil); code != http.StatusOK || !strings.Contains(body, "Approved. Sending has started.") {
		t.Fatalf("approve: %d\n%.2000s", code, body)
	}
	e.waitSent(id)
	if n := len(e.sim.Transfers()); n != 12 {
		t.Errorf("%d transfers once approved, want the batch's 12", n)
	}
}

// TestRunOfUploadedBytesRefused is finding 2b: `lote run` (batch.Run) of
// the bytes of a sheet uploaded on the page and never submitted paid it.
func TestRunOfUploadedBytesRefused(t *testing.T) {
	e := newEnv(t, nil)
	_, fixed := sheets(t)
	ana := e.login("ana")
	_, _, path := ana.upload("payouts.csv", fixed)
	file := filepath.Join(t.TempDir(), "payouts.csv")
	if err := os.WriteFile(file, fixed, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := e.opts.Run
	opts.Ledger = e.l
	if rep, err := batch.Run(context.Background(), file, opts); err == nil {
		t.Errorf("batch.Run of the uploaded bytes: no error, batch %s", rep.Batch.State)
	}
	id := strings.TrimPrefix(path, "/batches/")
	if _, err := batch.Resume(context.Background(), id, opts); err == nil {
		t.Error("batch.Resume of the uploaded batch: no error")
	}
	if n := len(e.sim.Transfers()); n != 0 {
		t.Fatalf("%d transfers of a batch nobody submitted, want 0", n)
	}
	if _, page := ana.get(path); !strings.Contains(page, `id="status">Ready to submit`) {
		t.Errorf("the batch's page after the refused run:\n%.2000s", page)
	}
}

// TestSubmitterCannotApproveOnThePage is finding 3: an admin who
// submitted someone's upload approved it too.
func TestSubmitterCannotApproveOnThePage(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RequireApproval = true })
	_, fixed := sheets(t)
	_, page, path := e.login("ana").upload("payouts.csv", fixed)
	caio := e.login("caio")
	form := url.Values{"confirm": {"yes"}, "total": {hiddenValue(t, page, "total")}, "rows": {hiddenValue(t, page, "rows")}}
	if code, body := caio.post(path+"/submit", form); code != http.StatusOK || !strings.Contains(body, "waits for another person") {
		t.Fatalf("submit by caio: %d\n%.2000s", code, body)
	}
	if _, page := caio.get(path); strings.Contains(page, `id="approve"`) {
		t.Error("the submitter is offered the approve button")
	}
	code, body := caio.post(path+"/approve", nil)
	if code != http.StatusForbidden || !strings.Contains(body, "the one who submitted it") {
		t.Errorf("approval by the submitter: %d\n%.2000s", code, body)
	}
	id := strings.TrimPrefix(path, "/batches/")
	if u, _ := e.l.Upload(context.Background(), id); u.Approved() || len(e.sim.Transfers()) != 0 {
		t.Fatalf("approved by its submitter: %+v, %d transfers", u, len(e.sim.Transfers()))
	}
	if code, body := e.login("bia").post(path+"/approve", nil); code != http.StatusOK || !strings.Contains(body, "Approved. Sending has started.") {
		t.Fatalf("approval by bia: %d\n%.2000s", code, body)
	}
	e.waitSent(id)
	if n := len(e.sim.Transfers()); n != 12 {
		t.Errorf("%d transfers, want 12", n)
	}
}

// TestRejectWithAReason: an approver rejects a batch waiting for approval
// with a reason its uploader reads on the page; it is never sent, and the
// corrected sheet, with the same references, is accepted.
func TestRejectWithAReason(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RequireApproval = true })
	_, fixed := sheets(t)
	ana, bia := e.login("ana"), e.login("bia")
	id, path := submittedForApproval(t, ana, fixed)
	if code, body := ana.post(path+"/reject", url.Values{"reason": {"mine"}}); code != http.StatusForbidden || !strings.Contains(body, "Your role (uploader)") {
		t.Errorf("reject by the uploader: %d\n%.1000s", code, body)
	}
	if code, body := bia.post(path+"/reject", url.Values{"reason": {"  "}}); code != http.StatusBadRequest || !strings.Contains(body, "Say why") {
		t.Errorf("reject without a reason: %d\n%.1000s", code, body)
	}
	_, page := bia.get(path)
	if !strings.Contains(page, `id="reject"`) {
		t.Fatalf("the approver is not offered to reject:\n%.3000s", page)
	}
	reason := "Row 7 pays <b>Fernanda</b> twice this month."
	if code, body := bia.post(path+"/reject", url.Values{"reason": {reason}}); code != http.StatusOK || !strings.Contains(body, "Rejected. It will never be sent") {
		t.Fatalf("reject: %d\n%.2000s", code, body)
	}
	_, page = ana.get(path)
	for _, want := range []string{`id="status">Rejected by bia`, "Rejected by <strong>bia</strong>",
		`<blockquote id="reason">Row 7 pays &lt;b&gt;Fernanda&lt;/b&gt; twice this month.</blockquote>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the uploader's page lacks %s:\n%.3000s", want, page)
		}
	}
	if strings.Contains(page, `id="submit"`) || strings.Contains(page, `id="withdraw"`) {
		t.Error("a rejected batch is offered to submit or withdraw")
	}
	if code, _ := e.login("caio").post(path+"/approve", nil); code != http.StatusConflict {
		t.Errorf("approval after the rejection: %d, want 409", code)
	}
	e.stop()
	e.start()
	if e.srv.running(id) != nil || len(e.sim.Transfers()) != 0 {
		t.Fatal("a rejected batch was sent")
	}
	if _, list := e.login("ana").get("/?state=rejected"); !strings.Contains(list, "payouts.csv") {
		t.Errorf("the list of rejected batches lacks it:\n%.3000s", list)
	}
	// The corrected sheet repeats the references: the rejected batch's
	// keys are free again, and its page keeps who rejected it and why.
	ana = e.login("ana")
	corrected := bytes.Replace(fixed, []byte("4100.00"), []byte("4000.00"), 1)
	_, page, newPath := ana.upload("payouts-fixed.csv", corrected)
	if newPath == path || !strings.Contains(page, `<dd id="s-invalid" class="">0</dd>`) {
		t.Fatalf("the corrected sheet at %s:\n%.3000s", newPath, page)
	}
	_, page = ana.get(path)
	if !strings.Contains(page, `id="gone"`) || !strings.Contains(page, "twice this month") {
		t.Errorf("the rejected batch's page after the correction:\n%.3000s", page)
	}
}

// TestWithdraw: the uploader (or the submitter, or an admin) withdraws a
// batch before anything of it is sent; nobody else does, and a batch
// withdrawn is never sent.
func TestWithdraw(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RequireApproval = true })
	_, fixed := sheets(t)
	ana, duda, bia := e.login("ana"), e.login("duda"), e.login("bia")
	id, path := submittedForApproval(t, ana, fixed)
	if code, body := duda.post(path+"/withdraw", url.Values{"confirm": {"yes"}}); code != http.StatusForbidden || !strings.Contains(body, "Only the person who uploaded or submitted") {
		t.Errorf("withdrawal by another uploader: %d\n%.1000s", code, body)
	}
	if code, _ := bia.post(path+"/withdraw", url.Values{"confirm": {"yes"}}); code != http.StatusForbidden {
		t.Errorf("withdrawal by an approver: %d, want 403", code)
	}
	if code, body := ana.post(path+"/withdraw", nil); code != http.StatusBadRequest || !strings.Contains(body, "Tick the box") {
		t.Errorf("withdrawal unticked: %d\n%.1000s", code, body)
	}
	if _, page := ana.get(path); !strings.Contains(page, `id="withdraw"`) {
		t.Fatalf("the uploader is not offered to withdraw:\n%.3000s", page)
	}
	if code, body := ana.post(path+"/withdraw", url.Values{"confirm": {"yes"}}); code != http.StatusOK || !strings.Contains(body, "Withdrawn. It will never be sent.") {
		t.Fatalf("withdraw: %d\n%.2000s", code, body)
	}
	if code, _ := bia.post(path+"/approve", nil); code != http.StatusConflict {
		t.Errorf("approval after the withdrawal: %d, want 409", code)
	}
	if _, _, again := ana.upload("copy.csv", fixed); again != path {
		t.Errorf("the same file again went to %s, want the withdrawn batch", again)
	}
	if _, page := ana.get(path); !strings.Contains(page, `id="status">Withdrawn by ana`) {
		t.Errorf("the withdrawn batch's page:\n%.2000s", page)
	}
	if u, _ := e.l.Upload(context.Background(), id); u.WithdrawnBy != "ana" || len(e.sim.Transfers()) != 0 {
		t.Errorf("after the withdrawal: %+v, %d transfers", u, len(e.sim.Transfers()))
	}

	// A batch sent is not withdrawn.
	sentID, sentPath := submittedForApproval(t, ana, bytes.ReplaceAll(fixed, []byte("PAY-2026-11-"), []byte("PAY-2026-12-")))
	bia.post(sentPath+"/approve", nil)
	e.waitSent(sentID)
	if _, page := ana.get(sentPath); strings.Contains(page, `id="withdraw"`) {
		t.Error("a batch sent is offered to withdraw")
	}
	if code, _ := ana.post(sentPath+"/withdraw", url.Values{"confirm": {"yes"}}); code != http.StatusConflict {
		t.Errorf("withdrawal of a batch sent: %d, want 409", code)
	}
}

// TestTwoApprovers: above the total an admin set, a batch needs two
// approvals by two people, neither its uploader nor its submitter.
func TestTwoApprovers(t *testing.T) {
	e := newEnv(t, nil)
	if _, _, err := e.l.SetPolicy(context.Background(), ledger.Policy{RequireApproval: true, TwoApproversAbove: 10_000_00}, "caio"); err != nil {
		t.Fatal(err)
	}
	_, fixed := sheets(t)
	ana, bia := e.login("ana"), e.login("bia")
	if _, list := ana.get("/"); !strings.Contains(list, "two such people above R$ 10.000,00 (set by caio on") {
		t.Errorf("the list does not say the policy:\n%.3000s", list)
	}
	id, path := submittedForApproval(t, ana, fixed) // R$ 38.486,74
	if code, body := bia.post(path+"/approve", nil); code != http.StatusOK || !strings.Contains(body, "asks for a second approval") {
		t.Fatalf("first approval: %d\n%.2000s", code, body)
	}
	if e.srv.running(id) != nil || len(e.sim.Transfers()) != 0 {
		t.Fatal("sent after one approval of two")
	}
	_, page := bia.get(path)
	if strings.Contains(page, `id="approve"`) || !strings.Contains(page, `id="status">Waiting for a second approval`) {
		t.Errorf("the first approver's page:\n%.3000s", page)
	}
	if code, _ := bia.post(path+"/approve", nil); code != http.StatusForbidden {
		t.Errorf("second approval by the same person: %d, want 403", code)
	}
	if code, body := e.login("caio").post(path+"/approve", nil); code != http.StatusOK || !strings.Contains(body, "Approved. Sending has started.") {
		t.Fatalf("second approval by caio: %d\n%.2000s", code, body)
	}
	e.waitSent(id)
	_, page = ana.get(path)
	if !strings.Contains(page, "Approved by <strong>bia</strong>") || !strings.Contains(page, "Approved also by <strong>caio</strong>") {
		t.Errorf("who approved:\n%.3000s", page)
	}
	if n := len(e.sim.Transfers()); n != 12 {
		t.Errorf("%d transfers, want 12", n)
	}
}

// TestServerFlagRecordedInLedger: --require-approval raises the ledger's
// policy once, recorded as the server's doing; a restart without it
// leaves the policy as it is.
func TestServerFlagRecordedInLedger(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RequireApproval = true })
	e.stop()
	e.opts.RequireApproval = false
	e.start()
	e.stop()
	e.opts.RequireApproval = true
	e.start()
	hist, err := e.l.PolicyHistory(context.Background())
	if err != nil || len(hist) != 1 || !hist[0].RequireApproval || hist[0].Source != ledger.PolicyByServer ||
		hist[0].SetBy != "lote serve --require-approval web test" {
		t.Errorf("policy history = %+v, %v; want one change, by the first server", hist, err)
	}
}
