package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"lote/stone"
	"lote/stone/stonetest"
)

// bank is an emulator served on a local port with one client and one
// account, and the flags that point lote at it.
type bank struct {
	sim  *stonetest.Server
	args []string // --env sandbox … --ledger
	dir  string
}

func newBank(t *testing.T, opts ...stonetest.Options) *bank {
	t.Helper()
	o := stonetest.Options{Sandbox: true}
	if len(opts) > 0 {
		o = opts[0]
	}
	sim := stonetest.NewServer(o)
	t.Cleanup(sim.Close)
	dir := t.TempDir()
	key, err := stone.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key.pem")
	if err := stone.WriteKeyPair(keyFile, key); err != nil {
		t.Fatal(err)
	}
	sim.AddClient("client", &key.PublicKey)
	sim.AddAccount("acct", 1_000_000_00)
	return &bank{sim: sim, dir: dir, args: []string{"--env", "sandbox", "--api-url", sim.URL, "--auth-url", sim.URL,
		"--client-id", "client", "--key", keyFile, "--account-id", "acct", "--ledger", filepath.Join(dir, "l.db")}}
}

// run runs lote COMMAND FILE-or-BATCH [flags] against the bank.
func (b *bank) run(t *testing.T, args ...string) result {
	t.Helper()
	return cli{t: t, env: map[string]string{}}.run(append(args, b.args...)...)
}

// onTransfer answers the n-th transfer creation (from 1) with status
// instead of the emulator; 0 closes the connection unanswered.
func onTransfer(n int64, status int) func(*http.Request) (int, bool) {
	var seen atomic.Int64
	return func(r *http.Request) (int, bool) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/external_transfers" && seen.Add(1) == n {
			return status, true
		}
		return 0, false
	}
}

