package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// paidLedger runs errors.csv (stopped: nothing marked attempted), then
// payouts.csv (12 rows paid) into a ledger at a fresh path. It returns the
// client, payouts.csv, the ledger's path and a copy of the ledger as it was
// between the two.
func paidLedger(t *testing.T) (c cli, in, path string, older []byte) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "lote.db")
	c = cli{t: t, env: map[string]string{"LOTE_LEDGER": path}}
	if r := c.run("run", sample(t, "errors.csv")); r.code != exitRows {
		t.Fatalf("run errors.csv: exit %d\n%s", r.code, r.stderr)
	}
	older, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	in = sample(t, "payouts.csv")
	if r := c.run("run", in); r.code != exitOK {
		t.Fatalf("run payouts.csv: exit %d\n%s", r.code, r.stderr)
	}
	return c, in, path, older
}

// damagePage overwrites the page holding the root of table in the SQLite
// file at path, so that it reads as corrupt while the schema still opens.
func damagePage(t *testing.T, path, table string) {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	var root, size int64
	err = db.QueryRow(`SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM sqlite_schema WHERE name = ?`, table).Scan(&root, &size)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := (root - 1) * size; i < root*size; i++ {
		b[i] = 0xA5
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A ledger that lost its state or cannot be read stops lote before
// anything is sent, with one line that says what to do, and never with the
// promise that `lote resume` finishes the batch.
func TestRunRefusesLostLedger(t *testing.T) {
	tests := []struct {
		name string
		// damage does to the ledger at path what the user did; older is a
		// copy of it from before payouts.csv was paid.
		damage func(t *testing.T, path string, older []byte)
		code   int
		stderr []string // parts of what stderr says
		// fix are flags that go on after the refusal, if any do.
		fix []string
	}{
		{
			name:   "truncated to zero bytes",
			damage: func(t *testing.T, path string, _ []byte) { os.Truncate(path, 0) },
			code:   exitUsage,
			stderr: []string{"existed (marker ", "is now empty", "restore it from a backup", "--new-ledger", "nothing was sent"},
			fix:    []string{"--new-ledger"},
		},
		{
			name:   "an older copy restored",
			damage: func(t *testing.T, path string, older []byte) { os.WriteFile(path, older, 0o600) },
			code:   exitUsage,
			stderr: []string{"was rolled back", "12 rows marked attempted are missing", "--new-ledger", "nothing was sent"},
		},
		{
			name:   "not a database",
			damage: func(t *testing.T, path string, _ []byte) { os.WriteFile(path, []byte("reference,amount\n"), 0o600) },
			code:   exitUsage,
			stderr: []string{"cannot be read (file is not a database", "move it aside", "nothing was sent"},
		},
		{
			name:   "damaged where only the run reads",
			damage: func(t *testing.T, path string, _ []byte) { damagePage(t, path, "rows") },
			// Found while running a batch that had been sent: lote cannot
			// say that nothing was.
			code:   exitInterrupted,
			stderr: []string{"cannot be read (database disk image is malformed", "restore it from a backup"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, in, path, older := paidLedger(t)
			tt.damage(t, path, older)
			r := c.run("run", in)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, want := range append([]string{"lote: ", path}, tt.stderr...) {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr is not one line:\n%s", r.stderr)
			}
			if strings.Contains(r.stdout, "lote resume") {
				t.Errorf("stdout promises a resume:\n%s", r.stdout)
			}
			if tt.fix != nil {
				r := c.run(append([]string{"run", in}, tt.fix...)...)
				if r.code != exitOK || !strings.Contains(r.stdout, "accepted          12") {
					t.Errorf("run %v: exit %d\n%s%s", tt.fix, r.code, r.stdout, r.stderr)
				}
			}
		})
	}
}

// `lote status` on a deleted ledger says it was lost, not that there never
// was one, and creates nothing; LOTE_NEW_LEDGER starts a new one.
func TestStatusOfDeletedLedger(t *testing.T) {
	c, _, path, _ := paidLedger(t)
	os.Remove(path)
	r := c.run("status")
	if r.code != exitUsage || !strings.Contains(r.stderr, path+" existed") || !strings.Contains(r.stderr, "is now missing") {
		t.Errorf("status: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("status created a ledger")
	}
	c.env["LOTE_NEW_LEDGER"] = "1"
	if r := c.run("status"); r.code != exitOK || !strings.Contains(r.stdout, "no batches yet") {
		t.Errorf("status with LOTE_NEW_LEDGER=1: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// Every command that opens the ledger has --new-ledger.
func TestNewLedgerFlag(t *testing.T) {
	for _, cmd := range []string{"run", "resume", "status", "reconcile", "webhook", "serve", "user"} {
		r := cli{t: t}.run(cmd, "-h")
		if !strings.Contains(r.stderr, "-new-ledger") {
			t.Errorf("lote %s -h lacks --new-ledger:\n%s", cmd, r.stderr)
		}
	}
}
