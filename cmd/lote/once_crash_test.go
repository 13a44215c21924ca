package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lote/internal/fake"
	"lote/stone"
	"lote/stone/stonetest"
)

// onceRows is the size of the sheets of the tests below.
const onceRows = 150

// onceSheet is a payroll as a person keeps it, without references:
// nothing but the payouts themselves ties two saved copies together.
// amounts[i] overrides row i's amount in cents.
type onceSheet struct {
	amounts map[int]int64
}

func (s onceSheet) cents(i int) int64 {
	if c, ok := s.amounts[i]; ok {
		return c
	}
	return int64(10000 + i*137)
}

// write saves the sheet as UTF-8 with ',' and '.' and LF, as CRLF, or as
// Brazilian Excel does: Windows-1252, ';', decimal commas, CRLF.
func (s onceSheet) write(t *testing.T, path, how string) {
	t.Helper()
	sep, dec, eol := ",", ".", "\n"
	switch how {
	case "crlf":
		eol = "\r\n"
	case "excel":
		sep, dec, eol = ";", ",", "\r\n"
	}
	var b strings.Builder
	b.WriteString(strings.Join([]string{"nome", "documento", "banco", "agencia", "conta", "tipo_conta", "valor"}, sep) + eol)
	for i := range onceRows {
		c := s.cents(i)
		name := fmt.Sprintf("José %d", i)
		if how == "excel" {
			name = fmt.Sprintf("Jos\xe9 %d", i) // é in Windows-1252
		}
		fmt.Fprintf(&b, "%s%s%s%s341%s0001%s%d-%d%sCC%s%d%s%02d%s", name, sep, fake.CPF(300000000+i), sep, sep, sep,
			20000+i, i%10, sep, sep, c/100, dec, c%100, eol)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// onceBank is a stonesim with faults, a key registered for it, and the
// arguments that point lote at it.
type onceBank struct {
	url  string
	args []string
}

func startOnceBank(t *testing.T, dir string) onceBank {
	t.Helper()
	key, err := stone.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key.pem")
	if err := stone.WriteKeyPair(keyFile, key); err != nil {
		t.Fatal(err)
	}
	url := startStonesim(t, keyFile+".pub", uint64(time.Now().UnixNano()))
	return onceBank{url: url, args: []string{"--env", "sandbox", "--api-url", url, "--auth-url", url,
		"--client-id", "crash", "--key", keyFile, "--account-id", "acct", "--rate", "400", "--concurrency", "16", "--lease-ttl", "1s"}}
}

// paid counts the bank's transfers per payee account, and their amounts.
func (b onceBank) paid(t *testing.T) (map[string]int, map[string]int64) {
	t.Helper()
	resp, err := http.Get(b.url + "/_sim/transfers")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var recs []stonetest.Record
	if err := json.NewDecoder(resp.Body).Decode(&recs); err != nil {
		t.Fatal(err)
	}
	n, cents := map[string]int{}, map[string]int64{}
	for _, r := range recs {
		k := r.Transfer.Target.Entity.Document + "/" + r.Transfer.Target.Account.AccountCode
		n[k]++
		cents[k] = r.Transfer.Amount
	}
	return n, cents
}

func payeeKey(i int) string { return fmt.Sprintf("%s/%d%d", fake.CPF(300000000+i), 20000+i, i%10) }

// runToEnd runs lote until the batch is settled: the emulator's injected
// faults can leave rows unconfirmed (exit 3) or stop a run before it sends
// (exit 2); the same command then finishes it.
func runToEnd(t *testing.T, args ...string) result {
	t.Helper()
	var r result
	for attempt := 0; attempt < 8; attempt++ {
		r = runBin(t, args...)
		if r.code != exitInterrupted && r.code != exitUsage {
			return r
		}
		time.Sleep(1100 * time.Millisecond) // a lease of a stopped run runs out
	}
	t.Fatalf("lote %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

// checkOnce fails unless every payee of the sheet was paid exactly once.
func checkOnce(t *testing.T, n map[string]int) {
	t.Helper()
	for i := range onceRows {
		if got := n[payeeKey(i)]; got != 1 {
			t.Errorf("payee of row %d paid %d times; want once", i+2, got)
		}
	}
	if len(n) != onceRows {
		t.Errorf("%d payees paid; want %d", len(n), onceRows)
	}
}

// needBins skips the test under -short and fails it when the binaries
// could not be built.
func needBins(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("drives the real binaries")
	}
	if bins.err != nil {
		t.Fatal(bins.err)
	}
}

// The same sheet saved three ways (LF, CRLF, Windows-1252 with ';' and
// decimal commas) is three files and three batches; run at the same moment
// on one ledger by three lote processes, every payee is paid once.
func TestCrashResavedCopiesAtOnceOnOneLedger(t *testing.T) {
	needBins(t)
	dir := t.TempDir()
	bank := startOnceBank(t, dir)
	ledgerFile := filepath.Join(dir, "lote.db")
	var wg sync.WaitGroup
	for _, how := range []string{"lf", "crlf", "excel"} {
		path := filepath.Join(dir, "folha-"+how+".csv")
		onceSheet{}.write(t, path, how)
		wg.Go(func() { runToEnd(t, append([]string{"run", path, "--ledger", ledgerFile}, bank.args...)...) })
	}
	wg.Wait()
	n, _ := bank.paid(t)
	checkOnce(t, n)
}

// Two copies on two ledgers (two hosts that know nothing of each other):
// the keys come from the payouts, so Stone recognises them.
func TestCrashResavedCopiesAtOnceOnTwoLedgers(t *testing.T) {
	needBins(t)
	dir := t.TempDir()
	bank := startOnceBank(t, dir)
	var wg sync.WaitGroup
	for _, how := range []string{"crlf", "excel"} {
		host := filepath.Join(dir, "host-"+how)
		if err := os.Mkdir(host, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(host, "folha.csv")
		onceSheet{}.write(t, path, how)
		wg.Go(func() {
			runToEnd(t, append([]string{"run", path, "--ledger", filepath.Join(host, "lote.db")}, bank.args...)...)
		})
	}
	wg.Wait()
	n, _ := bank.paid(t)
	checkOnce(t, n)
}

// Killed mid-run, two amounts edited in place (one already paid, one not),
// the edited file run, then the old batch resumed as `lote status`
// suggests: every payee paid once, the one not yet paid at the new amount.
func TestCrashKillEditRunResume(t *testing.T) {
	needBins(t)
	dir := t.TempDir()
	bank := startOnceBank(t, dir)
	ledgerFile := filepath.Join(dir, "lote.db")
	path := filepath.Join(dir, "folha.csv")
	onceSheet{}.write(t, path, "lf")
	args := append([]string{"--ledger", ledgerFile}, bank.args...)
	slow := append(append([]string{"run", path}, args...), "--rate", "40") // slow enough to be killed midway

	cmd := exec.Command(bins.lote, slow...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n, _ := bank.paid(t); len(n) >= 20 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the first run paid fewer than 20 rows in 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	before, _ := bank.paid(t)
	if len(before) >= onceRows-1 {
		t.Fatalf("the first run paid %d rows before the kill; want fewer", len(before))
	}
	st := runBin(t, "status", "--ledger", ledgerFile, "--format", "json")
	var list struct {
		Batches []batchStatus `json:"batches"`
	}
	if err := json.Unmarshal([]byte(st.stdout), &list); err != nil || len(list.Batches) != 1 {
		t.Fatalf("status: %v\n%s", err, st.stdout)
	}
	oldBatch := list.Batches[0].Batch

	last := onceRows - 1 // not yet paid: the first run pays in row order
	edited := onceSheet{amounts: map[int]int64{0: 77700, last: 88800}}
	edited.write(t, path, "lf")
	time.Sleep(1100 * time.Millisecond) // the killed run's lease runs out
	runToEnd(t, append([]string{"run", path}, args...)...)
	runToEnd(t, append([]string{"resume", oldBatch}, args...)...)

	n, cents := bank.paid(t)
	checkOnce(t, n)
	if got := cents[payeeKey(0)]; got != (onceSheet{}).cents(0) {
		t.Errorf("row 2, paid before the edit: %d cents; want the first amount, once", got)
	}
	if got := cents[payeeKey(last)]; got != 88800 {
		t.Errorf("row %d, edited before it was paid: %d cents; want the edited 88800", last+2, got)
	}
}
