package reconcile

import (
	"context"
	"encoding/csv"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"lote/batch"
	"lote/internal/pace"
	"lote/stone"
	"lote/stone/stonetest"
)

// stmtRun reconciles id with the statement check.
func stmtRun(t *testing.T, e *env, id string) Report {
	t.Helper()
	o := e.reconOpts(id)
	o.Statement = true
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// entryOf is the statement entry of type typ for transfer id.
func entryOf(t *testing.T, e *env, transfer, typ string) stone.StatementEntry {
	t.Helper()
	for _, en := range e.srv.Statement(testAccount) {
		if en.OperationID == transfer && en.Type == typ {
			return en
		}
	}
	t.Fatalf("no %s entry for transfer %s in %+v", typ, transfer, e.srv.Statement(testAccount))
	return stone.StatementEntry{}
}

// reportLines writes the CSV report and returns its lines by Excel row,
// each split into columns by the header's names.
func reportLines(t *testing.T, e *env, rep Report) (map[int]map[string]string, string) {
	t.Helper()
	path := filepath.Join(e.dir, "recon.csv")
	if err := WriteReport(context.Background(), e.l, rep, path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(SummaryPath(path))
	if err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "\uFEFF")))
	cr.Comma = ';'
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]map[string]string{}
	for i, rec := range recs[1:] {
		cols := map[string]string{}
		for j, h := range recs[0] {
			cols[h] = rec[j]
		}
		out[i+2] = cols
	}
	return out, string(sum)
}

// TestStatementMatchesPaidFailedReturned: once the emulator has settled the
// scenario (row 2 paid, row 3 failed, row 4 returned), each row agrees with
// the account statement: a debit of amount + fee for the paid one, nothing
// for the failed one, a debit and a refund of both for the returned one.
func TestStatementMatchesPaidFailedReturned(t *testing.T) {
	e := newReconEnv(t, stonetest.Faults{})
	id := runRecon(t, e)
	e.srv.Advance(stonetest.DefaultFinishDelay + stonetest.DefaultRefundDelay)
	rep := stmtRun(t, e, id)
	b := rep.Batches[0]
	if b.Statement != (StatementTotals{Checked: true, OK: 3}) {
		t.Fatalf("statement totals %+v, want 3 ok", b.Statement)
	}
	if len(rep.Mismatches()) != 0 || b.NeedsPerson != 2 {
		t.Errorf("mismatches %v, %d rows need a person (want none, 2)", rep.Mismatches(), b.NeedsPerson)
	}
	lines, sum := reportLines(t, e, rep)
	for n := 2; n <= 4; n++ {
		if got := lines[n]["statement"]; got != "ok" {
			t.Errorf("row %d statement %q, want ok", n, got)
		}
	}
	if !strings.Contains(sum, "check statement;ok;\"of 3 settled transfers: 3 match the account statement") {
		t.Errorf("summary lacks the statement check:\n%s", sum)
	}
	// Without the flag, the column stays empty and nothing is read.
	plain, err := Run(context.Background(), e.reconOpts(id))
	if err != nil {
		t.Fatal(err)
	}
	if plain.Batches[0].Statement.Checked {
		t.Error("statement checked without Options.Statement")
	}
	lines, _ = reportLines(t, e, plain)
	if got := lines[2]["statement"]; got != "" {
		t.Errorf("row 2 statement %q without the check", got)
	}
}

// TestStatementFeeDiffers: the statement charged a fee other than the one
// Stone's transfer shows: the row is a mismatch, needs a person, and the
// report says which fee and which entry.
func TestStatementFeeDiffers(t *testing.T) {
	e := newReconEnv(t, stonetest.Faults{})
	id := runRecon(t, e)
	e.srv.Advance(stonetest.DefaultFinishDelay + stonetest.DefaultRefundDelay)
	tr := e.rows(id)[2].TransferID
	debit := entryOf(t, e, tr, stone.StatementExternal)
	if !e.srv.MutateEntry(debit.ID, func(en *stone.StatementEntry) { en.FeeAmount, en.Amount = 650, -(1000 + 650) }) {
		t.Fatal("entry not mutated")
	}
	rep := stmtRun(t, e, id)
	b := rep.Batches[0]
	if b.Statement.Differ != 1 || b.Statement.OK != 2 || b.NeedsPerson != 3 {
		t.Fatalf("statement %+v, %d need a person; want 1 differing, 2 ok, 3 people", b.Statement, b.NeedsPerson)
	}
	want := "statement: statement fee R$ 6,50, Stone's transfer R$ 4,00 (entry " + debit.ID + ")"
	if ms := rep.Mismatches(); len(ms) != 1 || ms[0].Row != 2 || ms[0].TransferID != tr || ms[0].Detail != want {
		t.Fatalf("mismatches %+v, want row 2: %s", ms, want)
	}
	if rep.Status() != Attention {
		t.Errorf("status %s", rep.Status())
	}
	lines, sum := reportLines(t, e, rep)
	if got := lines[2]["statement"]; !strings.HasPrefix(got, "differs: statement fee R$ 6,50") {
		t.Errorf("row 2 statement column %q", got)
	}
	if got := lines[2]["needs_person"]; !strings.Contains(got, "the account statement differs: statement fee R$ 6,50") {
		t.Errorf("row 2 needs_person %q", got)
	}
	for _, s := range []string{"MISMATCH;" + id[:12] + ";row 2;" + tr, "1 rows differ from the account statement", "check statement;FAILED"} {
		if !strings.Contains(sum, s) {
			t.Errorf("summary lacks %q:\n%s", s, sum)
		}
	}
}

