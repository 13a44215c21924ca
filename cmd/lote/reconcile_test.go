package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