// One test per exit code that `lote help exit-codes` documents, each a
// sheet run against the emulator, with the transfers it holds counted.
func TestExitCodes(t *testing.T) {
	t.Run("0 everything paid", func(t *testing.T) {
		b := newBank(t)
		if r := b.run(t, "run", sample(t, "payouts.csv")); r.code != exitOK {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if n := len(b.sim.Transfers()); n != 12 {
			t.Errorf("%d transfers, want 12", n)
		}
	})
	t.Run("1 invalid rows, nothing sent", func(t *testing.T) {
		b := newBank(t)
		if r := b.run(t, "run", sample(t, "errors.csv")); r.code != exitRows {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if n := len(b.sim.Transfers()); n != 0 {
			t.Errorf("%d transfers, want none", n)
		}
	})
	t.Run("2 usage", func(t *testing.T) {
		b := newBank(t)
		if r := b.run(t, "run", filepath.Join(b.dir, "none.csv")); r.code != exitUsage {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("3 unconfirmed rows, resumable", func(t *testing.T) {
		b := newBank(t)
		// Every transfer creation times out: each row stays attempted.
		b.sim.SetFaults(stonetest.Faults{OnRequest: func(r *http.Request) (int, bool) {
			return 0, r.Method == http.MethodPost && r.URL.Path == "/api/v1/external_transfers"
		}})
		r := b.run(t, "run", sample(t, "payouts.csv"), "--max-attempts", "1", "--concurrency", "1")
		if r.code != exitInterrupted || !strings.Contains(r.stdout, "12 rows not confirmed: `lote resume") {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		b.sim.SetFaults(stonetest.Faults{})
		id := batchOf(t, r.stdout)
		if r := b.run(t, "resume", id); r.code != exitOK {
			t.Fatalf("resume: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if n := len(b.sim.Transfers()); n != 12 {
			t.Errorf("%d transfers after resume, want 12", n)
		}
	})
	t.Run("4 rejected", func(t *testing.T) {
		b := newBank(t)
		b.sim.SetFaults(stonetest.Faults{OnRequest: onTransfer(3, http.StatusUnprocessableEntity)})
		r := b.run(t, "run", sample(t, "payouts.csv"))
		if r.code != exitRejected || !strings.Contains(r.stdout, "rejected") {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if n := len(b.sim.Transfers()); n != 11 {
			t.Errorf("%d transfers, want 11", n)
		}
	})
	t.Run("5 held as repeats", func(t *testing.T) {
		b := newBank(t)
		// The same payouts, without references, in two files of other
		// bytes: two batches.
		first, again := noReferences(t, "a"), noReferences(t, "b")
		if r := b.run(t, "run", first); r.code != exitOK {
			t.Fatalf("first run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		r := b.run(t, "run", again)
		if r.code != exitHeld || !regexp.MustCompile(`held +12 `).MatchString(r.stdout) {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if n := len(b.sim.Transfers()); n != 12 {
			t.Errorf("%d transfers, want the first run's 12", n)
		}
	})
	t.Run("6 needs a person", func(t *testing.T) {
		b := newBank(t)
		// A 409 for a key never used: the transfer cannot be found, so
		// whether the row was paid is unknown.
		b.sim.SetFaults(stonetest.Faults{OnRequest: onTransfer(2, http.StatusConflict)})
		r := b.run(t, "run", sample(t, "payouts.csv"))
		if r.code != exitPerson || !strings.Contains(r.stdout, "needs_review") {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if n := len(b.sim.Transfers()); n != 11 {
			t.Errorf("%d transfers, want 11", n)
		}
	})
}

// noReferences is payouts.csv without its reference column, with a
// department of its own, so that files made with other departments hold
// the same payouts in other bytes.
func noReferences(t *testing.T, department string) string {
	t.Helper()
	raw, err := os.ReadFile(sample(t, "payouts.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		fields := strings.Split(strings.TrimRight(line, "\r"), ",")
		if i > 0 {
			fields[len(fields)-1] = department
		}
		b.WriteString(strings.Join(fields[1:], ",") + "\n")
	}
	p := filepath.Join(t.TempDir(), department+".csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// batchOf finds the batch id in run's text output.
func batchOf(t *testing.T, stdout string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^batch ([0-9a-f]{12})`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no batch id in:\n%s", stdout)
	}
	return m[1]
}

// When Stone goes away mid-run, lote says why once, stops after the bounded
// wait instead of retrying every row, writes the results of the rows done
// and exits resumable.
func TestRunStopsWhenStoneGoesAway(t *testing.T) {
	b := newBank(t)
	var creates atomic.Int64
	b.sim.SetFaults(stonetest.Faults{OnRequest: func(r *http.Request) (int, bool) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/external_transfers" && creates.Add(1) == 6 {
			go b.sim.Close() // the bank goes away: every later connection is refused
			return 0, true
		}
		return 0, false
	}})
	in := sample(t, "payouts.csv")
	r := b.run(t, "run", in, "--concurrency", "1", "--unreachable-after", "300ms", "--request-timeout", "2s")
	if r.code != exitInterrupted {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := strings.Count(r.stderr, "Stone is unreachable"); n != 1 {
		t.Errorf("stderr says %d times that Stone is unreachable, want once:\n%s", n, r.stderr)
	}
	if !strings.Contains(r.stderr, "connection refused") || !strings.Contains(r.stderr, "`lote resume ") {
		t.Errorf("stderr does not say why, or how to go on:\n%s", r.stderr)
	}
	if n := len(b.sim.Transfers()); n != 5 {
		t.Errorf("%d transfers, want the 5 before the bank went away", n)
	}
	res, err := os.ReadFile(strings.TrimSuffix(in, ".csv") + ".results.csv")
	if err != nil {
		t.Fatal(err)
	}
	body := string(res)
	// The row in flight and the one marked to go next stay attempted,
	// for a resume with the same keys; the rest were never tried.
	if a, att, p := strings.Count(body, ",accepted,"), strings.Count(body, ",attempted,"), strings.Count(body, ",pending,"); a != 5 || att < 1 || att > 2 || p != 7-att {
		t.Errorf("results: %d accepted, %d attempted, %d pending; want 5, 1 or 2 (in flight), the rest\n%s", a, att, p, body)
	}
	if !strings.Contains(r.stdout, "accepted") {
		t.Errorf("no summary on stdout:\n%s", r.stdout)
	}
}

func TestRunIfPresent(t *testing.T) {
	c := cli{t: t, env: map[string]string{"LOTE_LEDGER": filepath.Join(t.TempDir(), "l.db")}}
	missing := filepath.Join(t.TempDir(), "folha.csv")
	r := c.run("run", "--if-present", missing)
	if r.code != exitOK || r.stdout != "" || r.stderr != "" {
		t.Errorf("missing file: exit %d, stdout %q, stderr %q; want 0 and silence", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(missing), "l.db")); err == nil {
		t.Error("a ledger was created for a missing sheet")
	}
	if r := c.run("run", missing); r.code != exitUsage {
		t.Errorf("without --if-present: exit %d, want %d", r.code, exitUsage)
	}
	if r := c.run("run", "--if-present", sample(t, "payouts.csv")); r.code != exitOK || !strings.Contains(r.stdout, "accepted") {
		t.Errorf("present file: exit %d\n%s", r.code, r.stdout)
	}
}

// `lote help exit-codes` and the README's table list the same codes, each
// once, with the same outcome.
func TestExitCodesDocumented(t *testing.T) {
	r := cli{t: t}.run("help", "exit-codes")
	if r.code != exitOK {
		t.Fatalf("exit %d", r.code)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, c := range exitCodes {
		if seen[c.code] {
			t.Errorf("exit code %d listed twice", c.code)
		}
		seen[c.code] = true
		line := "  " + string(rune('0'+c.code)) + "  " + c.outcome + "\n"
		if !strings.Contains(r.stdout, line) {
			t.Errorf("help lacks %q", line)
		}
		row := "| " + string(rune('0'+c.code)) + " | " + c.outcome + " | " + c.next + " |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README lacks the row\n%s", row)
		}
	}
	for _, code := range []int{exitOK, exitRows, exitUsage, exitInterrupted, exitRejected, exitHeld, exitPerson} {
		if !seen[code] {
			t.Errorf("exit code %d undocumented", code)
		}
	}
}