// TestStatementLagThenMissing: a paid row whose debit is not in the
// statement is "not yet in the statement" (pending, not a mismatch) until
// the lag has passed since it finished; then it is a mismatch. A returned
// row whose refund never came back is reported the same way.
func TestStatementLagThenMissing(t *testing.T) {
	ctx := context.Background()
	e := newReconEnv(t, stonetest.Faults{})
	o := e.opts()
	o.Concurrency = 1
	ps := payees(2)
	ps[1].account = returnedAccount
	run, err := batch.Run(ctx, e.writeCSV("folha.csv", ps, true), o)
	if err != nil {
		t.Fatal(err)
	}
	id := run.Batch.ID
	rows := e.rows(id)
	e.srv.Advance(stonetest.DefaultFinishDelay + stonetest.DefaultRefundDelay)
	e.srv.DropEntry(entryOf(t, e, rows[2].TransferID, stone.StatementExternal).ID)
	e.srv.DropEntry(entryOf(t, e, rows[3].TransferID, stone.StatementExternalRefund).ID)

	rep := stmtRun(t, e, id)
	b := rep.Batches[0]
	if b.Statement != (StatementTotals{Checked: true, NotYet: 2}) || len(rep.Mismatches()) != 0 {
		t.Fatalf("within the lag: statement %+v, mismatches %v; want 2 not yet, none", b.Statement, rep.Mismatches())
	}
	lines, sum := reportLines(t, e, rep)
	if lines[2]["statement"] != "not yet in the statement" || lines[2]["needs_person"] != "" {
		t.Errorf("row 2 within the lag: statement %q, needs_person %q", lines[2]["statement"], lines[2]["needs_person"])
	}
	if !strings.Contains(sum, "2 rows not yet in the account statement") {
		t.Errorf("summary:\n%s", sum)
	}
	for _, c := range b.Checks {
		if c.Name == "statement" && !c.OK {
			t.Errorf("statement check failed within the lag: %s", c.Detail)
		}
	}

	e.srv.Advance(DefaultStatementLag)
	rep = stmtRun(t, e, id)
	b = rep.Batches[0]
	if b.Statement.Differ != 2 || rep.Status() != Attention {
		t.Fatalf("past the lag: statement %+v, status %s", b.Statement, rep.Status())
	}
	ms := rep.Mismatches()
	want := []string{
		"statement: no debit of R$ 14,00 in the statement, 7 h after Stone's transfer says it finished",
		"statement: the refund of R$ 14,01 did not come back, 6 h after Stone's transfer says it was returned",
	}
	if len(ms) != 2 || ms[0].Row != 2 || ms[0].Detail != want[0] || ms[1].Row != 3 || ms[1].Detail != want[1] {
		t.Fatalf("mismatches %+v, want %q", ms, want)
	}
}

// TestStatementUnreadIsPending: a statement Stone keeps answering 503 to
// is asked for again with backoff, then left unjudged: the verdict is
// pending with the reason in the summary, and the reconciliation does not
// fail.
func TestStatementUnreadIsPending(t *testing.T) {
	var asked atomic.Int32
	e := newEnv(t, stonetest.Options{Seed: 3, Faults: stonetest.Faults{OnRequest: func(r *http.Request) (int, bool) {
		if strings.HasSuffix(r.URL.Path, "/statement") {
			asked.Add(1)
			return http.StatusServiceUnavailable, true
		}
		return 0, false
	}}})
	run, err := batch.Run(context.Background(), e.writeCSV("folha.csv", payees(1), true), e.opts())
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Advance(stonetest.DefaultFinishDelay)
	rep := stmtRun(t, e, run.Batch.ID)
	if rep.StatementErr == "" || rep.Batches[0].Statement.Checked || int(asked.Load()) != pace.DefaultMaxAttempts {
		t.Fatalf("statement err %q, checked %v, asked %d times", rep.StatementErr, rep.Batches[0].Statement.Checked, asked.Load())
	}
	if rep.Status() != Pending {
		t.Errorf("status %s, want pending", rep.Status())
	}
	_, sum := reportLines(t, e, rep)
	if !strings.Contains(sum, "the account statement could not be read") {
		t.Errorf("summary:\n%s", sum)
	}
}
