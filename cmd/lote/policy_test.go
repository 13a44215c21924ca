package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"lote/ledger"
)

// TestPolicy: the approval policy is shown and set from the command line,
// by an admin who gives their password; every change is kept with who and
// when, and `lote policy show` lists them.
func TestPolicy(t *testing.T) {
	db := filepath.Join(t.TempDir(), "policy.db")
	lote := func(stdin string, args ...string) result {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(context.Background(), append(args, "--ledger", db), strings.NewReader(stdin), &out, &errb,
			func(string) string { return "" })
		return result{code, out.String(), errb.String()}
	}
	if r := lote("", "policy", "show"); r.code != exitUsage || !strings.Contains(r.stderr, "no ledger at") {
		t.Errorf("show without a ledger: %d\n%s", r.code, r.stderr)
	}
	for name, role := range map[string]string{"caio": "admin", "ana": "uploader", "bia": "approver"} {
		if r := lote("correct horse battery\n", "user", "add", name, "--role", role); r.code != exitOK {
			t.Fatalf("add %s: %d %s", name, r.code, r.stderr)
		}
	}
	if r := lote("", "policy", "show"); r.code != exitOK || !strings.Contains(r.stdout, "approval policy: no approval") ||
		!strings.Contains(r.stdout, "never set") || !strings.Contains(r.stdout, "deleted 90 days after their batch last changed") {
		t.Errorf("show on a new ledger: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	tests := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		output string
	}{
		{"no subcommand", "", []string{"policy"}, exitUsage, "policy needs a subcommand"},
		{"nothing to set", "", []string{"policy", "set", "--by", "caio"}, exitUsage, "needs --require-approval, --two-approvers-above or --retention"},
		{"bad retention", "", []string{"policy", "set", "--retention", "0d", "--by", "caio"}, exitUsage, "use a number of days from 1 to 3650"},
		{"retention by an uploader", "correct horse battery\n", []string{"policy", "set", "--retention", "30d", "--by", "ana"}, exitUsage,
			"only an admin"},
		{"retention", "correct horse battery\n", []string{"policy", "set", "--retention", "30d", "--by", "caio"}, exitOK,
			"retention set by caio: uploaded sheets and the files made from them are deleted 30 days after"},
		{"retention again", "correct horse battery\n", []string{"policy", "set", "--retention", "30", "--by", "caio"}, exitOK,
			"the retention is already 30 days"},
		{"nobody", "", []string{"policy", "set", "--require-approval=true"}, exitUsage, "needs --by"},
		{"bad total", "", []string{"policy", "set", "--two-approvers-above", "-5", "--by", "caio"}, exitUsage, "use a total in cents"},
		{"by an uploader", "correct horse battery\n", []string{"policy", "set", "--require-approval=true", "--by", "ana"}, exitUsage,
			"ana is an uploader: only an admin changes the approval policy"},
		{"by an approver", "correct horse battery\n", []string{"policy", "set", "--require-approval=true", "--by", "bia"}, exitUsage,
			"only an admin"},
		{"by nobody known", "correct horse battery\n", []string{"policy", "set", "--require-approval=true", "--by", "zoe"}, exitUsage,
			"user zoe: not found"},
		{"wrong password", "not the password\n", []string{"policy", "set", "--require-approval=true", "--by", "caio"}, exitUsage,
			"wrong password for caio; nothing was changed"},
		{"no password", "", []string{"policy", "set", "--require-approval=true", "--by", "caio"}, exitUsage, "no password"},
		{"second approver alone", "correct horse battery\n", []string{"policy", "set", "--two-approvers-above", "1000000", "--by", "caio"},
			exitUsage, "without approval there is no second approver"},
		{"require", "correct horse battery\n", []string{"policy", "set", "--require-approval", "--by", "caio"}, exitOK,
			"approval policy set by caio: one approval"},
		{"require again", "correct horse battery\n", []string{"policy", "set", "--require-approval=true", "--by", "caio"}, exitOK,
			"already one approval"},
		{"second approver", "correct horse battery\n", []string{"policy", "set", "--two-approvers-above", "1000000", "--by", "caio"}, exitOK,
			"two approvals above R$ 10.000,00 (1000000 cents)"},
		{"lowering keeps the threshold", "correct horse battery\n", []string{"policy", "set", "--require-approval=false", "--by", "caio"},
			exitUsage, "add --two-approvers-above off"},
		{"lower", "correct horse battery\n", []string{"policy", "set", "--require-approval=false", "--two-approvers-above", "off", "--by", "caio"},
			exitOK, "approval policy set by caio: no approval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := lote(tt.stdin, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.output) {
				t.Errorf("exit %d, want %d, output lacks %q:\n%s%s", r.code, tt.code, tt.output, r.stdout, r.stderr)
			}
		})
	}
	r := lote("", "policy", "show")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != exitOK || len(lines) != 11 || !strings.HasPrefix(lines[0], "approval policy: no approval") ||
		!strings.HasPrefix(lines[7], "retention: uploaded sheets and the files made from them are deleted 30 days") ||
		!strings.Contains(lines[10], "caio") || !strings.HasSuffix(lines[10], "30 days") {
		t.Fatalf("show: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for i, want := range []string{"admin  caio  one approval (", "admin  caio  one approval (by an approver who neither uploaded nor submitted the batch), two approvals above R$ 10.000,00",
		"admin  caio  no approval"} {
		if !strings.Contains(lines[3+i], want) || !strings.HasPrefix(strings.TrimSpace(lines[3+i]), string(rune('1'+i))) {
			t.Errorf("change %d: %q, want it to say %q", i+1, lines[3+i], want)
		}
	}
	l, err := ledger.Open(db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	hist, err := l.PolicyHistory(context.Background())
	if err != nil || len(hist) != 3 || hist[0].SetBy != "caio" || hist[0].Source != ledger.PolicyByAdmin || hist[0].SetAt.IsZero() {
		t.Errorf("the ledger's history: %+v, %v", hist, err)
	}
}
