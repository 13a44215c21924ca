package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lote/stone"
	"lote/stone/stonetest"
)

func TestReconcileUsage(t *testing.T) {
	c := cli{t: t, env: map[string]string{}}
	tests := []struct {
		name   string
		args   []string
		stderr string // a part of what stderr must say
	}{
		{"no batch", []string{"reconcile"}, "name a batch"},
		{"batch and --all", []string{"reconcile", "abc", "--all"}, "name a batch"},
		{"bad since", []string{"reconcile", "--all", "--since", "01/03/2026"}, `--since "01/03/2026": use yyyy-mm-dd`},
		{"bad out", []string{"reconcile", "--all", "--out", "r.ods"}, "--out r.ods: use a .xlsx or .csv name"},
		{"statement offline", []string{"reconcile", "--all", "--statement", "--offline"}, "--statement reads the statement from Stone, --offline asks Stone nothing"},
		{"bad statement lag", []string{"reconcile", "--all", "--statement-lag", "0s"}, "--statement-lag must be positive"},
		{"sim polls nothing", []string{"reconcile", "--all"}, "--env sim keeps its transfers only while `lote run` runs"},
		{"webhook on sim", []string{"webhook"}, "nobody delivers webhooks to the in-process emulator"},
		{"webhook half tls", []string{"webhook", "--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.run(tt.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, exitUsage, tt.stderr)
			}
		})
	}
}

// A sim run leaves its transfers in flight (the emulator's clock did not
// move): an offline reconcile reports them pending, exit 3, and writes the
// report.
func TestReconcileOfflineAfterSimRun(t *testing.T) {
	dir := t.TempDir()
	ledgerPath := filepath.Join(dir, "l.db")
	c := cli{t: t, env: map[string]string{"LOTE_LEDGER": ledgerPath}}
	in := sample(t, "payouts.csv")
	if r := c.run("run", in); r.code != exitOK {
		t.Fatalf("run: exit %d: %s", r.code, r.stderr)
	}
	out := filepath.Join(dir, "recon.csv")
	r := c.run("reconcile", "--all", "--offline", "--out", out, "--format", "json")
	if r.code != exitInterrupted {
		t.Fatalf("reconcile: exit %d, want 3: %s", r.code, r.stderr)
	}
	var doc reconcileDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	if doc.Status != "pending" || doc.ExitCode != 3 || len(doc.Batches) != 1 || doc.Batches[0].PaidCents != 0 {
		t.Errorf("doc = %+v", doc)
	}
	for _, p := range []string{out, filepath.Join(dir, "recon.summary.csv")} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// `reconcile --statement` against an emulator: the paid sample's 11 paid
// rows agree with the account statement (the 12th is scheduled, pending); a debit missing from it is "not yet" within
// --statement-lag and a mismatch past it, on stdout and in the JSON.
func TestReconcileStatement(t *testing.T) {
	// FINISHED at once, on the real clock that lote's --statement-lag
	// is measured on.
	sim, conn, id := receiptsSim(t, stonetest.Options{FinishDelay: time.Millisecond})
	// Outside the sandbox's TED window (06:30 to 17:23 in Brasília) the
	// transfers wait for its next opening, hours away on the real clock
	// that lote's assertions and --statement-lag are measured on.
	for finished, deadline := 0, time.Now().Add(10*time.Second); finished < 11; {
		finished = 0
		for _, rec := range sim.Transfers() {
			if rec.Transfer.Status == stone.StatusFinished {
				finished++
			}
		}
		if finished < 11 && time.Now().After(deadline) {
			t.Skipf("%d of 11 transfers finished: outside the sandbox's TED window they wait for its next opening", finished)
		}
		time.Sleep(time.Millisecond)
	}
	c := cli{t: t}
	out := filepath.Join(t.TempDir(), "recon.csv")
	args := append([]string{"reconcile", id[:10], "--statement", "--out", out}, conn...)
	r := c.run(args...)
	if r.code != exitInterrupted || !strings.Contains(r.stdout, "statement: 11 ok, 0 not yet in it, 0 differ") {
		t.Fatalf("reconcile --statement: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var first stonetest.Record
	for _, rec := range sim.Transfers() {
		if rec.Transfer.Target.Entity.Name == "Ana Beatriz Souza" {
			first = rec
		}
	}
	for _, en := range sim.Statement("acct") {
		if en.OperationID == first.Transfer.ID {
			sim.DropEntry(en.ID)
		}
	}
	if r := c.run(args...); r.code != exitInterrupted || !strings.Contains(r.stdout, "statement: 10 ok, 1 not yet in it, 0 differ") {
		t.Fatalf("within the lag: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = c.run(append(args, "--statement-lag", "1ns", "--format", "json")...)
	var doc reconcileDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	if r.code != exitPerson || len(doc.Mismatches) != 1 || doc.Mismatches[0].Row != 2 ||
		!strings.HasPrefix(doc.Mismatches[0].Detail, "statement: no debit of R$ 1.504,00 in the statement") ||
		doc.Batches[0].Statement == nil || doc.Batches[0].Statement.Differ != 1 {
		t.Fatalf("past the lag: exit %d, %+v\n%s", r.code, doc, r.stderr)
	}
	if !strings.Contains(r.stderr, "MISMATCH batch "+id[:12]+" row 2") {
		t.Errorf("stderr lacks the mismatch:\n%s", r.stderr)
	}
}
