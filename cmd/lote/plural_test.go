package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A sheet of one row reads in the singular everywhere the run prints a
// count of it.
func TestRunOneRowSingular(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "one.csv")
	sheet := "name,document,institution_code,branch_code,account_code,account_type,amount\n" +
		"Ana Beatriz Souza,526.018.159-06,341,0001,12345-6,CC,\"1500,00\"\n"
	if err := os.WriteFile(in, []byte(sheet), 0o644); err != nil {
		t.Fatal(err)
	}
	c := cli{t: t, env: map[string]string{"LOTE_LEDGER": filepath.Join(dir, "l.db")}}
	v := c.run("validate", in)
	if want := in + ": 1 row, 1 valid, 0 invalid"; !strings.Contains(v.stdout, want) {
		t.Errorf("validate: stdout lacks %q:\n%s", want, v.stdout)
	}
	r := c.run("run", in)
	if r.code != exitOK || !strings.Contains(r.stdout, "to send 1 transfer, total R$ 1.500,00") || strings.Contains(r.stdout, "1 transfers") {
		t.Errorf("run: exit %d\n%s", r.code, r.stdout)
	}

	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte(strings.Replace(sheet, "526.018.159-06", "526.018.159-07", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = c.run("run", bad)
	if r.code != exitRows || !strings.Contains(r.stderr, "lote: the only row is invalid; nothing was sent. Fix it and run again.") {
		t.Errorf("run of one invalid row: exit %d\n%s", r.code, r.stderr)
	}
}
