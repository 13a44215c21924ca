package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lote/ledger"
)

// TestStatusShowsReconciledTransfers: after a reconciliation learns that
// one transfer finished and one was refunded, `lote status` shows the
// transfers by Stone's status with what each means, and counts paid and
// returned rows in the batch list.
func TestStatusShowsReconciledTransfers(t *testing.T) {
	ledgerPath := filepath.Join(t.TempDir(), "l.db")
	c := cli{t: t, env: map[string]string{"LOTE_LEDGER": ledgerPath}}
	if r := c.run("run", sample(t, "payouts.csv")); r.code != exitOK {
		t.Fatalf("run: exit %d: %s", r.code, r.stderr)
	}
	l, err := ledger.Open(ledgerPath, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bs, err := l.Batches(ctx)
	if err != nil || len(bs) != 1 {
		t.Fatalf("batches %v, %v", bs, err)
	}
	id := bs[0].ID
	at := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for row, rec := range map[int]ledger.Reconciliation{
		2: {Status: "FINISHED", Found: true, AmountCents: 150000, FeeCents: 400, FinishedAt: at, CheckedAt: at, Source: "poll"},
		3: {Status: "REFUNDED", Found: true, AmountCents: 275050, FeeCents: 400, RefundedAt: at, RefundCode: "1", CheckedAt: at, Source: "poll"},
	} {
		if _, err := l.RecordReconciliation(ctx, id, row, rec); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()

	r := c.run("status", id[:8])
	if r.code != exitOK {
		t.Fatalf("status: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"transfers, as Stone last reported them",
		"FINISHED                          1         R$ 1.500,00  paid",
		"REFUNDED                          1         R$ 2.750,50  returned by the payee's bank: not paid",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status does not say %q:\n%s", want, r.stdout)
		}
	}
	r = c.run("status")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 2 ||
		!strings.Contains(lines[0], "PAID  RETURNED") || !strings.Contains(lines[1], "12        1     1") {
		t.Errorf("batch list:\n%s", r.stdout)
	}
	r = c.run("status", id, "--format", "json")
	var doc struct {
		Transfers map[string]struct {
			Rows        int    `json:"rows"`
			AmountCents int64  `json:"amount_cents"`
			Meaning     string `json:"meaning"`
		} `json:"transfers"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	if f := doc.Transfers["FINISHED"]; f.Rows != 1 || f.AmountCents != 150000 || f.Meaning != "paid" {
		t.Errorf("FINISHED: %+v", f)
	}
	if f := doc.Transfers["REFUNDED"]; f.Rows != 1 || f.AmountCents != 275050 || f.Meaning != "returned" {
		t.Errorf("REFUNDED: %+v", f)
	}
}

// cancelOn cancels a context the first time what is written contains a
// marker, and keeps everything written.
type cancelOn struct {
	marker string
	cancel context.CancelFunc
	buf    strings.Builder
}

func (w *cancelOn) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.marker) {
		w.cancel()
	}
	return len(p), nil
}

// TestRunInterruptedWritesResultsSoFar: Ctrl-C once the plan is shown
// stops the sending; the run exits 3, says how to resume, and still writes
// the results sheet with every row as it stands.
func TestRunInterruptedWritesResultsSoFar(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &cancelOn{marker: "to send", cancel: cancel}
	var stderr strings.Builder
	out := filepath.Join(dir, "results.csv")
	env := map[string]string{"LOTE_LEDGER": filepath.Join(dir, "l.db")}
	code := run(ctx, []string{"run", sample(t, "payouts.csv"), "--out", out, "--rate", "1"},
		strings.NewReader(""), stdout, &stderr, func(k string) string { return env[k] })
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, exitInterrupted, stdout.buf.String(), stderr.String())
	}
	if !strings.Contains(stdout.buf.String(), "lote resume") {
		t.Errorf("stdout does not say how to resume:\n%s", stdout.buf.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("no results after the interruption: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 13 { // the header and the sample's 12 rows
		t.Fatalf("results have %d lines, want 13:\n%s", len(lines), b)
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, ",accepted,") && !strings.Contains(l, ",attempted,") && !strings.Contains(l, ",pending,") {
			t.Errorf("row without a state it can have after an interruption: %s", l)
		}
	}
}
