package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lote/stone"
	"lote/stone/stonetest"
)

// cli runs lote in process with the given environment variables.
type cli struct {
	t   *testing.T
	env map[string]string
}

type result struct {
	code           int
	stdout, stderr string
}

func (c cli) run(args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb, func(k string) string { return c.env[k] })
	return result{code, out.String(), errb.String()}
}

// sample copies a file of samples/ into a fresh folder, so that its
// results are written there and not into the source tree.
func sample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunUsage(t *testing.T) {
	c := cli{t: t, env: map[string]string{}}
	tests := []struct {
		name   string
		args   []string
		stderr string // a part of what stderr must say
	}{
		{"run without a file", []string{"run"}, "run takes one file, got 0"},
		{"run with two files", []string{"run", "a.csv", "b.csv"}, "run takes one file, got 2"},
		{"unknown format", []string{"run", "a.csv", "--format", "xml"}, `--format "xml": use text or json`},
		{"unknown env", []string{"run", "a.csv", "--env", "staging"}, `--env "staging": use sim, sandbox, production`},
		{"sandbox without credentials", []string{"run", "a.csv", "--env", "sandbox"},
			"--env sandbox needs --client-id (LOTE_CLIENT_ID), --key (LOTE_KEY), --account-id (LOTE_ACCOUNT_ID)"},
		{"production without an account", []string{"run", "a.csv", "--env", "production", "--client-id", "x", "--key", "k.pem"},
			"--env production needs --account-id (LOTE_ACCOUNT_ID)"},
		{"sim with a key", []string{"run", "a.csv", "--key", "k.pem"}, "--env sim runs its own emulator"},
		{"negative rate", []string{"run", "a.csv", "--rate", "-1"}, "must be positive"},
		{"resume without a batch", []string{"resume"}, "resume takes one batch id"},
		{"status with two batches", []string{"status", "a", "b"}, "status takes at most one batch id"},
		{"unknown command", []string{"pay"}, `unknown command "pay"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.run(tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, exitUsage, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, r.stderr)
			}
		})
	}
}

func TestRunHidesLeaseTTL(t *testing.T) {
	r := cli{t: t}.run("run", "-h")
	if strings.Contains(r.stderr, "lease-ttl") || !strings.Contains(r.stderr, "-skip-invalid") {
		t.Errorf("usage shows --lease-ttl or lacks --skip-invalid:\n%s", r.stderr)
	}
}

func TestStatusWithoutLedger(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.db")
	r := cli{t: t}.run("status", "--ledger", missing)
	if r.code != exitUsage || !strings.Contains(r.stderr, "no ledger at "+missing) {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("status created a ledger")
	}
}

// A first run on a fresh machine: the sample is paid against the
// in-process emulator; the same file again has nothing to do.
func TestRunSimSample(t *testing.T) {
	dir := t.TempDir()
	c := cli{t: t, env: map[string]string{"LOTE_LEDGER": filepath.Join(dir, "lote.db")}}
	in := sample(t, "payouts.csv")

	r := c.run("run", in)
	if r.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	results := strings.TrimSuffix(in, ".csv") + ".results.csv"
	for _, want := range []string{
		"rows 12: 12 valid, 0 invalid, 0 held\n",
		"to send 12 transfers, total R$ 38.486,74, expected fees R$ 48,00",
		"accepted          12        R$ 38.486,74  fees R$ 48,00",
		"results: " + results,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	b, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	// The input's separator, every row accepted with a transfer id.
	lines := strings.Split(strings.TrimSpace(string(b)), "\r\n")
	if len(lines) != 13 {
		t.Fatalf("results have %d lines, want header + 12", len(lines))
	}
	if !strings.HasPrefix(lines[0], "\ufeffreference,name,") || !strings.Contains(lines[0], ",lote_status,transfer_id,") {
		t.Errorf("results header = %q", lines[0])
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, ",accepted,") {
			t.Errorf("row not accepted: %q", l)
		}
	}

	again := c.run("run", in)
	if again.code != exitOK || !strings.Contains(again.stdout, "nothing to do") || strings.Contains(again.stdout, "to send") {
		t.Errorf("second run: exit %d\n%s", again.code, again.stdout)
	}

	st := c.run("status", "--format", "json")
	var list struct {
		Batches []batchStatus `json:"batches"`
	}
	if err := json.Unmarshal([]byte(st.stdout), &list); err != nil || st.code != exitOK {
		t.Fatalf("status: exit %d, %v\n%s", st.code, err, st.stdout)
	}
	if len(list.Batches) != 1 || list.Batches[0].States["accepted"].Rows != 12 || list.Batches[0].Results != results {
		t.Errorf("status = %+v", list.Batches)
	}
	one := c.run("status", list.Batches[0].Batch[:8])
	if one.code != exitOK || !strings.Contains(one.stdout, "state    done") {
		t.Errorf("status BATCH: exit %d\n%s", one.code, one.stdout)
	}
	resume := c.run("resume", list.Batches[0].Batch[:8])
	if resume.code != exitOK || !strings.Contains(resume.stdout, "nothing to do") {
		t.Errorf("resume of a finished batch: exit %d\n%s%s", resume.code, resume.stdout, resume.stderr)
	}
}

func TestRunJSON(t *testing.T) {
	dir := t.TempDir()
	in := sample(t, "payouts.csv")
	out := filepath.Join(dir, "out.xlsx")
	r := cli{t: t}.run("run", in, "--ledger", filepath.Join(dir, "l.db"), "--out", out, "--format", "json")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	var doc runOutput
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not one run document: %v\n%s", err, r.stdout)
	}
	if dec.More() {
		t.Errorf("stdout holds more than one document:\n%s", r.stdout)
	}
	if len(doc.Batch) != 64 || doc.File != in || doc.Env != "sim" || doc.Account != "sim-account" || doc.State != "done" ||
		doc.Results != out || doc.Interrupted || doc.NothingToDo || doc.ExitCode != 0 {
		t.Errorf("document = %+v", doc)
	}
	want := stateTotal{Rows: 12, AmountCents: 3848674, FeeCents: 4800}
	if len(doc.States) != 1 || doc.States["accepted"] != want {
		t.Errorf("states = %+v, want accepted %+v", doc.States, want)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("results: %v", err)
	}
}

// Invalid rows stop the run before anything is sent, listed like
// `lote validate` lists them.
func TestRunInvalidRows(t *testing.T) {
	dir := t.TempDir()
	in := sample(t, "errors.csv")
	r := cli{t: t}.run("run", in, "--ledger", filepath.Join(dir, "l.db"))
	if r.code != exitRows {
		t.Fatalf("exit %d, want %d\n%s", r.code, exitRows, r.stderr)
	}
	for _, want := range []string{
		in + `:2:document: "526.018.159-07": `,
		in + `:5:institution_code: "999": `,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "nothing was sent") || strings.Contains(r.stdout, "accepted") {
		t.Errorf("stderr:\n%s\nstdout:\n%s", r.stderr, r.stdout)
	}
}

// Production moves real money: without a terminal to confirm on and
// without --yes, lote refuses before it makes a single request.
func TestRunProductionNeedsConfirmation(t *testing.T) {
	var requests atomic.Int64
	sim := stonetest.NewServer(stonetest.Options{Sandbox: true, Log: func(stonetest.RequestLog) { requests.Add(1) }})
	defer sim.Close()
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
	in := sample(t, "payouts.csv")
	r := cli{t: t}.run("run", in, "--env", "production", "--api-url", sim.URL, "--auth-url", sim.URL,
		"--client-id", "client", "--key", keyFile, "--account-id", "acct", "--ledger", filepath.Join(dir, "l.db"))
	if r.code != exitUsage {
		t.Errorf("exit %d, want %d", r.code, exitUsage)
	}
	if !strings.Contains(r.stderr, "pass --yes; nothing was sent") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests reached the bank", n)
	}
	if len(sim.Transfers()) != 0 {
		t.Errorf("transfers made: %d", len(sim.Transfers()))
	}
}

// A Stone that does not answer before anything is sent (here slower than
// --request-timeout on every attempt) ends the run with exit 3, saying what
// was being read and how to go on; the same command later finishes. This
// is the calendar before the import, then the fee before sending.
func TestRunStoneNotAnsweringExitsResumable(t *testing.T) {
	sim := stonetest.NewServer(stonetest.Options{Sandbox: true})
	defer sim.Close()
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
	in := sample(t, "payouts.csv")
	conn := []string{"--env", "sandbox", "--api-url", sim.URL, "--auth-url", sim.URL, "--client-id", "client",
		"--key", keyFile, "--account-id", "acct", "--ledger", filepath.Join(dir, "l.db")}
	// Only the runs against a slow Stone wait this little: the others
	// must not time out on a loaded machine.
	short := append([]string{"--request-timeout", "20ms", "--max-attempts", "2"}, conn...)
	c := cli{t: t}
	slow := stonetest.Faults{Latency: 300 * time.Millisecond}

	sim.SetFaults(slow)
	r := c.run(append([]string{"run", in}, short...)...)
	if r.code != exitInterrupted {
		t.Fatalf("run with a silent Stone: exit %d, want %d\n%s%s", r.code, exitInterrupted, r.stdout, r.stderr)
	}
	for _, want := range []string{"read Stone's scheduling calendar: Stone did not answer", "nothing was sent", "run the same command again"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stdout, "lote resume") {
		t.Errorf("stdout offers a resume of a batch not imported:\n%s", r.stdout)
	}

	// Imported, then stopped by --max-total before sending.
	sim.SetFaults(stonetest.Faults{})
	r = c.run(append([]string{"run", in, "--max-total", "0,01"}, conn...)...)
	if r.code != exitUsage {
		t.Fatalf("run over --max-total: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var id string
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "batch" {
			id = f[1]
			break
		}
	}
	sim.SetFaults(slow)
	r = c.run(append([]string{"resume", id, "--out", filepath.Join(dir, "results.csv")}, short...)...)
	if r.code != exitInterrupted {
		t.Fatalf("resume with a silent Stone: exit %d, want %d\n%s%s", r.code, exitInterrupted, r.stdout, r.stderr)
	}
	for _, want := range []string{"read the transfer fee: Stone did not answer", "nothing was sent by this run", "`lote resume " + id + "`"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if len(sim.Transfers()) != 0 {
		t.Fatalf("%d transfers made while Stone did not answer", len(sim.Transfers()))
	}

	sim.SetFaults(stonetest.Faults{})
	if r = c.run(append([]string{"run", in}, conn...)...); r.code != exitOK {
		t.Errorf("the same command once Stone answers: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if len(sim.Transfers()) != 12 {
		t.Errorf("%d transfers, want 12", len(sim.Transfers()))
	}
}

// A sheet with more invalid rows than run lists: the first rows' problems
// are listed, in text and JSON, with the number of the others, which the
// results sheet holds. Listing them all held every problem of a
// million-row sheet in memory.
func TestRunListsTheFirstProblemsAndCountsTheRest(t *testing.T) {
	dir := t.TempDir()
	const rows = listedProblems + 50
	var b strings.Builder
	b.WriteString("name,document,institution_code,branch_code,account_code,account_type,amount_cents\n")
	for i := range rows {
		fmt.Fprintf(&b, "Pessoa %d,123.456.789-00,341,1234,%d,CC,1000\n", i+1, 10000+i) // the CPF's check digits are wrong
	}
	in := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	c := cli{t: t, env: map[string]string{"LOTE_LEDGER": filepath.Join(dir, "l.db")}}

	r := c.run("run", in)
	if r.code != exitRows {
		t.Fatalf("exit %d, want %d\n%s", r.code, exitRows, r.stderr)
	}
	for _, want := range []string{
		in + `:2:document: "123.456.789-00": `,
		fmt.Sprintf(`%s:%d:document: "123.456.789-00": `, in, listedProblems+1),
		fmt.Sprintf("%s: 50 more invalid rows not listed here; the results sheet lists every row with its problems\n", in),
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if unlisted := fmt.Sprintf("%s:%d:", in, listedProblems+2); strings.Contains(r.stdout, unlisted) {
		t.Errorf("stdout lists row %d, past the first %d problems", listedProblems+2, listedProblems)
	}
	res, err := os.ReadFile(filepath.Join(dir, "bad.results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(res), "\r\n"); n != rows+1 {
		t.Errorf("results sheet has %d lines, want header + %d rows", n, rows)
	}

	r = c.run("run", in, "--format", "json")
	var doc runOutput
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("exit %d, %v\n%s", r.code, err, r.stdout)
	}
	if len(doc.Errors) != listedProblems || doc.Errors[0].Row != 2 || doc.MoreInvalidRows != 50 {
		t.Errorf("json: %d errors, %d more invalid rows; want %d from row 2, 50 more", len(doc.Errors), doc.MoreInvalidRows, listedProblems)
	}
}
