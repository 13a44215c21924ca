package main

import (
	"context"
	"encoding/json"
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
