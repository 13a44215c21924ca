package main

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"lote/stone"
	"lote/stone/stonetest"
)

// The crash test against Stone's owner approval (stonesim --owner-approval):
// after the kills every valid row is accepted once and waits in CREATED for
// the account's owner, and `lote reconcile` reports it so, pending. Then
// the owner approves some, rejects others and leaves the rest to expire:
// reconcile reports the approved paid, the others not paid, every row
// agreeing with the account statement, and the bank still holds one
// transfer per row.
func TestCrashResumeOwnerApproval(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the real binaries for tens of seconds")
	}
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -crash-seed %d)", seed, seed)
	// A Tuesday, 10:00 in São Paulo: an approved TED executes at once.
	cr := crashResume(t, seed, true, "--owner-approval", "--approval-ttl", "2h", "--now", "2026-03-10T13:00:00Z")

	for _, rec := range cr.byKey {
		if rec.Transfer.Status != stone.StatusCreated {
			t.Fatalf("transfer %s is %s before the owner decided, want CREATED", rec.Transfer.ID, rec.Transfer.Status)
		}
	}
	st := runBin(t, "status", "--ledger", cr.ledgerFile, "--format", "json")
	var list struct {
		Batches []batchStatus `json:"batches"`
	}
	if err := json.Unmarshal([]byte(st.stdout), &list); err != nil || len(list.Batches) != 1 {
		t.Fatalf("status: %v\n%s", err, st.stdout)
	}
	batchID := list.Batches[0].Batch
	dir := filepath.Dir(cr.ledgerFile)

	// Before the owner decides: every valid row awaits approval in Stone's
	// app, in flight and not paid; only the invalid rows need a person.
	out1 := filepath.Join(dir, "recon-before.csv")
	doc, r := reconcileBin(t, cr, batchID, out1)
	if r.code != exitRows || doc.Status != "attention" {
		t.Fatalf("reconcile before approval: exit %d, status %s\n%s", r.code, doc.Status, r.stderr)
	}
	if b := doc.Batches[0]; b.ByCategory["in_flight"].Rows != crashValid || b.PaidCents != 0 || b.NeedsPerson != crashInvalid {
		t.Errorf("before approval: %d in flight, paid %d, %d need a person; want %d, 0, %d",
			b.ByCategory["in_flight"].Rows, b.PaidCents, b.NeedsPerson, crashValid, crashInvalid)
	}
	awaiting := 0
	for _, ln := range reportCSV(t, out1) {
		if ln["reason"] == "awaiting approval in Stone's app" && ln["status"] == stone.StatusCreated && ln["final"] == "no" {
			awaiting++
		}
	}
	if awaiting != crashValid {
		t.Errorf("%d lines awaiting approval in Stone's app, want %d", awaiting, crashValid)
	}

	// The owner decides: of every six rows, four approved, one rejected,
	// one left to expire.
	var rows []rowStatus
	for _, row := range cr.rows {
		if row.State == "accepted" {
			rows = append(rows, row)
		}
	}
	slices.SortFunc(rows, func(a, b rowStatus) int { return a.Row - b.Row })
	want := map[string]int{}
	for i, row := range rows {
		switch i % 6 {
		case 4:
			simPost(t, cr.url+"/_sim/transfers/"+row.TransferID+"/reject")
			want[stone.StatusRejected]++
		case 5:
			want[stone.StatusExpired]++
		default:
			simPost(t, cr.url+"/_sim/transfers/"+row.TransferID+"/approve")
			want[stone.StatusFinished]++
		}
	}
	simPost(t, cr.url+"/_sim/advance?by=3h") // past the finish delay and the approval TTL

	out2 := filepath.Join(dir, "recon-after.csv")
	doc, r = reconcileBin(t, cr, batchID, out2, "--statement")
	if r.code != exitRejected || doc.Status != "attention" {
		t.Fatalf("reconcile after the owner: exit %d, status %s\n%s", r.code, doc.Status, r.stderr)
	}
	b := doc.Batches[0]
	for status, n := range want {
		if got := b.ByStatus[status].Rows; got != n {
			t.Errorf("%d rows %s, want %d", got, status, n)
		}
	}
	if b.ByCategory["paid"].Rows != want[stone.StatusFinished] || b.ByCategory["failed"].Rows != want[stone.StatusRejected]+want[stone.StatusExpired] {
		t.Errorf("by category %+v", b.ByCategory)
	}
	if b.Statement == nil || b.Statement.OK != crashValid || b.Statement.Differ != 0 || len(doc.Mismatches) != 0 {
		t.Errorf("statement %+v, mismatches %v; want all %d rows ok", b.Statement, doc.Mismatches, crashValid)
	}
	reasons := map[string]int{}
	for _, ln := range reportCSV(t, out2) {
		if ln["needs_person"] != "" {
			reasons[ln["needs_person"]]++
		}
	}
	if n := reasons["the account's owner rejected it in Stone's app: the payee was not paid"]; n != want[stone.StatusRejected] {
		t.Errorf("%d lines say the owner rejected, want %d: %v", n, want[stone.StatusRejected], reasons)
	}
	if n := reasons["nobody approved it in Stone's app in time (expired): the payee was not paid"]; n != want[stone.StatusExpired] {
		t.Errorf("%d lines say expired, want %d: %v", n, want[stone.StatusExpired], reasons)
	}

	// Reconciling created nothing: one transfer per valid row, each in the
	// status the owner's decision led to.
	resp, err := http.Get(cr.url + "/_sim/transfers")
	if err != nil {
		t.Fatal(err)
	}
	var recs []stonetest.Record
	err = json.NewDecoder(resp.Body).Decode(&recs)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, rec := range recs {
		got[rec.Transfer.Status]++
	}
	if len(recs) != crashValid || got[stone.StatusFinished] != want[stone.StatusFinished] ||
		got[stone.StatusRejected] != want[stone.StatusRejected] || got[stone.StatusExpired] != want[stone.StatusExpired] {
		t.Errorf("the bank holds %d transfers by status %v, want %d: %v", len(recs), got, crashValid, want)
	}
}

// reconcileBin runs `lote reconcile BATCH --format json` with the crash
// run's connection, writing the CSV report to out.
func reconcileBin(t *testing.T, cr crashRun, batchID, out string, extra ...string) (reconcileDoc, result) {
	t.Helper()
	args := append(append([]string{"reconcile", batchID}, cr.conn...), "--out", out, "--format", "json", "--rate", "400")
	var r result
	for attempt := 0; ; attempt++ {
		// The emulator's injected 5xx may leave transfers unread (exit 3
		// with unchecked): ask again, as a cron job would.
		r = runBin(t, append(args, extra...)...)
		var doc reconcileDoc
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Batches) != 1 {
			t.Fatalf("reconcile: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
		}
		if doc.Unchecked == 0 || attempt == 5 {
			return doc, r
		}
	}
}

// reportCSV reads a CSV reconciliation report into lines by column name.
func reportCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "\uFEFF")))
	cr.Comma = ';'
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		ln := map[string]string{}
		for i, h := range recs[0] {
			ln[h] = rec[i]
		}
		out = append(out, ln)
	}
	return out
}

// simPost posts to the emulator's admin API and fails unless it agreed.
func simPost(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %d", url, resp.StatusCode)
	}
}
